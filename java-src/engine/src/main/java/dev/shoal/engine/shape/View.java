package dev.shoal.engine.shape;

import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One compiled (shape, args, identity where it matters): the unit of shared work. Every socket
 * subscribed to the same view gets the same row ops, computed and serialized once per commit.
 * The predicate is compiled twice by the one compiler: over the live row ("is it visible now")
 * and over the row's image in the log ("was it visible at the cursor").
 */
public final class View {
    public final String key;
    public final Shape shape;
    private final Table table;
    private final String liveWhere;
    private final List<Object> liveParams;
    private final String preWhere;
    private final List<Object> preParams;
    private final String projection;
    private final Set<Subscription> subscriptions = new LinkedHashSet<>();

    private View(String key, Shape shape, Table table, String liveWhere, List<Object> liveParams,
            String preWhere, List<Object> preParams) {
        this.key = key;
        this.shape = shape;
        this.table = table;
        this.liveWhere = liveWhere;
        this.liveParams = liveParams;
        this.preWhere = preWhere;
        this.preParams = preParams;
        List<String> columns = shape.columns().isEmpty() ? List.copyOf(table.columns().keySet()) : shape.columns();
        this.projection = ChangeLog.doc(table, "cur", columns);
    }

    /**
     * Compiles {@code where} for {@code shape}. {@code argsText} is the validated args as JSON text;
     * the identity is part of the key only when the predicate reads it.
     */
    public static View compile(WhereCompiler compiler, Shape shape, Table table, Where where, String argsText, String identity) {
        List<Object> liveParams = new ArrayList<>();
        String live = compiler.compile(where, table, WhereCompiler.alias("cur", identity), liveParams);
        List<Object> preParams = new ArrayList<>();
        String pre = compiler.compile(where, table, WhereCompiler.image("img.pre", identity), preParams);
        boolean readsIdentity = readsMe(where);
        String key = shape.name() + "\u0000" + argsText + (readsIdentity ? "\u0000" + identity : "");
        return new View(key, shape, table, live, liveParams, pre, preParams);
    }

    private static boolean readsMe(Where w) {
        if (w instanceof Where.Compare c) {
            return c.value() instanceof Where.Operand.Me;
        }
        if (w instanceof Where.And a) {
            return a.all().stream().anyMatch(View::readsMe);
        }
        if (w instanceof Where.Or o) {
            return o.any().stream().anyMatch(View::readsMe);
        }
        if (w instanceof Where.Not n) {
            return readsMe(n.inner());
        }
        if (w instanceof Where.Exists e) {
            return readsMe(e.where());
        }
        return false;
    }

    public Set<Subscription> subscriptions() {
        return subscriptions;
    }

    /** Every visible row as {@code put} ops, as JSON arrays of at most about {@code partBytes} each. */
    public List<String> hydrate(Sql sql, int partBytes) {
        String rows = "SELECT cur.id AS id, json_object('op', 'put', 'table', '" + table.name() + "', 'id', cur.id, 'doc', "
                + projection + ") AS r FROM " + WhereCompiler.quote(table.name()) + " AS cur WHERE " + liveWhere;
        return parts(sql, rows, liveParams, partBytes);
    }

    /**
     * The membership diff over the log range (from, to]: {@code put} for rows visible now that
     * changed, {@code del} for rows that were visible at {@code from} and are not now, nothing for
     * rows invisible at both ends, so no trace of an invisible row leaves the shard.
     */
    public List<String> diff(Sql sql, long from, long to, int partBytes) {
        String rows = "WITH ch AS (SELECT id, min(seq) AS first FROM __cdc_log WHERE seq > ? AND seq <= ? AND \"table\" = '"
                + table.name() + "' GROUP BY id)"
                + " SELECT ch.id AS id, CASE"
                + " WHEN cur.id IS NOT NULL AND (" + liveWhere + ") THEN json_object('op', 'put', 'table', '" + table.name()
                + "', 'id', ch.id, 'doc', " + projection + ")"
                + " WHEN img.pre IS NOT NULL AND (" + preWhere + ") THEN json_object('op', 'del', 'table', '" + table.name()
                + "', 'id', ch.id) END AS r"
                + " FROM ch JOIN __cdc_log AS img ON img.seq = ch.first LEFT JOIN " + WhereCompiler.quote(table.name())
                + " AS cur ON cur.id = ch.id";
        List<Object> params = new ArrayList<>();
        params.add(from);
        params.add(to);
        params.addAll(liveParams);
        params.addAll(preParams);
        return parts(sql, rows, params, partBytes);
    }

    /**
     * Cuts the rows of {@code rowsSql} (columns id, r) into JSON arrays inside SQLite: a row goes to
     * the part where the running byte count ends, with parts of half the limit, so a part holds at
     * most half the limit plus one row (rows are capped at half the limit).
     */
    private static List<String> parts(Sql sql, String rowsSql, List<Object> params, int partBytes) {
        List<Object> all = new ArrayList<>();
        all.add((long) Math.max(1, partBytes / 2)); // the window's "/ ?" comes first in the text
        all.addAll(params);
        Rows rows = sql.query("SELECT '[' || group_concat(r, ',') || ']' FROM (SELECT r, CAST((sum(length(CAST(r AS BLOB)) + 1)"
                + " OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)) / ? AS INTEGER) AS part FROM (" + rowsSql
                + ") WHERE r IS NOT NULL) GROUP BY part ORDER BY part", all.toArray());
        List<String> out = new ArrayList<>();
        while (rows.next()) {
            out.add(rows.getString(0));
        }
        return out;
    }
}
