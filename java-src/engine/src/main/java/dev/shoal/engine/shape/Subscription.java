package dev.shoal.engine.shape;

/**
 * One active subscription of one socket: {@code id} as the client named it. {@code socket} is the
 * host's record of the socket (the sync package's connection), so that fan-out reaches it without
 * a lookup.
 */
public record Subscription(Subscriber socket, String id, View view) {
    /** The socket a subscription belongs to, as a view needs to know it. */
    public interface Subscriber {
        String conn();

        /** The verified user id: what the view's identity-dependent predicate is evaluated for. */
        String userId();
    }

    public String userId() {
        return socket.userId();
    }
}
