// The outbox: every mutation gets the next id for (client, shard), 1, 2, 3, ...,
// and is persisted before it is sent. A client id names one outbox with one
// writer at a time (see locks.js). A mutation the server applied (pushResult)
// is not sent again but stays persisted until the rows that show it are in the
// row cache (the confirming poke, applied and cached): a reload in between
// still shows it, and replays it as a harmless duplicate.

import { ShoalError } from './errors.js'

const LOCK_PREFIX = 'shoal-outbox:'

/**
 * @typedef {{ id: number, name: string, args: object }} Mutation
 * @typedef {{ nextId: number, confirmed: number, pending: Mutation[], applied: Mutation[] }} ShardOutbox
 *   pending: not applied yet, sent in order; applied: applied by the server, their rows not cached yet
 */

export class Outbox {
  /**
   * Adopt an unlocked outbox of this user (pending mutations first, so they
   * replay after a reload), or start a new client id. Outboxes of other users
   * are never touched: their mutations belong to that identity.
   * @param {{ storage: import('./index.js').OutboxStorage, locks: import('./locks.js').Locks, userId: string, outboxMax: number }} options
   */
  static async open({ storage, locks, userId, outboxMax }) {
    let records
    try {
      records = await storage.list()
    } catch (cause) {
      throw new ShoalError('STORAGE', 'could not read the outbox storage.', { cause })
    }
    const mine = records
      .filter((r) => r?.v === 1 && r.userId === userId)
      .sort((a, b) => pendingCount(b) - pendingCount(a) || a.updatedAt - b.updatedAt)
    for (const record of mine) {
      const release = await locks.tryAcquire(LOCK_PREFIX + record.clientId)
      if (release) return new Outbox(record, storage, release, outboxMax)
    }
    for (;;) {
      const clientId = newClientId()
      const release = await locks.tryAcquire(LOCK_PREFIX + clientId)
      if (!release) continue
      const record = { v: 1, clientId, userId, updatedAt: Date.now(), shards: {} }
      const outbox = new Outbox(record, storage, release, outboxMax)
      await outbox.save()
      return outbox
    }
  }

  /**
   * Deletes every outbox of `userId` that no other writer holds (sign-out): their pending mutations
   * are gone for good. Returns how many pending mutations were discarded.
   */
  static async discard({ storage, locks, userId }) {
    let records
    try {
      records = await storage.list()
    } catch (cause) {
      throw new ShoalError('STORAGE', 'could not read the outbox storage.', { cause })
    }
    let discarded = 0
    for (const record of records) {
      if (record?.userId !== userId) continue
      const release = await locks.tryAcquire(LOCK_PREFIX + record.clientId)
      if (!release) continue
      try {
        await storage.delete(record.clientId)
      } catch (cause) {
        throw new ShoalError('STORAGE', 'could not delete an outbox.', { cause })
      } finally {
        release()
      }
      discarded += pendingCount(record)
    }
    return discarded
  }

  constructor(record, storage, release, outboxMax) {
    this.record = record
    this.storage = storage
    this.release = release
    this.outboxMax = outboxMax
    this.saving = Promise.resolve()
    // Pending mutations that a finished write holds: those that survive a reload.
    this.persisted = new WeakSet()
    // Per shard, mutations that left (confirmed or refused) while the stored outbox still holds
    // them: they count as unsent until the write that drops them is done (a reload before it
    // adopts them again, and replays them as duplicates).
    this.leaving = new Map()
    for (const s of Object.values(record.shards)) {
      // A previous page's applied mutations are replayed with the rest (answered "duplicate").
      s.pending = [...(s.applied ?? []), ...s.pending]
      s.applied = []
      for (const m of s.pending) this.persisted.add(m)
    }
    /** Called after the persisted pending mutations may have changed (the client recounts them). */
    this.onChange = () => {}
  }

  get clientId() {
    return this.record.clientId
  }

  get userId() {
    return this.record.userId
  }

  /** @returns {ShardOutbox} */
  shard(key) {
    return (this.record.shards[key] ??= { nextId: 1, confirmed: 0, pending: [], applied: [] })
  }

  /**
   * Mutations of `shard` that the stored outbox holds: persisted and not yet shown by cached rows,
   * or gone from memory but not yet from storage. Those are counted as unsent: "0" means a reload
   * now finds nothing to replay.
   */
  persistedCount(shard) {
    const s = this.record.shards[shard]
    let n = 0
    for (const m of s ? [...s.applied, ...s.pending, ...(this.leaving.get(shard) ?? [])] : []) if (this.persisted.has(m)) n++
    return n
  }

