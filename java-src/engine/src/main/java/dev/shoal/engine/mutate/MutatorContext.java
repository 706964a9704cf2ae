package dev.shoal.engine.mutate;

import dev.shoal.engine.Auth;

/**
 * What a mutator's server implementation may use: storage ({@code db}), the verified identity,
 * the shard's name, and {@code now}, milliseconds since the epoch fixed for the whole push (every mutation of it).
 */
public record MutatorContext(Db db, Auth auth, String shard, double now) {}
