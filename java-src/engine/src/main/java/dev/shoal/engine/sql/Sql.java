package dev.shoal.engine.sql;

/**
 * The engine's only door to storage: the Durable Object's {@code ctx.storage.sql} in production,
 * sqlite-jdbc on the JVM. Bind values are {@code String}, {@code Long}, {@code Integer},
 * {@code Double}, {@code Boolean} (bound as 0/1) or {@code null}. Implementations enforce the
 * Durable Object's limits (100 bound parameters, 100 KB statements) so a statement that workerd
 * would refuse fails on the JVM too.
 *
 * <p>Contract: the writes of one call into the engine (one event of the host) commit together or
 * not at all. In a Durable Object that is the event's implicit transaction: workerd commits it after
 * the call returns, runs each {@link #transaction} as a savepoint inside it, and a storage error that
 * aborts it rolls back the whole event. The push ledger relies on it ({@code PushLedger}). On the JVM
 * each {@link #transaction} commits at once; tests never stop an engine call halfway.
 */
public interface Sql {
    int PARAMS_MAX = 100;
    int STATEMENT_BYTES_MAX = 100_000;

    /** Runs one statement and returns its rows (empty for writes without RETURNING). */
    Rows query(String sql, Object... args);

    /**
     * Runs a write and returns how many rows it wrote. The count may include the writes of its
     * triggers (workerd counts them, SQLite's changes() does not), so only "0 or more" is
     * portable: 0 means the statement itself wrote nothing. Cheaper than a RETURNING probe.
     */
    long write(String sql, Object... args);

    /**
     * Runs {@code body} in one storage transaction: all of its writes take effect or none do (a
     * savepoint in the event's transaction, see above).
     */
    void transaction(Runnable body);

    /** Runs a statement whose rows are not needed. */
    default void exec(String sql, Object... args) {
        Rows rows = query(sql, args);
        while (rows.next()) {
            // drain, so the statement runs to completion on every binding
        }
    }

    /** The first column of the first row as a long, or {@code otherwise} when there is no row or it is NULL. */
    default long queryLong(long otherwise, String sql, Object... args) {
        Rows rows = query(sql, args);
        if (!rows.next() || rows.isNull(0)) {
            return otherwise;
        }
        return rows.getLong(0);
    }

    /** The first column of the first row as text, or null. */
    default String queryString(String sql, Object... args) {
        Rows rows = query(sql, args);
        return rows.next() ? rows.getString(0) : null;
    }
}
