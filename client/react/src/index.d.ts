import type { ShoalClient, ShoalError, SyncStatus } from '@shoal/client'
import type { MutatorHandle } from '@shoal/db'
import type { Collection } from '@tanstack/db'
import type { ReactNode, ReactElement } from 'react'

export declare function ShoalProvider(props: { client: ShoalClient; children?: ReactNode }): ReactElement
export declare function useShoalClient(): ShoalClient

export declare function shapeCollection<T extends object = Record<string, unknown>>(
  client: ShoalClient,
  shape: string,
  args?: Record<string, unknown>,
  options?: { shard?: string },
): Collection<T, string | number>

/** The live rows of a shape: `{ data, isLoading, isReady, status, collection, ... }` as useLiveQuery returns them. */
export declare function useShape<T extends object = Record<string, unknown>>(
  shape: string,
  args?: Record<string, unknown>,
  options?: { shard?: string },
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
