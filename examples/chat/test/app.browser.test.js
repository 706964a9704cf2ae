// The example chat in Chromium (Debian's package, driven by playwright-core) against the app as
// `bash scripts/dev.sh` runs it: `wrangler dev` with wrangler.toml (the Worker, the shard Durable
// Object, the page as static assets) and .dev.vars, a fresh database. People are browser contexts:
// each its own storage (IndexedDB outbox, localStorage sign-in) and its own network switch.
// Skipped where Chromium is not installed, unless SHOAL_REQUIRE_BROWSER=1.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { WebSocket } from 'ws'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync)
// scripts/test.sh sets SHOAL_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip.
const required = process.env.SHOAL_REQUIRE_BROWSER === '1'
const skip = required ? false : !CHROMIUM ? 'Chromium is not installed (apt-get install chromium)' : false

let server, browser
const people = {} // name -> { context, page }

before(async () => {
  if (skip) return
  if (!CHROMIUM) throw new Error('SHOAL_REQUIRE_BROWSER=1 but Chromium is not installed: apt-get install chromium')
  const { startDevServer } = await import('../dev-server.js')
  server = await startDevServer()
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] })
}, { timeout: 180_000 })

after(async () => {
  await browser?.close()
  await server?.stop()
})

/** Polls `check` (which may throw an assertion) until it passes. */
async function eventually(check, what, ms = 15_000) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${err.message}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A person with a browser context of their own, signed in through the page's form. */
async function person(name) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const problems = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  // The browser logs each socket that cannot open while offline: expected, not a problem.
  page.on('console', (m) => m.type() === 'error' && !/WebSocket connection to .* failed/.test(m.text()) && problems.push(`console: ${m.text()}`))
  await page.goto(server.url + '/')
  await page.getByLabel(/Your name/).fill(name)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByTestId('me').filter({ hasText: name }).waitFor()
  people[name] = { context, page, problems }
  return people[name]
}

const connection = (page) => page.getByRole('status').getAttribute('data-state')
const unsent = async (page) => Number(await page.getByTestId('unsent').getAttribute('data-count'))
const channelNames = (page) => page.locator('nav[aria-label="Channels"] a').allInnerTexts()
const messageTexts = (page) => page.locator('ul[aria-label="Messages"] li[data-id] .text').allInnerTexts()
const memberNames = (page) => page.locator('ul[aria-label="Members"] li').evaluateAll((lis) => lis.map((li) => li.dataset.user))
const alerts = (page) => page.getByRole('alert').allInnerTexts()
const clientId = async (page) => (await page.getByRole('status').getAttribute('title'))?.replace(/^client /, '')

