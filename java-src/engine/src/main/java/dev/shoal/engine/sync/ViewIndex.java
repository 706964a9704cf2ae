package dev.shoal.engine.sync;

import dev.shoal.engine.shape.View;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The live views of the shard, indexed so that a commit costs what it touches, not what is
 * subscribed: a view is a candidate for a commit only when a changed row's old or new value of a
 * watched column equals the view's value ({@link View#watches()}), or when a table it reads without
 * a watch changed. Views of other channels are never looked at.
 */
final class ViewIndex {
    private final Map<String, View> byKey = new HashMap<>();
    /** "table.column" -> value -> views watching it. */
    private final Map<String, Map<String, Set<View>>> watched = new HashMap<>();
    /** table -> views diffed on every change of it. */
    private final Map<String, Set<View>> unwatched = new HashMap<>();
    /** Statements that read a watched column's values from the new log page, per "table.column". */
    private final Map<String, String> valueSql = new HashMap<>();

    int size() {
        return byKey.size();
    }

    View get(String key) {
        return byKey.get(key);
    }

    /** The view already indexed under {@code view.key}, or {@code view}, now indexed. */
    View intern(View view) {
        View known = byKey.get(view.key);
        if (known != null) {
            return known;
        }
        byKey.put(view.key, view);
        for (View.Watch w : view.watches()) {
            watched.computeIfAbsent(w.table() + "." + w.column(), k -> new HashMap<>())
                    .computeIfAbsent(view.watchValue(), k -> new LinkedHashSet<>(2)).add(view);
        }
        for (String t : view.unwatchedTables()) {
            unwatched.computeIfAbsent(t, k -> new LinkedHashSet<>()).add(view);
        }
        return view;
    }

    void remove(View view) {
        if (byKey.remove(view.key) == null) {
            return;
        }
        for (View.Watch w : view.watches()) {
            Map<String, Set<View>> byValue = watched.get(w.table() + "." + w.column());
            Set<View> set = byValue.get(view.watchValue());
            set.remove(view);
            if (set.isEmpty()) {
                byValue.remove(view.watchValue());
                if (byValue.isEmpty()) {
                    watched.remove(w.table() + "." + w.column());
                }
            }
        }
        for (String t : view.unwatchedTables()) {
            Set<View> set = unwatched.get(t);
            set.remove(view);
            if (set.isEmpty()) {
                unwatched.remove(t);
            }
        }
    }

    /**
     * The views the log range (from, to] may change, in a stable order, with the tables it changed
     * (into {@code changedTables}). One query names the tables; one more per watched column of a
     * changed table reads the values its changed rows held before and after.
     */
    Set<View> candidates(Sql sql, long from, long to, Set<String> changedTables) {
        Set<View> out = new LinkedHashSet<>();
        if (byKey.isEmpty()) {
            return out;
        }
        Rows tables = sql.query("SELECT DISTINCT \"table\" FROM __cdc_log WHERE seq > ? AND seq <= ?", from, to);
        while (tables.next()) {
            changedTables.add(tables.getString(0));
        }
        for (String table : changedTables) {
            Set<View> always = unwatched.get(table);
            if (always != null) {
                out.addAll(always);
            }
        }
        for (Map.Entry<String, Map<String, Set<View>>> e : watched.entrySet()) {
            String key = e.getKey();
            String table = key.substring(0, key.indexOf('.'));
            if (!changedTables.contains(table)) {
                continue;
            }
            Map<String, Set<View>> byValue = e.getValue();
            Rows values = sql.query(valueSql(table, key.substring(table.length() + 1)), from, to, from, to);
            while (values.next()) {
                Set<View> hit = values.isNull(0) ? null : byValue.get(values.getString(0));
                if (hit != null) {
                    out.addAll(hit);
                }
            }
        }
        return out;
    }

    /** The distinct text values {@code column} held in the changed rows of {@code table}, before or after. */
    private String valueSql(String table, String column) {
        String key = table + "." + column;
        String q = valueSql.get(key);
        if (q == null) {
            // Names are validated identifiers; +"table" keeps SQLite on the seq range (see View).
            String path = "'$." + column + "'";
            String where = " FROM __cdc_log WHERE seq > ? AND seq <= ? AND +\"table\" = '" + table + "'";
            q = "SELECT json_extract(doc, " + path + ") AS v" + where + " UNION SELECT json_extract(pre, " + path + ")" + where;
            valueSql.put(key, q);
        }
        return q;
    }
}
