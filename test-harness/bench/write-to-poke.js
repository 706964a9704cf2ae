#!/usr/bin/env node
// Write-to-poke benchmark: the real Shoal worker (TeaVM engine in ShardDO) and a
// hand-written JS baseline Durable Object (baseline-worker.js), both in workerd
// through Miniflare, driven over real WebSockets (`ws`).
//
//   cd /work/main && mvn -B -q install -DskipTests   # the Shoal artifacts; the bench app (test-harness/bench/app) is built on first use
//   node test-harness/bench/write-to-poke.js [--quick]
//
// Prints figures and shoal/baseline ratios. A script, not a test: nothing here
// asserts on time. See README.md beside this file for what each figure means.
//
// The example app has read and write policies (ChatApp.java): a user sees and
// posts only in channels they are a member of. On shoal, in every scenario the
// writer first creates the channel and adds every reader (and other writers)
// with addMember, untimed; the baseline has no membership and skips that step.
import { BenchSocket, members, sendMessage, pct, machine, cpuMs, sustainedWrites, withSystems } from "./common.js";

const QUICK = process.argv.includes("--quick");
const WARMUP = QUICK ? 20 : 50;
const SAMPLES = QUICK ? 60 : 300;
const FANOUT = 100;
const TPUT_MS = QUICK ? 1000 : 5000;
const BIG_LOG = QUICK ? 5000 : 50000; // rows already in the log for the last latency row
// --only=<substring>: run only the rows whose metric names contain it (for investigating one figure).
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
// --no-membership: skip the membership setup on shoal too, to run this script against a tree from
// before the example app had policies (db965c0 and older), for a same-day comparison.
const MEMBERSHIP = !process.argv.includes("--no-membership");

// ---- (a) write-to-poke latency ------------------------------------------------

