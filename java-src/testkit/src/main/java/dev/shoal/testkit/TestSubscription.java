package dev.shoal.testkit;

import dev.shoal.protocol.Json;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One subscription of a {@link TestClient}, seen as the client sees it: only through the frames
 * the shard sent its socket. Every method reads the frames received so far, so a subscription
 * follows later pushes, from any client, without being asked to.
 */
public final class TestSubscription {
    private final TestClient client;
    private final String id;
    private final int from;

    TestSubscription(TestClient client, String id, int from) {
        this.client = client;
        this.id = id;
        this.from = from;
    }

    /** The subscription id sent in {@code subscribe} (and carried by its pokeParts and errors). */
    public String id() {
        return id;
    }

    /**
     * The rows this client holds now for this subscription, by row id (ordered by id), after
     * applying every complete poke received: a {@code reset} part replaces what was held, a
     * {@code put} adds or replaces a row, a {@code del} removes it. Each row is its projected doc
     * as plain Java values: {@link String}, {@link Long} (a number written as an integer, e.g. an
     * INTEGER column), {@link Double} (any other number, e.g. a REAL column), {@link Boolean},
     * null, {@link List}, {@link Map}. Empty for a refused subscription. A snapshot: read-only and
     * not updated afterwards.
     */
    @SuppressWarnings("unchecked")
    public Map<String, Map<String, Object>> rows() {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        for (Map.Entry<String, Json> e : client.replica().docs(id).entrySet()) {
            out.put(e.getKey(), (Map<String, Object>) JacksonJson.toJava(e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Null, or the code of the first {@code error} frame with this subscription's id received since
     * it was sent: e.g. {@code BAD_ARGS}, {@code UNKNOWN_SHAPE}, {@code TOO_MANY_SUBSCRIPTIONS}
     * (then the subscription is not active), or an error after {@link AppShard#restart()} when the
     * stored subscription no longer resolves.
     */
    public String errorCode() {
        List<Json> frames = client.frames();
        for (int i = from; i < frames.size(); i++) {
            Json f = frames.get(i);
            Json sub = f.get("id");
            if (f.get("type").asString().equals("error") && sub != null && id.equals(sub.asString())) {
                return f.get("code").asString();
            }
        }
        return null;
    }

    /**
     * Every row id that ever reached this client in a row op ({@code put} or {@code del}) of this
     * subscription, in order of arrival, including rows it no longer holds: assert that an id
     * the read policy hides is never in it (PROTOCOL.md: no trace of a row one may not see). A
     * read-only snapshot.
     */
    public Set<String> idsEverSeen() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(client.replica().idsSeen(id)));
    }

    @Override
    public String toString() {
        return "subscription " + id + " of " + client;
    }
}
