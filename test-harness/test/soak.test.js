// A short soak (test-harness/bench/soak.js; the full one is 1,000 sockets of 200 members at 10
// writes/s for 60 s): every socket receives every message exactly once and in order.
import { NO_RATE_LIMIT } from "../bench/common.js";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../lib/worker.js";
import { soak } from "../bench/soak.js";

let worker;
before(async () => {
  worker = await startWorker({ bindings: NO_RATE_LIMIT });
});
after(() => worker?.stop());

test("100 sockets of 20 members, 10 writes/s for 5 s: no poke lost, duplicated or reordered", async () => {
  const r = await soak({ worker, sockets: 100, members: 20, rate: 10, seconds: 5 });
  assert.equal(r.messages, 50);
  assert.deepEqual(r.problems, []);
});
