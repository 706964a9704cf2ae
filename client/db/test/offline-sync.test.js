// Offline and resume, end to end: the real worker in workerd through Miniflare
// (test-harness/lib/worker.js), real WebSockets, the real client packages and
// TanStack DB, the example app's mutators. The only stand-in is a TCP proxy
// that cuts the network. Every socket the clients open records its frames, so
// the tests can say what the client asked for (`since`) and what it got
// (`reset`).
//
// - two clients offline at once patch different fields of one row (the
//   example's renameChannel and setTopic): both edits survive, in either
//   order of arrival;
// - a client that missed many changes resubscribes with `since` and gets a
//   catch-up (`reset: false`) holding exactly what it missed;
// - after the log was compacted past its cursor it gets a reset and still
//   shows the right rows, including a row deleted while it was away.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createCollection } from '@tanstack/db'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { bindMutators, shoalCollectionOptions } from '../src/index.js'
import { recordingWebSocket } from '../../../test-harness/lib/socket.js'

const harness = fileURLToPath(new URL('../../../test-harness/lib/', import.meta.url))
const skip = existsSync(join(harness, 'worker.js')) ? false : 'test-harness/lib/worker.js is not there'
let cuttableNetworkTo
// Retention small enough to compact within a test: the newest 5 log rows, whatever their age.
const COMPACTING = { logRowsMax: 5, logAgeMsMax: 0, compactBatchRows: 100 }

let worker, compacting, routes
before(async () => {
  if (skip) return
  const { startWorker, exampleRoutes } = await import(join(harness, 'worker.js'))
  routes = exampleRoutes() // channel c's shapes and mutators go to shard c, as the page's do
  cuttableNetworkTo = (await import(join(harness, 'network.js'))).cuttableNetwork
  ;[worker, compacting] = await Promise.all([startWorker(), startWorker({ bindings: { SHOAL_LIMITS: JSON.stringify(COMPACTING) } })])
}, { timeout: 120_000 })
// Clients and proxies a failed test left open would keep the process alive.
const opened = []
after(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await worker?.stop()
  await compacting?.stop()
})

let seq = 0
const unique = (p) => `${p}${process.pid}x${++seq}`

