package dev.shoal.protocol;

/**
 * Every error code of the wire protocol (PROTOCOL.md, "Errors"), with its close code if fatal and
 * the rule by which a client recovers. Generated for the JS client with {@link Wire#javaScript()}.
 */
public enum ErrorCode {
    /** A malformed frame; a push refused so ran nothing: send it again in smaller batches. */
    BAD_FRAME(0, Recovery.RESEND_SMALLER),
    BAD_ARGS(0, Recovery.REFUSED),
    UNKNOWN_SHAPE(0, Recovery.REFUSED),
    UNKNOWN_MUTATOR(0, Recovery.REFUSED),
    FORBIDDEN(0, Recovery.REFUSED),
    WRONG_SHARD(0, Recovery.REFUSED),
    OUT_OF_ORDER(0, Recovery.RENUMBER),
    CONFLICT(0, Recovery.REFUSED),
    VALIDATION(0, Recovery.REFUSED),
    MUTATOR_FAILED(0, Recovery.REFUSED),
    TOO_MANY_SUBSCRIPTIONS(0, Recovery.REFUSED),
    TOKEN_EXPIRED(4001, Recovery.RECONNECT_WITH_FRESH_TOKEN),
    /** The identity already holds {@code socketsPerIdentityMax} sockets on this shard. */
    TOO_MANY_SOCKETS(4008, Recovery.RECONNECT_AFTER_BACKOFF),
    PROTOCOL_VERSION(4002, Recovery.STOP),
    FRAME_TOO_LARGE(4009, Recovery.RESEND_SMALLER),
    RATE_LIMITED(4029, Recovery.RECONNECT_AFTER_BACKOFF),
    INTERNAL(0, Recovery.RETRY_AFTER_BACKOFF);

    /** How a client recovers from an error of a code. */
    public enum Recovery {
        /** The subscription or mutation is refused for good (a mutation's id is consumed): tell the caller. */
        REFUSED,
        /** Pending mutations are renumbered from the id the server expects, then pushed again. */
        RENUMBER,
        /** Nothing ran: push again in smaller batches; a single mutation refused so is given up. */
        RESEND_SMALLER,
        /** Reconnect at once with a fresh token. */
        RECONNECT_WITH_FRESH_TOKEN,
        /** Reconnect after a backoff. */
        RECONNECT_AFTER_BACKOFF,
        /** Nothing was consumed: push again after a backoff. */
        RETRY_AFTER_BACKOFF,
        /** Final: do not reconnect. */
        STOP
    }

    /** WebSocket close code that follows this error, or 0 when the socket stays open. */
    public final int closeCode;
    /** How a client recovers. */
    public final Recovery recovery;

    ErrorCode(int closeCode, Recovery recovery) {
        this.closeCode = closeCode;
        this.recovery = recovery;
    }
}
