// Shared by the benchmark scripts in this directory: a lean protocol socket,
// membership setup for the example app, percentiles and the machine line.
import { readFileSync, readdirSync } from "node:fs";
import { cpus, totalmem, availableParallelism, loadavg } from "node:os";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import WebSocket from "ws";
import { startWorker } from "../lib/worker.js";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// Per-socket frame rate limits (SHOAL_RATE_PER_SEC/SHOAL_RATE_BURST, where the shim has them) are
// raised for the benchmarks: the throughput writers exceed them on purpose. A shim without them
// ignores the bindings.
export const NO_RATE_LIMIT = { SHOAL_RATE_PER_SEC: "1000000000", SHOAL_RATE_BURST: "1000000000" };
export const TEXT = "a message of ordinary length from the benchmark writer";

// ---- a lean protocol socket: timestamps on arrival, no frame log --------------

export class BenchSocket {
  static async open(worker, { sub, client, shard }) {
    const params = new URLSearchParams({ client, v: "1", shard });
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
    if (execSync("git status --porcelain -- java-src worker-shim", { cwd: root, encoding: "utf8" }).trim()) commit += " (with uncommitted changes in java-src/ or worker-shim/)";
  } catch {}
  const cpu = cpus()[0]?.model ?? "?";
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${availableParallelism()} cpus (nproc), ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform}/${process.arch}`,
    `node ${process.version}, miniflare ${version("miniflare")}, workerd ${version("workerd")}, ws ${version("ws")}`,
    `commit: ${commit}`,
    `load average (1, 5, 15 min) at the end: ${loadavg().map((x) => x.toFixed(2)).join(", ")} (other processes on the machine share its cpus)`,
    `reproduce (from the repository root): mvn -B -q -o package -DskipTests && node ${command}`,
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

/** startWorker, plus `pid`: the workerd process that Miniflare started for it (or null). */
export async function startSystem(options) {
  const before = workerdChildren();
  const worker = await startWorker(options);
  const fresh = [...workerdChildren()].filter((p) => !before.has(p));
  return { ...worker, pid: fresh.length === 1 ? fresh[0] : null };
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
