// Type-checks @shoal/client's hand-written .d.ts by compiling test/types.check.ts with tsc
// (strict, the DOM's lib): the DOM's WebSocket must fit the `WebSocket` option without a cast.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

test('the .d.ts accepts the DOM WebSocket under strict, and types the status API', () => {
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', 'test/types.check.ts']
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd, encoding: 'utf8' })
  } catch (e) {
    assert.fail(`tsc found type errors:\n${e.stdout}${e.stderr}`)
  }
})
