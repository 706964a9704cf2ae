package dev.shoal.engine;

import dev.shoal.protocol.ErrorCode;

/**
 * An expected failure that reaches the client as a typed error: a protocol code, or a mutator's own
 * code (any string of {@code [A-Z][A-Z0-9_]*}). Programmer errors in the engine are ordinary
 * exceptions, never this.
 */
public final class ShoalError extends RuntimeException {
    public final String code;
    /** With {@code WRONG_SHARD}: the shard to use instead; null otherwise. */
    public final String shard;

    private ShoalError(String code, String message) {
        this(code, message, null);
    }

    private ShoalError(String code, String message, String shard) {
        super(message);
        this.code = code;
        this.shard = shard;
    }

    /** The args or the row name another shard than this one: {@code shard} is the right one. */
    public static ShoalError wrongShard(String shard, String message) {
        return new ShoalError(ErrorCode.WRONG_SHARD.name(), message, shard);
    }

    public static ShoalError of(ErrorCode code, String message) {
        return new ShoalError(code.name(), message);
    }

    public static ShoalError badArgs(String message) {
        return of(ErrorCode.BAD_ARGS, message);
    }

    public static ShoalError validation(String message) {
        return of(ErrorCode.VALIDATION, message);
    }

    public static ShoalError conflict(String message) {
        return of(ErrorCode.CONFLICT, message);
    }

    public static ShoalError forbidden(String message) {
        return of(ErrorCode.FORBIDDEN, message);
    }

    /**
     * A mutator's own typed error, e.g. {@code ShoalError.custom("CHANNEL_FULL", "...")}. Protocol
     * codes are refused: clients act on them (INTERNAL means "retry", OUT_OF_ORDER "renumber"), so
     * use {@link #validation}, {@link #conflict} or {@link #forbidden} for those meanings.
     */
    public static ShoalError custom(String code, String message) {
        if (!isCodeText(code)) {
            throw new IllegalArgumentException("error codes are UPPER_SNAKE_CASE of at most 64 characters, got " + code);
        }
        for (ErrorCode reserved : ErrorCode.values()) {
            if (reserved.name().equals(code)) {
                throw new IllegalArgumentException(code + " is a protocol code: a mutator's own code must differ from every protocol code");
            }
        }
        return new ShoalError(code, message);
    }

    private static boolean isCodeText(String code) {
        if (code == null || code.isEmpty() || code.length() > 64 || code.charAt(0) < 'A' || code.charAt(0) > 'Z') {
            return false;
        }
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
                return false;
            }
        }
        return true;
    }
}
