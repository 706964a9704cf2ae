package dev.shoal.testkit;

import dev.shoal.engine.App;
import dev.shoal.engine.shard.GlobalOutbox;
import dev.shoal.engine.sql.Rows;
import dev.shoal.protocol.Json;
import dev.shoal.protocol.JsonText;

/**
 * D1 for JVM tests of an app with global tables: a second SQLite database that receives the
 * shards' outbox batches as the Durable Object's host applies them (one batch, one transaction),
 * and refreshes a {@code __global__} {@link TestShard}'s mirror from it, as the host does after a
 * write through Shoal. Together they run the global path of docs/sharding.md without workerd.
 */
public final class TestD1 {
    public final JdbcSql sql;
    private final App app;

    /** A fresh D1 with the app's global tables. */
    public TestD1(App app) {
        this(app, JdbcSql.memory());
    }

    /**
     * The app's global tables in an existing D1 ({@code sql}, e.g. one an earlier version of the app
     * created), made as the host makes them: created if missing, then given the columns they lack.
     */
    public TestD1(App app, JdbcSql sql) {
        this.app = app;
        this.sql = sql;
        runEach(JacksonJson.parse(GlobalOutbox.schemaJson(app)));
        Json tables = JacksonJson.parse(GlobalOutbox.tablesJson(app));
        StringBuilder stored = new StringBuilder("{");
        for (int i = 0; i < tables.size(); i++) {
            String table = tables.at(i).asString();
            Rows columns = sql.query(GlobalOutbox.columnsQuery(app, table));
            stored.append(i == 0 ? "" : ",").append(JsonText.quote(table)).append(":[");
            for (int k = 0; columns.next(); k++) {
                stored.append(k == 0 ? "" : ",").append(JsonText.quote(columns.getString(1))); // PRAGMA table_info: cid, name, ...
            }
            stored.append("]");
        }
        runEach(JacksonJson.parse(GlobalOutbox.migrationJson(app, JacksonJson.PARSER, stored.append("}").toString())));
    }

    private void runEach(Json statements) {
        for (int i = 0; i < statements.size(); i++) {
            sql.exec(statements.at(i).asString());
        }
    }

    /** Applies every pending global write of {@code shard} to this D1, marks it applied, and refreshes {@code global} (may be null). */
    public void apply(TestShard shard, TestShard global) {
        for (;;) {
            Json batch = JacksonJson.parse(GlobalOutbox.batchJson(shard.sql, app, JacksonJson.PARSER, shard.name, 50));
            long upTo = (long) batch.get("upTo").asNumber();
            if (upTo == 0) {
                break;
            }
            run(batch.get("statements"));
            GlobalOutbox.applied(shard.sql, upTo);
            if (global != null) {
                refresh(global);
            }
        }
    }

    /** Re-reads every global table into {@code global}'s mirror (what the poll does). */
    public void refresh(TestShard global) {
        Json tables = JacksonJson.parse(GlobalOutbox.tablesJson(app));
        for (int i = 0; i < tables.size(); i++) {
            String table = tables.at(i).asString();
            String columns = "";
            for (String c : app.table(table).columns().keySet()) {
                columns += (columns.isEmpty() ? "" : ", ") + "'" + c + "', \"" + c + "\"";
            }
            String rows = sql.queryString("SELECT coalesce(json_group_array(json_object(" + columns + ")), '[]') FROM \"" + table + "\"");
            global.shard.mirrorGlobal(table, rows, null);
        }
    }

    private void run(Json statements) {
        runBatch(sql, statements);
    }

    /** Runs a D1 batch ({@code [{sql, params}]}) on {@code sql} as D1 does: one transaction. */
    public static void runBatch(JdbcSql sql, Json statements) {
        sql.transaction(() -> {
            for (int i = 0; i < statements.size(); i++) {
                Json s = statements.at(i);
                Json params = s.get("params");
                Object[] args = new Object[params.size()];
                for (int k = 0; k < args.length; k++) {
                    Json p = params.at(k);
                    args[k] = p.isNull() ? null : p.isString() ? p.asString() : (Object) p.asNumber();
                }
                sql.exec(s.get("sql").asString(), args);
            }
        });
    }
}
