// One signed-in user's session: a ShoalClient over the page's origin, the app's mutators bound
// with their optimistic client twins, and the small state the header shows (connection, unsent
// writes, errors). Typed from shoal.gen.ts, which codegen writes from the Java app.

import { ShoalClient, ShoalError, indexedDBStorage, type OutboxRecord, type OutboxStorage, type ShoalClientOptions } from '@shoal/client'
import { bindMutators, type MutatorHandle } from '@shoal/db'
import { shapeCollection, useShape } from '@shoal/react'
import { currentToken, type Auth } from './auth'
import type { MutatorName, Mutators, ShapeName, Shapes } from './shoal.gen'

export type RowOf<S extends ShapeName> = Shapes[S]['row']
export type Handles = { readonly [K in MutatorName]: MutatorHandle<Mutators[K]> }

/** The collection of a shape: the one useShape renders, and the one client twins write. */
export function collectionOf<S extends ShapeName>(client: ShoalClient, shape: S, args: Shapes[S]['args']) {
  return shapeCollection<RowOf<S>>(client, shape, args)
}

/** The live rows of a shape, typed. */
export function useRows<S extends ShapeName>(shape: S, args: Shapes[S]['args']) {
  return useShape<RowOf<S>>(shape, args)
}

/**
 * The id the server gives a membership row (ChatApp.memberId): a twin that inserts one must use the
 * same key, so that the synced row replaces the optimistic one.
 */
export const memberId = (channelId: string, userId: string) => `${channelId}/${userId}`

/** A tiny external store for useSyncExternalStore. */
export class Store<T> {
  private listeners = new Set<() => void>()
  constructor(private value: T) {}
  get = (): T => this.value
  subscribe = (listener: () => void) => {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }
  set(value: T) {
    this.value = value
    for (const l of this.listeners) l()
  }
}

export interface Status {
  /** navigator.onLine, kept current by the online/offline events. */
  browserOnline: boolean
  /** Sockets to the Worker that are open now. */
  openSockets: number
  /** Mutations in the outbox that the server has not confirmed (they survive a reload). */
  unsent: number
  clientId: string | undefined
}

export type Connection = 'online' | 'connecting' | 'offline'

export function connectionOf(s: Status): Connection {
  if (!s.browserOnline) return 'offline'
  return s.openSockets > 0 ? 'online' : 'connecting'
}

export interface Problem {
  id: number
  error: Error
}

export class Session {
  readonly user: string
  readonly client: ShoalClient
  readonly m: Handles
  readonly status: Store<Status>
  readonly problems = new Store<Problem[]>([])
  private sockets = new Set<WebSocket>()
  private problemCount = 0
  private listed: { clientId: string; unsent: number }[] = []
  private stop: () => void

