// The soak: many sockets of many members on one shard, a steady stream of writes, and every poke
// checked: each socket must receive every message exactly once and in order (no loss, no
// duplicate, no reordering), and workerd's memory is sampled to see that it stays flat.
//
//   node test-harness/bench/soak.js [--sockets=1000] [--members=200] [--rate=10] [--seconds=60] [--baseline]
//
// --baseline runs the same stream against the hand-written Durable Object of the fan-out benchmark
// (baseline-worker.js: no policies, so no membership to set up; one poke per write).
//
// Runs the example chat (build it first: `mvn -B -q install -DskipTests`). Memory is workerd's
// resident set (the process Miniflare starts; one Durable Object lives in it), read from /proc.
// A short run is part of the test command (test/soak.test.js).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { EXAMPLE_WORKER } from "../lib/worker.js";
import { startSystem, heapUsed, NO_RATE_LIMIT } from "./common.js";


/** workerd's resident set in MB: the processes named workerd descended from this one (not other runs'). */
export function workerdRssMb() {
  const status = new Map();
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const text = readFileSync(`/proc/${pid}/status`, "utf8");
      status.set(Number(pid), { name: /^Name:\s+(.*)$/m.exec(text)?.[1], ppid: Number(/^PPid:\s+(\d+)/m.exec(text)?.[1]), kb: Number(/^VmRSS:\s+(\d+)/m.exec(text)?.[1] ?? 0) });
    } catch {}
  }
  const mine = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = status.get(p)?.ppid ?? 0, hops++) if (p === process.pid) return true;
    return false;
  };
  let kb = 0;
  for (const [pid, s] of status) if (s.name === "workerd" && mine(pid)) kb += s.kb;
  return kb / 1024;
}

class Sock {
  static async open(worker, sub, client) {
    // The channel "soak" lives on shard "soak" (the example is sharded by channel).
    const ws = new WebSocket(`${worker.wsUrl}/sync?client=${client}&v=1&shard=soak`, { headers: { authorization: `Bearer ${await worker.token(sub)}` }, perMessageDeflate: false });
    const s = new Sock(ws);
    const connected = s.wait((f) => f.type === "connected"); // may arrive in the tick of "open"
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    await connected;
    return s;
  }

  constructor(ws) {
    this.ws = ws;
    this.received = []; // message ids, in the order their pokes ended
    this.pending = null;
    this.waiters = [];
    this.hydrated = false;
    ws.on("message", (data) => {
      const f = JSON.parse(String(data));
      const t = performance.now();
      if (f.type === "pokeStart") this.pending = [];
      else if (f.type === "pokePart") this.part(f);
      else if (f.type === "pokeEnd") this.end(t);
      else if (f.type === "poke") {
        this.pending = [];
        for (const p of f.parts) this.part(p);
        this.end(t);
      }
      for (const w of this.waiters.splice(0)) if (!w(f)) this.waiters.push(w);
    });
    ws.on("close", (code) => (this.closed = code));
  }

  part(p) {
    if (p.reset) this.hydrated = true;
    for (const r of p.rows) if (r.op === "put" && r.table === "messages") this.pending.push(r.id);
  }

  end(t) {
    // The rows of one poke are applied together and carry no order (PROTOCOL.md); one poke may
    // hold several pushes' messages (a burst), so they are taken in send order. Order across
    // pokes is what the check below holds the shard to.
    this.pending.sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    for (const id of this.pending) {
      this.received.push(id);
      this.onMessage?.(id, t);
    }
    this.pending = null;
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  wait(pred, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
      this.waiters.push((f) => (pred(f) ? (clearTimeout(timer), resolve(f), true) : false));
    });
  }
}

const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

