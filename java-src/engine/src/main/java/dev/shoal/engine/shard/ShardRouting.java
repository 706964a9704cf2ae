package dev.shoal.engine.shard;

import dev.shoal.engine.App;
import dev.shoal.engine.ShoalError;
import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.shape.Shape;
import dev.shoal.protocol.Json;

/**
 * Where things live: a row of a table sharded by column {@code k} on the shard named by its
 * {@code k}; a row of an unsharded table on {@link #ROOT}; a row of a global table in D1, served
 * by {@link #GLOBAL}. A shape or mutator names its shard through the arg it declares as its shard
 * key, so the engine computes the shard from the args (after they are validated) and refuses work
 * that belongs elsewhere with {@code WRONG_SHARD} naming the right shard. Stateless.
 */
public final class ShardRouting {
    /** The default shard: unsharded tables, and mutators without a shard key. */
    public static final String ROOT = "__root__";
    /** The shard that serves the shapes of global tables (from its mirror of D1). */
    public static final String GLOBAL = "__global__";

    private ShardRouting() {}

    /** The shard of a subscription to {@code shape} with validated {@code args}. */
    public static String shardOf(App app, Shape shape, Json args) {
        Table table = app.table(shape.table());
        if (table.isGlobal()) {
            return GLOBAL;
        }
        return shape.shardKey() == null ? ROOT : keyValue(args, shape.shardKey());
    }

    /** The shard a mutation of {@code mutator} with validated {@code args} runs on. */
    public static String shardOf(Mutator mutator, Json args) {
        return mutator.shardKey() == null ? ROOT : keyValue(args, mutator.shardKey());
    }

    /** The shard a row of {@code table} with shard-key value {@code key} lives on (key ignored unless sharded). */
    public static String shardOfRow(Table table, Object key) {
        if (table.isGlobal()) {
            return GLOBAL;
        }
        return table.shardKey() == null ? ROOT : String.valueOf(key);
    }

    /** Refuses a subscription that belongs on another shard than {@code here}; nothing runs. */
    public static void checkShape(App app, String here, Shape shape, Json args) {
        String right = shardOf(app, shape, args);
        if (!right.equals(here)) {
            throw ShoalError.wrongShard(right, "shape " + shape.name() + (shape.shardKey() == null ? "" : " with " + shape.shardKey()
                    + " " + right) + " is served by shard " + right + ", not " + here + ": subscribe there");
        }
    }

    /** Refuses a mutation that belongs on another shard than {@code here}; its id is consumed. */
    public static void checkMutation(String here, Mutator mutator, Json args) {
        String right = shardOf(mutator, args);
        if (!right.equals(here)) {
            throw ShoalError.wrongShard(right, "mutator " + mutator.name() + (mutator.shardKey() == null ? "" : " with "
                    + mutator.shardKey() + " " + right) + " runs on shard " + right + ", not " + here + ": push it there");
        }
    }

    /**
     * The shard named by the arg {@code name}; a value that cannot name a shard (the wire's shard
     * pattern, and never a name the engine reserves) is BAD_ARGS.
     */
    static String keyValue(Json args, String name) {
        Json v = args == null ? null : args.get(name);
        String s = v != null && v.isString() ? v.asString() : null;
        if (!isShardName(s) || s.startsWith("__")) {
            throw ShoalError.badArgs("args." + name + ": a shard key must be 1..128 chars of [A-Za-z0-9_.:-], not starting with __");
        }
        return s;
    }

    /** 1..128 chars of {@code [A-Za-z0-9_.:-]}, as the wire's {@code shard} parameter. */
    public static boolean isShardName(String s) {
        if (s == null || s.isEmpty() || s.length() > 128) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
                    || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
