// Runs the real example worker (the shim + the TeaVM-compiled engine) in
// workerd through Miniflare, for tests and benchmarks.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { signHs256 } from "../../worker-shim/auth.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEV_SECRET = "shoal-test-secret-0123456789abcdef0123456789";

/**
 * Starts the worker on a free port. `persistDir` keeps Durable Object SQLite
 * files on disk (restart with the same dir to see the same data).
 * Returns { url, wsUrl, token(sub, claims?), mf, stop() }.
 */
export async function startWorker({ persistDir, bindings = {}, scriptPath = "worker-shim/index.js", className = "ShardDO" } = {}) {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, scriptPath),
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: "2025-04-01",
    durableObjects: { SHARD: { className, useSQLite: true } },
    durableObjectsPersist: persistDir ?? false,
    bindings: { SHOAL_JWT_SECRET: DEV_SECRET, ...bindings },
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    mf,
    token: (sub, claims = {}, ttlSec = 3600) =>
      signHs256({ sub, exp: Math.floor(Date.now() / 1000) + ttlSec, ...claims }, DEV_SECRET),
    stop: () => mf.dispose(),
  };
}
