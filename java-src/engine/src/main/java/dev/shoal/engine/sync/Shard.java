package dev.shoal.engine.sync;

import dev.shoal.engine.App;
import dev.shoal.engine.Auth;
import dev.shoal.engine.Limits;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.log.Compaction;
import dev.shoal.engine.mutate.Db;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.mutate.MutatorContext;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.shape.Subscription;
import dev.shoal.engine.shape.View;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sql.SqlException;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.ClientFrame;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.FrameCodec;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.ProtocolException;
import dev.shoal.protocol.ServerFrames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine of one shard: one instance per Durable Object (never static state: TeaVM statics are
 * shared by every object in the isolate). The host calls it one event at a time, inside
 * {@code blockConcurrencyWhile}; every write commits before any poke is computed.
 *
 * <p>Socket and subscription state lives in SQLite, keyed by connection id, and is cached here;
 * after the object is evicted (hibernation) a new instance reloads it on first use.
 */
public final class Shard {
    private final App app;
    private final Sql sql;
    private final Json.Parser json;
    private final Peers peers;
    private final String shardName;
    private final Limits limits;
    private final FrameCodec codec;
    private final WhereCompiler compiler;
    private final String epoch;
    private final String pokePrefix;
    private long pokeCounter;
    /** Every subscription reflects the shard at this seq: pokes are computed right after each commit. */
    private long pokedSeq;
    private final Compaction compaction;
    /** Write statements built once per instance (their text depends on the schema only). */
    private final Map<String, dev.shoal.engine.sql.Prepared> prepared = new HashMap<>();
    private Map<String, Conn> conns;
    private final Map<String, View> views = new HashMap<>();
    private final Map<String, Long> lastMutationIds = new HashMap<>();
    /** Work counters since this instance started, for tests and benchmarks (not persisted). */
    private long diffQueries;
    private long pokesSent;

    /** One part of a poke: a subscription's row ops (a JSON array built by SQLite). */
    private record Part(String sub, String rows, boolean reset) {}

    /** One open socket: its verified identity and client id, and its subscriptions by id. */
    private static final class Conn {
        final String id;
        final Auth auth;
        final String client;
        final double expSec;
        final Map<String, Subscription> subs = new LinkedHashMap<>();
        private String clientKey;

        Conn(String id, Auth auth, String client, double expSec) {
            this.id = id;
            this.auth = auth;
            this.client = client;
            this.expSec = expSec;
        }

        String clientKey() {
            if (clientKey == null) {
                clientKey = Shard.clientKey(auth.userId(), client);
            }
            return clientKey;
        }
    }

    /** {@code shardName} may be null when the object wakes for an alarm: the stored name is used. */
    public Shard(App app, Sql sql, Json.Parser json, Peers peers, String shardName, Limits limits) {
        this.app = app;
        this.sql = sql;
        this.json = json;
        this.peers = peers;
        this.limits = limits;
        this.codec = new FrameCodec(limits.mutationsPerPushMax());
        this.compiler = new WhereCompiler(app::table);
        ChangeLog.install(sql, app, limits.rowBytesMax());
        // The name is kept with the data: an alarm wakes the object without a request that names it.
        if (shardName != null) {
            sql.exec("INSERT OR IGNORE INTO __shoal_meta (key, value) VALUES ('shard', ?)", shardName);
        }
        this.shardName = sql.queryString("SELECT value FROM __shoal_meta WHERE key = 'shard'");
        this.epoch = ChangeLog.epoch(sql);
        this.compaction = new Compaction(sql, limits);
        this.pokedSeq = ChangeLog.seq(sql);
        this.pokePrefix = Long.toString((long) (Math.random() * 1e12), 36) + ".";
    }

    public String epoch() {
        return epoch;
    }

    /** This instance's work counters and state sizes as JSON. */
    public String statsJson() {
        return "{\"diffQueries\":" + diffQueries + ",\"pokesSent\":" + pokesSent + ",\"views\":" + views.size()
                + ",\"sockets\":" + conns().size() + ",\"seq\":" + pokedSeq + ",\"floor\":" + floor()
                + ",\"instance\":" + dev.shoal.protocol.JsonText.quote(pokePrefix) + "}";
    }

