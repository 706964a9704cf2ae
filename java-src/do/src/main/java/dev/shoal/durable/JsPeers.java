package dev.shoal.durable;

import dev.shoal.engine.sync.Peers;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSObject;

/** {@link Peers} over the shim's {@code {send(conn, frame), close(conn, code, reason)}}. */
final class JsPeers implements Peers {
    private final JSObject peers;

    JsPeers(JSObject peers) {
        this.peers = peers;
    }

    @Override
    public void send(String conn, String frame) {
        send(peers, conn, frame);
    }

    /** Joined by the runtime's native string concatenation: large row JSON is never copied in Java. */
    @Override
    public void send(String conn, String head, String body, String tail) {
        sendJoined(peers, conn, head, body, tail);
    }

    @Override
    public void close(String conn, int code, String reason) {
        close(peers, conn, code, reason);
    }

    @JSBody(params = {"p", "conn", "frame"}, script = "p.send(conn, frame);")
    private static native void send(JSObject p, String conn, String frame);

    @JSBody(params = {"p", "conn", "head", "body", "tail"}, script = "p.send(conn, head + body + tail);")
    private static native void sendJoined(JSObject p, String conn, String head, String body, String tail);

    @JSBody(params = {"p", "conn", "code", "reason"}, script = "p.close(conn, code, reason);")
    private static native void close(JSObject p, String conn, int code, String reason);
}
