// The app's shard-access hook, in workerd: the example app keeps "user:<id>" shards private.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

let worker;
before(async () => {
  worker = await startWorker();
});
after(() => worker?.stop());

test("an identity refused a shard gets FORBIDDEN and close 4003, and nothing else", async () => {
  const bob = await connect(worker, { sub: "bob", client: "b1", shard: "user:alice" });
  const e = await bob.type("error");
  assert.equal(e.code, "FORBIDDEN");
  for (let i = 0; i < 100 && !bob.closed; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(bob.closed?.code, 4003);
  assert.equal(bob.all((f) => f.type === "connected").length, 0);
});

test("the owner uses its private shard, and shared shards stay open to all", async () => {
  const alice = await connect(worker, { sub: "alice", client: "a1", shard: "user:alice" });
  assert.equal((await alice.type("connected")).shard, "user:alice");
  // A channel named like the shard lives there: only alice can reach it.
  alice.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "user:alice", name: "my notes" } }] });
  assert.equal((await alice.type("pushResult")).results[0].status, "ok");
  await alice.close();
  const bob = await connect(worker, { sub: "bob", client: "b2", shard: "team" });
  assert.equal((await bob.type("connected")).shard, "team");
  await bob.close();
});