    public long seq() {
        return ChangeLog.seq(sql);
    }

    /** A socket was accepted: remember it and send {@code connected}. */
    public void open(String conn, String userId, String client, String claimsJson, double expSec) {
        conns();
        Auth auth = new Auth(userId, json.parse(claimsJson));
        if (!app.allows(auth, shardName)) {
            peers.send(conn, ServerFrames.error(ErrorCode.FORBIDDEN, userId + " may not use shard " + shardName, null));
            peers.close(conn, dev.shoal.protocol.Wire.CLOSE_SHARD_FORBIDDEN, "forbidden");
            return;
        }
        sql.exec("INSERT OR REPLACE INTO __shoal_conns (conn, identity, client, claims, exp) VALUES (?, ?, ?, ?, ?)",
                conn, userId, client, claimsJson, expSec);
        Conn c = new Conn(conn, auth, client, expSec);
        conns.put(conn, c);
        peers.send(conn, ServerFrames.connected(shardName, epoch, pokedSeq, lastMutationId(c), limits.frameBytesMax(),
                limits.mutationsPerPushMax(), limits.argsBytesMax(), limits.subscriptionsPerSocketMax()));
    }

    /** A socket closed: forget it and its subscriptions. */
    public void closed(String conn) {
        Conn c = conns().remove(conn);
        if (c != null) {
            for (Subscription s : c.subs.values()) {
                detach(s);
            }
        }
        sql.exec("DELETE FROM __shoal_subs WHERE conn = ?", conn);
        sql.exec("DELETE FROM __shoal_conns WHERE conn = ?", conn);
    }

    /** Drops state of sockets that no longer exist (e.g. lost while the object was away). */
    public void retain(String[] liveConns) {
        java.util.Set<String> live = new java.util.HashSet<>(List.of(liveConns));
        for (String conn : new ArrayList<>(conns().keySet())) {
            if (!live.contains(conn)) {
                closed(conn);
            }
        }
    }

