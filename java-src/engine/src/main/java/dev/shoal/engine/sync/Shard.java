package dev.shoal.engine.sync;

import dev.shoal.engine.App;
import dev.shoal.engine.Auth;
import dev.shoal.engine.Limits;
import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.log.Compaction;
import dev.shoal.engine.sql.Sql;
import dev.shoal.protocol.ClientFrame;
import dev.shoal.protocol.ErrorCode;
import dev.shoal.protocol.FrameCodec;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import dev.shoal.protocol.ProtocolException;
import dev.shoal.protocol.ServerFrames;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The engine of one shard: one instance per Durable Object (never static state: TeaVM statics are
 * shared by every object in the isolate). The host calls it one event at a time, inside
 * {@code blockConcurrencyWhile}; every write commits before any poke is computed.
 *
 * <p>This class receives the host's events and dispatches frames; the jobs live beside it:
 * {@link Connections} (sockets), {@link Subscriptions} (views and their subscribers, indexed by
 * {@link ViewIndex}), {@link PushLedger} (exactly-once pushes), {@link Pokes} (the fan-out after
 * each commit) and {@link Reload} (state after eviction: socket and subscription state lives in
 * SQLite and is read back on the first event of a new instance).
 */
public final class Shard {
    private final App app;
    private final Sql sql;
    private final Json.Parser json;
    private final Peers peers;
    private final String shardName;
    private final Limits limits;
    private final FrameCodec codec;
    private final String epoch;
    private final Compaction compaction;
    private final Connections conns;
    private final ViewIndex views = new ViewIndex();
    private final Subscriptions subs;
    private final PushLedger ledger;
    private final Pokes pokes;
    private boolean loaded;

    /*
     * Bursts. A burst is the pushes that arrive while the host's event loop has not turned since
     * the first of them was poked: the first push after a quiet moment is poked at once (a lone
     * write is not delayed), later ones share a round every Limits.burstPushesMax pushes and when
     * the burst ends (endBurst). Under sustained writes this spends one diff per view on several
     * commits.
     *
     * Finding out where a burst ends costs the host a timer per burst. A shard whose last burst
     * held nothing back (its pushes come one at a time) is quiet: it pokes each push at once and
     * starts no burst, except every Limits.burstPushesMax-th push, which starts one to look for
     * pushes queued behind it. A burst that holds a push back makes the shard busy again. So a
     * quiet shard pokes at most burstPushesMax pushes one by one before it shares rounds again,
     * and its lone writes pay the timer once per burstPushesMax pushes, not each time.
     */
    /** The sockets of (identity, client)s whose pushes committed since the last poke round. */
    private final Set<Conn> unconfirmed = new java.util.LinkedHashSet<>();
    private boolean inBurst;
    private int heldBack;
    /** The last burst held nothing back: pushes are poked at once, one burst per burstPushesMax pushes. */
    private boolean quiet;
    /** Pushes poked at once since a quiet shard last started a burst. */
    private int quietPushes;

    /** {@code shardName} may be null when the object wakes for an alarm: the stored name is used. */
    public Shard(App app, Sql sql, Json.Parser json, Peers peers, String shardName, Limits limits) {
        this.app = app;
        this.sql = sql;
        this.json = json;
        this.peers = peers;
        this.limits = limits;
        this.codec = new FrameCodec(limits.mutationsPerPushMax());
        ChangeLog.install(sql, app, limits.rowBytesMax());
        // The name is kept with the data: an alarm wakes the object without a request that names it.
        if (shardName != null) {
            sql.exec("INSERT OR IGNORE INTO __shoal_meta (key, value) VALUES ('shard', ?)", shardName);
        }
        this.shardName = sql.queryString("SELECT value FROM __shoal_meta WHERE key = 'shard'");
        this.epoch = ChangeLog.epoch(sql);
        this.compaction = new Compaction(sql, limits);
        this.conns = new Connections(sql, peers);
        this.subs = new Subscriptions(app, sql, json, peers, limits, epoch, views, compaction::floor, this.shardName);
        this.ledger = new PushLedger(app, sql, peers, this.shardName, subs::checkArgs, views);
        this.pokes = new Pokes(sql, json, peers, limits, epoch, conns, ledger, views, compaction.floor());
    }

    public String epoch() {
        return epoch;
    }

