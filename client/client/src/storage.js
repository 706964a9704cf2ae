// Outbox storage: a tiny store of outbox records keyed by client id.
// A record is { v: 1, clientId, userId, updatedAt, shards: { [shard]: { nextId, confirmed, pending: [{ id, name, args }] } } }.
// Implementations: memoryStorage (tests, server-side rendering), indexedDBStorage
// (browsers, the default there) and fileStorage (Node, in '@shoal/client/node').
// Each also keeps the row cache (cache.js): per subscription a record { key, userId, shape, cursor,
// rows, bytes, usedAt } and its rows { table, id, doc }, written together in one atomic step.

import { mapCache, sameCursor } from './cache.js'

/**
 * Outboxes kept in memory. Share one instance between two clients to model a
 * page reload in one process.
 * @returns {import('./index.js').OutboxStorage}
 */
export function memoryStorage() {
  const records = new Map()
  return {
    async list() {
      return [...records.values()].map((r) => structuredClone(r))
    },
    async put(record) {
      records.set(record.clientId, structuredClone(record))
    },
    async delete(clientId) {
      records.delete(clientId)
    },
    ...mapCache(new Map()),
  }
}

/**
 * Outboxes in IndexedDB: one object store, one record per client id.
 * @param {{ name?: string, indexedDB?: IDBFactory }} [options]
 * @returns {import('./index.js').OutboxStorage}
 */
export function indexedDBStorage({ name = 'shoal', indexedDB = globalThis.indexedDB, preload } = {}) {
  const STORE = 'outboxes'
  let db
  const open = () => {
    if (!db) {
      const req = indexedDB.open(name, 1)
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'clientId' })
      db = request(req)
      db.catch(() => (db = undefined)) // try again next time
    }
    return db
  }
  const run = async (mode, fn) => {
    const tx = (await open()).transaction(STORE, mode)
    const req = fn(tx.objectStore(STORE))
    // A write counts only once its transaction has committed.
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve
      tx.onerror = tx.onabort = () => reject(tx.error)
    })
    return req.result
  }
  return {
    list: () => run('readonly', (s) => s.getAll()),
    put: (record) => run('readwrite', (s) => s.put(record)),
    delete: (clientId) => run('readwrite', (s) => s.delete(clientId)),
    ...indexedDBCache(`${name}-cache`, indexedDB, preload),
  }
}

/**
 * The row cache in its own IndexedDB database (so the outbox's schema stays as it is): the store
 * `subs` holds one record per subscription, `rows` its rows in BUCKETS records under the key
 * [subscription, bucket], each a JSON text of { rowKey: { table, id, doc } } (a row goes to the
 * bucket its key hashes to). One record per row made reading 10,000 rows cost 10,000 structured
 * clones; a few JSON texts parse in a fraction of that. One poke of one subscription is one
 * readwrite transaction over both stores, rewriting only the buckets it touches.
 */
const BUCKETS = 64

function bucketOf(rowKey) {
  let h = 0x811c9dc5 // FNV-1a
  for (let i = 0; i < rowKey.length; i++) h = Math.imul(h ^ rowKey.charCodeAt(i), 0x01000193)
  return (h >>> 0) % BUCKETS
}

const rowKeyOf = (op) => `${op.table}\u0000${typeof op.id}:${op.id}`

/**
 * `preload`: a promise of a Map key -> { meta, buckets } (the `subs` record and the `rows` values of
 * an entry, read in one readonly transaction, e.g. by an inline script of the page while its
 * bundle downloads). A load takes an entry from it once; the first write or delete of this
 * storage's cache drops it (it would be older than what the storage holds). One that has not
 * settled within a second is not used.
 */
function indexedDBCache(name, indexedDB, preload) {
  // Not waited for more than a second (an open the browser holds back, say): then each load reads.
  let preloaded =
    preload && typeof preload.then === 'function'
      ? Promise.race([Promise.resolve(preload).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000))])
      : undefined
  let db
  const open = () => {
    if (!db) {
      const req = indexedDB.open(name, 2)
      req.onupgradeneeded = () => {
        for (const store of [...req.result.objectStoreNames]) req.result.deleteObjectStore(store)
        req.result.createObjectStore('subs', { keyPath: 'key' })
        req.result.createObjectStore('rows')
      }
      db = request(req)
      db.catch(() => (db = undefined))
    }
    return db
  }
  // Every bucket key of a subscription sorts between [key] and [key, []] (arrays sort after numbers).
  const rangeOf = (key) => IDBKeyRange.bound([key], [key, []])
  const run = async (mode, fn) => {
    const tx = (await open()).transaction(['subs', 'rows'], mode)
    const out = {}
    fn(tx.objectStore('subs'), tx.objectStore('rows'), out, tx)
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve
      tx.onerror = tx.onabort = () => reject(tx.error)
    })
    return out
  }
  return {
    async cacheLoad(key) {
      const early = preloaded && (await preloaded)
      const pre = early instanceof Map && preloaded ? early.get(key) : undefined
      if (pre) early.delete(key)
      const out = pre?.meta && Array.isArray(pre.buckets) ? pre : await run('readonly', (subs, rows, out) => {
        subs.get(key).onsuccess = (e) => (out.meta = e.target.result)
        rows.getAll(rangeOf(key)).onsuccess = (e) => (out.buckets = e.target.result)
      })
      if (!out.meta) return undefined
      const all = []
      for (const text of out.buckets ?? []) for (const row of Object.values(JSON.parse(text))) all.push(row)
      return { meta: out.meta, rows: all }
    },
    async cacheWrite(key, { meta, expect, reset, ops }) {
      preloaded = undefined
      const out = await run('readwrite', (subs, rows, out) => {
        subs.get(key).onsuccess = (e) => {
          const cur = e.target.result
          // A delta goes only onto the state it was computed from (see cache.js).
          if (!reset && !(cur && sameCursor(cur.cursor, expect))) return (out.ok = false)
          out.ok = true
          subs.put(meta)
          const touched = new Map() // bucket -> its ops, in order
          for (const op of ops) {
            const b = bucketOf(rowKeyOf(op))
            if (!touched.has(b)) touched.set(b, [])
            touched.get(b).push(op)
          }
          const apply = (bucket, b, text) => {
            const rowsOf = text ? JSON.parse(text) : {}
            for (const op of bucket) {
              if (op.op === 'put') rowsOf[rowKeyOf(op)] = { table: op.table, id: op.id, doc: op.doc }
              else delete rowsOf[rowKeyOf(op)]
            }
            rows.put(JSON.stringify(rowsOf), [key, b])
          }
          if (reset) {
            rows.delete(rangeOf(key))
            for (const [b, bucket] of touched) apply(bucket, b, null)
          } else {
            for (const [b, bucket] of touched) rows.get([key, b]).onsuccess = (g) => apply(bucket, b, g.target.result)
          }
        }
      })
      return out.ok === true
    },
    async cacheList() {
      const out = await run('readonly', (subs, rows, out) => (subs.getAll().onsuccess = (e) => (out.all = e.target.result)))
      return out.all ?? []
    },
    async cacheDelete(keys) {
      preloaded = undefined
      await run('readwrite', (subs, rows) => {
        for (const key of keys) {
          subs.delete(key)
          rows.delete(rangeOf(key))
        }
      })
    },
  }
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/** IndexedDB where there is one, memory otherwise. */
export function defaultStorage() {
  return globalThis.indexedDB ? indexedDBStorage() : memoryStorage()
}