async function waitFor(check, what, ms = 15_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A cuttable network (test-harness/lib/network.js) to `target`, closed after the file. */
async function cuttableNetwork(target) {
  const network = await cuttableNetworkTo(target)
  opened.push(network)
  return network
}

/** A user's client with the example's collections of channel `channelId` (on its shard) and mutators; `sockets` records its frames. */
function person(target, { sub, baseUrl = target.url, channelId }) {
  const errors = []
  const sockets = []
  const client = new ShoalClient({
    baseUrl,
    WebSocket: recordingWebSocket(sockets),
    getToken: () => target.token(sub),
    storage: memoryStorage(),
    routes,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    onError: (e) => errors.push(e),
  })
  opened.push(client)
  const collection = (shape, args = {}) => createCollection(shoalCollectionOptions({ client, shape, args, id: unique(`${shape}-`), startSync: true }))
  const channels = collection('channel', { id: channelId })
  const messages = collection('messagesByChannel', { channelId })
  const members = collection('membersByChannel', { channelId })
  const m = bindMutators(client, { collections: { channels } }, {
    createChannel: true,
    addMember: true,
    removeMember: true,
    sendMessage: true,
    // Patches of one field each, shown at once.
    renameChannel: (tx, { id, name }) => tx.channels.update(id, (row) => void (row.name = name)),
    setTopic: (tx, { id, topic }) => tx.channels.update(id, (row) => void (row.topic = topic)),
  })
  return { client, channels, messages, members, m, errors, sockets }
}

/** The sockets of a client that got as far as `connected`. */
const connectedSockets = (p) => p.sockets.filter((s) => s.received.some((f) => f.type === 'connected'))

/** The cursor a subscription holds after the pokes its socket received: the seq of the last pokeEnd that carried a part for it. */
function cursorOf(socket, subId) {
  let cursor = null
  let touched = false
  for (const f of socket.received) {
    if (f.type === 'pokeStart') touched = false
    if (f.type === 'pokePart' && f.sub === subId) touched = true
    if (f.type === 'pokeEnd' && touched) cursor = { seq: f.seq, epoch: f.epoch }
  }
  return cursor
}

/** The subscribe frame for `shape` sent on a socket, and the parts of the poke that answered it. */
function answerTo(socket, shape) {
  const subscribe = socket.sent.find((f) => f.type === 'subscribe' && f.shape === shape)
  assert.ok(subscribe, `a subscribe of ${shape} on the socket`)
  const first = socket.received.findIndex((f) => f.type === 'pokePart' && f.sub === subscribe.id)
  assert.ok(first >= 0, `an answer to the subscribe of ${shape}`)
  const pokeId = socket.received[first].pokeId
  const parts = socket.received.filter((f) => f.type === 'pokePart' && f.pokeId === pokeId && f.sub === subscribe.id)
  return { subscribe, parts, rows: parts.flatMap((p) => p.rows) }
}

const row = (collection, id) => {
  const r = collection.get(id)
  return r && { name: r.name, topic: r.topic }
}

for (const first of ['rename', 'topic']) {
  test(`two clients offline patch different fields of one row: both survive (the ${first} lands first)`, { skip, timeout: 60_000 }, async () => {
    const channelId = unique('patch') // its shard
    // Each editor behind a network of their own; carol only watches.
    const nets = { alice: await cuttableNetwork(worker), bob: await cuttableNetwork(worker) }
    const a = person(worker, { sub: 'alice', baseUrl: nets.alice.url, channelId })
    const b = person(worker, { sub: 'bob', baseUrl: nets.bob.url, channelId })
    const carol = person(worker, { sub: 'carol', channelId })

    await a.m.createChannel({ id: channelId, name: 'old name' })
    await a.m.addMember({ channelId, userId: 'bob' })
    await a.m.addMember({ channelId, userId: 'carol' })
    await Promise.all([a, b, carol].map((p) => p.channels.toArrayWhenReady()))
    await waitFor(() => [a, b, carol].every((p) => p.channels.get(channelId)?.name === 'old name'), 'everyone to see the channel')

    nets.alice.down()
    nets.bob.down()
    const rename = a.m.renameChannel({ id: channelId, name: 'new name' })
    const topic = b.m.setTopic({ id: channelId, topic: 'new topic' })
    // Each sees their own edit at once, and only their own.
    assert.deepEqual(row(a.channels, channelId), { name: 'new name', topic: null })
    assert.deepEqual(row(b.channels, channelId), { name: 'old name', topic: 'new topic' })
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(row(carol.channels, channelId), { name: 'old name', topic: null }, 'nothing reached the server')

    const order = first === 'rename' ? [['alice', rename], ['bob', topic]] : [['bob', topic], ['alice', rename]]
    for (const [who, done] of order) {
      nets[who].up()
      await done // applied, and a poke covering it handed to that client's collections
    }
    const both = { name: 'new name', topic: 'new topic' }
    for (const [who, p] of Object.entries({ alice: a, bob: b, carol })) {
      await waitFor(() => JSON.stringify(row(p.channels, channelId)) === JSON.stringify(both), `${who} to hold both edits`)
    }
    assert.deepEqual([...a.errors, ...b.errors, ...carol.errors], [])
    await Promise.all([a, b, carol].map((p) => p.client.close()))
  })
}

test('a client that missed many changes catches up through `since` (reset: false), with exactly what it missed', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('catchup') // its shard
  const network = await cuttableNetwork(worker)
  const alice = person(worker, { sub: 'alice', baseUrl: network.url, channelId })
  const bob = person(worker, { sub: 'bob', channelId })
  await bob.m.createChannel({ id: channelId, name: 'general' })
  await bob.m.addMember({ channelId, userId: 'alice' })
  await bob.m.sendMessage({ id: 'm0', channelId, text: 'before' })
  await waitFor(() => alice.messages.size === 1, 'alice to see the first message')

  const [before] = connectedSockets(alice)
  const messagesSub = answerTo(before, 'messagesByChannel').subscribe.id
  const cursor = cursorOf(before, messagesSub)
  assert.ok(cursor, 'alice holds a cursor for the messages')

  network.down()
  const missed = Array.from({ length: 40 }, (_, i) => `m${i + 1}`)
  await Promise.all(missed.map((id) => bob.m.sendMessage({ id, channelId, text: `missed ${id}` })))
  assert.equal(alice.messages.size, 1, 'alice is offline')
  network.up()
  await waitFor(() => alice.messages.size === 41, 'alice to catch up')

  const after = connectedSockets(alice).at(-1)
  assert.notEqual(after, before, 'alice reconnected on a new socket')
  const { subscribe, parts, rows } = answerTo(after, 'messagesByChannel')
  assert.deepEqual(subscribe.since, cursor, 'the subscribe carries the cursor of the last poke alice got')
  assert.ok(parts.length >= 1)
  assert.ok(parts.every((p) => p.reset === false), 'a catch-up, not a reset')
  assert.deepEqual(rows.map((r) => `${r.op} ${r.id}`).sort(), missed.map((id) => `put ${id}`).sort(), 'exactly the missed rows, once each')
  assert.deepEqual(alice.messages.toArray.map((r) => r.id).sort(), ['m0', ...missed].sort())
  // The other shapes caught up too, with nothing to say (their answers may come after the messages').
  const answered = (shape) => {
    const sub = after.sent.find((f) => f.type === 'subscribe' && f.shape === shape)
    return sub && after.received.some((f) => f.type === 'pokeEnd' && after.received.some((p) => p.type === 'pokePart' && p.sub === sub.id && p.pokeId === f.pokeId))
  }
  await waitFor(() => answered('channel') && answered('membersByChannel'), 'the answers to the other subscriptions')
  for (const shape of ['channel', 'membersByChannel']) {
    const answer = answerTo(after, shape)
    assert.ok(answer.subscribe.since, `${shape} resubscribed with since`)
    assert.ok(answer.parts.every((p) => p.reset === false), `${shape} caught up`)
    assert.deepEqual(answer.rows, [])
  }
  assert.deepEqual([...alice.errors, ...bob.errors], [])
  await Promise.all([alice.client.close(), bob.client.close()])
})

