#!/usr/bin/env node
// Fan-out benchmark: what one commit costs with 1, 10, 100 and 1,000 sockets on
// one shape. Each socket is its own identity, a member of channel "c" (so the
// read policy of the example app depends on the identity), subscribed to
// messagesByChannel({channelId: "c"}); a writer pushes messages one at a time.
//
//   cd /work/main && mvn -B -q -o package -DskipTests   # builds worker-shim/build/engine.js
//   node test-harness/bench/fanout.js [--quick]
//
// Per N: diff queries and pokes per commit (deltas of the object's engine
// counters, /__shoal/stats), write-to-last-poke p50/p99 and p50/N. The same
// run on the hand-written baseline (baseline-worker.js: no engine, no read
// policy) is printed beside it, as the cost of the sends alone. A script, not a
// test: nothing here asserts on time. See README.md beside this file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BenchSocket, members, sendMessage, pct, machine, startSystem, cpuMs, NO_RATE_LIMIT } from "./common.js";

const QUICK = process.argv.includes("--quick");
// Each row: N sockets, each its own identity; the last row has N sockets of ONE identity (distinct
// client ids), where the diff evaluates the read policy for one identity instead of N: the
// difference between the two 1000-socket rows is what the per-identity policy costs.
const SIZES = (QUICK ? [1, 10, 100] : [1, 10, 100, 1000]).map((n) => ({ n, identities: n }));
SIZES.push({ n: SIZES.at(-1).n, identities: 1 });
const WARMUP = QUICK ? 5 : 20; // the first row is also the first work of both processes: JIT warm-up
const WRITES = QUICK ? 20 : 50;
const OPEN_BATCH = 50; // sockets opened (and subscribed) concurrently
const TIMEOUT_MS = 120000; // for any one step: opening a batch, one write's delivery
const CHANNEL = "c";

const log = (m) => process.stderr.write(m + "\n");

async function stats(worker, shard) {
  if (!worker.policies) return null; // the baseline has no engine counters
  const ns = await worker.mf.getDurableObjectNamespace("SHARD");
  try {
    return await (await ns.get(ns.idFromName(shard)).fetch("http://do/__shoal/stats")).json();
  } catch (e) {
    // An object without the route answers every request as a WebSocket upgrade.
    throw new Error(`no engine counters from ${shard}: does worker-shim/index.js route /__shoal/stats? (${e.message})`);
  }
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), TIMEOUT_MS))),
  ]);
}

