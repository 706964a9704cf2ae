// A short run of the wire fuzzer (test-harness/fuzz/wire.js; the full run is 100,000 frames):
// random and malformed frames against the real worker; every answer a protocol frame, every error
// a protocol code and never INTERNAL, closes only with documented codes, and the shard still
// serves an ordinary client afterwards.
import { NO_RATE_LIMIT } from "../bench/common.js";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startWorker } from "../lib/worker.js";
import { fuzz } from "../fuzz/wire.js";

let worker;
before(async () => {
  // The per-socket rate limit is tested in limits.test.js; here it would only cut the run short.
  worker = await startWorker({ bindings: NO_RATE_LIMIT });
});
after(() => worker?.stop());

test("3,000 fuzzed frames: no fault, every error typed", async () => {
  const out = await fuzz({ worker, frames: 3000, seed: 7 });
  assert.deepEqual(out.faults, []);
  assert.ok(out.errors.BAD_FRAME > 0 && out.errors.BAD_ARGS > 0, `the run reached the envelope and the validators: ${JSON.stringify(out.errors)}`);
});
