package dev.shoal.engine.sync;

import dev.shoal.engine.Limits;
import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.shape.Subscription;
import dev.shoal.engine.shape.View;
import dev.shoal.engine.sql.Sql;
import dev.shoal.protocol.Json;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Pokes: after every commit, what changed reaches every socket that may see it. The fan-out is
 * one piece:
 * <ol>
 *   <li>the new log page names the views it may change ({@link ViewIndex#page}): views of
 *       other channels are never diffed;</li>
 *   <li>one diff per candidate view, whatever its subscribers ({@link View#diff}), evaluates the
 *       read policy for all subscribed identities at once and groups the identities that get the
 *       same row ops: their rows are one string, built once by SQLite;</li>
 *   <li>each subscription of those identities gets that string as a part ({@link Peers#poke}); the
 *       host assembles and sends one poke per socket ({@link Peers#flushPokes}). No frame text is
 *       built here, per socket or otherwise.</li>
 * </ol>
 * Every subscription reflects the shard at {@link #pokedSeq()}: a round covers every commit since
 * the one before (one push, or the pushes a burst held back: {@code Limits.burstPushesMax}), so
 * no round ever covers less than the one before.
 */
final class Pokes {
    private final Sql sql;
    private final Json.Parser json;
    private final Peers peers;
    private final Limits limits;
    private final String epoch;
    private final Connections conns;
    private final PushLedger ledger;
    private final ViewIndex views;
    /** Random per instance, so poke ids stay unique per socket across evictions. */
    private final String pokePrefix = Long.toString((long) (Math.random() * 1e12), 36) + ".";
    private long pokeCounter;
    private long pokedSeq;
    /** Work counters since this instance started, for tests and benchmarks (not persisted). */
    long diffQueries;
    long pokesSent;

    /** True while {@code __shoal_meta} holds a {@code poked} mark (see {@link #holdBack}). */
    private boolean marked;

    /** {@code floor}: the log's compaction floor (a mark below it can only resume from it). */
    Pokes(Sql sql, Json.Parser json, Peers peers, Limits limits, String epoch, Connections conns, PushLedger ledger, ViewIndex views,
            long floor) {
        this.sql = sql;
        this.json = json;
        this.peers = peers;
        this.limits = limits;
        this.epoch = epoch;
        this.conns = conns;
        this.ledger = ledger;
        this.views = views;
        // A mark left by an instance that stopped between a commit and its poke: poke from there.
        long mark = sql.queryLong(-1, "SELECT CAST(value AS INTEGER) FROM __shoal_meta WHERE key = 'poked'");
        this.marked = mark >= 0;
        this.pokedSeq = marked ? Math.max(mark, floor) : ChangeLog.seq(sql);
    }

    /**
     * True while a mark is kept: a stopped instance left one (its commits may not be poked yet), or
     * a burst is holding pushes back (the mark stays until the burst ends, see {@link #caughtUp}).
     */
    boolean behind() {
        return marked;
    }

    /**
     * A commit's poke round is held back (a burst, see {@code Shard}): the first time, the log seq
     * already poked is stored, so that an instance that stops before the burst ends still pokes
     * those commits (from the mark, on its first event) to sockets that outlived it.
     */
    void holdBack() {
        if (!marked) {
            sql.exec("INSERT INTO __shoal_meta (key, value) VALUES ('poked', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    Long.toString(pokedSeq));
            marked = true;
        }
    }

    /** Every commit is poked and the burst is over: the mark goes. */
    void caughtUp() {
        if (marked) {
            sql.exec("DELETE FROM __shoal_meta WHERE key = 'poked'");
            marked = false;
        }
    }

    long pokedSeq() {
        return pokedSeq;
    }

    String instance() {
        return pokePrefix;
    }

    /**
     * Sends what changed since the last poke to every socket that sees a change, and to
     * {@code confirm} (the pushing client's sockets) even when empty, so that their
     * {@code lastMutationId} is confirmed.
     */
    void afterCommit(List<Conn> confirm) {
        try {
            collect(confirm);
        } catch (RuntimeException e) {
            // Nothing of a failed round is sent: the next commit's round covers (pokedSeq, seq] again.
            peers.abandonPokes();
            throw e;
        }
        flush();
    }

    private void collect(List<Conn> confirm) {
        ViewIndex.Page page = views.page(sql, pokedSeq);
        double nowSec = Connections.nowSec();
        Set<String> expired = conns.anyMayExpire(nowSec) ? new HashSet<>() : null;
        if (page.to() > pokedSeq) {
            for (View view : page.views()) {
                diffQueries++;
                List<View.Change> changes = view.diff(sql, json, pokedSeq, page.to(), limits.pokePartBytesMax(), view.readsRelated(page.tables()),
                        page.onlyRowSeq(view.tableName()));
                for (View.Change change : changes) {
                    for (String who : change.identities()) {
                        for (Subscription sub : view.subscriptions(who)) {
                            Conn c = (Conn) sub.socket();
                            if (expired != null && isExpired(c, nowSec, expired)) {
                                continue;
                            }
                            double last = ledger.lastMutationId(c.ledger);
                            for (String rows : change.parts()) {
                                peers.poke(c.id, sub.id(), false, rows, last);
                            }
                        }
                    }
                }
            }
            pokedSeq = page.to();
        }
        for (Conn c : confirm) {
            if (expired == null || !isExpired(c, nowSec, expired)) {
                peers.poke(c.id, null, false, null, ledger.lastMutationId(c.ledger));
            }
        }
    }

    /** The answer to a subscribe: {@code parts} (at least one is sent, empty if need be), the first with {@code reset}. */
    void answer(Conn c, String sub, List<String> parts, boolean reset) {
        if (conns.expired(c, Connections.nowSec())) {
            return;
        }
        // Nothing can fail between here and the flush: the parts are computed already.
        double last = ledger.lastMutationId(c.ledger);
        if (parts.isEmpty()) {
            peers.poke(c.id, sub, reset, "[]", last);
        }
        for (int i = 0; i < parts.size(); i++) {
            peers.poke(c.id, sub, reset && i == 0, parts.get(i), last);
        }
        flush();
    }

    private boolean isExpired(Conn c, double nowSec, Set<String> expired) {
        if (expired.contains(c.id)) {
            return true;
        }
        if (conns.expired(c, nowSec)) {
            expired.add(c.id);
            return true;
        }
        return false;
    }

    private void flush() {
        ++pokeCounter; // an int's digits are int arithmetic (TeaVM's long divides as a BigInt)
        String count = pokeCounter == (int) pokeCounter ? Integer.toString((int) pokeCounter, 36) : Long.toString(pokeCounter, 36);
        pokesSent += peers.flushPokes(pokePrefix + count, pokedSeq, epoch, limits.pokePartBytesMax());
    }
}
