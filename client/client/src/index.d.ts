/** Wire codes from the Shoal protocol, plus the client's own. */
export type ShoalErrorCode =
  | 'BAD_FRAME' | 'BAD_ARGS' | 'UNKNOWN_SHAPE' | 'UNKNOWN_MUTATOR' | 'FORBIDDEN' | 'WRONG_SHARD'
  | 'OUT_OF_ORDER' | 'CONFLICT' | 'VALIDATION' | 'MUTATOR_FAILED' | 'TOO_MANY_SUBSCRIPTIONS'
  | 'TOKEN_EXPIRED' | 'PROTOCOL_VERSION' | 'FRAME_TOO_LARGE' | 'RATE_LIMITED' | 'TOO_MANY_SOCKETS' | 'INTERNAL'
  | 'OUTBOX_FULL' | 'STORAGE' | 'IDENTITY_CHANGED' | 'POKE_TOO_LARGE' | 'BAD_SERVER_FRAME'
  | 'TOKEN_UNAVAILABLE' | 'UNAUTHORIZED' | 'CLOSED'
  | (string & {}) // a typed error thrown by an app's mutator carries its own code

export declare class ShoalError extends Error {
  constructor(code: ShoalErrorCode, message: string, details?: { context?: string; cause?: unknown; expected?: number; shard?: string })
  readonly name: 'ShoalError'
  readonly code: ShoalErrorCode
  /** The message as the server (or client) said it, without context or hint. */
  readonly serverMessage: string
  readonly expected?: number
  /** With WRONG_SHARD: the shard the server named as the right one. */
  readonly shard?: string
}

export type RowOp =
  | { op: 'put'; table: string; id: string | number; doc: Record<string, unknown> }
  | { op: 'del'; table: string; id: string | number }

export interface Cursor { seq: number; epoch: string }

export interface ShapeChange extends Cursor {
  /** Drop what you held for this subscription: `rows` are its whole view. */
  reset: boolean
  rows: RowOp[]
  /** 0 for a change from the row cache. */
  lastMutationId: number
  /** The rows this device kept from its last session (the row cache), handed over before any socket. */
  cached?: boolean
}

export interface OutboxRecord {
  v: 1
  clientId: string
  userId: string
  updatedAt: number
  /** pending: not yet applied; applied: applied by the server, the rows that show them not yet cached (replayed after a reload). */
  shards: Record<string, { nextId: number; confirmed: number; pending: { id: number; name: string; args: unknown }[]; applied?: { id: number; name: string; args: unknown }[] }>
}

/** One subscription's entry in the row cache. */
export interface CacheMeta {
  /** JSON of [server, user, shard, shape, args]. */
  key: string
  userId: string
  shape?: string
  cursor: Cursor
  /** Rows held, and their size as UTF-8 bytes of JSON. */
  rows: number
  bytes: number
  /** Last written or read, ms since the epoch; eviction goes by it. */
  usedAt: number
}

export interface CachedRow { table: string; id: string | number; doc: Record<string, unknown> }

/** Where outboxes persist; with the cache methods, also each subscription's rows and cursor. */
export interface OutboxStorage {
  list(): Promise<OutboxRecord[]>
  put(record: OutboxRecord): Promise<void>
  delete(clientId: string): Promise<void>
  cacheLoad?(key: string): Promise<{ meta: CacheMeta; rows: CachedRow[] } | undefined>
  /**
   * One atomic step: `reset` drops the entry's rows; `ops` apply; `meta` (with the new cursor)
   * replaces the record. A delta (no reset) applies only if the stored cursor equals `expect`;
   * returns whether it applied.
   */
  cacheWrite?(key: string, change: { meta: CacheMeta; expect?: Cursor | null; reset?: boolean; ops: ({ op: 'put' } & CachedRow | { op: 'del'; table: string; id: string | number })[] }): Promise<boolean>
  cacheList?(): Promise<CacheMeta[]>
  cacheDelete?(keys: string[]): Promise<void>
}

export interface Locks {
  /** Resolves to a release function, or null if another writer holds `name`. */
  tryAcquire(name: string): Promise<null | (() => void)>
}

/**
 * A handler whose event parameter is checked both ways (as TypeScript does for methods), so that
 * the DOM's WebSocket (`(this: WebSocket, ev: MessageEvent) => any`) and the `ws` package's fit
 * under `strict` without a cast.
 */
type EventHandler<E> = { bivarianceHack(event: E): unknown }['bivarianceHack']

