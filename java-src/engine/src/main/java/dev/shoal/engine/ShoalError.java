package dev.shoal.engine;

import dev.shoal.protocol.ErrorCode;

/**
 * An expected failure that reaches the client as a typed error: a protocol code, or a mutator's own
 * code (any string of {@code [A-Z][A-Z0-9_]*}). Programmer errors in the engine are ordinary
 * exceptions, never this.
 */
public final class ShoalError extends RuntimeException {
    public final String code;

    private ShoalError(String code, String message) {
        super(message);
        this.code = code;
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

    /** A mutator's own typed error, e.g. {@code ShoalError.custom("CHANNEL_FULL", "...")}. */
    public static ShoalError custom(String code, String message) {
        if (code == null || !code.matches("[A-Z][A-Z0-9_]{0,63}")) {
            throw new IllegalArgumentException("error codes are UPPER_SNAKE_CASE, got " + code);
        }
        return new ShoalError(code, message);
    }
}
