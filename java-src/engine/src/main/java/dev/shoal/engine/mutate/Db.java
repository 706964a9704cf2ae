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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A mutator's writer ({@code ctx.db}). Every write goes to a synced table whose triggers append
 * to {@code __cdc_log} in the same statement, so data and log cannot disagree. The shard runs one
 * write at a time, so an existing id on insert or a missing row on patch is a deterministic
 * {@code CONFLICT}, never a race to retry.
 *
 * <p>Contracts: a writer learns nothing about a row its read policy hides. A patch, replace or
 * delete of such a row answers exactly as for a missing row, and an insert of a taken id answers
 * the same whether the row is readable or not. A write that a policy refuses is never made, and
 * the refusal fails the whole mutation even if the mutator's code catches it ({@link
 * #rethrowPolicyFailure}). {@link #get}, {@link #query} and {@link #exists} read every row, as
 * the server's own code may; {@link #readable()} reads only what the writer may read.
 */
public final class Db {
    private final Sql sql;
    private final Function<String, Table> tables;
    private final WhereCompiler compiler;
    private final String userId;
    private final Statements statements;
    private WritePlacement placement = WritePlacement.LOCAL;
    private Inserts inserts = (table, values) -> {};
    private static final Slot ME = new Slot("writer");
    private static final Slot ID = new Slot("row id");
    /** The first policy refusal of this mutation: it fails the mutation whatever the code does next. */
    private ShoalError policyFailure;

    /**
     * A writer for {@code userId}: the table policies are checked for that identity.
     * {@code statements} caches statements across mutations (owned by the shard).
     */
    public Db(Sql sql, Function<String, Table> tables, String userId, Statements statements) {
        this.sql = sql;
        this.tables = tables;
        this.compiler = new WhereCompiler(tables);
        this.userId = userId;
        this.statements = statements;
    }

    /**
     * The write path's statements, built once per (kind, table): their text depends on the schema
     * only. Looked up by a constant kind and the table's identity, so that no key string is built
     * per write (TeaVM's string building is slow).
     */
    public static final class Statements {
        private final Map<String, Map<Table, Prepared>> byKind = new HashMap<>();

        Prepared get(String kind, Table table, Function<Table, Prepared> build) {
            return byKind.computeIfAbsent(kind, k -> new HashMap<>()).computeIfAbsent(table, build);
        }
    }

    /** Told of each row this writer inserted into the shard's own tables, once the statement succeeded. */
    public interface Inserts {
        /** {@code values}: the row's columns in the table's order, as bound (not to be changed). */
        void inserted(Table table, Object[] values);
    }

    /** Tells {@code inserts} of every row inserted here (the shard's poke round, see {@code ViewIndex}). */
    public Db inserts(Inserts inserts) {
        this.inserts = inserts;
        return this;
    }

    /** Asks {@code placement} before every read and write (the shard's routing and global outbox). */
    public Db placement(WritePlacement placement) {
        this.placement = placement;
        return this;
    }

    /**
     * The rows of {@code table} matching {@code where} ({@link Where#me()} is the writer), as {@link
     * #get} returns them. Read policies do not apply: use {@link #readable()} to see only what the
     * writer may read.
     */
    public List<Map<String, Object>> query(String tableName, Where where) {
        return query(table(tableName), where);
    }