/** What the client needs of a WebSocket: the DOM's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onmessage: EventHandler<{ data: unknown }> | null
  onclose: EventHandler<{ code: number }> | null
  onerror: EventHandler<unknown> | null
}

/**
 * "online": the server said `connected` on the socket. "connecting": a socket is opening or waits
 * for its next attempt. "offline": the browser says it is offline, the client is closed, or (for a
 * shard) the server refused it for good (close 4003 or 4002).
 */
export type ConnectionStatus = 'online' | 'connecting' | 'offline'

export interface ShardStatus {
  readonly status: ConnectionStatus
  /** This shard's mutations persisted in the outbox that no cached row shows yet (not applied, or applied and not yet confirmed into the cache). */
  readonly pending: number
}

/** A snapshot: a new (frozen) object on each change, the same one meanwhile. */
export interface SyncStatus extends ShardStatus {
  /**
   * "offline" if the browser or the client is; else "online" if every shard in use is online;
   * else "connecting" (also before the first socket connects).
   */
  readonly status: ConnectionStatus
  /** Mutations persisted in the outbox, all shards, that no cached row shows yet (they survive a reload; one still being written is not counted). */
  readonly pending: number
  /**
   * "refused" once the server refused the token (HTTP 401: expired, revoked) until a fresh one is
   * supplied (`refreshToken`, `supplyToken`); the refused shards wait meanwhile, without backoff.
   */
  readonly auth: 'ok' | 'refused'
  /** Each shard this client has opened (a subscription, a mutation, or an adopted outbox's pending ones). */
  readonly shards: Readonly<Record<string, ShardStatus>>
}

export interface ShoalClientOptions {
  /** The worker's origin, e.g. "https://chat.example.workers.dev" (http(s) or ws(s)). */
  baseUrl: string
  /** Returns a current token; called for every new socket, so an expired token gets refreshed. */
  getToken?: () => string | Promise<string>
  /**
   * Sign in anonymously instead of with `getToken`: the Worker (SHOAL_ALLOW_ANONYMOUS=true) mints
   * a token for a new identity "anon:<random>", which the client keeps (localStorage in browsers,
   * memory elsewhere, or `store`), presents like any token and renews before it expires.
   */
  anonymous?: boolean | { store?: AnonymousTokenStore; fetch?: (url: string, init: { method: string; headers: Record<string, string> }) => Promise<Response> }
  /** The user the outbox belongs to. Default: the `sub` claim of the first token. */
  userId?: string
  /** A WebSocket constructor taking (url, protocols). Default: globalThis.WebSocket. */
  WebSocket?: new (url: string, protocols: string[]) => WebSocketLike
  /** Default: IndexedDB in browsers, memory elsewhere (Node: fileStorage from '@shoal/client/node'). */
  storage?: OutboxStorage
  /** Default: Web Locks where available, else a lock per process. */
  locks?: Locks
  /** The shard of a shape or mutator that `routes` does not name. Default "__root__". */
  shard?: string
  /**
   * Where each shape and mutator runs: the `routes` export of the generated shoal.gen.ts. With it,
   * every call opens the right shard's socket (and keeps that shard's outbox) by itself.
   */
  routes?: Routes
  heartbeatMs?: number
  reconnectMinMs?: number
  reconnectMaxMs?: number
  /** Most unconfirmed mutations held; more is a ShoalError OUTBOX_FULL. Default 1000. */
  outboxMax?: number
  /** Largest poke buffered, in bytes of frames. Default 64 MiB. */
  pokeBytesMax?: number
  /** Largest mutation arguments accepted, as JSON characters; more is FRAME_TOO_LARGE. Default 1000 KiB (the server's frame limit is 1 MiB). */
  mutationBytesMax?: number
  /** Most bytes (UTF-8 JSON of the rows) the row cache keeps; entries no subscription uses are evicted, least recently used first. 0 turns the cache off. Default 50 MiB. */
  cacheBytesMax?: number
  /** Entries not used for this long are evicted. Default 30 days. */
  cacheMaxAgeMs?: number
  /**
   * Called once when the server refuses the token (HTTP 401) on a new socket: return a fresh token
   * (or call supplyToken later). Until then the refused connections wait, without backoff.
   */
  refreshToken?: (info: { shard: string }) => string | null | undefined | Promise<string | null | undefined>
  /** Errors nobody else hears of (a replayed mutation refused, a bad frame). Default console.error. */
  onError?: (error: ShoalError | Error) => void
  /** Developer warnings (e.g. renumbered mutations). Default console.warn. */
  onWarning?: (message: string) => void
}

