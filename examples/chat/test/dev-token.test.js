// POST /dev/token: the development-only token endpoint the example page signs in with. It answers
// only when SHOAL_DEV_TOKENS is "true" (.dev.vars); anywhere else it is a plain 404. The real
// worker in workerd through Miniflare (test-harness/lib/worker.js).

import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, test } from 'node:test'
import { connect } from '../../../test-harness/lib/socket.js'
import { startWorker } from '../../../test-harness/lib/worker.js'

let off, on
before(async () => {
  ;[off, on] = await Promise.all([startWorker(), startWorker({ bindings: { SHOAL_DEV_TOKENS: 'true' } })])
}, { timeout: 120_000 })
after(async () => {
  await off?.stop()
  await on?.stop()
})

const mint = (worker, body, init = {}) =>
  fetch(`${worker.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init })

test('without SHOAL_DEV_TOKENS="true" the route does not exist', async () => {
  for (const res of [await mint(off, { sub: 'alice' }), await fetch(`${off.url}/dev/token`)]) {
    assert.equal(res.status, 404)
    assert.equal(await res.text(), 'not found\n')
  }
  const truthy = await startWorker({ bindings: { SHOAL_DEV_TOKENS: '1' } })
  try {
    assert.equal((await mint(truthy, { sub: 'alice' })).status, 404, 'only the exact string "true" turns it on')
  } finally {
    await truthy.stop()
  }
})

test('with SHOAL_DEV_TOKENS="true" it mints a token the Worker accepts for that user', async () => {
  const res = await mint(on, { sub: 'dana' })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const { token, exp } = await res.json()
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'))
  assert.equal(claims.sub, 'dana')
  assert.equal(claims.exp, exp)
  assert.ok(exp > Date.now() / 1000 + 3600)
  const s = await connect(on, { token, client: 'devtoken1', shard: 'dana-c' }) // the channel's shard
  await s.type('connected')
  s.send({ type: 'push', mutations: [{ id: 1, name: 'createChannel', args: { id: 'dana-c', name: 'mine' } }] })
  const { results } = await s.type('pushResult')
  assert.equal(results[0].status, 'ok', 'the token is dana: her insert policy (createdBy = me) passes')
  await s.close()
})

test('it refuses what is not a plain POST of a user name', async () => {
  assert.equal((await fetch(`${on.url}/dev/token`)).status, 405)
  assert.equal((await fetch(`${on.url}/dev/token`, { method: 'POST', body: 'not json' })).status, 400)
  for (const sub of ['', 'x'.repeat(129), 'a\nb', 'anon:x', 42, null]) {
    assert.equal((await mint(on, { sub })).status, 400, JSON.stringify(sub))
  }
  const noSecret = await startWorker({ bindings: { SHOAL_DEV_TOKENS: 'true', SHOAL_JWT_SECRET: '' } })
  try {
    assert.equal((await mint(noSecret, { sub: 'alice' })).status, 500)
  } finally {
    await noSecret.stop()
  }
})

test('only .dev.vars turns it on: wrangler.toml (what deploys) never does', async () => {
  const toml = await readFile(new URL('../../../wrangler.toml', import.meta.url), 'utf8')
  assert.doesNotMatch(toml, /SHOAL_DEV_TOKENS/)
  const devVars = await readFile(new URL('../../../.dev.vars', import.meta.url), 'utf8')
  assert.match(devVars, /^SHOAL_DEV_TOKENS=true$/m)
})
