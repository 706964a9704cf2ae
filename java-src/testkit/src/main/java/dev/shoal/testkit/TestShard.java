package dev.shoal.testkit;

import dev.shoal.engine.App;
import dev.shoal.engine.Limits;
import dev.shoal.engine.shard.ShardRouting;
import dev.shoal.engine.sql.Sql;
import dev.shoal.engine.sync.Shard;

/** A shard on real SQLite with recorded peers, as the Durable Object would host it. */
public final class TestShard {
    public final Sql sql;
    public final RecordingPeers peers = new RecordingPeers();
    public Shard shard;
    private final App app;
    private final Limits limits;
    /** The shard's name: {@code __root__} (where unsharded tables live) unless a constructor says otherwise. */
    public final String name;

    public TestShard(App app) {
        this(app, JdbcSql.memory(), Limits.defaults());
    }

    /** The shard named {@code name} (e.g. a channel's id, for tables sharded by it). */
    public TestShard(App app, String name) {
        this(app, JdbcSql.memory(), Limits.defaults(), name);
    }

    public TestShard(App app, Sql sql, Limits limits) {
        this(app, sql, limits, ShardRouting.ROOT);
    }

    public TestShard(App app, Sql sql, Limits limits, String name) {
        this.app = app;
        this.sql = sql;
        this.limits = limits;
        this.name = name;
        this.shard = new Shard(app, sql, JacksonJson.PARSER, peers, name, limits);
    }

    /** A new engine instance over the same database, as after the object was evicted. */
    public void restart() {
        shard = new Shard(app, sql, JacksonJson.PARSER, peers, name, limits);
    }

    public void open(String conn, String user, String client) {
        shard.open(conn, user, client, "{}", 0);
    }

    /** One frame, handled as the host handles a frame that arrives alone: its burst ends after it. */
    public void send(String conn, String frame) {
        shard.message(conn, frame);
        if (shard.inBurst()) {
            shard.endBurst();
        }
    }

    /**
     * Frames that arrive together (the host's event loop does not turn between them), each
     * {@code {conn, frame}}: pushes among them may share poke rounds; the burst ends after the last.
     */
    public void sendBurst(String[]... connAndFrame) {
        for (String[] f : connAndFrame) {
            shard.message(f[0], f[1]);
        }
        if (shard.inBurst()) {
            shard.endBurst();
        }
    }

    public long count(String sqlText) {
        return sql.queryLong(-1, sqlText);
    }
}
