package dev.shoal.protocol;

/** A frame or request the protocol refuses, with the wire code to answer it with. */
public final class ProtocolException extends RuntimeException {
    public final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }
}
