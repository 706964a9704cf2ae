// Local-first reads and the wire's limits, end to end: the real worker in workerd through
// Miniflare (test-harness/lib/worker.js), real WebSockets, the real client packages and TanStack DB,
// the example app's shapes and mutators.
//
// - the row cache survives a restart with file storage: a new process shows the last rows before
//   any socket opens (with the server unreachable), then resumes with `since` (a catch-up);
// - another user on the same storage sees none of it; signOut({ purge: true }) deletes it;
// - a push of CJK text larger than the frame limit (in UTF-8 bytes) goes through;
// - a server with lowered limits (SHOAL_LIMITS) never wedges a client.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createCollection } from '@tanstack/db'
import { ShoalClient } from '@shoal/client'
import { fileStorage } from '@shoal/client/node'
import { bindMutators, shoalCollectionOptions } from '../src/index.js'
import { CHAT_ROUTES } from '../../../test-harness/lib/routes.js'
import { recordingWebSocket } from '../../../test-harness/lib/socket.js'

const harness = fileURLToPath(new URL('../../../test-harness/lib/', import.meta.url))
const skip = existsSync(join(harness, 'worker.js')) ? false : 'test-harness/lib/worker.js is not there'

let worker, lowered, cuttableNetworkTo
const opened = []
const dirs = []
before(async () => {
  if (skip) return
  const { startWorker } = await import(join(harness, 'worker.js'))
  cuttableNetworkTo = (await import(join(harness, 'network.js'))).cuttableNetwork
  ;[worker, lowered] = await Promise.all([
    startWorker(),
    startWorker({ bindings: { SHOAL_LIMITS: JSON.stringify({ mutationsPerPushMax: 3 }) } }),
  ])
}, { timeout: 120_000 })
after(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await worker?.stop()
  await lowered?.stop()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

let seq = 0
const unique = (p) => `${p}${process.pid}x${++seq}`

async function waitFor(check, what, ms = 20_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A proxy to the worker that can be cut (test-harness/lib/network.js): the same URL, reachable or not. */
async function network(target) {
  const n = await cuttableNetworkTo(target)
  opened.push(n)
  return n
}

async function tempDir() {
  const d = await mkdtemp(join(tmpdir(), 'shoal-cache-'))
  dirs.push(d)
  return d
}

/** A client of `sub` with the example's messages collection for `channelId`. */
function person(target, { sub, storage, baseUrl = target.url, channelId, sockets = [] }) {
  const errors = []
  const Recording = recordingWebSocket(sockets)
  const client = new ShoalClient({
    baseUrl,
    routes: CHAT_ROUTES, // channel c lives on shard c
    WebSocket: Recording,
    getToken: () => target.token(sub),
    storage,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    onError: (e) => errors.push(e),
  })
  opened.push(client)
  const messages = createCollection(shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId }, id: unique('messages-'), startSync: true }))
  const m = bindMutators(client, { collections: { messages } }, {
    createChannel: true,
    sendMessage: (tx, { id, channelId, text }) => tx.messages.insert({ id, channelId, authorId: sub, text, createdAt: 0 }),
  })
  return { client, messages, m, errors, sockets }
}

const texts = (collection) => collection.toArray.map((r) => r.text).sort()

