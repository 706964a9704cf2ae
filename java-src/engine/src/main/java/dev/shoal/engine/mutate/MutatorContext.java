package dev.shoal.engine.mutate;

import dev.shoal.engine.Auth;

/** What a mutator's server implementation may use: storage, the verified identity, the shard, a clock. */
public final class MutatorContext {
    private final Db db;
    private final Auth auth;
    private final String shard;
    private final double nowMs;

    public MutatorContext(Db db, Auth auth, String shard, double nowMs) {
        this.db = db;
        this.auth = auth;
        this.shard = shard;
        this.nowMs = nowMs;
    }

    public Db db() {
        return db;
    }

    public Auth auth() {
        return auth;
    }

    public String shard() {
        return shard;
    }

    /** Milliseconds since the epoch, fixed for the whole transaction. */
    public double now() {
        return nowMs;
    }
}
