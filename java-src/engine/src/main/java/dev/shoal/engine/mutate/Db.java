package dev.shoal.engine.mutate;

import dev.shoal.engine.ShoalError;
import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.Validator;
import dev.shoal.engine.sql.Prepared;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Slot;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sql.SqlException;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A mutator's writer ({@code ctx.db}). Every write goes to a synced table whose triggers append
 * to {@code __cdc_log} in the same statement, so data and log cannot disagree. The shard runs one
 * write at a time, so an existing id on insert or a missing row on patch is a deterministic
 * {@code CONFLICT}, never a race to retry.
 */
public final class Db {
    private final Sql sql;
    private final Function<String, Table> tables;
    private final WhereCompiler compiler;
    private final String userId;
    private final Map<String, Prepared> prepared;
    private static final Slot ME = new Slot("writer");
    private static final Slot ID = new Slot("row id");

    /**
     * A writer for {@code userId}: the table policies are checked for that identity.
     * {@code prepared} caches statements across mutations (owned by the shard; schema-only keys).
     */
    public Db(Sql sql, Function<String, Table> tables, String userId, Map<String, Prepared> prepared) {
        this.sql = sql;
        this.tables = tables;
        this.compiler = new WhereCompiler(tables);
        this.userId = userId;
        this.prepared = prepared;
    }

    /** The rows of {@code table} matching {@code where} ({@link Where#me()} is the writer), as {@link #get} returns them. */
    public List<Map<String, Object>> query(String tableName, Where where) {
        Table table = table(tableName);
        List<Object> params = new ArrayList<>();
        String predicate = compiler.compile(where, table, WhereCompiler.liveFor("cur", userId), params);
        Rows rows = sql.query("SELECT " + columnList(table) + " FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE "
                + predicate + " ORDER BY cur.id", params.toArray());
        List<Map<String, Object>> out = new ArrayList<>();
        while (rows.next()) {
            out.add(read(table, rows));
        }
        return out;
    }

    /** True when some row of {@code table} matches {@code where}. */
    public boolean exists(String tableName, Where where) {
        Table table = table(tableName);
        List<Object> params = new ArrayList<>();
        String predicate = compiler.compile(where, table, WhereCompiler.liveFor("cur", userId), params);
        return sql.queryLong(0, "SELECT EXISTS (SELECT 1 FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE " + predicate + ")",
                params.toArray()) == 1;
    }

    /** Inserts a new row; {@code row} must hold {@code id} and every non-optional column. */
    public void insert(String tableName, Map<String, Object> row) {
        Table table = table(tableName);
        checkComplete(table, row);
        for (String column : row.keySet()) {
            column(table, column);
        }
        // Every column in schema order, absent ones NULL: one statement per table, and the same
        // values serve the policy check and the write.
        Object[] values = new Object[table.columns().size()];
        int i = 0;
        for (String column : table.columns().keySet()) {
            values[i++] = bindable(table, column, row.get(column));
        }
        if (table.insertPolicy() != null && !insertAllowed(table, values)) {
            throw ShoalError.forbidden("the insert policy of " + table.name() + " refuses this row for " + userId);
        }
        try {
            sql.exec(insertStatement(table), values);
        } catch (SqlException e) {
            if (e.constraint && exists(table, (String) row.get("id"))) {
                throw ShoalError.conflict(table.name() + " " + row.get("id") + " already exists: pick a new id, or patch it");
            }
            throw translate(table, e);
        }
    }

    /** Changes only the given columns of an existing row (concurrent patches of other columns survive). */
    public void patch(String tableName, String id, Map<String, Object> fields) {
        Table table = table(tableName);
        if (fields.containsKey("id")) {
            throw ShoalError.validation(table.name() + ".id cannot be patched");
        }
        if (fields.isEmpty()) {
            throw ShoalError.validation("patch of " + table.name() + " " + id + " names no column");
        }
        update(table, id, fields, "patch");
    }

