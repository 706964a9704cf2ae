// Runs a real Shoal app's worker in workerd through Miniflare, for tests and benchmarks: by
// default the example chat (examples/chat/worker/index.js: @shoal/worker around the app's
// TeaVM-compiled engine). The entry is bundled first, as wrangler bundles it (esbuild, with the
// runtime's cloudflare:* modules left to workerd), so bare imports like "@shoal/worker" resolve.
import { Miniflare } from "miniflare";
import { build } from "esbuild";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { signHs256 } from "@shoal/worker/auth";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEV_SECRET = "shoal-test-secret-0123456789abcdef0123456789";
export const EXAMPLE_WORKER = "examples/chat/worker/index.js";

const bundles = new Map();

/**
 * The example's `routes` (each shape's and mutator's shard), read from its generated
 * web/src/shoal.gen.ts, so a test's client routes as the page's does and never drifts from codegen.
 */
export function exampleRoutes() {
  const ts = readFileSync(path.resolve(root, "examples/chat/web/src/shoal.gen.ts"), "utf8");
  const m = /export const routes = (\{[\s\S]*?\n\}) as const;/.exec(ts);
  if (!m) throw new Error("examples/chat/web/src/shoal.gen.ts has no routes: regenerate it");
  return JSON.parse(m[1].replace(/([A-Za-z_$][\w$]*):/g, '"$1":').replace(/,(\s*[}\]])/g, "$1"));
}

/** The entry bundled into one ES module (once per process and entry); its path. */
export async function bundle(entry) {
  const source = path.resolve(root, entry);
  if (!bundles.has(source)) {
    const outfile = path.join(mkdtempSync(path.join(tmpdir(), "shoal-worker-")), "worker.js");
    bundles.set(source, build({
      entryPoints: [source],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: ["cloudflare:*"],
      outfile,
      logLevel: "warning",
    }).then(() => outfile));
  }
  return bundles.get(source);
}

/**
 * Starts the worker on a free port. `persistDir` keeps Durable Object SQLite
 * files and the D1 database on disk (restart with the same dir to see the same data). The
 * global tables live in Miniflare's local D1, bound as DB (as wrangler.toml binds it).
 * `inspectorPort` opens workerd's V8 inspector there (benchmarks read the heap through it).
 * Returns { url, wsUrl, token(sub, claims?), mf, inspectorPort, stop() }.
 */
export async function startWorker({ persistDir, bindings = {}, scriptPath = EXAMPLE_WORKER, className = "ShardDO", inspectorPort } = {}) {
  const script = await bundle(scriptPath);
  const mf = new Miniflare({
    modules: true,
    modulesRoot: path.dirname(script),
    scriptPath: script,
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: "2025-04-01",
    durableObjects: { SHARD: { className, useSQLite: true } },
    durableObjectsPersist: persistDir ?? false,
    d1Databases: { DB: "shoal-test-d1" },
    d1Persist: persistDir ? path.join(persistDir, "d1") : false,
    bindings: { SHOAL_JWT_SECRET: DEV_SECRET, ...bindings },
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    mf,
    inspectorPort,
    token: (sub, claims = {}, ttlSec = 3600) =>
      signHs256({ sub, exp: Math.floor(Date.now() / 1000) + ttlSec, ...claims }, DEV_SECRET),
    /** A shard's counters (engine and D1 mirror), from the object's internal endpoint, unreachable from outside the Worker. */
    stats: async (shard) => {
      const ns = await mf.getDurableObjectNamespace("SHARD");
      return (await ns.get(ns.idFromName(shard)).fetch("http://do/__shoal/stats")).json();
    },
    stop: () => mf.dispose(),
  };
}
