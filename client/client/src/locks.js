// One writer per outbox: a client holds the lock `shoal-outbox:<clientId>`
// for as long as it runs. Web Locks make that hold across tabs; without them
// (Node) the lock only excludes clients in the same process.

/**
 * @typedef {{ tryAcquire(name: string): Promise<null | (() => void)> }} Locks
 */

/** @param {LockManager} manager @returns {Locks} */
export function webLocks(manager) {
  return {
    tryAcquire(name) {
      return new Promise((resolve, reject) => {
        manager
          .request(name, { ifAvailable: true }, (lock) => {
            if (!lock) return resolve(null)
            // The lock is held until the promise returned here settles.
            return new Promise((release) => resolve(() => release()))
          })
          .catch(reject)
      })
    },
  }
}

// Shared through globalThis so two copies of this module still agree.
const HELD = (globalThis.__shoalHeldLocks ??= new Set())

/** @returns {Locks} */
export function processLocks() {
  return {
    async tryAcquire(name) {
      if (HELD.has(name)) return null
      HELD.add(name)
      return () => HELD.delete(name)
    },
  }
}

/** @returns {Locks} */
export function defaultLocks() {
  const manager = globalThis.navigator?.locks
  return manager ? webLocks(manager) : processLocks()
}
