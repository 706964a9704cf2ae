// @shoal/react: hooks over @shoal/db. No JSX, so the package needs no build.

import { createCollection } from '@tanstack/db'
import { useLiveQuery } from '@tanstack/react-db'
import { shoalCollectionOptions } from '@shoal/db'
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'

const ShoalContext = createContext(null)

/** Makes `client` available to useShape below it. */
export function ShoalProvider({ client, children }) {
  return createElement(ShoalContext.Provider, { value: client }, children)
}

export function useShoalClient() {
  const client = useContext(ShoalContext)
  if (!client) throw new Error('useShape: no ShoalClient here. Wrap the app in <ShoalProvider client={client}>.')
  return client
}

// One collection per (client, shard, shape, args): two components showing the
// same shape share its subscription. TanStack DB stops its sync after gcTime
// without subscribers and restarts it when needed again.
const cache = new WeakMap()

/** The collection useShape renders; also handy as a client twin's target. */
export function shapeCollection(client, shape, args = {}, { shard, firstRows, firstOrder } = {}) {
  let byKey = cache.get(client)
  if (!byKey) cache.set(client, (byKey = new Map()))
  const key = JSON.stringify([shard ?? null, shape, args])
  let collection = byKey.get(key)
  if (!collection) byKey.set(key, (collection = createCollection(shoalCollectionOptions({ client, shape, args, shard, firstRows, firstOrder }))))
  return collection
}

/** The rows of a shape, live: the result of TanStack DB's useLiveQuery over its collection. */
export function useShape(shape, args = {}, options = {}) {
  const client = useShoalClient()
  const key = JSON.stringify([options.shard ?? null, shape, args])
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `key` stands for shape, args and shard
  const collection = useMemo(() => shapeCollection(client, shape, args, options), [client, key])
  return useLiveQuery(collection)
}

/**
 * `{ mutate, pending, error }` for a bound mutator handle. `mutate(args)`
 * returns the handle's promise; `error` holds the last refusal (a ShoalError
 * with its `code`) until the next call.
 */
export function useMutator(handle) {
  const [state, setState] = useState({ pending: 0, error: null })
  const mounted = useRef(true)
  useEffect(() => {
    mounted.current = true
    return () => void (mounted.current = false)
  }, [])
  const mutate = useCallback(
    (args) => {
      setState((s) => ({ pending: s.pending + 1, error: null }))
      const done = handle(args)
      const settle = (error) => mounted.current && setState((s) => ({ pending: s.pending - 1, error: error ?? s.error }))
      // Also marks `done` handled: a caller that ignores it sees the error in `error`.
      done.then(() => settle(null), settle)
      return done
    },
    [handle],
  )
  return { mutate, pending: state.pending > 0, error: state.error }
}

/**
 * The client's `syncStatus`, live: `{ status, pending, shards }`, where `status` is "online",
 * "connecting" or "offline" and `pending` counts the mutations the server has not applied yet.
 */
export function useSyncStatus() {
  const client = useShoalClient()
  const subscribe = useCallback((onChange) => client.onStatus(onChange), [client])
  return useSyncExternalStore(subscribe, () => client.syncStatus)
}
