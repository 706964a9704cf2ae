// One signed-in user's session: a ShoalClient over the page's origin, the app's mutators bound
// with their optimistic client twins, and the errors nobody awaits. (The header's connection
// state and unsent count come from the client itself: useSyncStatus in App.tsx.) Typed from
// shoal.gen.ts, which codegen writes from the Java app.

import { ShoalClient, ShoalError, indexedDBStorage } from '@shoal/client'
import { bindMutators, type MutatorHandle } from '@shoal/db'
import { shapeCollection, useShape } from '@shoal/react'
import { currentToken, renew, type Auth } from './auth'
import { routes, type MutatorName, Mutators, ShapeName, Shapes } from './shoal.gen'

export type RowOf<S extends ShapeName> = Shapes[S]['row']
export type Handles = { readonly [K in MutatorName]: MutatorHandle<Mutators[K]> }

/**
 * A channel's cached messages go in two steps: the newest 200 (what the page renders at first, see
 * MESSAGES_SHOWN in App.tsx), then the rest in a following task. A channel of 10,000 shows its
 * first rows without waiting for all of them to be inserted.
 */
const MESSAGES_FIRST = {
  firstRows: 200,
  firstOrder: (a: RowOf<'messagesByChannel'>, b: RowOf<'messagesByChannel'>) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
}
const optionsOf = <S extends ShapeName>(shape: S) => (shape === 'messagesByChannel' ? MESSAGES_FIRST : {}) as { firstOrder?: (a: RowOf<S>, b: RowOf<S>) => number }

/**
 * The cache entries index.html read ahead, for the session of a stored sign-in that main.tsx starts
 * while the page loads: a session started later (a sign-in, another user) reads for itself.
 */
let pagePreload = typeof window === 'undefined' ? undefined : (window as unknown as { __shoalCachePreload?: Promise<Map<string, { meta: unknown; buckets: unknown[] }>> }).__shoalCachePreload
queueMicrotask(() => (pagePreload = undefined))
function takePreload() {
  const preload = pagePreload
  pagePreload = undefined
  return preload
}

/** The collection of a shape: the one useShape renders, and the one client twins write. */
export function collectionOf<S extends ShapeName>(client: ShoalClient, shape: S, args: Shapes[S]['args']) {
  return shapeCollection<RowOf<S>>(client, shape, args, optionsOf(shape))
}

/** The live rows of a shape, typed. */
export function useRows<S extends ShapeName>(shape: S, args: Shapes[S]['args']) {
  return useShape<RowOf<S>>(shape, args, optionsOf(shape))
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

export interface Problem {
  id: number
  error: Error
}

export class Session {
  readonly user: string
  readonly client: ShoalClient
  readonly m: Handles
  readonly problems = new Store<Problem[]>([])
  private problemCount = 0

  constructor(auth: Auth) {
    this.user = auth.user
    // The client says whether it is connected and how many writes are unsent (client.syncStatus,
    // useSyncStatus), closes its sockets when the browser goes offline and reconnects when it is
    // back; it runs with the browser's WebSocket and an IndexedDB outbox by default.
    // `routes` (generated from the Java app) tell the client which shard each shape and mutator
    // lives on: channel c's rows on shard c, the global tables on __global__, setDisplayName on
    // __root__. It opens those sockets (and keeps one outbox per shard) by itself.
    this.client = new ShoalClient({
      baseUrl: location.origin,
      routes,
      // Named here rather than read from a token: the page opens offline too, before any token
      // can be fetched, and shows this user's cached rows and pending writes.
      userId: auth.user,
      getToken: () => currentToken(auth),
      // The server refused the token (expired, revoked): a dev sign-in fetches a fresh one; a
      // pasted token cannot be renewed here (the header says so: syncStatus.auth).
      refreshToken: async () => (auth.kind === 'dev' ? (await renew(auth)).token : null),
      onError: (e) => this.report(e),
      // The IndexedDB outbox and row cache, with the open channel's cached messages that
      // index.html read while this script downloaded (the page's first session only).
      storage: typeof indexedDB === 'undefined' ? undefined : indexedDBStorage({ preload: takePreload() }),
    })

    const client = this.client
    const me = auth.user
    const defs = {
      // Client twins: each runs at once in a TanStack DB transaction, so the change shows before
      // the server has it (or while offline), and is replaced by the synced rows when a poke covers it.
      createChannel: (_tx: unknown, { id, name }: Mutators['createChannel']) => {
        collectionOf(client, 'myChannels', {}).insert({ id: memberId(id, me), channelId: id, channelName: name })
        collectionOf(client, 'channel', { id }).insert({ id, name, topic: null })
        collectionOf(client, 'membersByChannel', { channelId: id }).insert({ id: memberId(id, me), channelId: id, userId: me })
      },
      // Patches of one field each: two people may rename a channel and set its topic at once,
      // offline even, and both edits survive.
      renameChannel: (_tx: unknown, { id, name }: Mutators['renameChannel']) => {
        const channel = collectionOf(client, 'channel', { id })
        if (channel.has(id)) channel.update(id, (row) => void (row.name = name))
        const mine = collectionOf(client, 'myChannels', {})
        if (mine.has(memberId(id, me))) mine.update(memberId(id, me), (row) => void (row.channelName = name))
      },
      setTopic: (_tx: unknown, { id, topic }: Mutators['setTopic']) => {
        const channel = collectionOf(client, 'channel', { id })
        if (channel.has(id)) channel.update(id, (row) => void (row.topic = topic))
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
        const mine = collectionOf(client, 'myChannels', {})
        if (userId === me && mine.has(memberId(channelId, me))) mine.delete(memberId(channelId, me))
      },
      sendMessage: (_tx: unknown, { id, channelId, text }: Mutators['sendMessage']) => {
        collectionOf(client, 'messagesByChannel', { channelId }).insert({ id, channelId, authorId: me, text, createdAt: Date.now() })
      },
      // A global table: the server writes it to D1 after the commit; every signed-in user's
      // `profiles` shape shows it within a second.
      setDisplayName: (_tx: unknown, { displayName }: Mutators['setDisplayName']) => {
        const profiles = collectionOf(client, 'profiles', {})
        if (profiles.has(me)) profiles.update(me, (row) => void (row.displayName = displayName))
        else profiles.insert({ id: me, displayName })
      },
    }
    this.m = bindMutators(client, {}, defs)
    // Start the views the page opens with now, before React renders: their cached rows are read
    // while the page is still loading.
    void collectionOf(client, 'myChannels', {}).preload()
    const channel = /^#\/c\/([A-Za-z0-9_.:-]{1,128})$/.exec(location.hash)?.[1]
    if (channel) void collectionOf(client, 'messagesByChannel', { channelId: channel }).preload()
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
    await this.client.close()
  }

  /**
   * Sign-out: the client closes and deletes this user's cached rows and outbox from IndexedDB,
   * unsent writes included, so the next person at this browser cannot read them. Returns how many
   * unsent writes were dropped.
   */
  async signOut(): Promise<number> {
    return this.client.signOut({ purge: true })
  }
}
