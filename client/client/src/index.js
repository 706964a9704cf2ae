// @shoal/client: one WebSocket per shard, opened on demand; shape
// subscriptions; a persisted outbox of mutations replayed exactly once.

import { anonymousTokens, defaultAnonymousStore } from './anonymous.js'
import { RowCache, purgeStorage, utf8Length } from './cache.js'
import { ShardConnection } from './connection.js'
import { ShoalError } from './errors.js'
import { defaultLocks, processLocks, webLocks } from './locks.js'
import { Outbox } from './outbox.js'
import { defaultStorage, indexedDBStorage, memoryStorage } from './storage.js'

import { DEFAULT_SHARD } from './wire.gen.js'

export { ShoalError, memoryStorage, indexedDBStorage, webLocks, processLocks, anonymousTokens, defaultAnonymousStore, DEFAULT_SHARD }

const SHARD_KEY = /^[A-Za-z0-9_.:-]{1,128}$/

export class ShoalClient {
  /** @param {import('./index.js').ShoalClientOptions} options */
  constructor(options) {
    const {
      baseUrl,
      getToken,
      anonymous = false,
      userId,
      WebSocket = globalThis.WebSocket,
      storage = defaultStorage(),
      locks = defaultLocks(),
      shard = DEFAULT_SHARD,
      routes,
      heartbeatMs = 15_000,
      reconnectMinMs = 250,
      reconnectMaxMs = 30_000,
      outboxMax = 1000,
      pokeBytesMax = 64 * 1024 * 1024,
      mutationBytesMax = 1000 * 1024,
      cacheBytesMax = 50 * 1024 * 1024,
      cacheMaxAgeMs = 30 * 24 * 3600_000,
      refreshToken,
      onError,
      onWarning,
    } = options ?? {}
    if (typeof baseUrl !== 'string') throw new TypeError('ShoalClient: `baseUrl` is required, e.g. "https://chat.example.workers.dev".')
    if (typeof WebSocket !== 'function') {
      throw new TypeError('ShoalClient: no WebSocket here; pass `WebSocket` (in Node: `import { WebSocket } from "ws"`).')
    }
    if (anonymous && getToken) throw new TypeError('ShoalClient: give `getToken` or `anonymous`, not both.')
    this.wsBase = baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')
    // Anonymous users present a token the Worker minted for them, kept by the client (anonymous.js).
    this.anonymousTokens = anonymous
      ? anonymousTokens({ baseUrl, ...(typeof anonymous === 'object' ? anonymous : {}) })
      : undefined
    this.getToken = getToken ?? this.anonymousTokens
    this.refreshToken = refreshToken
    /** "ok", or "refused" once the server refused the token (HTTP 401) until a fresh one is supplied. */
    this.auth = 'ok'
    this.suppliedToken = undefined
    this.parked = new Set() // connections waiting for a token the server accepts
    this.WebSocket = WebSocket
    this.shard = shard
    this.routes = checkRoutes(routes)
    this.heartbeatMs = heartbeatMs
    this.reconnectMinMs = reconnectMinMs
    this.reconnectMaxMs = reconnectMaxMs
    this.pokeBytesMax = pokeBytesMax
    this.mutationBytesMax = mutationBytesMax
    this.onError = onError
    this.onWarning = onWarning
    this.connections = new Map()
    this.subscriptionCount = 0
    this.closed = false
    this.userId = userId // else the token's `sub`, once `ready`
    this.outbox = undefined
    this.storage = storage
    /** Each subscription's rows and cursor on the device (cache.js); off for a storage without cache methods. */
    this.cache = new RowCache(this, storage, { bytesMax: cacheBytesMax, maxAgeMs: cacheMaxAgeMs })
    /** Mutations pending when the outbox was adopted (a previous page's): see adoptedMutations. */
    this.adopted = []
    // What the browser says of its network (navigator.onLine, then the online/offline events);
    // always true where there is no such thing (Node).
    this.browserOnline = globalThis.navigator?.onLine !== false
    this.statusListeners = new Set()
    /** The current SyncStatus: a new frozen object on each change, the same one meanwhile. */
    this.syncStatus = this.statusNow()
    /** Resolves once the outbox is chosen; every call waits for it. */
    this.ready = this.start({ userId, storage, locks, outboxMax })
    this.ready.catch((err) => err?.code !== 'CLOSED' && this.reportError(err))
    // A socket whose network is gone can look open until the heartbeat gives up on it (Chromium's
    // offline mode does not close it): leave the sockets at once, and come back at once.
    this.onOnline = () => {
      this.browserOnline = true
      for (const conn of this.connections.values()) conn.reconnectNow()
      this.updateStatus()
    }
    this.onOffline = () => {
      this.browserOnline = false
      for (const conn of this.connections.values()) conn.drop('browser offline')
      this.updateStatus()
    }
    globalThis.addEventListener?.('online', this.onOnline)
    globalThis.addEventListener?.('offline', this.onOffline)
  }