test('the cache survives a restart with file storage: the last rows before any socket, then a catch-up', { skip, timeout: 120_000 }, async () => {
  const dir = await tempDir()
  const user = unique('u')
  const channelId = unique('c')
  const net = await network(worker)
  const a = person(worker, { sub: user, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await a.m.createChannel({ id: channelId, name: 'general' })
  await a.m.sendMessage({ id: unique('m'), channelId, text: 'one' })
  await a.m.sendMessage({ id: unique('m'), channelId, text: 'two' })
  await waitFor(() => texts(a.messages).join() === 'one,two' && a.messages.toArray.every((r) => !r.$hasPendingWrites), 'both messages synced')
  await a.client.close()

  // "Another process": a new storage object over the same directory, and the server unreachable.
  net.down()
  const offline = person(worker, { sub: user, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await offline.messages.stateWhenReady()
  assert.deepEqual(texts(offline.messages), ['one', 'two'], 'the last rows, with the server unreachable')
  assert.equal(offline.client.status, 'connecting')
  // A write made meanwhile waits in the outbox, shown optimistically.
  const pendingId = unique('m')
  const pending = offline.m.sendMessage({ id: pendingId, channelId, text: 'three' })
  pending.catch(() => {})
  await waitFor(() => texts(offline.messages).includes('three'), 'the optimistic row')
  await waitFor(() => offline.client.pendingCount === 1, 'the write persisted')
  await offline.client.close()

  // The next process: the rows and the pending write show at once (the network still down), then
  // the socket resumes with since once it is back.
  const back = person(worker, { sub: user, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await back.messages.stateWhenReady()
  await waitFor(() => texts(back.messages).length === 3, 'the optimistic row rebuilt from the outbox')
  assert.deepEqual(texts(back.messages), ['one', 'three', 'two'], 'the view after the restart is the view before it')
  assert.equal(back.sockets.filter((s) => s.received.length).length, 0, 'no socket got anything yet')
  net.up()
  await waitFor(() => back.client.pendingCount === 0, 'the adopted write to land')
  await waitFor(() => back.messages.toArray.every((r) => !r.$hasPendingWrites), 'the overlay to drop')
  assert.deepEqual(texts(back.messages), ['one', 'three', 'two'])
  const live = back.sockets.find((s) => s.received.some((f) => f.type === 'connected'))
  const subscribe = live.sent.find((f) => f.type === 'subscribe')
  assert.ok(subscribe.since, 'resumed with since')
  const part = live.received.find((f) => f.type === 'pokePart' && f.sub === subscribe.id)
  assert.equal(part.reset, false, 'a catch-up, not a reset')
  // Exactly once: a second reader sees three messages.
  const reader = person(worker, { sub: user, storage: fileStorage(await tempDir()), channelId })
  await reader.messages.stateWhenReady()
  await waitFor(() => reader.messages.size === 3, 'three messages on the server')
  assert.deepEqual(texts(reader.messages), ['one', 'three', 'two'])
  assert.deepEqual([...a.errors, ...back.errors, ...reader.errors], [])
})

test('another user on the same storage never sees the rows or the pending writes; signOut purges them', { skip, timeout: 120_000 }, async () => {
  const dir = await tempDir()
  const alice = unique('alice')
  const channelId = unique('c')
  const net = await network(worker)
  const a = person(worker, { sub: alice, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await a.m.createChannel({ id: channelId, name: 'private' })
  await a.m.sendMessage({ id: unique('m'), channelId, text: 'secret' })
  await waitFor(() => a.messages.toArray.some((r) => r.text === 'secret' && !r.$hasPendingWrites), 'synced')
  await a.client.close()
  net.down()

  // Mallory on the same device, the same shape and args, offline: nothing of alice's.
  const m = person(worker, { sub: unique('mallory'), storage: fileStorage(dir), channelId, baseUrl: net.url })
  await m.client.ready
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(m.messages.size, 0)
  assert.deepEqual(await m.client.adoptedMutations(), [])
  await m.client.close()

  const again = person(worker, { sub: alice, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await again.messages.stateWhenReady()
  assert.deepEqual(texts(again.messages), ['secret'])
  await again.client.signOut({ purge: true })
  const after = person(worker, { sub: alice, storage: fileStorage(dir), channelId, baseUrl: net.url })
  await after.client.ready
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(after.messages.size, 0, 'purged')
  assert.deepEqual(await fileStorage(dir).cacheList(), [])
  assert.equal((await fileStorage(dir).list()).filter((r) => r.userId === alice && r.clientId !== after.client.clientId).length, 0)
})

test('a push of CJK text larger than the frame limit goes through, cut by UTF-8 bytes', { skip, timeout: 120_000 }, async () => {
  const user = unique('u')
  const channelId = unique('c')
  const sockets = []
  const p = person(worker, { sub: user, storage: fileStorage(await tempDir()), channelId, sockets })
  await p.m.createChannel({ id: channelId, name: 'cjk' })
  // 100 messages of 4,000 CJK characters: 1.2 MB of UTF-8 (but 400,000 UTF-16 units).
  const text = '漢字かな交じり文'.repeat(500)
  const writes = []
  for (let i = 0; i < 100; i++) writes.push(p.m.sendMessage({ id: `${channelId}-${i}`, channelId, text }))
  await Promise.all(writes)
  await waitFor(() => p.messages.size === 100 && p.messages.toArray.every((r) => !r.$hasPendingWrites), 'all 100 synced')
  const pushes = sockets.flatMap((s) => s.sent).filter((f) => f.type === 'push')
  for (const f of pushes) assert.ok(Buffer.byteLength(JSON.stringify(f)) <= 1 << 20, 'every push within the frame limit')
  assert.deepEqual(sockets.flatMap((s) => s.closes).filter((c) => c === 4009), [], 'never closed with 4009')
  assert.deepEqual(p.errors, [])
})

test('a server with lowered limits never wedges a client: it says them in connected, the client obeys', { skip, timeout: 120_000 }, async () => {
  const user = unique('u')
  const channelId = unique('c')
  const sockets = []
  const p = person(lowered, { sub: user, storage: fileStorage(await tempDir()), channelId, sockets })
  await p.m.createChannel({ id: channelId, name: 'small' })
  const writes = []
  for (let i = 0; i < 10; i++) writes.push(p.m.sendMessage({ id: `${channelId}-${i}`, channelId, text: `n${i}` }))
  await Promise.all(writes)
  await waitFor(() => p.messages.size === 10, 'all 10 synced')
  const connected = sockets[0].received.find((f) => f.type === 'connected')
  assert.equal(connected.limits.mutationsPerPushMax, 3)
  assert.equal(connected.limits.frameBytesMax, 1 << 20)
  for (const f of sockets.flatMap((s) => s.sent).filter((f) => f.type === 'push')) assert.ok(f.mutations.length <= 3)
  assert.ok(!sockets.flatMap((s) => s.received).some((f) => f.type === 'error'), 'no BAD_FRAME')
  assert.deepEqual(p.errors, [])
})

test('a token refused on reconnect (401) surfaces once as an auth state, and the refresh hook brings the client back', { skip, timeout: 120_000 }, async () => {
  const user = unique('u')
  const channelId = unique('c')
  const net = await network(worker)
  let token = worker.token(user)
  const errors = []
  const statuses = []
  const refreshCalls = []
  const sockets = []
  const client = new ShoalClient({
    baseUrl: net.url,
    routes: CHAT_ROUTES,
    WebSocket: recordingWebSocket(sockets),
    getToken: () => token,
    storage: fileStorage(await tempDir()),
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    onError: (e) => errors.push(e),
    refreshToken: async (info) => {
      refreshCalls.push(info)
      await new Promise((r) => setTimeout(r, 300)) // the app asks its identity provider
      return worker.token(user)
    },
  })
  opened.push(client)
  client.onStatus((s) => statuses.push(s.auth))
  await client.mutate('createChannel', { id: channelId, name: 'auth' })
  // The token is revoked (here: expired long ago) while the network is down.
  token = worker.token(user, {}, -3600)
  net.down()
  await waitFor(() => client.status !== 'online', 'the socket to drop')
  const write = client.mutate('sendMessage', { id: unique('m'), channelId, text: 'after the refusal' })
  net.up()
  await waitFor(() => refreshCalls.length === 1, 'the refresh hook to be called')
  assert.equal(statuses.filter((a) => a === 'refused').length >= 1, true, 'the auth state said refused')
  await write
  await waitFor(() => client.status === 'online', 'online again')
  assert.equal(client.syncStatus.auth, 'ok')
  assert.equal(refreshCalls.length, 1, 'the hook was called once')
  assert.deepEqual(errors.map((e) => e.code), ['UNAUTHORIZED'], 'surfaced once')
})

/** Like a browser's WebSocket: a refused upgrade says nothing of its HTTP status. */
function browserLikeWebSocket(sockets) {
  return class extends recordingWebSocket(sockets) {
    set onerror(handler) {
      super.onerror = handler && (() => handler({ type: 'error' }))
    }
    get onerror() {
      return super.onerror
    }
  }
}

test('without a refresh hook, a refused token parks the connection (no endless backoff) until supplyToken; a browser learns of the 401 from GET /sync', { skip, timeout: 120_000 }, async () => {
  const user = unique('u')
  const sockets = []
  const errors = []
  const client = new ShoalClient({
    baseUrl: worker.url,
    routes: CHAT_ROUTES,
    WebSocket: browserLikeWebSocket(sockets),
    getToken: () => worker.token(user, {}, -3600),
    userId: user,
    storage: fileStorage(await tempDir()),
    reconnectMinMs: 10,
    reconnectMaxMs: 20,
    onError: (e) => errors.push(e),
  })
  opened.push(client)
  const write = client.mutate('createChannel', { id: unique('c'), name: 'parked' })
  await waitFor(() => client.syncStatus.auth === 'refused', 'the refusal')
  const attempts = sockets.length
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(sockets.length, attempts, 'no attempt while parked')
  assert.deepEqual(errors.map((e) => e.code), ['UNAUTHORIZED'])
  client.supplyToken(await worker.token(user))
  await write
  assert.equal(client.syncStatus.auth, 'ok')
})
