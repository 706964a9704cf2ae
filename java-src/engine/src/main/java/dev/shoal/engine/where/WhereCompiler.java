package dev.shoal.engine.where;

import dev.shoal.engine.schema.Table;
import dev.shoal.protocol.JsonText;
import java.util.List;
import java.util.function.Function;

/**
 * The one WHERE compiler. The same {@link Where} compiles against a live row (a row about to be
 * written is one too: a one-row table of its bound values), a row as it was at an older log
 * position, or for a set of identities at once, by changing only the {@link Scope}: that is what
 * makes "was it visible" and "is it visible" the same predicate. Values are always bound parameters.
 */
public final class WhereCompiler {
    private final Function<String, Table> tables;

    /** @param tables looks up a table of the schema by name, or returns null */
    public WhereCompiler(Function<String, Table> tables) {
        this.tables = tables;
    }

    /** The schema's table named {@code name}, or null. */
    public Table table(String name) {
        return tables.apply(name);
    }

    /** Where a predicate's column references, identity symbol and related tables point. */
    public interface Scope {
        /** SQL for the value of {@code column} of the row being tested. */
        String column(String column, List<Object> params);

        /** SQL for the verified identity, adding any bound value to {@code params}. */
        String me(List<Object> params);

        /** SQL for the rows of a related table ({@code exists}): the table itself, or its past state. */
        default String source(Table related, List<Object> params) {
            return quote(related.name());
        }
    }

    /** The live row under {@code alias}; the identity is {@code meSql} (e.g. a column of an identity set). */
    public static Scope live(String alias, String meSql) {
        return row(alias, params -> meSql, null);
    }

    /** The live row under {@code alias}, for one identity bound as a value (or a {@code Slot}). */
    public static Scope liveFor(String alias, Object identity) {
        return row(alias, params -> {
            params.add(identity);
            return "?";
        }, null);
    }

    /** Columns of the table under {@code alias}; related tables come from {@code outer} when given. */
    private static Scope row(String alias, Function<List<Object>, String> me, Scope outer) {
        return new Scope() {
            @Override
            public String column(String column, List<Object> params) {
                return quote(alias) + "." + quote(column);
            }

            @Override
            public String me(List<Object> params) {
                return me.apply(params);
            }

            @Override
            public String source(Table related, List<Object> params) {
                return outer == null ? quote(related.name()) : outer.source(related, params);
            }
        };
    }

    /**
     * The state of the shard as it was at log position {@code from}: the row's own columns come
     * from {@code columnSql} (which picks the live row or its pre-image), and every related table
     * is its rows unchanged since {@code from} plus the pre-images of the rows changed since.
     * This holds while the log still covers (from, now], which the caller checks. A null
     * {@code from} says no related table changed since the cursor, so they are read live.
     */
    public static Scope past(Function<String, String> columnSql, String meSql, Object from) {
        return new Scope() {
            @Override
            public String column(String column, List<Object> params) {
                return columnSql.apply(column);
            }

            @Override
            public String me(List<Object> params) {
                return meSql;
            }

            @Override
            public String source(Table related, List<Object> params) {
                if (from == null) {
                    // The caller knows no related table changed since the cursor: its past is its present.
                    return quote(related.name());
                }
                String name = related.name();
                String live = "";
                String old = "";
                for (String c : related.columns().keySet()) {
                    live += (live.isEmpty() ? "" : ", ") + quote(c);
                    old += (old.isEmpty() ? "" : ", ") + "json_extract(l.pre, '$." + c + "')";
                }
                params.add(from);
                params.add(from);
                // Rows unchanged since the cursor as they are; each changed row as its first log
                // entry after the cursor found it (its pre-image; none if it did not exist then).
                // Both read the log's seq range only.
                return "(SELECT " + live + " FROM " + quote(name) + " WHERE id NOT IN (SELECT id FROM __cdc_log WHERE +\"table\" = '"
                        + name + "' AND seq > ?) UNION ALL SELECT " + old + " FROM (SELECT min(seq) AS first FROM __cdc_log WHERE +\"table\" = '"
                        + name + "' AND seq > ? GROUP BY id) AS f JOIN __cdc_log AS l ON l.seq = f.first WHERE l.pre IS NOT NULL)";
            }
        };
    }

