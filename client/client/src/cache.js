// The row cache: each subscription's rows and cursor kept on the device, so that a page opens with
// its last data before any socket does, and resumes with `since` (a catch-up, not a reset).
//
// Contracts:
// - a subscription's rows and its cursor are written in one atomic step of the storage (one
//   IndexedDB transaction, one file rename), in the order the pokes were applied;
// - a delta is written only onto the state it was computed from: the storage compares the stored
//   cursor with the one this client wrote (or loaded) last, and refuses the write otherwise (another
//   tab wrote meanwhile). A refused subscription writes again only from its next reset. So the stored
//   rows are always exactly the view at the stored cursor;
// - entries are keyed by (server, user, shard, shape, args): another identity never reads them;
// - a budget (bytes, age) evicts the entries no subscription of this client uses.

import { ShoalError } from './errors.js'

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(s) {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) (n += 2), i++ // a surrogate pair: 4 bytes
    else n += 2
  }
  return n
}

/** JSON with object keys sorted, so that equal args name one entry. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export const sameCursor = (a, b) => !!a && !!b && a.seq === b.seq && a.epoch === b.epoch

const rowKey = (op) => `${op.table}\u0000${typeof op.id}:${op.id}`

export class RowCache {
  /**
   * @param {import('./index.js').ShoalClient} client
   * @param {object} storage an OutboxStorage that may also implement the cache methods
   * @param {{ bytesMax: number, maxAgeMs: number }} budget
   */
  constructor(client, storage, { bytesMax, maxAgeMs }) {
    this.client = client
    this.storage = storage
    this.enabled = typeof storage?.cacheLoad === 'function' && bytesMax > 0
    this.bytesMax = bytesMax
    this.maxAgeMs = maxAgeMs
    this.queue = Promise.resolve() // writes, one after another, in the order pokes were applied
    this.waiting = new Map() // subscription -> its changes not yet written, merged: { reset, ops, meta }
    this.inUse = new Map() // key -> number of subscriptions of this client using it
    this.evictTimer = null
  }

  key(shard, shape, args) {
    return JSON.stringify([this.client.wsBase, this.client.userId, shard, shape]).slice(0, -1) + ',' + canonicalJson(args) + ']'
  }

  /**
   * Called once per subscription before its first subscribe frame: hands the cached rows to
   * `onChange` as a reset (`cached: true`) and sets the cursor it resumes from.
   */
  async hydrate(sub, shard) {
    sub.cacheKey = this.key(shard, sub.shape, sub.args)
    sub.sizes = new Map()
    sub.written = null
    this.use(sub.cacheKey, +1)
    if (!this.enabled) return
    let entry
    try {
      entry = await this.storage.cacheLoad(sub.cacheKey)
    } catch (cause) {
      this.client.reportError(new ShoalError('STORAGE', 'could not read the row cache; syncing from the server.', { cause }))
      return
    }
    if (!entry || entry.meta.userId !== this.client.userId || !entry.meta.cursor || sub.dropped) return
    const rows = []
    for (const r of entry.rows) rows.push({ op: 'put', table: r.table, id: r.id, doc: r.doc })
    // Each row's size is measured at the first write, off the path to the first paint.
    sub.unsized = entry.rows
    sub.cursor = { ...entry.meta.cursor }
    sub.written = { ...entry.meta.cursor }
    sub.cached = true
    try {
      sub.onChange({ reset: true, rows, seq: sub.cursor.seq, epoch: sub.cursor.epoch, lastMutationId: 0, cached: true })
    } catch (err) {
      this.client.reportError(err)
    }
    // Mark it used: eviction goes by last use (after the first paint: it measures every row).
    const touch = setTimeout(() => {
      if (sub.unsized && !this.client.closed && this.inUse.has(sub.cacheKey)) this.enqueue(sub, { reset: false, rows: [] }, sub.written ?? sub.cursor)
    }, 1000)
    touch.unref?.()
  }

  use(key, delta) {
    const n = (this.inUse.get(key) ?? 0) + delta
    if (n > 0) this.inUse.set(key, n)
    else this.inUse.delete(key)
  }

  release(sub) {
    if (sub.cacheKey) this.use(sub.cacheKey, -1)
  }

  /** Queues the atomic write of one subscription's change and its new cursor. */
  enqueue(sub, change, cursor) {
    if (!this.enabled || !sub.cacheKey) return
    if (sub.unsized) {
      for (const r of sub.unsized) sub.sizes.set(rowKey(r), utf8Length(JSON.stringify(r.doc)))
      sub.unsized = null
    }
    if (change.reset) sub.sizes.clear()
    const ops = []
    for (const op of change.rows) {
      if (op.op === 'put') {
        sub.sizes.set(rowKey(op), utf8Length(JSON.stringify(op.doc)))
        ops.push({ op: 'put', table: op.table, id: op.id, doc: op.doc })
      } else if (op.op === 'del') {
        sub.sizes.delete(rowKey(op))
        ops.push({ op: 'del', table: op.table, id: op.id })
      }
    }
    let bytes = 0
    for (const b of sub.sizes.values()) bytes += b
    const meta = {
      key: sub.cacheKey,
      userId: this.client.userId,
      shape: sub.shape,
      cursor: { seq: cursor.seq, epoch: cursor.epoch },
      rows: sub.sizes.size,
      bytes,
      usedAt: Date.now(),
    }
    const reset = change.reset === true
    // Changes not yet written are merged (a write per poke falls behind a fast stream of small
    // pokes): the merged write still goes from one poke's end to a later one's, atomically.
    const waiting = this.waiting.get(sub)
    if (waiting) {
      if (reset) (waiting.reset = true), (waiting.ops = ops)
      else for (const op of ops) waiting.ops.push(op)
      waiting.meta = meta
    } else {
      this.waiting.set(sub, { reset, ops, meta })
      this.queue = this.queue.then(() => this.write(sub))
    }
    this.scheduleEvict()
  }

  async write(sub) {
    const w = this.waiting.get(sub)
    this.waiting.delete(sub)
    if (!w || (!w.reset && !sub.written)) return // diverged: wait for a reset
    try {
      const ok = await this.storage.cacheWrite(sub.cacheKey, { meta: w.meta, expect: w.reset ? null : sub.written, reset: w.reset, ops: w.ops })
      sub.written = ok ? w.meta.cursor : null
    } catch (cause) {
      sub.written = null
      this.client.reportError(new ShoalError('STORAGE', 'could not write the row cache; the rows stay in memory.', { cause }))
    }
  }

  /** Resolves once every write queued so far has finished. */
  settled() {
    return this.queue
  }

  async remove(sub) {
    if (!this.enabled || !sub.cacheKey) return
    const key = sub.cacheKey
    this.queue = this.queue.then(() => this.storage.cacheDelete([key]).catch(() => {}))
  }

  scheduleEvict(delayMs = 1000) {
    if (!this.enabled || this.evictTimer) return
    this.evictTimer = setTimeout(() => {
      this.evictTimer = null
      this.evict().catch((err) => this.client.reportError(err))
    }, delayMs)
    this.evictTimer.unref?.()
  }

  /**
   * Keeps the cache within its budget: entries unused for longer than maxAgeMs go, then the least
   * recently used entries that no subscription of this client uses, until the rest fits bytesMax.
   * Returns the keys evicted.
   */
  async evict(now = Date.now()) {
    if (!this.enabled) return []
    await this.queue
    const metas = await this.storage.cacheList()
    const evicted = []
    let total = 0
    const candidates = []
    for (const m of metas) {
      if (this.inUse.has(m.key)) {
        total += m.bytes ?? 0
      } else if (now - (m.usedAt ?? 0) > this.maxAgeMs) {
        evicted.push(m.key)
      } else {
        total += m.bytes ?? 0
        candidates.push(m)
      }
    }
    candidates.sort((a, b) => (a.usedAt ?? 0) - (b.usedAt ?? 0))
    for (const m of candidates) {
      if (total <= this.bytesMax) break
      evicted.push(m.key)
      total -= m.bytes ?? 0
    }
    if (evicted.length) {
      const deleted = this.queue.then(() => this.storage.cacheDelete(evicted))
      this.queue = deleted.catch(() => {}) // the queue never rejects: later writes still run
      await deleted
    }
    return evicted
  }

  close() {
    clearTimeout(this.evictTimer)
    this.evictTimer = null
    return this.queue
  }
}