    /** Replaces every column of an existing row; columns not given become null (and must allow it). */
    public void replace(String tableName, String id, Map<String, Object> row) {
        Table table = table(tableName);
        Map<String, Object> full = new LinkedHashMap<>(row);
        full.put("id", id);
        checkComplete(table, full);
        full.remove("id");
        for (String column : table.columns().keySet()) {
            if (!column.equals("id") && !full.containsKey(column)) {
                full.put(column, null);
            }
        }
        update(table, id, full, "replace");
    }

    public void delete(String tableName, String id) {
        Table table = table(tableName);
        checkExisting(table, table.deletePolicy(), id, "delete");
        Rows rows = sql.query("DELETE FROM " + WhereCompiler.quote(table.name()) + " WHERE id = ? RETURNING id", id);
        if (!rows.next()) {
            throw ShoalError.conflict("delete of " + table.name() + " " + id + ": no such row");
        }
        drain(rows);
    }

    /** The row with this id as column -> value (booleans as Boolean, JSON as Json text), or null. */
    public Map<String, Object> get(String tableName, String id) {
        Table table = table(tableName);
        Rows rows = sql.query("SELECT " + columnList(table) + " FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE id = ?", id);
        if (!rows.next()) {
            return null;
        }
        Map<String, Object> out = read(table, rows);
        drain(rows);
        return out;
    }

    private static String columnList(Table table) {
        List<String> cols = new ArrayList<>();
        for (String c : table.columns().keySet()) {
            cols.add("cur." + WhereCompiler.quote(c));
        }
        return String.join(",", cols);
    }

