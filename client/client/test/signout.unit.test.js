// Sign-out leaves nothing of the user's unsent writes in storage (a shared browser's next user
// could read them), and leaves alone what is not theirs or still in use. No server is needed:
// the client writes its outbox before it sends anything, and here nothing is listening.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WebSocket } from 'ws'
import { ShoalClient, memoryStorage, processLocks } from '../src/index.js'

function jwt(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'HS256' })}.${b64({ sub, exp: 9e9 })}.c2lnbmF0dXJl`
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

function offlineClient(sub, storage, locks) {
  return new ShoalClient({
    baseUrl: 'http://127.0.0.1:9', // nothing listens: mutations stay pending
    WebSocket,
    getToken: () => jwt(sub),
    storage,
    locks,
    reconnectMinMs: 10,
    reconnectMaxMs: 50,
    onError: () => {},
    onWarning: () => {},
  })
}

test('signOut deletes the user\'s outboxes with their pending writes; other users\' and other tabs\' stay', async () => {
  const storage = memoryStorage()
  const locks = processLocks()
  const alice = offlineClient('alice', storage, locks)
  alice.mutate('sendMessage', { id: 'm1', text: 'a private draft' }).catch(() => {})
  alice.mutate('sendMessage', { id: 'm2', text: 'another' }).catch(() => {})
  const bob = offlineClient('bob', storage, locks)
  bob.mutate('sendMessage', { id: 'b1', text: 'bob\'s' }).catch(() => {})
  await Promise.all([alice.ready, bob.ready])
  await tick()
  // An earlier, closed session of alice's left an outbox behind too.
  await storage.put({ v: 1, clientId: 'old-tab', userId: 'alice', updatedAt: 0, shards: { __root__: { nextId: 2, confirmed: 0, pending: [{ id: 1, name: 'sendMessage', args: { text: 'older draft' } }] } } })
  assert.equal((await storage.list()).filter((r) => r.userId === 'alice').length, 2)

  assert.equal(await alice.signOut(), 3, 'two pending writes of this session, one of the older one')
  const left = await storage.list()
  assert.deepEqual(left.map((r) => r.userId), ['bob'], 'nothing of alice remains in storage')
  assert.ok(!JSON.stringify(left).includes('private draft'))
  assert.equal(alice.status, 'offline')

  // A tab of bob's that is still open keeps its outbox when another of his tabs signs out.
  const bobTab2 = offlineClient('bob', storage, locks)
  await bobTab2.ready
  assert.equal(await bobTab2.signOut(), 0, 'bob\'s first tab still holds its outbox: not taken from under it')
  assert.deepEqual((await storage.list()).map((r) => r.userId), ['bob'])
  await bob.close()
})
