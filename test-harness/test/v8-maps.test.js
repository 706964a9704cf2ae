// The engine's optimized code survives a full garbage collection: V8 holds the hidden classes
// (maps) that optimized code embeds weakly, and a TeaVM object's map lives only as long as some
// instance of its class. Without the build's NewestInstancePlugin (java-src/do/.../build), a full
// GC between two writes finds no instance of the write path's short-lived classes (iterators,
// frame records, boxed numbers), and V8 throws away some fifty optimized functions of the engine
// at once ("embedded weak objects cleared"; measured 40 to 60 here). Runs the example app in
// workerd started directly (test-harness/lib/raw-workerd.js), since Miniflare cannot pass V8 flags:
// --expose-gc for a full GC on demand, --trace-deopt to read what V8 threw away, --trace-gc to see
// that the GC ran.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signHs256 } from "@shoal/worker/auth";
import { bundle, DEV_SECRET, EXAMPLE_WORKER } from "../lib/worker.js";
import { startRawWorkerd, weakObjectDeopts } from "../lib/raw-workerd.js";
import { connect } from "../lib/socket.js";

/** Writes enough for V8 to optimize the write path (it takes ~2,000: docs/benchmarks.md). */
const WARM_WRITES = 2500;
/** Deoptimizations a full GC may still cause: a few functions whose maps are shared by sibling classes. */
const TOLERATED = 5;

test("a full garbage collection does not throw away the engine's optimized code", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "shoal-v8-maps-"));
  const entry = path.join(dir, "main.js");
  // The example's worker, plus a route that runs two full GCs in its isolate (the object's too).
  writeFileSync(entry, `import worker from "./worker.js";
export * from "./worker.js";
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__test/gc") {
      gc();
      gc();
      return new Response("collected");
    }
    return worker.fetch(request, env, ctx);
  },
};
`);
  const system = await startRawWorkerd({
    modules: { "main.js": entry, "worker.js": await bundle(EXAMPLE_WORKER) },
    bindings: { SHOAL_JWT_SECRET: DEV_SECRET, SHOAL_RATE_PER_SEC: "1000000", SHOAL_RATE_BURST: "1000000",
      SHOAL_MUTATION_RATE_PER_SEC: "1000000", SHOAL_MUTATION_BURST: "1000000" },
    v8Flags: ["--expose-gc", "--trace-deopt", "--trace-gc"],
  });
  try {
    const worker = { wsUrl: system.wsUrl, token: async (sub) => signHs256({ sub, exp: Math.floor(Date.now() / 1000) + 3600 }, DEV_SECRET) };
    const s = await connect(worker, { sub: "alice", client: "c1", shard: "ch-gc" });
    await s.type("connected");
    s.send({ type: "subscribe", id: "msgs", shape: "messagesByChannel", args: { channelId: "ch-gc" } });
    let id = 0;
    const push = async (mutations) => {
      s.send({ type: "push", mutations });
      const result = await s.type("pushResult");
      assert.deepEqual(result.results.map((r) => r.status), mutations.map(() => "ok"), JSON.stringify(result));
    };
    await push([{ id: ++id, name: "createChannel", args: { id: "ch-gc", name: "gc" } }]);
    const write = () => push([{ id: ++id, name: "sendMessage", args: { id: `m-${id}`, channelId: "ch-gc", text: "a message" } }]);
    for (let i = 0; i < WARM_WRITES; i++) await write();

    const before = system.output().length;
    assert.equal(await (await fetch(`${system.url}/__test/gc`)).text(), "collected");
    for (let i = 0; i < 50; i++) await write(); // a function marked at the GC is thrown away as it next runs
    const after = system.output().slice(before);
    // The check reads a live trace: the forced GCs were full ones, and V8 printed them.
    assert.match(after, /Mark-Compact/, "no full GC in the trace: were the V8 flags applied?");
    const thrownAway = weakObjectDeopts(after);
    const total = [...thrownAway.values()].reduce((a, b) => a + b, 0);
    assert.ok(total <= TOLERATED, `${total} optimized functions thrown away at a full GC: ${[...thrownAway.keys()].join(", ")}`);
    await s.close();
  } finally {
    await system.stop();
  }
});
