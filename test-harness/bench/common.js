// Shared by the benchmark scripts in this directory: a lean protocol socket,
// membership setup for the example app, percentiles and the machine line.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, totalmem, availableParallelism, loadavg, tmpdir, homedir } from "node:os";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createServer } from "node:net";
import WebSocket from "ws";
import { startWorker } from "../lib/worker.js";

/**
 * The benchmarks' app (test-harness/bench/app: every channel on one shard, membership read
 * policies), built on first use. The example chat shards each channel onto its own object, so a
 * benchmark of many channels' views on one shard needs this one.
 */
export const BENCH_WORKER = "test-harness/bench/app/worker/index.js";

/** Builds the bench app's engine when it is missing or older than the installed Shoal or its own source. */
export function buildBenchApp() {
  const mtime = (f) => {
    try {
      return statSync(f).mtimeMs;
    } catch {
      return 0;
    }
  };
  // The Shoal version, from the root pom: the artifacts the bench app builds against.
  const SHOAL_VERSION = /<shoal\.version>([^<]+)<\/shoal\.version>/.exec(readFileSync(path.join(root, "pom.xml"), "utf8"))[1];
  const engine = mtime(path.join(root, "test-harness/bench/app/build/engine.js"));
  const inputs = [
    path.join(homedir(), ".m2/repository/dev/shoal/shoal-do", SHOAL_VERSION, `shoal-do-${SHOAL_VERSION}.jar`),
    path.join(homedir(), ".m2/repository/dev/shoal/shoal-engine", SHOAL_VERSION, `shoal-engine-${SHOAL_VERSION}.jar`),
    path.join(root, "test-harness/bench/app/src/main/java/bench/BenchApp.java"),
  ];
  if (inputs.some((f) => mtime(f) > engine)) {
    execSync("mvn -B -q -f test-harness/bench/app/pom.xml package -DskipTests", { cwd: root, stdio: "inherit" });
  }
}

/**
 * The bench app's Worker entry bundled with @shoal/worker (worker/.profile-shim.js), the engine
 * left as its own module (`../build/engine.js`), so that a profile tells the engine's time from the
 * shim's. Returns the bundle's path.
 */
export async function benchShimBundle() {
  buildBenchApp();
  const { build } = await import("esbuild");
  const app = path.join(root, "test-harness/bench/app");
  const outfile = path.join(app, "worker", ".profile-shim.js");
  await build({ entryPoints: [path.join(app, "worker/index.js")], bundle: true, format: "esm", platform: "neutral", target: "es2022",
    external: ["cloudflare:*", "../build/engine.js"], outfile, logLevel: "warning" });
  return outfile;
}


export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Per-socket frame rate limits (SHOAL_RATE_PER_SEC/SHOAL_RATE_BURST, where the shim has them) are
// raised for the benchmarks: the throughput writers exceed them on purpose. A shim without them
// ignores the bindings.
export const NO_RATE_LIMIT = {
  SHOAL_RATE_PER_SEC: "1000000000",
  SHOAL_RATE_BURST: "1000000000",
  SHOAL_MUTATION_RATE_PER_SEC: "1000000000",
  SHOAL_MUTATION_BURST: "1000000000",
  // The scenarios open 1,000 sockets and 10,000 views of one identity on purpose.
  SHOAL_LIMITS: JSON.stringify({ socketsPerIdentityMax: 100000, viewsPerIdentityMax: 100000 }),
};
export const TEXT = "a message of ordinary length from the benchmark writer";

// ---- a lean protocol socket: timestamps on arrival, no frame log --------------

export class BenchSocket {
  static async open(worker, { sub, client, shard }) {
    // The bench app keeps its (unsharded) tables on __root__; each scenario gets a fresh system instead.
    const params = new URLSearchParams({ client, v: "1", shard: worker.rootOnly ? "__root__" : shard });
    const ws = new WebSocket(`${worker.wsUrl}/sync?${params}`, { headers: { authorization: `Bearer ${await worker.token(sub)}` }, perMessageDeflate: false });
    const s = new BenchSocket(ws);
    const connected = s.next("connected"); // may arrive in the same tick as "open"
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
    s.connected = await connected;
    return s;
  }

