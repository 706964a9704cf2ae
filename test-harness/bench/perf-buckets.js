#!/usr/bin/env node
// Where a write's CPU goes in the whole workerd process, Shoal against the baseline: Linux `perf`
// samples (kernel, workerd's C++, SQLite, V8 and the JIT code alike) taken while v8-trace.js drives
// one of them, each sample put in the first bucket one of its frames matches (table BUCKETS), and
// each bucket turned into µs per write. The V8 profiler of profile-fanout.js only sees the
// isolate's thread, and charges to a native call (`exec`) whatever the process did meanwhile; this
// sees the process, but not which engine function asked for a statement.
//
//   node test-harness/bench/perf-buckets.js [--writes=60000] [--in-flight=16] [--after=6] [--seconds=6]
//
// Needs `perf` (Debian: linux-perf) and permission to attach to a process (root). For each system
// in turn: v8-trace.js with --perf-basic-prof (so the JIT code has names), perf recording its
// workerd at 2 kHz for --seconds, from --after seconds after launch. µs per write = samples x
// 500 µs / the writes made while recording (at the steady pace of v8-trace's per-1,000-writes
// timeline). A tool for finding where the difference is, not a benchmark.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root } from "./common.js";

const flag = (name, d) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const WRITES = Number(flag("writes", 60000));
const IN_FLIGHT = Number(flag("in-flight", 16));
const SECONDS = Number(flag("seconds", 6));
const AFTER = Number(flag("after", 6)); // seconds from launch to the recording's start
const HZ = 2000;

// First match wins, in this order: a statement's time stays with the statement even when JS or
// V8 frames are above it.
const BUCKETS = [
  ["commit: the implicit transaction's COMMIT (WAL writes, fsync)", "ActorSqlite"],
  ["SQL statements (sql.exec, with the cursor)", "SqlStorage::exec"],
  ["transactionSync (savepoints and the JS inside)", "transactionSync"],
  ["WebSocket send", "WebSocket::send"],
  ["WebSocket receive and pump", "WebSocket::pump"],
  // Compiled code has a name (JS:...) under --perf-basic-prof; interpreted code runs in V8's
  // bytecode handlers, so it falls in the next bucket, with V8's runtime and GC.
  ["JIT-compiled JavaScript", "JS:"],
  ["V8 (interpreted JavaScript, runtime, GC)", "v8::"],
  ["workerd event loop and I/O (kj)", "kj::"],
];

function run(system, dir) {
  return new Promise((resolve, reject) => {
    const args = [path.join(root, "test-harness/bench/v8-trace.js"), `--writes=${WRITES}`, `--in-flight=${IN_FLIGHT}`,
      "--flags=--perf-basic-prof", "--timeline=1000", ...(system === "baseline" ? ["--baseline"] : [])];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    const started = Date.now();
    const data = path.join(dir, `${system}.data`);
    let perf = null;
    // The workerd that v8-trace.js started is the newest one; past start-up and the JIT's warm-up.
    const timer = setTimeout(() => {
      const pid = execFileSync("pgrep", ["-n", "-x", "workerd"]).toString().trim();
      perf = spawn("perf", ["record", "-F", String(HZ), "-g", "-o", data, "-p", pid, "--", "sleep", String(SECONDS)], { stdio: "ignore" });
    }, AFTER * 1000);
    child.on("exit", async (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`v8-trace.js exited with ${code}`));
      if (!perf || Date.now() - started < (AFTER + SECONDS) * 1000) return reject(new Error("the writes ended before the recording did: raise --writes"));
      if (perf.exitCode === null) await new Promise((r) => perf.on("exit", r));
      // The writes made while recording: the steady pace (the median of v8-trace's per-1,000-writes
      // timeline, its first fifth left out) over the recording's seconds.
      const line = out.split("\n").find((l) => /^\s+\d/.test(l)) ?? "";
      const paces = line.trim().split(/\s+/).map((w) => Number.parseInt(w, 10)); // µs per write
      const steady = paces.slice(Math.floor(paces.length / 5)).sort((a, b) => a - b);
      const writes = (SECONDS * 1e6) / steady[Math.floor(steady.length / 2)];
      resolve({ data, writes, summary: out.split("\n").find((l) => l.startsWith(system === "baseline" ? "baseline:" : "shoal:")) });
    });
  });
}

function buckets(data) {
  const text = execFileSync("perf", ["script", "-i", data, "-F", "ip,sym"], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "ignore"] }).toString();
  const counts = new Map();
  let samples = 0;
  for (const stack of text.split(/\n\s*\n/)) {
    if (!stack.trim()) continue;
    samples++;
    const hit = BUCKETS.find(([, pattern]) => stack.includes(pattern));
    const name = hit ? hit[0] : "other (kernel, libc, unknown)";
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return { counts, samples };
}

const dir = mkdtempSync(path.join(tmpdir(), "shoal-perf-"));
try {
  const results = {};
  for (const system of ["shoal", "baseline"]) {
    console.error(`${system}: ${WRITES} writes, ${IN_FLIGHT} in flight, perf for ${SECONDS} s`);
    const r = await run(system, dir);
    results[system] = { ...r, ...buckets(r.data) };
    console.error(`  ${r.summary}; ${Math.round(r.writes)} writes while recording`);
  }
  const us = (r, n) => (n * (1e6 / HZ)) / r.writes;
  const { shoal: s, baseline: b } = results;
  console.log(`CPU per write by where it was spent (perf at ${HZ} Hz over ${SECONDS} s; ${WRITES} writes, ${IN_FLIGHT} in flight):`);
  console.log("| bucket | shoal µs | baseline µs | difference |");
  console.log("|---|---:|---:|---:|");
  const names = [...BUCKETS.map(([n]) => n), "other (kernel, libc, unknown)"];
  for (const n of names) {
    const x = us(s, s.counts.get(n) ?? 0);
    const y = us(b, b.counts.get(n) ?? 0);
    console.log(`| ${n} | ${x.toFixed(1)} | ${y.toFixed(1)} | ${(x - y >= 0 ? "+" : "") + (x - y).toFixed(1)} |`);
  }
  const x = us(s, s.samples);
  const y = us(b, b.samples);
  console.log(`| all | ${x.toFixed(1)} | ${y.toFixed(1)} | ${(x - y >= 0 ? "+" : "") + (x - y).toFixed(1)} (${(x / y).toFixed(3)}x) |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
