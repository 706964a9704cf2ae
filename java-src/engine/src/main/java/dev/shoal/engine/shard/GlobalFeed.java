package dev.shoal.engine.shard;

import dev.shoal.engine.App;
import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.List;

/**
 * D1's change feed of the global tables, so that {@link ShardRouting#GLOBAL}'s mirror follows D1 by
 * reading what changed, not whole tables: triggers on each global table append (seq, table, id)
 * to {@value #TABLE} for every insert, update and delete, whoever makes it (a Shoal mutator, the D1
 * console, a migration, another service). The mirror keeps the seq it has read up to (its
 * cursor) in its own storage, with the mirror itself: a wake resumes from it. Entries older than
 * {@link #RETENTION_MS} are pruned by the poll; a cursor below what is left means a full re-read.
 */
public final class GlobalFeed {
    private GlobalFeed() {}

    static final String TABLE = "__shoal_changes";
    /** How long D1 keeps a feed entry: a mirror away for longer re-reads the global tables whole. */
    public static final double RETENTION_MS = 24 * 3600 * 1000.0;
    private static final String CURSOR_KEY = "global_feed_seq";

    /** The D1 statements of the feed: its table, then three triggers per global table. */
    static List<String> schema(App app) {
        List<String> out = new ArrayList<>();
        out.add("CREATE TABLE IF NOT EXISTS " + TABLE + " (seq INTEGER PRIMARY KEY AUTOINCREMENT, \"table\" TEXT NOT NULL,"
                + " id TEXT NOT NULL, at REAL NOT NULL)");
        for (Table t : app.tables()) {
            if (t.isGlobal()) {
                String q = WhereCompiler.quote(t.name());
                String row = "SELECT '" + t.name() + "', ";
                String at = ", " + ChangeLog.NOW_MS;
                String insert = "INSERT INTO " + TABLE + " (\"table\", id, at) ";
                out.add(trigger(t, "ins", "AFTER INSERT ON " + q, insert + row + "NEW.id" + at + ";"));
                out.add(trigger(t, "upd", "AFTER UPDATE ON " + q, insert + row + "NEW.id" + at + "; "
                        + insert + row + "OLD.id" + at + " WHERE OLD.id IS NOT NEW.id;"));
                out.add(trigger(t, "del", "AFTER DELETE ON " + q, insert + row + "OLD.id" + at + ";"));
            }
        }
        return out;
    }

    private static String trigger(Table t, String suffix, String when, String body) {
        return "CREATE TRIGGER IF NOT EXISTS " + WhereCompiler.quote("__shoal_feed_" + t.name() + "_" + suffix) + " " + when
                + " BEGIN " + body + " END";
    }

    /**
     * The poll's statements, as JSON {@code {top, page, prune, retentionMs}}: {@code top} answers
     * {@code floor} (the lowest seq kept, 0 when empty) and {@code top} (the highest ever: pruning
     * keeps the newest entry); {@code page} binds (cursor, limit) and answers the next entries as
     * {@code seq, table, id} in seq order; {@code prune} binds the oldest time to keep, in ms.
     */
    static String pollSqlJson() {
        return "{\"top\":" + JsonText.quote("SELECT coalesce(min(seq), 0) AS floor, coalesce(max(seq), 0) AS top FROM " + TABLE)
                + ",\"page\":" + JsonText.quote("SELECT seq, \"table\", id FROM " + TABLE + " WHERE seq > ? ORDER BY seq LIMIT ?")
                + ",\"prune\":" + JsonText.quote("DELETE FROM " + TABLE + " WHERE at < ? AND seq < (SELECT max(seq) FROM " + TABLE + ")")
                + ",\"retentionMs\":" + (long) RETENTION_MS + "}";
    }

    /** The seq the mirror has read D1's feed up to; -1 before its first full read. */
    public static long cursor(Sql sql) {
        return sql.queryLong(-1, "SELECT CAST(value AS INTEGER) FROM __shoal_meta WHERE key = '" + CURSOR_KEY + "'");
    }

    /** Records that the mirror holds every change of the feed up to {@code seq}. */
    public static void setCursor(Sql sql, long seq) {
        sql.exec("INSERT INTO __shoal_meta (key, value) VALUES ('" + CURSOR_KEY + "', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                Long.toString(seq));
    }
}
