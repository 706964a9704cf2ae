package dev.shoal.engine.sql;

/** A statement that SQLite refused. {@code constraint} is true for UNIQUE / NOT NULL / CHECK failures. */
public final class SqlException extends RuntimeException {
    public final boolean constraint;

    public SqlException(String message) {
        super(message);
        this.constraint = message != null && message.contains("constraint failed");
    }
}