/** The server's last applied mutation id for (user, client) on `shard` (a channel's), read over a raw socket. */
async function lastMutationId(user, client, shard) {
  const { token } = await (await fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub: user }) })).json()
  const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/sync?client=${client}&v=1&shard=${shard}`, { headers: { authorization: `Bearer ${token}` } })
  try {
    return await new Promise((resolve, reject) => {
      ws.once('error', reject)
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data))
        if (frame.type === 'connected') resolve(frame.lastMutationId)
      })
    })
  } finally {
    ws.close()
  }
}

let channelId // the channel alice makes, used by the tests after the first

test('the Worker serves the page, mints dev tokens at POST /dev/token, and still routes /sync', { skip, timeout: 30_000 }, async () => {
  const page = await fetch(server.url + '/')
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<div id="root">/)
  const app = await fetch(server.url + '/app.js')
  assert.equal(app.status, 200)
  // Any other path a browser navigates to is the page too (the channel lives in the hash).
  assert.equal((await fetch(server.url + '/no/such/file', { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' } })).status, 200)
  const minted = await fetch(server.url + '/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"alice"}' })
  assert.equal(minted.status, 200)
  const { token, exp } = await minted.json()
  assert.equal(JSON.parse(atob(token.split('.')[1])).sub, 'alice')
  assert.ok(exp > Date.now() / 1000)
  assert.equal((await fetch(server.url + '/dev/token')).status, 405)
  assert.equal((await fetch(server.url + '/sync')).status, 426, '/sync reaches the Worker, not the assets')
})

test('alice creates a channel and adds bob; bob sees it and alice\'s message live', { skip, timeout: 60_000 }, async () => {
  const alice = await person('alice')
  const bob = await person('bob')
  await eventually(async () => assert.equal(await connection(alice.page), 'online'), 'alice online')

  await alice.page.getByLabel('New channel name').fill('general')
  await alice.page.getByRole('button', { name: 'Create' }).click()
  await eventually(async () => assert.deepEqual(await channelNames(alice.page), ['# general']), 'the channel in alice\'s list')
  channelId = /#\/c\/(.+)$/.exec(alice.page.url())[1]
  await eventually(async () => assert.deepEqual(await memberNames(alice.page), ['alice']), 'alice as the first member')

  await alice.page.getByLabel('Add member').fill('bob')
  await alice.page.getByRole('button', { name: 'Add', exact: true }).click()
  await eventually(async () => assert.deepEqual(await memberNames(alice.page), ['alice', 'bob']), 'bob in the members')

  // Bob's list is live: the channel appears without a reload.
  await eventually(async () => assert.deepEqual(await channelNames(bob.page), ['# general']), 'the channel in bob\'s list')
  await bob.page.getByRole('link', { name: '# general' }).click()
  await eventually(async () => assert.deepEqual(await memberNames(bob.page), ['alice', 'bob']), 'the members on bob\'s page')

  await alice.page.getByLabel('Message', { exact: true }).fill('hello bob')
  await alice.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.deepEqual(await messageTexts(bob.page), ['hello bob']), 'the message on bob\'s page')
  await eventually(async () => assert.equal(await unsent(alice.page), 0), 'alice\'s outbox to empty')
  assert.deepEqual([...(await alerts(alice.page)), ...(await alerts(bob.page))], [])
})

test('bob offline: his messages show at once, then land exactly once when he is back, and alice sees them', { skip, timeout: 60_000 }, async () => {
  const { alice, bob } = people
  await bob.context.setOffline(true)
  await eventually(async () => assert.equal(await connection(bob.page), 'offline'), 'bob\'s page to say offline')
  for (const text of ['offline one', 'offline two']) {
    await bob.page.getByLabel('Message', { exact: true }).fill(text)
    await bob.page.getByRole('button', { name: 'Send' }).click()
  }
  assert.deepEqual(await messageTexts(bob.page), ['hello bob', 'offline one', 'offline two'], 'visible locally at once')
  assert.equal(await bob.page.locator('ul[aria-label="Messages"] li.pending').count(), 2, 'marked as sending')
  await eventually(async () => assert.equal(await unsent(bob.page), 2), 'two unsent in bob\'s outbox')
  await new Promise((r) => setTimeout(r, 500))
  assert.deepEqual(await messageTexts(alice.page), ['hello bob'], 'nothing reached alice while bob is offline')

  await bob.context.setOffline(false)
  await eventually(async () => assert.equal(await unsent(bob.page), 0), 'bob\'s outbox to empty')
  await eventually(async () => assert.deepEqual(await messageTexts(alice.page), ['hello bob', 'offline one', 'offline two']), 'alice to see both, once each')
  assert.equal(await connection(bob.page), 'online')
  // The outbox empties at the pushResult; the rows stop showing "sending" when the poke that
  // confirms them is applied, a moment later: waited for, not checked at once.
  await eventually(async () => assert.equal(await bob.page.locator('ul[aria-label="Messages"] li.pending').count(), 0), 'bob\'s rows confirmed')
  assert.deepEqual(await messageTexts(bob.page), ['hello bob', 'offline one', 'offline two'])
  assert.equal(await lastMutationId('bob', await clientId(bob.page), channelId), 2, 'each applied once')
  assert.deepEqual([...(await alerts(alice.page)), ...(await alerts(bob.page))], [])
})

test('a page closed offline with an unsent message: the next page adopts its outbox and it lands once', { skip, timeout: 60_000 }, async () => {
  const { alice, bob } = people
  const before = await clientId(bob.page)
  await bob.context.setOffline(true)
  await eventually(async () => assert.equal(await connection(bob.page), 'offline'), 'bob\'s page to say offline')
  await bob.page.getByLabel('Message', { exact: true }).fill('written before the reload')
  await bob.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.equal(await unsent(bob.page), 1), 'the message persisted in the outbox')
  // The page cannot load offline (the Worker serves it): it closes while offline, and the next
  // one opens once the network is back.
  await bob.page.close()
  await bob.context.setOffline(false)
  bob.page = await bob.context.newPage()
  await bob.page.goto(`${server.url}/#/c/${channelId}`)
  await bob.page.getByTestId('me').filter({ hasText: 'bob' }).waitFor() // still signed in
  await eventually(async () => assert.equal(await clientId(bob.page), before), 'the new page to adopt the outbox')
  const expected = ['hello bob', 'offline one', 'offline two', 'written before the reload']
  await eventually(async () => assert.deepEqual(await messageTexts(alice.page), expected), 'alice to see the replayed message')
  await eventually(async () => assert.deepEqual(await messageTexts(bob.page), expected), 'bob to see it synced')
  await eventually(async () => assert.equal(await unsent(bob.page), 0), 'bob\'s outbox to empty')
  assert.equal(await lastMutationId('bob', before, channelId), 3, 'applied once')
})

