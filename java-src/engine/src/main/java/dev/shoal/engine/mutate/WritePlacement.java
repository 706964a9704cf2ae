package dev.shoal.engine.mutate;

import dev.shoal.engine.schema.Table;
import java.util.Map;

/**
 * Where a mutator's reads and writes may go, asked by {@link Db} before each one: the shard
 * engine refuses a row that lives on another shard ({@code WRONG_SHARD}) and takes the writes of
 * global tables into its outbox (docs/sharding.md).
 */
public interface WritePlacement {
    /** Every table is local: nothing is refused or taken. */
    WritePlacement LOCAL = new WritePlacement() {
        @Override
        public boolean divert(String verb, Table table, String id, Map<String, Object> values) {
            return false;
        }

        @Override
        public void checkRead(Table table) {}
    };

    /**
     * Called before {@code verb} ("insert", "patch", "replace" or "delete") of row {@code id} of
     * {@code table} with {@code values} (the row for insert and replace, the fields for patch,
     * empty for delete). Throws for a write that may not happen here; returns true when it took
     * the write itself, so {@link Db} writes nothing locally.
     */
    boolean divert(String verb, Table table, String id, Map<String, Object> values);

    /** Called before a read of {@code table}; throws when its rows are not here to read. */
    void checkRead(Table table);
}
