package dev.shoal.durable;

import dev.shoal.engine.App;
import dev.shoal.engine.AppSource;
import dev.shoal.engine.Limits;
import dev.shoal.engine.shard.GlobalFeed;
import dev.shoal.engine.shard.GlobalOutbox;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sync.Shard;
import java.util.Iterator;
import java.util.ServiceLoader;
import org.teavm.jso.JSBody;
import org.teavm.jso.JSExport;
import org.teavm.jso.JSObject;

/**
 * The engine as the shim sees it: {@code new ShardObject(ctx.storage, peers, shardName)}, one per
 * Durable Object instance. The whole Java/JS boundary is these few methods taking strings and
 * numbers (and returning them, or {@link #message}'s plain object). The app is the one the build's
 * service file names ({@link AppSource}): TeaVM resolves {@link ServiceLoader} at compile time, so
 * nothing here names an app.
 */
public final class ShardObject {
    private final Shard shard;
    private final App app;
    private final Sql sql;
    /** Writes of global tables waiting for their D1 apply are read in batches of at most this many. */
    private static final int GLOBAL_BATCH_MAX = 50;

    /**
     * {@code limits}: overrides of {@link Limits#defaults()} by name, as an object or JSON text
     * (e.g. {@code {"logRowsMax":5000}}), or undefined for the defaults.
     */
    @JSExport
    public ShardObject(JSObject storage, JSObject peers, String shardName, JSObject limits) {
        this.app = app();
        this.sql = new JsSql(storage);
        this.shard = new Shard(app, sql, JsJson.PARSER, new JsPeers(peers), shardName,
                Limits.fromJson(JsJson.PARSER.parse(limitsText(limits))));
    }

    /** This shard's name (stored with its data: an alarm wakes it without a request that names it). */
    @JSExport
    public String name() {
        return sql.queryString("SELECT value FROM __shoal_meta WHERE key = 'shard'");
    }

    // ---- global tables (docs/sharding.md): the outbox to D1, and the __global__ shard's mirror ----

    /** The app's global tables, as a JSON array of names ("[]" when it has none). */
    @JSExport
    public String globalTables() {
        return GlobalOutbox.tablesJson(app);
    }

    /** The SQL the host runs against D1 besides the outbox batches, as JSON {schema, columns, feed} (GlobalOutbox.d1SqlJson). */
    @JSExport
    public String globalSql() {
        return GlobalOutbox.d1SqlJson(app);
    }

    /** The ALTER TABLE statements D1 needs ({@code storedJson}: table -> the column names D1 has), as a JSON array. */
    @JSExport
    public String globalMigration(String storedJson) {
        return GlobalOutbox.migrationJson(app, JsJson.PARSER, storedJson);
    }

    /** On __global__: the seq of D1's change feed its mirror holds every change up to; -1 before its first full read. */
    @JSExport
    public double globalFeedCursor() {
        return GlobalFeed.cursor(sql);
    }

    /** On __global__: the mirror now holds every change of D1's feed up to {@code seq}. */
    @JSExport
    public void setGlobalFeedCursor(double seq) {
        GlobalFeed.setCursor(sql, (long) seq);
    }

    /** True when writes of global tables wait for their D1 apply. */
    @JSExport
    public boolean globalPending() {
        return GlobalOutbox.pending(sql);
    }

    /** The next pending writes as one D1 batch: {@code {upTo, statements: [{sql, params}], changed}}. */
    @JSExport
    public String globalBatch() {
        return GlobalOutbox.batchJson(sql, app, JsJson.PARSER, name(), GLOBAL_BATCH_MAX);
    }

    /** The batch up to {@code upTo} is in D1: its entries leave the outbox. */
    @JSExport
    public void globalApplied(double upTo) {
        GlobalOutbox.applied(sql, (long) upTo);
    }