    /** This instance's work counters and state sizes as JSON. */
    public String statsJson() {
        load();
        return "{\"diffQueries\":" + pokes.diffQueries + ",\"pokesSent\":" + pokes.pokesSent + ",\"views\":" + views.size()
                + ",\"pagesRead\":" + views.pagesRead + ",\"pagesKnown\":" + views.pagesKnown
                + ",\"sockets\":" + conns.size() + ",\"seq\":" + pokes.pokedSeq() + ",\"floor\":" + floor()
                + ",\"instance\":" + JsonText.quote(pokes.instance()) + "}";
    }

    public long seq() {
        return ChangeLog.seq(sql);
    }

    /** A socket was accepted: remember it and send {@code connected}. */
    public void open(String conn, String userId, String client, String claimsJson, double expSec) {
        load();
        pokeHeldBack();
        Auth auth = new Auth(userId, json.parse(claimsJson));
        if (!app.allows(auth, shardName)) {
            peers.send(conn, ServerFrames.error(ErrorCode.FORBIDDEN, userId + " may not use shard " + shardName, null));
            peers.close(conn, dev.shoal.protocol.Wire.CLOSE_SHARD_FORBIDDEN, "forbidden");
            return;
        }
        if (conns.socketsOf(userId) >= limits.socketsPerIdentityMax()) {
            peers.send(conn, ServerFrames.error(ErrorCode.TOO_MANY_SOCKETS, "an identity may hold at most " + limits.socketsPerIdentityMax()
                    + " sockets on a shard: close one first", null));
            peers.close(conn, ErrorCode.TOO_MANY_SOCKETS.closeCode, "too many sockets");
            return;
        }
        Conn c = conns.add(conn, auth, client, claimsJson, expSec, ledger.client(userId, client), false);
        peers.send(conn, ServerFrames.connected(shardName, epoch, pokes.pokedSeq(), ledger.lastMutationId(c.ledger), limits.frameBytesMax(),
                limits.mutationsPerPushMax(), limits.argsBytesMax(), limits.subscriptionsPerSocketMax()));
    }

    /** A socket closed: forget it and its subscriptions. */
    public void closed(String conn) {
        load();
        pokeHeldBack();
        Conn c = conns.remove(conn);
        if (c != null) {
            subs.closed(c);
        } else {
            sql.exec("DELETE FROM __shoal_subs WHERE conn = ?", conn);
        }
    }

    /** On {@code __global__}: mirrors rows of a global table read from D1 ({@code GlobalMirror}), then pokes what changed. */
    public void mirrorGlobal(String table, String rowsJson, String idsJson) {
        load();
        pokeHeldBack();
        dev.shoal.engine.shard.GlobalMirror.apply(sql, json, app.table(table), rowsJson, idsJson);
        pokes.afterCommit(List.of());
    }

    /** Drops state of sockets that no longer exist (e.g. lost while the object was away). */
    public void retain(String[] liveConns) {
        load();
        Set<String> live = new HashSet<>(List.of(liveConns));
        for (Conn c : new ArrayList<>(conns.all())) {
            if (!live.contains(c.id)) {
                closed(c.id);
            }
        }
    }

    /**
     * One text frame from a socket; returns how many mutations it carried (0 for any other frame),
     * which the host charges to the socket's mutation rate.
     */
    public int message(String conn, String text) {
        return message(conn, text, (double) System.currentTimeMillis());
    }

