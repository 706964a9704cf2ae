// Mutations: exactly once, in order (PROTOCOL.md), against the real worker in
// workerd with real sockets: a cut socket and a full re-push, duplicates and
// gaps, application errors that consume their id, identity stamped from the
// token, and client ids that belong to one identity.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

let worker;

before(async () => {
  worker = await startWorker();
});

after(async () => {
  await worker?.stop();
});

const push = (mutations) => ({ type: "push", mutations });
const sendMessage = (id, messageId, channelId, text = messageId) => ({ id, name: "sendMessage", args: { id: messageId, channelId, text } });
const statuses = (r) => r.results.map((x) => (x.status === "error" ? `${x.id}:${x.code}` : `${x.id}:${x.status}`));

/** A socket on `shard`: the channel's shard that every test's channel lives on. */
async function open(sub, client, shard) {
  const s = await connect(worker, { sub, client, shard });
  const connected = await s.type("connected");
  return { s, connected };
}

/**
 * `pusher` (client `client`) creates `channel` with `watcher` as a member (mutations 1 and 2), and
 * the watcher subscribes to its messages before the first one: both sockets.
 */
async function channelWithWatcher(channel, pusher, client, watcherSub, watcherClient) {
  const { s: a } = await open(pusher, client, channel);
  a.send(push([
    { id: 1, name: "createChannel", args: { id: channel, name: channel } },
    { id: 2, name: "addMember", args: { channelId: channel, userId: watcherSub } },
  ]));
  assert.deepEqual(statuses(await a.type("pushResult")), ["1:ok", "2:ok"]);
  const { s: watcher } = await open(watcherSub, watcherClient, channel);
  watcher.send({ type: "subscribe", id: "msgs", shape: "messagesByChannel", args: { channelId: channel } });
  assert.deepEqual((await watcher.poke()).rows, []);
  return { a, watcher };
}

/** Every message put a socket has received so far, in arrival order. */
function messagePuts(s) {
  return s.all((f) => f.type === "pokePart").flatMap((p) => p.rows).filter((r) => r.op === "put" && r.table === "messages");
}

test("100 mutations pushed across a cut socket and pushed again are applied exactly once, in order", async () => {
  const channel = "ch-cut";
  // A second member watches the channel from before the first message.
  const { a, watcher } = await channelWithWatcher(channel, "pusher", "cut1", "watcher", "w1");

  const name = (i) => `m${String(i).padStart(3, "0")}`;
  const all = Array.from({ length: 100 }, (_, i) => sendMessage(i + 3, name(i + 1), channel, `message ${i + 1}`));
  // Three frames land for sure, with their results; two more are written to
  // the wire, and the socket is cut without waiting for their results (the
  // shard may have applied some, all or none of them).
  for (let f = 0; f < 3; f++) {
    a.send(push(all.slice(f * 10, f * 10 + 10)));
    await a.type("pushResult");
  }
  a.send(push(all.slice(30, 40)));
  await new Promise((sent) => a.ws.send(JSON.stringify(push(all.slice(40, 50))), sent));
  a.ws.terminate();

  // The same client reconnects and pushes its whole outbox again.
  const { s: b, connected } = await open("pusher", "cut1", channel);
  const k = connected.lastMutationId;
  assert.ok(k >= 32 && k <= 52, `the shard applied what reached it before the cut (${k})`);
  b.send(push(all));
  const result = await b.type("pushResult");
  assert.deepEqual(result.results.map((r) => r.id), all.map((m) => m.id), "one entry per mutation, in order");
  const firstOk = result.results.findIndex((r) => r.status === "ok");
  assert.ok(firstOk >= k - 2, "everything the shard had applied is a duplicate");
  assert.ok(result.results.slice(0, firstOk).every((r) => r.status === "duplicate"));
  assert.ok(result.results.slice(firstOk).every((r) => r.status === "ok"), JSON.stringify(result.results.slice(firstOk).filter((r) => r.status !== "ok")));
  assert.equal((await b.poke()).end.lastMutationId, 102, "the confirming poke covers every id");

  // The watcher saw each message put exactly once, in mutation order.
  for (let i = 0; i < 100 && messagePuts(watcher).length < 100; i++) await watcher.poke();
  const puts = messagePuts(watcher);
  assert.deepEqual(puts.map((r) => r.id), all.map((m) => m.args.id));
  assert.deepEqual(puts.map((r) => r.doc.text), all.map((m) => m.args.text));
  const times = puts.map((r) => r.doc.createdAt);
  assert.deepEqual(times, [...times].sort((x, y) => x - y), "applied in order: createdAt never goes back");

  // A fresh subscriber hydrates exactly the 100 rows.
  const { s: late } = await open("watcher", "w2", channel);
  late.send({ type: "subscribe", id: "msgs", shape: "messagesByChannel", args: { channelId: channel } });
  const hydrated = await late.poke();
  assert.deepEqual(hydrated.rows.map((r) => r.id).sort(), all.map((m) => m.args.id));

  // Pushing it all a third time changes nothing.
  b.send(push(all));
  assert.ok((await b.type("pushResult")).results.every((r) => r.status === "duplicate"));
  for (const s of [b, watcher, late]) await s.close();
});

