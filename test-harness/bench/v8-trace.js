#!/usr/bin/env node
// What V8 does under a stream of writes: garbage collections (with their pauses) and
// deoptimizations (with their reasons), for the bench app's shard object or the hand-written one.
// Miniflare cannot pass V8 flags, so this starts workerd itself, from a config of its own that
// sets `v8Flags`, and drives it with the same sockets as fanout.js (one writer, one subscriber).
//
//   mvn -B -q install -DskipTests && node test-harness/bench/v8-trace.js [--writes=20000] [--in-flight=1] [--baseline] [--flags="--trace-gc --trace-deopt"] [--raw]
//
//   --raw prints workerd's whole trace output after the summary. A tool for finding causes, not a
//   benchmark: tracing slows the object down.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { BenchSocket, members, sendMessage, root, NO_RATE_LIMIT, benchShimBundle, pct } from "./common.js";
import { signHs256 } from "@shoal/worker/auth";

const flag = (name, d) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const WRITES = Number(flag("writes", 20000));
const IN_FLIGHT = Number(flag("in-flight", 1));
const BASELINE = process.argv.includes("--baseline");
const RAW = process.argv.includes("--raw");
const FLAGS = flag("flags", "--trace-gc --trace-deopt").split(/\s+/).filter(Boolean);
const SECRET = "shoal-v8-trace-secret-0123456789abcdef0123456789";
const PORT = 9800 + Math.floor(Math.random() * 100);

/** A workerd config (Cap'n Proto text) for one worker of `modules` ({name: file in dir}) with a SQLite Durable Object class. */
function config(dir, modules, className, bindings) {
  const text = (name, value) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w), (name = "disk", disk = (path = ${JSON.stringify(path.join(dir, "store"))}, writable = true)) ],
  sockets = [ (name = "http", address = "127.0.0.1:${PORT}", http = (), service = "main") ],
  v8Flags = [ ${FLAGS.map((f) => JSON.stringify(f)).join(", ")} ],
);
const w :Workerd.Worker = (
  modules = [ ${Object.entries(modules).map(([name, file]) => `(name = ${JSON.stringify(name)}, esModule = embed ${JSON.stringify(file)})`).join(", ")} ],
  compatibilityDate = "2025-04-01",
  durableObjectNamespaces = [ (className = ${JSON.stringify(className)}, uniqueKey = "trace", enableSql = true) ],
  durableObjectStorage = (localDisk = "disk"),
  bindings = [ ${[`(name = "SHARD", durableObjectNamespace = ${JSON.stringify(className)})`, ...Object.entries(bindings).map(([k, v]) => text(k, v))].join(", ")} ],
);
`;
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-v8-trace-"));
  mkdirSync(path.join(dir, "store"));
  if (BASELINE) {
    copyFileSync(path.join(root, "test-harness/bench/baseline-worker.js"), path.join(dir, "main.js"));
    writeFileSync(path.join(dir, "config.capnp"), config(dir, { "main.js": "main.js" }, "BaselineDO", {}));
  } else {
    copyFileSync(await benchShimBundle(), path.join(dir, "main.js"));
    // As in the bench app's tree: worker/index.js imports the engine as "../build/engine.js".
    copyFileSync(path.join(root, "test-harness/bench/app/build/engine.js"), path.join(dir, "engine.js"));
    writeFileSync(path.join(dir, "config.capnp"), config(dir, { "worker/main.js": "main.js", "build/engine.js": "engine.js" }, "ShardDO",
      { SHOAL_JWT_SECRET: SECRET, ...NO_RATE_LIMIT }));
  }
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve("workerd/package.json")), "bin/workerd");
  const child = spawn(bin, ["serve", "--experimental", "config.capnp"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  // workerd waits for open WebSockets on SIGTERM: it is killed outright, whatever happens here.
  process.on("exit", () => child.kill("SIGKILL"));
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const url = `http://127.0.0.1:${PORT}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/`);
      break;
    } catch (e) {
      if (i > 100) throw new Error(`workerd did not start: ${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const worker = { url, wsUrl: url.replace(/^http/, "ws"), policies: !BASELINE, rootOnly: !BASELINE,
    token: (sub) => signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET) };
  await members(worker, "trace", "c", "writer", ["reader"]);
  const reader = await BenchSocket.open(worker, { sub: "reader", client: "r", shard: "trace" });
  await reader.subscribe("s", "c");
  const writer = await BenchSocket.open(worker, { sub: "writer", client: "w", shard: "trace" });
  const started = out.length; // what the writes caused, not start-up
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
  writer.onPushResult = () => {
    answered++;
    pump();
  };
  const t0 = performance.now();
  pump();
  await finished;
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });

  const trace = out.slice(started);
  const pauses = (kind) => [...trace.matchAll(new RegExp(`${kind} [^\\n]*?MB, (?:pooled: [\\d.]+ MB, )?([\\d.]+) / [\\d.]+ ms`, "g"))].map((m) => Number(m[1]));
  const scavenges = pauses("Scavenge");
  const majors = pauses("Mark-Compact");
  const reasons = new Map();
  for (const m of trace.matchAll(/reason: ([^)\]]+)[)\]]/g)) reasons.set(m[1], (reasons.get(m[1]) ?? 0) + 1);
  const weak = new Map();
  for (const m of trace.matchAll(/SharedFunctionInfo ([^>]+)>\) \(opt id \d+\) for deoptimization, reason: embedded weak objects cleared/g)) {
    weak.set(m[1], (weak.get(m[1]) ?? 0) + 1);
  }
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