    /**
     * On {@code __global__}: rows of {@code table} read from D1 (a JSON array), for the ids in
     * {@code idsJson} (a JSON array; rows missing among them were deleted), or the whole table when
     * {@code idsJson} is null. Writes what differs to the mirror and pokes subscribers.
     */
    @JSExport
    public void mirrorGlobal(String table, String rowsJson, String idsJson) {
        shard.mirrorGlobal(table, rowsJson, idsJson);
    }

    /** A socket was accepted with a verified identity; sends {@code connected}. */
    @JSExport
    public void open(String conn, String userId, String client, String claimsJson, double expSec) {
        shard.open(conn, userId, client, claimsJson, expSec);
    }

    /**
     * One text frame from a socket. Returns what the host does next, in one object (one call per
     * frame across the boundary): {@code {mutations, inBurst, compactionDue}}: how many mutations
     * the frame carried (for the socket's mutation rate); whether pushes may now hold back their
     * poke round (the host then calls {@link #endBurst} once its event loop turns); and whether log
     * retention lets rows go (the host then schedules an alarm that calls {@link #compact}).
     */
    @JSExport
    public JSObject message(String conn, String text) {
        double nowMs = now();
        int mutations = shard.message(conn, text, nowMs);
        return outcome(mutations, shard.inBurst(), shard.compactionDue(nowMs));
    }

    @JSBody(params = {"mutations", "inBurst", "compactionDue"},
            script = "return { mutations: mutations, inBurst: inBurst, compactionDue: compactionDue };")
    private static native JSObject outcome(int mutations, boolean inBurst, boolean compactionDue);

    /** Milliseconds since the epoch, as a double (System.currentTimeMillis goes through a 64-bit BigInt). */
    @JSBody(script = "return Date.now();")
    private static native double now();

    /** True when pushes wait for a poke round: {@link #endBurst} then pokes (and writes), so it runs in blockConcurrencyWhile. */
    @JSExport
    public boolean holdsBack() {
        return shard.holdsBack();
    }

    /** The frames that were waiting are handled: the pushes held back are poked. */
    @JSExport
    public void endBurst() {
        shard.endBurst();
    }

    @JSExport
    public void closed(String conn) {
        shard.closed(conn);
    }

    /** The connection ids of the sockets the runtime still holds; state of any other is dropped. */
    @JSExport
    public void retain(JSObject liveConns) {
        String[] ids = new String[length(liveConns)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = item(liveConns, i);
        }
        shard.retain(ids);
    }

    /** True when log retention lets rows go: the host then schedules an alarm that calls {@link #compact}. */
    @JSExport
    public boolean compactionDue() {
        return shard.compactionDue(now());
    }

    /** Trims one bounded batch of the log; true when more remains. */
    @JSExport
    public boolean compact() {
        return shard.compact(System.currentTimeMillis());
    }

    @JSExport
    public String stats() {
        return shard.statsJson();
    }

    @JSExport
    public double seq() {
        return shard.seq();
    }

    @JSExport
    public String epoch() {
        return shard.epoch();
    }

    /** The app the build named; a build that names none (or two) fails here with what to fix. */
    private static App app() {
        Iterator<AppSource> sources = ServiceLoader.load(AppSource.class).iterator();
        if (!sources.hasNext()) {
            throw new IllegalStateException("this engine was built without an app: list your app's class (it implements "
                    + AppSource.class.getName() + ") as the one line of " + AppSource.SERVICE_FILE + ", then rebuild");
        }
        AppSource source = sources.next();
        if (sources.hasNext()) {
            throw new IllegalStateException("this engine was built with more than one app: keep one line in " + AppSource.SERVICE_FILE);
        }
        return source.app();
    }

    @JSBody(params = "o", script = "return o == null ? '{}' : typeof o === 'string' ? o : JSON.stringify(o);")
    private static native String limitsText(JSObject o);

    @JSBody(params = "a", script = "return a.length;")
    private static native int length(JSObject a);

    @JSBody(params = {"a", "i"}, script = "return String(a[i]);")
    private static native String item(JSObject a, int i);
}
