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
        int compactBatchRows) {

    /**
     * The protocol's defaults; the log keeps at least its newest 100,000 rows or 7 days, whichever
     * holds more, trimmed 1,000 rows per alarm run.
     */
    public static Limits defaults() {
        // What a client must respect comes from the wire's one definition (dev.shoal.protocol.Wire).
        return new Limits(dev.shoal.protocol.Wire.FRAME_BYTES_MAX, dev.shoal.protocol.Wire.MUTATIONS_PER_PUSH_MAX,
                dev.shoal.protocol.Wire.ARGS_BYTES_MAX, dev.shoal.protocol.Wire.SUBSCRIPTIONS_PER_SOCKET_MAX,
                256 << 10, 64 << 10, 100_000, 7 * 24 * 3600_000.0, 1_000);
    }

    public Limits {
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
                (int) take(v, "compactBatchRows", d.compactBatchRows()));
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
                logRowsMax, logAgeMsMax, compactBatchRows);
    }

    public Limits withPokePartBytesMax(int bytes, int rowBytes) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, bytes, rowBytes,
                logRowsMax, logAgeMsMax, compactBatchRows);
    }

    /** Log retention: rows younger than {@code ageMs} or among the newest {@code rows} are kept. */
    public Limits withRetention(long rows, double ageMs, int batchRows) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, pokePartBytesMax,
                rowBytesMax, rows, ageMs, batchRows);
    }
}