/** One row on one system, on a fresh shard: `n` sockets of `nIds` identities (n / nIds sockets each). */
async function run(worker, n, nIds) {
  const shard = `fanout-${n}-${nIds}`;
  const identities = Array.from({ length: nIds }, (_, i) => `user${i}`);
  const t0 = performance.now();
  await members(worker, shard, CHANNEL, "writer", identities);
  const subs = [];
  for (let i = 0; i < n; i += OPEN_BATCH) {
    const batch = Array.from({ length: Math.min(OPEN_BATCH, n - i) }, (_, j) => identities[(i + j) % nIds]).map(async (sub, j) => {
      const s = await BenchSocket.open(worker, { sub, client: `c${i + j}`, shard });
      await s.subscribe("s", CHANNEL);
      return s;
    });
    subs.push(...(await withTimeout(Promise.all(batch), `opening sockets ${i}..${i + OPEN_BATCH - 1}`)));
  }
  const writer = await BenchSocket.open(worker, { sub: "writer", client: "w", shard });
  const setupMs = performance.now() - t0;

  const last = []; // per write: push sent -> the last of the N subscribers has the poke
  const first = []; // per write: push sent -> the first subscriber has it
  let pending = null;
  let wrong = 0; // pokes with rows other than the pending message
  for (const s of subs) {
    s.onRows = (ids, t) => {
      if (pending && ids.length === 1 && ids[0] === pending.msgId) {
        pending.got++;
        pending.first ??= t;
        pending.last = t;
        pending.check();
      } else wrong++;
    };
  }
  writer.onPokeEnd = (f) => {
    if (pending && f.lastMutationId >= pending.id) {
      pending.confirmed = true;
      pending.check();
    }
  };
  writer.onPushResult = (results) => {
    if (results[0]?.status !== "ok") pending.fail(new Error(`push refused: ${JSON.stringify(results)}`));
  };
  let before = null;
  let cpu0 = null;
  let client0 = null;
  for (let k = 1; k <= WARMUP + WRITES; k++) {
    if (k === WARMUP + 1) {
      before = await stats(worker, shard);
      cpu0 = cpuMs(worker.pid);
      client0 = process.cpuUsage();
    }
    await withTimeout(
      new Promise((resolve, reject) => {
        pending = {
          id: k,
          msgId: `m-${k}`,
          got: 0,
          confirmed: false,
          fail: reject,
          check() {
            if (this.got === n && this.confirmed) resolve();
          },
        };
        pending.t0 = performance.now();
        writer.send({ type: "push", mutations: [sendMessage(k, pending.msgId, CHANNEL)] });
      }),
      `write ${k} reaching ${n} sockets`,
    );
    if (k > WARMUP) {
      last.push(pending.last - pending.t0);
      first.push(pending.first - pending.t0);
    }
  }
  pending = null;
  const cpu1 = cpuMs(worker.pid);
  const client = process.cpuUsage(client0);
  const after = await stats(worker, shard);
  const errors = [writer, ...subs].flatMap((s) => s.errors);
  for (let i = 0; i < subs.length; i += OPEN_BATCH) await Promise.all(subs.slice(i, i + OPEN_BATCH).map((s) => s.close()));
  await writer.close();
  if (errors.length) throw new Error(`error frames: ${JSON.stringify(errors.slice(0, 3))}`);
  if (wrong) throw new Error(`${wrong} pokes held rows other than the message just written`);
  return {
    setupMs,
    cpuPerCommit: cpu0 === null || cpu1 === null ? NaN : (cpu1 - cpu0) / WRITES,
    clientCpuPerCommit: (client.user + client.system) / 1000 / WRITES,
    last,
    first,
    diffPerCommit: after ? (after.diffQueries - before.diffQueries) / WRITES : null,
    pokesPerCommit: after ? (after.pokesSent - before.pokesSent) / WRITES : null,
    views: after?.views,
    sockets: after?.sockets,
  };
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-fanout-"));
  const systems = {
    shoal: { ...(await startSystem({ persistDir: path.join(dir, "shoal"), bindings: NO_RATE_LIMIT })), policies: true },
    baseline: await startSystem({ persistDir: path.join(dir, "baseline"), scriptPath: "test-harness/bench/baseline-worker.js", className: "BaselineDO" }),
  };
  const started = performance.now();
  const results = [];
  try {
    for (const { n, identities } of SIZES) {
      const r = {};
      for (const [name, w] of Object.entries(systems)) {
        log(`N=${n}: ${name} (${n} sockets of ${identities} identities, ${WARMUP} warm-up + ${WRITES} sequential writes)`);
        r[name] = await run(w, n, identities);
        log(`  setup (membership, sockets, subscriptions) ${(r[name].setupMs / 1000).toFixed(1)} s`);
      }
      results.push({ n, identities, ...r });
    }
  } finally {
    await systems.shoal.stop();
    await systems.baseline.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const ms = (x) => `${x.toFixed(2)} ms`;
  const us = (x) => `${Math.round(x * 1000)} µs`;
  const shoalTable = [
    "| sockets | identities | diff queries / commit | pokes sent / commit | views, sockets (stats) | write-to-last-poke p50 | p99 | per socket (p50 / N) | write-to-first-poke p50 | workerd CPU / commit | per socket (CPU / N) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(({ n, identities, shoal: s }) => {
      const p50 = pct(s.last, 50);
      return `| ${n} | ${identities} | ${s.diffPerCommit.toFixed(2)} | ${s.pokesPerCommit.toFixed(2)} | ${s.views}, ${s.sockets} | ${ms(p50)} | ${ms(pct(s.last, 99))} | ${us(p50 / n)} | ${ms(pct(s.first, 50))} | ${ms(s.cpuPerCommit)} | ${us(s.cpuPerCommit / n)} |`;
    }),
  ];
  const baselineTable = [
    "| sockets | identities | baseline write-to-last-poke p50 | p99 | per socket (p50 / N) | baseline workerd CPU / commit | per socket (CPU / N) | ratio p50 (shoal/baseline) | ratio CPU (shoal/baseline) | bench client (Node) CPU / commit, shoal / baseline |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(({ n, identities, shoal: s, baseline: b }) => {
      const p50 = pct(b.last, 50);
      return `| ${n} | ${identities} | ${ms(p50)} | ${ms(pct(b.last, 99))} | ${us(p50 / n)} | ${ms(b.cpuPerCommit)} | ${us(b.cpuPerCommit / n)} | ${(pct(s.last, 50) / p50).toFixed(2)} | ${(s.cpuPerCommit / b.cpuPerCommit).toFixed(2)} | ${ms(s.clientCpuPerCommit)} / ${ms(b.clientCpuPerCommit)} |`;
    }),
  ];
  console.log(machine(`test-harness/bench/fanout.js${QUICK ? " --quick" : ""}`));
  console.log(`samples: ${WRITES} sequential writes per row after ${WARMUP} warm-up, one shape, one writer (not subscribed); p99 of ${WRITES} samples is the slowest; sockets opened ${OPEN_BATCH} at a time; run took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log("write-to-last-poke: from the push until the last of the N sockets has the pokeEnd holding the message (timed in this Node process, which also parses every frame of the N sockets)");
  console.log("pokes sent / commit: N subscribers + 1 confirmation poke to the writer");
  console.log("workerd CPU / commit: CPU time of the worker's workerd process (all threads, /proc schedstat) over the timed writes, divided by their number; it includes the WebSocket sends");
  console.log("");
  console.log("shoal:");
  console.log(shoalTable.join("\n"));
  console.log("");
  console.log("baseline (the same sends by hand, no engine, no read policy), same run:");
  console.log(baselineTable.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
