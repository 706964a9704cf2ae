// Anonymous identities: the Worker mints them (POST /anonymous, with SHOAL_ALLOW_ANONYMOUS=true):
// "anon:" + 128 random bits, as a token signed with its secret. The token is the identity's only
// credential: it is kept here and presented like any token. A client id names an outbox, not a
// person, so it never stands in for one.

import { ShoalError } from './errors.js'

/** Renew a token with less than this left (the Worker's tokens last 30 days). */
const RENEW_BEFORE_SEC = 7 * 24 * 3600

/**
 * Where the anonymous token is kept: localStorage in browsers (the identity survives a reload),
 * memory elsewhere. A store is `{ get(): Promise<{token, sub, exp} | null>, set(value | null) }`.
 * @returns {import('./index.js').AnonymousTokenStore}
 */
export function defaultAnonymousStore(baseUrl) {
  const key = `shoal-anonymous:${baseUrl}`
  const ls = globalThis.localStorage
  if (ls) {
    return {
      async get() {
        try {
          return JSON.parse(ls.getItem(key) ?? 'null')
        } catch {
          return null
        }
      },
      async set(value) {
        if (value) ls.setItem(key, JSON.stringify(value))
        else ls.removeItem(key)
      },
    }
  }
  let held = null
  return {
    async get() {
      return held
    },
    async set(value) {
      held = value
    },
  }
}

/**
 * A `getToken` for anonymous use: the kept token, renewed with the Worker shortly before it expires
 * (same identity), or a new identity minted when there is none (or it could not be renewed in time).
 * `forget()` drops the identity: the next call mints a new one.
 */
export function anonymousTokens({ baseUrl, store = defaultAnonymousStore(baseUrl), fetch = (...a) => globalThis.fetch(...a) }) {
  const endpoint = `${baseUrl.replace(/^ws/, 'http').replace(/\/+$/, '')}/anonymous`
  let inflight = null

  async function request(current) {
    const res = await fetch(endpoint, { method: 'POST', headers: current ? { authorization: `Bearer ${current.token}` } : {} })
    if (res.status === 404) throw new ShoalError('TOKEN_UNAVAILABLE', 'this server does not allow anonymous access (SHOAL_ALLOW_ANONYMOUS).')
    if (!res.ok) throw new ShoalError('TOKEN_UNAVAILABLE', `the server refused an anonymous token (HTTP ${res.status}).`)
    const { token, sub, exp } = await res.json()
    return { token, sub, exp }
  }

  async function refresh() {
    const current = await store.get()
    const nowSec = Date.now() / 1000
    if (current && current.exp - nowSec > RENEW_BEFORE_SEC) return current.token
    let next
    if (current && current.exp > nowSec) {
      try {
        next = await request(current)
      } catch (err) {
        // Offline, say: the kept token will do while it lasts.
        return current.token
      }
    } else {
      next = await request(null)
    }
    await store.set(next)
    return next.token
  }

  const getToken = () => (inflight ??= refresh().finally(() => (inflight = null)))
  getToken.forget = async () => {
    await inflight?.catch(() => {})
    await store.set(null)
  }
  return getToken
}
