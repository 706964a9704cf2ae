// UNIT TESTS AGAINST A FAKE SERVER (test/fake-server.js): they check pure
// client logic by scripting server frames by hand. What the real worker does
// is checked in integration.test.js.

import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { ShoalClient, ShoalError, memoryStorage } from '../src/index.js'
import { fileStorage } from '../src/node.js'
import { fakeServerForFile } from './fake-server.js'

const { server, opened } = fakeServerForFile()

const SECRET_TOKEN = jwt('alice')

function jwt(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'HS256' })}.${b64({ sub, exp: 9e9 })}.c2lnbmF0dXJlLXNlY3JldA`
}

/** A client on the fake server whose errors and warnings are recorded. */
function makeClient(options = {}) {
  const errors = []
  const warnings = []
  const client = new ShoalClient({
    baseUrl: server.url,
    WebSocket,
    getToken: () => SECRET_TOKEN,
    storage: memoryStorage(),
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    onError: (e) => errors.push(e),
    onWarning: (w) => warnings.push(w),
    ...options,
  })
  opened.push(client)
  return { client, errors, warnings }
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

test('opens one socket per shard with the token as a subprotocol', async () => {
  const n = server.sockets.length
  const { client } = makeClient()
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {}, { shard: 'team:1' })
  const s = await server.socket(n)
  assert.equal(s.url.pathname, '/sync')
  assert.equal(s.url.searchParams.get('shard'), 'team:1')
  assert.equal(s.url.searchParams.get('client'), client.clientId)
  assert.equal(s.url.searchParams.get('v'), '1')
  assert.deepEqual(s.protocols.split(/, */), ['shoal-v1', `shoal-auth.${SECRET_TOKEN}`])
  s.send({ type: 'connected', shard: 'team:1', epoch: 'e1', seq: 0, lastMutationId: 0 })
  const sub = await s.next('subscribe')
  assert.deepEqual(sub, { type: 'subscribe', id: sub.id, shape: 'messagesByChannel', args: { channelId: 'c1' } })
  await client.close()
})

test('a poke is applied only at its end, all parts at once; the one-frame form too', async () => {
  const n = server.sockets.length
  const { client } = makeClient()
  const changes = []
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => changes.push(c))
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 3, lastMutationId: 0 })
  const { id } = await s.next('subscribe')
  const put = (i) => ({ op: 'put', table: 'messages', id: `m${i}`, doc: { id: `m${i}`, text: `t${i}` } })
  s.send({ type: 'pokeStart', pokeId: 'p1' })
  s.send({ type: 'pokePart', pokeId: 'p1', sub: id, reset: true, rows: [put(1)] })
  s.send({ type: 'pokePart', pokeId: 'p1', sub: id, reset: false, rows: [put(2)] })
  await tick()
  assert.equal(changes.length, 0, 'nothing before pokeEnd')
  s.send({ type: 'pokeEnd', pokeId: 'p1', seq: 3, epoch: 'e1', lastMutationId: 0 })
  await tick()
  assert.equal(changes.length, 1)
  assert.deepEqual(changes[0], { reset: true, rows: [put(1), put(2)], seq: 3, epoch: 'e1', lastMutationId: 0 })
  s.send({ type: 'poke', pokeId: 'p2', parts: [{ sub: id, reset: false, rows: [{ op: 'del', table: 'messages', id: 'm1' }] }], seq: 4, epoch: 'e1', lastMutationId: 0 })
  await tick()
  assert.deepEqual(changes[1].rows, [{ op: 'del', table: 'messages', id: 'm1' }])
  assert.equal(changes[1].seq, 4)
  await client.close()
})

test('a poke whose end never comes is discarded; the client resumes with its cursor', async () => {
  const n = server.sockets.length
  const { client } = makeClient()
  const changes = []
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => changes.push(c))
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 5, lastMutationId: 0 })
  const { id } = await s.next('subscribe')
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub: id, reset: true, rows: [] }], seq: 5, epoch: 'e1', lastMutationId: 0 })
  s.send({ type: 'pokeStart', pokeId: 'p2' })
  s.send({ type: 'pokePart', pokeId: 'p2', sub: id, reset: false, rows: [{ op: 'del', table: 'messages', id: 'x' }] })
  await tick()
  s.ws.terminate()
  const s2 = await server.socket(n + 1)
  s2.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 6, lastMutationId: 0 })
  const resub = await s2.next('subscribe')
  assert.equal(resub.id, id)
  assert.deepEqual(resub.since, { seq: 5, epoch: 'e1' })
  assert.equal(changes.length, 1, 'the broken poke was never applied')
  await client.close()
})

test('an epoch change re-subscribes without since', async () => {
  const n = server.sockets.length
  const { client } = makeClient()
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {})
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 5, lastMutationId: 0 })
  const { id } = await s.next('subscribe')
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub: id, reset: true, rows: [] }], seq: 5, epoch: 'e1', lastMutationId: 0 })
  await tick()
  s.ws.terminate()
  const s2 = await server.socket(n + 1)
  s2.send({ type: 'connected', shard: '__root__', epoch: 'e2', seq: 1, lastMutationId: 0 })
  const resub = await s2.next('subscribe')
  assert.equal(resub.since, undefined)
  await client.close()
})

test('mutations are numbered per shard, persisted before sent, resolved by the covering poke', async () => {
  const n = server.sockets.length
  const storage = memoryStorage()
  const puts = []
  const { client } = makeClient({ storage: { ...storage, put: async (r) => (puts.push(structuredClone(r)), storage.put(r)) } })
  const a = client.mutate('sendMessage', { id: 'm1', channelId: 'c1', text: 'a' })
  const b = client.mutate('sendMessage', { id: 'm2', channelId: 'c1', text: 'b' })
  const other = client.mutate('createChannel', { id: 'c9', name: 'x' }, { shard: 'other' })
  const s = await server.socket(n)
  const s2 = await server.socket(n + 1)
  const [root, otherSock] = s.url.searchParams.get('shard') === '__root__' ? [s, s2] : [s2, s]
  root.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  otherSock.send({ type: 'connected', shard: 'other', epoch: 'e1', seq: 0, lastMutationId: 0 })
  const pushA = await root.next('push')
  const pushes = [...pushA.mutations]
  if (pushes.length < 2) pushes.push(...(await root.next('push')).mutations)
  assert.deepEqual(pushes.map((m) => m.id), [1, 2])
  assert.deepEqual((await otherSock.next('push')).mutations, [{ id: 1, name: 'createChannel', args: { id: 'c9', name: 'x' } }])
  const saved = puts.find((r) => r.shards.__root__?.pending.length === 2)
  assert.ok(saved, 'both were persisted before the push')
  let settled = false
  a.then(() => (settled = true))
  root.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }, { id: 2, status: 'duplicate' }] })
  await tick()
  assert.equal(settled, false, 'not done before the covering poke')
  root.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e1', lastMutationId: 2 })
  await a
  await b
  otherSock.send({ type: 'pushResult', results: [{ id: 1, status: 'error', code: 'FORBIDDEN', message: 'not a member' }] })
  await assert.rejects(other, (e) => e instanceof ShoalError && e.code === 'FORBIDDEN' && /not a member/.test(e.message))
  await tick()
  assert.equal(puts.at(-1).shards.__root__.pending.length, 0, 'confirmed mutations leave the outbox')
  assert.equal(puts.at(-1).shards.__root__.nextId, 3)
  await client.close()
})

test('a lower connected.lastMutationId renumbers pending mutations and warns', async () => {
  const n = server.sockets.length
  const { client, warnings } = makeClient()
  const first = client.mutate('sendMessage', { id: 'm1', channelId: 'c1', text: 'a' })
  let s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 6 })
  // The server already had 1..6 from this client id (say): 7 is next.
  assert.equal((await s.next('push')).mutations[0].id, 1)
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'duplicate' }] })
  s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 0, epoch: 'e1', lastMutationId: 6 })
  await first
  const pending = [client.mutate('sendMessage', { id: 'm2', channelId: 'c1', text: 'b' }), client.mutate('sendMessage', { id: 'm3', channelId: 'c1', text: 'c' })]
  await tick()
  s.ws.terminate() // offline before any answer
  s = await server.socket(n + 1)
  // The dev database was wiped: the server knows nothing of this client.
  s.send({ type: 'connected', shard: '__root__', epoch: 'e2', seq: 0, lastMutationId: 0 })
  const push = await s.next('push')
  assert.deepEqual(push.mutations.map((m) => [m.id, m.args.id]), [[1, 'm2'], [2, 'm3']])
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /lost that history.*Renumbering 2 pending mutation\(s\) from 1/)
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }, { id: 2, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 2, epoch: 'e2', lastMutationId: 2 })
  await Promise.all(pending)
  await client.close()
})

test('a full outbox refuses with OUTBOX_FULL, oversized args with FRAME_TOO_LARGE; an unpersistable mutation is never sent', async () => {
  const { client } = makeClient({ outboxMax: 2, baseUrl: 'http://127.0.0.1:9' })
  client.mutate('sendMessage', { id: 'a' }).catch(() => {})
  client.mutate('sendMessage', { id: 'b' }).catch(() => {})
  await assert.rejects(client.mutate('sendMessage', { id: 'c' }), (e) => e.code === 'OUTBOX_FULL' && /outboxMax/.test(e.message))
  await assert.rejects(client.mutate('sendMessage', { text: 'x'.repeat(2e6) }), (e) => e.code === 'FRAME_TOO_LARGE')
  await client.close()

  const n = server.sockets.length
  const storage = memoryStorage()
  let fail = false
  const flaky = { ...storage, put: async (r) => { if (fail) throw new Error('disk full'); return storage.put(r) } }
  const { client: c2 } = makeClient({ storage: flaky })
  await c2.ready
  fail = true
  await assert.rejects(c2.mutate('sendMessage', { id: 'x' }), (e) => e.code === 'STORAGE')
  fail = false
  const ok = c2.mutate('sendMessage', { id: 'y' })
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  const push = await s.next('push')
  assert.deepEqual(push.mutations, [{ id: 1, name: 'sendMessage', args: { id: 'y' } }], 'the failed one left no gap')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await ok
  await c2.close()
})

test('reload: a new client adopts the unlocked outbox and replays in order; a locked one is not adopted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-outbox-'))
  const { client: first } = makeClient({ storage: fileStorage(dir), baseUrl: 'http://127.0.0.1:9' })
  first.mutate('sendMessage', { id: 'm1' }).catch(() => {})
  first.mutate('sendMessage', { id: 'm2' }).catch(() => {})
  await first.ready
  await tick()
  const { client: tab2 } = makeClient({ storage: fileStorage(dir), baseUrl: 'http://127.0.0.1:9' })
  await tab2.ready
  assert.notEqual(tab2.clientId, first.clientId, 'a second tab gets its own outbox')
  await first.close()
  await tab2.close()

  const { client: bob } = makeClient({ storage: fileStorage(dir), getToken: () => jwt('bob') })
  await bob.ready
  assert.notEqual(bob.clientId, first.clientId, 'never adopts another user\'s outbox')
  await bob.close()

  const n = server.sockets.length
  const { client: reloaded } = makeClient({ storage: fileStorage(dir) })
  await reloaded.ready
  assert.equal(reloaded.clientId, first.clientId)
  const s = await server.socket(n) // opened without any call: pending mutations replay
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 1 })
  const push = await s.next('push')
  assert.deepEqual(push.mutations.map((m) => [m.id, m.args.id]), [[1, 'm1'], [2, 'm2']])
  await reloaded.close()
})

// The fake server times the fault: a reload after the pushResult and before the confirming
// poke's rows are cached, a window of milliseconds a real server cannot be made to hold open.
test('reload between a pushResult and its confirming poke: the applied mutation is still in the outbox and replays as a duplicate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-outbox-'))
  let n = server.sockets.length
  const { client: first } = makeClient({ storage: fileStorage(dir) })
  first.mutate('sendMessage', { id: 'm1' }).catch(() => {})
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  assert.deepEqual((await s.next('push')).mutations.map((m) => m.id), [1])
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  await tick()
  assert.equal(first.pendingCount, 1, 'applied, but no cached row shows it yet')
  await first.close() // the page goes away before the poke

  n = server.sockets.length
  const { client: reloaded } = makeClient({ storage: fileStorage(dir) })
  await reloaded.ready
  assert.equal(reloaded.clientId, first.clientId)
  assert.deepEqual((await reloaded.adoptedMutations()).map((a) => a.args.id), ['m1'], 'its optimistic row can be shown again')
  const s2 = await server.socket(n)
  s2.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 1, lastMutationId: 1 })
  assert.deepEqual((await s2.next('push')).mutations.map((m) => m.id), [1], 'replayed: the server answers duplicate')
  s2.send({ type: 'pushResult', results: [{ id: 1, status: 'duplicate' }] })
  s2.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await tick()
  assert.equal(reloaded.pendingCount, 0, 'confirmed by the poke: it leaves')
  await reloaded.close()
})

test('an expired token is refreshed and the socket reopened; the token never shows in errors', async () => {
  const n = server.sockets.length
  let calls = 0
  const { client, errors } = makeClient({ getToken: () => (++calls, SECRET_TOKEN) })
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {})
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await s.next('subscribe')
  s.send({ type: 'error', code: 'TOKEN_EXPIRED', message: 'token expired' })
  s.close(4001)
  const s2 = await server.socket(n + 1)
  assert.ok(calls >= 3, 'getToken was asked again') // once for the user id, once per socket
  s2.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await s2.next('subscribe')
  s2.send('not json')
  s2.send({ type: 'error', code: 'BAD_FRAME', message: 'whatever' })
  await server.socket(n + 2)
  assert.ok(errors.length >= 1)
  for (const e of errors) assert.ok(!String(e.message + e.stack).includes(SECRET_TOKEN))
  await client.close()
})

test('a token of another user is refused with IDENTITY_CHANGED', async () => {
  let token = SECRET_TOKEN
  const { client, errors } = makeClient({ getToken: () => token })
  await client.ready
  token = jwt('mallory')
  const failed = new Promise((resolve) => client.subscribeShape('messagesByChannel', {}, () => {}, { onError: resolve }))
  const err = await failed
  assert.equal(err.code, 'IDENTITY_CHANGED')
  assert.ok(errors.some((e) => e.code === 'IDENTITY_CHANGED'))
  await client.close()
})

test('heartbeat: sends ping; a silent socket is dropped and reopened', async () => {
  const n = server.sockets.length
  const { client } = makeClient({ heartbeatMs: 30 })
  client.subscribeShape('messagesByChannel', {}, () => {})
  const s = await server.socket(n)
  assert.equal(await s.next('ping'), 'ping')
  // The fake never answers pong: after two periods the client gives up on it.
  await server.socket(n + 1)
  await client.close()
})

test('a refused subscription reports its code to its own onError', async () => {
  const n = server.sockets.length
  const { client } = makeClient()
  const err = new Promise((resolve) => client.subscribeShape('nope', {}, () => {}, { onError: resolve }))
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  const { id } = await s.next('subscribe')
  s.send({ type: 'error', code: 'UNKNOWN_SHAPE', message: 'no shape "nope"', id })
  const e = await err
  assert.ok(e instanceof ShoalError)
  assert.equal(e.code, 'UNKNOWN_SHAPE')
  assert.match(e.message, /subscription nope: UNKNOWN_SHAPE: no shape "nope"\. No shape of this name/)
  await client.close()
})

/** Records each status the client reports, as `status/pending`, plus one shard's. */
function watchStatus(client, shard = '__root__') {
  const seen = []
  const unsubscribe = client.onStatus((s) => seen.push(`${s.status}/${s.pending} ${shard}:${s.shards[shard] ? `${s.shards[shard].status}/${s.shards[shard].pending}` : '-'}`))
  return { seen, unsubscribe, last: () => seen.at(-1) }
}

test('status and pending count: per client and per shard, reported on each change', async () => {
  const n = server.sockets.length
  const { client, errors } = makeClient()
  assert.equal(client.status, 'connecting', 'no socket yet')
  assert.equal(client.pendingCount, 0)
  const { seen, unsubscribe, last } = watchStatus(client, 'team:1')
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {}, { shard: 'team:1' })
  await client.ready
  const s = await server.socket(n)
  assert.equal(client.syncStatus.shards['team:1'].status, 'connecting')
  s.send({ type: 'connected', shard: 'team:1', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await s.next('subscribe')
  assert.equal(client.status, 'online')
  assert.equal(last(), 'online/0 team:1:online/0')

  // A snapshot stays the same object until something changes (fit for useSyncExternalStore).
  const snapshot = client.syncStatus
  assert.ok(Object.isFrozen(snapshot))
  assert.equal(client.syncStatus, snapshot)

  const a = client.mutate('sendMessage', { id: 'm1' }, { shard: 'team:1' })
  const b = client.mutate('sendMessage', { id: 'm2' }, { shard: 'team:1' })
  await tick()
  assert.equal(client.pendingCount, 2)
  assert.deepEqual(client.syncStatus.shards['team:1'], { status: 'online', pending: 2 })
  assert.notEqual(client.syncStatus, snapshot)
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  await tick()
  assert.equal(client.pendingCount, 2, 'applied, but the rows that show it are not cached yet: it stays')
  // m2 was pushed with m1, or just after it.
  s.send({ type: 'pushResult', results: [{ id: 2, status: 'error', code: 'CONFLICT', message: 'no' }] })
  await assert.rejects(b, (e) => e.code === 'CONFLICT')
  assert.equal(client.pendingCount, 1, 'refused: nothing of it will show, so it leaves at once')
  s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e1', lastMutationId: 2 })
  await a
  await tick()
  assert.equal(client.pendingCount, 0, "the poke's rows are cached: it leaves")

  // The socket drops: connecting until the next one is connected; then online again.
  s.ws.terminate()
  await tick()
  assert.equal(client.status, 'connecting')
  const s2 = await server.socket(n + 1)
  s2.send({ type: 'connected', shard: 'team:1', epoch: 'e1', seq: 1, lastMutationId: 2 })
  await s2.next('subscribe')
  assert.equal(client.status, 'online')
  assert.deepEqual(
    seen.filter((x, i) => x !== seen[i - 1]),
    [
      'connecting/0 team:1:-', // ready: the outbox is chosen
      'connecting/0 team:1:connecting/0', // the shard opened
      'online/0 team:1:online/0',
      'online/1 team:1:online/1',
      'online/2 team:1:online/2',
      'online/1 team:1:online/1', // m2 refused
      'online/0 team:1:online/0', // m1's rows cached
      'connecting/0 team:1:connecting/0',
      'online/0 team:1:online/0',
    ],
  )

  // A second shard: the client is online only when every shard in use is.
  client.subscribeShape('membersByChannel', {}, () => {})
  const root = await server.socket(n + 2)
  assert.equal(client.status, 'connecting')
  assert.equal(client.syncStatus.shards['team:1'].status, 'online')
  root.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await root.next('subscribe')
  assert.equal(client.status, 'online')

  // A shard refused for good is offline, and no longer holds the client back.
  client.subscribeShape('x', {}, () => {}, { shard: 'secret', onError: () => {} })
  const secret = await server.socket(n + 3)
  secret.close(4003)
  await tick(50)
  assert.equal(client.syncStatus.shards.secret.status, 'offline')
  assert.equal(client.status, 'online')
  assert.ok(errors.some((e) => e.code === 'FORBIDDEN'))

  const count = seen.length
  unsubscribe()
  await client.close()
  assert.equal(client.status, 'offline')
  assert.equal(seen.length, count, 'an unsubscribed listener hears nothing')
})

test('an adopted outbox counts its pending mutations once ready; a throwing listener is reported', async () => {
  const storage = memoryStorage()
  const { client: first } = makeClient({ storage, baseUrl: 'http://127.0.0.1:9' })
  first.mutate('sendMessage', { id: 'm1' }).catch(() => {})
  first.mutate('sendMessage', { id: 'm2' }, { shard: 'team:1' }).catch(() => {})
  await first.ready
  await tick()
  assert.equal(first.pendingCount, 2)
  await first.close()
  assert.equal(first.pendingCount, 2, 'still in the outbox after close')

  const { client, errors } = makeClient({ storage, baseUrl: 'http://127.0.0.1:9' })
  assert.equal(client.pendingCount, 0, 'not known before ready')
  const heard = []
  client.onStatus(() => {
    throw new Error('listener broke')
  })
  client.onStatus((s) => heard.push(s.pending))
  await client.ready
  assert.equal(client.clientId, first.clientId)
  assert.equal(client.pendingCount, 2)
  assert.deepEqual(Object.fromEntries(Object.entries(client.syncStatus.shards).map(([k, v]) => [k, v.pending])), { __root__: 1, 'team:1': 1 })
  assert.ok(heard.includes(2))
  assert.ok(errors.some((e) => e.message === 'listener broke'))
  await client.close()
})

test('the browser\'s offline event drops the sockets at once; online reconnects at once', async () => {
  // A browser's window, in Node: the client listens on globalThis.
  const target = new EventTarget()
  globalThis.addEventListener = target.addEventListener.bind(target)
  globalThis.removeEventListener = target.removeEventListener.bind(target)
  try {
    const n = server.sockets.length
    // Backoff of a minute: only the online event can bring the socket back within the test.
    const { client } = makeClient({ reconnectMinMs: 60_000, reconnectMaxMs: 60_000 })
    const { seen } = watchStatus(client)
    const changes = []
    client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c) => changes.push(c))
    const s = await server.socket(n)
    s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 4, lastMutationId: 0 })
    const { id } = await s.next('subscribe')
    s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub: id, reset: true, rows: [] }], seq: 4, epoch: 'e1', lastMutationId: 0 })
    await tick()
    assert.equal(client.status, 'online')

    // Chromium's offline mode leaves an open socket open: the client must leave it itself.
    target.dispatchEvent(new Event('offline'))
    assert.equal(client.status, 'offline')
    assert.equal(client.syncStatus.shards.__root__.status, 'offline')
    const closed = new Promise((resolve) => s.ws.once('close', resolve))
    assert.equal(await closed, 4000, 'the server sees the socket closed')

    const sent = client.mutate('sendMessage', { id: 'm1' })
    await tick(50)
    assert.equal(client.pendingCount, 1)
    assert.equal(client.status, 'offline')
    assert.equal(server.sockets.length, n + 1, 'no new socket while the backoff runs')

    target.dispatchEvent(new Event('online'))
    assert.equal(client.status, 'connecting')
    const s2 = await server.socket(n + 1)
    s2.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 4, lastMutationId: 0 })
    const resub = await s2.next('subscribe')
    assert.deepEqual(resub.since, { seq: 4, epoch: 'e1' }, 'resumes from its cursor')
    assert.deepEqual((await s2.next('push')).mutations.map((m) => m.args.id), ['m1'])
    assert.equal(client.status, 'online')
    s2.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
    s2.send({ type: 'poke', pokeId: 'p2', parts: [], seq: 5, epoch: 'e1', lastMutationId: 1 })
    await sent
    await tick() // the count drops once the stored outbox lets go of it too
    assert.equal(client.pendingCount, 0)
    assert.deepEqual(
      seen.map((x) => x.split(' ')[0]).filter((x, i, all) => x !== all[i - 1]),
      ['connecting/0', 'online/0', 'offline/0', 'offline/1', 'connecting/1', 'online/1', 'online/0'],
    )
    await client.close()
    assert.equal(target.dispatchEvent(new Event('online')), true)
    assert.equal(server.sockets.length, n + 2, 'a closed client stopped listening')
  } finally {
    delete globalThis.addEventListener
    delete globalThis.removeEventListener
  }
})

test('a client starting while the browser is offline says offline', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: false }, configurable: true, writable: true })
  try {
    const { client } = makeClient()
    assert.equal(client.status, 'offline')
    await client.close()
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved)
    else delete globalThis.navigator
  }
})

test('the pending count counts a mutation once it is persisted, not before', async () => {
  const storage = memoryStorage()
  let open
  let gate = Promise.resolve()
  const { client } = makeClient({ baseUrl: 'http://127.0.0.1:9', storage: { ...storage, put: async (r) => (await gate, storage.put(r)) } })
  await client.ready
  gate = new Promise((resolve) => (open = resolve))
  client.mutate('sendMessage', { id: 'm1' }).catch(() => {})
  await tick()
  assert.equal(client.pendingCount, 0, 'still being written: a reload now would lose it')
  open()
  await tick()
  assert.equal(client.pendingCount, 1)
  await client.close()
})

test('a confirmed mutation counts as unsent until the outbox write that drops it is done: "0" means a reload replays nothing', async () => {
  const n = server.sockets.length
  const storage = memoryStorage()
  let open
  let gate = Promise.resolve()
  const { client } = makeClient({ storage: { ...storage, put: async (r) => (await gate, storage.put(r)) } })
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {})
  await client.ready
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await s.next('subscribe')
  const done = client.mutate('sendMessage', { id: 'm1' })
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  await tick()
  assert.equal(client.pendingCount, 1)
  gate = new Promise((resolve) => (open = resolve))
  s.send({ type: 'poke', pokeId: 'p1', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await done
  await tick()
  assert.equal(client.pendingCount, 1, 'the stored outbox still holds it')
  const stored = (await storage.list()).find((r) => r.clientId === client.clientId)
  assert.equal(stored.shards.__root__.applied.length + stored.shards.__root__.pending.length, 1)
  open()
  await tick()
  assert.equal(client.pendingCount, 0)
  const after = (await storage.list()).find((r) => r.clientId === client.clientId)
  assert.equal(after.shards.__root__.applied.length + after.shards.__root__.pending.length, 0, 'and now storage agrees')
  await client.close()
})

const ROUTES = {
  shapes: { messagesByChannel: { arg: 'channelId' }, profiles: '__global__', settings: '__root__' },
  mutators: { sendMessage: { arg: 'channelId' }, setDisplayName: '__root__' },
}

test('routes: each call opens its shard\'s socket, one outbox counter per shard; the app names no shard', async () => {
  const n = server.sockets.length
  const { client } = makeClient({ routes: ROUTES })
  client.subscribeShape('messagesByChannel', { channelId: 'c1' }, () => {})
  const c1 = await server.socket(n)
  assert.equal(c1.url.searchParams.get('shard'), 'c1')
  client.subscribeShape('profiles', {}, () => {})
  const global = await server.socket(n + 1)
  assert.equal(global.url.searchParams.get('shard'), '__global__')
  for (const [s, shard] of [[c1, 'c1'], [global, '__global__']]) s.send({ type: 'connected', shard, epoch: 'e', seq: 0, lastMutationId: 0 })
  assert.equal((await c1.next('subscribe')).shape, 'messagesByChannel')
  assert.equal((await global.next('subscribe')).shape, 'profiles')

  const sent = [client.mutate('sendMessage', { id: 'm1', channelId: 'c2', text: 'x' }), client.mutate('sendMessage', { id: 'm2', channelId: 'c1', text: 'y' })]
  const c2 = await server.socket(n + 2)
  assert.equal(c2.url.searchParams.get('shard'), 'c2')
  c2.send({ type: 'connected', shard: 'c2', epoch: 'e', seq: 0, lastMutationId: 0 })
  assert.deepEqual((await c2.next('push')).mutations.map((m) => m.id), [1], 'c2 numbers its own mutations')
  assert.deepEqual((await c1.next('push')).mutations.map((m) => m.id), [1], 'and c1 its own')
  assert.ok(['c1', 'c2'].every((k) => client.outbox.record.shards[k]), 'an outbox entry per shard')
  for (const [s, lmid] of [[c1, 1], [c2, 1]]) {
    s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
    s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e', lastMutationId: lmid })
  }
  await Promise.all(sent)
  assert.equal(client.shardOf('mutators', 'setDisplayName', { displayName: 'A' }), '__root__')
  await client.close()
})

test('routes: a missing shard key arg is BAD_ARGS before anything is sent', async () => {
  const { client } = makeClient({ routes: ROUTES })
  await assert.rejects(client.mutate('sendMessage', { id: 'm1', text: 'x' }), (e) => e.code === 'BAD_ARGS' && /args\.channelId/.test(e.message))
  const errors = []
  client.subscribeShape('messagesByChannel', {}, () => {}, { onError: (e) => errors.push(e) })
  await tick()
  assert.equal(errors[0]?.code, 'BAD_ARGS')
  await assert.rejects(client.mutate('sendMessage', { id: 'm1', channelId: 'has space', text: 'x' }), (e) => e.code === 'BAD_ARGS')
  await assert.rejects(client.mutate('sendMessage', { id: 'm1', channelId: '__global__', text: 'x' }), (e) => e.code === 'BAD_ARGS')
  assert.throws(() => makeClient({ routes: { shapes: { x: 5 } } }), /routes\.shapes\.x/)
  await client.close()
})

test('WRONG_SHARD: a subscription moves to the shard the server names, once; a mutation rejects with error.shard', async () => {
  const n = server.sockets.length
  const { client, warnings } = makeClient()
  const changes = []
  const unsubscribe = client.subscribeShape('messagesByChannel', { channelId: 'c9' }, (c) => changes.push(c))
  const root = await server.socket(n)
  root.send({ type: 'connected', shard: '__root__', epoch: 'e', seq: 0, lastMutationId: 0 })
  const { id } = await root.next('subscribe')
  root.send({ type: 'error', code: 'WRONG_SHARD', message: 'served by c9', id, shard: 'c9' })
  const c9 = await server.socket(n + 1)
  assert.equal(c9.url.searchParams.get('shard'), 'c9')
  c9.send({ type: 'connected', shard: 'c9', epoch: 'e', seq: 0, lastMutationId: 0 })
  const again = await c9.next('subscribe')
  assert.equal(again.id, id)
  c9.send({ type: 'poke', pokeId: 'p', parts: [{ sub: id, reset: true, rows: [] }], seq: 0, epoch: 'e', lastMutationId: 0 })
  await tick()
  assert.equal(changes.length, 1)
  assert.match(warnings.join('\n'), /routes/)
  unsubscribe()
  assert.deepEqual(await c9.next('unsubscribe'), { type: 'unsubscribe', id })

  const refused = client.mutate('sendMessage', { id: 'm', channelId: 'c9', text: 'x' })
  await root.next('push')
  root.send({ type: 'pushResult', results: [{ id: 1, status: 'error', code: 'WRONG_SHARD', message: 'runs on c9', shard: 'c9' }] })
  await assert.rejects(refused, (e) => e.code === 'WRONG_SHARD' && e.shard === 'c9')
  await client.close()
})
