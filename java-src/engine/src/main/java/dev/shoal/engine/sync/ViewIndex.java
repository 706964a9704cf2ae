package dev.shoal.engine.sync;

import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
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
 * page ({@link #page}), unless the page is known without it: see {@link #inserted}.
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
    /** table -> its watched columns, each with its value -> views; rebuilt with {@link #pageSql}. */
    private Map<String, List<ColumnWatch>> watchesByTable;

    /** A watched column of one table: its position in the table's columns (-1: none of that name), and its views by value. */
    private record ColumnWatch(int index, Map<String, Set<View>> byValue) {}

    /**
     * In tests (system property {@code shoal.verifyKnownPages=true}), every page known without
     * reading the log is also read, and a difference throws.
     */
    static final boolean VERIFY_KNOWN_PAGES = "true".equals(System.getProperty("shoal.verifyKnownPages"));

    /**
     * What the commits since the last page inserted, noted as they ran ({@link #inserted}), and the
     * log's seq as the last push's ledger write read it ({@link #logSeq}). A push's poke round
     * builds its page from these when the log after the round's start holds exactly these rows:
     * each noted insert wrote one log row after that start, so when as many seqs follow the start
     * as inserts were noted, no other row is among them. Anything else (an update or a delete, a
     * rolled-back mutation, a write from outside a push, a watched value that is not text, a view
     * added or removed in between) and the page is read as before.
     */
    private final Set<String> knownTables = new LinkedHashSet<>();
    private final Set<View> knownViews = new LinkedHashSet<>();
    private int knownRows;
    private boolean knownLost;
    private long knownSeq = -1;
    /** The last noted insert's table, its watches and views hit: the same again adds nothing. */
    private Table lastTable;
    private List<ColumnWatch> lastColumns;
    private Set<View> lastHit;
    /** Work counters since this instance started (as Pokes'): pages read from the log, pages known without it. */
    long pagesRead;
    long pagesKnown;

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
        indexChanged();
        for (View.Watch w : view.watches()) {
            watched.computeIfAbsent(w.table() + "." + w.column(), k -> {
                        watchesChanged();
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
        indexChanged();
        for (View.Watch w : view.watches()) {
            Map<String, Set<View>> byValue = watched.get(w.table() + "." + w.column());
            Set<View> set = byValue.get(view.watchValue());
            set.remove(view);
            if (set.isEmpty()) {
                byValue.remove(view.watchValue());
                if (byValue.isEmpty()) {
                    watched.remove(w.table() + "." + w.column());
                    watchesChanged();
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

    /** Inserts noted before a view came or went are matched against other views than the page's: read it. */
    private void indexChanged() {
        if (knownRows > 0) {
            knownLost = true;
        }
        lastTable = null;
        lastHit = null;
    }

    private void watchesChanged() {
        pageSql = null;
        watchesByTable = null;
        lastTable = null; // its watches were looked up in the old map
    }

    /**
     * A row inserted into {@code table} by a mutation, with {@code values} in the table's column
     * order as bound (see the known-page fields above).
     */
    void inserted(Table table, Object[] values) {
        knownRows++;
        if (knownLost) {
            return;
        }
        if (table != lastTable) { // pushes of many rows insert into one table after another
            lastTable = table;
            lastColumns = watchesOf(table);
            if (knownTables.add(table.name())) {
                Set<View> always = unwatched.get(table.name());
                if (always != null) {
                    knownViews.addAll(always);
                }
            }
        }
        List<ColumnWatch> columns = lastColumns;
        for (int w = 0; w < columns.size(); w++) {
            ColumnWatch watch = columns.get(w);
            int i = watch.index();
            if (i < 0 || i >= values.length) {
                knownLost = true; // not a column of the table (never so): read the page
                return;
            }
            Object value = values[i];
            if (value == null) {
                continue; // as a NULL in the log: no view watches it
            }
            if (!(value instanceof String text) || table.validator(i).columnType() != ColumnType.TEXT) {
                knownLost = true; // the log's text of it may differ: read the page
                return;
            }
            Set<View> hit = watch.byValue().get(text);
            if (hit != null && hit != lastHit) {
                lastHit = hit;
                knownViews.addAll(hit);
            }
        }
    }

    /** A mutation was rolled back: what it inserted is not in the log. */
    void insertsLost() {
        knownLost = true;
    }

    /** The log's last seq, read in the transaction of a push's last mutation, after its writes. */
    void logSeq(long seq) {
        knownSeq = seq;
    }

    /** The watched columns of {@code table}, built once per set of watches (watchesChanged drops them). */
    private List<ColumnWatch> watchesOf(Table table) {
        if (watchesByTable == null) {
            watchesByTable = new HashMap<>();
        }
        return watchesByTable.computeIfAbsent(table.name(), name -> {
            List<ColumnWatch> columns = new ArrayList<>(1);
            String prefix = name + ".";
            for (Map.Entry<String, Map<String, Set<View>>> e : watched.entrySet()) {
                if (e.getKey().startsWith(prefix)) {
                    columns.add(new ColumnWatch(table.columnIndex(e.getKey().substring(prefix.length())), e.getValue()));
                }
            }
            return columns;
        });
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
        boolean known = !knownLost && knownRows > 0 && knownSeq - from == knownRows;
        long knownTo = knownSeq;
        int rows = knownRows;
        knownRows = 0;
        knownLost = false;
        knownSeq = -1;
        if (known) {
            pagesKnown++;
        } else {
            pagesRead++;
        }
        if (known && !VERIFY_KNOWN_PAGES) {
            fillKnown(page, knownTo, rows);
            return page;
        }
        Page read = read(sql, from);
        if (known) {
            Page expected = new Page();
            fillKnown(expected, knownTo, rows);
            boolean same = expected.to == read.to && expected.tables.equals(read.tables) && expected.views.equals(read.views);
            for (String t : expected.tables) {
                same &= expected.onlyRowSeq(t) == 0 || expected.onlyRowSeq(t) == read.onlyRowSeq(t);
            }
            if (!same) {
                throw new IllegalStateException("a page known without reading the log differs from the log after " + from);
            }
        }
        clearKnown();
        return read;
    }

    /** The page from the noted inserts (the caller checked that they are the whole page), which are then cleared. */
    private void fillKnown(Page into, long to, int rows) {
        into.tables.clear();
        into.views.clear();
        into.onlyRow.clear();
        into.tables.addAll(knownTables);
        into.views.addAll(knownViews);
        for (String t : knownTables) {
            into.onlyRow.put(t, rows == 1 ? to : 0L); // 0: the table's row, if it is the only one, is not told apart
        }
        into.to = to;
        clearKnown();
    }

    private void clearKnown() {
        knownTables.clear();
        knownViews.clear();
        lastTable = null;
        lastHit = null;
    }

    private Page read(Sql sql, long from) {
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
