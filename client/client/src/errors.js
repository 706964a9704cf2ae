// One root error class. `code` is a wire code from PROTOCOL.md or one of the
// client's own codes (OUTBOX_FULL, STORAGE, IDENTITY_CHANGED, POKE_TOO_LARGE,
// BAD_SERVER_FRAME, CLOSED). Messages never contain the token.

/** What a developer should do next, per code. */
const HINTS = {
  BAD_FRAME: 'The server could not read a frame from this client; this is a bug in @shoal/client or a version mismatch.',
  BAD_ARGS: 'Fix the arguments: they must match the shape\'s or mutator\'s declared validators (the message names the field).',
  UNKNOWN_SHAPE: 'No shape of this name is registered on the server; check the name and that the worker is up to date.',
  UNKNOWN_MUTATOR: 'No mutator of this name is registered on the server; check the name and that the worker is up to date.',
  FORBIDDEN: 'A server policy refused this for the signed-in user; check the read/write rules or which user the token names.',
  WRONG_SHARD: 'The arguments name another shard than the one this call used (`error.shard` names the right one): pass the generated `routes` to ShoalClient, regenerate them if the app changed, and do not pass `shard` by hand.',
  OUT_OF_ORDER: 'The server expected another mutation id; the client renumbers and retries by itself.',
  CONFLICT: 'The write conflicts with data already on the server (e.g. a duplicate id); read the current rows and retry with new values.',
  VALIDATION: 'The mutator\'s own checks refused the write; show the message to the user or fix the input.',
  MUTATOR_FAILED: 'The server mutator threw an unexpected exception: this is a bug in the app\'s mutator code; see the worker logs.',
  TOO_MANY_SUBSCRIPTIONS: 'This socket holds too many subscriptions; unsubscribe shapes you no longer show, or raise the server limit.',
  TOKEN_EXPIRED: 'The token expired; the client asks getToken() for a fresh one and reconnects.',
  PROTOCOL_VERSION: 'The server does not speak this client\'s protocol version; upgrade @shoal/client or the worker so they match.',
  FRAME_TOO_LARGE: 'A frame was over the server\'s size limit; send smaller mutation arguments.',
  RATE_LIMITED: 'This client sent frames too fast; the client reconnects after a pause. Batch or debounce writes.',
  INTERNAL: 'The server had a fault outside the app\'s code; the client retries by itself. See the worker logs if it persists.',
  OUTBOX_FULL: 'Too many mutations wait for the server (the client is probably offline). Wait for the connection, or raise `outboxMax`.',
  STORAGE: 'The outbox could not be persisted; check that IndexedDB (or the file storage directory) is available and writable.',
  IDENTITY_CHANGED: 'getToken() returned a token for another user. After a change of user, close this ShoalClient and create a new one.',
  POKE_TOO_LARGE: 'A poke from the server was larger than `pokeBytesMax`; raise it or subscribe to narrower shapes.',
  BAD_SERVER_FRAME: 'The server sent a frame this client cannot read; check that the worker and @shoal/client versions match.',
  TOKEN_UNAVAILABLE: 'getToken() threw or returned nothing; the client retries with backoff. Check the token provider.',
  UNAUTHORIZED: 'The server refused the token (expired or revoked). The client stops retrying: supply a fresh one (the `refreshToken` option, or client.supplyToken()).',
  CLOSED: 'The ShoalClient was closed; its pending mutations stay in the outbox and replay when a new client adopts it.',
}

export class ShoalError extends Error {
  /**
   * @param {string} code a wire code from the protocol, or a client code
   * @param {string} message what happened (from the server or the client)
   * @param {{ context?: string, cause?: unknown, expected?: number, shard?: string }} [details]
   */
  constructor(code, message, details = {}) {
    const hint = HINTS[code]
    const prefix = details.context ? `${details.context}: ` : ''
    const stop = /[.!?]$/.test(message) ? '' : '.'
    super(`${prefix}${code}: ${message}${stop}${hint ? ` ${hint}` : ''}`, details.cause ? { cause: details.cause } : undefined)
    this.name = 'ShoalError'
    this.code = code
    this.serverMessage = message
    if (details.expected !== undefined) this.expected = details.expected
    if (details.shard !== undefined) this.shard = details.shard
  }
}
