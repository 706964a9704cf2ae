package dev.shoal.protocol;

/** Every error code of the wire protocol (PROTOCOL.md, "Errors"), with its close code if fatal. */
public enum ErrorCode {
    BAD_FRAME(0),
    BAD_ARGS(0),
    UNKNOWN_SHAPE(0),
    UNKNOWN_MUTATOR(0),
    FORBIDDEN(0),
    WRONG_SHARD(0),
    OUT_OF_ORDER(0),
    CONFLICT(0),
    VALIDATION(0),
    MUTATOR_FAILED(0),
    TOO_MANY_SUBSCRIPTIONS(0),
    TOKEN_EXPIRED(4001),
    /** The identity already holds {@code socketsPerIdentityMax} sockets on this shard. */
    TOO_MANY_SOCKETS(4008),
    PROTOCOL_VERSION(4002),
    FRAME_TOO_LARGE(4009),
    RATE_LIMITED(4029),
    INTERNAL(0);

    /** WebSocket close code that follows this error, or 0 when the socket stays open. */
    public final int closeCode;

    ErrorCode(int closeCode) {
        this.closeCode = closeCode;
    }
}