  constructor(ws) {
    this.ws = ws;
    this.waiters = [];
    this.poke = null;
    this.onRows = null; // (ids, t) at each pokeEnd, with the row ids of that poke
    this.onPushResult = null; // (results, t)
    this.onPokeEnd = null; // (frame, t)
    this.errors = [];
    ws.on("message", (data) => {
      const t = performance.now();
      const text = data.toString();
      if (text === "pong") return;
      const f = JSON.parse(text);
      switch (f.type) {
        case "pokeStart":
          this.poke = [];
          break;
        case "pokePart":
          for (const r of f.rows) this.poke.push(r.id);
          break;
        case "pokeEnd":
          if (this.onRows && this.poke.length) this.onRows(this.poke, t);
          this.poke = null;
          this.onPokeEnd?.(f, t);
          break;
        case "poke": // the one-frame form, should a server send it
          if (this.onRows) this.onRows(f.parts.flatMap((p) => p.rows.map((r) => r.id)), t);
          this.onPokeEnd?.(f, t);
          break;
        case "pushResult":
          this.onPushResult?.(f.results, t);
          break;
        case "error":
          this.errors.push(f);
          break;
      }
      for (const w of this.waiters.splice(0)) if (!w(f)) this.waiters.push(w);
    });
    ws.on("close", (code) => {
      this.closed = code;
      for (const w of this.waiters.splice(0)) w({ type: "__closed__", code });
    });
  }

  next(type, timeoutMs = 30000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs);
      this.waiters.push((f) => {
        if (f.type === "__closed__") {
          clearTimeout(timer);
          reject(new Error(`socket closed (${f.code}) waiting for ${type}`));
          return true;
        }
        if (Array.isArray(type) ? !type.includes(f.type) : f.type !== type) return false;
        clearTimeout(timer);
        resolve(f);
        return true;
      });
    });
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  async subscribe(id, channelId) {
    const end = this.next(["pokeEnd", "poke"]); // the answer's end, in either form
    this.send({ type: "subscribe", id, shape: "messagesByChannel", args: { channelId } });
    await end;
  }

  close() {
    if (this.closed !== undefined) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once("close", r);
      this.ws.close();
    });
  }
}

/**
 * Membership setup, untimed: `owner` (the writer of the scenario) creates `channelId` and adds every
 * identity of `readers` with addMember, at most 100 mutations per push, from its own client id
 * ("setup"), so that the writer's timed socket still starts at mutation id 1. Only on a system with
 * policies (shoal); the baseline has no channels or members and lets anyone post and read.
 */
export async function members(worker, shard, channelId, owner, readers) {
  if (!worker.policies) return;
  const o = await BenchSocket.open(worker, { sub: owner, client: "setup", shard });
  let id = o.connected.lastMutationId;
  const all = [{ name: "createChannel", args: { id: channelId, name: channelId } },
    ...readers.filter((m) => m !== owner).map((userId) => ({ name: "addMember", args: { channelId, userId } }))];
  for (let i = 0; i < all.length; i += 100) {
    const mutations = all.slice(i, i + 100).map((m) => ({ id: ++id, ...m }));
    const result = o.next("pushResult");
    o.send({ type: "push", mutations });
    const r = await result;
    const bad = r.results.find((x) => x.status !== "ok");
    if (bad) throw new Error(`membership setup refused: ${JSON.stringify(bad)}`);
  }
  await o.close();
}

/**
 * Sustained mutations/s on a fresh shard `tput-<key>`: `writers` writers keep `inFlight` pushes of
 * `batch` sendMessage mutations each in flight for `durationMs`, sending the next push as each
 * pushResult comes back; one subscriber holds the channel. The rate is confirmed mutations over the
 * time until the subscriber holds every row. Every mutation must be ok, or the result says `failed`.
 * The same load runs first for `warmupMs` on another channel of the shard, untimed: the worker's
 * isolate has then run the write path thousands of times, as one in use has.
 */