  /** `mutations` left `shard` in memory; the next save drops them from storage. */
  leave(shard, mutations) {
    let set = this.leaving.get(shard)
    if (!set) this.leaving.set(shard, (set = new Set()))
    for (const m of mutations) set.add(m)
  }

  /** Numbers a mutation; the caller must `await save()` before sending it. */
  add(shard, name, args) {
    const total = Object.values(this.record.shards).reduce((n, s) => n + s.applied.length + s.pending.length, 0)
    if (total >= this.outboxMax) {
      throw new ShoalError('OUTBOX_FULL', `the outbox already holds ${total} unconfirmed mutations (outboxMax).`, {
        context: `mutation ${name}`,
      })
    }
    const s = this.shard(shard)
    const mutation = { id: s.nextId++, name, args }
    s.pending.push(mutation)
    return mutation
  }

  /** Removes a mutation that could not be persisted and closes the gap in ids. */
  drop(shard, mutation) {
    const s = this.shard(shard)
    const at = s.pending.indexOf(mutation)
    if (at < 0) return
    s.pending.splice(at, 1)
    this.renumber(shard, mutation.id)
    this.onChange()
  }

  /**
   * The server answered every pending mutation up to `upTo` (pushResult): none is sent again. They
   * stay persisted until `confirm`. Returns them.
   */
  applied(shard, upTo) {
    const s = this.shard(shard)
    if (upTo > s.confirmed) s.confirmed = upTo
    const out = []
    while (s.pending.length && s.pending[0].id <= upTo) out.push(s.pending.shift())
    s.applied.push(...out)
    return out
  }

  /** The server refused `mutation` (answered by `applied`): nothing of it will show, so it leaves now. */
  refused(shard, mutation) {
    const s = this.shard(shard)
    const at = s.applied.indexOf(mutation)
    if (at >= 0) s.applied.splice(at, 1)
    this.leave(shard, [mutation])
    this.onChange()
  }

  /**
   * The rows handed over reflect every mutation up to `upTo` (a poke): they leave the outbox (the
   * caller saves once those rows are in the cache). Returns the mutations that left.
   */
  confirm(shard, upTo) {
    const s = this.shard(shard)
    if (upTo > s.confirmed) s.confirmed = upTo
    const done = []
    while (s.applied.length && s.applied[0].id <= upTo) done.push(s.applied.shift())
    while (s.pending.length && s.pending[0].id <= upTo) done.push(s.pending.shift())
    this.leave(shard, done)
    if (done.length) this.onChange()
    return done
  }

  /**
   * Give pending mutations the ids from `from` on, in order. Used when the
   * server lost the history behind `from` (a wiped dev database).
   */
  renumber(shard, from) {
    const s = this.shard(shard)
    s.pending.forEach((m, i) => (m.id = from + i))
    s.applied = s.applied.filter((m) => m.id < from) // applied to the history the server lost
    s.nextId = from + s.pending.length
    if (s.confirmed >= from) s.confirmed = from - 1
  }

  /** Persists the current state; writes happen one after another, in call order. */
  save() {
    this.record.updatedAt = Date.now()
    const snapshot = {
      ...this.record,
      shards: Object.fromEntries(
        Object.entries(this.record.shards).map(([k, s]) => [
          k,
          { nextId: s.nextId, confirmed: s.confirmed, applied: s.applied.map(plain), pending: s.pending.map(plain) },
        ]),
      ),
    }
    const written = Object.values(this.record.shards).flatMap((s) => [...s.applied, ...s.pending])
    const dropped = [...this.leaving].flatMap(([shard, set]) => [...set].map((m) => [shard, m]))
    const write = this.saving.then(() => this.storage.put(snapshot))
    this.saving = write.then(
      () => {
        for (const m of written) this.persisted.add(m)
        for (const [shard, m] of dropped) this.leaving.get(shard)?.delete(m)
        this.onChange()
      },
      () => {},
    )
    return write.catch((cause) => {
      throw new ShoalError('STORAGE', 'could not persist the outbox.', { cause })
    })
  }

  async close() {
    await this.saving
    this.release()
  }
}

const plain = ({ id, name, args }) => ({ id, name, args })

function pendingCount(record) {
  return Object.values(record.shards ?? {}).reduce((n, s) => n + (s.pending?.length ?? 0), 0)
}

function newClientId() {
  return globalThis.crypto.randomUUID()
}
