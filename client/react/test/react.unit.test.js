// UNIT TESTS AGAINST A FAKE SERVER (../client/test/fake-server.js), rendering
// with react-test-renderer: the hooks' wiring, not the server.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createElement } from 'react'
import TestRenderer, { act } from 'react-test-renderer'
import { WebSocket } from 'ws'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { bindMutators } from '@shoal/db'
import { ShoalProvider, shapeCollection, useMutator, useShape, useSyncStatus } from '../src/index.js'
import { fakeServerForFile } from '../../client/test/fake-server.js'

globalThis.IS_REACT_ACT_ENVIRONMENT = true
const { server, opened } = fakeServerForFile()

const until = async (check) => {
  for (let i = 0; i < 100 && !check(); i++) await act(() => new Promise((r) => setTimeout(r, 10)))
  assert.ok(check())
}

test('useShape renders the shape\'s rows; useMutator tracks pending and error', async () => {
  const n = server.sockets.length
  const client = new ShoalClient({ baseUrl: server.url, WebSocket, userId: 'alice', storage: memoryStorage(), onError: () => {} })
  opened.push(client)
  const messages = shapeCollection(client, 'messagesByChannel', { channelId: 'c1' })
  const { sendMessage } = bindMutators(client, { collections: { messages } }, {
    sendMessage: (tx, { id, text }) => tx.messages.insert({ id, channelId: 'c1', text }),
  })
  let seen
  function Chat() {
    const { data, isReady } = useShape('messagesByChannel', { channelId: 'c1' })
    const send = useMutator(sendMessage)
    seen = { texts: (data ?? []).map((m) => m.text), isReady, send }
    return null
  }
  let renderer
  await act(async () => {
    renderer = TestRenderer.create(createElement(ShoalProvider, { client }, createElement(Chat)))
  })
  const s = await server.socket(n)
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 1, lastMutationId: 0 })
  const { id: sub } = await s.next('subscribe')
  s.send({ type: 'poke', pokeId: 'p0', parts: [{ sub, reset: true, rows: [{ op: 'put', table: 'messages', id: 'm0', doc: { id: 'm0', channelId: 'c1', text: 'hello' } }] }], seq: 1, epoch: 'e1', lastMutationId: 0 })
  await until(() => seen.isReady && seen.texts.length === 1)

  let done
  await act(async () => void (done = seen.send.mutate({ id: 'm1', text: 'hi' })))
  assert.deepEqual(seen.texts.sort(), ['hello', 'hi'])
  assert.equal(seen.send.pending, true)
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'error', code: 'FORBIDDEN', message: 'not a member of c1' }] })
  await until(() => seen.send.pending === false)
  await assert.rejects(done)
  assert.equal(seen.send.error.code, 'FORBIDDEN')
  assert.deepEqual(seen.texts, ['hello'])
  await act(async () => renderer.unmount())
  await client.close()
})

test('useSyncStatus renders the connection status and the pending count', async () => {
  const n = server.sockets.length
  const client = new ShoalClient({ baseUrl: server.url, WebSocket, userId: 'alice', storage: memoryStorage(), onError: () => {} })
  opened.push(client)
  const renders = []
  function Status() {
    const { status, pending } = useSyncStatus()
    renders.push(`${status}/${pending}`)
    return null
  }
  let renderer
  await act(async () => {
    renderer = TestRenderer.create(createElement(ShoalProvider, { client }, createElement(Status)))
  })
  assert.equal(renders.at(-1), 'connecting/0')
  let done
  await act(async () => void (done = client.mutate('sendMessage', { id: 'm1' })))
  const s = await server.socket(n)
  await until(() => renders.at(-1) === 'connecting/1')
  s.send({ type: 'connected', shard: '__root__', epoch: 'e1', seq: 0, lastMutationId: 0 })
  await until(() => renders.at(-1) === 'online/1')
  await s.next('push')
  s.send({ type: 'pushResult', results: [{ id: 1, status: 'ok' }] })
  s.send({ type: 'poke', pokeId: 'p', parts: [], seq: 1, epoch: 'e1', lastMutationId: 1 })
  await until(() => renders.at(-1) === 'online/0')
  await done
  await act(async () => renderer.unmount())
  await client.close()
})