    private static Map<String, Object> read(Table table, Rows rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Validator> c : table.columns().entrySet()) {
            Object v = rows.get(i++);
            if (v != null && c.getValue().columnType() == ColumnType.BOOLEAN) {
                v = ((Number) v).longValue() != 0;
            }
            out.put(c.getKey(), v);
        }
        return out;
    }

    private void update(Table table, String id, Map<String, Object> fields, String verb) {
        checkExisting(table, table.updatePolicy(), id, verb);
        List<Object> values = new ArrayList<>();
        String sets = "";
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            Validator type = column(table, e.getKey());
            if (e.getValue() == null && !type.acceptsNull() && !type.acceptsAbsent()) {
                throw ShoalError.validation(table.name() + "." + e.getKey() + ": expected " + type.describe() + ", got null");
            }
            values.add(bindable(table, e.getKey(), e.getValue()));
            sets += (sets.isEmpty() ? "" : ", ") + WhereCompiler.quote(e.getKey()) + " = ?";
        }
        values.add(id);
        Rows rows;
        try {
            rows = sql.query("UPDATE " + WhereCompiler.quote(table.name()) + " SET " + sets + " WHERE id = ? RETURNING id", values.toArray());
        } catch (SqlException e) {
            throw translate(table, e);
        }
        if (!rows.next()) {
            throw ShoalError.conflict(verb + " of " + table.name() + " " + id + ": no such row");
        }
        drain(rows);
        if (table.updatePolicy() != null && !rowHolds(table, table.updatePolicy(), id)) {
            throw ShoalError.forbidden("the update policy of " + table.name() + " refuses the updated row " + id + " for " + userId);
        }
    }

    /** A policy on an existing row: a missing row is a CONFLICT, a refused one FORBIDDEN. */
    private void checkExisting(Table table, Where policy, String id, String verb) {
        if (policy == null) {
            return;
        }
        if (!exists(table, id)) {
            throw ShoalError.conflict(verb + " of " + table.name() + " " + id + ": no such row");
        }
        if (!rowHolds(table, policy, id)) {
            throw ShoalError.forbidden("the " + (verb.equals("delete") ? "delete" : "update") + " policy of " + table.name()
                    + " refuses " + verb + " of " + id + " for " + userId);
        }
    }

    private boolean rowHolds(Table table, Where policy, String id) {
        String key = (policy == table.updatePolicy() ? "update " : "delete ") + table.name();
        Prepared check = prepared.computeIfAbsent(key, k -> {
            List<Object> params = new ArrayList<>();
            params.add(ID);
            String predicate = compiler.compile(policy, table, WhereCompiler.liveFor("cur", ME), params);
            return new Prepared("SELECT EXISTS (SELECT 1 FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE cur.id = ? AND ("
                    + predicate + "))", params);
        });
        return first(check.query(sql, ID, id, ME, userId)) == 1;
    }

    /**
     * Evaluates the insert policy over a row that is not written yet, against the state before the
     * write: the row's bound values stand in for the table as a one-row {@code cur}, so the same
     * live-row compilation serves as for rows already stored.
     */
    private boolean insertAllowed(Table table, Object[] values) {
        Prepared check = prepared.computeIfAbsent("insert " + table.name(), k -> {
            String row = "";
            for (String column : table.columns().keySet()) {
                row += (row.isEmpty() ? "" : ", ") + "? AS " + WhereCompiler.quote(column);
            }
            List<Object> params = new ArrayList<>();
            String predicate = compiler.compile(table.insertPolicy(), table, WhereCompiler.liveFor("cur", ME), params);
            return new Prepared("WITH cur AS (SELECT " + row + ") SELECT coalesce((" + predicate + "), 0) FROM cur", params);
        });
        Object[] policyParams = Slot.bind(check.params(), ME, userId);
        Object[] args = new Object[values.length + policyParams.length];
        System.arraycopy(values, 0, args, 0, values.length);
        System.arraycopy(policyParams, 0, args, values.length, policyParams.length);
        return first(sql.query(check.sql(), args)) == 1;
    }

    private static long first(Rows rows) {
        return rows.next() && !rows.isNull(0) ? rows.getLong(0) : 0;
    }

    /** The INSERT of every column of this table, in schema order. */
    private String insertStatement(Table table) {
        return prepared.computeIfAbsent("insert-into " + table.name(), k -> {
            List<String> names = new ArrayList<>();
            String marks = "";
            for (String c : table.columns().keySet()) {
                names.add(WhereCompiler.quote(c));
                marks += marks.isEmpty() ? "?" : ",?";
            }
            return new Prepared("INSERT INTO " + WhereCompiler.quote(table.name()) + " (" + String.join(",", names) + ") VALUES ("
                    + marks + ")", List.of());
        }).sql();
    }

    private static void checkComplete(Table table, Map<String, Object> row) {
        for (Map.Entry<String, Validator> c : table.columns().entrySet()) {
            Object v = row.get(c.getKey());
            if (v == null && !c.getValue().acceptsNull() && !c.getValue().acceptsAbsent()) {
                throw ShoalError.validation(table.name() + "." + c.getKey() + ": missing, expected " + c.getValue().describe());
            }
        }
    }

    private static Object bindable(Table table, String column, Object value) {
        Validator type = column(table, column);
        if (value == null) {
            return null;
        }
        type.checkValue(value, table.name() + "." + column);
        if (value instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (value instanceof Json j) {
            return j.text();
        }
        if (value instanceof Integer i) {
            return (long) i;
        }
        return value;
    }

    private static Validator column(Table table, String column) {
        if (!table.hasColumn(column)) {
            throw ShoalError.validation("table " + table.name() + " has no column " + column);
        }
        return table.column(column);
    }

    private boolean exists(Table table, String id) {
        return sql.queryLong(0, "SELECT 1 FROM " + WhereCompiler.quote(table.name()) + " WHERE id = ?", id) == 1;
    }

    private static RuntimeException translate(Table table, SqlException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (m.contains("SHOAL_ROW_TOO_LARGE")) {
            return ShoalError.validation("a row of " + table.name() + " would exceed the row size limit");
        }
        if (e.constraint) {
            return ShoalError.conflict(table.name() + ": " + m);
        }
        return e;
    }

    private Table table(String name) {
        Table t = tables.apply(name);
        if (t == null) {
            throw ShoalError.validation("no table named " + name);
        }
        return t;
    }

    private static void drain(Rows rows) {
        while (rows.next()) {
            // RETURNING statements complete only when read to the end
        }
    }
}