test("duplicates are answered duplicate, a gap OUT_OF_ORDER with expected, and processing stops there", async () => {
  const { s } = await open("dedup", "d1", "ch-dd");
  s.send(push([{ id: 1, name: "createChannel", args: { id: "ch-dd", name: "d" } }, sendMessage(2, "dd-1", "ch-dd")]));
  assert.deepEqual(statuses(await s.type("pushResult")), ["1:ok", "2:ok"]);
  s.send(push([sendMessage(2, "dd-1", "ch-dd"), sendMessage(3, "dd-3", "ch-dd")]));
  assert.deepEqual(statuses(await s.type("pushResult")), ["2:duplicate", "3:ok"]);
  s.send(push([sendMessage(5, "dd-5", "ch-dd")]));
  const gap = await s.type("pushResult");
  assert.deepEqual(gap.results, [gap.results[0]]);
  assert.equal(gap.results[0].code, "OUT_OF_ORDER");
  assert.equal(gap.results[0].expected, 4);
  assert.equal((await s.poke()).end.lastMutationId, 3, "a refused gap consumes nothing");
  s.send(push([sendMessage(4, "dd-4", "ch-dd"), sendMessage(6, "dd-6", "ch-dd"), sendMessage(5, "dd-5", "ch-dd")]));
  const stopped = await s.type("pushResult");
  assert.deepEqual(statuses(stopped), ["4:ok", "6:OUT_OF_ORDER"], "no entry after the stop");
  assert.equal(stopped.results[1].expected, 5);
  assert.equal((await s.poke()).end.lastMutationId, 4);

  s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: "ch-dd" } });
  assert.deepEqual((await s.poke()).rows.map((r) => r.id).sort(), ["dd-1", "dd-3", "dd-4"]);
  await s.close();
});

test("application errors roll their writes back, consume their id and do not stop the push", async () => {
  const { s } = await open("errs", "e1", "ch-e");
  s.send(push([
    { id: 1, name: "createChannel", args: { id: "ch-e", name: "e" } },
    { id: 2, name: "sendMessage", args: { id: "e-1", channelId: "ch-e" } }, // text missing
    { id: 3, name: "noSuchMutator", args: {} },
    { id: 4, name: "createChannel", args: { id: "ch-e", name: "again" } }, // the id exists
    sendMessage(5, "e-2", "ch-not-mine"), // another channel lives on another shard
    sendMessage(6, "e-3", "ch-e"),
  ]));
  const r = await s.type("pushResult");
  assert.deepEqual(statuses(r), ["1:ok", "2:BAD_ARGS", "3:UNKNOWN_MUTATOR", "4:CONFLICT", "5:WRONG_SHARD", "6:ok"]);
  assert.equal(r.results[4].shard, "ch-not-mine");
  assert.match(r.results[1].message, /text/, "BAD_ARGS names the field");
  for (const e of r.results.filter((x) => x.status === "error")) assert.ok(e.message.length > 0);
  assert.equal((await s.poke()).end.lastMutationId, 6, "every processed id is consumed");

  s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: "ch-e" } });
  assert.deepEqual((await s.poke()).rows.map((r) => r.id), ["e-3"]);
  s.send({ type: "subscribe", id: "c", shape: "channel", args: { id: "ch-e" } });
  const channels = (await s.poke()).rows;
  assert.deepEqual(channels.map((r) => [r.id, r.doc.name]), [["ch-e", "e"]], "the refused second createChannel changed nothing");

  // Retrying a failed mutation is a duplicate, not a second attempt.
  s.send(push([{ id: 2, name: "sendMessage", args: { id: "e-1", channelId: "ch-e", text: "fixed" } }]));
  assert.deepEqual(statuses(await s.type("pushResult")), ["2:duplicate"]);
  await s.close();
});

test("authorId cannot be spoofed through args: BAD_ARGS, and the row carries the token's sub", async () => {
  const { s } = await open("honest", "h1", "ch-h");
  s.send(push([
    { id: 1, name: "createChannel", args: { id: "ch-h", name: "h" } },
    { id: 2, name: "sendMessage", args: { id: "h-1", channelId: "ch-h", text: "as someone else", authorId: "mallory" } },
    sendMessage(3, "h-2", "ch-h", "as myself"),
  ]));
  const r = await s.type("pushResult");
  assert.deepEqual(statuses(r), ["1:ok", "2:BAD_ARGS", "3:ok"]);
  assert.match(r.results[1].message, /authorId/);
  await s.poke(); // the confirmation
  s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: "ch-h" } });
  const rows = (await s.poke()).rows;
  assert.deepEqual(rows.map((x) => [x.id, x.doc.authorId]), [["h-2", "honest"]]);
  await s.close();
});

