package dev.shoal.durable;

import dev.shoal.engine.sync.Peers;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSObject;

/**
 * {@link Peers} over the shim's {@code {send(conn, frame), close(conn, code, reason),
 * poke(conn, sub, reset, rows, lastMutationId), flushPokes(pokeId, seq, epoch, partBytesMax),
 * abandonPokes()}}:
 * poke frames are assembled and sent by the shim with native strings, each distinct frame built
 * once however many sockets receive it.
 */
final class JsPeers implements Peers {
    private final JSObject peers;

    JsPeers(JSObject peers) {
        this.peers = peers;
    }

    @Override
    public void send(String conn, String frame) {
        send(peers, conn, frame);
    }

    @Override
    public void close(String conn, int code, String reason) {
        close(peers, conn, code, reason);
    }

    @Override
    public void poke(String conn, String sub, boolean reset, String rows, double lastMutationId) {
        poke(peers, conn, sub, reset, rows, lastMutationId);
    }

    @Override
    public int flushPokes(String pokeId, double seq, String epoch, int partBytesMax) {
        return flushPokes(peers, pokeId, seq, epoch, partBytesMax);
    }

    @Override
    public void abandonPokes() {
        abandonPokes(peers);
    }

    @JSBody(params = "p", script = "p.abandonPokes();")
    private static native void abandonPokes(JSObject p);

    @JSBody(params = {"p", "conn", "frame"}, script = "p.send(conn, frame);")
    private static native void send(JSObject p, String conn, String frame);

    @JSBody(params = {"p", "conn", "code", "reason"}, script = "p.close(conn, code, reason);")
    private static native void close(JSObject p, String conn, int code, String reason);

    @JSBody(params = {"p", "conn", "sub", "reset", "rows", "last"}, script = "p.poke(conn, sub, reset, rows, last);")
    private static native void poke(JSObject p, String conn, String sub, boolean reset, String rows, double last);

    @JSBody(params = {"p", "pokeId", "seq", "epoch", "max"}, script = "return p.flushPokes(pokeId, seq, epoch, max);")
    private static native int flushPokes(JSObject p, String pokeId, double seq, String epoch, int max);
}
