package dev.shoal.testkit;

import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a client holds for one socket, built only from the frames the shard sent it: rows per
 * subscription, applied a whole poke at a time, as PROTOCOL.md tells a client to.
 */
public final class Replica {
    private final RecordingPeers peers;
    private final String conn;
    private int read;
    private final Map<String, Map<String, String>> subs = new HashMap<>();
    public long seq = -1;
    public String epoch;
    public long lastMutationId;
    /** Every id that ever reached this socket in a row op, visible or not. */
    public final List<String> idsSeen = new ArrayList<>();

    public Replica(RecordingPeers peers, String conn) {
        this.peers = peers;
        this.conn = conn;
    }

    /** Applies every complete poke received since the last call. */
    public Replica sync() {
        List<Json> frames = peers.to(conn);
        List<Json> pending = new ArrayList<>();
        for (; read < frames.size(); read++) {
            Json f = frames.get(read);
            String type = f.get("type").asString();
            if (type.equals("pokeStart")) {
                pending.clear();
            } else if (type.equals("pokePart")) {
                pending.add(f);
            } else if (type.equals("pokeEnd")) {
                for (Json part : pending) {
                    Map<String, String> rows = subs.computeIfAbsent(part.get("sub").asString(), k -> new TreeMap<>());
                    if (part.get("reset").asBoolean()) {
                        rows.clear();
                    }
                    Json ops = part.get("rows");
                    for (int i = 0; i < ops.size(); i++) {
                        Json op = ops.at(i);
                        String id = op.get("id").asString();
                        idsSeen.add(id);
                        if (op.get("op").asString().equals("put")) {
                            rows.put(id, op.get("doc").text());
                        } else {
                            rows.remove(id);
                        }
                    }
                }
                pending.clear();
                seq = (long) f.get("seq").asNumber();
                epoch = f.get("epoch").asString();
                lastMutationId = (long) f.get("lastMutationId").asNumber();
            }
        }
        return this;
    }

    /** Row id -> doc JSON text held for a subscription. */
    public Map<String, String> rows(String sub) {
        sync();
        return subs.getOrDefault(sub, new TreeMap<>());
    }
}
