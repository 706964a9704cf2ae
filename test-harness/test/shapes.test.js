// Shapes as read permissions, end to end in workerd: who sees what, refusals,
// the resume matrix, compaction by alarm, hibernation, and shared work.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

let worker;
// Retention small enough to compact within a test: keep the newest 5 log rows, whatever their age.
const LIMITS = { logRowsMax: 5, logAgeMsMax: 0, compactBatchRows: 2 };

before(async () => {
  worker = await startWorker({ bindings: { SHOAL_LIMITS: JSON.stringify(LIMITS) } });
});
after(() => worker?.stop());

const stats = (shard) => worker.stats(shard);

let counter = 0;
async function user(sub, shard) {
  const s = await connect(worker, { sub, client: `${sub}-${++counter}`, shard });
  await s.type("connected");
  s.nextId = 1;
  s.push = async (...mutations) => {
    s.send({ type: "push", mutations: mutations.map(([name, args]) => ({ id: s.nextId++, name, args })) });
    const r = await s.type("pushResult");
    await s.poke();
    return r.results.map((x) => (x.status === "error" ? x.code : x.status));
  };
  // Resolves with the poke that answers this subscribe (live pokes for other subscriptions may come first).
  s.subscribe = async (id, shape, args, since) => {
    s.send({ type: "subscribe", id, shape, args, ...(since ? { since } : {}) });
    for (;;) {
      const poke = await s.poke();
      if (poke.parts.some((p) => p.sub === id)) return poke;
    }
  };
  return s;
}

const ids = (poke) => poke.rows.map((r) => `${r.op} ${r.id}`).sort();

/** The next poke of `s` whose rows satisfy `done` (a global row lands after its D1 apply). */
async function pokeUntil(s, done) {
  for (;;) {
    const poke = await s.poke({ timeoutMs: 30000 });
    if (done(poke)) return poke;
  }
}

test("two identities on overlapping shapes receive exactly their rows", async () => {
  // Each channel on its own shard; the list of my channels is global.
  const aliceA = await user("alice", "ov-a");
  const aliceBoth = await user("alice", "ov-both");
  const aliceList = await user("alice", "__global__");
  const bobList = await user("bob", "__global__");
  await aliceList.subscribe("ch", "myChannels", {});
  await bobList.subscribe("ch", "myChannels", {});
  assert.deepEqual(await aliceA.push(["createChannel", { id: "ov-a", name: "A" }]), ["ok"]);
  assert.deepEqual(await aliceBoth.push(["createChannel", { id: "ov-both", name: "B" }], ["addMember", { channelId: "ov-both", userId: "bob" }]), ["ok", "ok"]);
  const listed = (s) => s.all((f) => f.type === "pokePart").flatMap((p) => p.rows).filter((r) => r.op === "put").map((r) => r.doc.channelId);
  await pokeUntil(bobList, () => listed(bobList).includes("ov-both"));
  while (listed(aliceList).length < 2) await aliceList.poke({ timeoutMs: 30000 });
  assert.deepEqual(listed(aliceList).sort(), ["ov-a", "ov-both"]);
  assert.deepEqual(listed(bobList), ["ov-both"]);

  const bobA = await user("bob", "ov-a");
  const bobBoth = await user("bob", "ov-both");
  await bobA.subscribe("ma", "messagesByChannel", { channelId: "ov-a" });
  await bobBoth.subscribe("mb", "messagesByChannel", { channelId: "ov-both" });
  await aliceA.push(["sendMessage", { id: "m-a", channelId: "ov-a", text: "only alice" }]);
  await aliceBoth.push(["sendMessage", { id: "m-b", channelId: "ov-both", text: "both" }]);
  const poke = await bobBoth.poke();
  assert.deepEqual(poke.parts.map((p) => p.sub), ["mb"]);
  assert.deepEqual(ids(poke), ["put m-b"]);
  assert.ok(!JSON.stringify(bobA.frames).includes("only alice"));
  assert.ok(!bobA.all((f) => f.type === "pokePart").some((p) => p.rows.some((r) => r.id === "m-a" || r.id === "ov-a")));
  // Removing bob takes the messages out of his view, live, and the channel out of his list.
  await aliceBoth.push(["removeMember", { channelId: "ov-both", userId: "bob" }]);
  const gone = await bobBoth.poke();
  assert.deepEqual(ids(gone), ["del m-b"]);
  const unlisted = await pokeUntil(bobList, (p) => p.rows.some((r) => r.op === "del"));
  assert.deepEqual(ids(unlisted), ["del ov-both/bob"]);
  assert.ok(!JSON.stringify(bobList.frames).includes("ov-a"), "bob's list never named alice's own channel");
});

test("bad args and unknown shapes are refused with typed errors, and change nothing", async () => {
  const carol = await user("carol", "refusals");
  for (const args of [undefined, 5, {}, { channelId: 7 }, { channelId: "x", extra: 1 }, { channelId: "has space" }]) {
    carol.send({ type: "subscribe", id: "s", shape: "messagesByChannel", ...(args === undefined ? {} : { args }) });
    const e = await carol.type("error");
    assert.equal(e.code, "BAD_ARGS", JSON.stringify(args));
    assert.equal(e.id, "s");
  }
  carol.send({ type: "subscribe", id: "s", shape: "nope", args: {} });
  assert.equal((await carol.type("error")).code, "UNKNOWN_SHAPE");
  assert.equal(carol.all((f) => f.type === "pokeStart").length, 0);
});

