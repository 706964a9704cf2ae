// The app in workerd (Miniflare), over real WebSockets, speaking the Shoal protocol: the Worker
// entry is bundled as wrangler bundles it, with the engine from `mvn package` (build/engine.js).
// Run by scripts/test.sh after the Maven build.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { signHs256 } from "@shoal/worker/auth";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
let mf;
let wsUrl;

before(async () => {
  const outfile = join(mkdtempSync(join(tmpdir(), "app-worker-")), "worker.js");
  await build({
    entryPoints: [fileURLToPath(new URL("../worker/index.js", import.meta.url))],
    bundle: true, format: "esm", platform: "neutral", target: "es2022", external: ["cloudflare:*"], outfile, logLevel: "warning",
  });
  mf = new Miniflare({
    modules: true,
    modulesRoot: dirname(outfile),
    scriptPath: outfile,
    compatibilityDate: "2025-04-01",
    durableObjects: { SHARD: { className: "ShardDO", useSQLite: true } },
    bindings: { SHOAL_JWT_SECRET: SECRET },
    host: "127.0.0.1",
    port: 0,
  });
  wsUrl = (await mf.ready).toString().replace(/^http/, "ws").replace(/\/$/, "");
});

after(() => mf?.dispose());

/** A socket for `user` with client id `client`: every frame it receives is kept, parsed. */
async function connect(user, client) {
  const token = await signHs256({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
  const ws = new WebSocket(`${wsUrl}/sync?client=${client}&v=1`, { headers: { authorization: `Bearer ${token}` } });
  const frames = [];
  ws.on("message", (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  const waitFor = async (pred, what) => {
    for (let i = 0; i < 500; i++) {
      const found = frames.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${what} for ${user}/${client}; got ${JSON.stringify(frames)}`);
  };
  /** Every row op received so far for subscription `sub`, from both poke forms. */
  const rowsOf = (sub) => frames.flatMap((f) =>
    f.type === "pokePart" && f.sub === sub ? f.rows : f.type === "poke" ? f.parts.filter((p) => p.sub === sub).flatMap((p) => p.rows) : []);
  await waitFor((f) => f.type === "connected", "connected");
  return { ws, frames, waitFor, rowsOf, send: (frame) => ws.send(JSON.stringify(frame)) };
}

test("a todo syncs between two devices of its owner, and another user receives nothing", async () => {
  const phone = await connect("alice", "alice-phone");
  const laptop = await connect("alice", "alice-laptop");
  const bob = await connect("bob", "bob-1");
  for (const c of [phone, laptop, bob]) {
    c.send({ type: "subscribe", id: "mine", shape: "myTodos", args: {} });
  }
  const hydrated = (c) => c.waitFor((f) => (f.type === "pokePart" && f.sub === "mine" && f.reset) || (f.type === "poke" && f.parts.some((p) => p.sub === "mine" && p.reset)), "hydration");
  await Promise.all([phone, laptop, bob].map(hydrated));

  phone.send({ type: "push", mutations: [{ id: 1, name: "addTodo", args: { id: "todo-of-alice", text: "milk" } }] });
  const result = await phone.waitFor((f) => f.type === "pushResult", "pushResult");
  assert.deepEqual(result.results, [{ id: 1, status: "ok" }]);

  await laptop.waitFor(() => laptop.rowsOf("mine").some((r) => r.id === "todo-of-alice"), "the todo on the laptop");
  assert.deepEqual(laptop.rowsOf("mine").find((r) => r.id === "todo-of-alice"), { op: "put", table: "todos", id: "todo-of-alice", doc: { id: "todo-of-alice", text: "milk", done: false } });

  bob.send({ type: "push", mutations: [{ id: 1, name: "setDone", args: { id: "todo-of-alice", done: true } }] });
  const refused = await bob.waitFor((f) => f.type === "pushResult", "bob's pushResult");
  assert.equal(refused.results[0].status, "error", "bob cannot complete alice's todo");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(bob.rowsOf("mine"), [], "bob never receives alice's todo, not even its id");
  // (bob's own pushResult may echo the id he sent; nothing else may name it)
  assert.ok(!JSON.stringify(bob.frames.filter((f) => f.type !== "pushResult")).includes("todo-of-alice"), "no poke to bob mentions todo-of-alice (an id no random epoch or poke id can contain)");
  for (const c of [phone, laptop, bob]) c.ws.close();
});
