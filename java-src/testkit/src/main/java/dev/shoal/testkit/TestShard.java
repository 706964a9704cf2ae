package dev.shoal.testkit;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.engine.sync.Shard;

/** A shard on real SQLite with recorded peers, as the Durable Object would host it. */
public final class TestShard {
    public final JdbcSql sql;
    public final RecordingPeers peers = new RecordingPeers();
    public Shard shard;
    private final App app;
    private final Limits limits;

    public TestShard(App app) {
        this(app, JdbcSql.memory(), Limits.defaults());
    }

    public TestShard(App app, JdbcSql sql, Limits limits) {
        this.app = app;
        this.sql = sql;
        this.limits = limits;
        this.shard = new Shard(app, sql, JacksonJson.PARSER, peers, "test", limits);
    }

    /** A new engine instance over the same database, as after the object was evicted. */
    public void restart() {
        shard = new Shard(app, sql, JacksonJson.PARSER, peers, "test", limits);
    }

    public void open(String conn, String user, String client) {
        shard.open(conn, user, client, "{}", 0);
    }

    public void send(String conn, String frame) {
        shard.message(conn, frame);
    }

    public long count(String sqlText) {
        return sql.queryLong(-1, sqlText);
    }
}
