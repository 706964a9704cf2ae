package dev.shoal.engine.shape;

/** One active subscription of one socket: {@code id} as the client named it, for a verified user. */
public record Subscription(String conn, String id, String userId, View view) {}
