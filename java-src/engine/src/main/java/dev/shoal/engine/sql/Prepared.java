package dev.shoal.engine.sql;

import java.util.List;

/** Statement text built once, with a parameter template whose {@link Slot}s are bound per call. */
public record Prepared(String sql, List<Object> params) {
    public Rows query(Sql db, Object... slotsAndValues) {
        return db.query(sql, Slot.bind(params, slotsAndValues));
    }
}