test("a client id used by one identity neither confirms nor blocks another identity's mutations", async () => {
  const { s: alice } = await open("alice-x", "shared", "ch-ax");
  alice.send(push([
    { id: 1, name: "createChannel", args: { id: "ch-ax", name: "a" } },
    sendMessage(2, "ax-1", "ch-ax"),
    sendMessage(3, "ax-2", "ch-ax"),
  ]));
  assert.deepEqual(statuses(await alice.type("pushResult")), ["1:ok", "2:ok", "3:ok"]);
  assert.equal((await alice.poke()).end.lastMutationId, 3);

  const { s: bob, connected } = await open("bob-x", "shared", "ch-ax");
  assert.equal(connected.lastMutationId, 0, "bob's counter for the same client id on the same shard starts at 0");
  const aliceFramesBefore = alice.frames.length;
  // Bob is no member of alice's channel: his mutations run, are refused, and consume his own ids
  // (the channel is hidden from him, so setTopic answers as for a missing one).
  bob.send(push([
    { id: 1, name: "setTopic", args: { id: "ch-ax", topic: "b" } },
    sendMessage(2, "bx-1", "ch-ax"),
  ]));
  assert.deepEqual(statuses(await bob.type("pushResult")), ["1:CONFLICT", "2:FORBIDDEN"], "not duplicates of alice's 1 and 2");
  assert.equal((await bob.poke()).end.lastMutationId, 2);
  bob.send(push([sendMessage(4, "bx-3", "ch-ax")]));
  const gap = await bob.type("pushResult");
  assert.equal(gap.results[0].expected, 3, "bob's own counter, not alice's");

  // Alice's next id is still 4; her socket got nothing from bob's pushes.
  alice.send(push([sendMessage(4, "ax-3", "ch-ax")]));
  assert.deepEqual(statuses(await alice.type("pushResult")), ["4:ok"]);
  await alice.poke();
  const since = alice.frames.slice(aliceFramesBefore);
  assert.deepEqual(since.filter((f) => f.type === "pokeEnd").map((f) => f.lastMutationId), [4], "only her own confirmation");
  assert.equal(since.filter((f) => f.type === "pushResult").length, 1);

  await alice.close();
  await bob.close();
  assert.equal((await open("alice-x", "shared", "ch-ax")).connected.lastMutationId, 4);
  assert.equal((await open("bob-x", "shared", "ch-ax")).connected.lastMutationId, 2);
});

test("every socket of the pushing (identity, client) gets the confirming poke; only the pusher the result", async () => {
  const { s: old } = await open("overlap", "o1", "ch-o");
  const { s: fresh } = await open("overlap", "o1", "ch-o");
  const { s: other } = await open("overlap", "o2", "ch-o");
  fresh.send(push([{ id: 1, name: "createChannel", args: { id: "ch-o", name: "o" } }]));
  assert.deepEqual(statuses(await fresh.type("pushResult")), ["1:ok"]);
  assert.equal((await fresh.poke()).end.lastMutationId, 1);
  assert.equal((await old.poke()).end.lastMutationId, 1, "the overlapping old socket is confirmed too");
  assert.equal(old.all((f) => f.type === "pushResult").length, 0);
  // A different client of the same user is a different outbox.
  other.send(push([sendMessage(1, "o2-1", "ch-o")]));
  assert.deepEqual(statuses(await other.type("pushResult")), ["1:ok"]);
  assert.equal((await other.poke()).end.lastMutationId, 1);
  for (const s of [old, fresh, other]) await s.close();
});

test("pushes sent back to back share poke rounds: a watcher gets every row once, in order, and every push is confirmed", async () => {
  const channel = "ch-burst";
  const { a, watcher } = await channelWithWatcher(channel, "burster", "b1", "burst-watcher", "bw");
  await a.poke();
  const before = await worker.stats(channel);

  // 40 one-mutation frames, written without waiting: the shard handles them back to back.
  const n = 40;
  const all = Array.from({ length: n }, (_, i) => sendMessage(i + 3, `b${String(i).padStart(2, "0")}`, channel));
  for (const m of all) a.send(push([m]));
  for (const m of all) assert.deepEqual(statuses(await a.type("pushResult")), [`${m.id}:ok`]);
  let confirmed = 0;
  while (confirmed < n + 2) confirmed = (await a.poke()).end.lastMutationId;
  assert.equal(confirmed, n + 2, "the last push is confirmed");
  while (messagePuts(watcher).length < n) await watcher.poke();
  assert.deepEqual(messagePuts(watcher).map((r) => r.id), all.map((m) => m.args.id), "every row once, in commit order");
  const seqs = watcher.all((f) => f.type === "pokeEnd").map((f) => f.seq);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `poke seqs only grow: ${seqs}`);
  const after = await worker.stats(channel);
  assert.equal(after.seq - before.seq, n, "the shard poked every commit");
  // How many rounds depends on how the frames arrived (7 here, for 40); some must have been shared.
  assert.ok(after.diffQueries - before.diffQueries < n, `${after.diffQueries - before.diffQueries} rounds for ${n} pushes`);
  await a.close();
  await watcher.close();
});
