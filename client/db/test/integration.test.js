// Integration tests: the real worker (shim + TeaVM engine) in workerd through
// Miniflare (test-harness/lib/worker.js), real WebSockets, the real client
// packages and TanStack DB. The only stand-in is a TCP proxy that cuts the
// network, the one fault a test cannot produce for real.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { createCollection } from '@tanstack/db'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { fileStorage } from '@shoal/client/node'
import { bindMutators, shoalCollectionOptions } from '../src/index.js'

const harness = fileURLToPath(new URL('../../../test-harness/lib/', import.meta.url))
const skip = existsSync(join(harness, 'worker.js')) ? false : 'test-harness/lib/worker.js is not there'
let cuttableNetworkTo

let worker
let connectRaw
let routes
before(async () => {
  if (skip) return
  const { startWorker, exampleRoutes } = await import(join(harness, 'worker.js'))
  routes = exampleRoutes() // the client routes each shape and mutator to its shard, as the page does
  cuttableNetworkTo = (await import(join(harness, 'network.js'))).cuttableNetwork
  connectRaw = (await import(join(harness, 'socket.js'))).connect
  worker = await startWorker()
}, { timeout: 120_000 })
// Clients a failed test left open would keep the process alive.
const opened = []
after(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await worker?.stop()
})

let seq = 0
const unique = (p) => `${p}${process.pid}x${++seq}`

async function waitFor(check, what, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A user's page: a client, the messages of one channel as a collection, bound mutators. */
async function page({ sub, channelId, storage = memoryStorage(), baseUrl = worker.url }) {
  const errors = []
  const warnings = []
  const tokens = []
  const client = new ShoalClient({
    baseUrl,
    WebSocket,
    getToken: async () => {
      const t = await worker.token(sub)
      tokens.push(t)
      return t
    },
    storage,
    routes,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    onError: (e) => errors.push(e),
    onWarning: (w) => warnings.push(w),
  })
  opened.push(client)
  const messages = createCollection(
    shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId }, id: unique('messages-') }),
  )
  const states = [] // every state the UI could have rendered
  messages.subscribeChanges(() => states.push(new Map(messages.state)), { includeInitialState: true })
  const m = bindMutators(client, { collections: { messages } }, {
    createChannel: true,
    addMember: true,
    sendMessage: (tx, { id, channelId, text }) => tx.messages.insert({ id, channelId, authorId: sub, text, createdAt: Date.now() }),
  })
  return { client, messages, states, m, errors, warnings, tokens }
}

const texts = (collection) => collection.toArray.map((r) => r.text).sort()

/** The server's last applied mutation id for (user, client) on `shard` (a channel's). */
async function lastMutationId(sub, clientId, shard) {
  const s = await connectRaw(worker, { sub, client: clientId, shard })
  const { lastMutationId } = await s.type('connected')
  await s.close()
  return lastMutationId
}

/** A cuttable network (test-harness/lib/network.js) to the worker, closed after the file. */
async function cuttableNetwork() {
  const network = await cuttableNetworkTo(worker)
  opened.push(network)
  return network
}

test('two clients converge', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  const alice = await page({ sub: 'alice', channelId })
  const bob = await page({ sub: 'bob', channelId })
  await alice.m.createChannel({ id: channelId, name: 'general' })
  await alice.m.addMember({ channelId, userId: 'bob' }) // the channel's messages are for members only
  await Promise.all([alice.messages.toArrayWhenReady(), bob.messages.toArrayWhenReady()])
  await Promise.all([
    alice.m.sendMessage({ id: unique('m'), channelId, text: 'from alice 1' }),
    bob.m.sendMessage({ id: unique('m'), channelId, text: 'from bob 1' }),
    alice.m.sendMessage({ id: unique('m'), channelId, text: 'from alice 2' }),
  ])
  const all = ['from alice 1', 'from alice 2', 'from bob 1']
  await waitFor(() => texts(alice.messages).length === 3 && texts(bob.messages).length === 3, 'both to hold three messages')
  assert.deepEqual(texts(alice.messages), all)
  assert.deepEqual(texts(bob.messages), all)
  assert.deepEqual(alice.messages.toArray.map((r) => r.authorId).sort(), ['alice', 'alice', 'bob'])
  assert.deepEqual([...alice.errors, ...bob.errors], [])
  await alice.client.close()
  await bob.client.close()
})

