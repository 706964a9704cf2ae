package dev.shoal.testkit;

import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One socket of one user and client id on an {@link AppShard}, as {@code @shoal/client} would
 * hold it: it sends {@code push} and {@code subscribe} frames and keeps every frame the shard
 * sent it. The engine answers synchronously, so everything a frame causes has been received when
 * a method returns.
 */
public final class TestClient {
    private final AppShard shard;
    private final String conn;
    private final String userId;
    private final String clientId;
    private final Replica replica;
    private long lastId;
    private int subs;
    private boolean closed;
    private Integer closeCode;

    TestClient(AppShard shard, String conn, String userId, String clientId) {
        this.shard = shard;
        this.conn = conn;
        this.userId = userId;
        this.clientId = clientId;
        this.replica = new Replica(shard.peers(), conn);
    }

    /** The verified identity of the socket: what {@code ctx.auth().userId()} and {@code Where.me()} see. */
    public String userId() {
        return userId;
    }

    /** The client id: whose outbox, and whose mutation counter. */
    public String clientId() {
        return clientId;
    }

    /**
     * Pushes one mutation (a push frame of one entry) with this client's next mutation id, and
     * returns its entry of the {@code pushResult}.
     *
     * @param argsJson the args as JSON text, e.g. {@code {"id":"t1"}}; sent as written, so args the
     *     mutator's validators refuse come back {@code BAD_ARGS}
     * @throws IllegalArgumentException if {@code argsJson} is not JSON text
     * @throws AssertionError listing the frames received, if no {@code pushResult} arrives (e.g. the
     *     socket is closed, or the frame was refused whole)
     */
    public PushResult push(String mutator, String argsJson) {
        return push(List.of(new Mutation(mutator, argsJson))).get(0);
    }

    /**
     * Pushes one mutation with the mutation id {@code mutationId} instead of the next one: to
     * resend an id (answered {@code duplicate}, not run again) or skip ahead
     * ({@code OUT_OF_ORDER}). The client's counter moves to the id if the shard consumed it.
     *
     * @throws AssertionError listing the frames received, if no {@code pushResult} arrives
     */
    public PushResult push(long mutationId, String mutator, String argsJson) {
        return send(List.of(entry(mutationId, new Mutation(mutator, argsJson)))).get(0);
    }

    /**
     * Pushes several mutations in one push frame, numbered from this client's next mutation id,
     * and returns the {@code pushResult} entries: one per mutation processed, in order (a
     * mutation after an {@code INTERNAL} stop gets none). An application error rolls back that
     * mutation only and the push goes on.
     *
     * @throws IllegalArgumentException if {@code mutations} is empty or some args are not JSON text
     * @throws AssertionError listing the frames received, if no {@code pushResult} arrives
     */
    public List<PushResult> push(List<Mutation> mutations) {
        if (mutations.isEmpty()) {
            throw new IllegalArgumentException("a push holds at least one mutation");
        }
        List<String> entries = new ArrayList<>();
        long id = lastId;
        for (Mutation m : mutations) {
            entries.add(entry(++id, m));
        }
        return send(entries);
    }

    private static String entry(long id, Mutation m) {
        return "{\"id\":" + id + ",\"name\":" + JsonText.quote(m.name()) + ",\"args\":" + json(m.argsJson(), m.name()) + "}";
    }

    private List<PushResult> send(List<String> entries) {
        String what = "push of " + entries.size() + " mutation(s) from " + this;
        int from = open(what);
        shard.send(conn, "{\"type\":\"push\",\"mutations\":[" + String.join(",", entries) + "]}");
        List<Json> frames = shard.peers().to(conn);
        for (int i = from; i < frames.size(); i++) {
            Json f = frames.get(i);
            if (f.get("type").asString().equals("pushResult")) {
                return results(f.get("results"));
            }
        }
        throw new AssertionError("no pushResult answered the " + what + explainMissing(from));
    }

    private List<PushResult> results(Json list) {
        List<PushResult> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Json r = list.at(i);
            PushResult p = new PushResult((long) r.get("id").asNumber(), r.get("status").asString(),
                    text(r.get("code")), text(r.get("message")));
            // Consumed ids move the counter on; INTERNAL and OUT_OF_ORDER consume nothing.
            boolean consumed = !p.status().equals("error") || !("INTERNAL".equals(p.code()) || "OUT_OF_ORDER".equals(p.code()));
            if (consumed) {
                lastId = Math.max(lastId, p.id());
            }
            out.add(p);
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * Subscribes to {@code shape} with {@code argsJson} (JSON text of an object; {@code "{}"} for a
     * shape without args) under a new subscription id. The answer (a poke, or an {@code error}) has
     * arrived when this returns: see {@link TestSubscription#rows()} and
     * {@link TestSubscription#errorCode()}.
     *
     * @throws IllegalArgumentException if {@code argsJson} is not JSON text
     * @throws AssertionError if the socket is closed
     */
    public TestSubscription subscribe(String shape, String argsJson) {
        String id = "s" + (++subs);
        String args = json(argsJson, shape);
        int from = open("subscribe to " + shape + " from " + this);
        shard.send(conn, "{\"type\":\"subscribe\",\"id\":" + JsonText.quote(id) + ",\"shape\":" + JsonText.quote(shape)
                + ",\"args\":" + args + "}");
        return new TestSubscription(this, id, from);
    }

    /** The client closes the socket: the shard forgets it and its subscriptions. Closing twice does nothing. */
    public void close() {
        if (!closed) {
            closed = true;
            shard.closedByClient(conn);
        }
    }

    /** The close code the server closed this socket with (e.g. 4003, 4009), or null while it did not. */
    public Integer closeCode() {
        return closeCode;
    }

    /** Every frame this socket received, oldest first, as the JSON text the shard sent. */
    public List<String> framesReceived() {
        return Collections.unmodifiableList(shard.peers().textsTo(conn));
    }

    @Override
    public String toString() {
        return "client " + clientId + " of " + userId;
    }

    // ---- for AppShard and TestSubscription ----

    void opened() {
        List<Json> connected = shard.peers().to(conn, "connected");
        if (!connected.isEmpty()) {
            lastId = (long) connected.get(0).get("lastMutationId").asNumber();
        }
    }

    void closedByServer(int code) {
        closed = true;
        closeCode = code;
    }

    Replica replica() {
        return replica;
    }

    List<Json> frames() {
        return shard.peers().to(conn);
    }

    /** The index of the next frame to arrive; fails if the socket is closed. */
    private int open(String what) {
        if (closed) {
            throw new AssertionError("cannot " + what + ": the socket is closed" + explainMissing(0));
        }
        return frames().size();
    }

    private String explainMissing(int from) {
        StringBuilder out = new StringBuilder();
        if (closeCode != null) {
            out.append("; the server closed the socket with code ").append(closeCode);
        } else if (closed) {
            out.append("; the client closed the socket");
        }
        List<String> texts = shard.peers().textsTo(conn);
        out.append("\nframes received").append(from > 0 ? " since (earlier ones elided: " + from + ")" : "").append(':');
        if (texts.size() == from) {
            out.append(" none");
        }
        for (int i = from; i < texts.size(); i++) {
            out.append("\n  ").append(texts.get(i));
        }
        return out.toString();
    }

    private static String json(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException("args of " + what + ": null; write \"{}\" for no args");
        }
        try {
            JacksonJson.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("args of " + what + " are not JSON text: " + e.getMessage() + ": " + text);
        }
        return text;
    }

    private static String text(Json j) {
        return j == null || j.isNull() ? null : j.asString();
    }
}
