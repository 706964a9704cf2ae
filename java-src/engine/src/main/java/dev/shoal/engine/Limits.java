package dev.shoal.engine;

/**
 * Every limit of a shard, named with its unit, each enforced with its own error (PROTOCOL.md,
 * "Limits"). {@link #defaults()} gives the protocol's defaults; change one with the {@code with*}
 * methods.
 */
public record Limits(
        int frameBytesMax,
        int mutationsPerPushMax,
        int argsBytesMax,
        int subscriptionsPerSocketMax,
        int pokePartBytesMax,
        int rowBytesMax,
        long logRowsMax,
        double logAgeMsMax,
        long logBytesMax,
        int compactBatchRows,
        int socketsPerIdentityMax,
        int viewsPerIdentityMax,
        int viewsPerShardMax,
        long catchUpRowsMax,
        int burstPushesMax) {

    /**
     * The protocol's defaults; the log keeps its newest 100,000 rows or 7 days, whichever holds more,
     * but never more than 64 MiB of row documents and pre-images; trimmed 1,000 rows per alarm run.
     * What one identity can open on a shard: 100 sockets and 1,000 distinct views; the shard holds at
     * most 20,000 distinct views. A catch-up over more than 20,000 log rows answers a reset instead.
     * A burst of pushes shares a poke round at least every 8 pushes.
     */
    public static Limits defaults() {
        // What a client must respect comes from the wire's one definition (dev.shoal.protocol.Wire).
        return new Limits(dev.shoal.protocol.Wire.FRAME_BYTES_MAX, dev.shoal.protocol.Wire.MUTATIONS_PER_PUSH_MAX,
                dev.shoal.protocol.Wire.ARGS_BYTES_MAX, dev.shoal.protocol.Wire.SUBSCRIPTIONS_PER_SOCKET_MAX,
                256 << 10, 64 << 10, 100_000, 7 * 24 * 3600_000.0, 64L << 20, 1_000, 100, 1_000, 20_000, 20_000, 8);
    }

    public Limits {
        if (burstPushesMax < 1) {
            throw new IllegalArgumentException("burstPushesMax must be at least 1 (1: every push is poked at once)");
        }
        if (rowBytesMax * 2 > pokePartBytesMax) {
            // Parts are cut where the running size crosses pokePartBytesMax / 2, so a part holds at most
            // half the limit plus one row: rows up to half the limit keep every part within it.
            throw new IllegalArgumentException("rowBytesMax must be at most pokePartBytesMax / 2");
        }
    }

    /**
     * The defaults with the members of {@code config} (named as the components of this record)
     * replaced, e.g. {@code {"logRowsMax": 5000, "subscriptionsPerSocketMax": 20}}.
     * @throws IllegalArgumentException naming an unknown key or a value that is not a positive number
     */
    public static Limits fromJson(dev.shoal.protocol.Json config) {
        Limits d = defaults();
        if (config == null || config.isNull()) {
            return d;
        }
        java.util.Map<String, Double> v = new java.util.HashMap<>();
        for (String key : config.keys()) {
            dev.shoal.protocol.Json value = config.get(key);
            if (!value.isNumber() || !(value.asNumber() >= 0)) {
                throw new IllegalArgumentException("limit " + key + " must be a non-negative number");
            }
            v.put(key, value.asNumber());
        }
        Limits out = new Limits(
                (int) take(v, "frameBytesMax", d.frameBytesMax()),
                (int) take(v, "mutationsPerPushMax", d.mutationsPerPushMax()),
                (int) take(v, "argsBytesMax", d.argsBytesMax()),
                (int) take(v, "subscriptionsPerSocketMax", d.subscriptionsPerSocketMax()),
                (int) take(v, "pokePartBytesMax", d.pokePartBytesMax()),
                (int) take(v, "rowBytesMax", d.rowBytesMax()),
                (long) take(v, "logRowsMax", d.logRowsMax()),
                take(v, "logAgeMsMax", d.logAgeMsMax()),
                (long) take(v, "logBytesMax", d.logBytesMax()),
                (int) take(v, "compactBatchRows", d.compactBatchRows()),
                (int) take(v, "socketsPerIdentityMax", d.socketsPerIdentityMax()),
                (int) take(v, "viewsPerIdentityMax", d.viewsPerIdentityMax()),
                (int) take(v, "viewsPerShardMax", d.viewsPerShardMax()),
                (long) take(v, "catchUpRowsMax", d.catchUpRowsMax()),
                (int) take(v, "burstPushesMax", d.burstPushesMax()));
        if (!v.isEmpty()) {
            throw new IllegalArgumentException("unknown limits: " + String.join(", ", v.keySet()));
        }
        return out;
    }

    private static double take(java.util.Map<String, Double> values, String key, double otherwise) {
        Double v = values.remove(key);
        return v == null ? otherwise : v;
    }

    public Limits withSubscriptionsPerSocketMax(int n) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, n, pokePartBytesMax, rowBytesMax,
                logRowsMax, logAgeMsMax, logBytesMax, compactBatchRows,
                socketsPerIdentityMax, viewsPerIdentityMax, viewsPerShardMax, catchUpRowsMax, burstPushesMax);
    }

    public Limits withPokePartBytesMax(int bytes, int rowBytes) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, bytes, rowBytes,
                logRowsMax, logAgeMsMax, logBytesMax, compactBatchRows,
                socketsPerIdentityMax, viewsPerIdentityMax, viewsPerShardMax, catchUpRowsMax, burstPushesMax);
    }

    /** Log retention: rows younger than {@code ageMs} or among the newest {@code rows} are kept. */
    public Limits withRetention(long rows, double ageMs, int batchRows) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, rows, ageMs, logBytesMax, batchRows,
                socketsPerIdentityMax, viewsPerIdentityMax, viewsPerShardMax, catchUpRowsMax, burstPushesMax);
    }

    /** What one identity, and the shard, may open: sockets per identity, distinct views per identity and per shard. */
    public Limits withOpenLimits(int socketsPerIdentity, int viewsPerIdentity, int viewsPerShard) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, logRowsMax, logAgeMsMax, logBytesMax, compactBatchRows, socketsPerIdentity, viewsPerIdentity, viewsPerShard,
                catchUpRowsMax, burstPushesMax);
    }

    /** The longest catch-up (log rows between the cursor and now) answered as a catch-up; longer ones reset. */
    public Limits withCatchUpRowsMax(long rows) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, logRowsMax, logAgeMsMax, logBytesMax, compactBatchRows, socketsPerIdentityMax, viewsPerIdentityMax,
                viewsPerShardMax, rows, burstPushesMax);
    }

    /** The pushes a burst may hold back before a poke round runs anyway (1: every push is poked at once). */
    public Limits withBurstPushesMax(int pushes) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, logRowsMax, logAgeMsMax, logBytesMax, compactBatchRows,
                socketsPerIdentityMax, viewsPerIdentityMax, viewsPerShardMax, catchUpRowsMax, pushes);
    }

    /** The log's size cap: the newest rows whose documents and pre-images fit in {@code bytes} are kept, whatever their age. */
    public Limits withLogBytesMax(long bytes) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, logRowsMax, logAgeMsMax, bytes, compactBatchRows,
                socketsPerIdentityMax, viewsPerIdentityMax, viewsPerShardMax, catchUpRowsMax, burstPushesMax);
    }
}