/**
 * Deletes what `storage` holds for `userId`: cached rows and (with `outbox`) outboxes, pending
 * mutations included. With no userId, everything.
 */
export async function purgeStorage(storage, { userId, outbox = true } = {}) {
  if (typeof storage?.cacheList === 'function') {
    const metas = await storage.cacheList()
    const keys = metas.filter((m) => userId === undefined || m.userId === userId).map((m) => m.key)
    if (keys.length) await storage.cacheDelete(keys)
  }
  if (outbox && typeof storage?.list === 'function') {
    for (const r of await storage.list()) {
      if (userId === undefined || r?.userId === userId) await storage.delete(r.clientId)
    }
  }
}

/**
 * The cache methods over a map of entries (key -> { meta, rows: Map }), for the memory and file
 * storages. `persist(key, entry | undefined)` makes a change durable (or does nothing).
 */
export function mapCache(entries, { load = async () => undefined, persist = async () => {}, list } = {}) {
  const get = async (key) => {
    if (!entries.has(key)) {
      const loaded = await load(key)
      if (loaded) entries.set(key, loaded)
    }
    return entries.get(key)
  }
  return {
    async cacheLoad(key) {
      const e = await get(key)
      return e ? { meta: { ...e.meta }, rows: [...e.rows.values()] } : undefined
    },
    async cacheWrite(key, { meta, expect, reset, ops }) {
      const cur = await get(key)
      if (!reset && !(cur && sameCursor(cur.meta.cursor, expect))) return false
      const rows = reset || !cur ? new Map() : new Map(cur.rows)
      for (const op of ops) {
        if (op.op === 'put') rows.set(rowKey(op), { table: op.table, id: op.id, doc: op.doc })
        else rows.delete(rowKey(op))
      }
      const next = { meta: { ...meta }, rows }
      await persist(key, next)
      entries.set(key, next)
      return true
    },
    async cacheList() {
      if (list) return list()
      return [...entries.values()].map((e) => ({ ...e.meta }))
    },
    async cacheDelete(keys) {
      for (const key of keys) {
        await persist(key, undefined)
        entries.delete(key)
      }
    },
  }
}
