// Type-checks the example app (src/, TSX) with tsc against shoal.gen.ts (the types codegen writes
// from the Java app) and the client packages' .d.ts: a mutator or shape renamed in Java, or a
// column gone, fails here.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

test('the example app type-checks against the generated types', () => {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  try {
    execFileSync(process.execPath, [tsc, '-p', 'web/tsconfig.json'], { cwd, encoding: 'utf8' })
  } catch (e) {
    assert.fail(`tsc found type errors:\n${e.stdout}${e.stderr}`)
  }
})

test('the page builds with esbuild', async () => {
  const { mkdtemp, readFile, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { buildApp } = await import('../web/build.js')
  const outdir = await mkdtemp(join(tmpdir(), 'shoal-chat-build-'))
  try {
    const result = await buildApp({ outdir })
    assert.deepEqual(result.errors, [])
    assert.match(await readFile(join(outdir, 'index.html'), 'utf8'), /<script type="module" src="\.\/app\.js">/)
    const app = await readFile(join(outdir, 'app.js'), 'utf8')
    assert.ok(app.length > 10_000)
    // One copy of TanStack DB in the bundle (root package.json "overrides"): two would give the
    // page two transaction stacks.
    const { sources } = JSON.parse(await readFile(join(outdir, 'app.js.map'), 'utf8'))
    const copies = new Set(sources.filter((s) => s.includes('/@tanstack/db/')).map((s) => s.slice(0, s.indexOf('/@tanstack/db/'))))
    assert.equal(copies.size, 1, `TanStack DB bundled from: ${[...copies].join(', ')}`)
  } finally {
    await rm(outdir, { recursive: true, force: true })
  }
})
