package dev.shoal.engine.shard;

import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.schema.Validator;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What registration refuses about shards (docs/sharding.md): a join whose rows may live on
 * different shards, a global table read inside a shard's transaction, a shape or mutator on a
 * sharded table that does not say which arg names its shard. Each problem is one sentence naming
 * both tables and the fix; {@code App.build()} throws on the first and the advisor lints them all.
 */
public final class ShardRules {
    private ShardRules() {}

    /** Every problem of these definitions, in order; empty when they hold together. */
    public static List<String> problems(Map<String, Table> tables, Collection<Shape> shapes, Collection<Mutator> mutators) {
        List<String> out = new ArrayList<>();
        for (Table t : tables.values()) {
            checkTable(tables, t, out);
        }
        for (Shape s : shapes) {
            checkShape(tables, s, out);
        }
        for (Mutator m : mutators) {
            if (m.shardKey() != null) {
                checkKeyArg("mutator " + m.name(), m.args().fields().get(m.shardKey()), m.shardKey(), out);
            }
        }
        return out;
    }

    /**
     * The problems of one predicate over {@code table}, e.g. a shape's where computed from real
     * args at subscribe (registration checks it with sample args; a where that branches on its
     * args is checked again here).
     */
    public static List<String> joinProblems(Map<String, Table> tables, Table table, Where where, String what) {
        List<String> out = new ArrayList<>();
        walk(tables, table, where, what, out);
        return out;
    }

    private static void checkTable(Map<String, Table> tables, Table t, List<String> out) {
        if (t.shardKey() != null) {
            Validator key = t.hasColumn(t.shardKey()) ? t.column(t.shardKey()) : null;
            if (key == null) {
                out.add("table " + t.name() + " is sharded by " + t.shardKey() + ", which it does not declare: add the column first");
            } else if (key.columnType() != ColumnType.TEXT || key.acceptsNull() || key.acceptsAbsent()) {
                out.add("table " + t.name() + " is sharded by " + t.shardKey() + ", which must be a required string (it names the shard)");
            }
        }
        String[] kinds = {"read", "insert", "update", "delete"};
        Where[] policies = {t.readPolicy(), t.insertPolicy(), t.updatePolicy(), t.deletePolicy()};
        for (int i = 0; i < policies.length; i++) {
            if (policies[i] == null) {
                continue;
            }
            String what = "the " + kinds[i] + " policy of " + t.name();
            walk(tables, t, policies[i], what, out);
            if (t.isGlobal() && i > 0 && !readsOnlyId(policies[i])) {
                out.add(what + " reads more than the row's id: a mutator on a shard cannot read the global row inside its"
                        + " transaction, so a global table's write policies may compare only id (e.g. eq(\"id\", me()) for a user's own row)");
            }
        }
    }

    private static void checkShape(Map<String, Table> tables, Shape s, List<String> out) {
        Table t = tables.get(s.table());
        if (t == null) {
            return; // App.build names the unknown table
        }
        if (t.shardKey() != null && s.shardKey() == null) {
            out.add("shape " + s.name() + " is on " + t.name() + ", which is sharded by " + t.shardKey()
                    + ": declare the arg that names the shard, e.g. .shardKey(\"" + t.shardKey() + "\")");
        } else if (t.shardKey() == null && s.shardKey() != null) {
            out.add("shape " + s.name() + " declares shardKey " + s.shardKey() + ", but " + t.name() + " is "
                    + (t.isGlobal() ? "global (served by " + ShardRouting.GLOBAL + ")" : "not sharded (it lives on " + ShardRouting.ROOT + ")")
                    + ": remove .shardKey(...) or shard the table");
        } else if (s.shardKey() != null) {
            checkKeyArg("shape " + s.name(), s.args().fields().get(s.shardKey()), s.shardKey(), out);
        }
        if (s.predicate() == null) {
            return;
        }
        Where where;
        try {
            where = s.predicate().where(new SampleArgs(s.args()));
        } catch (RuntimeException e) {
            return; // checked with real args at subscribe
        }
        if (where != null) {
            walk(tables, t, where, "shape " + s.name(), out);
        }
    }

    private static void checkKeyArg(String what, Validator arg, String name, List<String> out) {
        if (arg == null) {
            out.add(what + " names shardKey " + name + ", which is not one of its args: add .field(\"" + name + "\", V.id(...))");
        } else if (arg.columnType() != ColumnType.TEXT || arg.acceptsAbsent() || arg.acceptsNull()) {
            out.add(what + " names shardKey " + name + ", which must be a required string arg (it names the shard)");
        }
    }

    /** Every relation in {@code where} read from a row of {@code table} must stay on that row's shard. */
    private static void walk(Map<String, Table> tables, Table table, Where where, String what, List<String> out) {
        if (where instanceof Where.And a) {
            a.all().forEach(w -> walk(tables, table, w, what, out));
        } else if (where instanceof Where.Or o) {
            o.any().forEach(w -> walk(tables, table, w, what, out));
        } else if (where instanceof Where.Not n) {
            walk(tables, table, n.inner(), what, out);
        } else if (where instanceof Where.Exists e) {
            Table other = tables.get(e.table());
            if (other == null) {
                return; // the WHERE compiler names the unknown table
            }
            String problem = joinProblem(table, e.localColumn(), other, e.remoteColumn(), what);
            if (problem != null) {
                out.add(problem);
            }
            walk(tables, other, e.where(), what, out);
        }
    }

    /** Null when a row of {@code a} and the rows of {@code b} it joins always live in the same place. */
    private static String joinProblem(Table a, String aColumn, Table b, String bColumn, String what) {
        String join = a.name() + "." + aColumn + " = " + b.name() + "." + bColumn;
        if (a.isGlobal() != b.isGlobal()) {
            Table global = a.isGlobal() ? a : b;
            Table local = a.isGlobal() ? b : a;
            return what + " joins " + local.name() + " (" + place(local) + ") to global table " + global.name() + " (" + join
                    + "): a global table lives in D1, outside any shard's transaction, so it cannot be read consistently with "
                    + local.name() + ". Denormalize the columns you need into " + local.name() + ", or read " + global.name()
                    + " through its own shape";
        }
        if (a.isGlobal() || (a.shardKey() == null && b.shardKey() == null)) {
            return null;
        }
        if (aColumn.equals(a.shardKey()) && bColumn.equals(b.shardKey())) {
            return null;
        }
        return what + " joins " + a.name() + " (" + place(a) + ") to " + b.name() + " (" + place(b) + ") through " + join
                + ": the rows it joins may live on another shard, so this cross-shard join is refused. Denormalize the columns"
                + " you need into " + a.name() + ", or shard both tables by the same key and join on it";
    }

    private static String place(Table t) {
        return t.isGlobal() ? "global" : t.shardKey() == null ? "unsharded, on " + ShardRouting.ROOT : "sharded by " + t.shardKey();
    }

    private static boolean readsOnlyId(Where w) {
        if (w instanceof Where.Compare c) {
            return c.column().equals("id");
        }
        if (w instanceof Where.In i) {
            return i.column().equals("id");
        }
        if (w instanceof Where.IsNull n) {
            return n.column().equals("id");
        }
        if (w instanceof Where.Contains c) {
            return c.column().equals("id");
        }
        if (w instanceof Where.And a) {
            return a.all().stream().allMatch(ShardRules::readsOnlyId);
        }
        if (w instanceof Where.Or o) {
            return o.any().stream().allMatch(ShardRules::readsOnlyId);
        }
        if (w instanceof Where.Not n) {
            return readsOnlyId(n.inner());
        }
        return w instanceof Where.All;
    }
}
