package dev.shoal.engine.log;

import dev.shoal.engine.App;
import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.Validator;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.WhereCompiler;
import java.util.List;
import java.util.Map;

/**
 * The shard's storage layout: the app's tables, the change log and the engine's own state.
 * SQLite triggers append one {@code __cdc_log} row per row change inside the writing statement,
 * so every write and its log entry commit or roll back together, and no write path can forget the
 * log. Row documents are built by SQLite ({@code json_object}), typed by the schema.
 */
public final class ChangeLog {
    private ChangeLog() {}

    /** Milliseconds since the epoch, as SQLite computes them at the moment of a write (shard and D1 alike). */
    public static final String NOW_MS = "(julianday('now') - 2440587.5) * 86400000.0";

    public static void install(Sql sql, App app, int rowBytesMax) {
        // The six columns of the design, plus the pre-image (the row before an update or delete),
        // which lets the same compiled predicate answer "was this row visible".
        sql.exec("CREATE TABLE IF NOT EXISTS __cdc_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,"
                + " \"table\" TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, doc TEXT, pre TEXT)");
        // Every read of the log is a seq range: no other index (one was dropped in 2026-11: each
        // write paid for it, and only one statement read it, which now reads the range instead).
        sql.exec("DROP INDEX IF EXISTS __cdc_log_row");
        sql.exec("CREATE TABLE IF NOT EXISTS __shoal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        sql.exec("CREATE TABLE IF NOT EXISTS __shoal_clients (identity TEXT NOT NULL, client TEXT NOT NULL,"
                + " last_mutation_id INTEGER NOT NULL, PRIMARY KEY (identity, client))");
        sql.exec("CREATE TABLE IF NOT EXISTS __shoal_conns (conn TEXT PRIMARY KEY, identity TEXT NOT NULL,"
                + " client TEXT NOT NULL, claims TEXT NOT NULL, exp REAL NOT NULL)");
        sql.exec("CREATE TABLE IF NOT EXISTS __shoal_subs (conn TEXT NOT NULL, sub TEXT NOT NULL, shape TEXT NOT NULL,"
                + " args TEXT NOT NULL, PRIMARY KEY (conn, sub))");
        // Writes of global tables, waiting for their D1 apply (dev.shoal.engine.shard.GlobalOutbox).
        sql.exec("CREATE TABLE IF NOT EXISTS __shoal_global_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, \"table\" TEXT NOT NULL,"
                + " op TEXT NOT NULL, row_id TEXT NOT NULL, doc TEXT NOT NULL)");
        sql.exec("INSERT OR IGNORE INTO __shoal_meta (key, value) VALUES ('epoch', ?)", newEpoch());
        for (Table table : app.tables()) {
            installTable(sql, table, rowBytesMax);
        }
    }

    /** The CREATE TABLE IF NOT EXISTS statement of {@code table} (also the D1 schema of a global table). */
    public static String createTable(Table table) {
        String columns = "id TEXT PRIMARY KEY NOT NULL";
        for (Map.Entry<String, Validator> c : table.columns().entrySet()) {
            if (!c.getKey().equals("id")) {
                columns += ", " + WhereCompiler.quote(c.getKey()) + " " + sqlType(c.getValue().columnType());
            }
        }
        return "CREATE TABLE IF NOT EXISTS " + WhereCompiler.quote(table.name()) + " (" + columns + ")";
    }

    private static void installTable(Sql sql, Table table, int rowBytesMax) {
        String name = WhereCompiler.quote(table.name());
        sql.exec(createTable(table));
        addMissingColumns(sql, table);
        for (List<String> index : table.indexes()) {
            String cols = "";
            for (String c : index) {
                cols += (cols.isEmpty() ? "" : ", ") + WhereCompiler.quote(c);
            }
            sql.exec("CREATE INDEX IF NOT EXISTS " + WhereCompiler.quote("__shoal_idx_" + table.name() + "_" + String.join("_", index))
                    + " ON " + name + " (" + cols + ")");
        }
        String literal = "'" + table.name() + "'";
        String newDoc = doc(table, "NEW", List.copyOf(table.columns().keySet()));
        String oldDoc = doc(table, "OLD", List.copyOf(table.columns().keySet()));
        // The document is built once; a row over rowBytesMax aborts the statement (and so the mutation).
        String checkedDoc = "(SELECT CASE WHEN length(CAST(d AS BLOB)) > " + rowBytesMax
                + " THEN RAISE(ABORT, 'SHOAL_ROW_TOO_LARGE') ELSE d END FROM (SELECT " + newDoc + " AS d))";
        trigger(sql, table, "ins", "AFTER INSERT",
                "INSERT INTO __cdc_log (ts, \"table\", id, op, doc, pre) VALUES (" + NOW_MS + ", " + literal
                + ", NEW.id, 'insert', " + checkedDoc + ", NULL);");
        trigger(sql, table, "upd", "AFTER UPDATE",
                "SELECT RAISE(ABORT, 'SHOAL_ID_IMMUTABLE') WHERE NEW.id IS NOT OLD.id;"
                + " INSERT INTO __cdc_log (ts, \"table\", id, op, doc, pre) VALUES (" + NOW_MS + ", " + literal
                + ", NEW.id, 'update', " + checkedDoc + ", " + oldDoc + ");");
        trigger(sql, table, "del", "AFTER DELETE",
                "INSERT INTO __cdc_log (ts, \"table\", id, op, doc, pre) VALUES (" + NOW_MS + ", " + literal
                + ", OLD.id, 'delete', NULL, " + oldDoc + ");");
    }

    /**
     * Schema evolution, additive only: a column the app declares that the stored table lacks is
     * added (existing rows read it as NULL, so declare new columns optional). Columns are never
     * dropped or retyped here: the data of a removed column stays until the app migrates it.
     */
    private static void addMissingColumns(Sql sql, Table table) {
        java.util.Set<String> stored = new java.util.HashSet<>();
        dev.shoal.engine.sql.Rows rows = sql.query("SELECT name FROM pragma_table_info(?)", table.name());
        while (rows.next()) {
            stored.add(rows.getString(0));
        }
        for (String statement : missingColumns(table, stored)) {
            sql.exec(statement);
        }
    }

    /**
     * The ALTER TABLE statements that add to a stored copy of {@code table} the columns it lacks
     * ({@code stored}: the column names it has), in schema order: additive evolution, for the
     * shard's SQLite and for D1 alike.
     */
    public static List<String> missingColumns(Table table, java.util.Set<String> stored) {
        List<String> out = new java.util.ArrayList<>();
        for (Map.Entry<String, Validator> c : table.columns().entrySet()) {
            if (!stored.contains(c.getKey())) {
                out.add("ALTER TABLE " + WhereCompiler.quote(table.name()) + " ADD COLUMN " + WhereCompiler.quote(c.getKey()) + " "
                        + sqlType(c.getValue().columnType()));
            }
        }
        return out;
    }

    private static void trigger(Sql sql, Table table, String suffix, String when, String body) {
        // Dropped and recreated on every start, so triggers always match the current schema.
        String name = WhereCompiler.quote("__shoal_log_" + table.name() + "_" + suffix);
        sql.exec("DROP TRIGGER IF EXISTS " + name);
        sql.exec("CREATE TRIGGER " + name + " " + when + " ON " + WhereCompiler.quote(table.name()) + " BEGIN " + body + " END");
    }

    /**
     * SQL for the JSON document of a row of {@code table} under {@code alias}, holding
     * {@code columns}. Booleans render as true/false and JSON columns as JSON, not as text.
     */
    public static String doc(Table table, String alias, List<String> columns) {
        String out = "";
        for (String c : columns) {
            String ref = alias + "." + WhereCompiler.quote(c);
            ColumnType type = table.column(c).columnType();
            String value = switch (type) {
                case BOOLEAN -> "json(CASE WHEN " + ref + " IS NULL THEN 'null' WHEN " + ref + " THEN 'true' ELSE 'false' END)";
                case JSON -> "json(" + ref + ")";
                default -> ref;
            };
            out += (out.isEmpty() ? "" : ", ") + "'" + c + "', " + value;
        }
        return "json_object(" + out + ")";
    }

    private static String sqlType(ColumnType type) {
        return switch (type) {
            case TEXT, JSON -> "TEXT";
            case REAL -> "REAL";
            case INTEGER, BOOLEAN -> "INTEGER";
        };
    }

    /** The query of the log's highest seq (no row while the log has never held one); unaffected by compaction. */
    public static final String SEQ_QUERY = "SELECT seq FROM sqlite_sequence WHERE name = '__cdc_log'";

    /** The highest committed seq, 0 while the log is empty; unaffected by compaction. */
    public static long seq(Sql sql) {
        return sql.queryLong(0, SEQ_QUERY);
    }

    public static String epoch(Sql sql) {
        return sql.queryString("SELECT value FROM __shoal_meta WHERE key = 'epoch'");
    }

    private static String newEpoch() {
        String alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        String out = "";
        for (int i = 0; i < 12; i++) {
            out += alphabet.charAt((int) (Math.random() * alphabet.length()));
        }
        return out;
    }
}
