// Benchmark: hydrating a TanStack DB collection from the row cache, in Node. A cache entry of
// N rows (10,000 by default) is written through the storage's own cacheWrite, then a fresh
// ShoalClient (its server unreachable: nothing but the cache can answer) and a collection over the
// same subscription are created; the time is from createCollection to the collection being ready
// with every row. Prints figures (median, min, max over the runs); it asserts nothing.
//
//   node client/db/bench/hydrate.js            # 10,000 rows, 7 runs per storage
//   node client/db/bench/hydrate.js --rows=50000 --runs=3

import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCollection } from '@tanstack/db'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { fileStorage } from '@shoal/client/node'
import { WebSocket } from 'ws'
import { shoalCollectionOptions } from '../src/index.js'

const arg = (name, d) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d)
const ROWS = arg('rows', 10_000)
const RUNS = arg('runs', 7)
const BASE = 'http://127.0.0.1:9' // nothing listens: the cache alone answers
const USER = 'bench'
const ARGS = { channelId: 'c1' }

/** The key the client gives the subscription (cache.js: [server, user, shard, shape, args]). */
const key = JSON.stringify(['ws://127.0.0.1:9', USER, '__root__', 'messagesByChannel', ARGS])

function rows() {
  const ops = []
  for (let i = 0; i < ROWS; i++) {
    const id = `m${String(i).padStart(6, '0')}`
    ops.push({ op: 'put', table: 'messages', id, doc: { id, channelId: 'c1', authorId: `user${i % 50}`, text: `message number ${i}, of an ordinary length for a chat`, createdAt: 1_795_000_000_000 + i } })
  }
  return ops
}

async function seed(storage) {
  const ops = rows()
  const bytes = ops.reduce((n, op) => n + Buffer.byteLength(JSON.stringify(op.doc)), 0)
  const meta = { key, userId: USER, shape: 'messagesByChannel', cursor: { seq: ROWS, epoch: 'bench' }, rows: ROWS, bytes, usedAt: Date.now() }
  if (!(await storage.cacheWrite(key, { meta, reset: true, ops }))) throw new Error('seed refused')
  return bytes
}

async function once(makeStorage) {
  const client = new ShoalClient({ baseUrl: BASE, WebSocket, userId: USER, storage: makeStorage(), reconnectMinMs: 60_000, onError: () => {} })
  await client.ready
  const t0 = performance.now()
  const collection = createCollection(shoalCollectionOptions({ client, shape: 'messagesByChannel', args: ARGS, id: `bench-${Math.random()}` }))
  await collection.preload()
  const ms = performance.now() - t0
  if (collection.size !== ROWS) throw new Error(`hydrated ${collection.size} rows, expected ${ROWS}`)
  await collection.cleanup()
  await client.close()
  return ms
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b)
  const f = (x) => x.toFixed(1)
  return `median ${f(s[Math.floor(s.length / 2)])} ms, min ${f(s[0])} ms, max ${f(s[s.length - 1])} ms (${s.length} runs)`
}

const dir = await mkdtemp(join(tmpdir(), 'shoal-bench-'))
try {
  const memory = memoryStorage()
  const bytes = await seed(memory)
  await seed(fileStorage(dir))
  console.log(`hydrate ${ROWS} rows (${(bytes / 1024 / 1024).toFixed(2)} MiB of JSON) into a TanStack DB collection, from the row cache:`)
  for (const [name, make] of [
    ['memoryStorage', () => memory],
    ['fileStorage (read from disk each run)', () => fileStorage(dir)],
  ]) {
    await once(make) // warm-up: JIT, module loading
    const ms = []
    for (let i = 0; i < RUNS; i++) ms.push(await once(make))
    console.log(`  ${name}: ${summary(ms)}`)
  }
  console.log(`date: ${new Date().toISOString()}`)
  console.log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model ?? '?'}; node ${process.version}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
