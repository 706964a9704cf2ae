package dev.shoal.engine.shard;

import dev.shoal.engine.ShoalError;
import dev.shoal.engine.mutate.WritePlacement;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import java.util.Map;

/**
 * A mutator's reads and writes on shard {@code here}: a row of a sharded table must carry this
 * shard's key, an unsharded table is written only on {@link ShardRouting#ROOT}, and a write of a
 * global table goes to this shard's outbox, in the mutation's own transaction
 * ({@link GlobalOutbox}). Reading a global table, or a table of another shard, inside a mutation
 * is a bug in the app: its rows are not here.
 */
public final class ShardWrites implements WritePlacement {
    private final Sql sql;
    private final String here;
    private final String userId;

    public ShardWrites(Sql sql, String here, String userId) {
        this.sql = sql;
        this.here = here;
        this.userId = userId;
    }

    @Override
    public boolean divert(String verb, Table table, String id, Map<String, Object> values) {
        if (table.isGlobal()) {
            GlobalOutbox.record(sql, verb, table, id, values, userId);
            return true;
        }
        String key = table.shardKey();
        if (key == null) {
            if (!here.equals(ShardRouting.ROOT)) {
                throw ShoalError.wrongShard(ShardRouting.ROOT, verb + " of " + table.name() + " " + id + ": " + table.name()
                        + " is not sharded, so its rows live on " + ShardRouting.ROOT + ", not on " + here);
            }
            return false;
        }
        Object value = key.equals("id") ? id : values.get(key);
        if (value != null && !value.equals(here) || value == null && (verb.equals("insert") || verb.equals("replace"))) {
            String right = value == null ? "(none)" : String.valueOf(value);
            throw ShoalError.wrongShard(right, verb + " of " + table.name() + " " + id + " with " + key + " " + right
                    + ": that row lives on shard " + right + ", not on " + here + "; a mutation writes only rows of its own shard"
                    + " (a row never moves between shards)");
        }
        return false;
    }

    @Override
    public void checkRead(Table table) {
        if (table.isGlobal()) {
            throw new IllegalStateException("global table " + table.name() + " cannot be read inside a mutation on shard " + here
                    + ": it lives in D1, outside the shard's transaction; read it through its shape on the client");
        }
        if (table.shardKey() == null && !here.equals(ShardRouting.ROOT)) {
            throw new IllegalStateException(table.name() + " is not sharded, so its rows live on " + ShardRouting.ROOT
                    + ", not on " + here + ": a mutation on " + here + " cannot read it");
        }
    }

    /** A global table's write policy (it reads only id, App.build checks) on the row {@code id}, for {@code me}. */
    static boolean holds(Where w, String id, String me) {
        if (w instanceof Where.All) {
            return true;
        }
        if (w instanceof Where.Compare c) {
            Object v = c.value() instanceof Where.Operand.Literal l ? l.value() : me;
            int cmp = id.compareTo(String.valueOf(v));
            return switch (c.op()) {
                case EQ -> cmp == 0;
                case NE -> cmp != 0;
                case LT -> cmp < 0;
                case LTE -> cmp <= 0;
                case GT -> cmp > 0;
                case GTE -> cmp >= 0;
            };
        }
        if (w instanceof Where.In in) {
            boolean found = in.values().stream().anyMatch(v -> id.equals(String.valueOf(v)));
            return found != in.negated();
        }
        if (w instanceof Where.IsNull n) {
            return n.negated();
        }
        if (w instanceof Where.Contains c) {
            return id.toLowerCase().contains(c.needle().toLowerCase());
        }
        if (w instanceof Where.And a) {
            return a.all().stream().allMatch(x -> holds(x, id, me));
        }
        if (w instanceof Where.Or o) {
            return o.any().stream().anyMatch(x -> holds(x, id, me));
        }
        if (w instanceof Where.Not n) {
            return !holds(n.inner(), id, me);
        }
        throw new IllegalStateException("a global table's write policy may compare only id, got " + w);
    }
}
