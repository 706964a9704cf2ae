// Builds the example chat's page into examples/chat/dist: web/src/main.tsx bundled by esbuild
// (React, TanStack DB and the Shoal packages included), index.html and the service worker (sw.js)
// beside it. The root wrangler.toml
// serves that folder as the Worker's static assets; scripts/dev.sh runs this first.
//
//   node examples/chat/web/build.js            # production React, minified, with a source map
//   node examples/chat/web/build.js --dev      # development React (its warnings), not minified
import { build } from 'esbuild'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** Builds the page into `outdir` (default examples/chat/dist); returns esbuild's result. */
export async function buildApp({ outdir = join(here, '..', 'dist'), dev = false } = {}) {
  await rm(outdir, { recursive: true, force: true })
  await mkdir(outdir, { recursive: true })
  const result = await build({
    entryPoints: [join(here, 'src/main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    outfile: join(outdir, 'app.js'),
    sourcemap: true,
    minify: !dev,
    define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
    logLevel: 'warning',
  })
  await copyFile(join(here, 'index.html'), join(outdir, 'index.html'))
  // The service worker that keeps the shell for offline opens (served from the root: its scope is the whole page).
  await copyFile(join(here, 'sw.js'), join(outdir, 'sw.js'))
  return result
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildApp({ dev: process.argv.includes('--dev') })
  console.log(`built ${join(here, '..', 'dist')}`)
}