test('a non-member sees nothing of the channel, and a message from them is refused with FORBIDDEN', { skip, timeout: 60_000 }, async () => {
  const { alice } = people
  const carol = await person('carol')
  await eventually(async () => assert.equal(await connection(carol.page), 'online'), 'carol online')
  await carol.page.getByText('No channels yet.').waitFor()
  await carol.page.goto(`${server.url}/#/c/${channelId}`)
  await carol.page.getByText('(not one of your channels)').waitFor()
  await carol.page.getByText('No messages.').waitFor()
  assert.deepEqual(await messageTexts(carol.page), [])
  assert.deepEqual(await memberNames(carol.page), [])

  await carol.page.getByLabel('Message', { exact: true }).fill('let me in')
  await carol.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.match((await alerts(carol.page)).join('\n'), /FORBIDDEN/), 'the refusal shown')
  await eventually(async () => assert.deepEqual(await messageTexts(carol.page), []), 'the optimistic message rolled back')
  assert.deepEqual(await channelNames(carol.page), [])
  await new Promise((r) => setTimeout(r, 300))
  assert.ok(!(await messageTexts(alice.page)).includes('let me in'))
})

test('name and topic edited at once by two members (one offline) both survive', { skip, timeout: 60_000 }, async () => {
  const { alice, bob } = people
  await bob.context.setOffline(true)
  await eventually(async () => assert.equal(await connection(bob.page), 'offline'), 'bob\'s page to say offline')
  await bob.page.getByRole('button', { name: 'Edit' }).click()
  await bob.page.getByLabel('Topic', { exact: true }).fill('weekly plans')
  await bob.page.getByRole('button', { name: 'Save' }).click()
  await eventually(async () => assert.equal(await bob.page.getByTestId('channel-topic').innerText(), 'weekly plans'), 'bob\'s topic shown at once')

  await alice.page.getByRole('button', { name: 'Edit' }).click()
  await alice.page.getByLabel('Channel name', { exact: true }).fill('team')
  await alice.page.getByRole('button', { name: 'Save' }).click()
  await eventually(async () => assert.deepEqual(await channelNames(alice.page), ['# team']), 'the new name on alice\'s page')

  await bob.context.setOffline(false)
  for (const page of [alice.page, bob.page]) {
    await eventually(async () => {
      assert.deepEqual(await channelNames(page), ['# team'])
      assert.equal(await page.getByTestId('channel-topic').innerText(), 'weekly plans')
    }, 'both edits on both pages')
  }
})

/** The outbox records in the page's IndexedDB (@shoal/client's default storage), as JSON text. */
const storedOutboxes = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('shoal', 1)
        open.onupgradeneeded = () => open.result.createObjectStore('outboxes', { keyPath: 'clientId' })
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const all = open.result.transaction('outboxes').objectStore('outboxes').getAll()
          all.onsuccess = () => (open.result.close(), resolve(JSON.stringify(all.result)))
          all.onerror = () => reject(all.error)
        }
      }),
  )