test('an optimistic row is visible before the server answers and never disappears', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  const alice = await page({ sub: 'alice', channelId })
  await alice.m.createChannel({ id: channelId, name: 'general' })
  await alice.messages.toArrayWhenReady()
  const id = unique('m')
  const from = alice.states.length
  const done = alice.m.sendMessage({ id, channelId, text: 'instant' })
  assert.equal(alice.messages.get(id)?.text, 'instant', 'visible synchronously')
  assert.equal(alice.messages.get(id).$synced, false)
  await done
  const synced = alice.messages.get(id)
  assert.equal(synced.$synced, true, 'the synced row replaced the optimistic one')
  assert.equal(synced.authorId, 'alice')
  const seen = alice.states.slice(from)
  assert.ok(seen.length >= 1)
  for (const [i, state] of seen.entries()) assert.ok(state.has(id), `state ${i} after the call lacks the row`)
  assert.deepEqual(alice.errors, [])
  await alice.client.close()
})

test('a rejected mutation rolls back and reports its code', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  const alice = await page({ sub: 'alice', channelId })
  await alice.m.createChannel({ id: channelId, name: 'general' })
  const id = unique('m')
  await alice.m.sendMessage({ id, channelId, text: 'first' })

  // Bob is no member of alice's channel (on its shard): his message shows at once, and is refused.
  const bob = await page({ sub: 'bob', channelId })
  await bob.messages.toArrayWhenReady()
  const from = bob.states.length
  const refused = unique('m')
  const dup = bob.m.sendMessage({ id: refused, channelId, text: 'second' })
  assert.equal(bob.messages.get(refused)?.text, 'second')
  await assert.rejects(dup, (e) => e.name === 'ShoalError' && e.code === 'FORBIDDEN' && e.message.includes('sendMessage'))
  assert.equal(bob.messages.has(refused), false, 'the optimistic change is rolled back')
  assert.ok(bob.states.slice(from).some((s) => s.has(refused)))
  // Bad arguments are refused before the mutator runs.
  await assert.rejects(bob.m.sendMessage({ id: unique('m'), channelId }), (e) => e.code === 'BAD_ARGS' && /text/.test(e.message))
  assert.deepEqual(texts(bob.messages), [])
  // A twin that throws (here: the row is already in the local collection) sends nothing.
  const before = await lastMutationId('alice', alice.client.clientId, channelId)
  await assert.rejects(alice.m.sendMessage({ id, channelId, text: 'again' }), /already exists/)
  assert.equal(await lastMutationId('alice', alice.client.clientId, channelId), before)
  await alice.client.close()
  await bob.client.close()
})

