// UNIT TESTS of the hydration in two steps (`firstRows`): a fake client hands the collection's sync
// hand-scripted changes, so the ordering rules are checked one step at a time (real @tanstack/db).

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createCollection } from '@tanstack/db'
import { shoalCollectionOptions } from '../src/index.js'

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms))
const doc = (id, createdAt, text = `t${id}`) => ({ id, channelId: 'c1', text, createdAt })
const put = (d) => ({ op: 'put', table: 'messages', id: d.id, doc: d })
const del = (id) => ({ op: 'del', table: 'messages', id })
// 10 cached rows m0..m9, m9 the newest.
const cachedRows = () => Array.from({ length: 10 }, (_, i) => put(doc(`m${i}`, i)))

function setup(extra = {}) {
  let onChange
  let unsubscribed = 0
  const client = {
    subscribeShape: (shape, args, cb) => ((onChange = cb), () => unsubscribed++),
    reportError: (err) => assert.fail(err),
  }
  const messages = createCollection(
    shoalCollectionOptions({ client, shape: 'messagesByChannel', args: { channelId: 'c1' }, startSync: true, firstRows: 3, firstOrder: (a, b) => b.createdAt - a.createdAt, ...extra }),
  )
  const send = (change) => onChange({ seq: 1, epoch: 'e1', lastMutationId: 0, ...change })
  return { messages, send, unsubscribed: () => unsubscribed }
}
const ids = (c) => c.toArray.map((r) => r.id).sort()

test('firstRows: the first rows (by firstOrder) are there and the collection ready at once; the rest in a following task', async () => {
  const { messages, send } = setup()
  send({ reset: true, cached: true, rows: cachedRows() })
  assert.equal(messages.status, 'ready')
  assert.deepEqual(ids(messages), ['m7', 'm8', 'm9'], 'the newest three first')
  await tick()
  assert.deepEqual(ids(messages), cachedRows().map((r) => r.id).sort())
})

test('firstRows: without firstOrder the first rows are the cache\'s first; a server reset is never split', async () => {
  const { messages, send } = setup({ firstOrder: undefined })
  send({ reset: true, cached: true, rows: cachedRows() })
  assert.deepEqual(ids(messages), ['m0', 'm1', 'm2'])
  await tick()
  assert.equal(messages.size, 10)
  send({ reset: true, rows: cachedRows().slice(0, 5) })
  assert.deepEqual(ids(messages), ['m0', 'm1', 'm2', 'm3', 'm4'], 'all of a live reset at once')
})

test('firstRows: a poke between the two steps is applied after the cached rows, never overwritten by them', async () => {
  const { messages, send } = setup()
  send({ reset: true, cached: true, rows: cachedRows() })
  assert.equal(messages.has('m1'), false, 'm1 is still to come from the cache')
  // The live poke updates m1 and deletes m2 (both still waiting in the cache's second step), adds m10.
  send({ reset: false, seq: 2, rows: [put(doc('m1', 1, 'edited')), del('m2'), put(doc('m10', 10))] })
  assert.equal(messages.get('m1').text, 'edited')
  assert.equal(messages.has('m2'), false)
  assert.equal(messages.size, 10)
  await tick() // the second step's timer finds nothing left to insert
  assert.equal(messages.get('m1').text, 'edited', 'the stale cached m1 did not come back')
  assert.equal(messages.has('m2'), false, 'the deleted m2 did not come back')
  assert.deepEqual(ids(messages), ['m0', 'm1', 'm10', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'])
})

test('firstRows: a reset from the server between the two steps replaces everything, the cached rest included', async () => {
  const { messages, send } = setup()
  send({ reset: true, cached: true, rows: cachedRows() })
  send({ reset: true, seq: 5, rows: [put(doc('m0', 0, 'fresh')), put(doc('m20', 20))] })
  assert.deepEqual(ids(messages), ['m0', 'm20'])
  await tick()
  assert.deepEqual(ids(messages), ['m0', 'm20'], 'no cached row came back after the reset')
  assert.equal(messages.get('m0').text, 'fresh')
})

test('firstRows: cleaning the collection up before the second step inserts nothing more', async () => {
  const { messages, send, unsubscribed } = setup()
  send({ reset: true, cached: true, rows: cachedRows() })
  await messages.cleanup()
  assert.equal(unsubscribed(), 1)
  await tick() // the timer was cleared: no write into a cleaned-up collection
})

test('firstRows: must be a positive integer', () => {
  assert.throws(() => setup({ firstRows: 0 }), /firstRows/)
})
