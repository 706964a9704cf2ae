// UNIT TESTS AGAINST A FAKE SERVER (../client/test/fake-server.js): they check
// how the adapter drives TanStack DB (real @tanstack/db) for hand-scripted
// frames. What the real worker does is checked in integration.test.js.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { createCollection } from '@tanstack/db'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { bindMutators, shoalCollectionOptions } from '../src/index.js'
import { fakeServerForFile } from '../../client/test/fake-server.js'

const { server, opened } = fakeServerForFile()

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

async function setup() {
  const n = server.sockets.length
  const client = new ShoalClient({ baseUrl: server.url, WebSocket, userId: 'alice', storage: memoryStorage(), onError: () => {} })
  opened.push(client)
  const messages = createCollection(shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId: 'c1' } }))
  // Every state the UI could render: one snapshot per change event.
  const states = []
  messages.subscribeChanges(() => states.push(new Map(messages.state)), { includeInitialState: true })
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 1, lastMutationId: 0 })
  const { id: sub } = await s.next('subscribe')
  const doc = (id, text, extra = {}) => ({ id, channelId: 'c1', authorId: 'alice', text, createdAt: 1, ...extra })
  s.send({ type: 'poke', pokeId: 'p0', parts: [{ sub, reset: true, rows: [{ op: 'put', table: 'messages', id: 'm0', doc: doc('m0', 'hello') }] }], seq: 1, epoch: 'e1', lastMutationId: 0 })
  await messages.toArrayWhenReady()
  const m = bindMutators(client, { collections: { messages } }, {
    sendMessage: (tx, { id, channelId, text }) => tx.messages.insert({ id, channelId, authorId: 'alice', text, createdAt: 0 }),
    createChannel: true,
  })
  return { client, messages, states, s, sub, doc, m }
}

test('hydration: the reset poke fills the collection and marks it ready', async () => {
  const { client, messages } = await setup()
  assert.equal(messages.status, 'ready')
  assert.deepEqual(messages.toArray.map((r) => r.id), ['m0'])
  await client.close()
})

test('optimistic row shows at once, never disappears, and is replaced by the synced row', async () => {
  const { client, messages, states, s, sub, doc, m } = await setup()
  const done = m.sendMessage({ id: 'm1', channelId: 'c1', text: 'hi' })
  assert.equal(messages.get('m1')?.text, 'hi', 'visible before the server answers')
  const from = states.length
  const push = await s.next('push')
  assert.deepEqual(push.mutations, [{ id: 1, name: 'sendMessage', args: { id: 'm1', channelId: 'c1', text: 'hi' } }])
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub, reset: false, rows: [{ op: 'put', table: 'messages', id: 'm1', doc: doc('m1', 'hi', { createdAt: 42 }) }] }], seq: 2, epoch: 'e1', lastMutationId: 1 })
  await done // resolves: no deadlock with TanStack DB holding the synced write
  assert.equal(messages.get('m1').createdAt, 42)
  for (const state of states.slice(from - 1)) assert.ok(state.has('m1'), 'm1 never left the view')
  await client.close()
})

test('a refused mutation rolls back and rejects with its code', async () => {
  const { client, messages, s, m } = await setup()
  const done = m.sendMessage({ id: 'm2', channelId: 'c1', text: 'dup' })
  assert.ok(messages.has('m2'))
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'error', code: 'CONFLICT', message: 'messages.id m2 exists' }] })
  await assert.rejects(done, (e) => e.code === 'CONFLICT')
  assert.equal(messages.has('m2'), false)
  await client.close()
})

test('without a twin the call is a plain round trip; other users\' pokes apply meanwhile', async () => {
  const { client, messages, s, sub, doc, m } = await setup()
  const done = m.createChannel({ id: 'c2', name: 'two' })
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p1', parts: [{ sub, reset: false, rows: [{ op: 'put', table: 'messages', id: 'x', doc: doc('x', 'from bob') }] }], seq: 2, epoch: 'e1', lastMutationId: 1 })
  await done
  assert.equal(messages.get('x').text, 'from bob')
  s.send({ type: 'poke', pokeId: 'p2', parts: [{ sub, reset: false, rows: [{ op: 'del', table: 'messages', id: 'x' }] }], seq: 3, epoch: 'e1', lastMutationId: 1 })
  await tick()
  assert.equal(messages.has('x'), false)
  s.send({ type: 'poke', pokeId: 'p3', parts: [{ sub, reset: true, rows: [{ op: 'put', table: 'messages', id: 'y', doc: doc('y', 'fresh') }] }], seq: 9, epoch: 'e1', lastMutationId: 1 })
  await tick()
  assert.deepEqual(messages.toArray.map((r) => r.id), ['y'], 'reset replaced the rows')
  await client.close()
})

test('routes: a collection and a bound mutator reach their shard by themselves, each with its own outbox counter', async () => {
  const n = server.sockets.length
  const routes = { shapes: { messagesByChannel: { arg: 'channelId' } }, mutators: { sendMessage: { arg: 'channelId' } } }
  const client = new ShoalClient({ baseUrl: server.url, WebSocket, userId: 'alice', storage: memoryStorage(), onError: () => {}, routes })
  opened.push(client)
  const messages = createCollection(shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId: 'c7' } }))
  messages.subscribeChanges(() => {}, { includeInitialState: true })
  const s = await server.socket(n)
  assert.equal(s.url.searchParams.get('shard'), 'c7')
  s.send({ type: 'connected', shard: 'c7', epoch: 'e1', seq: 0, lastMutationId: 0 })
  const { id: sub } = await s.next('subscribe')
  s.send({ type: 'poke', pokeId: 'p0', parts: [{ sub, reset: true, rows: [] }], seq: 0, epoch: 'e1', lastMutationId: 0 })
  await messages.toArrayWhenReady()
  const m = bindMutators(client, { collections: { messages } }, { sendMessage: true })
  const done = m.sendMessage({ id: 'm1', channelId: 'c7', text: 'hi' })
  const push = await s.next('push')
  assert.deepEqual(push.mutations.map((x) => [x.id, x.name]), [[1, 'sendMessage']])
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p1', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await done
  await client.close()
})
