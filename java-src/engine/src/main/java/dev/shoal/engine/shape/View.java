package dev.shoal.engine.shape;

import dev.shoal.engine.log.ChangeLog;
import dev.shoal.engine.schema.ColumnType;
import dev.shoal.engine.schema.Table;
import dev.shoal.engine.sql.Rows;
import dev.shoal.engine.sql.Slot;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.where.Where;
import dev.shoal.engine.where.WhereCompiler;
import dev.shoal.protocol.Json;
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
 * <p>A commit can only change what a view holds through rows whose old or new values satisfy the
 * view's top-level equality on a text column ({@code channelId = 'c'}): {@link #watches()} names
 * those (table, column, value) triples, so that the shard diffs only the views a commit can touch
 * ({@code ViewIndex}); a view without one is diffed whenever a table it reads changes.
 *
 * <p>Every read of the log is a seq range (the new page); range scans write {@code +"table"} so
 * that SQLite stays on the seq range should an index on the table name ever exist.
 */
public final class View {
    public final String key;
    public final Shape shape;
    private final WhereCompiler compiler;
    private final Table table;
    private final Where where;
    private final boolean perIdentity;
    private final String projection;
    // Sized small: a shard may hold 10,000 views, most with one identity (the heap is the limit).
    private final Map<String, Set<Subscription>> byIdentity = new LinkedHashMap<>(2);
    /** The subscribed identity keys as a JSON array, the diff's parameter; null when they changed. */
    private String identitiesJson;
    /** The subscribed identity keys, in the order of {@link #identitiesJson}; rebuilt with it. */
    private List<String> identities;
    /** The tables read through {@code exists}, which may include the view's own table. */
    private final List<String> relationTables;
    /** (table, column) pairs whose changed rows must hold {@link #watchValue} for this view to change. */
    private final List<Watch> watches;
    /** Tables any change of which may change this view (no watch covers them). */
    private final List<String> unwatchedTables;
    private final String watchValue;
    /** The view's statements, built on first use; parameters hold {@link Slot}s bound per call. */
    private String hydrateSql;
    private List<Object> hydrateParams;
    /**
     * The diff statements, by {@link #MANY} (every identity of the view, grouped) or {@link #ONE}
     * (one identity), plus 1 for the general statement (+0: no related table changed in the range);
     * and {@link #ROW_MANY} and {@link #ROW_ONE}: one changed row of the view's table and no
     * related change, the usual commit, answered without grouping the range's rows.
     */
    private final String[] diffSql = new String[7];
    @SuppressWarnings("unchecked")
    private final List<Object>[] diffParams = new List[7];
    private static final int MANY = 0;
    private static final int ONE = 2;
    private static final int ROW_MANY = 4;
    private static final int ROW_ONE = 5;
    /** One identity, no related change, any number of rows: the changes as one part and its size ({@link #compileOneRange}). */
    private static final int RANGE_ONE = 6;
    private static final Slot SEQ = new Slot("row seq");
    private static final Slot PART = new Slot("part bytes");
    private static final Slot WHO = new Slot("identities");
    private static final Slot FROM = new Slot("from seq");
    private static final Slot TO = new Slot("to seq");

    /**
     * Statement texts shared by the views of a shard: views of one shape differ in bound values
     * only, so their SQL is one string however many views hold it (10,000 views, one copy).
     */
    private final Map<String, String> texts;

    private View(String key, Shape shape, WhereCompiler compiler, Table table, Where where, Map<String, String> texts) {
        this.texts = texts;
        this.key = key;
        this.shape = shape;
        this.compiler = compiler;
        this.table = table;
        this.where = where;
        this.perIdentity = Where.readsMe(where);
        List<String> columns = shape.columns().isEmpty() ? List.copyOf(table.columns().keySet()) : shape.columns();
        this.projection = shared(ChangeLog.doc(table, "cur", columns));
        Set<String> related = new LinkedHashSet<>();
        collectTables(where, related);
        this.relationTables = List.copyOf(related);
        Where.Compare eq = indexableEquality(where, table);
        this.watchValue = eq == null ? null : (String) ((Where.Operand.Literal) eq.value()).value();
        List<Watch> watching = new ArrayList<>();
        Set<String> unwatched = new LinkedHashSet<>();
        if (eq == null) {
            unwatched.add(table.name());
            unwatched.addAll(related);
        } else {
            watching.add(new Watch(table.name(), eq.column()));
            watchRelations(where, eq.column(), false, watching, unwatched);
        }
        this.watches = List.copyOf(watching);
        this.unwatchedTables = List.copyOf(unwatched);
    }

