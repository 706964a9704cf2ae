// Browser tests: real Chromium (Debian's package, driven by playwright-core),
// the real worker in workerd (test-harness/lib/worker.js), the client's
// browser defaults: IndexedDB storage, Web Locks, the browser's WebSocket
// with the token as a subprotocol. Skipped where Chromium is not installed,
// unless SHOAL_REQUIRE_BROWSER=1.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)
const harness = fileURLToPath(new URL('../../../test-harness/lib/', import.meta.url))
// scripts/test.sh sets SHOAL_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
const required = process.env.SHOAL_REQUIRE_BROWSER === '1'
const skip = required ? false : !CHROMIUM ? 'Chromium is not installed (apt-get install chromium)' : !existsSync(join(harness, 'worker.js')) ? 'no test harness' : false

const src = fileURLToPath(new URL('../src/', import.meta.url))
let worker, connectRaw, browser, site, routes

before(async () => {
  if (skip) return
  if (!CHROMIUM) throw new Error('SHOAL_REQUIRE_BROWSER=1 but Chromium is not installed: apt-get install chromium')
  const harnessWorker = await import(join(harness, 'worker.js'))
  worker = await harnessWorker.startWorker()
  routes = harnessWorker.exampleRoutes() // each channel's calls go to its own shard
  connectRaw = (await import(join(harness, 'socket.js'))).connect
  // The page's origin: serves the package's own ES modules, unbundled.
  site = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>shoal</title>')
    try {
      const body = await readFile(join(src, path.replace(/^\/src\//, '').replace(/\.\./g, '')))
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(body)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise((r) => site.listen(0, '127.0.0.1', r))
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, { timeout: 120_000 })
after(async () => {
  await browser?.close()
  site?.close()
  await worker?.stop()
})

const origin = () => `http://127.0.0.1:${site.address().port}/`

/** Starts a ShoalClient in the page with the browser defaults; returns its client id. */
function startClient(page, baseUrl, token) {
  return page.evaluate(
    async ({ baseUrl, token, routes }) => {
      const { ShoalClient } = await import('/src/index.js')
      window.errors = []
      window.client = new ShoalClient({ baseUrl, getToken: () => token, routes, reconnectMinMs: 50, onError: (e) => window.errors.push(e.message) })
      await window.client.ready
      return window.client.clientId
    },
    { baseUrl, token, routes },
  )
}

test('writes made offline survive a reload and land exactly once (IndexedDB, Web Locks)', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(origin())
  const token = await worker.token('alice')
  const channelId = `c${Date.now()}`

  // Offline: nothing listens on port 9.
  const before = await startClient(page, 'http://127.0.0.1:9', token)
  await page.evaluate(async (channelId) => {
    window.client.mutate('createChannel', { id: channelId, name: 'general' }).catch(() => {})
    for (const text of ['one', 'two']) window.client.mutate('sendMessage', { id: `${channelId}-${text}`, channelId, text }).catch(() => {})
    await new Promise((r) => setTimeout(r, 200)) // persisted in IndexedDB by now
  }, channelId)

  // A second tab meanwhile holds its own outbox: Web Locks keep the first one's.
  const tab2 = await context.newPage()
  await tab2.goto(origin())
  assert.notEqual(await startClient(tab2, worker.url, token), before)
  await tab2.close()

  await page.reload() // the page goes away with three writes unsent
  const after = await startClient(page, worker.url, token)
  assert.equal(after, before, 'the reloaded page adopted the outbox')
  const rows = await page.evaluate(
    (channelId) =>
      new Promise((resolve) => {
        const rows = new Map()
        window.client.subscribeShape('messagesByChannel', { channelId }, (c) => {
          for (const op of c.rows) op.op === 'put' ? rows.set(op.id, op.doc.text) : rows.delete(op.id)
          if (rows.size === 2) resolve([...rows.values()].sort())
        })
      }),
    channelId,
  )
  assert.deepEqual(rows, ['one', 'two'])
  const raw = await connectRaw(worker, { sub: 'alice', client: after, shard: channelId })
  assert.equal((await raw.type('connected')).lastMutationId, 3, 'each applied once')
  await raw.close()
  const errors = await page.evaluate(() => window.errors)
  assert.deepEqual(errors, [])
  for (const e of errors) assert.ok(!e.includes(token))
  await context.close()
})

test('Chromium\'s offline mode: the client leaves its open socket, counts the write made meanwhile, and is back at once', { skip, timeout: 60_000 }, async () => {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(origin())
  const token = await worker.token('alice')
  const channelId = `c${Date.now()}`
  await startClient(page, worker.url, token)
  const status = () => page.evaluate(() => `${window.client.status}/${window.client.pendingCount}`)
  const until = async (want, what) => {
    const deadline = Date.now() + 10_000
    while ((await status()) !== want) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${await status()}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  await page.evaluate(async (channelId) => {
    window.seen = []
    window.client.onStatus((s) => window.seen.push(s.status))
    await window.client.mutate('createChannel', { id: channelId, name: 'general' })
  }, channelId)
  await until('online/0', 'online')

  await context.setOffline(true) // the open socket stays open in Chromium: the client must leave it
  await until('offline/0', 'the offline event')
  await page.evaluate((channelId) => void (window.sent = window.client.mutate('sendMessage', { id: `${channelId}-m`, channelId, text: 'offline' })), channelId)
  await until('offline/1', 'the write counted')
  await new Promise((r) => setTimeout(r, 300))
  const raw = await connectRaw(worker, { sub: 'alice', client: await page.evaluate(() => window.client.clientId), shard: channelId })
  assert.equal((await raw.type('connected')).lastMutationId, 1, 'the write did not go out while offline')
  await raw.close()

  await context.setOffline(false)
  await page.evaluate(() => window.sent)
  await until('online/0', 'back online with the write landed')
  const seen = await page.evaluate(() => window.seen.filter((s, i, all) => s !== all[i - 1]))
  assert.deepEqual(seen.slice(seen.indexOf('offline')), ['offline', 'connecting', 'online'])
  assert.deepEqual(await page.evaluate(() => window.errors), [])
  await context.close()
})
