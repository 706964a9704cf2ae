package dev.shoal.protocol;

/** A position in a shard's log: {@code seq} on the timeline named {@code epoch}. */
public record Cursor(long seq, String epoch) {}
