package dev.shoal.protocol;

import java.util.List;

/** The frames a client sends (PROTOCOL.md, "Client -> server"). */
public sealed interface ClientFrame {

    /** Start syncing one shape; {@code since} is null for a fresh subscription. */
    record Subscribe(String id, String shape, Json args, Cursor since) implements ClientFrame {}

    record Unsubscribe(String id) implements ClientFrame {}

    record Push(List<Mutation> mutations) implements ClientFrame {}

    /** One pushed mutation; {@code args} is null when the client sent none. */
    record Mutation(long id, String name, Json args) {}
}
