// Type-checks the hand-written .d.ts files of the three packages by compiling
// test/types.check.tsx (a typical app's use of them) with tsc.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

test('the .d.ts files type-check a typical app', () => {
  const pkg = createRequire(import.meta.url).resolve('typescript/package.json')
  const tsc = join(dirname(pkg), 'bin', 'tsc')
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const args = ['--noEmit', '--strict', '--jsx', 'react-jsx', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', 'test/types.check.tsx']
  try {
    execFileSync(process.execPath, [tsc, ...args], { cwd, encoding: 'utf8' })
  } catch (e) {
    assert.fail(`tsc found type errors:\n${e.stdout}${e.stderr}`)
  }
})
