// Anonymous mode against the real worker (test-harness/lib/worker.js: the shim and the TeaVM
// engine in workerd) with SHOAL_ALLOW_ANONYMOUS=true: the client asks the Worker for an identity,
// keeps its token, and is that identity and no other, whatever client id it uses.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import { ShoalClient, memoryStorage, defaultAnonymousStore } from '../src/index.js'

const harness = fileURLToPath(new URL('../../../test-harness/lib/', import.meta.url))
const skip = existsSync(join(harness, 'worker.js')) ? false : 'test-harness/lib/worker.js is not there'

let worker
before(async () => {
  if (skip) return
  const { startWorker } = await import(join(harness, 'worker.js'))
  worker = await startWorker({ bindings: { SHOAL_ALLOW_ANONYMOUS: 'true' } })
}, { timeout: 120_000 })
const opened = []
after(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await worker?.stop()
})

function anonymousClient(store, storage = memoryStorage()) {
  const client = new ShoalClient({ baseUrl: worker.url, WebSocket, anonymous: { store }, storage, onError: () => {}, onWarning: () => {} })
  opened.push(client)
  return client
}

/** The author the server stamps on a message this client sends: its identity as the server sees it. */
async function serverIdentity(client, channel) {
  // Channel c lives on shard c (the example is sharded by channel).
  await client.mutate('createChannel', { id: channel, name: channel }, { shard: channel })
  await client.mutate('sendMessage', { id: `m-${channel}`, channelId: channel, text: 'hi' }, { shard: channel })
  return new Promise((resolve) => {
    const stop = client.subscribeShape('messagesByChannel', { channelId: channel }, ({ rows }) => {
      const put = rows.find((r) => r.op === 'put')
      if (put) (stop(), resolve(put.doc.authorId))
    }, { shard: channel })
  })
}

test('anonymous: the Worker mints the identity, the client keeps it across a reload; another client is someone else', { skip }, async () => {
  const store = defaultAnonymousStore(worker.url) // memory in Node
  const storage = memoryStorage()
  const first = anonymousClient(store, storage)
  await first.ready
  assert.match(first.userId, /^anon:[A-Za-z0-9_-]{22}$/)
  assert.equal(await serverIdentity(first, 'anon-ch1'), first.userId, 'the server sees the minted identity')
  const kept = await store.get()
  assert.equal(kept.sub, first.userId)
  await first.close()

  const reloaded = anonymousClient(store, storage)
  await reloaded.ready
  assert.equal(reloaded.userId, first.userId, 'the kept token is the same identity after a reload')
  assert.equal(reloaded.clientId, first.clientId, 'and it adopts its own outbox')
  await reloaded.close()

  // Someone else: an identity of their own (worker-shim/test/identity.test.js tries a stolen client id).
  const other = anonymousClient(defaultAnonymousStore(worker.url))
  await other.ready
  assert.notEqual(other.userId, first.userId)
  assert.equal(await serverIdentity(other, 'anon-ch2'), other.userId)
  await other.close()

  // Signing out forgets the identity: the next anonymous session is someone new.
  const again = anonymousClient(store, storage)
  await again.ready
  await again.signOut()
  assert.equal(await store.get(), null)
  const fresh = anonymousClient(store, storage)
  await fresh.ready
  assert.notEqual(fresh.userId, first.userId)
  await fresh.close()
})

test('anonymous and getToken together are refused', () => {
  assert.throws(() => new ShoalClient({ baseUrl: 'http://x', WebSocket, anonymous: true, getToken: () => 't' }), TypeError)
})
