package dev.shoal.engine.shard;

import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link ShardRouting#GLOBAL} shard's copy of the global tables, refreshed from D1: rows read
 * from D1 are upserted into the local table only where they differ, and rows gone from D1 are
 * deleted, so the change log (and from it the shapes' diffs and pokes) sees exactly what changed.
 * Runs in one transaction per refresh.
 */
public final class GlobalMirror {
    private GlobalMirror() {}

    /**
     * {@code rows}: a JSON array of D1 rows of {@code table} (objects by column). {@code ids}: the
     * JSON array of the ids that were read (rows missing among them are deleted here), or null
     * when {@code rows} is the whole table (every other local row is deleted).
     */
    public static void apply(Sql sql, Json.Parser json, Table table, String rows, String ids) {
        if (table == null || !table.isGlobal()) {
            throw new IllegalArgumentException("not a global table: " + (table == null ? "null" : table.name()));
        }
        Json list = json.parse(rows);
        List<String> cols = new ArrayList<>(table.columns().keySet());
        String q = WhereCompiler.quote(table.name());
        String names = "";
        String marks = "";
        String sets = "";
        String differs = "";
        for (String c : cols) {
            String qc = WhereCompiler.quote(c);
            names += (names.isEmpty() ? "" : ", ") + qc;
            marks += (marks.isEmpty() ? "?" : ", ?");
            if (!c.equals("id")) {
                sets += (sets.isEmpty() ? "" : ", ") + qc + " = excluded." + qc;
                differs += (differs.isEmpty() ? "" : " OR ") + q + "." + qc + " IS NOT excluded." + qc;
            }
        }
        String upsert = "INSERT INTO " + q + " (" + names + ") VALUES (" + marks + ")"
                + (sets.isEmpty() ? " ON CONFLICT (id) DO NOTHING" : " ON CONFLICT (id) DO UPDATE SET " + sets + " WHERE " + differs);
        List<String> found = new ArrayList<>();
        sql.transaction(() -> {
            for (int i = 0; i < list.size(); i++) {
                Json row = list.at(i);
                Object[] values = new Object[cols.size()];
                for (int k = 0; k < cols.size(); k++) {
                    values[k] = value(table.column(cols.get(k)).columnType(), row.get(cols.get(k)));
                }
                found.add(dev.shoal.protocol.JsonText.quote(String.valueOf(values[0])));
                sql.exec(upsert, values);
            }
            // One join, not a string grown per row: a whole table can hold many rows.
            String foundJson = "[" + String.join(",", found) + "]";
            if (ids == null) {
                sql.exec("DELETE FROM " + q + " WHERE id NOT IN (SELECT value FROM json_each(?))", foundJson);
            } else {
                sql.exec("DELETE FROM " + q + " WHERE id IN (SELECT value FROM json_each(?)) AND id NOT IN (SELECT value FROM json_each(?))",
                        ids, foundJson);
            }
        });
    }

    private static Object value(ColumnType type, Json v) {
        if (v == null || v.isNull()) {
            return null;
        }
        return switch (v.kind()) {
            case STRING -> v.asString();
            case BOOLEAN -> v.asBoolean() ? 1L : 0L;
            case NUMBER -> type == ColumnType.REAL || v.asNumber() != Math.rint(v.asNumber()) ? (Object) v.asNumber() : (Object) (long) v.asNumber();
            default -> v.text();
        };
    }
}