test("the resume matrix: catch-up, epoch mismatch, cursor ahead, no since, compacted range", async () => {
  const shard = "resume";
  const alice = await user("alice", shard);
  await alice.push(["createChannel", { id: shard, name: "c" }], ["sendMessage", { id: "m1", channelId: shard, text: "1" }]);
  const first = await alice.subscribe("s", "messagesByChannel", { channelId: shard });
  const cursor = { seq: first.end.seq, epoch: first.end.epoch };
  await alice.close();

  const writer = await user("alice", shard);
  await writer.push(["sendMessage", { id: "m2", channelId: shard, text: "2" }]);

  const resumed = await user("alice", shard);
  const happy = await resumed.subscribe("s", "messagesByChannel", { channelId: shard }, cursor);
  assert.equal(happy.parts[0].reset, false);
  assert.deepEqual(ids(happy), ["put m2"]);
  const wrongEpoch = await resumed.subscribe("e", "messagesByChannel", { channelId: shard }, { ...cursor, epoch: "other" });
  assert.equal(wrongEpoch.parts[0].reset, true);
  assert.deepEqual(ids(wrongEpoch), ["put m1", "put m2"]);
  const ahead = await resumed.subscribe("a", "messagesByChannel", { channelId: shard }, { ...cursor, seq: cursor.seq + 1000 });
  assert.equal(ahead.parts[0].reset, true);
  const none = await resumed.subscribe("n", "messagesByChannel", { channelId: shard });
  assert.equal(none.parts[0].reset, true);

  // Enough writes to pass the retention, then the alarm trims the log above the old cursor.
  for (let i = 3; i < 12; i++) await writer.push(["sendMessage", { id: `m${i}`, channelId: shard, text: String(i) }]);
  const deadline = Date.now() + 15000;
  while ((await stats(shard)).floor <= cursor.seq) {
    assert.ok(Date.now() < deadline, "the alarm compacts the log");
    await new Promise((r) => setTimeout(r, 200));
  }
  const compacted = await resumed.subscribe("k", "messagesByChannel", { channelId: shard }, cursor);
  assert.equal(compacted.parts[0].reset, true, "a cursor below the floor gets a reset");
  assert.equal(compacted.rows.length, 11);
  assert.ok(compacted.end.seq > cursor.seq);
});

test("subscriptions keep working after the object is evicted (hibernation)", { timeout: 60000 }, async () => {
  const shard = "sleepy";
  const alice = await user("alice", shard);
  await alice.push(["createChannel", { id: shard, name: "c" }], ["addMember", { channelId: shard, userId: "bob" }]);
  const bob = await user("bob", shard);
  await bob.subscribe("s", "messagesByChannel", { channelId: shard });
  const before = await stats(shard);
  // workerd evicts an idle object after ~10 s while its hibernatable sockets stay open;
  // heartbeats are answered without waking it.
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 2500));
    bob.send("ping");
  }
  assert.ok(bob.all((f) => f.type === "pong").length >= 5);
  await alice.push(["sendMessage", { id: "after-sleep", channelId: shard, text: "wake up" }]);
  const poke = await bob.poke();
  assert.deepEqual(ids(poke), ["put after-sleep"]);
  const after = await stats(shard);
  assert.notEqual(after.instance, before.instance, "a new engine instance served the write: the object was evicted");
  assert.equal(after.views, 1, "the subscription was reloaded from SQLite");
});

test("one shape with many sockets costs one diff per commit", { timeout: 60000 }, async () => {
  const shard = "crowd";
  const owner = await user("owner", shard);
  const members = Array.from({ length: 40 }, (_, i) => `member${i}`);
  await owner.push(["createChannel", { id: shard, name: "c" }], ...members.map((m) => ["addMember", { channelId: shard, userId: m }]));
  const sockets = [];
  for (const m of members) {
    const s = await user(m, shard);
    await s.subscribe("s", "messagesByChannel", { channelId: shard });
    sockets.push(s);
  }
  const outsider = await user("outsider", shard);
  await outsider.subscribe("s", "messagesByChannel", { channelId: shard });
  const before = await stats(shard);
  await owner.push(["sendMessage", { id: "hello-all", channelId: shard, text: "hi" }]);
  for (const s of sockets) assert.deepEqual(ids(await s.poke()), ["put hello-all"]);
  const after = await stats(shard);
  assert.equal(after.diffQueries - before.diffQueries, 1, "41 sockets of 41 identities, one view, one query");
  // The push inserted one row: its round knew the log page from the insert and its ledger write's
  // RETURNING of the log's seq (ViewIndex, "known pages"), so it did not read the log.
  assert.equal(after.pagesKnown - before.pagesKnown, 1, "the round's page was known from the push's insert");
  assert.equal(after.pagesRead - before.pagesRead, 0, "the log was not read for it");
  assert.equal(outsider.all((f) => f.type === "pokeStart").length, 1, "the outsider only ever got its hydration");
});
