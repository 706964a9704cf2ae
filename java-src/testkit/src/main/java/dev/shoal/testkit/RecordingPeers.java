package dev.shoal.testkit;

import dev.shoal.engine.sync.Peers;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;

/** Peers for JVM tests: keeps every frame sent, parsed and as text, per connection, and every close. */
public final class RecordingPeers implements Peers {
    /** One frame sent to {@code conn}: parsed, and its {@code text} exactly as the engine sent it. */
    public record Sent(String conn, Json frame, String text) {
        /** A frame recorded without its original text: {@code text} is the parsed frame written back. */
        public Sent(String conn, Json frame) {
            this(conn, frame, frame.text());
        }
    }

    public record Closed(String conn, int code) {}

    public final List<Sent> sent = new ArrayList<>();
    public final List<Closed> closed = new ArrayList<>();

    @Override
    public void send(String conn, String frame) {
        sent.add(new Sent(conn, JacksonJson.parse(frame), frame));
    }

    @Override
    public void close(String conn, int code, String reason) {
        closed.add(new Closed(conn, code));
    }

    /** Frames sent to {@code conn}, oldest first. */
    public List<Json> to(String conn) {
        List<Json> out = new ArrayList<>();
        for (Sent s : sent) {
            if (s.conn().equals(conn)) {
                out.add(s.frame());
            }
        }
        return out;
    }

    /** Frames sent to {@code conn}, oldest first, as the JSON text the engine sent. */
    public List<String> textsTo(String conn) {
        List<String> out = new ArrayList<>();
        for (Sent s : sent) {
            if (s.conn().equals(conn)) {
                out.add(s.text());
            }
        }
        return out;
    }

    /** Frames of {@code type} sent to {@code conn}. */
    public List<Json> to(String conn, String type) {
        List<Json> out = new ArrayList<>();
        for (Json f : to(conn)) {
            if (f.get("type").asString().equals(type)) {
                out.add(f);
            }
        }
        return out;
    }

    /** Every row op in the pokeParts sent to {@code conn}. */
    public List<Json> rowsTo(String conn) {
        List<Json> out = new ArrayList<>();
        for (Json part : to(conn, "pokePart")) {
            Json rows = part.get("rows");
            for (int i = 0; i < rows.size(); i++) {
                out.add(rows.at(i));
            }
        }
        return out;
    }

    public void clear() {
        sent.clear();
        closed.clear();
    }
}
