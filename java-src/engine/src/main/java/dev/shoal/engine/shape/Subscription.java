package dev.shoal.engine.shape;

/** One active subscription of one socket: {@code id} as the client named it. */
public final class Subscription {
    public final String conn;
    public final String id;
    public final View view;

    public Subscription(String conn, String id, View view) {
        this.conn = conn;
        this.id = id;
        this.view = view;
    }
}
