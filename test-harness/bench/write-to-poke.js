#!/usr/bin/env node
// Write-to-poke benchmark: the real Shoal worker (TeaVM engine in ShardDO) and a
// hand-written JS baseline Durable Object (baseline-worker.js), both in workerd
// through Miniflare, driven over real WebSockets (`ws`).
//
//   cd /work/main && mvn -B -q -o package -DskipTests   # builds worker-shim/build/engine.js
//   node test-harness/bench/write-to-poke.js [--quick]
//
// Prints figures and shoal/baseline ratios. A script, not a test: nothing here
// asserts on time. See README.md beside this file for what each figure means.
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir, cpus, totalmem, availableParallelism } from "node:os";
import { execSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import WebSocket from "ws";
import { startWorker } from "../lib/worker.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.argv.includes("--quick");
const WARMUP = QUICK ? 20 : 50;
const SAMPLES = QUICK ? 60 : 300;
const FANOUT = 100;
const TPUT_MS = QUICK ? 1000 : 5000;
const BIG_LOG = QUICK ? 5000 : 50000; // rows already in the log for the last latency row
// --only=<substring>: run only the rows whose metric names contain it (for investigating one figure).
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const TEXT = "a message of ordinary length from the benchmark writer";

// ---- a lean protocol socket: timestamps on arrival, no frame log --------------

class BenchSocket {
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

  next(type) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), 30000);
      this.waiters.push((f) => {
        if (f.type === "__closed__") {
          clearTimeout(timer);
          reject(new Error(`socket closed (${f.code}) waiting for ${type}`));
          return true;
        }
        if (f.type !== type) return false;
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
    const end = this.next("pokeEnd");
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

const sendMessage = (id, msgId, channelId) => ({ id, name: "sendMessage", args: { id: msgId, channelId, text: TEXT } });

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

// ---- (a) write-to-poke latency ------------------------------------------------

async function latency(worker, tag, nSubs, shard) {
  const channelId = "lat";
  const subs = [];
  for (let i = 0; i < nSubs; i++) subs.push(await BenchSocket.open(worker, { sub: `reader${i}`, client: `r${i}`, shard }));
  await Promise.all(subs.map((s) => s.subscribe("s", channelId)));
  const writer = await BenchSocket.open(worker, { sub: "writer", client: "w", shard });

  const each = []; // one per (write, subscriber)
  const last = []; // one per write: the slowest subscriber
  const confirm = []; // one per write: push sent -> pushResult at the writer
  let pending = null;
  for (const s of subs) {
    s.onRows = (ids, t) => {
      if (pending && ids.includes(pending.msgId)) {
        pending.times.push(t - pending.t0);
        pending.check();
      }
    };
  }
  writer.onPushResult = (results, t) => {
    if (results[0]?.status !== "ok") throw new Error(`push refused: ${JSON.stringify(results)}`);
    pending.confirmAt = t - pending.t0;
  };
  writer.onPokeEnd = (f) => {
    if (pending && f.lastMutationId >= pending.id) {
      pending.writerPoked = true;
      pending.check();
    }
  };
  for (let k = 1; k <= WARMUP + SAMPLES; k++) {
    await new Promise((resolve) => {
      pending = {
        id: k,
        msgId: `lat-${k}`,
        times: [],
        writerPoked: false,
        check() {
          if (this.times.length === nSubs && this.writerPoked) resolve();
        },
      };
      pending.t0 = performance.now();
      writer.send({ type: "push", mutations: [sendMessage(k, pending.msgId, channelId)] });
    });
    if (k > WARMUP) {
      each.push(...pending.times);
      last.push(Math.max(...pending.times));
      confirm.push(pending.confirmAt);
    }
  }
  pending = null;
  await Promise.all([writer, ...subs].map((s) => s.close()));
  return { each, last, confirm, logSeq: writer.connected.seq };
}

/** Fills a shard's log with `rows` messages in a channel nobody subscribes to (batched pushes). */
async function fill(worker, shard, rows) {
  const w = await BenchSocket.open(worker, { sub: "filler", client: "f", shard });
  let id = w.connected.lastMutationId;
  while (id < rows) {
    const mutations = [];
    for (let j = 0; j < 50 && id < rows; j++) mutations.push(sendMessage(++id, `fill-${id}`, "fill"));
    const result = w.next("pushResult");
    w.send({ type: "push", mutations });
    const r = await result;
    if (r.results.some((x) => x.status !== "ok")) throw new Error(`fill refused: ${JSON.stringify(r.results[0])}`);
  }
  await w.close();
}

// ---- (b) sustained mutations/s --------------------------------------------------

async function throughput(worker, tag, { key, writers: nWriters, batch, inFlight }) {
  const shard = `tput-${key}`; // a fresh shard (Durable Object) per mode: every mode starts from an empty log
  const channelId = "tput";
  const reader = await BenchSocket.open(worker, { sub: "reader", client: "r", shard });
  await reader.subscribe("s", channelId);
  const writers = [];
  for (let i = 0; i < nWriters; i++) writers.push(await BenchSocket.open(worker, { sub: `writer${i}`, client: `w${i}`, shard }));

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
        for (let j = 0; j < batch; j++, w.nextId++) mutations.push(sendMessage(w.nextId, `m-${i}-${w.nextId}`, channelId));
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
  const t0 = performance.now();
  for (const w of writers) w.pump();
  const stopTimer = setTimeout(() => {
    running = false;
    maybeDone();
  }, TPUT_MS);
  const watchdog = setTimeout(() => {
    failures.push({ status: "timeout", message: `confirmed ${ok}/${sent}, received ${received}` });
    running = false;
    done();
  }, TPUT_MS + 60000);
  const closedEarly = Promise.race([reader, ...writers].map((s) => new Promise((r) => s.ws.once("close", (code) => r(code)))));
  await Promise.race([finished, closedEarly.then((code) => failures.push({ status: "closed", code }))]);
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
    confirmedPerSecond: ok / ((lastConfirm - t0) / 1000),
  };
}

// ---- running and reporting ---------------------------------------------------------

const MODES = [
  { key: "pipe1", label: "1 writer, 1 mutation/push, 16 pushes in flight", writers: 1, batch: 1, inFlight: 16 },
  { key: "batch50", label: "1 writer, 50 mutations/push, 4 pushes in flight", writers: 1, batch: 50, inFlight: 4 },
  { key: "multi4", label: "4 writers, 1 mutation/push, 8 pushes in flight each", writers: 4, batch: 1, inFlight: 8 },
];

function version(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

function machine() {
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
    `reproduce (from the repository root): mvn -B -q -o package -DskipTests && node test-harness/bench/write-to-poke.js${QUICK ? " --quick" : ""}`,
  ].join("\n");
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-bench-"));
  const systems = {
    shoal: await startWorker({ persistDir: path.join(dir, "shoal") }),
    baseline: await startWorker({ persistDir: path.join(dir, "baseline"), scriptPath: "test-harness/bench/baseline-worker.js", className: "BaselineDO" }),
  };
  const rows = [];
  const ms = (x) => `${x.toFixed(2)} ms`;
  const row = (metric, s, b, fmt, better) => rows.push({ metric, s, b, fmt, better });
  const log = (m) => process.stderr.write(m + "\n");
  const started = performance.now();
  try {
    // Each scenario runs on both systems back to back, so both see the same machine state.
    for (const nSubs of [1, FANOUT]) {
      if (ONLY && !`write-to-poke, ${nSubs} subscriber`.includes(ONLY)) continue;
      const r = {};
      for (const [name, w] of Object.entries(systems)) {
        log(`latency, ${nSubs} subscriber(s): ${name} (${WARMUP} warm-up + ${SAMPLES} sequential writes)`);
        r[name] = await latency(w, name, nSubs, `lat-${nSubs}`); // a fresh shard per scenario
      }
      const { shoal: s, baseline: b } = r;
      if (nSubs === 1) {
        row("write-to-poke, 1 subscriber, p50", pct(s.each, 50), pct(b.each, 50), ms, "lower");
        row("write-to-poke, 1 subscriber, p99", pct(s.each, 99), pct(b.each, 99), ms, "lower");
        row("write-to-pushResult (writer), p50", pct(s.confirm, 50), pct(b.confirm, 50), ms, "lower");
      } else {
        row(`write-to-poke, ${nSubs} subscribers, each, p50`, pct(s.each, 50), pct(b.each, 50), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, each, p99`, pct(s.each, 99), pct(b.each, 99), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, all, p50`, pct(s.last, 50), pct(b.last, 50), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, all, p99`, pct(s.last, 99), pct(b.last, 99), ms, "lower");
      }
    }
    for (const mode of MODES) {
      if (ONLY && !`mutations/s, ${mode.label}`.includes(ONLY)) continue;
      const r = {};
      for (const [name, w] of Object.entries(systems)) {
        log(`throughput, ${mode.label}: ${name} (${TPUT_MS} ms)`);
        r[name] = await throughput(w, name, mode);
        if (r[name].failed) log(`  ${name} failed: ${r[name].failed}`);
      }
      const v = (x) => (x.failed ? NaN : x.perSecond);
      row(`mutations/s, ${mode.label}`, v(r.shoal), v(r.baseline), (x) => (Number.isNaN(x) ? "failed" : `${Math.round(x)}`), "higher");
    }
    const bigLabel = `write-to-poke, 1 subscriber, p50, log of ${BIG_LOG} rows`;
    if (!ONLY || bigLabel.includes(ONLY)) {
      const r = {};
      for (const [name, w] of Object.entries(systems)) {
        log(`latency with a long log: ${name} (fill ${BIG_LOG} rows in another channel, then ${WARMUP} + ${SAMPLES} writes)`);
        await fill(w, "biglog", BIG_LOG);
        r[name] = await latency(w, name, 1, "biglog");
      }
      row(bigLabel, pct(r.shoal.each, 50), pct(r.baseline.each, 50), ms, "lower");
      row(bigLabel.replace("p50", "p99"), pct(r.shoal.each, 99), pct(r.baseline.each, 99), ms, "lower");
    }
  } finally {
    await systems.shoal.stop();
    await systems.baseline.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    "| metric | shoal | baseline | ratio (shoal/baseline) |",
    "|---|---:|---:|---:|",
    ...rows.map(({ metric, s, b, fmt }) => `| ${metric} | ${fmt(s)} | ${fmt(b)} | ${Number.isFinite(s / b) ? (s / b).toFixed(2) : "-"} |`),
  ];
  console.log(machine());
  console.log(`samples: ${SAMPLES} sequential writes per latency row after ${WARMUP} warm-up; throughput runs ${TPUT_MS} ms per row, 1 subscriber; run took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log("latency: lower is better (ratio > 1: shoal slower); mutations/s: higher is better (ratio < 1: shoal slower)");
  console.log("");
  console.log(lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
