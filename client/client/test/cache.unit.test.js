// UNIT TESTS AGAINST A FAKE SERVER (test/fake-server.js) of the row cache and of the push limits:
// a reload (a second client over the same storage) shows the cached rows before its socket and
// resumes with since; a reset replaces them; two writers never leave rows behind their cursor; the
// budget evicts what is not in use; a server that refuses pushes as a whole never wedges a batch.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { ShoalClient, memoryStorage } from '../src/index.js'
import { RowCache, utf8Length } from '../src/cache.js'
import { fakeServerForFile } from './fake-server.js'

const { server, opened } = fakeServerForFile()

function jwt(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'HS256' })}.${b64({ sub, exp: 9e9 })}.c2ln`
}

function makeClient(options = {}) {
  const errors = []
  const client = new ShoalClient({
    baseUrl: server.url,
    WebSocket,
    getToken: () => jwt(options.user ?? 'alice'),
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    onError: (e) => errors.push(e),
    onWarning: () => {},
    ...options,
  })
  opened.push(client)
  return { client, errors }
}

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))
const put = (i, text = `t${i}`) => ({ op: 'put', table: 'messages', id: `m${i}`, doc: { id: `m${i}`, text } })

/** Subscribes, answers `connected`, and returns the socket and the subscribe frame. */
async function subscribed(client, changes, epoch = 'e1') {
  const n = server.sockets.length
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => changes.push(c))
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch, seq: 0, lastMutationId: 0 })
  return { s, sub: await s.next('subscribe') }
}

test('utf8Length counts UTF-8 bytes as the server does', () => {
  for (const s of ['abc', 'é', '漢字', '😀x', '']) assert.equal(utf8Length(s), Buffer.byteLength(s))
})

test('a reload shows the cached rows before its socket, resumes with since, and a reset replaces them', async () => {
  const storage = memoryStorage()
  const first = makeClient({ storage })
  const c1 = []
  const { s, sub } = await subscribed(first.client, c1)
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub: sub.id, reset: true, rows: [put(1), put(2)] }], seq: 4, epoch: 'e1', lastMutationId: 0 })
  s.send({ type: 'poke', pokeId: 'p2', parts: [{ sub: sub.id, reset: false, rows: [{ op: 'del', table: 'messages', id: 'm1' }, put(3)] }], seq: 6, epoch: 'e1', lastMutationId: 0 })
  await tick()
  await first.client.close()

  const n = server.sockets.length
  const second = makeClient({ storage })
  const c2 = []
  second.client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => c2.push(c))
  await tick()
  assert.equal(c2.length, 1, 'the cached rows, before any socket answered')
  assert.equal(c2[0].cached, true)
  assert.equal(c2[0].reset, true)
  assert.deepEqual(c2[0].rows.map((r) => r.id).sort(), ['m2', 'm3'])
  const s2 = await server.socket(n)
  s2.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 9, lastMutationId: 0 })
  const resub = await s2.next('subscribe')
  assert.deepEqual(resub.since, { seq: 6, epoch: 'e1' })
  // The server answers with a reset (a new epoch): it replaces the cached rows.
  s2.send({ type: 'poke', pokeId: 'q1', parts: [{ sub: resub.id, reset: true, rows: [put(7)] }], seq: 1, epoch: 'e2', lastMutationId: 0 })
  await tick()
  await second.client.close()

  const third = makeClient({ storage })
  const c3 = []
  third.client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => c3.push(c))
  await tick()
  assert.deepEqual(c3[0].rows.map((r) => r.id), ['m7'])
  assert.deepEqual([c3[0].seq, c3[0].epoch], [1, 'e2'])
  await third.client.close()
})

test('other args, another user or another server never read an entry', async () => {
  const storage = memoryStorage()
  const a = makeClient({ storage })
  const { s, sub } = await subscribed(a.client, [])
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub: sub.id, reset: true, rows: [put(1)] }], seq: 2, epoch: 'e1', lastMutationId: 0 })
  await tick()
  await a.client.close()
  const b = makeClient({ storage, user: 'bob' })
  const seen = []
  b.client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => seen.push(c))
  const other = makeClient({ storage, baseUrl: server.url + '/elsewhere' })
  other.client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => seen.push(c))
  await tick(100)
  assert.deepEqual(seen, [])
  await b.client.close()
  await other.client.close()
})

test('a delta goes only onto the state it was computed from: a second writer makes the first stop', async () => {
  const storage = memoryStorage()
  const key = 'k'
  const meta = (seq) => ({ key, userId: 'alice', cursor: { seq, epoch: 'e' }, rows: 0, bytes: 0, usedAt: 0 })
  assert.equal(await storage.cacheWrite(key, { meta: meta(1), reset: true, ops: [put(1)] }), true)
  assert.equal(await storage.cacheWrite(key, { meta: meta(2), expect: { seq: 1, epoch: 'e' }, ops: [put(2)] }), true)
  // A tab that last wrote seq 1 must not lay its delta over seq 2.
  assert.equal(await storage.cacheWrite(key, { meta: meta(3), expect: { seq: 1, epoch: 'e' }, ops: [put(3)] }), false)
  const { meta: m, rows } = await storage.cacheLoad(key)
  assert.deepEqual(m.cursor, { seq: 2, epoch: 'e' })
  assert.deepEqual(rows.map((r) => r.id).sort(), ['m1', 'm2'])
  assert.equal(await storage.cacheWrite('absent', { meta: meta(5), expect: null, ops: [put(5)] }), false, 'no delta without a base')
})

test('the budget evicts least recently used entries not in use, and entries past their age', async () => {
  const storage = memoryStorage()
  const client = { wsBase: 'ws://x', userId: 'alice', reportError: (e) => assert.fail(e) }
  const cache = new RowCache(client, storage, { bytesMax: 250, maxAgeMs: 1000 })
  const entry = (key, bytes, usedAt) => storage.cacheWrite(key, { meta: { key, userId: 'alice', cursor: { seq: 1, epoch: 'e' }, rows: 1, bytes, usedAt }, reset: true, ops: [] })
  const now = 10_000
  await entry('old', 10, now - 5000) // past its age
  await entry('a', 100, now - 300)
  await entry('b', 100, now - 200)
  await entry('c', 100, now - 100)
  cache.use('a', +1) // in use: never evicted
  assert.deepEqual((await cache.evict(now)).sort(), ['b', 'old'])
  assert.deepEqual((await storage.cacheList()).map((m) => m.key).sort(), ['a', 'c'])
})

test('a server that says a lower mutationsPerPushMax in connected gets pushes of that size', async () => {
  const n = server.sockets.length
  const { client } = makeClient({ storage: memoryStorage() })
  for (let i = 0; i < 7; i++) client.mutate('sendMessage', { id: `m${i}` }).catch(() => {})
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0, limits: { frameBytesMax: 1 << 20, mutationsPerPushMax: 3 } })
  await tick(100)
  assert.deepEqual(s.frames.filter((f) => f.type === 'push').map((f) => f.mutations.length), [3, 3, 1])
  await client.close()
})

test('a push refused as a whole (BAD_FRAME, no limits said) is sent again in smaller batches: never wedged', async () => {
  const n = server.sockets.length
  const { client, errors } = makeClient({ storage: memoryStorage() })
  const done = []
  for (let i = 1; i <= 10; i++) done.push(client.mutate('sendMessage', { id: `m${i}` }))
  const s = await server.socket(n)
  // A server whose limit is 3 but that does not say so (an older server).
  let last = 0
  s.ws.on('message', (data) => {
    const f = JSON.parse(String(data))
    if (f.type !== 'push') return
    if (f.mutations.length > 3) return s.send({ type: 'error', code: 'BAD_FRAME', message: 'a push holds 1..3 mutations' })
    const results = []
    for (const m of f.mutations) {
      if (m.id <= last) results.push({ id: m.id, status: 'duplicate' })
      else if (m.id === last + 1) results.push({ id: m.id, status: 'ok' }), (last = m.id)
      else {
        results.push({ id: m.id, status: 'error', code: 'OUT_OF_ORDER', expected: last + 1, message: 'out of order' })
        break
      }
    }
    s.send({ type: 'pushResult', results })
    s.send({ type: 'poke', pokeId: `p${last}`, parts: [], seq: last, epoch: 'e1', lastMutationId: last })
  })
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await Promise.all(done)
  assert.equal(last, 10)
  assert.deepEqual(errors.filter((e) => e.code !== 'BAD_FRAME'), [])
  await client.close()
})

test('a single mutation over the server\'s frame limit is refused locally, and the next ones still land', async () => {
  const n = server.sockets.length
  const { client, errors } = makeClient({ storage: memoryStorage() })
  const big = client.mutate('sendMessage', { id: 'big', text: '漢'.repeat(2000) })
  const small = client.mutate('sendMessage', { id: 'small' })
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0, limits: { frameBytesMax: 4096, mutationsPerPushMax: 100 } })
  await assert.rejects(big, (e) => e.code === 'FRAME_TOO_LARGE')
  const push = await s.next('push')
  assert.deepEqual(push.mutations.map((m) => [m.id, m.args.id]), [[1, 'small']], 'renumbered into the freed id')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p1', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await small
  assert.deepEqual(errors, [])
  await client.close()
})
