package dev.shoal.engine.where;

import dev.shoal.engine.schema.Table;
import dev.shoal.protocol.JsonText;
import java.util.List;
import java.util.function.Function;

/**
 * The one WHERE compiler. The same {@link Where} compiles against a live table row, a row image in
 * the change log, or a set of identities, by changing only the {@link Scope}: that is what makes
 * "was it visible" and "is it visible" the same predicate.
 */
public final class WhereCompiler {
    private final Function<String, Table> tables;

    /** @param tables looks up a table of the schema by name, or returns null */
    public WhereCompiler(Function<String, Table> tables) {
        this.tables = tables;
    }

    /** Where a predicate's column references and identity symbol point. */
    public interface Scope {
        /** SQL for the value of {@code column} of the row being tested. */
        String column(String column);

        /** SQL for the verified identity, adding any bound value to {@code params}. */
        String me(List<Object> params);
    }

    /** Columns of a table alias, e.g. {@code "cur"."channelId"}; the identity is a bound value. */
    public static Scope alias(String alias, String identity) {
        return new Scope() {
            @Override
            public String column(String column) {
                return quote(alias) + "." + quote(column);
            }

            @Override
            public String me(List<Object> params) {
                params.add(identity);
                return "?";
            }
        };
    }

    /** Columns of a JSON row image held in {@code jsonSql} (e.g. the log's pre-image). */
    public static Scope image(String jsonSql, String identity) {
        return new Scope() {
            @Override
            public String column(String column) {
                return "json_extract(" + jsonSql + ", '$." + column + "')";
            }

            @Override
            public String me(List<Object> params) {
                params.add(identity);
                return "?";
            }
        };
    }

    /**
     * Compiles {@code where} over rows of {@code table}, appending bound values to {@code params}.
     * @throws IllegalArgumentException for an unknown table or column (a bug in the app's definitions)
     */
    public String compile(Where where, Table table, Scope scope, List<Object> params) {
        return compile(where, table, scope, params, 0);
    }

    private String compile(Where where, Table table, Scope scope, List<Object> params, int depth) {
        if (where instanceof Where.Compare c) {
            String col = column(table, scope, c.column());
            String rhs = c.value() instanceof Where.Operand.Literal lit ? bind(lit.value(), params) : scope.me(params);
            return col + " " + c.op().sql + " " + rhs;
        }
        if (where instanceof Where.In in) {
            String col = column(table, scope, in.column());
            if (in.values().isEmpty()) {
                return in.negated() ? "1" : "0";
            }
            params.add(jsonArray(in.values()));
            return col + (in.negated() ? " NOT IN" : " IN") + " (SELECT value FROM json_each(?))";
        }
        if (where instanceof Where.IsNull n) {
            return column(table, scope, n.column()) + (n.negated() ? " IS NOT NULL" : " IS NULL");
        }
        if (where instanceof Where.Contains c) {
            // instr over lower() needs no LIKE escaping: % and _ in the needle are plain characters.
            params.add(c.needle());
            return "instr(lower(" + column(table, scope, c.column()) + "), lower(?)) > 0";
        }
        if (where instanceof Where.And and) {
            return join(and.all(), " AND ", "1", table, scope, params, depth);
        }
        if (where instanceof Where.Or or) {
            return join(or.any(), " OR ", "0", table, scope, params, depth);
        }
        if (where instanceof Where.Not not) {
            // NOT over a NULL comparison stays NULL (no match), as SQL says; coalesce keeps "not" two-valued.
            return "NOT coalesce((" + compile(not.inner(), table, scope, params, depth) + "), 0)";
        }
        Where.Exists ex = (Where.Exists) where;
        Table related = tables.apply(ex.table());
        if (related == null) {
            throw new IllegalArgumentException("exists over unknown table " + ex.table());
        }
        String alias = "r" + depth;
        Scope inner = nested(alias, scope);
        String join = column(related, inner, ex.remoteColumn()) + " = " + column(table, scope, ex.localColumn());
        return "EXISTS (SELECT 1 FROM " + quote(related.name()) + " AS " + quote(alias) + " WHERE " + join
                + " AND (" + compile(ex.where(), related, inner, params, depth + 1) + "))";
    }

    private static Scope nested(String alias, Scope outer) {
        return new Scope() {
            @Override
            public String column(String column) {
                return quote(alias) + "." + quote(column);
            }

            @Override
            public String me(List<Object> params) {
                return outer.me(params);
            }
        };
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

    private static String column(Table table, Scope scope, String column) {
        if (!table.hasColumn(column)) {
            throw new IllegalArgumentException("table " + table.name() + " has no column " + column);
        }
        return scope.column(column);
    }

    private static String bind(Object value, List<Object> params) {
        params.add(value instanceof Boolean b ? (Object) (b ? 1L : 0L) : value);
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
