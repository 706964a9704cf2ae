package dev.shoal.engine.sync;

import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Peers} for a host that only sends whole frames (the JVM, tests): pokes are assembled here,
 * in Java, by the rules {@link Peers} states. The Durable Object does the same in its JS shim,
 * where native strings make it cheap.
 */
public abstract class FramingPeers implements Peers {
    private record Part(String sub, boolean reset, String rows) {}

    private static final class Pending {
        final List<Part> parts = new ArrayList<>();
        double lastMutationId;
    }

    private final Map<String, Pending> round = new LinkedHashMap<>();

    @Override
    public void poke(String conn, String sub, boolean reset, String rows, double lastMutationId) {
        Pending p = round.computeIfAbsent(conn, k -> new Pending());
        p.lastMutationId = lastMutationId;
        if (sub != null) {
            p.parts.add(new Part(sub, reset, rows));
        }
    }

    @Override
    public void abandonPokes() {
        round.clear();
    }

    @Override
    public int flushPokes(String pokeId, double seq, String epoch, int partBytesMax) {
        List<Map.Entry<String, Pending>> pokes = new ArrayList<>(round.entrySet());
        round.clear();
        String id = JsonText.quote(pokeId);
        String end = ",\"seq\":" + JsonText.number(seq) + ",\"epoch\":" + JsonText.quote(epoch) + ",\"lastMutationId\":";
        for (Map.Entry<String, Pending> e : pokes) {
            String conn = e.getKey();
            Pending p = e.getValue();
            long rowsChars = 0;
            for (Part part : p.parts) {
                rowsChars += part.rows().length();
            }
            String lastId = JsonText.number(p.lastMutationId);
            if (p.parts.size() <= 1 || rowsChars * 3 <= partBytesMax) {
                String parts = "";
                for (Part part : p.parts) {
                    parts += (parts.isEmpty() ? "" : ",") + "{\"sub\":" + JsonText.quote(part.sub()) + ",\"reset\":" + part.reset()
                            + ",\"rows\":" + part.rows() + "}";
                }
                send(conn, "{\"type\":\"poke\",\"pokeId\":" + id + ",\"parts\":[" + parts + "]" + end + lastId + "}");
            } else {
                send(conn, "{\"type\":\"pokeStart\",\"pokeId\":" + id + "}");
                for (Part part : p.parts) {
                    send(conn, "{\"type\":\"pokePart\",\"pokeId\":" + id + ",\"sub\":" + JsonText.quote(part.sub()) + ",\"reset\":"
                            + part.reset() + ",\"rows\":" + part.rows() + "}");
                }
                send(conn, "{\"type\":\"pokeEnd\",\"pokeId\":" + id + end + lastId + "}");
            }
        }
        return pokes.size();
    }
}
