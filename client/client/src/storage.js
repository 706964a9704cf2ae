// Outbox storage: a tiny store of outbox records keyed by client id.
// A record is { v: 1, clientId, userId, updatedAt, shards: { [shard]: { nextId, confirmed, pending: [{ id, name, args }] } } }.
// Implementations: memoryStorage (tests, server-side rendering), indexedDBStorage
// (browsers, the default there) and fileStorage (Node, in '@shoal/client/node').

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
  }
}

/**
 * Outboxes in IndexedDB: one object store, one record per client id.
 * @param {{ name?: string, indexedDB?: IDBFactory }} [options]
 * @returns {import('./index.js').OutboxStorage}
 */
export function indexedDBStorage({ name = 'shoal', indexedDB = globalThis.indexedDB } = {}) {
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