/** Runs the soak; returns its figures and `problems` (empty when every socket got every message once, in order). */
export async function soak({ worker, sockets = 1000, members = 200, rate = 10, seconds = 60, policies = true, log = () => {} } = {}) {
  const owner = await Sock.open(worker, "owner", "owner-writer");
  let mid = 0;
  const push = async (mutations) => {
    const first = mid + 1;
    owner.send({ type: "push", mutations: mutations.map((m) => ({ id: ++mid, ...m })) });
    const r = await owner.wait((f) => f.type === "pushResult" && f.results[0].id === first);
    const bad = r.results.filter((x) => x.status !== "ok");
    if (bad.length) throw new Error(`setup push failed: ${JSON.stringify(bad[0])}`);
  };
  const t0 = performance.now();
  if (policies) await push([{ name: "createChannel", args: { id: "soak", name: "soak" } }]);
  const users = Array.from({ length: members }, (_, i) => `member${i}`);
  for (let i = 0; policies && i < users.length; i += 50) {
    await push(users.slice(i, i + 50).map((u) => ({ name: "addMember", args: { channelId: "soak", userId: u } })));
  }
  const subs = [];
  for (let i = 0; i < sockets; i += 50) {
    subs.push(...(await Promise.all(Array.from({ length: Math.min(50, sockets - i) }, (_, k) => Sock.open(worker, users[(i + k) % members], `s${i + k}`)))));
  }
  for (const s of subs) s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: "soak" } });
  await Promise.all(subs.map((s) => (s.hydrated ? null : s.wait(() => s.hydrated))));
  const setupMs = performance.now() - t0;
  log(`setup: ${members} members, ${sockets} sockets subscribed in ${(setupMs / 1000).toFixed(1)} s`);

  const sentAt = new Map();
  const lastArrival = new Map();
  const arrivals = new Map();
  for (const s of subs) {
    s.onMessage = (id, t) => {
      const n = (arrivals.get(id) ?? 0) + 1;
      arrivals.set(id, n);
      if (n === sockets) lastArrival.set(id, t);
    };
  }
  const heapBefore = await heapUsed(worker); // the isolate's live heap after a GC (null without an inspector)
  const memory = [{ s: 0, mb: workerdRssMb() }];
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const sampler = setInterval(() => memory.push({ s: (performance.now() - start) / 1000, mb: workerdRssMb() }), 5000);
  while (sent < total) {
    const due = start + (sent * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `m${++sent}`;
    sentAt.set(id, performance.now());
    owner.send({ type: "push", mutations: [{ id: ++mid, name: "sendMessage", args: { id, channelId: "soak", text: `soak message ${sent}` } }] });
  }
  // Drain: wait until every socket holds the last message, or a minute passes.
  const deadline = performance.now() + 60000;
  while ((arrivals.get(`m${total}`) ?? 0) < sockets && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  clearInterval(sampler);
  memory.push({ s: (performance.now() - start) / 1000, mb: workerdRssMb() });
  const heapAfter = await heapUsed(worker);
  const behindMs = performance.now() - start - (total * 1000) / rate;

  const expected = Array.from({ length: total }, (_, i) => `m${i + 1}`);
  const problems = [];
  for (const [i, s] of subs.entries()) {
    const got = s.received;
    if (got.length !== expected.length || got.some((id, k) => id !== expected[k])) {
      const dup = got.length - new Set(got).size;
      const missing = expected.filter((id) => !got.includes(id)).length;
      problems.push(`socket ${i}: ${got.length} messages, ${missing} missing, ${dup} duplicated${missing + dup === 0 ? ", reordered" : ""}`);
    }
    if (s.closed) problems.push(`socket ${i} closed (${s.closed})`);
  }
  const lags = expected.filter((id) => lastArrival.has(id)).map((id) => lastArrival.get(id) - sentAt.get(id));
  for (const s of [owner, ...subs]) s.ws.close();
  return {
    sockets, members, rate, seconds, messages: total, setupMs, problems,
    lagP50: pct(lags, 50), lagP99: pct(lags, 99), lagMax: Math.max(...lags), drainedAfterMs: behindMs, memory,
    heapBeforeMb: heapBefore ? heapBefore.usedSize / 2 ** 20 : NaN, heapAfterMb: heapAfter ? heapAfter.usedSize / 2 ** 20 : NaN,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
  // With workerd's inspector, for the isolate's live heap before and after the writes.
  const baseline = process.argv.includes("--baseline");
  const worker = await startSystem(baseline
    ? { scriptPath: "test-harness/bench/baseline-worker.js", className: "BaselineDO", inspect: true }
    : { scriptPath: EXAMPLE_WORKER, bindings: NO_RATE_LIMIT, inspect: true });
  try {
    const r = await soak({ worker, sockets: arg("sockets", 1000), members: arg("members", 200), rate: arg("rate", 10), seconds: arg("seconds", 60),
      policies: !baseline, log: console.log });
    if (baseline) console.log("system: baseline (baseline-worker.js)");
    console.log(`${r.messages} messages at ${r.rate}/s to ${r.sockets} sockets of ${r.members} members`);
    console.log(`last socket holds a message after: p50 ${r.lagP50.toFixed(1)} ms, p99 ${r.lagP99.toFixed(1)} ms, max ${r.lagMax.toFixed(1)} ms; drained ${(r.drainedAfterMs / 1000).toFixed(1)} s after the last write was due`);
    console.log(`V8 heap of the worker isolate, live after a GC: ${r.heapBeforeMb.toFixed(1)} MB before the writes (sockets and subscriptions open), ${r.heapAfterMb.toFixed(1)} MB after`);
    console.log(`workerd RSS (MB) by second: ${r.memory.map((m) => `${m.s.toFixed(0)}s ${m.mb.toFixed(0)}`).join(", ")}`);
    console.log(r.problems.length === 0 ? "lost, duplicated or reordered pokes: none" : `problems (${r.problems.length}):\n${r.problems.slice(0, 20).join("\n")}`);
    process.exitCode = r.problems.length === 0 ? 0 : 1;
  } finally {
    await worker.stop();
  }
}