  async start({ userId, storage, locks, outboxMax }) {
    this.storage = storage
    this.locks = locks
    this.userId = userId ?? (this.getToken ? subjectOf(await this.getToken()) : undefined) ?? 'anonymous'
    const outbox = await Outbox.open({ storage, locks, userId: this.userId, outboxMax })
    if (this.closed) {
      await outbox.close()
      throw new ShoalError('CLOSED', 'the client was closed before it started.')
    }
    this.outbox = outbox
    outbox.onChange = () => this.updateStatus()
    // An adopted outbox replays its pending mutations without waiting for a call. Each gets a
    // promise, so that bindMutators can show its optimistic change again until it lands.
    for (const [shard, s] of Object.entries(outbox.record.shards)) {
      if (!s.pending.length) continue
      const conn = this.connection(shard)
      for (const m of s.pending) {
        const done = new Promise((resolve, reject) => conn.waiters.set(m, { resolve, reject, adopted: true }))
        done.catch(() => {}) // reported through onError by the connection
        this.adopted.push({ shard, mutation: m, done })
      }
      conn.open()
    }
    this.cache.scheduleEvict(5000) // later: not on the path to the first paint
    // Listeners hear once that the outbox is chosen: an adopted one's pending count is known now.
    this.updateStatus(true)
  }

  /**
   * The mutations a previous page left pending in the outbox this client adopted, each with a
   * promise that settles as `mutate`'s would have. Resolves once `ready` does.
   * @returns {Promise<{ shard: string, id: number, name: string, args: object, done: Promise<void> }[]>}
   */
  async adoptedMutations() {
    await this.ready
    return this.adopted.map(({ shard, mutation, done }) => ({ shard, id: mutation.id, name: mutation.name, args: mutation.args, done }))
  }

  /** The id of this client's outbox; known once `ready` resolves. */
  get clientId() {
    return this.outbox?.clientId
  }

  /** "online" | "connecting" | "offline": see statusNow(). */
  get status() {
    return this.syncStatus.status
  }

  /** Mutations persisted in the outbox that the server has not applied yet (every shard): they survive a reload. */
  get pendingCount() {
    return this.syncStatus.pending
  }

  /**
   * Calls `listener(syncStatus)` whenever the connection status or the pending count of the
   * client or of one of its shards changes, and once when `ready` resolves.
   * @returns {() => void} unsubscribe
   */
  onStatus(listener) {
    const entry = { listener } // the same listener twice is two subscriptions
    this.statusListeners.add(entry)
    return () => void this.statusListeners.delete(entry)
  }

  /**
   * A shard is "online" once the server said `connected` on its socket, "connecting" while a
   * socket opens or waits for its next attempt, "offline" while the browser says it is offline,
   * after the client closed, or for good after a final refusal (4003, 4002). The client is
   * "offline" if the browser or the client is; else "online" if every shard still in use is;
   * else "connecting" (also before its first socket).
   */
  statusNow() {
    const outboxShards = this.outbox?.record.shards ?? {}
    const shards = {}
    let live = 0
    let online = 0
    for (const [key, conn] of this.connections) {
      const status = conn.stopped || this.closed || !this.browserOnline || this.parked.has(conn) ? 'offline' : conn.connected ? 'online' : 'connecting'
      shards[key] = Object.freeze({ status, pending: this.outbox?.persistedCount(key) ?? 0 })
      if (!conn.stopped) (live++, status === 'online' && online++)
    }
    const status =
      this.closed || !this.browserOnline || (this.connections.size > 0 && live === 0) ? 'offline' : live > 0 && online === live ? 'online' : 'connecting'
    const pending = Object.keys(outboxShards).reduce((n, key) => n + this.outbox.persistedCount(key), 0)
    return Object.freeze({ status, pending, auth: this.auth ?? 'ok', shards: Object.freeze(shards) })
  }

  /** Recomputes the status; tells the listeners if it changed (or if `force`). */
  updateStatus(force = false) {
    const next = this.statusNow()
    if (!force && sameStatus(next, this.syncStatus)) return
    this.syncStatus = next
    for (const { listener } of [...this.statusListeners]) {
      try {
        listener(next)
      } catch (err) {
        this.reportError(err)
      }
    }
  }