export async function sustainedWrites(worker, { key, writers: nWriters, batch, inFlight, durationMs, warmupMs = TPUT_WARMUP_MS, channelId = "tput" }) {
  if (warmupMs > 0) {
    const warm = await sustainedWrites(worker, { key, writers: nWriters, batch, inFlight, durationMs: warmupMs, warmupMs: 0, channelId: "tput-warmup" });
    if (warm.failed) return warm;
  }
  const shard = `tput-${key}`; // a fresh shard (Durable Object) per mode
  await members(worker, shard, channelId, "writer0", ["reader", ...Array.from({ length: nWriters }, (_, i) => `writer${i}`)]);
  const reader = await BenchSocket.open(worker, { sub: "reader", client: "r", shard });
  await reader.subscribe("s", channelId);
  const writers = [];
  for (let i = 0; i < nWriters; i++) writers.push(await BenchSocket.open(worker, { sub: `writer${i}`, client: `${channelId}-w${i}`, shard }));

  let running = true;
  let sent = 0;
  let ok = 0;
  let received = 0;
  let lastReceipt = 0;
  let lastConfirm = 0;
  const failures = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const maybeDone = () => {
    if (!running && received >= sent && writers.every((w) => w.outstanding === 0)) done();
  };
  reader.onRows = (ids, t) => {
    received += ids.length;
    lastReceipt = t;
    maybeDone();
  };
  for (const [i, w] of writers.entries()) {
    w.nextId = 1;
    w.outstanding = 0;
    w.pump = () => {
      while (running && w.outstanding < inFlight) {
        const mutations = [];
        for (let j = 0; j < batch; j++, w.nextId++) mutations.push(sendMessage(w.nextId, `m-${channelId}-${i}-${w.nextId}`, channelId));
        w.send({ type: "push", mutations });
        w.outstanding++;
        sent += batch;
      }
    };
    w.onPushResult = (results, t) => {
      w.outstanding--;
      lastConfirm = t;
      for (const r of results) {
        if (r.status === "ok") ok++;
        else failures.push(r);
      }
      if (failures.length) {
        running = false;
        done();
      }
      w.pump();
      maybeDone();
    };
  }
  const cpu0 = cpuMs(worker.pid);
  const t0 = performance.now();
  for (const w of writers) w.pump();
  const stopTimer = setTimeout(() => {
    running = false;
    maybeDone();
  }, durationMs);
  const watchdog = setTimeout(() => {
    failures.push({ status: "timeout", message: `confirmed ${ok}/${sent}, received ${received}` });
    running = false;
    done();
  }, durationMs + 60000);
  const closedEarly = Promise.race([reader, ...writers].map((s) => new Promise((r) => s.ws.once("close", (code) => r(code)))));
  await Promise.race([finished, closedEarly.then((code) => failures.push({ status: "closed", code }))]);
  const cpu1 = cpuMs(worker.pid);
  clearTimeout(stopTimer);
  clearTimeout(watchdog);
  const errors = [reader, ...writers].flatMap((s) => s.errors);
  const failed = [...failures];
  await Promise.all([reader, ...writers].map((s) => s.close()));
  if (failed.length || errors.length) {
    return { failed: JSON.stringify([...failed.slice(0, 2), ...errors.slice(0, 2)]) };
  }
  return {
    mutations: ok,
    perSecond: ok / ((lastReceipt - t0) / 1000), // until the subscriber holds every row
    cpuPerMutation: cpu0 === null || cpu1 === null ? NaN : (cpu1 - cpu0) / ok,
    confirmedPerSecond: ok / ((lastConfirm - t0) / 1000),
  };
}

/**
 * Untimed writes before the timed ones, so that the figures are the JIT-compiled write path's: V8
 * optimizes a function after thousands of calls, and the engine's write path is some hundred
 * functions of TeaVM output against the baseline's handful (docs/benchmarks.md, "Fifth pass").
 */
export const TPUT_WARMUP_MS = 1000;

export const sendMessage = (id, msgId, channelId) => ({ id, name: "sendMessage", args: { id: msgId, channelId, text: TEXT } });

