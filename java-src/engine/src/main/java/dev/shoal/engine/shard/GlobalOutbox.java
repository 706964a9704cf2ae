package dev.shoal.engine.shard;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.Validator;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes of global tables, exactly once: a mutator's write is recorded in this shard's
 * {@code __shoal_global_outbox} inside the mutation's own transaction (so it commits or rolls back
 * with the rest), and the host applies the pending entries to D1 afterwards, in one D1 batch that
 * also records each applied (shard@epoch, outbox id) in D1's {@code __shoal_applied}. Every statement of
 * an entry runs only if its (shard, id) is not recorded yet, so a batch replayed after a crash
 * between the D1 apply and {@link #applied} changes nothing twice; the host retries from an alarm
 * until {@link #applied} is called.
 *
 * <p>The D1 semantics are blind writes (D1 is not part of the shard's transaction): insert and
 * replace upsert the whole row, patch updates the given columns of a row that exists, delete
 * deletes it if present. Concurrent writers of one global row: the last applied wins.
 */
public final class GlobalOutbox {
    /** The D1 table that records applied outbox entries. */
    public static final String APPLIED = "__shoal_applied";

    private GlobalOutbox() {}

    /** Checks a global write ({@code verb} of row {@code id}) and records it in the outbox. */
    static void record(Sql sql, String verb, Table table, String id, Map<String, Object> values, String userId) {
        Where policy = switch (verb) {
            case "insert" -> table.insertPolicy();
            case "delete" -> table.deletePolicy();
            default -> table.updatePolicy();
        };
        if (policy != null && !ShardWrites.holds(policy, id, userId)) {
            throw ShoalError.forbidden("the " + (verb.equals("replace") || verb.equals("patch") ? "update" : verb) + " policy of "
                    + table.name() + " refuses " + verb + " of " + id + " for " + userId);
        }
        String doc = "";
        Map<String, Object> row = new LinkedHashMap<>();
        if (!verb.equals("delete")) {
            row.put("id", id);
            for (Map.Entry<String, Object> e : values.entrySet()) {
                if (!e.getKey().equals("id")) {
                    row.put(e.getKey(), e.getValue());
                }
            }
        }
        for (Map.Entry<String, Object> e : row.entrySet()) {
            doc += (doc.isEmpty() ? "" : ",") + JsonText.quote(e.getKey()) + ":" + literal(table, e.getKey(), e.getValue());
        }
        String op = verb.equals("delete") ? "delete" : verb.equals("patch") ? "patch" : "put";
        sql.exec("INSERT INTO __shoal_global_outbox (\"table\", op, row_id, doc) VALUES (?, ?, ?, ?)", table.name(), op, id, "{" + doc + "}");
    }

    /** The value as a JSON literal of what D1 stores: booleans 0/1, JSON columns as their text. */
    private static String literal(Table table, String column, Object value) {
        if (!table.hasColumn(column)) {
            throw ShoalError.validation("table " + table.name() + " has no column " + column);
        }
        Validator type = table.column(column);
        if (value == null) {
            if (!type.acceptsNull() && !type.acceptsAbsent()) {
                throw ShoalError.validation(table.name() + "." + column + ": expected " + type.describe() + ", got null");
            }
            return "null";
        }
        type.checkValue(value, table.name() + "." + column);
        if (value instanceof Boolean b) {
            return b ? "1" : "0";
        }
        if (value instanceof Json j) {
            return JsonText.quote(j.text());
        }
        if (value instanceof Number n) {
            return JsonText.number(n.doubleValue());
        }
        return JsonText.quote(String.valueOf(value));
    }

    /** True when entries wait for their D1 apply. */
    public static boolean pending(Sql sql) {
        return sql.queryLong(0, "SELECT EXISTS (SELECT 1 FROM __shoal_global_outbox)") == 1;
    }

    /**
     * The pending entries as one D1 batch, JSON:
     * {@code {"upTo": n, "statements": [{"sql", "params"}], "changed": {table: [ids]}}}, at most
     * {@code max} entries (upTo 0 when none). Apply the statements in order in one
     * {@code D1Database.batch}, then call {@link #applied} with {@code upTo}.
     */
    public static String batchJson(Sql sql, App app, Json.Parser json, String shard, int max) {
        // Applied entries are keyed by the shard and its log's epoch: a shard whose storage was
        // wiped starts its outbox ids at 1 again, under a new epoch, and must not find them "applied".
        String writer = shard + "@" + dev.shoal.engine.log.ChangeLog.epoch(sql);
        List<String> statements = new ArrayList<>();
        Map<String, List<String>> changed = new LinkedHashMap<>();
        long upTo = 0;
        Rows rows = sql.query("SELECT id, \"table\", op, row_id, doc FROM __shoal_global_outbox ORDER BY id LIMIT ?", max);
        while (rows.next()) {
            long id = rows.getLong(0);
            Table table = app.table(rows.getString(1));
            String op = rows.getString(2);
            String rowId = rows.getString(3);
            Json doc = json.parse(rows.getString(4));
            String guard = "NOT EXISTS (SELECT 1 FROM " + APPLIED + " WHERE shard = ? AND outbox_id = ?)";
            String guardParams = JsonText.quote(writer) + "," + id;
            String q = WhereCompiler.quote(table.name());
            if (op.equals("delete")) {
                statements.add(statement("DELETE FROM " + q + " WHERE id = ? AND " + guard, JsonText.quote(rowId) + "," + guardParams));
            } else {
                List<String> cols = new ArrayList<>();
                String params = "";
                for (String c : doc.keys()) {
                    cols.add(WhereCompiler.quote(c));
                    params += (params.isEmpty() ? "" : ",") + doc.get(c).text();
                }
                if (op.equals("put")) {
                    String sets = "";
                    for (String c : cols) {
                        sets += (sets.isEmpty() ? "" : ", ") + c + " = excluded." + c;
                    }
                    String marks = "?" + ",?".repeat(cols.size() - 1);
                    statements.add(statement("INSERT INTO " + q + " (" + String.join(", ", cols) + ") SELECT " + marks + " WHERE " + guard
                            + (cols.size() > 1 ? " ON CONFLICT (id) DO UPDATE SET " + sets : " ON CONFLICT (id) DO NOTHING"),
                            params + "," + guardParams));
                } else {
                    String sets = "";
                    String setParams = "";
                    for (String c : doc.keys()) {
                        if (!c.equals("id")) {
                            sets += (sets.isEmpty() ? "" : ", ") + WhereCompiler.quote(c) + " = ?";
                            setParams += (setParams.isEmpty() ? "" : ",") + doc.get(c).text();
                        }
                    }
                    statements.add(statement("UPDATE " + q + " SET " + sets + " WHERE id = ? AND " + guard,
                            setParams + "," + JsonText.quote(rowId) + "," + guardParams));
                }
            }
            statements.add(statement("INSERT OR IGNORE INTO " + APPLIED + " (shard, outbox_id, applied_at) VALUES (?, ?, "
                    + "(julianday('now') - 2440587.5) * 86400000.0)", guardParams));
            changed.computeIfAbsent(table.name(), k -> new ArrayList<>()).add(JsonText.quote(rowId));
            upTo = id;
        }
        String changedJson = "";
        for (Map.Entry<String, List<String>> e : changed.entrySet()) {
            changedJson += (changedJson.isEmpty() ? "" : ",") + JsonText.quote(e.getKey()) + ":[" + String.join(",", e.getValue()) + "]";
        }
        return "{\"upTo\":" + upTo + ",\"statements\":[" + String.join(",", statements) + "],\"changed\":{" + changedJson + "}}";
    }

    private static String statement(String sqlText, String paramsJoined) {
        return "{\"sql\":" + JsonText.quote(sqlText) + ",\"params\":[" + paramsJoined + "]}";
    }

    /** The entries up to {@code upTo} are in D1: they leave the outbox. */
    public static void applied(Sql sql, long upTo) {
        sql.exec("DELETE FROM __shoal_global_outbox WHERE id <= ?", upTo);
    }

    /** The D1 schema of the app's global tables, of {@link #APPLIED} and of the change feed ({@link GlobalFeed}), as a JSON array of statements. */
    public static String schemaJson(App app) {
        List<String> out = new ArrayList<>();
        out.add(JsonText.quote("CREATE TABLE IF NOT EXISTS " + APPLIED + " (shard TEXT NOT NULL, outbox_id INTEGER NOT NULL,"
                + " applied_at REAL, PRIMARY KEY (shard, outbox_id))"));
        for (Table t : app.tables()) {
            if (t.isGlobal()) {
                out.add(JsonText.quote(dev.shoal.engine.log.ChangeLog.createTable(t)));
            }
        }
        for (String statement : GlobalFeed.schema(app)) {
            out.add(JsonText.quote(statement));
        }
        return "[" + String.join(",", out) + "]";
    }

    /**
     * Every statement the host runs against D1 but the outbox batches, as JSON: {@code schema}
     * ({@link #schemaJson}), {@code columns} (per global table, {@link #columnsQuery}) and
     * {@code feed} (the poll of the change feed, {@link GlobalFeed#pollSqlJson}).
     */
    public static String d1SqlJson(App app) {
        List<String> columns = new ArrayList<>();
        for (Table t : app.tables()) {
            if (t.isGlobal()) {
                columns.add(JsonText.quote(t.name()) + ":" + JsonText.quote(columnsQuery(app, t.name())));
            }
        }
        return "{\"schema\":" + schemaJson(app) + ",\"columns\":{" + String.join(",", columns) + "},\"feed\":" + GlobalFeed.pollSqlJson() + "}";
    }

    /** The statement that lists the columns D1 holds for global table {@code table} ({@code PRAGMA table_info}). */
    public static String columnsQuery(App app, String table) {
        Table t = app.table(table);
        if (t == null || !t.isGlobal()) {
            throw new IllegalArgumentException("no global table named " + table);
        }
        return "PRAGMA table_info(" + WhereCompiler.quote(t.name()) + ")";
    }

    /**
     * The D1 migration: {@code storedJson} maps each global table to the column names D1 holds
     * for it; the answer is a JSON array of the ALTER TABLE statements that add the columns the app
     * declares and D1 lacks (additive only, as on the shards: nothing is dropped or retyped).
     */
    public static String migrationJson(App app, Json.Parser json, String storedJson) {
        Json stored = json.parse(storedJson);
        List<String> out = new ArrayList<>();
        for (Table t : app.tables()) {
            Json names = t.isGlobal() ? stored.get(t.name()) : null;
            if (names == null || names.size() == 0) {
                continue; // not stored at all: its CREATE TABLE makes it whole
            }
            java.util.Set<String> have = new java.util.HashSet<>();
            for (int i = 0; i < names.size(); i++) {
                have.add(names.at(i).asString());
            }
            for (String statement : dev.shoal.engine.log.ChangeLog.missingColumns(t, have)) {
                out.add(JsonText.quote(statement));
            }
        }
        return "[" + String.join(",", out) + "]";
    }

    /** The names of the app's global tables, as a JSON array. */
    public static String tablesJson(App app) {
        List<String> out = new ArrayList<>();
        for (Table t : app.tables()) {
            if (t.isGlobal()) {
                out.add(JsonText.quote(t.name()));
            }
        }
        return "[" + String.join(",", out) + "]";
    }
}