test('signing out with an unsent message leaves nothing of it in the browser', { skip, timeout: 60_000 }, async () => {
  const dave = await person('dave')
  await eventually(async () => assert.equal(await connection(dave.page), 'online'), 'dave online')
  await dave.page.getByLabel('New channel name').fill('drafts')
  await dave.page.getByRole('button', { name: 'Create' }).click()
  await eventually(async () => assert.deepEqual(await channelNames(dave.page), ['# drafts']), 'the channel, opened')
  await eventually(async () => assert.equal(await unsent(dave.page), 0), 'the channel saved')
  await dave.context.setOffline(true)
  await eventually(async () => assert.equal(await connection(dave.page), 'offline'), 'dave offline')
  await dave.page.getByLabel('Message', { exact: true }).fill('a draft nobody else may read')
  await dave.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.equal(await unsent(dave.page), 1), 'the message persisted in the outbox')
  assert.match(await storedOutboxes(dave.page), /a draft nobody else may read/, 'it is in IndexedDB before the sign-out')

  await dave.page.getByRole('button', { name: 'Sign out' }).click()
  await dave.page.getByLabel(/Your name/).waitFor()
  await eventually(async () => assert.equal(await storedOutboxes(dave.page), '[]'), 'the outbox to be deleted')
  assert.equal(await dave.page.evaluate(() => localStorage.getItem('shoal-chat:auth')), null, 'and the sign-in')
  await dave.context.setOffline(false)
  await dave.context.close()
  delete people.dave
})

const authorNames = (page) => page.locator('ul[aria-label="Messages"] li[data-id] .author').allInnerTexts()

test('two channels on two shards in one list; a display name set on one shard shows on the others, live', { skip, timeout: 90_000 }, async () => {
  const { alice, bob } = people
  await alice.page.getByLabel('New channel name').fill('random')
  await alice.page.getByRole('button', { name: 'Create' }).click()
  await eventually(async () => assert.deepEqual(await channelNames(alice.page), ['# random', '# team']), 'both channels in alice\'s list')
  const second = /#\/c\/(.+)$/.exec(alice.page.url())[1]
  assert.notEqual(second, channelId, 'channel c lives on shard c: two channels, two shards')
  await alice.page.getByLabel('Add member').fill('bob')
  await alice.page.getByRole('button', { name: 'Add', exact: true }).click()
  // Bob's list spans both shards: it is the global index the channel mutators keep.
  await eventually(async () => assert.deepEqual(await channelNames(bob.page), ['# random', '# team']), 'both channels in bob\'s list')
  await bob.page.getByRole('link', { name: '# random' }).click()
  await bob.page.getByLabel('Message', { exact: true }).fill('hi from random')
  await bob.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.deepEqual(await messageTexts(alice.page), ['hi from random']), 'bob\'s message on alice\'s page')
  assert.equal(await lastMutationId('bob', await clientId(bob.page), second), 1, 'bob\'s first mutation on the second shard: one outbox per shard')

  // Alice names herself (a global profile, written through __root__); bob sees it in both channels.
  await alice.page.getByLabel('Display name').fill('Alice Liddell')
  await alice.page.getByRole('button', { name: 'Set name' }).click()
  await eventually(async () => assert.equal(await alice.page.getByTestId('me').innerText(), 'Alice Liddell'), 'alice\'s own name at once')
  await eventually(async () => assert.match((await bob.page.locator('ul[aria-label="Members"] li[data-user="alice"]').innerText()), /Alice Liddell/), 'her name in bob\'s members of random')
  await bob.page.getByRole('link', { name: '# team' }).click()
  await eventually(async () => assert.ok((await authorNames(bob.page)).includes('Alice Liddell')), 'her name on her messages in team')
  assert.deepEqual([...(await alerts(alice.page)), ...(await alerts(bob.page))], [])
  await alice.page.getByRole('link', { name: '# team' }).click()
})

test('removing bob takes the channel and its messages off his page', { skip, timeout: 60_000 }, async () => {
  const { alice, bob } = people
  await alice.page.getByRole('button', { name: 'Remove bob' }).click()
  await eventually(async () => assert.deepEqual(await memberNames(alice.page), ['alice']), 'bob gone from alice\'s members')
  await eventually(async () => assert.deepEqual(await channelNames(bob.page), ['# random']), 'the channel gone from bob\'s list')
  await eventually(async () => assert.deepEqual(await messageTexts(bob.page), []), 'the messages gone from bob\'s page')
  for (const { page, problems } of Object.values(people)) {
    if (page.isClosed()) continue
    assert.deepEqual(problems, [])
  }
  assert.deepEqual(await alerts(alice.page), [])
  assert.deepEqual(await alerts(bob.page), [])
})

