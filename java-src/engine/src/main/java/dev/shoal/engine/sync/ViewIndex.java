package dev.shoal.engine.sync;

import dev.shoal.engine.shape.View;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live views of the shard, indexed so that a commit costs what it touches, not what is
 * subscribed: a view is a candidate for a commit only when a changed row's old or new value of a
 * watched column equals the view's value ({@link View#watches()}), or when a table it reads without
 * a watch changed. Views of other channels are never looked at. One statement reads a new log
 * page ({@link #page}).
 */
final class ViewIndex {
    private final Map<String, View> byKey = new HashMap<>();
    /** "table.column" -> value -> views watching it. */
    private final Map<String, Map<String, Set<View>>> watched = new HashMap<>();
    /** table -> views diffed on every change of it. */
    private final Map<String, Set<View>> unwatched = new HashMap<>();
    /** The statement that reads a new log page ({@link #page}); rebuilt when the watched columns change. */
    private String pageSql;
    /** The watched "table.column" keys in the order of {@link #pageSql}'s value columns. */
    private List<String> pageKeys;

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
            watched.computeIfAbsent(w.table() + "." + w.column(), k -> {
                        pageSql = null;
                        return new HashMap<>();
                    }).computeIfAbsent(view.watchValue(), k -> new LinkedHashSet<>(2)).add(view);
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
                    pageSql = null;
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
     * What the log holds after a seq: its last seq, the tables it changed, the views it may change,
     * and for each changed table the seq of its only log row, or 0 when it has several. One object
     * per index, refilled by each {@link #page} call (a poke round reads it before the next):
     * a round allocates no collections for it.
     */
    static final class Page {
        private long to;
        private final Set<String> tables = new LinkedHashSet<>();
        private final Set<View> views = new LinkedHashSet<>();
        private final Map<String, Long> onlyRow = new HashMap<>();

        long to() {
            return to;
        }

        Set<String> tables() {
            return tables;
        }

        Set<View> views() {
            return views;
        }

        /** The seq of the only log row of {@code table} in the page; 0 when it has none or several. */
        long onlyRowSeq(String table) {
            Long seq = onlyRow.get(table);
            return seq == null ? 0 : seq;
        }
    }

    private final Page page = new Page();

    /**
     * The log after {@code from} in one statement: its highest seq ({@code from} when empty), the
     * tables it changed, and the views it may change, in a stable order: the views of a changed
     * table read without a watch, and the watching views whose value a changed row held before or
     * after the change.
     */
    Page page(Sql sql, long from) {
        if (pageSql == null) {
            compilePage();
        }
        long to = from;
        Set<String> tables = page.tables;
        Set<View> out = page.views;
        Map<String, Long> onlyRow = page.onlyRow;
        tables.clear();
        out.clear();
        onlyRow.clear();
        Rows rows = sql.query(pageSql, from);
        while (rows.next()) {
            String table = rows.getString(0);
            to = Math.max(to, rows.getLong(1));
            if (tables.add(table)) {
                Set<View> always = unwatched.get(table);
                if (always != null) {
                    out.addAll(always);
                }
                onlyRow.put(table, rows.getLong(2) == 1 ? rows.getLong(1) : 0L);
            } else {
                onlyRow.put(table, 0L); // a second group of the table: more than one row
            }
            for (int k = 0; k < pageKeys.size(); k++) {
                Map<String, Set<View>> byValue = watched.get(pageKeys.get(k));
                for (int column = 3 + 2 * k; column <= 4 + 2 * k; column++) {
                    Set<View> hit = rows.isNull(column) ? null : byValue.get(rows.getString(column));
                    if (hit != null) {
                        out.addAll(hit);
                    }
                }
            }
        }
        page.to = to;
        return page;
    }

    /**
     * One row per distinct (table, watched values before and after): {@code table, max(seq),
     * count(*)}, then for each watched column the value its row held after and before (NULL for
     * rows of other tables). Names are validated identifiers.
     */
    private void compilePage() {
        pageKeys = new ArrayList<>(watched.keySet());
        String select = "SELECT \"table\" AS t, max(seq), count(*)";
        String group = " GROUP BY t";
        for (int k = 0; k < pageKeys.size(); k++) {
            String key = pageKeys.get(k);
            String table = key.substring(0, key.indexOf('.'));
            String path = "'$." + key.substring(table.length() + 1) + "'";
            String when = "CASE WHEN \"table\" = '" + table + "' THEN json_extract(";
            select += ", " + when + "doc, " + path + ") END AS v" + k + ", " + when + "pre, " + path + ") END AS p" + k;
            group += ", v" + k + ", p" + k;
        }
        pageSql = select + " FROM __cdc_log WHERE seq > ?" + group;
    }
}
