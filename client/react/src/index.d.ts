import type { ShoalClient, ShoalError, SyncStatus } from '@shoal/client'
import type { MutatorHandle } from '@shoal/db'
import type { Collection } from '@tanstack/db'
import type { ReactNode, ReactElement } from 'react'

export declare function ShoalProvider(props: { client: ShoalClient; children?: ReactNode }): ReactElement
export declare function useShoalClient(): ShoalClient

/**
 * `shard` overrides the client's routes; `firstRows` and `firstOrder` are @shoal/db's (a large
 * cache hydrated in two steps). A collection is made once per (client, shard, shape, args): the
 * options of the first call that makes it are the ones it keeps.
 */
export interface ShapeCollectionOptions<T extends object = Record<string, unknown>> {
  shard?: string
  firstRows?: number
  firstOrder?: (a: T, b: T) => number
}

export declare function shapeCollection<T extends object = Record<string, unknown>>(
  client: ShoalClient,
  shape: string,
  args?: Record<string, unknown>,
  options?: ShapeCollectionOptions<T>,
): Collection<T, string | number>

/** The live rows of a shape: `{ data, isLoading, isReady, status, collection, ... }` as useLiveQuery returns them. */
export declare function useShape<T extends object = Record<string, unknown>>(
  shape: string,
  args?: Record<string, unknown>,
  options?: ShapeCollectionOptions<T>,
): {
  data: T[]
  state: Map<string | number, T>
  collection: Collection<T, string | number>
  status: 'idle' | 'loading' | 'ready' | 'error' | 'cleaned-up' | (string & {})
  isLoading: boolean
  isReady: boolean
  isError: boolean
}

export declare function useMutator<A>(handle: MutatorHandle<A>): {
  mutate: (args: A) => Promise<void>
  pending: boolean
  error: ShoalError | Error | null
}

/** The client's `syncStatus`, live: `{ status: "online" | "connecting" | "offline", pending, shards }`. */
export declare function useSyncStatus(): SyncStatus
