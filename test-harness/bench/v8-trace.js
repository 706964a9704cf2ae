#!/usr/bin/env node
// What V8 does under a stream of writes: garbage collections (with their pauses) and
// deoptimizations (with their reasons), for the bench app's shard object or the hand-written one.
// Miniflare cannot pass V8 flags, so this starts workerd itself, from a config of its own that
// sets `v8Flags`, and drives it with the same sockets as fanout.js (one writer, one subscriber).
//
//   mvn -B -q install -DskipTests && node test-harness/bench/v8-trace.js [--writes=20000] [--in-flight=1] [--baseline] [--flags="--trace-gc --trace-deopt"] [--timeline=1000] [--raw]
//
//   --timeline=N prints the µs per write of every N writes, marking the windows with a
//   mark-compact (and, with --trace-opt in --flags, how many functions V8 optimized in each).
//   --raw prints workerd's whole trace output after the summary. A tool for finding causes, not a
//   benchmark: tracing slows the object down.
import path from "node:path";
import { startRawWorkerd, weakObjectDeopts } from "../lib/raw-workerd.js";
import { BenchSocket, members, sendMessage, root, NO_RATE_LIMIT, benchShimBundle, pct } from "./common.js";
import { signHs256 } from "@shoal/worker/auth";

const flag = (name, d) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const WRITES = Number(flag("writes", 20000));
const IN_FLIGHT = Number(flag("in-flight", 1));
const BASELINE = process.argv.includes("--baseline");
const RAW = process.argv.includes("--raw");
const FLAGS = flag("flags", "--trace-gc --trace-deopt").split(/\s+/).filter(Boolean);
const SECRET = "shoal-v8-trace-secret-0123456789abcdef0123456789";

async function main() {
  const system = BASELINE
    ? await startRawWorkerd({ modules: { "main.js": path.join(root, "test-harness/bench/baseline-worker.js") }, className: "BaselineDO", v8Flags: FLAGS })
    : await startRawWorkerd({
        // As in the bench app's tree: worker/index.js imports the engine as "../build/engine.js".
        modules: { "worker/main.js": await benchShimBundle(), "build/engine.js": path.join(root, "test-harness/bench/app/build/engine.js") },
        bindings: { SHOAL_JWT_SECRET: SECRET, ...NO_RATE_LIMIT },
        v8Flags: FLAGS,
      });
  const { url } = system;
  const worker = { url, wsUrl: url.replace(/^http/, "ws"), policies: !BASELINE, rootOnly: !BASELINE,
    token: (sub) => signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET) };
  await members(worker, "trace", "c", "writer", ["reader"]);
  const reader = await BenchSocket.open(worker, { sub: "reader", client: "r", shard: "trace" });
  await reader.subscribe("s", "c");
  const writer = await BenchSocket.open(worker, { sub: "writer", client: "w", shard: "trace" });
  const started = system.output().length; // what the writes caused, not start-up
  const sentAt = new Map();
  const latency = [];
  let got = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  reader.onRows = (ids, t) => {
    for (const id of ids) latency.push(t - sentAt.get(id));
    got += ids.length;
    if (got >= WRITES) done();
  };
  let sent = 0;
  let answered = 0;
  const pump = () => {
    while (sent < WRITES && sent - answered < IN_FLIGHT) {
      sent++;
      sentAt.set(`m-${sent}`, performance.now());
      writer.send({ type: "push", mutations: [sendMessage(sent, `m-${sent}`, "c")] });
    }
  };
  const TIMELINE = Number(flag("timeline", 0)); // writes per window; 0 = no timeline
  const windows = []; // [ms, mark-compacts, optimized functions] per TIMELINE writes
  let windowStart = performance.now(), seen = 0;
  writer.onPushResult = () => {
    answered++;
    if (TIMELINE && answered % TIMELINE === 0) {
      const now = performance.now();
      const out = system.output();
      const fresh = out.slice(seen);
      const mcs = fresh.split("Mark-Compact").length - 1;
      const opts = fresh.split("completed compiling").length - 1;
      seen = out.length;
      windows.push([now - windowStart, mcs, opts]);
      windowStart = now;
    }
    pump();
  };
  const t0 = performance.now();
  pump();
  await finished;
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  const trace = system.output().slice(started);
  await system.stop();

  const pauses = (kind) => [...trace.matchAll(new RegExp(`${kind} [^\\n]*?MB, (?:pooled: [\\d.]+ MB, )?([\\d.]+) / [\\d.]+ ms`, "g"))].map((m) => Number(m[1]));
  const scavenges = pauses("Scavenge");
  const majors = pauses("Mark-Compact");
  const reasons = new Map();
  for (const m of trace.matchAll(/reason: ([^)\]]+)[)\]]/g)) reasons.set(m[1], (reasons.get(m[1]) ?? 0) + 1);
  const weak = weakObjectDeopts(trace);
  if (TIMELINE) console.log(`µs per write, per ${TIMELINE} writes (* = a mark-compact in the window):\n  ${windows.map(([ms, m, o]) => `${Math.round(ms * 1000 / TIMELINE)}${"*".repeat(m)}${o ? `(${o})` : ""}`).join(" ")}`);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  console.log(`${BASELINE ? "baseline" : "shoal"}: ${WRITES} writes, ${IN_FLIGHT} in flight, ${(ms / 1000).toFixed(1)} s (${((ms * 1000) / WRITES).toFixed(0)} µs per write); V8 flags ${FLAGS.join(" ")}`);
  console.log(`write-to-visible p50 / p99 / max: ${pct(latency, 50).toFixed(2)} / ${pct(latency, 99).toFixed(2)} / ${Math.max(...latency).toFixed(2)} ms`);
  const every = scavenges.length ? `one per ${Math.round(WRITES / scavenges.length)} writes, pause p50 ${pct(scavenges, 50).toFixed(2)} ms, ` : "";
  console.log(`scavenges: ${scavenges.length} (${every}total ${sum(scavenges).toFixed(1)} ms)`);
  console.log(`mark-compacts: ${majors.length}, pauses ${majors.map((x) => x.toFixed(2)).join(", ") || "-"} ms`);
  console.log("deoptimizations by reason (eager and lazy bailouts, and code marked at a GC):");
  for (const [r, n] of [...reasons].filter(([r]) => r !== "hot and stable").sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(5)}  ${r}`);
  if (weak.size) {
    console.log(`functions deoptimized because a GC cleared an object their code embedded (${sum([...weak.values()])} times, ${weak.size} functions):`);
    console.log(`  ${[...weak].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} x${n}`).join(", ")}`);
  }
  if (RAW) console.log(trace);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
