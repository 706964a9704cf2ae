// Sharding end to end in workerd (Miniflare with its local D1): WRONG_SHARD frames, a global
// table written on one shard and seen live by a subscriber of __global__, and a restart between a
// shard's commit and its D1 apply that loses nothing and applies nothing twice.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

const workers = [];
after(() => Promise.all(workers.map((w) => w.stop())));

async function start(options) {
  const w = await startWorker(options);
  workers.push(w);
  return w;
}

let counter = 0;
async function user(worker, sub, shard) {
  const s = await connect(worker, { sub, client: `${sub}-${++counter}`, shard });
  await s.type("connected");
  s.nextId = 1;
  s.push = async (name, args) => {
    s.send({ type: "push", mutations: [{ id: s.nextId++, name, args }] });
    const r = await s.type("pushResult");
    await s.poke();
    return r.results[0];
  };
  s.subscribe = async (id, shape, args) => {
    s.send({ type: "subscribe", id, shape, args });
    for (;;) {
      const poke = await s.poke();
      if (poke.parts.some((p) => p.sub === id)) return poke;
    }
  };
  return s;
}

/** The next poke that carries a row op matching `pred`. */
async function pokeWith(s, pred) {
  for (;;) {
    const poke = await s.poke({ timeoutMs: 30000 });
    const row = poke.rows.find(pred);
    if (row) return row;
  }
}

test("WRONG_SHARD: subscribe and push on the wrong shard name the right one; nothing runs", async () => {
  const worker = await start();
  const alice = await user(worker, "alice", "c1");
  alice.send({ type: "subscribe", id: "s", shape: "messagesByChannel", args: { channelId: "c2" } });
  const e = await alice.type("error");
  assert.deepEqual([e.code, e.id, e.shard], ["WRONG_SHARD", "s", "c2"]);
  alice.send({ type: "subscribe", id: "p", shape: "profiles", args: {} });
  assert.equal((await alice.type("error")).shard, "__global__");
  assert.equal(alice.all((f) => f.type === "pokeStart").length, 0);

  const wrong = await alice.push("createChannel", { id: "c2", name: "two" });
  assert.deepEqual([wrong.status, wrong.code, wrong.shard], ["error", "WRONG_SHARD", "c2"]);
  const root = await alice.push("setDisplayName", { displayName: "Alice" });
  assert.deepEqual([root.code, root.shard], ["WRONG_SHARD", "__root__"]);
  assert.equal((await alice.push("createChannel", { id: "c1", name: "one" })).status, "ok", "ids were consumed; the right shard runs it");
});

test("a profile renamed by one user on one shard is seen live by another user on another shard", async () => {
  const worker = await start();
  const bob = await user(worker, "bob", "__global__");
  const hydrated = await bob.subscribe("p", "profiles", {});
  assert.equal(hydrated.parts[0].reset, true);
  const alice = await user(worker, "alice", "__root__");
  assert.equal((await alice.push("setDisplayName", { displayName: "Alice A." })).status, "ok");
  const row = await pokeWith(bob, (r) => r.id === "alice");
  assert.deepEqual(row.doc, { id: "alice", displayName: "Alice A." });
  assert.equal((await alice.push("setDisplayName", { displayName: "Alice B." })).status, "ok");
  assert.equal((await pokeWith(bob, (r) => r.id === "alice")).doc.displayName, "Alice B.");

  // The index of channels, written on the channel's shard, reaches the member's list on __global__.
  const mine = await user(worker, "carol", "__global__");
  await mine.subscribe("m", "myChannels", {});
  const carol = await user(worker, "carol", "general");
  assert.equal((await carol.push("createChannel", { id: "general", name: "General" })).status, "ok");
  const entry = await pokeWith(mine, (r) => r.op === "put");
  assert.deepEqual(entry.doc, { id: "general/carol", channelId: "general", channelName: "General" });
  assert.ok(!JSON.stringify(bob.frames).includes("general/carol"), "bob never sees carol's memberships");

  // A write to D1 behind Shoal's back is picked up by the poll.
  const d1 = await worker.mf.getD1Database("DB");
  await d1.prepare("UPDATE profiles SET displayName = 'Renamed in D1' WHERE id = 'alice'").run();
  assert.equal((await pokeWith(bob, (r) => r.id === "alice")).doc.displayName, "Renamed in D1");
});

test("a D1 table made by an earlier version of the app gets the columns declared since, and its rows stay", async () => {
  const worker = await start();
  const d1 = await worker.mf.getD1Database("DB");
  // As an earlier version of the example would have left it: profiles without displayName.
  await d1.prepare("CREATE TABLE profiles (id TEXT PRIMARY KEY NOT NULL)").run();
  await d1.prepare("INSERT INTO profiles (id) VALUES ('bob')").run();
  const bob = await user(worker, "bob", "__global__");
  const hydrated = await bob.subscribe("p", "profiles", {});
  assert.deepEqual(hydrated.rows.map((r) => r.doc), [{ id: "bob", displayName: null }], "the old row, its new column empty");
  const alice = await user(worker, "alice", "__root__");
  assert.equal((await alice.push("setDisplayName", { displayName: "Alice" })).status, "ok");
  assert.deepEqual((await pokeWith(bob, (r) => r.id === "alice")).doc, { id: "alice", displayName: "Alice" });
  const columns = await d1.prepare("PRAGMA table_info(profiles)").all();
  assert.deepEqual(columns.results.map((c) => c.name), ["id", "displayName"]);
});

const globalStats = (worker) => worker.stats("__global__");