test('offline writes land exactly once, in order, after reconnect', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  const net = await cuttableNetwork()
  const alice = await page({ sub: 'alice', channelId, baseUrl: net.url })
  await alice.m.createChannel({ id: channelId, name: 'general' })
  await alice.m.addMember({ channelId, userId: 'bob' })
  await alice.messages.toArrayWhenReady()
  const bob = await page({ sub: 'bob', channelId })
  const arrived = [] // the order bob's subscription receives them in
  bob.client.subscribeShape('messagesByChannel', { channelId }, (c) => arrived.push(...c.rows.map((r) => r.doc?.text)))
  await bob.messages.toArrayWhenReady()

  net.down()
  const sent = ['one', 'two', 'three'].map((text) => alice.m.sendMessage({ id: unique('m'), channelId, text }))
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(texts(alice.messages), ['one', 'three', 'two'], 'offline writes show at once')
  net.up()
  await Promise.all(sent)
  await waitFor(() => texts(bob.messages).length === 3, 'bob to see the three messages')
  assert.deepEqual(arrived, ['one', 'two', 'three'])
  assert.equal(await lastMutationId('alice', alice.client.clientId, channelId), 5, 'createChannel, addMember and three messages, each applied once')

  // Cut the network right after a push: whether or not the server applied it
  // before the cut, it lands once.
  const late = alice.m.sendMessage({ id: unique('m'), channelId, text: 'four' })
  await new Promise((r) => setImmediate(r))
  net.down()
  await new Promise((r) => setTimeout(r, 50))
  net.up()
  await late
  await waitFor(() => texts(bob.messages).length === 4, 'bob to see the fourth message')
  assert.equal(await lastMutationId('alice', alice.client.clientId, channelId), 6)
  assert.deepEqual([...alice.errors, ...bob.errors], [])
  await alice.client.close()
  await bob.client.close()
  await net.close()
})

test('after a reload, a new client over the same outbox lands its writes exactly once', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  const dir = await mkdtemp(join(tmpdir(), 'shoal-reload-'))
  const net = await cuttableNetwork()
  const before = await page({ sub: 'alice', channelId, storage: fileStorage(dir), baseUrl: net.url })
  await before.m.createChannel({ id: channelId, name: 'general' })
  await before.messages.toArrayWhenReady()
  net.down()
  const lost = ['a', 'b'].map((text) => before.m.sendMessage({ id: unique('m'), channelId, text }).catch((e) => e))
  await new Promise((r) => setTimeout(r, 100))
  await before.client.close() // the page goes away with two writes unsent
  assert.deepEqual((await Promise.all(lost)).map((e) => e.code), ['CLOSED', 'CLOSED'])

  const after = await page({ sub: 'alice', channelId, storage: fileStorage(dir) })
  await after.client.ready
  assert.equal(after.client.clientId, before.client.clientId, 'the new page adopted the outbox')
  // Shown at once (their client twins run again from the adopted outbox), then synced back.
  await waitFor(() => texts(after.messages).length === 2, 'the replayed writes shown')
  await waitFor(() => after.client.pendingCount === 0 && after.messages.toArray.every((r) => !r.$hasPendingWrites), 'the replayed writes to sync back')
  assert.deepEqual(texts(after.messages), ['a', 'b'])
  assert.equal(await lastMutationId('alice', after.client.clientId, channelId), 3)
  assert.deepEqual(after.errors, [])
  await after.client.close()
  await net.close()
  await rm(dir, { recursive: true, force: true })
})

test('an expired token is refreshed and the socket reopened; no token in errors', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('c')
  let n = 0
  const errors = []
  const tokens = []
  const client = new ShoalClient({
    baseUrl: worker.url,
    WebSocket,
    // The first token is one second from the end of the server's 60 s skew allowance.
    getToken: async () => {
      const t = await worker.token('alice', {}, n++ === 1 ? -59 : 3600)
      tokens.push(t)
      return t
    },
    storage: memoryStorage(),
    routes,
    reconnectMinMs: 20,
    onError: (e) => errors.push(e),
  })
  opened.push(client)
  const messages = createCollection(shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId }, id: unique('messages-') }))
  await messages.toArrayWhenReady()
  await new Promise((r) => setTimeout(r, 1500))
  await client.mutate('createChannel', { id: channelId, name: 'x' })
  await client.mutate('sendMessage', { id: unique('m'), channelId, text: 'after refresh' })
  await waitFor(() => messages.size === 1, 'the message after the refresh')
  assert.ok(n >= 3, 'getToken was asked again')
  for (const e of errors) for (const t of tokens) assert.ok(!`${e.message}${e.stack}`.includes(t))
  await client.close()
})