test('after the log was compacted past its cursor, a client gets a reset and shows the right rows', { skip, timeout: 60_000 }, async () => {
  const channelId = unique('compacted')
  const shard = channelId
  const network = await cuttableNetwork(compacting)
  const alice = person(compacting, { sub: 'alice', baseUrl: network.url, channelId })
  const bob = person(compacting, { sub: 'bob', channelId })
  await bob.m.createChannel({ id: channelId, name: 'general' })
  await bob.m.addMember({ channelId, userId: 'alice' })
  await bob.m.addMember({ channelId, userId: 'carol' })
  await bob.m.sendMessage({ id: 'm0', channelId, text: 'before' })
  await waitFor(() => alice.messages.size === 1 && alice.members.size === 3, 'alice to see the message and three members')

  const [before] = connectedSockets(alice)
  const messagesSub = answerTo(before, 'messagesByChannel').subscribe.id
  const cursor = cursorOf(before, messagesSub)

  network.down()
  // While alice is away: carol leaves (a delete alice must not miss), 20 messages come.
  await bob.m.removeMember({ channelId, userId: 'carol' })
  const missed = Array.from({ length: 20 }, (_, i) => `m${i + 1}`)
  for (const id of missed) await bob.m.sendMessage({ id, channelId, text: `missed ${id}` })
  // The alarm trims the log to its newest 5 rows: alice's cursor falls below the floor.
  const stats = () => compacting.stats(shard)
  const deadline = Date.now() + 15_000
  while ((await stats()).floor <= cursor.seq) {
    assert.ok(Date.now() < deadline, 'the alarm compacts the log')
    await new Promise((r) => setTimeout(r, 100))
  }

  network.up()
  await waitFor(() => alice.messages.size === 21 && alice.members.size === 2, 'alice to show the current rows')
  const after = connectedSockets(alice).at(-1)
  const messages = answerTo(after, 'messagesByChannel')
  assert.deepEqual(messages.subscribe.since, cursor, 'alice asked for a catch-up from her cursor')
  assert.equal(messages.parts[0].reset, true, 'a cursor below the floor gets a reset')
  assert.equal(messages.rows.length, 21, 'the reset holds the whole view')
  const members = answerTo(after, 'membersByChannel')
  assert.equal(members.parts[0].reset, true)
  assert.deepEqual(alice.messages.toArray.map((r) => r.id).sort(), ['m0', ...missed].sort())
  assert.deepEqual(alice.members.toArray.map((r) => r.userId).sort(), ['alice', 'bob'], 'carol, removed while alice was away, is gone')
  assert.deepEqual(alice.channels.toArray.map((r) => r.id), [channelId])
  // Once reset, the subscription is live again and catches up normally.
  await bob.m.sendMessage({ id: 'm21', channelId, text: 'after' })
  await waitFor(() => alice.messages.size === 22, 'the next message live')
  assert.deepEqual([...alice.errors, ...bob.errors], [])
  await Promise.all([alice.client.close(), bob.client.close()])
})
