package dev.shoal.testkit;

import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a client holds for one socket, built only from the frames the shard sent it: rows per
 * subscription, applied a whole poke at a time, as PROTOCOL.md tells a client to. A poke whose
 * {@code pokeEnd} has not arrived is not applied; a part with {@code reset: true} drops what the
 * subscription held first. {@link TestSubscription} reads its rows from here.
 */
public final class Replica {
    private final RecordingPeers peers;
    private final String conn;
    private int read;
    private final Map<String, Map<String, String>> subs = new HashMap<>();
    private final Map<String, Map<String, Json>> docs = new HashMap<>();
    private final Map<String, Set<String>> idsSeenBySub = new HashMap<>();
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
        int applied = read;
        boolean inPoke = false;
        for (int i = read; i < frames.size(); i++) {
            Json f = frames.get(i);
            String type = f.get("type").asString();
            if (type.equals("pokeStart")) {
                inPoke = true;
                pending.clear();
            } else if (type.equals("pokePart")) {
                pending.add(f);
            } else if (type.equals("pokeEnd")) {
                for (Json part : pending) {
                    apply(part);
                }
                pending.clear();
                inPoke = false;
                seq = (long) f.get("seq").asNumber();
                epoch = f.get("epoch").asString();
                lastMutationId = (long) f.get("lastMutationId").asNumber();
            }
            if (!inPoke) {
                applied = i + 1;
            }
        }
        // A poke still open is read again, whole, once its end arrives.
        read = applied;
        return this;
    }

    private void apply(Json part) {
        String sub = part.get("sub").asString();
        Map<String, String> rows = subs.computeIfAbsent(sub, k -> new TreeMap<>());
        Map<String, Json> held = docs.computeIfAbsent(sub, k -> new TreeMap<>());
        Set<String> seen = idsSeenBySub.computeIfAbsent(sub, k -> new LinkedHashSet<>());
        if (part.get("reset").asBoolean()) {
            rows.clear();
            held.clear();
        }
        Json ops = part.get("rows");
        for (int i = 0; i < ops.size(); i++) {
            Json op = ops.at(i);
            String id = op.get("id").asString();
            idsSeen.add(id);
            seen.add(id);
            if (op.get("op").asString().equals("put")) {
                rows.put(id, op.get("doc").text());
                held.put(id, op.get("doc"));
            } else {
                rows.remove(id);
                held.remove(id);
            }
        }
    }

    /** Row id -> doc JSON text held for a subscription. */
    public Map<String, String> rows(String sub) {
        sync();
        return subs.getOrDefault(sub, new TreeMap<>());
    }

    /** Row id -> doc held for a subscription, ordered by id (read-only). */
    public Map<String, Json> docs(String sub) {
        sync();
        return Collections.unmodifiableMap(docs.getOrDefault(sub, new TreeMap<>()));
    }

    /** Every row id that reached this socket in a row op of {@code sub}, in order of arrival (read-only). */
    public Set<String> idsSeen(String sub) {
        sync();
        return Collections.unmodifiableSet(idsSeenBySub.getOrDefault(sub, new LinkedHashSet<>()));
    }
}
