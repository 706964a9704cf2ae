package dev.shoal.engine.shape;

import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Slot;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One shape with one set of args: the unit of shared work. Its predicate (the shape's
 * {@code where} AND the table's read policy) is compiled by the one compiler against the live row
 * ("is it visible") and against the shard as it was at the cursor ("was it visible"), and
 * evaluated for every subscribed identity in the same query: N sockets cost one query per commit
 * plus N sends, whether or not the predicate reads the identity.
 *
 * <p>Range scans of the log write {@code +"table"}: the unary plus keeps SQLite on the seq range
 * (the new page) instead of the (table, id, seq) index, which would read the table's whole history.
 */
public final class View {
    public final String key;
    public final Shape shape;
    private final WhereCompiler compiler;
    private final Table table;
    private final Where where;
    private final boolean perIdentity;
    private final String projection;
    private final Map<String, Set<Subscription>> byIdentity = new LinkedHashMap<>();
    /** The tables read through {@code exists}, which may include the view's own table. */
    private final Set<String> relationTables = new LinkedHashSet<>();
    /** The view's statements, built on first use; parameters hold {@link Slot}s bound per call. */
    private String hydrateSql;
    private List<Object> hydrateParams;
    /** [0]: no related table changed in the range; [1]: the general statement. */
    private final String[] diffSql = new String[2];
    @SuppressWarnings("unchecked")
    private final List<Object>[] diffParams = new List[2];
    private static final Slot PART = new Slot("part bytes");
    private static final Slot WHO = new Slot("identities");
    private static final Slot FROM = new Slot("from seq");
    private static final Slot TO = new Slot("to seq");

    private View(String key, Shape shape, WhereCompiler compiler, Table table, Where where) {
        this.key = key;
        this.shape = shape;
        this.compiler = compiler;
        this.table = table;
        this.where = where;
        this.perIdentity = Where.readsMe(where);
        List<String> columns = shape.columns().isEmpty() ? List.copyOf(table.columns().keySet()) : shape.columns();
        this.projection = ChangeLog.doc(table, "cur", columns);
        collectTables(where, relationTables);
    }

    private static void collectTables(Where w, Set<String> out) {
        if (w instanceof Where.And a) {
            a.all().forEach(x -> collectTables(x, out));
        } else if (w instanceof Where.Or o) {
            o.any().forEach(x -> collectTables(x, out));
        } else if (w instanceof Where.Not n) {
            collectTables(n.inner(), out);
        } else if (w instanceof Where.Exists e) {
            out.add(e.table());
            collectTables(e.where(), out);
        }
    }

    /** True when a commit that changed {@code tables} may change what this view holds. */
    public boolean reads(Set<String> tables) {
        return tables.contains(table.name()) || readsRelated(tables);
    }

    /** {@code argsText}: the validated args as JSON text; {@code where}: the shape's predicate for them. */
    public static View of(WhereCompiler compiler, Shape shape, Table table, Where where, String argsText) {
        Where effective = table.readPolicy() == null ? where : Where.and(where, table.readPolicy());
        // Compile once now, so an unknown column fails the subscription, not a later commit.
        compiler.compile(effective, table, WhereCompiler.live("cur", "NULL"), new ArrayList<>());
        return new View(shape.name() + "\u0000" + argsText, shape, compiler, table, effective);
    }

    /** The identity a subscription is grouped under: its user id when the predicate reads it. */
    public String identityKey(String userId) {
        return perIdentity ? userId : "";
    }

    public void add(Subscription s) {
        byIdentity.computeIfAbsent(identityKey(s.userId()), k -> new LinkedHashSet<>()).add(s);
    }

    public void remove(Subscription s) {
        Set<Subscription> set = byIdentity.get(identityKey(s.userId()));
        if (set != null && set.remove(s) && set.isEmpty()) {
            byIdentity.remove(identityKey(s.userId()));
        }
    }

    public boolean isEmpty() {
        return byIdentity.isEmpty();
    }

    /** Subscriptions by identity key. */
    public Map<String, Set<Subscription>> subscriptions() {
        return byIdentity;
    }

    /** Every row visible to {@code userId}, as {@code put} ops in parts of about half {@code partBytes}. */
    public List<String> hydrate(Sql sql, String userId, int partBytes) {
        if (hydrateSql == null) {
            List<Object> params = new ArrayList<>();
            params.add(PART);
            params.add(WHO);
            String live = compiler.compile(where, table, WhereCompiler.live("cur", "who.me"), params);
            hydrateSql = parts("WITH who AS (SELECT value AS me FROM json_each(?)) SELECT who.me AS who, cur.id AS id, "
                    + put("cur.id", projection) + " AS r FROM who CROSS JOIN " + WhereCompiler.quote(table.name())
                    + " AS cur WHERE " + live);
            hydrateParams = params;
        }
        String who = identityKey(userId);
        return run(sql, hydrateSql, Slot.bind(hydrateParams, PART, half(partBytes), WHO, jsonArray(List.of(who))))
                .getOrDefault(who, List.of());
    }

    /**
     * The membership diff over the log range (from, to] for every subscribed identity: {@code put}
     * for rows visible now that changed or entered, {@code del} for rows that were visible at
     * {@code from} and are not now, nothing for rows invisible at both ends. Rows whose own data did
     * not change but whose visibility moved (a relation such as a membership changed) are found
     * through the relation's join columns. {@code to} must be the shard's current seq, and the log
     * must cover (from, to].
     */
    public Map<String, List<String>> diff(Sql sql, long from, long to, Set<String> identityKeys, int partBytes) {
        return diff(sql, from, to, identityKeys, partBytes, true);
    }

    /**
     * As {@link #diff(Sql, long, long, Set, int)}; with {@code relationsChanged} false the caller
     * knows that no related table changed in the range, so their past state is their live state
     * and no row can have moved through a relation: a cheaper statement answers the same.
     */
    public Map<String, List<String>> diff(Sql sql, long from, long to, Set<String> identityKeys, int partBytes, boolean relationsChanged) {
        int variant = relationsChanged ? 1 : 0;
        if (diffSql[variant] == null) {
            compileDiff(variant);
        }
        return run(sql, diffSql[variant], Slot.bind(diffParams[variant], PART, half(partBytes), WHO, jsonArray(new ArrayList<>(identityKeys)),
                FROM, from, TO, to));
    }

    /** True when {@code tables} holds a table this view reads through a relation (its own table included). */
    public boolean readsRelated(Set<String> tables) {
        for (String t : tables) {
            if (relationTables.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /** Builds the diff statement once per view: its text depends on the schema and the predicate only. */
    private void compileDiff(int variant) {
        boolean relations = variant == 1;
        String name = table.name();
        List<Object> params = new ArrayList<>();
        params.add(PART);
        params.add(WHO);
        params.add(FROM);
        params.add(TO);
        String candidates = "SELECT id FROM ch" + (relations ? relationCandidates(where, params, false) : "");
        String pastExists = "((ch.first IS NULL AND cur.id IS NOT NULL) OR img.pre IS NOT NULL)";
        String live = compiler.compile(where, table, WhereCompiler.live("cur", "who.me"), params);
        java.util.function.Function<String, String> pastColumn =
                c -> "(CASE WHEN ch.first IS NULL THEN cur." + WhereCompiler.quote(c) + " ELSE json_extract(img.pre, '$." + c + "') END)";
        WhereCompiler.Scope pastScope = relations ? WhereCompiler.past(pastColumn, "who.me", FROM) : WhereCompiler.past(pastColumn, "who.me", null);
        String past = compiler.compile(where, table, pastScope, params);
        // x: one row of flags per (identity, candidate); doc: each row that someone must receive,
        // serialized once however many identities receive it.
        String rows = "WITH who AS (SELECT value AS me FROM json_each(?)),"
                + " ch AS (SELECT id, min(seq) AS first FROM __cdc_log WHERE seq > ? AND seq <= ? AND +\"table\" = '" + name + "' GROUP BY id),"
                + " cand AS (" + candidates + "),"
                + " x AS MATERIALIZED (SELECT who.me AS who, cand.id AS id, ch.first IS NOT NULL AS changed,"
                + " (cur.id IS NOT NULL AND coalesce((" + live + "), 0)) AS now,"
                + " (" + pastExists + " AND coalesce((" + past + "), 0)) AS was"
                + " FROM who CROSS JOIN cand LEFT JOIN ch ON ch.id = cand.id LEFT JOIN __cdc_log AS img ON img.seq = ch.first"
                + " LEFT JOIN " + WhereCompiler.quote(name) + " AS cur ON cur.id = cand.id),"
                + " doc AS MATERIALIZED (SELECT cur.id AS id, " + put("cur.id", projection) + " AS put FROM " + WhereCompiler.quote(name)
                + " AS cur WHERE cur.id IN (SELECT id FROM x WHERE now AND (changed OR NOT was)))"
                + " SELECT x.who AS who, x.id AS id, CASE"
                + " WHEN x.now THEN (CASE WHEN x.changed OR NOT x.was THEN doc.put END)"
                + " WHEN x.was THEN json_object('op', 'del', 'table', '" + name + "', 'id', x.id) END AS r"
                + " FROM x LEFT JOIN doc ON doc.id = x.id";
        diffSql[variant] = parts(rows);
        diffParams[variant] = params;
    }

    /**
     * UNION terms naming rows whose visibility may have moved because a related table changed in
     * (from, to]: rows whose join column holds a join value of a changed related row (before or
     * after the change). A relation nested inside another relation falls back to every row of the
     * table, and only when that deeper table changed.
     */
    private String relationCandidates(Where w, List<Object> params, boolean nested) {
        if (w instanceof Where.And a) {
            String out = "";
            for (Where x : a.all()) {
                out += relationCandidates(x, params, nested);
            }
            return out;
        }
        if (w instanceof Where.Or o) {
            String out = "";
            for (Where x : o.any()) {
                out += relationCandidates(x, params, nested);
            }
            return out;
        }
        if (w instanceof Where.Not n) {
            return relationCandidates(n.inner(), params, nested);
        }
        if (!(w instanceof Where.Exists e)) {
            return "";
        }
        String self = WhereCompiler.quote(table.name());
        String rel = e.table();
        String out;
        if (!nested) {
            params.add(FROM);
            params.add(TO);
            params.add(FROM);
            params.add(TO);
            out = " UNION SELECT id FROM " + self + " WHERE " + WhereCompiler.quote(e.localColumn()) + " IN ("
                    + "SELECT json_extract(doc, '$." + e.remoteColumn() + "') FROM __cdc_log WHERE +\"table\" = '" + rel + "' AND seq > ? AND seq <= ?"
                    + " UNION SELECT json_extract(pre, '$." + e.remoteColumn() + "') FROM __cdc_log WHERE +\"table\" = '" + rel + "' AND seq > ? AND seq <= ?)";
        } else {
            params.add(FROM);
            params.add(TO);
            out = " UNION SELECT id FROM " + self + " WHERE EXISTS (SELECT 1 FROM __cdc_log WHERE +\"table\" = '" + rel
                    + "' AND seq > ? AND seq <= ?)";
        }
        return out + relationCandidates(e.where(), params, true);
    }

    private String put(String idSql, String docSql) {
        return "json_object('op', 'put', 'table', '" + table.name() + "', 'id', " + idSql + ", 'doc', " + docSql + ")";
    }

    /**
     * Wraps {@code rowsSql} (columns who, id, r) so that SQLite cuts its rows into JSON arrays per
     * identity: a row goes to the part where the running byte count ends, parts being half the
     * limit, so a part holds at most half the limit plus one row (rows are capped at half).
     */
    private static String parts(String rowsSql) {
        return "SELECT who, '[' || group_concat(r, ',') || ']' FROM (SELECT who, r, CAST((sum(length(CAST(r AS BLOB)) + 1)"
                + " OVER (PARTITION BY who ORDER BY id ROWS UNBOUNDED PRECEDING)) / ? AS INTEGER) AS part FROM (" + rowsSql
                + ") WHERE r IS NOT NULL) GROUP BY who, part ORDER BY who, part";
    }

    private static long half(int partBytes) {
        return Math.max(1, partBytes / 2);
    }

    private static Map<String, List<String>> run(Sql sql, String statement, Object[] params) {
        Rows rows = sql.query(statement, params);
        Map<String, List<String>> out = new LinkedHashMap<>();
        while (rows.next()) {
            out.computeIfAbsent(rows.getString(0), k -> new ArrayList<>()).add(rows.getString(1));
        }
        return out;
    }

    private static String jsonArray(List<String> values) {
        String out = "";
        for (String v : values) {
            out += (out.isEmpty() ? "" : ",") + JsonText.quote(v);
        }
        return "[" + out + "]";
    }
}
