package dev.shoal.engine.schema;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A synced table: a text primary key {@code id} (chosen by the writer, so an optimistic row and
 * the server's row share it) and typed columns. Immutable; each call returns a new table.
 * <pre>
 *   Table.named("messages").column("channelId", V.id("channels")).column("text", V.string().max(4000))
 * </pre>
 */
public final class Table {
    /** Names the engine reserves: its own tables start with this. */
    public static final String RESERVED_PREFIX = "__";

    private final String name;
    private final Map<String, Validator> columns;

    private Table(String name, Map<String, Validator> columns) {
        this.name = name;
        this.columns = columns;
    }

    public static Table named(String name) {
        if (!isIdentifier(name) || name.startsWith(RESERVED_PREFIX)) {
            throw new IllegalArgumentException("table name must match [A-Za-z][A-Za-z0-9_]* and not start with __: " + name);
        }
        Map<String, Validator> cols = new LinkedHashMap<>();
        cols.put("id", V.id(name));
        return new Table(name, Collections.unmodifiableMap(cols));
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
        return new Table(name, Collections.unmodifiableMap(next));
    }

    public String name() {
        return name;
    }

    /** Every column including {@code id}, in declaration order. */
    public Map<String, Validator> columns() {
        return columns;
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
