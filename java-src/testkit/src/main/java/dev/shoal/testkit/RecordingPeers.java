package dev.shoal.testkit;

import dev.shoal.engine.sync.FramingPeers;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Peers for JVM tests: keeps every frame sent, parsed, per connection. Pokes are assembled by
 * {@link FramingPeers}, as the shim assembles them; {@link #wire} holds the frames as sent, and
 * {@link #sent} holds a one-frame {@code poke} as its equivalent {@code pokeStart}, {@code pokePart}s
 * and {@code pokeEnd}, so that tests read one form whatever form the poke took.
 */
public final class RecordingPeers extends FramingPeers {
    /** One frame sent to {@code conn}: parsed, and its {@code text} (as the engine sent it, or as expanded from a one-frame poke). */
    public record Sent(String conn, Json frame, String text) {
        /** A frame recorded without its original text: {@code text} is the parsed frame written back. */
        public Sent(String conn, Json frame) {
            this(conn, frame, frame.text());
        }
    }

    public record Closed(String conn, int code) {}

    public final List<Sent> sent = new ArrayList<>();
    public final List<Sent> wire = new ArrayList<>();
    public final List<Closed> closed = new ArrayList<>();

    @Override
    public void send(String conn, String frame) {
        Json f = JacksonJson.parse(frame);
        wire.add(new Sent(conn, f, frame));
        if (!f.get("type").asString().equals("poke")) {
            sent.add(new Sent(conn, f, frame));
            return;
        }
        String id = f.get("pokeId").text();
        sent.add(new Sent(conn, JacksonJson.parse("{\"type\":\"pokeStart\",\"pokeId\":" + id + "}")));
        Json parts = f.get("parts");
        for (int i = 0; i < parts.size(); i++) {
            Json p = parts.at(i);
            sent.add(new Sent(conn, JacksonJson.parse("{\"type\":\"pokePart\",\"pokeId\":" + id + ",\"sub\":" + p.get("sub").text()
                    + ",\"reset\":" + p.get("reset").text() + ",\"rows\":" + p.get("rows").text() + "}")));
        }
        sent.add(new Sent(conn, JacksonJson.parse("{\"type\":\"pokeEnd\",\"pokeId\":" + id + ",\"seq\":" + f.get("seq").text()
                + ",\"epoch\":" + f.get("epoch").text() + ",\"lastMutationId\":" + f.get("lastMutationId").text() + "}")));
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

    /** Frames sent to {@code conn}, oldest first, as the JSON text that went on the wire. */
    public List<String> textsTo(String conn) {
        List<String> out = new ArrayList<>();
        for (Sent s : wire) {
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

    /** Frames of {@code type} sent to {@code conn}, as they went on the wire. */
    public List<Json> wireTo(String conn, String type) {
        List<Json> out = new ArrayList<>();
        for (Sent s : wire) {
            if (s.conn().equals(conn) && s.frame().get("type").asString().equals(type)) {
                out.add(s.frame());
            }
        }
        return out;
    }

    public void clear() {
        wire.clear();
        sent.clear();
        closed.clear();
    }
}
