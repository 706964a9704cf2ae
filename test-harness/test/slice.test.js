// The vertical slice end to end: the real worker in workerd, real SQLite,
// real WebSockets. Two users, one channel: B sees A's message, nothing else.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

let worker;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "shoal-slice-"));
  worker = await startWorker({ persistDir: dir });
});

after(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a write reaches a subscriber as a poke, and confirms to its writer", async () => {
  // Channel c1 lives on shard c1 (the example shards its tables by channel).
  const a = await connect(worker, { sub: "alice", client: "a1", shard: "c1" });
  const b = await connect(worker, { sub: "bob", client: "b1", shard: "c1" });
  const connected = await a.type("connected");
  assert.equal(connected.shard, "c1");
  assert.equal(connected.lastMutationId, 0);
  assert.equal(typeof connected.epoch, "string");
  await b.type("connected");

  b.send({ type: "subscribe", id: "s1", shape: "messagesByChannel", args: { channelId: "c1" } });
  const hydration = await b.poke();
  assert.equal(hydration.parts[0].reset, true);
  assert.deepEqual(hydration.rows, []);

  a.send({ type: "push", mutations: [
    { id: 1, name: "createChannel", args: { id: "c1", name: "general" } },
    { id: 2, name: "addMember", args: { channelId: "c1", userId: "bob" } },
    { id: 3, name: "sendMessage", args: { id: "m1", channelId: "c1", text: "hello" } },
  ] });
  const result = await a.type("pushResult");
  assert.deepEqual(result.results.map((r) => r.status), ["ok", "ok", "ok"]);
  const confirm = await a.poke();
  assert.equal(confirm.end.lastMutationId, 3, "the writer's poke covers its mutations");
  // Another channel, on its own shard, written by the same user.
  const a2 = await connect(worker, { sub: "alice", client: "a1", shard: "c2" });
  await a2.type("connected");
  a2.send({ type: "push", mutations: [
    { id: 1, name: "createChannel", args: { id: "c2", name: "private" } },
    { id: 2, name: "sendMessage", args: { id: "m2", channelId: "c2", text: "elsewhere" } },
  ] });
  assert.deepEqual((await a2.type("pushResult")).results.map((r) => r.status), ["ok", "ok"]);
  await a2.close();

  const poke = await b.poke();
  assert.equal(poke.rows.length, 1, "only the message of c1 reaches B");
  const [op] = poke.rows;
  assert.equal(op.op, "put");
  assert.equal(op.table, "messages");
  assert.equal(op.id, "m1");
  assert.deepEqual(Object.keys(op.doc).sort(), ["authorId", "channelId", "createdAt", "id", "text"]);
  assert.equal(op.doc.authorId, "alice", "authorId is the writer's verified sub");
  assert.equal(op.doc.text, "hello");
  assert.equal(typeof op.doc.createdAt, "number");
  assert.equal(poke.end.seq, confirm.end.seq);
  assert.equal(poke.end.lastMutationId, 0, "B's own watermark, not A's");
  const seen = b.all((f) => f.type === "pokePart").flatMap((p) => p.rows);
  assert.ok(!seen.some((r) => r.id === "m2" || JSON.stringify(r).includes("elsewhere")), "nothing of channel c2 reaches B");
  await a.close();
  await b.close();
});

test("a missing or bad token is refused with 401 before the Durable Object", async () => {
  await assert.rejects(connect(worker, { token: "not-a-jwt" }), (e) => e.status === 401);
  const forged = (await worker.token("alice")).replace(/.$/, (c) => (c === "A" ? "B" : "A"));
  await assert.rejects(connect(worker, { token: forged }), (e) => e.status === 401);
});

test("the subprotocol carries the token for browsers", async () => {
  const s = await connect(worker, { sub: "carol", client: "k1", subprotocol: true });
  assert.equal(s.ws.protocol, "shoal-v1");
  await s.type("connected");
  await s.close();
});

test("data survives a restart of the runtime with persisted storage", async () => {
  const a = await connect(worker, { sub: "alice", client: "a2", shard: "c9" });
  await a.type("connected");
  a.send({ type: "push", mutations: [
    { id: 1, name: "createChannel", args: { id: "c9", name: "kept" } },
    { id: 2, name: "addMember", args: { channelId: "c9", userId: "bob" } },
    { id: 3, name: "sendMessage", args: { id: "m-persist", channelId: "c9", text: "still here" } },
  ] });
  assert.deepEqual((await a.type("pushResult")).results.map((r) => r.status), ["ok", "ok", "ok"]);
  await a.close();
  await worker.stop();
  worker = await startWorker({ persistDir: dir });
  const b = await connect(worker, { sub: "bob", client: "b2", shard: "c9" });
  b.send({ type: "subscribe", id: "s", shape: "messagesByChannel", args: { channelId: "c9" } });
  const poke = await b.poke();
  assert.deepEqual(poke.rows.map((r) => r.id), ["m-persist"]);
  await b.close();
});