test("the __global__ mirror follows D1 through its change feed, reading only the rows that changed, also after a restart", async () => {
  const persistDir = mkdtempSync(path.join(tmpdir(), "shoal-feed-"));
  const bindings = { SHOAL_GLOBAL_POLL_MS: "200" };
  const first = await start({ persistDir, bindings });
  const d1 = await first.mf.getD1Database("DB");
  const alice = await user(first, "alice", "__root__");
  assert.equal((await alice.push("setDisplayName", { displayName: "Alice" })).status, "ok");
  const bob = await user(first, "bob", "__global__");
  await bob.subscribe("p", "profiles", {});
  // Many rows written behind Shoal's back, before and after the mirror's first read.
  await d1.batch(Array.from({ length: 200 }, (_, i) => d1.prepare("INSERT INTO profiles (id, displayName) VALUES (?, ?)").bind(`u${i}`, `User ${i}`)));
  await pokeWith(bob, (r) => r.id === "u199");
  const read = (await globalStats(first)).globalRowsRead;
  await d1.prepare("UPDATE profiles SET displayName = 'Zed' WHERE id = 'u7'").run();
  assert.equal((await pokeWith(bob, (r) => r.id === "u7")).doc.displayName, "Zed");
  await d1.prepare("DELETE FROM profiles WHERE id = 'u8'").run();
  assert.equal((await pokeWith(bob, (r) => r.id === "u8")).op, "del");
  let stats = await globalStats(first);
  assert.equal(stats.globalFullReads, 1, "one full read, when the mirror was first made");
  assert.ok(stats.globalRowsRead - read <= 2, `the update and the delete read ${stats.globalRowsRead - read} rows, not the table`);
  // A feed row written by hand that names no global table is passed over; the feed goes on.
  await d1.prepare(`INSERT INTO __shoal_changes ("table", id, at) VALUES ('profiles"; DROP TABLE profiles; --', 'x', 0)`).run();
  await d1.prepare("UPDATE profiles SET displayName = 'After junk' WHERE id = 'u6'").run();
  assert.equal((await pokeWith(bob, (r) => r.id === "u6")).doc.displayName, "After junk");
  await bob.close();
  await alice.close();
  await first.stop();
  workers.splice(workers.indexOf(first), 1);

  // A new process: the mirror and its cursor are in __global__'s storage; it reads only what changed meanwhile.
  const second = await start({ persistDir, bindings });
  const d1Again = await second.mf.getD1Database("DB");
  await d1Again.prepare("UPDATE profiles SET displayName = 'Changed while away' WHERE id = 'u9'").run();
  const carol = await user(second, "carol", "__global__");
  const hydrated = await carol.subscribe("p", "profiles", {});
  const names = Object.fromEntries(hydrated.rows.map((r) => [r.id, r.doc.displayName]));
  assert.equal(names.u9, "Changed while away");
  assert.equal(names.u7, "Zed");
  assert.equal(names.u8, undefined);
  assert.equal(Object.keys(names).length, 200, "alice and 199 of the 200 users");
  stats = await globalStats(second);
  assert.equal(stats.globalFullReads, 0, "no full read after the restart");
  assert.ok(stats.globalRowsRead <= 2, `read ${stats.globalRowsRead} rows`);
});

test("a restart between the shard's commit and the D1 apply loses nothing and applies nothing twice", async () => {
  const persistDir = mkdtempSync(path.join(tmpdir(), "shoal-d1-"));
  const crashing = await start({ persistDir, bindings: { SHOAL_TEST_CRASH_BEFORE_D1: "true" } });
  const alice = await user(crashing, "alice", "__root__");
  assert.equal((await alice.push("setDisplayName", { displayName: "Before the crash" })).status, "ok");
  const d1Before = await crashing.mf.getD1Database("DB");
  const tables = await d1Before.prepare("SELECT name FROM sqlite_master WHERE name = 'profiles'").all();
  assert.equal(tables.results.length, 0, "nothing reached D1: the object 'died' after its commit");
  await alice.close();
  await crashing.stop();
  workers.splice(workers.indexOf(crashing), 1);

  const restarted = await start({ persistDir });
  // Any event wakes the shard; its pending outbox is applied (the alarm would do it too).
  const again = await user(restarted, "alice", "__root__");
  const d1 = await restarted.mf.getD1Database("DB");
  let rows = [];
  for (let i = 0; i < 300 && rows.length === 0; i++) {
    rows = await d1.prepare("SELECT id, displayName FROM profiles").all().then((r) => r.results).catch(() => []);
    if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(rows, [{ id: "alice", displayName: "Before the crash" }]);
  const applied = await d1.prepare("SELECT shard, outbox_id FROM __shoal_applied").all();
  assert.equal(applied.results.length, 1);
  assert.match(applied.results[0].shard, /^__root__@/, "keyed by the shard and its log's epoch");
  assert.equal(applied.results[0].outbox_id, 1);
  // The next write applies once too, after the first.
  assert.equal((await again.push("setDisplayName", { displayName: "After" })).status, "ok");
  for (let i = 0; i < 300; i++) {
    const r = await d1.prepare("SELECT displayName FROM profiles WHERE id = 'alice'").first();
    if (r.displayName === "After") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await d1.prepare("SELECT count(*) AS n FROM __shoal_applied").first()).n, 2);
  const bob = await user(restarted, "bob", "__global__");
  const seen = await bob.subscribe("p", "profiles", {});
  assert.deepEqual(seen.rows.map((r) => r.doc), [{ id: "alice", displayName: "After" }]);
});
