// Builds the page into web/dist/: web/src/main.tsx bundled by esbuild, and index.html beside it.
// wrangler.toml serves web/dist/ as the Worker's static assets; scripts/dev.sh runs this first.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "dist");
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  entryPoints: [join(here, "src/main.tsx")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  outfile: join(outdir, "app.js"),
  minify: true,
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  logLevel: "warning",
});
await copyFile(join(here, "index.html"), join(outdir, "index.html"));