    /**
     * Compiles {@code where} over rows of {@code table}, appending bound values to {@code params}
     * in the order their {@code ?} appear.
     * @throws IllegalArgumentException for an unknown table or column (a bug in the app's definitions)
     */
    public String compile(Where where, Table table, Scope scope, List<Object> params) {
        return compile(where, table, scope, params, 0);
    }

    private String compile(Where where, Table table, Scope scope, List<Object> params, int depth) {
        if (where instanceof Where.Compare c) {
            String col = column(table, scope, c.column(), params);
            String rhs = c.value() instanceof Where.Operand.Literal lit ? bind(lit.value(), params) : scope.me(params);
            return col + " " + c.op().sql + " " + rhs;
        }
        if (where instanceof Where.In in) {
            if (in.values().isEmpty()) {
                column(table, scope, in.column(), params);
                return in.negated() ? "1" : "0";
            }
            String col = column(table, scope, in.column(), params);
            // One parameter however long the list: the DO allows 100 bound values per statement.
            params.add(jsonArray(in.values()));
            return col + (in.negated() ? " NOT IN" : " IN") + " (SELECT value FROM json_each(?))";
        }
        if (where instanceof Where.IsNull n) {
            return column(table, scope, n.column(), params) + (n.negated() ? " IS NOT NULL" : " IS NULL");
        }
        if (where instanceof Where.Contains c) {
            // instr over lower() needs no LIKE escaping: % and _ in the needle are plain characters.
            String col = column(table, scope, c.column(), params);
            params.add(c.needle());
            return "instr(lower(" + col + "), lower(?)) > 0";
        }
        if (where instanceof Where.And and) {
            return join(and.all(), " AND ", "1", table, scope, params, depth);
        }
        if (where instanceof Where.Or or) {
            return join(or.any(), " OR ", "0", table, scope, params, depth);
        }
        if (where instanceof Where.Not not) {
            // A comparison with NULL is unknown; "not unknown" must still be "no match".
            return "NOT coalesce((" + compile(not.inner(), table, scope, params, depth) + "), 1)";
        }
        if (where instanceof Where.All) {
            return "1";
        }
        Where.Exists ex = (Where.Exists) where;
        Table related = tables.apply(ex.table());
        if (related == null) {
            throw new IllegalArgumentException("exists over unknown table " + ex.table());
        }
        String alias = "r" + depth;
        String source = scope.source(related, params);
        Scope inner = nested(alias, scope);
        String join = column(related, inner, ex.remoteColumn(), params) + " = " + column(table, scope, ex.localColumn(), params);
        return "EXISTS (SELECT 1 FROM " + source + " AS " + quote(alias) + " WHERE " + join
                + " AND (" + compile(ex.where(), related, inner, params, depth + 1) + "))";
    }

    private static Scope nested(String alias, Scope outer) {
        return row(alias, outer::me, outer);
    }

    private String join(List<Where> parts, String op, String empty, Table table, Scope scope, List<Object> params, int depth) {
        if (parts.isEmpty()) {
            return empty;
        }
        String out = "";
        for (Where part : parts) {
            out += (out.isEmpty() ? "(" : op + "(") + compile(part, table, scope, params, depth) + ")";
        }
        return out;
    }

    private static String column(Table table, Scope scope, String column, List<Object> params) {
        if (!table.hasColumn(column)) {
            throw new IllegalArgumentException("table " + table.name() + " has no column " + column);
        }
        return scope.column(column, params);
    }

    private static String bind(Object value, List<Object> params) {
        params.add(value instanceof Boolean b ? (Object) (b ? 1L : 0L) : value instanceof Integer i ? (Object) (long) i : value);
        return "?";
    }

    private static String jsonArray(List<Object> values) {
        String out = "[";
        for (int i = 0; i < values.size(); i++) {
            Object v = values.get(i);
            String item = v == null ? "null" : v instanceof String s ? JsonText.quote(s)
                    : v instanceof Boolean b ? (b ? "1" : "0") : v instanceof Number n ? JsonText.number(n.doubleValue())
                    : JsonText.quote(String.valueOf(v));
            out += (i == 0 ? "" : ",") + item;
        }
        return out + "]";
    }

    /** An SQL identifier in double quotes (names are validated identifiers, so no escaping is needed). */
    public static String quote(String identifier) {
        return "\"" + identifier + "\"";
    }
}