  constructor(auth: Auth) {
    this.user = auth.user
    this.status = new Store<Status>({ browserOnline: navigator.onLine, openSockets: 0, unsent: 0, clientId: undefined })
    const session = this

    // The client's sockets, watched so the header can say whether it is connected. When the
    // browser says it went offline, they are closed at once: a socket whose network is gone can
    // look open until the heartbeat gives up on it, and meanwhile writes would go nowhere. The
    // client reconnects by itself (at once on the browser's `online` event).
    class WatchedWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        session.sockets.add(this)
        this.addEventListener('open', () => session.countSockets())
        this.addEventListener('close', () => {
          session.sockets.delete(this)
          session.countSockets()
        })
      }
    }
    const onOnline = () => this.patch({ browserOnline: true })
    const onOffline = () => {
      this.patch({ browserOnline: false })
      for (const ws of this.sockets) ws.close(4000, 'browser offline')
    }
    addEventListener('online', onOnline)
    addEventListener('offline', onOffline)
    this.stop = () => {
      removeEventListener('online', onOnline)
      removeEventListener('offline', onOffline)
    }

    this.client = new ShoalClient({
      baseUrl: location.origin,
      getToken: () => currentToken(auth),
      // The cast: the DOM's WebSocket (handlers typed with MessageEvent, CloseEvent) is what the
      // client runs with by default, but @shoal/client's WebSocketLike types its handlers narrower.
      WebSocket: WatchedWebSocket as unknown as ShoalClientOptions['WebSocket'],
      storage: this.countingStorage(indexedDBStorage()),
      onError: (e) => this.report(e),
    })
    this.client.ready.then(() => {
      const clientId = this.client.clientId
      const adopted = this.listed.find((r) => r.clientId === clientId)
      this.patch({ clientId, ...(adopted ? { unsent: adopted.unsent } : {}) })
    }, () => {})

    const client = this.client
    const me = auth.user
    const defs = {
      // Client twins: each runs at once in a TanStack DB transaction, so the change shows before
      // the server has it (or while offline), and is replaced by the synced rows when a poke covers it.
      createChannel: (_tx: unknown, { id, name }: Mutators['createChannel']) => {
        collectionOf(client, 'myChannels', {}).insert({ id, name, topic: null })
        collectionOf(client, 'membersByChannel', { channelId: id }).insert({ id: memberId(id, me), channelId: id, userId: me })
      },
      // Patches of one field each: two people may rename a channel and set its topic at once,
      // offline even, and both edits survive.
      renameChannel: (_tx: unknown, { id, name }: Mutators['renameChannel']) => {
        const channels = collectionOf(client, 'myChannels', {})
        if (channels.has(id)) channels.update(id, (row) => void (row.name = name))
      },
      setTopic: (_tx: unknown, { id, topic }: Mutators['setTopic']) => {
        const channels = collectionOf(client, 'myChannels', {})
        if (channels.has(id)) channels.update(id, (row) => void (row.topic = topic))
      },
      addMember: (_tx: unknown, { channelId, userId }: Mutators['addMember']) => {
        const members = collectionOf(client, 'membersByChannel', { channelId })
        if (members.toArray.some((r) => r.userId === userId)) throw new Error(`${userId} is already a member`)
        members.insert({ id: memberId(channelId, userId), channelId, userId })
      },
      removeMember: (_tx: unknown, { channelId, userId }: Mutators['removeMember']) => {
        const members = collectionOf(client, 'membersByChannel', { channelId })
        const row = members.toArray.find((r) => r.userId === userId)
        if (row) members.delete(row.id)
        const channels = collectionOf(client, 'myChannels', {})
        if (userId === me && channels.has(channelId)) channels.delete(channelId)
      },
      sendMessage: (_tx: unknown, { id, channelId, text }: Mutators['sendMessage']) => {
        collectionOf(client, 'messagesByChannel', { channelId }).insert({ id, channelId, authorId: me, text, createdAt: Date.now() })
      },
    }
    this.m = bindMutators(client, {}, defs)
  }

  /** Errors nobody awaits (a replayed write refused, a bad frame), shown until dismissed. */
  report(error: Error) {
    // CLOSED is the client going away on sign-out, not news.
    if (error instanceof ShoalError && error.code === 'CLOSED') return
    this.problems.set([...this.problems.get(), { id: ++this.problemCount, error }])
  }

  dismiss(id: number) {
    this.problems.set(this.problems.get().filter((p) => p.id !== id))
  }

  async close() {
    this.stop()
    await this.client.close()
  }

  private patch(change: Partial<Status>) {
    this.status.set({ ...this.status.get(), ...change })
  }

  private countSockets() {
    let open = 0
    for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) open++
    this.patch({ openSockets: open })
  }

  /** The outbox storage, watched: each write of this client's outbox says how many are unsent. */
  private countingStorage(storage: OutboxStorage): OutboxStorage {
    const unsent = (r: OutboxRecord) => Object.values(r.shards).reduce((n, s) => n + s.pending.length, 0)
    return {
      list: async () => {
        const records = await storage.list()
        // The outbox the client adopts is one of these: counted once `ready` names it.
        this.listed = records.map((r) => ({ clientId: r.clientId, unsent: unsent(r) }))
        return records
      },
      put: async (record) => {
        await storage.put(record)
        // Only this client writes through this storage, and only its own record.
        this.patch({ unsent: unsent(record) })
      },
      delete: (clientId) => storage.delete(clientId),
    }
  }
}
