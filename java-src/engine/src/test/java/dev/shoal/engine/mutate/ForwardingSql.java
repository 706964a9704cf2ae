package dev.shoal.engine.mutate;

import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.testkit.JdbcSql;

/**
 * Real SQLite (in memory) with hooks before each statement and around each outermost transaction:
 * the base of the tests' declared storage mocks, for faults SQLite cannot be made to produce on a
 * chosen statement or commit. Everything else reaches the real database.
 */
abstract class ForwardingSql implements Sql {
    private final JdbcSql real = JdbcSql.memory();
    private int depth;

    /** Before each statement; throws to fail it. {@code inTransaction}: inside {@link #transaction}. */
    void beforeStatement(String sql, Object[] args, boolean inTransaction) {}

    /** When an outermost transaction begins. */
    void onBegin() {}

    /** After an outermost transaction's body, before its commit; throws to fail the commit. */
    void beforeCommit() {}

    @Override
    public Rows query(String sql, Object... args) {
        beforeStatement(sql, args, depth > 0);
        return real.query(sql, args);
    }

    @Override
    public long write(String sql, Object... args) {
        beforeStatement(sql, args, depth > 0);
        return real.write(sql, args);
    }

    @Override
    public void transaction(Runnable body) {
        boolean outer = depth == 0;
        if (outer) {
            onBegin();
        }
        depth++;
        try {
            real.transaction(() -> {
                body.run();
                if (outer) {
                    beforeCommit();
                }
            });
        } finally {
            depth--;
        }
    }
}
