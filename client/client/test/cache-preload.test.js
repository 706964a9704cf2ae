// UNIT TESTS of indexedDBStorage's `preload` (cache entries an inline script read ahead): over a
// tiny in-memory stand-in for IndexedDB (only what storage.js calls), a preloaded entry is used
// once, and never after the storage's first cache write or delete (it would be older).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { indexedDBStorage } from '../src/storage.js'

// IDBKeyRange.bound([key], [key, []]): every [key, bucket].
globalThis.IDBKeyRange ??= { bound: (lo) => ({ prefix: lo[0] }) }

function fakeIndexedDB() {
  const stores = { subs: new Map(), rows: new Map(), outboxes: new Map() }
  const later = (fn) => setTimeout(fn, 0)
  const req = (fn) => {
    const r = {}
    later(() => ((r.result = fn()), r.onsuccess?.({ target: r })))
    return r
  }
  const inRange = (k, q) => (q && q.prefix !== undefined ? JSON.parse(k)[0] === q.prefix : true)
  const store = (name) => ({
    get: (k) => req(() => stores[name].get(JSON.stringify(k))),
    getAll: (q) => req(() => [...stores[name]].filter(([k]) => inRange(k, q)).map(([, v]) => v)),
    put: (v, k) => req(() => void stores[name].set(JSON.stringify(k ?? v.key ?? v.clientId), v)),
    delete: (q) => req(() => {
      for (const k of [...stores[name].keys()]) if (q.prefix !== undefined ? inRange(k, q) : k === JSON.stringify(q)) stores[name].delete(k)
    }),
  })
  const db = {
    objectStoreNames: [],
    createObjectStore: () => {},
    transaction: () => {
      const tx = { objectStore: store }
      setTimeout(() => tx.oncomplete?.(), 5)
      return tx
    },
  }
  return { stores, open: () => req(() => db) }
}

const KEY = '["ws://x","alice","c1","messagesByChannel",{"channelId":"c1"}]'
const meta = (seq) => ({ key: KEY, userId: 'alice', shape: 'messagesByChannel', cursor: { seq, epoch: 'e1' }, rows: 1 })
const bucket = (text) => JSON.stringify({ r: { table: 'messages', id: 'm1', doc: { id: 'm1', text } } })

test('preload: a load takes the preloaded entry once, then reads IndexedDB', async () => {
  const idb = fakeIndexedDB()
  idb.stores.subs.set(JSON.stringify(KEY), meta(7))
  idb.stores.rows.set(JSON.stringify([KEY, 3]), bucket('stored'))
  const storage = indexedDBStorage({ indexedDB: idb, preload: Promise.resolve(new Map([[KEY, { meta: meta(5), buckets: [bucket('preloaded')] }]])) })
  const first = await storage.cacheLoad(KEY)
  assert.equal(first.meta.cursor.seq, 5)
  assert.equal(first.rows[0].doc.text, 'preloaded')
  const second = await storage.cacheLoad(KEY)
  assert.equal(second.meta.cursor.seq, 7, 'used once')
  assert.equal(second.rows[0].doc.text, 'stored')
})

test('preload: after a cache write (or delete) of the storage, a preloaded entry is never used', async () => {
  for (const change of [
    (s) => s.cacheWrite('other', { meta: { ...meta(1), key: 'other' }, reset: true, ops: [] }),
    (s) => s.cacheDelete(['other']),
  ]) {
    const idb = fakeIndexedDB()
    idb.stores.subs.set(JSON.stringify(KEY), meta(7))
    idb.stores.rows.set(JSON.stringify([KEY, 3]), bucket('stored'))
    const storage = indexedDBStorage({ indexedDB: idb, preload: Promise.resolve(new Map([[KEY, { meta: meta(5), buckets: [bucket('preloaded')] }]])) })
    await change(storage)
    const loaded = await storage.cacheLoad(KEY)
    assert.equal(loaded.meta.cursor.seq, 7)
    assert.equal(loaded.rows[0].doc.text, 'stored')
  }
})

test('preload: a failed or empty preload falls back to reading IndexedDB', async () => {
  for (const preload of [Promise.reject(new Error('no')), Promise.resolve(new Map()), Promise.resolve(new Map([[KEY, { meta: meta(5), buckets: undefined }]]))]) {
    const idb = fakeIndexedDB()
    idb.stores.subs.set(JSON.stringify(KEY), meta(7))
    idb.stores.rows.set(JSON.stringify([KEY, 3]), bucket('stored'))
    const loaded = await indexedDBStorage({ indexedDB: idb, preload }).cacheLoad(KEY)
    assert.equal(loaded.meta.cursor.seq, 7)
  }
})

test('preload: one that never settles holds a load up for a second at most', async () => {
  const idb = fakeIndexedDB()
  idb.stores.subs.set(JSON.stringify(KEY), meta(7))
  idb.stores.rows.set(JSON.stringify([KEY, 3]), bucket('stored'))
  const t0 = Date.now()
  const loaded = await indexedDBStorage({ indexedDB: idb, preload: new Promise(() => {}) }).cacheLoad(KEY)
  assert.equal(loaded.meta.cursor.seq, 7)
  assert.ok(Date.now() - t0 < 3000)
})