async function latency(worker, tag, nSubs, shard) {
  const channelId = "lat";
  await members(worker, shard, channelId, "writer", Array.from({ length: nSubs }, (_, i) => `reader${i}`));
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
  let cpu0 = null;
  for (let k = 1; k <= WARMUP + SAMPLES; k++) {
    if (k === WARMUP + 1) cpu0 = cpuMs(worker.pid);
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
  const cpu1 = cpuMs(worker.pid);
  await Promise.all([writer, ...subs].map((s) => s.close()));
  return { each, last, confirm, cpuPerWrite: cpu0 === null || cpu1 === null ? NaN : (cpu1 - cpu0) / SAMPLES };
}

/** Fills a shard's log with `rows` messages in a channel nobody subscribes to (batched pushes). */
async function fill(worker, shard, rows) {
  await members(worker, shard, "fill", "filler", []);
  const w = await BenchSocket.open(worker, { sub: "filler", client: "f", shard });
  let id = w.connected.lastMutationId;
  const target = id + rows;
  while (id < target) {
    const mutations = [];
    for (let j = 0; j < 50 && id < target; j++) mutations.push(sendMessage(++id, `fill-${id}`, "fill"));
    const result = w.next("pushResult");
    w.send({ type: "push", mutations });
    const r = await result;
    if (r.results.some((x) => x.status !== "ok")) throw new Error(`fill refused: ${JSON.stringify(r.results[0])}`);
  }
  await w.close();
}

// ---- (b) sustained mutations/s --------------------------------------------------

const throughput = (worker, tag, mode) => sustainedWrites(worker, { ...mode, durationMs: TPUT_MS });

// ---- running and reporting ---------------------------------------------------------

const MODES = [
  { key: "pipe1", label: "1 writer, 1 mutation/push, 16 pushes in flight", writers: 1, batch: 1, inFlight: 16 },
  { key: "batch50", label: "1 writer, 50 mutations/push, 4 pushes in flight", writers: 1, batch: 50, inFlight: 4 },
  { key: "multi4", label: "4 writers, 1 mutation/push, 8 pushes in flight each", writers: 4, batch: 1, inFlight: 8 },
];


async function main() {
  const rows = [];
  const ms = (x) => `${x.toFixed(2)} ms`;
  const row = (metric, s, b, fmt, better) => rows.push({ metric, s, b, fmt, better });
  const log = (m) => process.stderr.write(m + "\n");
  const started = performance.now();
  // Each scenario runs on both systems back to back, so both see the same machine state, on fresh
  // systems: the bench app keeps every table on one shard, so scenarios would share it otherwise.
  {
    for (const nSubs of [1, FANOUT]) {
      if (ONLY && !`write-to-poke, ${nSubs} subscriber`.includes(ONLY)) continue;
      const r = {};
      await withSystems({ policies: MEMBERSHIP }, async (systems) => {
      for (const [name, w] of Object.entries(systems)) {
        log(`latency, ${nSubs} subscriber(s): ${name} (${WARMUP} warm-up + ${SAMPLES} sequential writes)`);
        r[name] = await latency(w, name, nSubs, `lat-${nSubs}`); // a fresh shard per scenario
      }
      });
      const { shoal: s, baseline: b } = r;
      if (nSubs === 1) {
        row("write-to-poke, 1 subscriber, p50", pct(s.each, 50), pct(b.each, 50), ms, "lower");
        row("write-to-poke, 1 subscriber, p99", pct(s.each, 99), pct(b.each, 99), ms, "lower");
        row("write-to-pushResult (writer), p50", pct(s.confirm, 50), pct(b.confirm, 50), ms, "lower");
        row("workerd CPU per write, 1 subscriber", s.cpuPerWrite, b.cpuPerWrite, ms, "lower");
      } else {
        row(`write-to-poke, ${nSubs} subscribers, each, p50`, pct(s.each, 50), pct(b.each, 50), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, each, p99`, pct(s.each, 99), pct(b.each, 99), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, all, p50`, pct(s.last, 50), pct(b.last, 50), ms, "lower");
        row(`write-to-poke, ${nSubs} subscribers, all, p99`, pct(s.last, 99), pct(b.last, 99), ms, "lower");
        row(`workerd CPU per write, ${nSubs} subscribers`, s.cpuPerWrite, b.cpuPerWrite, ms, "lower");
      }
    }
    for (const mode of MODES) {
      if (ONLY && !`mutations/s, ${mode.label}`.includes(ONLY)) continue;
      const r = {};
      await withSystems({ policies: MEMBERSHIP }, async (systems) => {
        for (const [name, w] of Object.entries(systems)) {
          log(`throughput, ${mode.label}: ${name} (${TPUT_MS} ms)`);
          r[name] = await throughput(w, name, mode);
          if (r[name].failed) log(`  ${name} failed: ${r[name].failed}`);
        }
      });
      const v = (x) => (x.failed ? NaN : x.perSecond);
      row(`mutations/s, ${mode.label}`, v(r.shoal), v(r.baseline), (x) => (Number.isNaN(x) ? "failed" : `${Math.round(x)}`), "higher");
      const c = (x) => (x.failed ? NaN : x.cpuPerMutation);
      row(`workerd CPU per mutation, ${mode.label}`, c(r.shoal), c(r.baseline), (x) => (Number.isNaN(x) ? "failed" : `${(x * 1000).toFixed(0)} µs`), "lower");
    }
    const bigLabel = `write-to-poke, 1 subscriber, p50, log of ${BIG_LOG} rows`;
    if (!ONLY || bigLabel.includes(ONLY)) {
      const r = {};
      await withSystems({ policies: MEMBERSHIP }, async (systems) => {
        for (const [name, w] of Object.entries(systems)) {
          log(`latency with a long log: ${name} (fill ${BIG_LOG} rows in another channel, then ${WARMUP} + ${SAMPLES} writes)`);
          await fill(w, "biglog", BIG_LOG);
          r[name] = await latency(w, name, 1, "biglog");
        }
      });
      row(bigLabel, pct(r.shoal.each, 50), pct(r.baseline.each, 50), ms, "lower");
      row(bigLabel.replace("p50", "p99"), pct(r.shoal.each, 99), pct(r.baseline.each, 99), ms, "lower");
      row(`workerd CPU per write, 1 subscriber, log of ${BIG_LOG} rows`, r.shoal.cpuPerWrite, r.baseline.cpuPerWrite, ms, "lower");
    }
  }

  const lines = [
    "| metric | shoal | baseline | ratio (shoal/baseline) |",
    "|---|---:|---:|---:|",
    ...rows.map(({ metric, s, b, fmt }) => `| ${metric} | ${fmt(s)} | ${fmt(b)} | ${Number.isFinite(s / b) ? (s / b).toFixed(2) : "-"} |`),
  ];
  console.log(machine(`test-harness/bench/write-to-poke.js${process.argv.slice(2).map((a) => " " + a).join("")}`));
  console.log(`samples: ${SAMPLES} sequential writes per latency row after ${WARMUP} warm-up; throughput runs ${TPUT_MS} ms per row, 1 subscriber; run took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log("latency and CPU: lower is better (ratio > 1: shoal slower); mutations/s: higher is better (ratio < 1: shoal slower)");
  console.log("workerd CPU: CPU time of the worker's workerd process (all threads, /proc schedstat) over the timed writes or the throughput run, per write or confirmed mutation");
  console.log("");
  console.log(lines.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
