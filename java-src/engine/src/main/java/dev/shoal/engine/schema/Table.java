package dev.shoal.engine.schema;

import dev.shoal.engine.where.Where;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A synced table: a text primary key {@code id} (chosen by the writer, so an optimistic row and
 * the server's row share it), typed columns, and row-level security. Immutable; each call returns
 * a new table.
 * <pre>
 *   Table.named("messages").column("channelId", V.id("channels")).column("text", V.string().max(4000))
 *       .readPolicy(Where.exists("channelMembers", "channelId", "channelId", Where.eq("userId", Where.me())))
 * </pre>
 * Policies are predicates over the row with the identity as the symbol {@link Where#me()}, never a
 * value baked in per call, so the engine evaluates a read policy for many subscribers in one query.
 * A read policy is AND-composed with every shape on the table; insert and update policies must
 * hold for the row as written (insert: checked before the write against the state it sees; update:
 * for the old row and the new one); a delete policy must hold for the row removed. A missing
 * policy allows everything; {@link dev.shoal.engine.App.Builder#requireReadPolicies()} makes a
 * missing read policy an error.
 */
public final class Table {
    /** Names the engine reserves: its own tables start with this. */
    public static final String RESERVED_PREFIX = "__";

    private final String name;
    private final Map<String, Validator> columns;
    private final Where readPolicy;
    private final Where insertPolicy;
    private final Where updatePolicy;
    private final Where deletePolicy;
    private final List<List<String>> indexes;
    /** The column whose value names the shard a row lives on; null for an unsharded table. */
    private final String shardKey;
    /** A table kept in D1, shared by every shard (docs/sharding.md). */
    private final boolean global;
    /** column -> "table.column", the path messages name it by (built once, not per write). */
    private final Map<String, String> paths = new java.util.HashMap<>();
    /** The columns in declaration order, their validators and paths: the write path walks these, not the map. */
    private final String[] columnNames;
    private final Validator[] validators;
    private final String[] columnPaths;

    private Table(String name, Map<String, Validator> columns, Where readPolicy, Where insertPolicy, Where updatePolicy,
            Where deletePolicy, List<List<String>> indexes) {
        this(name, columns, readPolicy, insertPolicy, updatePolicy, deletePolicy, indexes, null, false);
    }

    private Table(String name, Map<String, Validator> columns, Where readPolicy, Where insertPolicy, Where updatePolicy,
            Where deletePolicy, List<List<String>> indexes, String shardKey, boolean global) {
        this.shardKey = shardKey;
        this.global = global;
        this.name = name;
        this.columns = columns;
        this.readPolicy = readPolicy;
        this.insertPolicy = insertPolicy;
        this.updatePolicy = updatePolicy;
        this.deletePolicy = deletePolicy;
        this.indexes = indexes;
        columnNames = columns.keySet().toArray(new String[0]);
        validators = new Validator[columnNames.length];
        columnPaths = new String[columnNames.length];
        for (int i = 0; i < columnNames.length; i++) {
            validators[i] = columns.get(columnNames[i]);
            columnPaths[i] = name + "." + columnNames[i];
            paths.put(columnNames[i], columnPaths[i]);
        }
    }

    /** "table.column": how messages name a column of this table. */
    public String path(String column) {
        String path = paths.get(column);
        return path != null ? path : name + "." + column;
    }

    private Table(String name, Map<String, Validator> columns) {
        this(name, columns, null, null, null, null, List.of());
    }

    /** Who may see a row: AND-composed with every shape's {@code where} on this table. */
    public Table readPolicy(Where policy) {
        return new Table(name, columns, checked(policy), insertPolicy, updatePolicy, deletePolicy, indexes, shardKey, global);
    }

    public Table insertPolicy(Where policy) {
        return new Table(name, columns, readPolicy, checked(policy), updatePolicy, deletePolicy, indexes, shardKey, global);
    }

    public Table updatePolicy(Where policy) {
        return new Table(name, columns, readPolicy, insertPolicy, checked(policy), deletePolicy, indexes, shardKey, global);
    }

    public Table deletePolicy(Where policy) {
        return new Table(name, columns, readPolicy, insertPolicy, updatePolicy, checked(policy), indexes, shardKey, global);
    }

    /** An index over {@code columns}, for the predicates and relations that read them. */
    public Table index(String... columnNames) {
        for (String c : columnNames) {
            column(c);
        }
        List<List<String>> next = new ArrayList<>(indexes);
        next.add(List.of(columnNames));
        return new Table(name, columns, readPolicy, insertPolicy, updatePolicy, deletePolicy, List.copyOf(next), shardKey, global);
    }

    private Where checked(Where policy) {
        if (policy == null || Where.everythingByAccident(policy)) {
            throw new IllegalArgumentException("a policy of " + name + " matches every row without saying so:"
                    + " write Where.all() if that is meant");
        }
        return policy;
    }

    /**
     * Shards this table by {@code column}: a row lives on the shard named by its value of that
     * column (by its own id for {@code shardBy("id")}). The column is a required string; shapes on
     * the table name the arg that carries the shard ({@link dev.shoal.engine.shape.Shape#shardKey}),
     * and a join to another table must go through both tables' shard keys (docs/sharding.md).
     */
    public Table shardBy(String column) {
        if (global) {
            throw new IllegalArgumentException(name + " is global: a global table lives in D1 and is not sharded");
        }
        if (shardKey != null) {
            throw new IllegalArgumentException(name + " is already sharded by " + shardKey);
        }
        return new Table(name, columns, readPolicy, insertPolicy, updatePolicy, deletePolicy, indexes, column, false);
    }

    /**
     * Keeps this table in D1, shared by every shard: mutators on any shard may write it (through
     * the shard's outbox, applied to D1 once after the commit), and its shapes are served by the
     * shard {@code __global__} (docs/sharding.md).
     */
    public Table global() {
        if (shardKey != null) {
            throw new IllegalArgumentException(name + " is sharded by " + shardKey + ": a global table is not sharded");
        }
        return new Table(name, columns, readPolicy, insertPolicy, updatePolicy, deletePolicy, indexes, null, true);
    }

    /** The column that names a row's shard, or null when the table is not sharded. */
    public String shardKey() {
        return shardKey;
    }

    public boolean isGlobal() {
        return global;
    }

    /** Null when every row is readable. */
    public Where readPolicy() {
        return readPolicy;
    }

    public Where insertPolicy() {
        return insertPolicy;
    }

    public Where updatePolicy() {
        return updatePolicy;
    }

    public Where deletePolicy() {
        return deletePolicy;
    }

    public List<List<String>> indexes() {
        return indexes;
    }

    public static Table named(String name) {
        if (!isIdentifier(name) || name.startsWith(RESERVED_PREFIX)) {
            throw new IllegalArgumentException("table name must match [A-Za-z][A-Za-z0-9_]* and not start with __: " + name);
        }
        Map<String, Validator> cols = new LinkedHashMap<>();
        cols.put("id", V.id(name));
        return new Table(name, Collections.unmodifiableMap(cols));
    }

    /**
     * The type of {@code id}, instead of {@code V.id(table)}: e.g. a longer string for ids composed
     * of other keys. Ids are always text.
     */
    public Table id(Validator type) {
        if (type.columnType() != ColumnType.TEXT || type.acceptsNull() || type.acceptsAbsent()) {
            throw new IllegalArgumentException(name + ".id must be a required string");
        }
        Map<String, Validator> next = new LinkedHashMap<>(columns);
        next.put("id", type);
        return new Table(name, Collections.unmodifiableMap(next), readPolicy, insertPolicy, updatePolicy, deletePolicy, indexes, shardKey, global);
    }

    public Table column(String column, Validator type) {
        if (!isIdentifier(column)) {
            throw new IllegalArgumentException(name + "." + column + ": column names match [A-Za-z][A-Za-z0-9_]*");
        }
        if (columns.containsKey(column)) {
            throw new IllegalArgumentException(name + "." + column + " declared twice (id is implicit)");
        }
        Map<String, Validator> next = new LinkedHashMap<>(columns);
        next.put(column, type);
        return new Table(name, Collections.unmodifiableMap(next), readPolicy, insertPolicy, updatePolicy, deletePolicy, indexes, shardKey, global);
    }

    public String name() {
        return name;
    }

    /** Every column including {@code id}, in declaration order. */
    public Map<String, Validator> columns() {
        return columns;
    }

    /** The number of columns; column {@code i} (declaration order, as {@link #columns()}) is {@link #columnName}(i). */
    public int columnCount() {
        return columnNames.length;
    }

    public String columnName(int i) {
        return columnNames[i];
    }

    public Validator validator(int i) {
        return validators[i];
    }

    /** The position of {@code column} in {@link #columnName}'s order, -1 when the table has none of that name. */
    public int columnIndex(String column) {
        for (int i = 0; i < columnNames.length; i++) {
            if (columnNames[i].equals(column)) {
                return i;
            }
        }
        return -1;
    }

    /** "table.column" of column {@code i}, as {@link #path}. */
    public String columnPath(int i) {
        return columnPaths[i];
    }

    public boolean hasColumn(String column) {
        return columns.containsKey(column);
    }

    public Validator column(String column) {
        Validator v = columns.get(column);
        if (v == null) {
            throw new IllegalArgumentException("table " + name + " has no column " + column);
        }
        return v;
    }

    static boolean isIdentifier(String s) {
        if (s == null || s.isEmpty() || s.length() > 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!(letter || (i > 0 && ((c >= '0' && c <= '9') || c == '_')))) {
                return false;
            }
        }
        return true;
    }
}
