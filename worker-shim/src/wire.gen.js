// GENERATED from java-src/protocol (dev.shoal.protocol.Wire and ErrorCode): do not edit.
// Regenerate: mvn -q -pl java-src/protocol test -Dshoal.wire.write=true (WireJavaScriptTest fails while stale).

export const PROTOCOL_VERSION = 1
export const SUBPROTOCOL = "shoal-v1"
export const AUTH_SUBPROTOCOL_PREFIX = "shoal-auth."
export const DEFAULT_SHARD = "__root__"

/** Close codes, each after an error frame of the code named. */
export const CLOSE = Object.freeze({
  TOKEN_EXPIRED: 4001,
  PROTOCOL_VERSION: 4002,
  SHARD_FORBIDDEN: 4003,
  FRAME_TOO_LARGE: 4009,
  RATE_LIMITED: 4029,
})

/** The default limits a client must respect until connected.limits says others (UTF-8 bytes; counts). */
export const LIMITS = Object.freeze({
  frameBytesMax: 1048576,
  mutationsPerPushMax: 100,
  argsBytesMax: 65536,
  subscriptionsPerSocketMax: 100,
})

/** Every wire error code: the close that follows it (0: none) and how a client recovers. */
export const ERROR_CODES = Object.freeze({
  BAD_FRAME: Object.freeze({ close: 0, recovery: "resend-smaller" }),
  BAD_ARGS: Object.freeze({ close: 0, recovery: "refused" }),
  UNKNOWN_SHAPE: Object.freeze({ close: 0, recovery: "refused" }),
  UNKNOWN_MUTATOR: Object.freeze({ close: 0, recovery: "refused" }),
  FORBIDDEN: Object.freeze({ close: 0, recovery: "refused" }),
  WRONG_SHARD: Object.freeze({ close: 0, recovery: "refused" }),
  OUT_OF_ORDER: Object.freeze({ close: 0, recovery: "renumber" }),
  CONFLICT: Object.freeze({ close: 0, recovery: "refused" }),
  VALIDATION: Object.freeze({ close: 0, recovery: "refused" }),
  MUTATOR_FAILED: Object.freeze({ close: 0, recovery: "refused" }),
  TOO_MANY_SUBSCRIPTIONS: Object.freeze({ close: 0, recovery: "refused" }),
  TOKEN_EXPIRED: Object.freeze({ close: 4001, recovery: "reconnect-with-fresh-token" }),
  TOO_MANY_SOCKETS: Object.freeze({ close: 4008, recovery: "reconnect-after-backoff" }),
  PROTOCOL_VERSION: Object.freeze({ close: 4002, recovery: "stop" }),
  FRAME_TOO_LARGE: Object.freeze({ close: 4009, recovery: "resend-smaller" }),
  RATE_LIMITED: Object.freeze({ close: 4029, recovery: "reconnect-after-backoff" }),
  INTERNAL: Object.freeze({ close: 0, recovery: "retry-after-backoff" }),
})
