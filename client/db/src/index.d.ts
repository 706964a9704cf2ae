import type { ShoalClient, ShoalError } from '@shoal/client'
import type { Collection, CollectionConfig } from '@tanstack/db'

export interface ShoalCollectionConfig<T extends object = Record<string, unknown>, TKey extends string | number = string | number>
  extends Omit<CollectionConfig<T, TKey>, 'sync' | 'getKey' | 'id'> {
  client: ShoalClient
  /** The shape's name, as registered on the server, e.g. "messagesByChannel". */
  shape: string
  /** The shape's arguments, e.g. { channelId }. */
  args?: Record<string, unknown>
  /** The shard to subscribe on. Default: the client's `shard`. */
  shard?: string
  /** Keep only row ops of this table (for shapes that send several). */
  table?: string
  /** Default: row => row.id (a doc always carries its id). */
  getKey?: (row: T) => TKey
  /** Default: "shoal:<shape>:<JSON of args>". */
  id?: string
  /**
   * Hydrate a large row cache in two steps: the first `firstRows` cached rows go in and the
   * collection is ready (the UI renders), the rest follow in a following task. A poke arriving
   * meanwhile is applied after all the cached rows; a reset replaces them. Default: all at once.
   */
  firstRows?: number
  /** Which cached rows come first (e.g. newest first: `(a, b) => b.createdAt - a.createdAt`). Default: the cache's order. */
  firstOrder?: (a: T, b: T) => number
}

export declare function shoalCollectionOptions<T extends object = Record<string, unknown>, TKey extends string | number = string | number>(
  config: ShoalCollectionConfig<T, TKey>,
): CollectionConfig<T, TKey> & { id: string }

/** A client twin: writes the optimistic change to local collections, synchronously. */
export type ClientTwin<C, A> = (tx: C, args: A) => void

export type MutatorDef<C, A> =
  | true
  | null
  | ClientTwin<C, A>
  | { client?: ClientTwin<C, A>; shard?: string | ((args: A) => string) }

export type MutatorHandle<A> = ((args: A) => Promise<void>) & { readonly mutatorName: string }

/**
 * Bind mutators to a client. `A` of each entry is its argument type (the
 * generated types from the Java definitions name them).
 */
export declare function bindMutators<C extends Record<string, Collection<any, any, any>>, M extends Record<string, MutatorDef<C, any>>>(
  client: ShoalClient,
  context: { collections?: C },
  mutators: M,
): { [K in keyof M]: MutatorHandle<M[K] extends MutatorDef<C, infer A> ? A : Record<string, unknown>> }

export type { ShoalError }
