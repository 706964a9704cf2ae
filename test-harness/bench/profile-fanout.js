#!/usr/bin/env node
// Where a fan-out commit's time goes inside workerd: a V8 CPU profile of the shard Durable Object
// over sequential writes with N distinct-identity subscribers (as fanout.js), taken through
// workerd's inspector, summed by self time per function and per bucket (SQLite statements, WebSocket
// sends, engine code, the shim, GC).
//
//   mvn -B -q install -DskipTests && node test-harness/bench/profile-fanout.js [--n=1000] [--writes=40] [--identities=N] [--setup] [--batch=50] [--in-flight=16] [--baseline]
//
//   --inclusive also prints the time under each function, --alloc the bytes each allocates (build the engine with
//   -Dshoal.engine.minify=false to read TeaVM's names); TOP=60 in the environment lists 60 functions by self time, not 25.
//
// A tool for finding the hot spots, not a benchmark: the profiler itself slows the object down.
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { BenchSocket, members, sendMessage, root, NO_RATE_LIMIT, benchShimBundle } from "./common.js";
import { signHs256 } from "@shoal/worker/auth";

const APP = path.join(root, "test-harness/bench/app");

const arg = (name, d) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? d);
const N = arg("n", 1000);
const WRITES = arg("writes", 40);
const IDS = arg("identities", N);
const OTHER = arg("other", 0); // subscriptions to other channels, by one extra socket each 100
// --setup: profile opening and subscribing the N sockets instead of the writes.
const SETUP = process.argv.includes("--setup");
const BATCH = arg("batch", 1); // mutations per push
// --in-flight=16: the timed pushes pipelined, this many awaiting their pushResult (as the sustained-writes mode), not one at a time.
const IN_FLIGHT = arg("in-flight", 1);
// --alloc: also sample the heap's allocations over the timed writes (HeapProfiler sampling).
const ALLOC = process.argv.includes("--alloc");
// --baseline: profile the hand-written object (baseline-worker.js) instead, for its GC, runtime and SQLite time.
const BASELINE = process.argv.includes("--baseline");
const SECRET = "shoal-profile-secret-0123456789abcdef0123456789";
const PORT = 9300 + Math.floor(Math.random() * 500);

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-profile-"));
  const baselineScript = path.join(root, "test-harness/bench/baseline-worker.js");
  const mf = new Miniflare({
    modules: true,
    modulesRoot: BASELINE ? path.dirname(baselineScript) : APP,
    scriptPath: BASELINE ? baselineScript : await benchShimBundle(),
    modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
    compatibilityDate: "2025-04-01",
    durableObjects: { SHARD: { className: BASELINE ? "BaselineDO" : "ShardDO", useSQLite: true } },
    durableObjectsPersist: dir,
    bindings: { SHOAL_JWT_SECRET: SECRET, ...NO_RATE_LIMIT },
    host: "127.0.0.1",
    port: 0,
    inspectorPort: PORT,
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const worker = { url, wsUrl: url.replace(/^http/, "ws"), mf, policies: !BASELINE, rootOnly: !BASELINE, token: (sub) => signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET) };
  const shard = "profile";
  const ids = Array.from({ length: IDS }, (_, i) => `user${i}`);
  await members(worker, shard, "c", "writer", ids);
  for (let k = 0; k < Math.ceil(OTHER / 100); k++) {
    await members(worker, shard, `o${k}`, "writer", []);
  }
  const inspector = new WebSocket(`ws://127.0.0.1:${PORT}/core:user:`);
  await new Promise((r) => inspector.once("open", r));
  let msgId = 0;
  const waiting = new Map();
  inspector.on("message", (d) => {
    const m = JSON.parse(d.toString());
    if (m.id && waiting.has(m.id)) waiting.get(m.id)(m.result);
  });
  const cdp = (method, params = {}) => new Promise((r) => {
    const id = ++msgId;
    waiting.set(id, r);
    inspector.send(JSON.stringify({ id, method, params }));
  });
  await cdp("Profiler.enable");
  await cdp("Profiler.setSamplingInterval", { interval: 100 });

  if (SETUP) await cdp("Profiler.start");
  const subs = [];
  for (let i = 0; i < N; i += 50) {
    subs.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, async (_, j) => {
      const s = await BenchSocket.open(worker, { sub: ids[(i + j) % IDS], client: `c${i + j}`, shard });
      await s.subscribe("s", "c");
      return s;
    }))));
  }
  const writer = await BenchSocket.open(worker, { sub: "writer", client: "w", shard });
  for (let k = 0; k < OTHER; k++) {
    if (k % 100 === 0) writer.others = await BenchSocket.open(worker, { sub: "writer", client: `o${k}`, shard });
    await writer.others.subscribe(`o${k}`, `o${Math.floor(k / 100)}`);
  }

  let pending = null;
  for (const s of subs) s.onRows = () => pending && ++pending.got === N && pending.done();
  const push = (k) => ({ type: "push", mutations: Array.from({ length: BATCH }, (_, j) => sendMessage((k - 1) * BATCH + j + 1, `m-${k}-${j}`, "c")) });
  const write = (k) => new Promise((resolve) => {
    pending = { got: 0, done: resolve };
    writer.send(push(k));
  });
  // Pushes `from`..`from + count - 1` with IN_FLIGHT awaiting their pushResult; done when every subscriber holds every row.
  const pipelined = (from, count) => new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    let rows = 0;
    const done = () => answered === count && rows === count * BATCH * N && resolve();
    const pump = () => {
      while (sent < count && sent - answered < IN_FLIGHT) writer.send(push(from + sent++));
    };
    writer.onPushResult = () => (answered++, pump(), done());
    for (const s of subs) s.onRows = (ids) => ((rows += ids.length), done());
    pump();
  });
  if (!SETUP) {
    for (let k = 1; k <= 10; k++) await write(k);
    await cdp("Profiler.start");
    if (ALLOC) await cdp("HeapProfiler.startSampling", { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    if (IN_FLIGHT > 1) await pipelined(11, WRITES);
    else for (let k = 11; k <= 10 + WRITES; k++) await write(k);
  }
  if (ALLOC) {
    // --alloc: bytes allocated per write by the function that allocated them (sampled).
    const { profile: heap } = await cdp("HeapProfiler.stopSampling");
    const bytes = new Map();
    const walk = (n) => {
      const k = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber + 1}`;
      bytes.set(k, (bytes.get(k) ?? 0) + n.selfSize);
      for (const c of n.children ?? []) walk(c);
    };
    walk(heap.head);
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    console.log(`allocated per write (sampled, collected since or not): ${(total / WRITES / 1024).toFixed(1)} KiB; by function:`);
    for (const [k, b] of [...bytes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${(b / WRITES).toFixed(0).padStart(8)} B  ${k}`);
  }
  const { profile } = await cdp("Profiler.stop");
  inspector.close();

  // Self time per node, summed per function (url:line:column) and per bucket.
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byFn = new Map();
  const buckets = new Map();
  const engineSrc = readFileSync(path.join(APP, "build/engine.js"), "utf8").split("\n");
  const snippet = (cf) => {
    const line = engineSrc[cf.lineNumber] ?? "";
    return line.slice(cf.columnNumber, cf.columnNumber + Number(process.env.SNIP ?? 90));
  };
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    if (!us) continue;
    const cf = node.callFrame;
    const file = cf.url.split("/").pop() || "(native)";
    const key = `${cf.functionName || "(anonymous)"} ${file}:${cf.lineNumber + 1}:${cf.columnNumber + 1}`;
    const e = byFn.get(key) ?? { us: 0, text: file === "engine.js" ? snippet(cf) : "" };
    e.us += us;
    byFn.set(key, e);
    const bucket = file === "engine.js" ? "engine (TeaVM JS, self time)" : file === ".profile-shim.js" ? "shim (@shoal/worker, self time)"
      : cf.functionName === "(garbage collector)" ? "GC" : cf.functionName === "(idle)" || cf.functionName === "(program)" ? cf.functionName
      : cf.functionName === "exec" || cf.functionName === "raw" || cf.functionName === "toArray" ? "SQLite (sql.exec/raw/toArray)"
      : cf.functionName === "send" ? "WebSocket send" : `native ${cf.functionName || "(anonymous)"}`;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
  }
  const busy = [...buckets.entries()].filter(([b]) => b !== "(idle)").reduce((a, [, v]) => a + v, 0);
  const per = SETUP ? N : WRITES;
  console.log(SETUP ? `profile of opening and subscribing ${N} sockets of ${IDS} identities: per socket` : `profile of ${WRITES} writes, ${N} subscribers of ${IDS} identities${OTHER ? `, ${OTHER} other subscriptions` : ""}: ${(busy / 1000 / per).toFixed(2)} ms sampled busy time per ${SETUP ? "socket" : "write"}`);
  for (const [b, us] of [...buckets.entries()].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${b}`);
  }
  // SQLite time by the engine method that ran the statement (the nearest caller outside the Sql layer).
  const parent = new Map();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node);
  const byCaller = new Map();
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    if (!us || node.callFrame.functionName !== "exec") continue;
    let p = parent.get(node.id);
    while (p && !(/^dse/.test(p.callFrame.functionName) && !/Sql|Prepared|Slot|Rows|queryLong|queryString|exec\b/.test(p.callFrame.functionName))) p = parent.get(p.id);
    const k = p ? p.callFrame.functionName : "(outside the engine)";
    byCaller.set(k, (byCaller.get(k) ?? 0) + us);
  }
  console.log("SQLite (sql.exec) by calling engine method (readable with a non-minified engine.js):");
  for (const [k, us] of [...byCaller.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}`);
  // Engine self time by TeaVM's name prefix (dses_ = dev.shoal.engine.sync, ju_ = java.util, ...).
  const byPackage = new Map();
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    if (!us || !node.callFrame.url.endsWith("engine.js")) continue;
    const m = /^(\$rt|[a-z]+)_/.exec(node.callFrame.functionName);
    const k = m ? m[1] : "(other)";
    byPackage.set(k, (byPackage.get(k) ?? 0) + us);
  }
  console.log("engine self time by package prefix (readable with a non-minified engine.js):");
  for (const [k, us] of [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}`);
  console.log("top functions by self time:");
  for (const [k, e] of [...byFn.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, Number(process.env.TOP ?? 25))) {
    console.log(`  ${(e.us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}  ${e.text}`);
  }
  // --inclusive: total time under each function (its callees included; counted once per stack).
  if (process.argv.includes("--inclusive")) {
    const total = new Map();
    const walk = (node, onStack) => {
      let us = dt.get(node.id) ?? 0;
      const name = node.callFrame.functionName || "(anonymous)";
      const fresh = !onStack.has(name);
      if (fresh) onStack.add(name);
      for (const c of node.children ?? []) us += walk(byId.get(c), onStack);
      if (fresh) {
        onStack.delete(name);
        total.set(name, (total.get(name) ?? 0) + us);
      }
      return us;
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    walk(profile.nodes[0], new Set());
    // --callers=NAME: which functions NAME's inclusive time is spent under (its nearest callers).
    const who = process.argv.find((a) => a.startsWith("--callers="))?.slice(10);
    if (who) {
      const by = new Map();
      const parentOf = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
      const inclusive = (n) => (dt.get(n.id) ?? 0) + (n.children ?? []).reduce((a, c) => a + inclusive(byId.get(c)), 0);
      for (const n of profile.nodes) {
        if (n.callFrame.functionName !== who) continue;
        const chain = [];
        for (let p = parentOf.get(n.id); p && chain.length < 3; p = parentOf.get(p.id)) chain.push(p.callFrame.functionName);
        by.set(chain.join(" < "), (by.get(chain.join(" < ")) ?? 0) + inclusive(n));
      }
      console.log(`${who} under:`);
      for (const [k, us] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}`);
    }
    // --callees=NAME: where NAME's inclusive time goes, by the functions it calls directly.
    const what = process.argv.find((a) => a.startsWith("--callees="))?.slice(10);
    if (what) {
      const by = new Map();
      const inclusive = (n) => (dt.get(n.id) ?? 0) + (n.children ?? []).reduce((a, c) => a + inclusive(byId.get(c)), 0);
      for (const n of profile.nodes) {
        if (n.callFrame.functionName !== what) continue;
        by.set("(self)", (by.get("(self)") ?? 0) + (dt.get(n.id) ?? 0));
        for (const c of n.children ?? []) {
          const k = byId.get(c).callFrame.functionName || "(anonymous)";
          by.set(k, (by.get(k) ?? 0) + inclusive(byId.get(c)));
        }
      }
      console.log(`${what} calls:`);
      for (const [k, us] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}`);
    }
    console.log("top functions by inclusive time:");
    for (const [k, us] of [...total.entries()].filter(([k]) => !/^\(/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 70)) {
      console.log(`  ${(us / 1000 / per).toFixed(3).padStart(8)} ms  ${k}`);
    }
  }
  for (const s of subs) s.ws.terminate();
  writer.ws.terminate();
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
