package dev.shoal.engine.sync;

/** The sockets of a shard, addressed by connection id. Implemented by the Durable Object. */
public interface Peers {
    void send(String conn, String frame);

    void close(String conn, int code, String reason);
}
