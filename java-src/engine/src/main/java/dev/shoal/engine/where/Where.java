package dev.shoal.engine.where;

import java.util.List;

/**
 * A row predicate: the one language of shapes, read policies and write checks, compiled to SQL by
 * {@link WhereCompiler}. Values are always bound parameters. Comparisons follow SQL: a NULL column
 * matches no comparison (use {@link #isNull}). Build with the static factories:
 * <pre>
 *   Where.and(Where.eq("channelId", channelId), Where.exists("channelMembers", "channelId", "channelId",
 *             Where.eq("userId", Where.me())))
 * </pre>
 */
public sealed interface Where {

    enum Op {
        EQ("="), NE("<>"), LT("<"), LTE("<="), GT(">"), GTE(">=");

        final String sql;

        Op(String sql) {
            this.sql = sql;
        }
    }

    /** The right-hand side of a comparison: a literal or the verified identity. */
    sealed interface Operand {
        record Literal(Object value) implements Operand {}

        /** The subscriber's (or writer's) verified user id: a symbol, bound per identity at evaluation. */
        record Me() implements Operand {}
    }

    record Compare(String column, Op op, Operand value) implements Where {}

    record In(String column, boolean negated, List<Object> values) implements Where {}

    record IsNull(String column, boolean negated) implements Where {}

    /** Case-insensitive (ASCII) substring match. */
    record Contains(String column, String needle) implements Where {}

    record And(List<Where> all) implements Where {}

    record Or(List<Where> any) implements Where {}

    record Not(Where inner) implements Where {}

    /** A row of {@code table} exists whose {@code remoteColumn} equals this row's {@code localColumn} and that matches {@code where}. */
    record Exists(String table, String localColumn, String remoteColumn, Where where) implements Where {}

    /** Every row, said on purpose (an empty {@code and} says it too, but may be an accident). */
    record All() implements Where {}

    static Operand me() {
        return new Operand.Me();
    }

    static Where eq(String column, Object value) {
        return compare(column, Op.EQ, value);
    }

    static Where ne(String column, Object value) {
        return compare(column, Op.NE, value);
    }

    static Where lt(String column, Object value) {
        return compare(column, Op.LT, value);
    }

    static Where lte(String column, Object value) {
        return compare(column, Op.LTE, value);
    }

    static Where gt(String column, Object value) {
        return compare(column, Op.GT, value);
    }

    static Where gte(String column, Object value) {
        return compare(column, Op.GTE, value);
    }

    static Where in(String column, List<?> values) {
        return new In(column, false, List.copyOf(values));
    }

    static Where notIn(String column, List<?> values) {
        return new In(column, true, List.copyOf(values));
    }

    static Where isNull(String column) {
        return new IsNull(column, false);
    }

    static Where isNotNull(String column) {
        return new IsNull(column, true);
    }

    static Where contains(String column, String needle) {
        if (needle == null) {
            throw new IllegalArgumentException("contains(" + column + ", null): the needle must be a string");
        }
        return new Contains(column, needle);
    }

    /** All of {@code parts}; an empty {@code and} matches every row. */
    static Where and(Where... parts) {
        return new And(List.of(parts));
    }

    /** Any of {@code parts}; an empty {@code or} matches no row. */
    static Where or(Where... parts) {
        return new Or(List.of(parts));
    }

    static Where not(Where inner) {
        return new Not(inner);
    }

    static Where exists(String table, String localColumn, String remoteColumn, Where where) {
        return new Exists(table, localColumn, remoteColumn, where);
    }

    /** Matches every row: say so explicitly where a shape really means "all rows". */
    static Where all() {
        return new All();
    }

    /**
     * True when {@code where} matches every row without saying so with {@link #all()}: an empty
     * {@code and}, {@code not(or())}, an {@code or} with such a branch. Registration and subscribe
     * refuse such predicates, since a policy or shape that forgot its condition would leak a table.
     */
    static boolean everythingByAccident(Where where) {
        return trivially(where, true);
    }

    private static boolean trivially(Where w, boolean value) {
        if (w instanceof And a) {
            return value ? a.all().stream().allMatch(x -> trivially(x, true)) : a.all().stream().anyMatch(x -> trivially(x, false));
        }
        if (w instanceof Or o) {
            return value ? o.any().stream().anyMatch(x -> trivially(x, true)) : o.any().stream().allMatch(x -> trivially(x, false));
        }
        if (w instanceof Not n) {
            return trivially(n.inner(), !value);
        }
        return false;
    }

    /** True when the predicate reads the identity symbol {@link #me()} anywhere. */
    static boolean readsMe(Where w) {
        if (w instanceof Compare c) {
            return c.value() instanceof Operand.Me;
        }
        if (w instanceof And a) {
            return a.all().stream().anyMatch(Where::readsMe);
        }
        if (w instanceof Or o) {
            return o.any().stream().anyMatch(Where::readsMe);
        }
        if (w instanceof Not n) {
            return readsMe(n.inner());
        }
        if (w instanceof Exists e) {
            return readsMe(e.where());
        }
        return false;
    }

    private static Where compare(String column, Op op, Object value) {
        if (value == null) {
            throw new IllegalArgumentException(column + " " + op + " null never matches in SQL: use isNull/isNotNull");
        }
        Operand operand = value instanceof Operand o ? o : new Operand.Literal(value);
        return new Compare(column, op, operand);
    }
}
