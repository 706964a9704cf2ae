// Signing in. Two ways:
// - dev: the page asks the Worker for a token with POST /dev/token {sub}. The Worker answers only
//   when SHOAL_DEV_TOKENS is "true" (.dev.vars, i.e. `bash scripts/dev.sh`); elsewhere it is a 404.
// - a token pasted in: any JWT the Worker accepts (your identity provider's).
// The sign-in is kept in localStorage so that a reload stays signed in (a real app would keep its
// identity provider's session instead: a token in localStorage is readable by any script on the page).

export type Auth =
  | { kind: 'dev'; user: string; token: string; exp: number }
  | { kind: 'token'; user: string; token: string }

const KEY = 'shoal-chat:auth'
/** A dev token is fetched again when it has less than this left. */
const REFRESH_BEFORE_SEC = 300

export function loadAuth(): Auth | null {
  try {
    const a = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Auth | null
    return a && typeof a.user === 'string' && typeof a.token === 'string' ? a : null
  } catch {
    return null
  }
}

export function saveAuth(auth: Auth | null): void {
  if (auth) localStorage.setItem(KEY, JSON.stringify(auth))
  else localStorage.removeItem(KEY)
}

/** Asks the Worker for a development token for `user`. */
export async function devSignIn(user: string): Promise<Auth> {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: user }),
  })
  if (res.status === 404) {
    throw new Error('This server does not hand out development tokens (SHOAL_DEV_TOKENS is off): paste a token instead.')
  }
  if (!res.ok) throw new Error(`Could not get a development token: ${(await res.text()).trim()}`)
  const { token, exp } = (await res.json()) as { token: string; exp: number }
  return { kind: 'dev', user, token, exp }
}

/** Signs in with a token from elsewhere; its `sub` claim names the user (the Worker verifies it). */
export function tokenSignIn(token: string): Auth {
  const user = subjectOf(token.trim())
  if (!user) throw new Error('That is not a JWT with a "sub" claim.')
  return { kind: 'token', user, token: token.trim() }
}

/** A fresh dev token for `auth`, kept (after the server refused the old one). */
export async function renew(auth: Auth & { kind: 'dev' }): Promise<Auth> {
  const fresh = await devSignIn(auth.user)
  if (fresh.kind === 'dev') {
    auth.token = fresh.token
    auth.exp = fresh.exp
    saveAuth(auth)
  }
  return auth
}

/** The token for a new socket: a dev token is renewed shortly before it expires. */
export async function currentToken(auth: Auth): Promise<string> {
  if (auth.kind === 'dev' && auth.exp - Date.now() / 1000 < REFRESH_BEFORE_SEC) {
    try {
      const fresh = await devSignIn(auth.user)
      if (fresh.kind === 'dev') {
        auth.token = fresh.token
        auth.exp = fresh.exp
        saveAuth(auth)
      }
    } catch (err) {
      // Offline, say: the old token will do while it lasts.
      if (auth.exp <= Date.now() / 1000) throw err
    }
  }
  return auth.token
}

function subjectOf(token: string): string | undefined {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const sub = JSON.parse(atob(payload)).sub
    return typeof sub === 'string' && sub ? sub : undefined
  } catch {
    return undefined
  }
}