test('local-first: a reload shows the last data with the sync endpoint unreachable; offline, the page opens, takes a write, and it lands once', { skip, timeout: 120_000 }, async () => {
  const dana = await person('dana')
  const erin = await person('erin')
  await eventually(async () => assert.equal(await connection(dana.page), 'online'), 'dana online')
  await dana.page.getByLabel('New channel name').fill('notes')
  await dana.page.getByRole('button', { name: 'Create' }).click()
  await eventually(async () => assert.deepEqual(await channelNames(dana.page), ['# notes']), 'the channel')
  const notes = /#\/c\/(.+)$/.exec(dana.page.url())[1]
  await dana.page.getByLabel('Add member').fill('erin')
  await dana.page.getByRole('button', { name: 'Add', exact: true }).click()
  await dana.page.getByLabel('Message', { exact: true }).fill('first note')
  await dana.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.deepEqual(await messageTexts(dana.page), ['first note']), 'the message')
  // Unsent 0 means the rows that confirm every write are in the cache (the outbox lets go after them).
  await eventually(async () => assert.equal(await unsent(dana.page), 0), 'dana\'s outbox to empty')
  await dana.page.evaluate(() => navigator.serviceWorker.ready.then(() => true))

  // The sync endpoint unreachable (every socket to /sync refused, on this page); the page itself still loads.
  await dana.page.routeWebSocket(/\/sync/, (ws) => ws.close())
  await dana.page.reload()
  await eventually(async () => assert.deepEqual(await channelNames(dana.page), ['# notes']), 'the channel from the cache')
  await eventually(async () => assert.deepEqual(await messageTexts(dana.page), ['first note']), 'the message from the cache')
  assert.notEqual(await connection(dana.page), 'online')
  await dana.page.close()

  // No network at all: the service worker opens the page, the cache shows the data, a write waits.
  await dana.context.setOffline(true)
  dana.page = await dana.context.newPage()
  await dana.page.goto(`${server.url}/#/c/${notes}`)
  await dana.page.getByTestId('me').filter({ hasText: 'dana' }).waitFor()
  await eventually(async () => assert.deepEqual(await messageTexts(dana.page), ['first note']), 'the data, offline')
  assert.equal(await connection(dana.page), 'offline')
  await dana.page.getByLabel('Message', { exact: true }).fill('written offline')
  await dana.page.getByRole('button', { name: 'Send' }).click()
  await eventually(async () => assert.deepEqual(await messageTexts(dana.page), ['first note', 'written offline']), 'shown at once')
  await eventually(async () => assert.equal(await unsent(dana.page), 1), 'one unsent')

  await dana.context.setOffline(false)
  await eventually(async () => assert.equal(await unsent(dana.page), 0), 'dana\'s outbox to empty')
  await erin.page.goto(`${server.url}/#/c/${notes}`)
  await eventually(async () => assert.deepEqual(await messageTexts(erin.page), ['first note', 'written offline']), 'erin sees it, once')
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(await messageTexts(erin.page), ['first note', 'written offline'], 'still once')
  assert.deepEqual(await messageTexts(dana.page), ['first note', 'written offline'])
  assert.equal(await lastMutationId('dana', await clientId(dana.page), notes), 4, 'createChannel, addMember and two messages on the channel shard: each applied once')
  assert.deepEqual([...(await alerts(dana.page)), ...(await alerts(erin.page))], [])
})

test('sign-out purges the user\'s cached rows and outbox; the next user on the browser sees none of them', { skip, timeout: 60_000 }, async () => {
  const { page } = people.dana
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByLabel(/Your name/).waitFor()
  const left = await page.evaluate(async () => {
    const open = (name) => new Promise((resolve, reject) => {
      const req = indexedDB.open(name)
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
    const all = (db, store) => new Promise((resolve) => {
      if (!db.objectStoreNames.contains(store)) return resolve([])
      const req = db.transaction(store).objectStore(store).getAll()
      req.onsuccess = () => resolve(req.result)
    })
    const cache = await open('shoal-cache')
    const outbox = await open('shoal')
    return { subs: (await all(cache, 'subs')).filter((m) => m.userId === 'dana').length, rows: (await all(cache, 'rows')).length, outboxes: (await all(outbox, 'outboxes')).filter((r) => r.userId === 'dana').length }
  })
  assert.deepEqual(left, { subs: 0, rows: 0, outboxes: 0 })
  await page.getByLabel(/Your name/).fill('frank')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByTestId('me').filter({ hasText: 'frank' }).waitFor()
  await page.getByText('No channels yet.').waitFor()
  assert.deepEqual(await channelNames(page), [])
})
