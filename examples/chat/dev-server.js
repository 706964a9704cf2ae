// Runs the example app as `bash scripts/dev.sh` does, for tests: `wrangler dev` with the
// repository's wrangler.toml (the Worker, the shard Durable Object and the page as static assets)
// and .dev.vars (the dev secret, SHOAL_DEV_TOKENS), on a free port, with a fresh persist dir of its own.
// The page is built first (web/build.js); the engine (build/engine.js) must be built.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApp } from './web/build.js'

/** The app's directory (its build, its page). */
export const root = fileURLToPath(new URL('./', import.meta.url))
/** Where wrangler runs it: the repository's root (wrangler.toml, .dev.vars). */
const repository = fileURLToPath(new URL('../../', import.meta.url))

async function freePort() {
  const server = net.createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

/** Starts the app; returns { url, stop(), log() }. */
export async function startDevServer({ timeoutMs = 90_000 } = {}) {
  if (!existsSync(join(root, 'build/engine.js'))) {
    throw new Error('examples/chat/build/engine.js is missing: run `mvn -B -q install -DskipTests` at the repository root first')
  }
  await buildApp({ dev: process.env.SHOAL_CHAT_BUILD === 'dev' })
  const wrangler = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin/wrangler.js')
  const persist = await mkdtemp(join(tmpdir(), 'shoal-chat-'))
  const port = await freePort()
  const output = []
  const child = spawn(
    process.execPath,
    [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', '0', '--persist-to', persist, '--show-interactive-dev-session=false'],
    {
      cwd: repository,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_UPDATE_NOTIFIER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: stop() ends wrangler and workerd together
    },
  )
  child.stdout.on('data', (d) => output.push(String(d)))
  child.stderr.on('data', (d) => output.push(String(d)))
  const exited = new Promise((r) => child.once('exit', r))
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }, 5000)
      await exited
      clearTimeout(timer)
    }
    await rm(persist, { recursive: true, force: true })
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output.join('')}`)
    try {
      if ((await fetch(url + '/')).status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`wrangler dev did not answer GET / within ${timeoutMs} ms:\n${output.join('')}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, stop, log: () => output.join('') }
}
