#!/usr/bin/env node
// Two workers head to head: the bench app's engine and the shim (worker-shim/src) at two commits (or
// the working tree), run through issue 9's sustained-writes modes on fresh systems,
// interleaved (A, B, A, B, ...) so that the machine's drift falls on both alike. Prints each
// engine's median workerd CPU per mutation and mutations/s, every run's figures, and B against A.
// For a change of a few percent: single runs of fanout.js move by more than that.
//
//   node test-harness/bench/ab.js <rev-a> [<rev-b>] [--runs=4] [--modes=one,fifty,lone] [--baseline]
//
//   <rev-b> defaults to the working tree ("."); --baseline adds the hand-written object as a third
//   contender. Each revision is built in a git worktree under the system's temp directory with
//   `mvn install`, which puts its artifacts in the local Maven repository: the working tree's are
//   installed again at the end. Each engine runs behind its own revision's shim.
// A script, not a test: nothing here asserts on time.
import { execSync } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, startSystem, sustainedWrites, NO_RATE_LIMIT, machine } from "./common.js";

const flag = (name, d) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? d;
const revs = process.argv.slice(2).filter((a) => !a.startsWith("--"));
if (revs.length < 1 || revs.length > 2) {
  console.error("usage: node test-harness/bench/ab.js <rev-a> [<rev-b>] [--runs=4] [--modes=one,fifty,lone] [--baseline]");
  process.exit(2);
}
if (revs.length === 1) revs.push(".");
const RUNS = Number(flag("runs", 4));
const DURATION_MS = 3000;
const MODES = {
  one: { key: "one", label: "1 mutation/push, 16 in flight", writers: 1, batch: 1, inFlight: 16 },
  fifty: { key: "fifty", label: "50 mutations/push, 4 in flight", writers: 1, batch: 50, inFlight: 4 },
  // Not one of issue 9's modes: one push at a time, what a lone write costs (the N=1 latency row's CPU).
  lone: { key: "lone", label: "1 mutation/push, 1 in flight", writers: 1, batch: 1, inFlight: 1 },
};
const modes = flag("modes", "one,fifty").split(",").map((m) => MODES[m] ?? (() => { throw new Error(`unknown mode ${m}`); })());

const APP = path.join(root, "test-harness/bench/app");
const sh = (cmd, cwd) => execSync(cmd, { cwd, stdio: ["ignore", "ignore", "inherit"] });

/** The bench app's engine and the shim at `rev` ("." = the working tree), as a worker entry of its own. */
function buildEngine(rev, name) {
  let dir = root;
  if (rev !== ".") {
    dir = mkdtempSync(path.join(tmpdir(), "shoal-ab-"));
    sh(`git worktree add --detach -q ${dir} ${rev}`, root);
  }
  try {
    console.error(`building ${name} (${rev === "." ? "working tree" : rev})`);
    sh("mvn -B -q install -DskipTests", dir);
    sh("mvn -B -q -f test-harness/bench/app/pom.xml package -DskipTests", dir);
    copyFileSync(path.join(dir, "test-harness/bench/app/build/engine.js"), path.join(APP, `build/engine-ab-${name}.js`));
    rmSync(path.join(APP, `build/shim-ab-${name}`), { recursive: true, force: true });
    cpSync(path.join(dir, "worker-shim/src"), path.join(APP, `build/shim-ab-${name}`), { recursive: true });
  } finally {
    if (rev !== ".") sh(`git worktree remove --force ${dir}`, root);
  }
  const entry = path.join(APP, `worker/.ab-${name}.js`); // ignored by git, like build/
  writeFileSync(entry, `import { ShardObject } from "../build/engine-ab-${name}.js";\nimport { shoal } from "../build/shim-ab-${name}/index.js";\n`
    + `const app = shoal({ engine: ShardObject });\nexport default app.worker;\nexport const ShardDO = app.ShardDO;\n`);
  return entry;
}

const contenders = [
  { name: "A", rev: revs[0], entry: buildEngine(revs[0], "A") },
  { name: "B", rev: revs[1], entry: buildEngine(revs[1], "B") },
];
if (revs[1] !== ".") sh("mvn -B -q install -DskipTests", root); // leave the working tree's artifacts installed
if (process.argv.includes("--baseline")) contenders.push({ name: "baseline", rev: "hand-written", baseline: true });

async function run(c, mode) {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-ab-run-"));
  const system = c.baseline
    ? await startSystem({ persistDir: dir, scriptPath: "test-harness/bench/baseline-worker.js", className: "BaselineDO" })
    : { ...(await startSystem({ persistDir: dir, bindings: NO_RATE_LIMIT, scriptPath: path.relative(root, c.entry) })), rootOnly: true, policies: true };
  try {
    return await sustainedWrites(system, { ...mode, durationMs: DURATION_MS });
  } finally {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
};
const lines = [];
for (const mode of modes) {
  const results = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let i = 1; i <= RUNS; i++) {
    for (const c of contenders) {
      console.error(`${mode.label}, run ${i}/${RUNS}: ${c.name}`);
      const r = await run(c, mode);
      if (r.failed) throw new Error(`${c.name} failed: ${r.failed}`);
      results[c.name].push(r);
    }
  }
  lines.push("", `${mode.label} (${RUNS} runs of ${DURATION_MS} ms each, interleaved):`, "| engine | revision | CPU / mutation (median) | mutations/s (median) | each run: CPU µs, mutations/s |", "|---|---|---:|---:|---|");
  const med = {};
  for (const c of contenders) {
    const rs = results[c.name];
    med[c.name] = { cpu: median(rs.map((r) => r.cpuPerMutation * 1000)), rate: median(rs.map((r) => r.perSecond)) };
    lines.push(`| ${c.name} | ${c.rev} | ${med[c.name].cpu.toFixed(1)} µs | ${med[c.name].rate.toFixed(0)} | ${rs.map((r) => `${(r.cpuPerMutation * 1000).toFixed(0)}, ${r.perSecond.toFixed(0)}`).join("; ")} |`);
  }
  lines.push(`B against A: CPU per mutation ${(med.B.cpu / med.A.cpu).toFixed(3)}x, mutations/s ${(med.B.rate / med.A.rate).toFixed(3)}x`);
  if (med.baseline) lines.push(`against the baseline: mutations/s A ${(med.A.rate / med.baseline.rate).toFixed(2)}x, B ${(med.B.rate / med.baseline.rate).toFixed(2)}x (issue 9: >= 0.9x with 1/push, >= 0.8x with 50/push)`);
}
console.log(machine(`test-harness/bench/ab.js ${process.argv.slice(2).join(" ")}`));
console.log(lines.join("\n"));
