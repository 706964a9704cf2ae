package dev.shoal.engine.schema;

/** How a column is stored in SQLite and rendered in a row document. */
public enum ColumnType {
    TEXT, REAL, INTEGER, BOOLEAN, JSON
}
