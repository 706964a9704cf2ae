package dev.shoal.engine;

import dev.shoal.engine.mutate.Mutator;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.shape.Shape;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An app's definitions: tables, shapes and mutators, checked once at registration. Immutable and
 * safe to keep in a static field (it holds no per-shard state).
 */
public final class App {
    private final Map<String, Table> tables;
    private final Map<String, Shape> shapes;
    private final Map<String, Mutator> mutators;
    private final ShardAccess shardAccess;

    /** Decides whether an identity may use a shard at all; a refusal closes the socket (4003). */
    @FunctionalInterface
    public interface ShardAccess {
        boolean allows(Auth auth, String shard);
    }

    private App(Map<String, Table> tables, Map<String, Shape> shapes, Map<String, Mutator> mutators, ShardAccess shardAccess) {
        this.tables = tables;
        this.shapes = shapes;
        this.mutators = mutators;
        this.shardAccess = shardAccess;
    }

    public boolean allows(Auth auth, String shard) {
        return shardAccess.allows(auth, shard);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Table table(String name) {
        return tables.get(name);
    }

    public Collection<Table> tables() {
        return tables.values();
    }

    /** The tables by name (read-only). */
    public Map<String, Table> tablesByName() {
        return java.util.Collections.unmodifiableMap(tables);
    }

    public Shape shape(String name) {
        return shapes.get(name);
    }

    public Collection<Shape> shapes() {
        return shapes.values();
    }

    public Mutator mutator(String name) {
        return mutators.get(name);
    }

    public Collection<Mutator> mutators() {
        return mutators.values();
    }

    public static final class Builder {
        private final Map<String, Table> tables = new LinkedHashMap<>();
        private final Map<String, Shape> shapes = new LinkedHashMap<>();
        private final Map<String, Mutator> mutators = new LinkedHashMap<>();
        private boolean requireReadPolicies;
        private ShardAccess shardAccess = (auth, shard) -> true;

        /** Every identity may use every shard unless this says otherwise. */
        public Builder shardAccess(ShardAccess access) {
            shardAccess = access;
            return this;
        }

        /** Refuse any table without a read policy (say {@code readPolicy(Where.all())} for a public table). */
        public Builder requireReadPolicies() {
            requireReadPolicies = true;
            return this;
        }

        public Builder table(Table table) {
            if (tables.put(table.name(), table) != null) {
                throw new IllegalArgumentException("table " + table.name() + " registered twice");
            }
            return this;
        }

        public Builder shape(Shape shape) {
            if (shapes.put(shape.name(), shape) != null) {
                throw new IllegalArgumentException("shape " + shape.name() + " registered twice");
            }
            return this;
        }

        public Builder mutator(Mutator mutator) {
            if (mutators.put(mutator.name(), mutator) != null) {
                throw new IllegalArgumentException("mutator " + mutator.name() + " registered twice");
            }
            return this;
        }

        /** @throws IllegalArgumentException naming the first definition that does not hold together */
        public App build() {
            WhereCompiler compiler = new WhereCompiler(tables::get);
            for (Table t : tables.values()) {
                if (requireReadPolicies && t.readPolicy() == null) {
                    throw new IllegalArgumentException("table " + t.name() + " has no read policy, and this app requires one on every table");
                }
                for (Where policy : new Where[] {t.readPolicy(), t.insertPolicy(), t.updatePolicy(), t.deletePolicy()}) {
                    if (policy != null) {
                        // Compiling names every unknown table or column now, not at the first write.
                        compiler.compile(policy, t, WhereCompiler.liveFor("cur", ""), new ArrayList<>());
                    }
                }
            }
            for (Shape s : shapes.values()) {
                Table t = tables.get(s.table());
                if (t == null) {
                    throw new IllegalArgumentException("shape " + s.name() + " is on unknown table " + s.table());
                }
                if (s.predicate() == null) {
                    throw new IllegalArgumentException("shape " + s.name() + " has no where: write Where.all() to sync every row");
                }
                for (String c : s.columns()) {
                    if (!t.hasColumn(c)) {
                        throw new IllegalArgumentException("shape " + s.name() + " projects unknown column " + t.name() + "." + c);
                    }
                }
            }
            for (Mutator m : mutators.values()) {
                if (m.server() == null) {
                    throw new IllegalArgumentException("mutator " + m.name() + " has no server implementation");
                }
            }
            // Shards: cross-shard joins, global tables read inside a shard, shard keys (docs/sharding.md).
            java.util.List<String> sharding = dev.shoal.engine.shard.ShardRules.problems(tables, shapes.values(), mutators.values());
            if (!sharding.isEmpty()) {
                throw new IllegalArgumentException(sharding.get(0));
            }
            return new App(Collections.unmodifiableMap(new LinkedHashMap<>(tables)),
                    Collections.unmodifiableMap(new LinkedHashMap<>(shapes)),
                    Collections.unmodifiableMap(new LinkedHashMap<>(mutators)), shardAccess);
        }
    }
}