    /** {@link #message(String, String)} at {@code nowMs}, the host's one clock read for the frame. */
    public int message(String conn, String text, double nowMs) {
        load();
        Conn c = conns.get(conn);
        if (c == null) {
            peers.close(conn, 1011, "unknown connection");
            return 0;
        }
        if (conns.expired(c, nowMs / 1000.0)) {
            return 0;
        }
        if (utf8Over(text, limits.frameBytesMax())) {
            peers.send(conn, ServerFrames.error(ErrorCode.FRAME_TOO_LARGE, "a frame may hold at most " + limits.frameBytesMax() + " bytes", null));
            peers.close(conn, ErrorCode.FRAME_TOO_LARGE.closeCode, "frame too large");
            return 0;
        }
        ClientFrame frame;
        try {
            frame = codec.decode(parse(text));
        } catch (ProtocolException e) {
            peers.send(conn, ServerFrames.error(e.code, e.getMessage(), null));
            return 0;
        }
        try {
            return handle(c, frame, text.length(), nowMs);
        } catch (RuntimeException e) {
            // An engine or app-definition bug: the client gets a typed error, the shard keeps serving.
            peers.send(conn, ServerFrames.error(ErrorCode.INTERNAL, "the shard failed to handle the frame: "
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), null));
            return frame instanceof ClientFrame.Push p ? p.mutations().size() : 0;
        }
    }

    /** Runs one decoded frame; returns how many mutations it carried. */
    private int handle(Conn c, ClientFrame frame, int frameChars, double nowMs) {
        if (!(frame instanceof ClientFrame.Push)) {
            pokeHeldBack(); // a subscription starts from the shard as poked: every commit first
        }
        if (frame instanceof ClientFrame.Subscribe s) {
            subs.subscribe(c, s, pokes);
            return 0;
        } else if (frame instanceof ClientFrame.Unsubscribe u) {
            subs.unsubscribe(c, u.id());
            return 0;
        }
        List<ClientFrame.Mutation> mutations = ((ClientFrame.Push) frame).mutations();
        // A round follows at once unless a burst holds this push back.
        boolean roundNow = !inBurst || heldBack + 1 >= limits.burstPushesMax();
        ledger.push(c, mutations, frameChars, nowMs, roundNow);
        // Every socket of the pushing (identity, client) is poked, to confirm its lastMutationId;
        // no other socket is looked at.
        unconfirmed.addAll(c.ledger.sockets);
        if (inBurst) {
            heldBack++;
            if (roundNow) {
                pokeRound();
            } else {
                pokes.holdBack();
            }
        } else {
            // A quiet shard starts a burst only every burstPushesMax pushes; a busy one at each.
            inBurst = !quiet || ++quietPushes >= limits.burstPushesMax();
            if (inBurst) {
                quietPushes = 0;
            }
            pokeRound();
        }
        return mutations.size();
    }

    /**
     * True from the first push after a quiet moment until {@link #endBurst}: the host calls
     * endBurst once its event loop turns (when the frames that were waiting are handled). A quiet
     * shard's pushes leave it false, except one in every burstPushesMax (see "Bursts" above).
     */
    public boolean inBurst() {
        return inBurst;
    }

    /** True when pushes wait for a poke round (then {@link #endBurst} writes; otherwise it only ends the burst). */
    public boolean holdsBack() {
        return !unconfirmed.isEmpty() || pokes.behind();
    }

    /**
     * The burst is over: the commits it held back are poked. A round that fails sends nothing
     * and is retried by the next event's round (no frame is waiting for an answer here).
     */
    public void endBurst() {
        load();
        inBurst = false;
        quiet = !holdsBack();
        try {
            pokeHeldBack();
        } catch (RuntimeException e) {
            // the held-back sockets and the mark stay: the next round covers them
        }
    }

    /** Pokes what earlier pushes held back (or a stopped instance left unpoked), if anything. */
    private void pokeHeldBack() {
        if (holdsBack()) {
            pokeRound();
        }
    }

    /**
     * One poke round for every commit since the last, confirming every push since the last. The
     * mark of a burst ({@code Pokes.holdBack}) stays until the burst ends: one write when a burst
     * starts holding back and one when it ends, however many rounds it takes (an instance that
     * stops in between pokes from the burst's start again; a row poked twice is the same row).
     */
    private void pokeRound() {
        pokes.afterCommit(new ArrayList<>(unconfirmed)); // on a throw, they wait for the next round
        unconfirmed.clear();
        heldBack = 0;
        if (!inBurst) {
            pokes.caughtUp();
        }
    }

    private Json parse(String text) {
        try {
            return json.parse(text);
        } catch (RuntimeException e) {
            throw new ProtocolException(ErrorCode.BAD_FRAME, "a frame must be JSON text");
        }
    }

    /** Socket and subscription state after eviction, read once, on the instance's first event. */
    private void load() {
        if (!loaded) {
            loaded = true;
            Reload.restore(sql, json, conns, subs, ledger);
        }
    }

    /** The compaction floor: every log row above it is present; a cursor below it cannot catch up. */
    public long floor() {
        return compaction.floor();
    }

    /** True when log retention lets rows go: the host then schedules {@link #compact}. */
    public boolean compactionDue(double nowMs) {
        return compaction.due(pokes.pokedSeq(), nowMs);
    }

    /** Trims one bounded batch of the log (run from an alarm); true when more remains. */
    public boolean compact(double nowMs) {
        load();
        pokeHeldBack(); // no log row goes before its commit is poked
        return compaction.run(seq(), nowMs);
    }

    /**
     * True when {@code s} takes more than {@code max} bytes as UTF-8. Every frame passes here, so
     * the per-character count runs only when the length alone cannot decide (a UTF-16 unit is at
     * most 3 bytes, a surrogate pair 4).
     */
    static boolean utf8Over(String s, int max) {
        if (s.length() <= max / 3) {
            return false; // at most three bytes per UTF-16 unit (int arithmetic: TeaVM's long is a BigInt)
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
