package dev.shoal.engine.sql;

/** A forward-only cursor over a statement's rows; columns are indexed from 0. */
public interface Rows {
    boolean next();

    boolean isNull(int column);

    String getString(int column);

    long getLong(int column);

    double getDouble(int column);

    /** The value as SQLite returned it: String, Long, Double or null. */
    Object get(int column);
}
