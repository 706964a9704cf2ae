// Type check of the hand-written .d.ts files: `npm run typecheck -w client/react`.
// Compiled with tsc --noEmit only; never run.
import { ShoalClient, ShoalError, memoryStorage, type ShapeChange } from '@shoal/client'
import { fileStorage } from '@shoal/client/node'
import { createCollection } from '@tanstack/db'
import { bindMutators, shoalCollectionOptions } from '@shoal/db'
import { ShoalProvider, shapeCollection, useMutator, useShape, useSyncStatus } from '@shoal/react'
import { createElement } from 'react'

type Message = { id: string; channelId: string; authorId: string; text: string; createdAt: number }

const client = new ShoalClient({ baseUrl: 'http://127.0.0.1:8787', getToken: async () => 'token', storage: Math.random() ? memoryStorage() : fileStorage('/tmp/x') })
const unsubscribe: () => void = client.subscribeShape('messagesByChannel', { channelId: 'c1' }, (c: ShapeChange) => {
  for (const op of c.rows) if (op.op === 'put') console.log(op.doc, c.seq, c.epoch, c.reset)
})
unsubscribe()
const done: Promise<void> = client.mutate('createChannel', { id: 'c1', name: 'general' }, { shard: 'team:1' })
done.catch((e: unknown) => e instanceof ShoalError && e.code === 'CONFLICT')

const messages = createCollection(shoalCollectionOptions<Message, string>({ client, shape: 'messagesByChannel', args: { channelId: 'c1' } }))
const m = bindMutators(client, { collections: { messages } }, {
  createChannel: true,
  sendMessage: (tx, args: { id: string; channelId: string; text: string }) => {
    tx.messages.insert({ ...args, authorId: 'me', createdAt: 0 })
  },
})
const sent: Promise<void> = m.sendMessage({ id: 'm1', channelId: 'c1', text: 'hi' })
void sent
const rendered = shapeCollection<Message>(client, 'messagesByChannel', { channelId: 'c1' })
void rendered

export function Chat() {
  const { data, isLoading } = useShape<Message>('messagesByChannel', { channelId: 'c1' })
  const { mutate, pending, error } = useMutator(m.sendMessage)
  const texts: string[] = data.map((r) => r.text)
  void mutate({ id: 'm2', channelId: 'c1', text: 'x' })
  return createElement('p', null, isLoading || pending ? '…' : error ? error.message : texts.join(','))
}
export function StatusLine() {
  const { status, pending } = useSyncStatus()
  const state: 'online' | 'connecting' | 'offline' = status
  return createElement('span', { 'data-state': state }, pending === 0 ? 'all saved' : `${pending} unsent`)
}

// The DOM's WebSocket, without a cast.
export const withDomSocket = new ShoalClient({ baseUrl: 'http://127.0.0.1:8787', WebSocket })

export const app = createElement(ShoalProvider, { client }, createElement(Chat), createElement(StatusLine))