export function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function version(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** The machine, versions, commit and the command that reproduces the run (`script` and its flags). */
export function machine(command) {
  let commit = process.env.BENCH_COMMIT ?? "?"; // for a run from an exported tree (git archive) without .git
  if (!process.env.BENCH_COMMIT) try {
    commit = execSync("git rev-parse --short HEAD", { cwd: root, encoding: "utf8" }).trim();
    if (execSync("git status --porcelain -- java-src worker-shim test-harness/bench/app", { cwd: root, encoding: "utf8" }).trim()) commit += " (with uncommitted changes in java-src/, worker-shim/ or the bench app)";
  } catch {}
  const cpu = cpus()[0]?.model ?? "?";
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${availableParallelism()} cpus (nproc), ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform}/${process.arch}`,
    `node ${process.version}, miniflare ${version("miniflare")}, workerd ${version("workerd")}, ws ${version("ws")}`,
    `commit: ${commit}`,
    `load average (1, 5, 15 min) at the end: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (other processes on the machine share its cpus)`,
    `reproduce (from the repository root): mvn -B -q install -DskipTests && node ${command}`,
  ].join("\n");
}

// ---- CPU time of the workerd process behind a worker -------------------------------

/** Process ids of this process's workerd children (Linux /proc; empty elsewhere). */
function workerdChildren() {
  const out = new Set();
  try {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        const comm = stat.slice(stat.indexOf("(") + 1, close);
        const ppid = Number(stat.slice(close + 2).split(" ")[1]);
        if (ppid === process.pid && comm.startsWith("workerd")) out.add(Number(d));
      } catch {}
    }
  } catch {}
  return out;
}

/**
 * startWorker, plus `pid`: the workerd process that Miniflare started for it (or null). With
 * `inspect: true` the worker also gets workerd's V8 inspector (`inspectorPort`), which `heapUsed`
 * reads.
 */
export async function startSystem({ inspect = false, ...options }) {
  options = { scriptPath: BENCH_WORKER, ...options };
  const rootOnly = options.scriptPath === BENCH_WORKER;
  if (rootOnly) buildBenchApp();
  const before = workerdChildren();
  const worker = inspect ? await startInspectable(options) : await startWorker(options);
  const fresh = [...workerdChildren()].filter((p) => !before.has(p));
  return { ...worker, rootOnly, pid: fresh.length === 1 ? fresh[0] : null };
}

/**
 * Runs `scenario(systems)` on a fresh shoal (the bench app) and a fresh baseline, then stops both:
 * every scenario starts from an empty Durable Object, as the fresh shard of each used to give.
 */
export async function withSystems({ inspect = false, policies = true } = {}, scenario) {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-bench-"));
  const systems = {
    shoal: { ...(await startSystem({ persistDir: path.join(dir, "shoal"), bindings: NO_RATE_LIMIT, inspect })), policies },
    baseline: await startSystem({ persistDir: path.join(dir, "baseline"), scriptPath: "test-harness/bench/baseline-worker.js", className: "BaselineDO", inspect }),
  };
  try {
    return await scenario(systems);
  } finally {
    await systems.shoal.stop();
    await systems.baseline.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * CPU time (ms) the process has spent on a CPU so far, summed over its threads (schedstat, in ns:
 * finer than the 10 ms ticks of /proc/<pid>/stat). Unlike wall time, it barely moves when other
 * processes compete for the CPUs. null when unavailable.
 */
export function cpuMs(pid) {
  if (!pid) return null;
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
      } catch {}
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

// ---- the V8 heap of a worker's isolate, through workerd's inspector -------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** startWorker with workerd's inspector on a free port. */
async function startInspectable(options) {
  return startWorker({ ...options, inspectorPort: await freePort() });
}

/**
 * The live V8 heap of the worker's isolate in bytes ({usedSize, totalSize}, from the inspector's
 * Runtime.getHeapUsage after a heap snapshot, which collects garbage), or null without an
 * inspector. The isolate holds every Durable Object of the worker that is in memory, so it bounds
 * any one object's heap from above.
 */
export async function heapUsed(worker) {
  if (!worker.inspectorPort) return null;
  const ws = new WebSocket(`ws://127.0.0.1:${worker.inspectorPort}/core:user:`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const waiting = new Map();
  ws.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (m.id && waiting.has(m.id)) waiting.get(m.id)(m);
  });
  const call = (method, params = {}) => new Promise((resolve) => {
    waiting.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  try {
    // workerd's inspector never answers HeapProfiler.collectGarbage; a heap snapshot (its chunks
    // ignored) collects garbage first, so the usage read after it is the live heap.
    await call("HeapProfiler.enable");
    await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const r = await call("Runtime.getHeapUsage");
    return r.result ?? null;
  } finally {
    ws.close();
  }
}

/** Resident memory of a process in bytes (/proc/<pid>/status VmRSS), or null. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