/** A fixed shard name, or the arg whose value names the shard. */
export type Route = string | { readonly arg: string }

/** As codegen emits them (docs/sharding.md). */
export interface Routes {
  readonly shapes?: Readonly<Record<string, Route>>
  readonly mutators?: Readonly<Record<string, Route>>
}

export declare const DEFAULT_SHARD: '__root__'

export declare class ShoalClient {
  constructor(options: ShoalClientOptions)
  /** Resolves once the outbox is chosen (adopted or new). */
  readonly ready: Promise<void>
  /** This client's id; defined once `ready` resolves. */
  readonly clientId: string | undefined
  readonly userId: string | undefined
  /** The client's connection status; `syncStatus.status`. */
  readonly status: ConnectionStatus
  /** Mutations persisted in the outbox, all shards, that no cached row shows yet; `syncStatus.pending`. */
  readonly pendingCount: number
  /** The current status of the client and of each shard; a new object on each change (fit for useSyncExternalStore). */
  readonly syncStatus: SyncStatus
  /**
   * Calls `listener` with the new `syncStatus` whenever the status or the pending count of the
   * client or of a shard changes, and once when `ready` resolves. Returns `unsubscribe`.
   */
  onStatus(listener: (status: SyncStatus) => void): () => void
  subscribeShape(
    shape: string,
    args: Record<string, unknown>,
    onChange: (change: ShapeChange) => void,
    options?: { shard?: string; onError?: (error: ShoalError) => void },
  ): () => void
  /** Resolves when the server applied it and a poke covering it was handed to every subscription. */
  mutate(name: string, args: Record<string, unknown>, options?: { shard?: string }): Promise<void>
  /** The shard a shape ("shapes") or mutator ("mutators") with these args runs on, by `routes`. */
  shardOf(kind: 'shapes' | 'mutators', name: string, args: Record<string, unknown>): string
  /** The mutations a previous page left pending in the adopted outbox, each with its outcome. */
  adoptedMutations(): Promise<{ shard: string; id: number; name: string; args: Record<string, unknown>; done: Promise<void> }[]>
  /** "ok", or "refused" after a 401 until a fresh token is supplied; also `syncStatus.auth`. */
  readonly auth: 'ok' | 'refused'
  /** A fresh token: used for the next sockets (until refused); waiting connections reconnect now. */
  supplyToken(token: string): void
  /** Reconnect now every connection that waits (for a token, or a backoff). */
  reconnect(): void
  close(): Promise<void>
  /**
   * Sign-out: close, then (with `purge`, the default) delete this user's cached rows and outboxes
   * from storage (outboxes another tab still holds stay), pending mutations included, so the next
   * person at this browser cannot read them; an anonymous client also forgets its identity.
   * Resolves with the number of pending mutations discarded.
   */
  signOut(options?: { purge?: boolean }): Promise<number>
  /** Delete what `storage` holds for `userId` (everyone's without one): cached rows and, unless `outbox: false`, outboxes. */
  static purge(storage?: OutboxStorage, options?: { userId?: string; outbox?: boolean }): Promise<void>
}

export declare function memoryStorage(): OutboxStorage
/** Where an anonymous identity's token is kept. */
export interface AnonymousTokenStore {
  get(): Promise<{ token: string; sub: string; exp: number } | null>
  set(value: { token: string; sub: string; exp: number } | null): Promise<void>
}
/** localStorage in browsers (keyed by `baseUrl`), memory elsewhere. */
export declare function defaultAnonymousStore(baseUrl: string): AnonymousTokenStore
/** A `getToken` that mints (POST /anonymous), keeps and renews an anonymous identity's token; `forget()` drops the identity. */
export declare function anonymousTokens(options: {
  baseUrl: string
  store?: AnonymousTokenStore
  fetch?: (url: string, init: { method: string; headers: Record<string, string> }) => Promise<Response>
}): (() => Promise<string>) & { forget(): Promise<void> }
export declare function indexedDBStorage(options?: {
  name?: string
  /** default globalThis.indexedDB */
  indexedDB?: unknown
  /**
   * Row cache entries read ahead (e.g. by an inline script while the bundle downloads): key -> the
   * `subs` record and the `rows` values of the database "<name>-cache", read in one readonly
   * transaction. Each is used once, none after this storage's first cache write or delete, and
   * none if the promise has not settled within a second.
   */
  preload?: Promise<Map<string, { meta: unknown; buckets: unknown[] }>>
}): OutboxStorage
export declare function webLocks(manager: { request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => unknown): Promise<unknown> }): Locks
export declare function processLocks(): Locks