    /** One text frame from a socket. */
    public void message(String conn, String text) {
        Conn c = conns().get(conn);
        if (c == null) {
            peers.close(conn, 1011, "unknown connection");
            return;
        }
        if (expired(c)) {
            return;
        }
        if (utf8Over(text, limits.frameBytesMax())) {
            peers.send(conn, ServerFrames.error(ErrorCode.FRAME_TOO_LARGE, "a frame may hold at most " + limits.frameBytesMax() + " bytes", null));
            peers.close(conn, ErrorCode.FRAME_TOO_LARGE.closeCode, "frame too large");
            return;
        }
        ClientFrame frame;
        try {
            frame = codec.decode(parse(text));
        } catch (ProtocolException e) {
            peers.send(conn, ServerFrames.error(e.code, e.getMessage(), null));
            return;
        }
        try {
            handle(c, frame);
        } catch (RuntimeException e) {
            // An engine or app-definition bug: the client gets a typed error, the shard keeps serving.
            peers.send(conn, ServerFrames.error(ErrorCode.INTERNAL, "the shard failed to handle the frame: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), null));
        }
    }

    private void handle(Conn c, ClientFrame frame) {
        String conn = c.id;
        if (frame instanceof ClientFrame.Subscribe s) {
            subscribe(c, s);
        } else if (frame instanceof ClientFrame.Unsubscribe u) {
            Subscription old = c.subs.remove(u.id());
            if (old != null) {
                detach(old);
                sql.exec("DELETE FROM __shoal_subs WHERE conn = ? AND sub = ?", conn, u.id());
            }
        } else {
            push(c, ((ClientFrame.Push) frame).mutations());
        }
    }

    private Json parse(String text) {
        try {
            return json.parse(text);
        } catch (RuntimeException e) {
            throw new ProtocolException(ErrorCode.BAD_FRAME, "a frame must be JSON text");
        }
    }

    // ---- subscriptions ----

    private void subscribe(Conn c, ClientFrame.Subscribe s) {
        View view;
        try {
            view = resolve(s.shape(), s.args());
            if (!c.subs.containsKey(s.id()) && c.subs.size() >= limits.subscriptionsPerSocketMax()) {
                throw ShoalError.of(ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                        "a socket may hold at most " + limits.subscriptionsPerSocketMax() + " subscriptions: unsubscribe one first");
            }
        } catch (ShoalError e) {
            peers.send(c.id, ServerFrames.error(ErrorCode.valueOf(e.code), e.getMessage(), s.id()));
            return;
        }
        Subscription old = c.subs.get(s.id());
        if (old != null) {
            detach(old);
        }
        Subscription sub = attach(c, s.id(), view);
        sql.exec("INSERT OR REPLACE INTO __shoal_subs (conn, sub, shape, args) VALUES (?, ?, ?, ?)",
                c.id, s.id(), s.shape(), s.args().text());
        boolean catchUp = s.since() != null && s.since().epoch().equals(epoch) && s.since().seq() <= pokedSeq
                && s.since().seq() >= floor();
        String who = view.identityKey(c.auth.userId());
        List<String> rows = catchUp
                ? view.diff(sql, s.since().seq(), pokedSeq, java.util.Set.of(who), limits.pokePartBytesMax()).getOrDefault(who, List.of())
                : view.hydrate(sql, c.auth.userId(), limits.pokePartBytesMax());
        if (rows.isEmpty()) {
            rows = List.of("[]");
        }
        List<Part> parts = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            parts.add(new Part(sub.id(), rows.get(i), !catchUp && i == 0));
        }
        sendPoke(c, parts);
    }

    /** Validates and compiles a subscription: name, then args, then the predicate (PROTOCOL.md order). */
    private View resolve(String shapeName, Json args) {
        Shape shape = app.shape(shapeName);
        if (shape == null) {
            throw ShoalError.of(ErrorCode.UNKNOWN_SHAPE, "no shape named " + shapeName);
        }
        checkArgs(shape.args(), args);
        String key = shape.name() + "\u0000" + args.text();
        View known = views.get(key);
        if (known != null) {
            return known;
        }
        Where where = shape.predicate().where(args);
        if (where == null || Where.everythingByAccident(where)) {
            throw new IllegalStateException("shape " + shapeName + " returned " + (where == null ? "no predicate" : "a predicate that matches every row")
                    + ": return Where.all() if every row is meant");
        }
        return View.of(compiler, shape, app.table(shape.table()), where, args.text());
    }

    private void checkArgs(dev.shoal.engine.schema.Validator validator, Json args) {
        if (args != null && utf8Over(args.text(), limits.argsBytesMax())) {
            throw ShoalError.badArgs("args: at most " + limits.argsBytesMax() + " bytes of JSON");
        }
        validator.check(args, "args");
    }

    private Subscription attach(Conn c, String id, View view) {
        views.putIfAbsent(view.key, view);
        View shared = views.get(view.key);
        Subscription sub = new Subscription(c.id, id, c.auth.userId(), shared);
        shared.add(sub);
        c.subs.put(id, sub);
        return sub;
    }

    private void detach(Subscription sub) {
        sub.view().remove(sub);
        if (sub.view().isEmpty()) {
            views.remove(sub.view().key);
        }
    }

    /** The compaction floor: every log row above it is present; a cursor below it cannot catch up. */
    public long floor() {
        return compaction.floor();
    }

    /** True when log retention lets rows go: the host then schedules {@link #compact}. */
    public boolean compactionDue(double nowMs) {
        return compaction.due(pokedSeq, nowMs);
    }

    /** Trims one bounded batch of the log (run from an alarm); true when more remains. */
    public boolean compact(double nowMs) {
        return compaction.run(seq(), nowMs);
    }

    // ---- pushes ----

    private void push(Conn c, List<ClientFrame.Mutation> mutations) {
        String key = c.clientKey();
        long last = lastMutationId(c);
        List<String> results = new ArrayList<>();
        for (ClientFrame.Mutation m : mutations) {
            if (m.id() <= last) {
                results.add(ServerFrames.pushResultEntry(m.id(), "duplicate", null, null, 0));
                continue;
            }
            if (m.id() > last + 1) {
                results.add(ServerFrames.pushResultEntry(m.id(), "error", ErrorCode.OUT_OF_ORDER.name(),
                        "mutation " + m.id() + " arrived before " + (last + 1) + ": push in order", last + 1));
                break;
            }
            String entry = runMutation(c, m);
            if (entry == null) {
                results.add(ServerFrames.pushResultEntry(m.id(), "error", ErrorCode.INTERNAL.name(),
                        "the shard could not run mutation " + m.id() + "; nothing was applied, retry later", 0));
                break;
            }
            last = m.id();
            results.add(entry);
        }
        lastMutationIds.put(key, last);
        peers.send(c.id, ServerFrames.pushResult(String.join(",", results)));
        List<Conn> confirm = new ArrayList<>();
        for (Conn other : conns.values()) {
            if (other.clientKey().equals(key)) {
                confirm.add(other);
            }
        }
        fanout(confirm);
    }

    /**
     * Runs one mutation in its own transaction and returns its pushResult entry: "ok", or an
     * application error (writes rolled back, id consumed). Returns null for a fault outside the
     * mutator's code, which consumes nothing.
     */
    private String runMutation(Conn c, ClientFrame.Mutation m) {
        ShoalError[] appError = new ShoalError[1];
        try {
            sql.transaction(() -> {
                try {
                    apply(c, m);
                } catch (ShoalError e) {
                    appError[0] = e;
                    throw e;
                }
                recordApplied(c, m.id());
            });
            return ServerFrames.pushResultEntry(m.id(), "ok", null, null, 0);
        } catch (RuntimeException e) {
            if (appError[0] == null) {
                return null;
            }
        }
        try {
            sql.transaction(() -> recordApplied(c, m.id()));
        } catch (RuntimeException e) {
            return null;
        }
        return ServerFrames.pushResultEntry(m.id(), "error", appError[0].code, appError[0].getMessage(), 0);
    }

    private void apply(Conn c, ClientFrame.Mutation m) {
        Mutator mutator = app.mutator(m.name());
        if (mutator == null) {
            throw ShoalError.of(ErrorCode.UNKNOWN_MUTATOR, "no mutator named " + m.name());
        }
        checkArgs(mutator.args(), m.args());
        MutatorContext ctx = new MutatorContext(new Db(sql, app::table, c.auth.userId(), prepared), c.auth, shardName, (double) System.currentTimeMillis());
        try {
            mutator.server().run(ctx, m.args());
        } catch (ShoalError e) {
            throw e;
        } catch (SqlException e) {
            // A statement SQLite refused for a reason other than a constraint: a storage fault.
            throw e;
        } catch (Throwable e) {
            // Anything else escaping the app's code (an exception, a failed assert) is a bug in the
            // app: reported, rolled back, and its id consumed, so the client does not retry it forever.
            throw ShoalError.of(ErrorCode.MUTATOR_FAILED, "mutator " + m.name() + " threw " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    private void recordApplied(Conn c, long id) {
        sql.exec("INSERT INTO __shoal_clients (identity, client, last_mutation_id) VALUES (?, ?, ?)"
                + " ON CONFLICT (identity, client) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
                c.auth.userId(), c.client, id);
    }

    /** A cache key for (identity, client): length-prefixed, so no character of either can blur the two. */
    private static String clientKey(String identity, String client) {
        return identity.length() + ":" + identity + client;
    }

    private long lastMutationId(Conn c) {
        String key = c.clientKey();
        Long cached = lastMutationIds.get(key);
        if (cached == null) {
            cached = sql.queryLong(0, "SELECT last_mutation_id FROM __shoal_clients WHERE identity = ? AND client = ?",
                    c.auth.userId(), c.client);
            lastMutationIds.put(key, cached);
        }
        return cached;
    }

    // ---- pokes ----

    /**
     * Sends what changed since the last poke: one diff per view (shared by all its sockets), then a
     * poke to every socket that sees a change, and to {@code confirm} (the pushing client's sockets)
     * even when empty, so their {@code lastMutationId} is confirmed.
     */
    private void fanout(List<Conn> confirm) {
        long to = seq();
        Map<String, List<Part>> parts = new LinkedHashMap<>();
        if (to > pokedSeq) {
            // One read of the new log page names the tables it touched; views reading none are skipped.
            java.util.Set<String> changed = new java.util.HashSet<>();
            Rows tables = sql.query("SELECT DISTINCT \"table\" FROM __cdc_log WHERE seq > ? AND seq <= ?", pokedSeq, to);
            while (tables.next()) {
                changed.add(tables.getString(0));
            }
            for (View view : views.values()) {
                if (!view.reads(changed)) {
                    continue;
                }
                diffQueries++;
                Map<String, List<String>> byIdentity = view.diff(sql, pokedSeq, to, view.subscriptions().keySet(),
                        limits.pokePartBytesMax(), view.readsRelated(changed));
                for (Map.Entry<String, List<String>> e : byIdentity.entrySet()) {
                    for (Subscription sub : view.subscriptions().get(e.getKey())) {
                        List<Part> mine = parts.computeIfAbsent(sub.conn(), k -> new ArrayList<>());
                        for (String r : e.getValue()) {
                            mine.add(new Part(sub.id(), r, false));
                        }
                    }
                }
            }
            pokedSeq = to;
        }
        for (Conn c : confirm) {
            parts.putIfAbsent(c.id, List.of());
        }
        for (Map.Entry<String, List<Part>> e : parts.entrySet()) {
            Conn c = conns.get(e.getKey());
            if (c != null) {
                sendPoke(c, e.getValue());
            }
        }
    }

    /** One poke: start, the parts ({sub, rowsJson, reset}), end at the current seq. */
    private void sendPoke(Conn c, List<Part> parts) {
        if (expired(c)) {
            return;
        }
        String pokeId = pokePrefix + Long.toString(++pokeCounter, 36);
        pokesSent++;
        peers.send(c.id, ServerFrames.pokeStart(pokeId));
        for (Part p : parts) {
            // The rows (p[1]) are spliced by the host: the engine never copies them.
            peers.send(c.id, ServerFrames.pokePartHead(pokeId, p.sub(), p.reset()), p.rows(), ServerFrames.POKE_PART_TAIL);
        }
        peers.send(c.id, ServerFrames.pokeEnd(pokeId, pokedSeq, epoch, lastMutationId(c)));
    }

    private boolean expired(Conn c) {
        if (c.expSec > 0 && System.currentTimeMillis() / 1000.0 > c.expSec) {
            peers.send(c.id, ServerFrames.error(ErrorCode.TOKEN_EXPIRED, "the token expired: reconnect with a fresh one", null));
            peers.close(c.id, ErrorCode.TOKEN_EXPIRED.closeCode, "token expired");
            return true;
        }
        return false;
    }

    // ---- state after eviction ----

    private Map<String, Conn> conns() {
        if (conns == null) {
            conns = new LinkedHashMap<>();
            Rows rows = sql.query("SELECT conn, identity, client, claims, exp FROM __shoal_conns");
            while (rows.next()) {
                String id = rows.getString(0);
                conns.put(id, new Conn(id, new Auth(rows.getString(1), json.parse(rows.getString(3))), rows.getString(2), rows.getDouble(4)));
            }
            Rows subs = sql.query("SELECT conn, sub, shape, args FROM __shoal_subs ORDER BY rowid");
            while (subs.next()) {
                Conn c = conns.get(subs.getString(0));
                if (c == null) {
                    continue;
                }
                try {
                    attach(c, subs.getString(1), resolve(subs.getString(2), json.parse(subs.getString(3))));
                } catch (ShoalError e) {
                    // The app changed under a hibernating subscription: tell the client, keep the rest.
                    peers.send(c.id, ServerFrames.error(ErrorCode.valueOf(e.code), e.getMessage(), subs.getString(1)));
                }
            }
        }
        return conns;
    }

    /**
     * True when {@code s} takes more than {@code max} bytes as UTF-8. Every frame passes here, so
     * the per-character count runs only when the length alone cannot decide (a UTF-16 unit is at
     * most 3 bytes, a surrogate pair 4).
     */
    private static boolean utf8Over(String s, int max) {
        if ((long) s.length() * 3 <= max) {
            return false;
        }
        if (s.length() > max) {
            return true;
        }
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            n += ch < 0x80 ? 1 : ch < 0x800 ? 2 : Character.isHighSurrogate(ch) ? 2 : 3;
        }
        return n > max;
    }
}
