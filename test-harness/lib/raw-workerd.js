// Runs a worker in workerd itself, not through Miniflare, for what Miniflare cannot set: V8 flags
// (`v8Flags` in workerd's config; e.g. --trace-deopt, --expose-gc). One worker of ES modules with
// one SQLite Durable Object class bound as SHARD, its storage on disk in a temporary directory.
// Everything workerd prints (V8's traces included) is collected in output().
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });

/** workerd's config (Cap'n Proto text): `modules` are names in `dir`, the first one the entry. */
function config(dir, port, modules, className, bindings, v8Flags) {
  const text = (name, value) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w), (name = "disk", disk = (path = ${JSON.stringify(path.join(dir, "store"))}, writable = true)) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
  v8Flags = [ ${v8Flags.map((f) => JSON.stringify(f)).join(", ")} ],
);
const w :Workerd.Worker = (
  modules = [ ${modules.map((name) => `(name = ${JSON.stringify(name)}, esModule = embed ${JSON.stringify(name)})`).join(", ")} ],
  compatibilityDate = "2025-04-01",
  durableObjectNamespaces = [ (className = ${JSON.stringify(className)}, uniqueKey = "raw", enableSql = true) ],
  durableObjectStorage = (localDisk = "disk"),
  bindings = [ ${[`(name = "SHARD", durableObjectNamespace = ${JSON.stringify(className)})`, ...Object.entries(bindings).map(([k, v]) => text(k, v))].join(", ")} ],
);
`;
}

/**
 * Starts workerd with `modules` ({module name: file to copy}; the first is the entry, which exports
 * `className`), text `bindings` and `v8Flags`; resolves once it answers HTTP.
 * Returns { url, wsUrl, output() (what workerd printed so far), stop() }.
 */
export async function startRawWorkerd({ modules, className = "ShardDO", bindings = {}, v8Flags = [] }) {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-raw-workerd-"));
  mkdirSync(path.join(dir, "store"));
  for (const [name, file] of Object.entries(modules)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    copyFileSync(file, path.join(dir, name));
  }
  const port = await freePort();
  writeFileSync(path.join(dir, "config.capnp"), config(dir, port, Object.keys(modules), className, bindings, v8Flags));
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve("workerd/package.json")), "bin/workerd");
  // V8 prints its traces through C stdio, which holds a pipe's output back in 4 KB blocks: stdbuf
  // (coreutils) unbuffers it, so output() has what happened up to now.
  const child = spawn("stdbuf", ["-o0", "-e0", bin, "serve", "--experimental", "config.capnp"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  // workerd waits for open WebSockets on SIGTERM: it is killed outright.
  const kill = () => child.kill("SIGKILL");
  process.on("exit", kill);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (i > 100 || child.exitCode !== null) {
        kill();
        throw new Error(`workerd did not start: ${out.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    wsUrl: url.replace(/^http/, "ws"),
    output: () => out,
    stop: async () => {
      kill();
      process.off("exit", kill);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The functions V8 deoptimized because a garbage collection cleared an object their optimized code
 * embedded (`--trace-deopt` output): {function name: times}.
 */
export function weakObjectDeopts(trace) {
  const weak = new Map();
  for (const m of trace.matchAll(/SharedFunctionInfo ([^>]+)>\) \(opt id \d+\) for deoptimization, reason: embedded weak objects cleared/g)) {
    weak.set(m[1], (weak.get(m[1]) ?? 0) + 1);
  }
  return weak;
}