    private List<Map<String, Object>> query(Table table, Where where) {
        placement.checkRead(table);
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

    /** True when some row of {@code table} matches {@code where}, readable by the writer or not (see {@link #readable()}). */
    public boolean exists(String tableName, Where where) {
        return exists(table(tableName), where);
    }

    private boolean exists(Table table, Where where) {
        placement.checkRead(table);
        List<Object> params = new ArrayList<>();
        String predicate = compiler.compile(where, table, WhereCompiler.liveFor("cur", userId), params);
        return sql.queryLong(0, "SELECT EXISTS (SELECT 1 FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE " + predicate + ")",
                params.toArray()) == 1;
    }

    /** Inserts a new row; {@code row} must hold {@code id} and every non-optional column. */
    public void insert(String tableName, Map<String, Object> row) {
        Table table = table(tableName);
        checkComplete(table, row);
        checkColumns(table, row);
        if (placement.divert("insert", table, (String) row.get("id"), row)) {
            return;
        }
        // Every column in schema order, absent ones NULL: one statement per table.
        Object[] values = new Object[table.columnCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = bindable(table.validator(i), table.columnPath(i), row.get(table.columnName(i)));
        }
        try {
            if (table.insertPolicy() == null) {
                sql.exec(insertStatement(table).sql(), values);
            } else if (!insertIfAllowed(table, values)) {
                throw refused("the insert policy of " + table.name() + " refuses this row for " + userId);
            }
        } catch (SqlException e) {
            if (e.constraint && exists(table, (String) row.get("id"))) {
                // The same words whether the writer can read the row or not.
                throw ShoalError.conflict("insert of " + table.name() + " " + row.get("id") + ": this id cannot be used: pick a new one");
            }
            throw translate(table, e);
        }
        inserts.inserted(table, values);
    }

    /**
     * Inserts the row only if the insert policy holds for it, in one statement; false when the
     * policy refuses. The policy is evaluated first, against the state before the write, with the
     * row's values standing in for the table as a one-row {@code cur} (as {@link #newRowHolds}):
     * so the answer is the same whether the id is taken or not, and only a row the policy allows
     * can meet the id's uniqueness constraint.
     */
    private boolean insertIfAllowed(Table table, Object[] values) {
        Prepared insert = statements.get("insert if allowed", table, t -> {
            List<Object> params = new ArrayList<>();
            String predicate = compiler.compile(t.insertPolicy(), t, WhereCompiler.liveFor("cur", ME), params);
            String columns = quotedColumns(t);
            return new Prepared(newRowCte(t) + " INSERT INTO " + WhereCompiler.quote(t.name()) + " (" + columns + ") SELECT " + columns
                    + " FROM cur WHERE coalesce((" + predicate + "), 0)", params);
        });
        return sql.write(insert.sql(), withPolicyParams(values, insert)) > 0;
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
        if (!placement.divert("patch", table, id, fields)) {
            update(table, id, fields, "patch");
        }
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
        if (!placement.divert("replace", table, id, full)) {
            update(table, id, full, "replace");
        }
    }

    /** Deletes a row the writer can read; a missing or unreadable row is the same {@code CONFLICT}. */
    public void delete(String tableName, String id) {
        Table table = table(tableName);
        if (placement.divert("delete", table, id, Map.of())) {
            return;
        }
        if ((table.readPolicy() != null || table.deletePolicy() != null) && storedIfReadable(table, id) == null) {
            throw notFound(table, id, "delete");
        }
        if (table.deletePolicy() != null && !rowHolds(table, table.deletePolicy(), id)) {
            throw refused("the delete policy of " + table.name() + " refuses delete of " + id + " for " + userId);
        }
        if (sql.write("DELETE FROM " + WhereCompiler.quote(table.name()) + " WHERE id = ?", id) == 0) {
            throw notFound(table, id, "delete");
        }
    }

    /**
     * The row with this id as column -> value (booleans as Boolean, JSON as Json text), or null.
     * Read policies do not apply: use {@link #readable()} to see only what the writer may read.
     */
    public Map<String, Object> get(String tableName, String id) {
        Table table = table(tableName);
        placement.checkRead(table);
        Rows rows = sql.query("SELECT " + columnList(table) + " FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE id = ?", id);
        if (!rows.next()) {
            return null;
        }
        Map<String, Object> out = read(table, rows);
        drain(rows);
        return out;
    }

    /**
     * Reads that apply the tables' read policies for the writer, as a subscription of theirs would:
     * what a mutator may pass on to the client (in an error message, say) without leaking rows.
     */
    public Readable readable() {
        return new Readable();
    }

    /** {@link Db}'s reads, limited to the rows the writer's read policies let them see. */
    public final class Readable {
        private Readable() {}

        /** The row with this id if the writer may read it, else null (a missing row is null too). */
        public Map<String, Object> get(String tableName, String id) {
            Table table = table(tableName);
            Object[] stored = storedIfReadable(table, id);
            return stored == null ? null : typed(table, stored);
        }

        /** The rows matching {@code where} that the writer may read, ordered by id. */
        public List<Map<String, Object>> query(String tableName, Where where) {
            Table table = table(tableName);
            return Db.this.query(table, withReadPolicy(table, where));
        }

        /** True when some row the writer may read matches {@code where}. */
        public boolean exists(String tableName, Where where) {
            Table table = table(tableName);
            return Db.this.exists(table, withReadPolicy(table, where));
        }
    }

    private static Where withReadPolicy(Table table, Where where) {
        return table.readPolicy() == null ? where : Where.and(where, table.readPolicy());
    }

    /**
     * Throws the first policy refusal of this mutation, if there was one. The shard calls it after
     * the mutator's code returns, so a refusal the code caught still rolls the mutation back.
     */
    void rethrowPolicyFailure() {
        if (policyFailure != null) {
            throw policyFailure;
        }
    }

    private ShoalError refused(String message) {
        ShoalError e = ShoalError.forbidden(message);
        if (policyFailure == null) {
            policyFailure = e;
        }
        return e;
    }

    /** The one answer for a row that is missing or hidden from the writer: the two look alike. */
    private static ShoalError notFound(Table table, String id, String verb) {
        return ShoalError.conflict(verb + " of " + table.name() + " " + id + ": no such row among those you can read");
    }

    private static String columnList(Table table) {
        List<String> cols = new ArrayList<>();
        for (String c : table.columns().keySet()) {
            cols.add("cur." + WhereCompiler.quote(c));
        }
        return String.join(",", cols);
    }

    private static Map<String, Object> read(Table table, Rows rows) {
        return typed(table, stored(table, rows));
    }

    /** The current row's values as SQLite holds them, in schema order. */
    private static Object[] stored(Table table, Rows rows) {
        Object[] values = new Object[table.columns().size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = rows.get(i);
        }
        return values;
    }

    /** Stored values as {@link #get} returns them (booleans as Boolean). */
    private static Map<String, Object> typed(Table table, Object[] values) {
        Map<String, Object> out = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Validator> c : table.columns().entrySet()) {
            Object v = values[i++];
            if (v != null && c.getValue().columnType() == ColumnType.BOOLEAN) {
                v = ((Number) v).longValue() != 0;
            }
            out.put(c.getKey(), v);
        }
        return out;
    }