  /**
   * Sync one shape. `onChange` gets one call per poke that touches it:
   * `{ reset, rows, seq, epoch, lastMutationId }`; `reset` means "drop what
   * you held, these rows are the whole view".
   * @returns {() => void} unsubscribe
   */
  subscribeShape(shape, args, onChange, { shard, onError } = {}) {
    const sub = { id: `s${++this.subscriptionCount}`, shape, args: args ?? {}, onChange, onError, cursor: null, live: false, shard: undefined }
    let active = true
    try {
      sub.shard = shard ?? this.shardOf('shapes', shape, sub.args)
    } catch (err) {
      queueMicrotask(() => (onError ? onError(err) : this.reportError(err)))
      return () => {}
    }
    // The last rows on this device first, before any socket: then resume from their cursor. With
    // the user named up front, reading them does not wait for the outbox.
    const early = this.userId !== undefined ? this.cache.hydrate(sub, sub.shard) : undefined
    this.ready
      .then(async () => {
        if (!active || this.closed) return
        await (early ?? this.cache.hydrate(sub, sub.shard))
        if (!active) return // unsubscribe() released it
        if (this.closed) return this.cache.release(sub)
        this.connection(sub.shard).subscribe(sub)
      })
      .catch((err) => onError?.(err))
    return () => {
      if (!active) return
      active = false
      sub.dropped = true // a cache read still under way hands nothing over
      this.cache.release(sub)
      // sub.shard, not the shard it started on: a WRONG_SHARD answer moves it (see moveSubscription).
      this.connections.get(sub.shard)?.unsubscribe(sub.id)
    }
  }

  /**
   * The shard a shape (kind "shapes") or mutator ("mutators") with these args runs on: its route
   * from the generated `routes` (a fixed name, or the arg that names it), else the client's
   * default `shard`. The app author never computes a shard name.
   */
  shardOf(kind, name, args) {
    const route = this.routes?.[kind]?.[name]
    if (route === undefined) return this.shard
    if (typeof route === 'string') return route
    const value = args?.[route.arg]
    // As the server checks it: a value that cannot name a shard would never reach one.
    if (typeof value !== 'string' || !SHARD_KEY.test(value) || value.startsWith('__')) {
      throw new ShoalError('BAD_ARGS', `args.${route.arg}: expected the string that names the shard (1..128 chars of A-Z a-z 0-9 _ . : -, not starting with __).`, {
        context: `${kind === 'shapes' ? 'subscription' : 'mutation'} ${name}`,
      })
    }
    return value
  }

  /** The server answered WRONG_SHARD naming `shard`: the subscription moves there, once. */
  moveSubscription(sub, shard) {
    this.warn(`shape ${sub.shape} is served by shard "${shard}", not "${sub.shard}": moved it there. Pass the generated \`routes\` to ShoalClient (and regenerate them after changing the app).`)
    sub.moved = true
    sub.cursor = null
    sub.shard = shard
    this.connection(shard).subscribe(sub)
  }

  /**
   * Queue a mutation: numbered, persisted, then pushed. Resolves once the
   * server applied it and a poke covering it has been handed to every
   * subscription; rejects with a ShoalError if the server refused it.
   */
  async mutate(name, args, { shard } = {}) {
    shard ??= this.shardOf('mutators', name, args ?? {})
    await this.ready
    if (this.closed) throw new ShoalError('CLOSED', 'the client was closed.', { context: `mutation ${name}` })
    // A frame over the server's limit closes the socket, and a replay would do it again: refuse it here.
    const size = utf8Length(JSON.stringify(args ?? {}))
    if (size > this.mutationBytesMax) {
      throw new ShoalError('FRAME_TOO_LARGE', `its arguments take ${size} bytes, over mutationBytesMax (${this.mutationBytesMax}).`, { context: `mutation ${name}` })
    }
    return this.connection(shard).mutate(name, args ?? {})
  }

  /** Close every socket and release the outbox; pending mutations stay persisted. */
  async close() {
    if (this.closed) return
    this.closed = true
    globalThis.removeEventListener?.('online', this.onOnline)
    globalThis.removeEventListener?.('offline', this.onOffline)
    for (const conn of this.connections.values()) conn.stop()
    this.updateStatus()
    await this.cache.close()
    try {
      await this.ready
    } catch {
      return
    }
    await this.outbox.close()
  }

  /**
   * Signs this user out of this device: closes the client and, with `purge` (the default), deletes
   * their cached rows and outboxes from storage, pending mutations included (an outbox another tab
   * still uses stays), so the next person at this browser cannot read them. An anonymous client
   * also forgets its identity. Resolves with the number of pending mutations discarded.
   */
  async signOut({ purge = true } = {}) {
    await this.close()
    let started = true
    await this.ready.catch(() => (started = false))
    let discarded = 0
    if (purge && started) {
      discarded = await Outbox.discard({ storage: this.storage, locks: this.locks, userId: this.userId })
    }
    if (purge && this.userId !== undefined) await ShoalClient.purge(this.storage, { userId: this.userId, outbox: false })
    await this.anonymousTokens?.forget()
    return discarded
  }

