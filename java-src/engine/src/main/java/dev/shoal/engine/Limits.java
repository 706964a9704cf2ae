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
        int rowBytesMax) {

    public static Limits defaults() {
        return new Limits(1 << 20, 100, 64 << 10, 100, 256 << 10, 64 << 10);
    }

    public Limits {
        if (rowBytesMax * 2 > pokePartBytesMax) {
            // Parts are cut where the running size crosses pokePartBytesMax / 2, so a part holds at most
            // half the limit plus one row: rows up to half the limit keep every part within it.
            throw new IllegalArgumentException("rowBytesMax must be at most pokePartBytesMax / 2");
        }
    }

    public Limits withSubscriptionsPerSocketMax(int n) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, n, pokePartBytesMax, rowBytesMax);
    }

    public Limits withPokePartBytesMax(int bytes, int rowBytes) {
        return new Limits(frameBytesMax, mutationsPerPushMax, argsBytesMax, subscriptionsPerSocketMax, bytes, rowBytes);
    }
}
