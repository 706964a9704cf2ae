package dev.shoal.engine;

import dev.shoal.protocol.Json;

/**
 * The verified identity of a socket or mutation: the token's {@code sub} and the claims the Worker
 * forwards. Never taken from a frame.
 */
public record Auth(String userId, Json claims) {}