    /** The stored values of row {@code id} if it exists and the writer's read policy shows it, else null. */
    private Object[] storedIfReadable(Table table, String id) {
        Prepared read = statements.get("readable", table, k -> {
            List<Object> params = new ArrayList<>();
            params.add(ID);
            String text = "SELECT " + columnList(table) + " FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE cur.id = ?";
            if (table.readPolicy() != null) {
                text += " AND (" + compiler.compile(table.readPolicy(), table, WhereCompiler.liveFor("cur", ME), params) + ")";
            }
            return new Prepared(text, params);
        });
        Rows rows = read.query(sql, ID, id, ME, userId);
        if (!rows.next()) {
            return null;
        }
        Object[] values = stored(table, rows);
        drain(rows);
        return values;
    }

    /**
     * A patch or replace: the row must be readable (else the same CONFLICT as a missing row), the
     * update policy must hold for the old row and for the new one, checked before anything is
     * written; a policy that reads its own table is checked again after the write, against the
     * state the write made.
     */
    private void update(Table table, String id, Map<String, Object> fields, String verb) {
        Where policy = table.updatePolicy();
        Object[] next = null;
        if (table.readPolicy() != null || policy != null) {
            next = storedIfReadable(table, id);
            if (next == null) {
                throw notFound(table, id, verb);
            }
            if (policy != null && !rowHolds(table, policy, id)) {
                throw refused("the update policy of " + table.name() + " refuses " + verb + " of " + id + " for " + userId);
            }
        }
        List<String> names = new ArrayList<>(table.columns().keySet());
        List<Object> values = new ArrayList<>();
        String sets = "";
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            Validator type = column(table, e.getKey());
            if (e.getValue() == null && !type.acceptsNull() && !type.acceptsAbsent()) {
                throw ShoalError.validation(table.name() + "." + e.getKey() + ": expected " + type.describe() + ", got null");
            }
            Object value = bindable(table, e.getKey(), e.getValue());
            values.add(value);
            if (next != null) {
                next[names.indexOf(e.getKey())] = value;
            }
            sets += (sets.isEmpty() ? "" : ", ") + WhereCompiler.quote(e.getKey()) + " = ?";
        }
        if (policy != null && !newRowHolds(table, policy, next)) {
            throw refused("the update policy of " + table.name() + " refuses the updated row " + id + " for " + userId);
        }
        values.add(id);
        long written;
        try {
            written = sql.write("UPDATE " + WhereCompiler.quote(table.name()) + " SET " + sets + " WHERE id = ?", values.toArray());
        } catch (SqlException e) {
            throw translate(table, e);
        }
        if (written == 0) {
            throw notFound(table, id, verb);
        }
        if (policy != null && reads(policy, table.name()) && !rowHolds(table, policy, id)) {
            throw refused("the update policy of " + table.name() + " refuses the updated row " + id + " for " + userId);
        }
    }

    /** True when {@code where} looks at rows of {@code tableName} through an {@code exists}. */
    private static boolean reads(Where where, String tableName) {
        if (where instanceof Where.Exists e) {
            return e.table().equals(tableName) || reads(e.where(), tableName);
        }
        if (where instanceof Where.And a) {
            return a.all().stream().anyMatch(w -> reads(w, tableName));
        }
        if (where instanceof Where.Or o) {
            return o.any().stream().anyMatch(w -> reads(w, tableName));
        }
        return where instanceof Where.Not n && reads(n.inner(), tableName);
    }

    private boolean rowHolds(Table table, Where policy, String id) {
        Prepared check = statements.get(policy == table.updatePolicy() ? "update policy" : "delete policy", table, k -> {
            List<Object> params = new ArrayList<>();
            params.add(ID);
            String predicate = compiler.compile(policy, table, WhereCompiler.liveFor("cur", ME), params);
            return new Prepared("SELECT EXISTS (SELECT 1 FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE cur.id = ? AND ("
                    + predicate + "))", params);
        });
        return first(check.query(sql, ID, id, ME, userId)) == 1;
    }

    /**
     * Evaluates an update policy over a row that is not written yet, against the state
     * before the write: the row's bound values (every column, in schema order) stand in for the
     * table as a one-row {@code cur}, so the same live-row compilation serves as for stored rows.
     */
    private boolean newRowHolds(Table table, Where policy, Object[] values) {
        Prepared check = statements.get("new row update", table, k -> {
            List<Object> params = new ArrayList<>();
            String predicate = compiler.compile(policy, table, WhereCompiler.liveFor("cur", ME), params);
            return new Prepared(newRowCte(table) + " SELECT coalesce((" + predicate + "), 0) FROM cur", params);
        });
        return first(sql.query(check.sql(), withPolicyParams(values, check))) == 1;
    }

    /** {@code WITH cur AS (SELECT ? AS "a", ...)}: a one-row table of the bound values, every column in schema order. */
    private static String newRowCte(Table table) {
        String row = "";
        for (String column : table.columns().keySet()) {
            row += (row.isEmpty() ? "" : ", ") + "? AS " + WhereCompiler.quote(column);
        }
        return "WITH cur AS (SELECT " + row + ")";
    }

    /** The row's values, then {@code statement}'s own parameters with the writer bound. */
    private Object[] withPolicyParams(Object[] values, Prepared statement) {
        Object[] policyParams = Slot.bind(statement.params(), ME, userId);
        Object[] args = new Object[values.length + policyParams.length];
        System.arraycopy(values, 0, args, 0, values.length);
        System.arraycopy(policyParams, 0, args, values.length, policyParams.length);
        return args;
    }

    private static long first(Rows rows) {
        return rows.next() && !rows.isNull(0) ? rows.getLong(0) : 0;
    }

    /** The INSERT of every column of this table, in schema order. */
    private Prepared insertStatement(Table table) {
        return statements.get("insert", table, t -> {
            String marks = "";
            for (int i = 0; i < t.columns().size(); i++) {
                marks += marks.isEmpty() ? "?" : ",?";
            }
            return new Prepared("INSERT INTO " + WhereCompiler.quote(t.name()) + " (" + quotedColumns(t) + ") VALUES (" + marks + ")",
                    List.of());
        });
    }

    /** The table's columns in schema order, quoted, separated by commas. */
    private static String quotedColumns(Table table) {
        List<String> names = new ArrayList<>();
        for (String c : table.columns().keySet()) {
            names.add(WhereCompiler.quote(c));
        }
        return String.join(",", names);
    }

    private static void checkComplete(Table table, Map<String, Object> row) {
        for (int i = 0; i < table.columnCount(); i++) {
            Validator type = table.validator(i);
            if (row.get(table.columnName(i)) == null && !type.acceptsNull() && !type.acceptsAbsent()) {
                throw ShoalError.validation(table.columnPath(i) + ": missing, expected " + type.describe());
            }
        }
    }

    /** Every key of {@code row} is a column of {@code table} (counted, without walking the row). */
    private static void checkColumns(Table table, Map<String, Object> row) {
        int known = 0;
        for (int i = 0; i < table.columnCount(); i++) {
            if (row.containsKey(table.columnName(i))) {
                known++;
            }
        }
        if (known != row.size()) {
            for (String column : row.keySet()) {
                column(table, column);
            }
        }
    }

    private static Object bindable(Table table, String column, Object value) {
        return bindable(column(table, column), table.path(column), value);
    }

    /** {@code value} checked against the column's type ({@code path} names it), as SQLite binds it. */
    private static Object bindable(Validator type, String path, Object value) {
        if (value == null) {
            return null;
        }
        type.checkValue(value, path);
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