  /**
   * Delete what `storage` holds for `userId` (every user's without one): its cached rows and, unless
   * `outbox: false`, its outboxes. Use it where no client runs, e.g. when a session ends elsewhere.
   */
  static async purge(storage = defaultStorage(), { userId, outbox = true } = {}) {
    try {
      await purgeStorage(storage, { userId, outbox })
    } catch (cause) {
      throw new ShoalError('STORAGE', 'could not delete the stored rows and outbox.', { cause })
    }
  }

  connection(shard) {
    let conn = this.connections.get(shard)
    if (!conn) {
      this.connections.set(shard, (conn = new ShardConnection(this, shard)))
      this.updateStatus()
    }
    return conn
  }

  /**
   * The server refused the token of `conn`'s socket (HTTP 401): stop retrying, say so once
   * (`syncStatus.auth` becomes "refused", `onError` hears UNAUTHORIZED), and ask `refreshToken`.
   */
  authRefused(conn) {
    this.parked.add(conn)
    if (this.auth === 'refused') return
    this.auth = 'refused'
    this.suppliedToken = undefined
    this.updateStatus()
    this.reportError(new ShoalError('UNAUTHORIZED', 'the server refused the token (HTTP 401): it expired or was revoked.', { context: `shard ${conn.shard}` }))
    if (!this.refreshToken) return
    Promise.resolve()
      .then(() => this.refreshToken({ shard: conn.shard }))
      .then(
        (token) => token && !this.closed && this.supplyToken(token),
        (cause) => this.reportError(new ShoalError('TOKEN_UNAVAILABLE', 'refreshToken() failed; call supplyToken() with a fresh token.', { cause })),
      )
  }

  /**
   * A fresh token after a refusal (or at any time): used for the next sockets instead of
   * getToken()'s until the server refuses it; connections waiting for it reconnect now.
   */
  supplyToken(token) {
    if (typeof token !== 'string' || !token) throw new TypeError('supplyToken(token): a token string is required.')
    this.suppliedToken = token
    this.reconnect()
  }

  /** Try again now: connections that wait for a token (or a backoff) reconnect at once. */
  reconnect() {
    this.auth = 'ok'
    const parked = [...this.parked]
    this.parked.clear()
    for (const conn of parked) (conn.attempt = 0), conn.open()
    for (const conn of this.connections.values()) conn.reconnectNow()
    this.updateStatus()
  }

  /** A fresh token for a new socket; refuses a token of another user. */
  async token() {
    if (!this.getToken && !this.suppliedToken) return null
    const token = this.suppliedToken ?? (await this.getToken())
    if (!token) throw new ShoalError('TOKEN_UNAVAILABLE', 'getToken() returned no token.')
    const sub = subjectOf(token)
    if (sub !== undefined && sub !== this.userId) {
      throw new ShoalError('IDENTITY_CHANGED', `the outbox belongs to user "${this.userId}", the new token to "${sub}".`)
    }
    return token
  }

  reportError(err) {
    if (this.onError) this.onError(err)
    else console.error(err)
  }

  warn(message) {
    if (this.onWarning) this.onWarning(message)
    else console.warn(`[shoal] ${message}`)
  }
}

/** `routes` as codegen emits them: `{ shapes: {name: shard | {arg}}, mutators: {...} }`, or undefined. */
function checkRoutes(routes) {
  if (routes === undefined) return undefined
  for (const kind of ['shapes', 'mutators']) {
    for (const [name, route] of Object.entries(routes?.[kind] ?? {})) {
      if (typeof route !== 'string' && typeof route?.arg !== 'string') {
        throw new TypeError(`ShoalClient: routes.${kind}.${name} must be a shard name or { arg }: pass the \`routes\` of your generated shoal.gen.ts.`)
      }
    }
  }
  return routes
}

function sameStatus(a, b) {
  if (a.status !== b.status || a.pending !== b.pending || a.auth !== b.auth) return false
  const keys = Object.keys(a.shards)
  if (keys.length !== Object.keys(b.shards).length) return false
  return keys.every((k) => b.shards[k] && a.shards[k].status === b.shards[k].status && a.shards[k].pending === b.shards[k].pending)
}

/** The `sub` claim of a JWT, without verifying it (the server does that); undefined if not a JWT. */
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const sub = JSON.parse(atob(payload)).sub
    return typeof sub === 'string' ? sub : undefined
  } catch {
    return undefined
  }
}
