package dev.shoal.engine.sync;

/** The sockets of a shard, addressed by connection id. Implemented by the Durable Object. */
public interface Peers {
    void send(String conn, String frame);

    /**
     * Sends the frame {@code head + body + tail}. Pokes splice SQLite-built row JSON (the body,
     * shared by every socket of a view) between a few bytes that differ per socket; a host whose
     * native string concatenation is cheaper than the engine's overrides this.
     */
    default void send(String conn, String head, String body, String tail) {
        send(conn, head + body + tail);
    }

    void close(String conn, int code, String reason);
}
