// @shoal/db: TanStack DB collections synced by a Shoal shape, and mutators
// bound to a client with optional optimistic client twins.

import { createTransaction } from '@tanstack/db'

/**
 * Options for TanStack DB's `createCollection`, synced from one Shoal shape.
 * Each poke is one sync transaction (begin ... commit); a `reset` truncates;
 * the collection is ready after the first poke of the subscription.
 *
 * @param {import('./index.js').ShoalCollectionConfig} config
 */
export function shoalCollectionOptions(config) {
  const { client, shape, args = {}, shard, table, getKey = (row) => row.id, id, ...rest } = config
  if (!client || typeof client.subscribeShape !== 'function') {
    throw new TypeError(`shoalCollectionOptions(${shape}): \`client\` must be a ShoalClient.`)
  }
  if (typeof shape !== 'string') throw new TypeError('shoalCollectionOptions: `shape` (the shape\'s name) is required.')
  return {
    ...rest,
    id: id ?? `shoal:${shape}:${JSON.stringify(args)}`,
    getKey,
    sync: {
      // A put carries the whole row, never a patch.
      rowUpdateMode: 'full',
      sync: ({ begin, write, commit, markReady, markError, truncate }) => {
        const held = new Set() // keys of the rows this subscription holds, to tell insert from update
        let ready = false
        const unsubscribe = client.subscribeShape(
          shape,
          args,
          (change) => {
            begin()
            if (change.reset) {
              truncate()
              held.clear()
            }
            for (const op of change.rows) {
              if (table !== undefined && op.table !== table) continue
              if (op.op === 'put') {
                write({ type: held.has(op.id) ? 'update' : 'insert', value: op.doc })
                held.add(op.id)
              } else if (op.op === 'del' && held.delete(op.id)) {
                write({ type: 'delete', key: op.id })
              }
            }
            commit()
            if (!ready) {
              ready = true
              markReady()
            }
          },
          {
            shard,
            onError: (err) => {
              if (!ready) markError(err)
              else client.reportError(err) // the rows it has stay; nothing more comes for it
            },
          },
        )
        return unsubscribe
      },
    },
  }
}

/**
 * Bind mutators to a client. Each entry is either `true`/`null` (no client
 * twin: a plain round trip), a client twin `(tx, args) => void`, or
 * `{ client?: twin, shard?: string | (args) => string }`.
 *
 * With a twin, the call opens a TanStack DB transaction, runs the twin in it
 * (instant UI), and keeps it until a poke covering the mutation has been
 * handed to the collections' sync: TanStack DB then drops the optimistic
 * rows and shows the synced ones in the same frame. (It holds synced changes
 * while a transaction persists, so waiting for them to be *applied* would
 * wait forever.) A refused mutation rolls the optimistic change back and the
 * returned promise rejects with its ShoalError.
 *
 * @param {import('@shoal/client').ShoalClient} client
 * @param {{ collections?: Record<string, unknown> }} context the collections a twin may write, by name
 * @param {Record<string, unknown>} mutators
 */
export function bindMutators(client, { collections = {} } = {}, mutators) {
  const handles = {}
  for (const [name, def] of Object.entries(mutators)) {
    const twin = typeof def === 'function' ? def : def?.client
    const shardOf = typeof def === 'object' && def ? def.shard : undefined
    const handle = (args = {}) => {
      const shard = typeof shardOf === 'function' ? shardOf(args) : shardOf
      const send = () => client.mutate(name, args, { shard })
      if (!twin) return send()
      const tx = createTransaction({ autoCommit: false, mutationFn: send })
      try {
        tx.mutate(() => twin(collections, args))
      } catch (err) {
        // The twin refused (e.g. its own check failed): nothing is sent.
        tx.rollback()
        return Promise.reject(err)
      }
      // A twin that wrote nothing leaves an empty transaction, which TanStack
      // DB would complete without calling mutationFn: send it plainly.
      if (tx.mutations.length === 0) return send()
      return tx.commit().then(() => undefined)
    }
    handle.mutatorName = name
    handles[name] = handle
  }
  replayAdopted(client, collections, mutators)
  return handles
}

// Clients whose adopted mutations already had their twins run again (bindMutators may be called more than once).
const replayed = new WeakMap()

/**
 * After a reload, the outbox a client adopted still holds the previous page's unconfirmed
 * mutations: run their client twins again, each in a transaction that lasts until the mutation
 * lands (or is refused), so the view after a reload is the view before it. A twin that throws (its
 * row is already there, say) only skips the optimistic change; the mutation is sent all the same.
 */
function replayAdopted(client, collections, mutators) {
  if (typeof client.adoptedMutations !== 'function') return
  let done = replayed.get(client)
  if (!done) replayed.set(client, (done = new Set()))
  client
    .adoptedMutations()
    .then((adopted) => {
      for (const m of adopted) {
        const def = mutators[m.name]
        const twin = typeof def === 'function' ? def : def?.client
        const key = `${m.shard}\u0000${m.id}`
        if (!twin || done.has(key)) continue
        done.add(key)
        const tx = createTransaction({ autoCommit: false, mutationFn: () => m.done })
        try {
          tx.mutate(() => twin(collections, m.args))
        } catch {
          tx.rollback()
          continue
        }
        if (tx.mutations.length === 0) continue
        tx.commit().catch(() => {}) // a refusal is reported by the client (onError)
      }
    })
    .catch(() => {}) // a client that failed to start reports that itself
}
