// Benchmark: a reload of the example page over a row cache of 10,000 messages, in Chromium, to the
// first rows on screen. The app runs as `bash scripts/dev.sh` runs it (examples/chat/dev-server.js);
// a Node client seeds a channel with N messages, the page shows them once (filling its IndexedDB
// cache), then each run reloads the page with every socket to /sync refused, so only the cache can
// answer, and reads two moments relative to the navigation's start: the first message rows in the
// DOM, and the collection holding all N (the page renders the newest 200; the rest on demand).
// Prints figures; asserts nothing.
//
//   mvn -B -q install -DskipTests              # builds examples/chat/build/engine.js
//   node examples/chat/bench/reload.js         # 10,000 rows, 5 runs
//   node examples/chat/bench/reload.js --rows=2000 --runs=3

import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { WebSocket } from 'ws'
import { ShoalClient, memoryStorage } from '@shoal/client'
import { startDevServer } from '../dev-server.js'

const arg = (name, d) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d)
const ROWS = arg('rows', 10_000)
const RUNS = arg('runs', 5)
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)
if (!CHROMIUM) throw new Error('Chromium is not installed (apt-get install chromium)')

const server = await startDevServer()
const { chromium } = await import('playwright-core')
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] })
try {
  const context = await browser.newContext()
  // The first message row, and the moment all are there, relative to the navigation's start.
  await context.addInitScript((rows) => {
    // When the row cache's largest read (a getAll on its `rows` store) came back: the phase breakdown.
    const getAll = IDBObjectStore.prototype.getAll
    IDBObjectStore.prototype.getAll = function (...args) {
      const req = getAll.apply(this, args)
      if (this.name === 'rows') {
        req.addEventListener('success', () => {
          const n = req.result.reduce((a, b) => a + (typeof b === 'string' ? b.length : 0), 0)
          if (n > (window.__cacheReadChars ?? 0)) (window.__cacheReadChars = n), (window.__cacheReadMs = performance.now())
        })
      }
      return req
    }
    // Rendered rows, plus those the "Show earlier messages (n)" button holds back.
    window.__messagesTotal = () => {
      const shown = document.querySelectorAll('ul[aria-label="Messages"] li[data-id]').length
      const more = /\((\d+)\)/.exec(document.querySelector('button.earlier')?.textContent ?? '')
      return { shown, total: shown + (more ? Number(more[1]) : 0) }
    }
    new MutationObserver(() => {
      const { shown, total } = window.__messagesTotal()
      if (shown > 0 && window.__firstRowsMs === undefined) window.__firstRowsMs = performance.now()
      if (total >= rows && window.__allRowsMs === undefined) window.__allRowsMs = performance.now()
    }).observe(document, { childList: true, subtree: true, characterData: true })
  }, ROWS)
  const page = await context.newPage()
  await page.goto(server.url + '/')
  await page.getByLabel(/Your name/).fill('bench')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByLabel('New channel name').fill('big')
  await page.getByRole('button', { name: 'Create' }).click()
  await page.waitForURL(/#\/c\//)
  const channelId = /#\/c\/(.+)$/.exec(page.url())[1]

  // Seed from Node, as the same user (its own client id), in chunks, on the channel's shard (a
  // channel is its own shard: ChatApp's routes name it by channelId).
  const { token } = await (await fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"bench"}' })).json()
  const seeder = new ShoalClient({ baseUrl: server.url, WebSocket, getToken: () => token, storage: memoryStorage(), outboxMax: ROWS + 10, onError: () => {} })
  await page.getByText('No messages.').waitFor() // the channel exists on the server once its view is hydrated
  const t0 = Date.now()
  for (let i = 0; i < ROWS; i += 1000) {
    const chunk = []
    for (let j = i; j < Math.min(ROWS, i + 1000); j++) {
      chunk.push(seeder.mutate('sendMessage', { id: `m-${String(j).padStart(6, '0')}`, channelId, text: `message number ${j}, of an ordinary length for a chat` }, { shard: channelId }))
    }
    await Promise.all(chunk)
  }
  await seeder.close()
  console.log(`seeded ${ROWS} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  // Shown once online: the page's cache now holds them.
  await page.waitForFunction((rows) => window.__messagesTotal().total >= rows, ROWS, { timeout: 300_000 })
  const cachedRows = () => page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('shoal-cache')
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    const subs = await new Promise((resolve) => {
      const req = db.transaction('subs').objectStore('subs').getAll()
      req.onsuccess = () => resolve(req.result)
    })
    db.close()
    return Math.max(0, ...subs.filter((m) => m.shape === 'messagesByChannel').map((m) => m.rows))
  })
  for (const deadline = Date.now() + 120_000; (await cachedRows()) < ROWS; ) {
    if (Date.now() > deadline) throw new Error(`the cache holds ${await cachedRows()} rows, not ${ROWS}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  await page.routeWebSocket(/\/sync/, (ws) => ws.close()) // only the cache can answer
  const first = []
  const all = []
  const script = []
  const read = []
  for (let i = 0; i < RUNS; i++) {
    await page.reload()
    await page.waitForFunction(() => window.__allRowsMs !== undefined, null, { timeout: 120_000 })
    const m = await page.evaluate(() => ({
      first: window.__firstRowsMs,
      all: window.__allRowsMs,
      script: performance.getEntriesByType('resource').find((e) => e.name.endsWith('/app.js'))?.responseEnd,
      read: window.__cacheReadMs,
    }))
    first.push(m.first)
    all.push(m.all)
    script.push(m.script ?? NaN)
    read.push(m.read ?? NaN)
  }
  const summary = (ms) => {
    const s = [...ms].sort((a, b) => a - b)
    return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, min ${s[0].toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (${s.length} runs)`
  }
  console.log(`reload over a ${ROWS}-row cache, /sync refused, Chromium ${browser.version()}:`)
  console.log(`  navigation start -> app.js loaded:                 ${summary(script)}`)
  console.log(`  navigation start -> the cache's rows read (IndexedDB): ${summary(read)}`)
  console.log(`  navigation start -> first message rows in the DOM: ${summary(first)}`)
  console.log(`  navigation start -> all ${ROWS} rows in the collection (the newest 200 rendered): ${summary(all)}`)
  console.log(`date: ${new Date().toISOString()}`)
  console.log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model ?? '?'}; node ${process.version}`)
} finally {
  await browser.close()
  await server.stop()
}
