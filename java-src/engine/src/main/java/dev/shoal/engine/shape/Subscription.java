package dev.shoal.engine.shape;

/** One active subscription of one socket: {@code id} as the client named it, for a verified user. */
public final class Subscription {
    public final String conn;
    public final String id;
    public final String userId;
    public final View view;

    public Subscription(String conn, String id, String userId, View view) {
        this.conn = conn;
        this.id = id;
        this.userId = userId;
        this.view = view;
    }
}