    /** A (table, column) whose changed rows' old or new value decides whether a view may change. */
    public record Watch(String table, String column) {}

    /** The watches of this view: every one holds {@link #watchValue()}; empty when the view has none. */
    public List<Watch> watches() {
        return watches;
    }

    /** The value every watch of this view waits for, or null when the view has no watch. */
    public String watchValue() {
        return watchValue;
    }

    /** Tables whose every change is a reason to diff this view (no watch narrows them). */
    public List<String> unwatchedTables() {
        return unwatchedTables;
    }

    /**
     * The first top-level conjunct {@code column = 'text'} on a TEXT column: a row can be or have been
     * in the view only if that column held the value. Only text against text, so that SQLite's
     * comparison and the log's JSON value agree byte for byte (no numeric affinity in between).
     */
    private static Where.Compare indexableEquality(Where w, Table table) {
        if (w instanceof Where.And a) {
            for (Where x : a.all()) {
                Where.Compare found = indexableEquality(x, table);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        if (w instanceof Where.Compare c && c.op() == Where.Op.EQ && c.value() instanceof Where.Operand.Literal lit
                && lit.value() instanceof String && table.hasColumn(c.column()) && table.column(c.column()).columnType() == ColumnType.TEXT) {
            return c;
        }
        return null;
    }

    /**
     * A relation joined on the watched column ({@code exists(rel, col, remote, ...)}) changes only
     * rows whose {@code col} equals a changed related row's {@code remote} (before or after), so the
     * view watches {@code (rel, remote)} for the same value. Any other relation, and every relation
     * nested in another, makes its table unwatched (the diff then reads every row it may move).
     */
    private void watchRelations(Where w, String column, boolean nested, List<Watch> watching, Set<String> unwatched) {
        if (w instanceof Where.And a) {
            a.all().forEach(x -> watchRelations(x, column, nested, watching, unwatched));
        } else if (w instanceof Where.Or o) {
            o.any().forEach(x -> watchRelations(x, column, nested, watching, unwatched));
        } else if (w instanceof Where.Not n) {
            watchRelations(n.inner(), column, nested, watching, unwatched);
        } else if (w instanceof Where.Exists e) {
            Watch watch = new Watch(e.table(), e.remoteColumn());
            if (!nested && e.localColumn().equals(column) && textColumn(e.table(), e.remoteColumn())) {
                if (!watching.contains(watch)) {
                    watching.add(watch);
                }
            } else {
                unwatched.add(e.table());
            }
            watchRelations(e.where(), column, true, watching, unwatched);
        }
    }

    private boolean textColumn(String tableName, String column) {
        Table t = compiler.table(tableName);
        return t != null && t.hasColumn(column) && t.column(column).columnType() == ColumnType.TEXT;
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
    public static View of(WhereCompiler compiler, Shape shape, Table table, Where where, String argsText, Map<String, String> texts) {
        Where effective = table.readPolicy() == null ? where : Where.and(where, table.readPolicy());
        // Compile once now, so an unknown column fails the subscription, not a later commit.
        compiler.compile(effective, table, WhereCompiler.live("cur", "NULL"), new ArrayList<>());
        return new View(shape.name() + "\u0000" + argsText, shape, compiler, table, effective, texts);
    }

    /** The identity a subscription is grouped under: its user id when the predicate reads it. */
    public String identityKey(String userId) {
        return perIdentity ? userId : "";
    }

    public void add(Subscription s) {
        Set<Subscription> set = byIdentity.get(identityKey(s.userId()));
        if (set == null) {
            set = new LinkedHashSet<>(2);
            byIdentity.put(identityKey(s.userId()), set);
            identitiesJson = null;
        }
        set.add(s);
    }

    public void remove(Subscription s) {
        Set<Subscription> set = byIdentity.get(identityKey(s.userId()));
        if (set != null && set.remove(s) && set.isEmpty()) {
            byIdentity.remove(identityKey(s.userId()));
            identitiesJson = null;
        }
    }

    /** The subscriptions grouped under an identity key (empty when none). */
    public Set<Subscription> subscriptions(String identityKey) {
        Set<Subscription> set = byIdentity.get(identityKey);
        return set == null ? Set.of() : set;
    }

    /** The subscribed identity keys as one JSON array, rebuilt only after the set changed. */
    private String identitiesJson() {
        if (identitiesJson == null) {
            identities = List.copyOf(byIdentity.keySet());
            identitiesJson = jsonArray(identities);
        }
        return identitiesJson;
    }

    public boolean isEmpty() {
        return byIdentity.isEmpty();
    }

    /** Every row visible to {@code userId}, as {@code put} ops in parts of about half {@code partBytes}. */
    public List<String> hydrate(Sql sql, String userId, int partBytes) {
        if (hydrateSql == null) {
            List<Object> params = new ArrayList<>();
            params.add(PART);
            params.add(WHO);
            String live = compiler.compile(where, table, WhereCompiler.live("cur", "who.me"), params);
            hydrateSql = shared(parts("WITH who AS (SELECT value AS me FROM json_each(?)) SELECT who.me AS who, cur.id AS id, "
                    + put("cur.id", projection) + " AS r FROM who CROSS JOIN " + WhereCompiler.quote(table.name())
                    + " AS cur WHERE " + live));
            hydrateParams = params;
        }
        String who = identityKey(userId);
        return run(sql, hydrateSql, Slot.bind(hydrateParams, PART, half(partBytes), WHO, jsonArray(List.of(who))))
                .getOrDefault(who, List.of());
    }

    /**
     * What some identities must receive: the same parts (JSON arrays of row ops, in order) for
     * every identity key in {@code identities}. Built once however many identities share it.
     */
    public record Change(List<String> identities, List<String> parts) {}

    /**
     * The membership diff over the log range (from, to] for every subscribed identity: {@code put}
     * for rows visible now that changed or entered, {@code del} for rows that were visible at
     * {@code from} and are not now, nothing for rows invisible at both ends. Rows whose own data did
     * not change but whose visibility moved (a relation such as a membership changed) are found
     * through the relation's join columns. Identities that must receive the same row ops are
     * grouped by SQLite into one {@link Change} whose parts are serialized once. {@code to} must be
     * the shard's current seq, and the log must cover (from, to]. With {@code relationsChanged}
     * false the caller knows that no related table changed in the range, so their past state is
     * their live state and a cheaper statement answers the same.
     */
    public List<Change> diff(Sql sql, Json.Parser json, long from, long to, int partBytes, boolean relationsChanged, long onlyRowSeq) {
        boolean oneRow = onlyRowSeq > 0 && !relationsChanged;
        if (byIdentity.size() == 1) {
            String who = byIdentity.keySet().iterator().next();
            if (!oneRow) {
                return diffForOne(sql, who, from, to, partBytes, relationsChanged);
            }
            Rows rows = rowQuery(sql, ROW_ONE, who, onlyRowSeq);
            return rows.next() && !rows.isNull(0) ? List.of(new Change(List.of(who), List.of(rows.getString(0)))) : List.of();
        }
        String whoJson = identitiesJson();
        List<String> everyone = identities;
        Rows rows = oneRow ? rowQuery(sql, ROW_MANY, whoJson, onlyRowSeq) : query(sql, MANY, relationsChanged, whoJson, from, to, partBytes);
        List<Change> out = new ArrayList<>();
        String group = null;
        List<String> parts = null;
        while (rows.next()) {
            String rep = rows.getString(0);
            if (!rep.equals(group)) {
                group = rep;
                parts = new ArrayList<>();
                // A group of every subscribed identity (the usual case: a row all of them see) is
                // the view's own list; only a smaller group's JSON is read.
                out.add(new Change(rows.getLong(3) == everyone.size() ? everyone : strings(json.parse(rows.getString(1))), parts));
            }
            parts.add(rows.getString(2));
        }
        return out;
    }

    /** The diff for one user only (a catch-up): its parts, or none when nothing it sees changed. */
    public List<String> diffFor(Sql sql, String userId, long from, long to, int partBytes) {
        List<Change> changes = diffForOne(sql, identityKey(userId), from, to, partBytes, true);
        return changes.isEmpty() ? List.of() : changes.get(0).parts();
    }

    /** {@link #diff} for one identity key: a statement without the grouping of identities. */
    private List<Change> diffForOne(Sql sql, String who, long from, long to, int partBytes, boolean relationsChanged) {
        if (!relationsChanged) {
            if (diffSql[RANGE_ONE] == null) {
                compileOneRange();
            }
            Rows one = sql.query(diffSql[RANGE_ONE], Slot.bind(diffParams[RANGE_ONE], WHO, who, FROM, from, TO, to));
            if (!one.next() || one.isNull(0)) {
                return List.of();
            }
            if (one.getLong(1) <= half(partBytes)) {
                return List.of(new Change(List.of(who), List.of(one.getString(0))));
            }
            // Over half a part: the general statement cuts it into parts.
        }
        Rows rows = query(sql, ONE, relationsChanged, who, from, to, partBytes);
        List<String> parts = new ArrayList<>();
        while (rows.next()) {
            parts.add(rows.getString(0));
        }
        return parts.isEmpty() ? List.of() : List.of(new Change(List.of(who), parts));
    }

    private Rows query(Sql sql, int form, boolean relationsChanged, String who, long from, long to, int partBytes) {
        int variant = form + (relationsChanged ? 1 : 0);
        if (diffSql[variant] == null) {
            compileDiff(variant);
        }
        return sql.query(diffSql[variant], Slot.bind(diffParams[variant], PART, half(partBytes), WHO, who, FROM, from, TO, to));
    }

    private Rows rowQuery(Sql sql, int variant, String who, long seq) {
        if (diffSql[variant] == null) {
            compileRowDiff(variant);
        }
        return sql.query(diffSql[variant], Slot.bind(diffParams[variant], WHO, who, SEQ, seq));
    }

    /**
     * The diff when the range changed one row of the view's table (its log entry at {@link #SEQ})
     * and no related table: that row is {@code put} to whoever sees it now, {@code del} to whoever
     * saw it before and does not now. The answer is the general statement's for that range; a row
     * is at most half a part, so it is one part. ROW_ONE answers that part or NULL; ROW_MANY
     * answers the general MANY columns (representative, identities JSON, part, group size).
     */
    private void compileRowDiff(int variant) {
        String name = WhereCompiler.quote(table.name());
        List<Object> params = new ArrayList<>();
        params.add(WHO);
        params.add(SEQ);
        String flag = "(" + seenFlag(params) + ")";
        String who = variant == ROW_ONE ? "SELECT ? AS me" : "SELECT value AS me FROM json_each(?)";
        String from = " FROM who CROSS JOIN img LEFT JOIN " + name + " AS cur ON cur.id = img.id";
        String head = "WITH who AS (" + who + "), img AS (SELECT id, pre FROM __cdc_log WHERE seq = ?)";
        String statement = variant == ROW_ONE
                ? head + " SELECT '[' || " + rowOp(flag, "img.id") + " || ']'" + from
                // Each part is built once per group (at most two: put and del), not per identity.
                : head + ", x AS (SELECT who.me AS who, " + flag + " AS put" + from + ")"
                        + " SELECT min(x.who), json_group_array(x.who), (SELECT '[' || " + rowOp("x.put", "img.id") + " || ']'"
                        + " FROM img LEFT JOIN " + name + " AS cur ON cur.id = img.id), count(*)"
                        + " FROM x WHERE x.put IS NOT NULL GROUP BY x.put ORDER BY min(x.who)";
        diffSql[variant] = shared(statement);
        diffParams[variant] = params;
    }

    /**
     * The one-identity diff when no related table changed, without the general statement's
     * materialized steps and part cutting: each row changed in the range, by its first log entry
     * (its pre-image is the row as it was at the cursor), is put if the identity sees it now and
     * deleted if it saw it before only. Answers the rows as one JSON array and its size in bytes
     * (the caller falls back to the general statement when that is over half a part).
     */
    private void compileOneRange() {
        String name = WhereCompiler.quote(table.name());
        List<Object> params = new ArrayList<>();
        params.add(WHO);
        params.add(FROM);
        params.add(TO);
        String r = rowOp("(" + seenFlag(params) + ")", "ch.id");
        diffSql[RANGE_ONE] = shared("WITH who AS (SELECT ? AS me),"
                + " ch AS (SELECT id, min(seq) AS first FROM __cdc_log WHERE seq > ? AND seq <= ? AND +\"table\" = '" + table.name() + "' GROUP BY id)"
                + " SELECT '[' || group_concat(r, ',') || ']', sum(length(CAST(r AS BLOB)) + 1) FROM (SELECT " + r + " AS r"
                + " FROM who CROSS JOIN ch JOIN __cdc_log AS img ON img.seq = ch.first LEFT JOIN " + name + " AS cur ON cur.id = ch.id"
                + " ORDER BY ch.id) WHERE r IS NOT NULL");
        diffParams[RANGE_ONE] = params;
    }

    /**
     * For a changed row whose live state is {@code cur} and whose state at the cursor is the
     * pre-image {@code img.pre}, with no related table changed: 1 when {@code who.me} sees it now
     * (put), 0 when it saw it then and not now (del), NULL when neither. Appends its parameters.
     */
    private String seenFlag(List<Object> params) {
        String live = compiler.compile(where, table, WhereCompiler.live("cur", "who.me"), params);
        String past = compiler.compile(where, table, WhereCompiler.past(c -> "json_extract(img.pre, '$." + c + "')", "who.me", null), params);
        return "CASE WHEN cur.id IS NOT NULL AND coalesce((" + live + "), 0) THEN 1"
                + " WHEN img.pre IS NOT NULL AND coalesce((" + past + "), 0) THEN 0 END";
    }

    /** The row op for a {@link #seenFlag} value: the put of {@code cur}, the del of {@code idSql}, or NULL. */
    private String rowOp(String flag, String idSql) {
        return "CASE " + flag + " WHEN 1 THEN " + put("cur.id", projection) + " WHEN 0 THEN " + del(idSql) + " END";
    }

    private String del(String idSql) {
        return "json_object('op', 'del', 'table', '" + table.name() + "', 'id', " + idSql + ")";
    }

    private static List<String> strings(Json array) {
        List<String> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            out.add(array.at(i).asString());
        }
        return out;
    }

    /** The table whose rows this view holds. */
    public String tableName() {
        return table.name();
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

    /**
     * Builds a diff statement once per view (its text depends on the schema and the predicate
     * only): {@code variant} is {@link #MANY} or {@link #ONE}, plus 1 when related tables changed.
     * MANY binds a JSON array of identity keys and answers (representative, identities JSON, part,
     * group size); ONE binds one key and answers its parts alone.
     */
    private void compileDiff(int variant) {
        boolean relations = variant % 2 == 1;
        boolean one = variant >= ONE;
        String name = table.name();
        List<Object> params = new ArrayList<>();
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
        // x: one row of flags per (identity, candidate); k: what each identity gets of each row
        // (1 put, 0 del).
        String head = "WITH who AS (" + (one ? "SELECT ? AS me" : "SELECT value AS me FROM json_each(?)") + "),"
                + " ch AS (SELECT id, min(seq) AS first FROM __cdc_log WHERE seq > ? AND seq <= ? AND +\"table\" = '" + name + "' GROUP BY id),"
                + " cand AS (" + candidates + "),"
                + " x AS MATERIALIZED (SELECT who.me AS who, cand.id AS id, ch.first IS NOT NULL AS changed,"
                + " (cur.id IS NOT NULL AND coalesce((" + live + "), 0)) AS now,"
                + " (" + pastExists + " AND coalesce((" + past + "), 0)) AS was"
                + " FROM who CROSS JOIN cand LEFT JOIN ch ON ch.id = cand.id LEFT JOIN __cdc_log AS img ON img.seq = ch.first"
                + " LEFT JOIN " + WhereCompiler.quote(name) + " AS cur ON cur.id = cand.id),"
                + " k AS MATERIALIZED (SELECT who, id, CASE WHEN now THEN (CASE WHEN changed OR NOT was THEN 1 END) WHEN was THEN 0 END AS put"
                + " FROM x WHERE now OR was),";
        String del = del("k.id");
        // Parts as in parts(): a row goes to the part where the running byte count ends.
        String cut = "CAST((sum(length(CAST(r AS BLOB)) + 1) OVER (PARTITION BY who ORDER BY id ROWS UNBOUNDED PRECEDING)) / ? AS INTEGER)";
        String rows;
        if (one) {
            rows = head + " r AS (SELECT k.who AS who, k.id AS id, CASE WHEN k.put THEN " + put("cur.id", projection) + " ELSE " + del + " END AS r"
                    + " FROM k LEFT JOIN " + WhereCompiler.quote(name) + " AS cur ON cur.id = k.id WHERE k.put IS NOT NULL)"
                    + " SELECT '[' || group_concat(r, ',') || ']' FROM (SELECT who, r, " + cut + " AS part FROM r)"
                    + " GROUP BY part ORDER BY part";
        } else {
            // g: identities that get exactly the same ops, grouped under the least of them; doc:
            // each row that someone must receive, serialized once however many receive it.
            rows = head + " sig AS (SELECT who, json_group_array(json_array(put, id)) AS s FROM (SELECT who, id, put FROM k WHERE put IS NOT NULL ORDER BY who, id) GROUP BY who),"
                    + " g AS MATERIALIZED (SELECT min(who) AS rep, json_group_array(who) AS whos, count(*) AS n FROM sig GROUP BY s),"
                    + " doc AS MATERIALIZED (SELECT cur.id AS id, " + put("cur.id", projection) + " AS put FROM " + WhereCompiler.quote(name)
                    + " AS cur WHERE cur.id IN (SELECT id FROM k WHERE put = 1)),"
                    + " r AS (SELECT g.rep AS who, k.id AS id, CASE WHEN k.put THEN doc.put ELSE " + del + " END AS r"
                    + " FROM g JOIN k ON k.who = g.rep AND k.put IS NOT NULL LEFT JOIN doc ON doc.id = k.id),"
                    + " p AS (SELECT who, part, '[' || group_concat(r, ',') || ']' AS rows FROM (SELECT who, r, " + cut + " AS part"
                    + " FROM r WHERE r IS NOT NULL) GROUP BY who, part)"
                    + " SELECT p.who, g.whos, p.rows, g.n FROM p JOIN g ON g.rep = p.who ORDER BY p.who, p.part";
        }
        params.add(PART);
        diffSql[variant] = shared(rows);
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

    private String shared(String text) {
        String known = texts.putIfAbsent(text, text);
        return known == null ? text : known;
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

    /** A JSON array of strings, built in one pass (a view may hold thousands of identities). */
    private static String jsonArray(List<String> values) {
        StringBuilder out = new StringBuilder(values.size() * 12 + 2).append('[');
        for (int i = 0; i < values.size(); i++) {
            out.append(i == 0 ? "" : ",").append(JsonText.quote(values.get(i)));
        }
        return out.append(']').toString();
    }
}
