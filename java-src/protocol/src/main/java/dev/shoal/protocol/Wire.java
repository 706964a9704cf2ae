package dev.shoal.protocol;

import java.util.Locale;

/**
 * The wire's constants that a client must agree on, in one place (PROTOCOL.md): the protocol
 * version, the subprotocol names, the default shard, the close codes, and the default limits a
 * client must respect before a server says its own in {@code connected.limits}. The JS client's
 * {@code client/client/src/wire.gen.js} is generated from this class and {@link ErrorCode} by
 * {@link #javaScript()}; a test fails while that file is stale.
 */
public final class Wire {
    private Wire() {}

    /** The protocol version: the {@code v} query parameter of {@code /sync}. */
    public static final int PROTOCOL_VERSION = 1;
    /** The subprotocol a client offers and the server selects. */
    public static final String SUBPROTOCOL = "shoal-v" + PROTOCOL_VERSION;
    /** A browser's bearer token rides as the subprotocol {@code shoal-auth.<token>}. */
    public static final String AUTH_SUBPROTOCOL_PREFIX = "shoal-auth.";
    /** The shard of a request that names none. */
    public static final String DEFAULT_SHARD = "__root__";

    /** Close codes: each follows an {@code error} frame of the code named. */
    public static final int CLOSE_TOKEN_EXPIRED = ErrorCode.TOKEN_EXPIRED.closeCode;
    public static final int CLOSE_PROTOCOL_VERSION = ErrorCode.PROTOCOL_VERSION.closeCode;
    /** {@code FORBIDDEN} for the shard as a whole (the identity may not use it): final. */
    public static final int CLOSE_SHARD_FORBIDDEN = 4003;
    public static final int CLOSE_FRAME_TOO_LARGE = ErrorCode.FRAME_TOO_LARGE.closeCode;
    public static final int CLOSE_RATE_LIMITED = ErrorCode.RATE_LIMITED.closeCode;

    /** The default limits a client must respect (UTF-8 bytes; counts), until {@code connected.limits} says others. */
    public static final int FRAME_BYTES_MAX = 1 << 20;
    public static final int MUTATIONS_PER_PUSH_MAX = 100;
    public static final int ARGS_BYTES_MAX = 64 << 10;
    public static final int SUBSCRIPTIONS_PER_SOCKET_MAX = 100;

    /** The text of {@code client/client/src/wire.gen.js}. */
    public static String javaScript() {
        StringBuilder js = new StringBuilder();
        js.append("// GENERATED from java-src/protocol (dev.shoal.protocol.Wire and ErrorCode): do not edit.\n");
        js.append("// Regenerate: mvn -q -pl java-src/protocol test -Dshoal.wire.write=true (WireJavaScriptTest fails while stale).\n\n");
        js.append("export const PROTOCOL_VERSION = ").append(PROTOCOL_VERSION).append('\n');
        js.append("export const SUBPROTOCOL = ").append(JsonText.quote(SUBPROTOCOL)).append('\n');
        js.append("export const AUTH_SUBPROTOCOL_PREFIX = ").append(JsonText.quote(AUTH_SUBPROTOCOL_PREFIX)).append('\n');
        js.append("export const DEFAULT_SHARD = ").append(JsonText.quote(DEFAULT_SHARD)).append("\n\n");
        js.append("/** Close codes, each after an error frame of the code named. */\n");
        js.append("export const CLOSE = Object.freeze({\n");
        js.append("  TOKEN_EXPIRED: ").append(CLOSE_TOKEN_EXPIRED).append(",\n");
        js.append("  PROTOCOL_VERSION: ").append(CLOSE_PROTOCOL_VERSION).append(",\n");
        js.append("  SHARD_FORBIDDEN: ").append(CLOSE_SHARD_FORBIDDEN).append(",\n");
        js.append("  FRAME_TOO_LARGE: ").append(CLOSE_FRAME_TOO_LARGE).append(",\n");
        js.append("  RATE_LIMITED: ").append(CLOSE_RATE_LIMITED).append(",\n");
        js.append("})\n\n");
        js.append("/** The default limits a client must respect until connected.limits says others (UTF-8 bytes; counts). */\n");
        js.append("export const LIMITS = Object.freeze({\n");
        js.append("  frameBytesMax: ").append(FRAME_BYTES_MAX).append(",\n");
        js.append("  mutationsPerPushMax: ").append(MUTATIONS_PER_PUSH_MAX).append(",\n");
        js.append("  argsBytesMax: ").append(ARGS_BYTES_MAX).append(",\n");
        js.append("  subscriptionsPerSocketMax: ").append(SUBSCRIPTIONS_PER_SOCKET_MAX).append(",\n");
        js.append("})\n\n");
        js.append("/** Every wire error code: the close that follows it (0: none) and how a client recovers. */\n");
        js.append("export const ERROR_CODES = Object.freeze({\n");
        for (ErrorCode c : ErrorCode.values()) {
            js.append("  ").append(c.name()).append(": Object.freeze({ close: ").append(c.closeCode)
                    .append(", recovery: ").append(JsonText.quote(c.recovery.name().toLowerCase(Locale.ROOT).replace('_', '-')))
                    .append(" }),\n");
        }
        js.append("})\n");
        return js.toString();
    }
}
