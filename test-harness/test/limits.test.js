// The envelope and the per-socket limits against the real worker in workerd:
// malformed frames get BAD_FRAME and change nothing, oversized frames and
// floods close the socket with their codes, bad handshakes get HTTP 400, and
// through all of it the object keeps serving its other sockets.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startWorker } from "../lib/worker.js";
import { connect, upgrade } from "../lib/socket.js";

const MiB = 1 << 20;
let worker;

before(async () => {
  worker = await startWorker();
});

after(async () => {
  await worker?.stop();
});

async function upgradeStatus(url, headers) {
  return (await upgrade(url, headers)).status;
}

/**
 * Waits for the socket to close (the server's error frame comes first). The
 * close event fires once the connection has ended, not at the close frame:
 * 3 s by default, so a socket left open after its close frame fails.
 */
async function closedWith(s, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!s.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(s.closed, "the socket was closed");
  return s.closed.code;
}

/** A socket with a channel of its own (on the channel's shard), so that it can push messages. */
async function writer(sub, client, channel) {
  const s = await connect(worker, { sub, client, shard: channel });
  await s.type("connected");
  s.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: channel, name: channel } }] });
  assert.equal((await s.type("pushResult")).results[0].status, "ok");
  return s;
}

/**
 * Proves `shard` still serves: a fresh socket of another user pushes there and gets its result
 * (refused: it is no member of the channel) and the poke that confirms it.
 */
async function shardStillServes(tag, shard) {
  const s = await connect(worker, { sub: "witness", client: `w-${tag}`, shard });
  await s.type("connected");
  s.send({ type: "push", mutations: [{ id: 1, name: "setTopic", args: { id: shard, topic: "w" } }] });
  assert.equal((await s.type("pushResult")).results[0].status, "error", "refused (no member, or no such channel), but served");
  assert.equal((await s.poke()).end.lastMutationId, 1);
  await s.close();
}

test("malformed envelopes get BAD_FRAME, keep the socket open and change nothing", async () => {
  const s = await writer("mal", "mal1", "ch-mal");
  const bad = [
    ["not JSON", "{this is not json"],
    ["JSON but not an object", "[1,2,3]"],
    ["JSON null", "null"],
    ["no type", { mutations: [{ id: 2, name: "createChannel", args: { id: "x1", name: "x" } }] }],
    ["type not a string", { type: 7 }],
    ["unknown type", { type: "mutate", mutations: [] }],
    ["mutations missing", { type: "push" }],
    ["mutations not an array", { type: "push", mutations: { id: 2 } }],
    ["mutations empty", { type: "push", mutations: [] }],
    ["more than 100 mutations", { type: "push", mutations: Array.from({ length: 101 }, (_, i) => ({ id: i + 2, name: "createChannel", args: { id: `y${i}`, name: "y" } })) }],
    ["mutation not an object", { type: "push", mutations: ["createChannel"] }],
    ["mutation id a string", { type: "push", mutations: [{ id: "2", name: "createChannel", args: { id: "x2", name: "x" } }] }],
    ["mutation id 0", { type: "push", mutations: [{ id: 0, name: "createChannel", args: { id: "x3", name: "x" } }] }],
    ["mutation id fractional", { type: "push", mutations: [{ id: 2.5, name: "createChannel", args: { id: "x4", name: "x" } }] }],
    ["mutation name a number", { type: "push", mutations: [{ id: 2, name: 42, args: {} }] }],
    // The whole frame is judged before anything runs: a valid first entry is not applied either.
    ["a bad entry after a good one", { type: "push", mutations: [{ id: 2, name: "createChannel", args: { id: "x5", name: "x" } }, { id: 3 }] }],
    ["subscribe id a number", { type: "subscribe", id: 5, shape: "myChannels", args: {} }],
    ["subscribe id too long", { type: "subscribe", id: "s".repeat(65), shape: "myChannels", args: {} }],
    ["subscribe shape missing", { type: "subscribe", id: "s1", args: {} }],
    ["since not an object", { type: "subscribe", id: "s1", shape: "myChannels", args: {}, since: "yesterday" }],
    ["since.seq negative", { type: "subscribe", id: "s1", shape: "myChannels", args: {}, since: { seq: -1, epoch: "e" } }],
    ["since.epoch missing", { type: "subscribe", id: "s1", shape: "myChannels", args: {}, since: { seq: 0 } }],
    ["unsubscribe without id", { type: "unsubscribe" }],
  ];
  for (const [what, frame] of bad) {
    s.send(frame);
    const e = await s.type("error");
    assert.equal(e.code, "BAD_FRAME", `${what}: ${JSON.stringify(e)}`);
    assert.equal(typeof e.message, "string");
    assert.ok(!/Exception|\bat [\w.$]+\(/.test(e.message), `${what}: a message, not a stack trace: ${e.message}`);
  }
  s.ws.send(Buffer.from('{"type":"push"}'), { binary: true });
  assert.equal((await s.type("error")).code, "BAD_FRAME", "a binary frame");
  assert.equal(s.closed, null, "no malformed frame closes the socket");

  // Nothing above consumed a mutation id or wrote a row: id 2 is still the next one.
  s.send({ type: "subscribe", id: "mine", shape: "messagesByChannel", args: { channelId: "ch-mal" } });
  const hydrated = await s.poke();
  assert.deepEqual(hydrated.rows.map((r) => r.id), [], "no message from a refused frame exists");
  s.send({ type: "push", mutations: [{ id: 2, name: "sendMessage", args: { id: "x1", channelId: "ch-mal", text: "x" } }] });
  assert.deepEqual((await s.type("pushResult")).results, [{ id: 2, status: "ok" }]);
  await s.close();
});

test("a push of exactly 100 mutations is accepted", async () => {
  const s = await writer("hundred", "h1", "ch-100");
  s.send({ type: "push", mutations: Array.from({ length: 100 }, (_, i) => ({ id: i + 2, name: "sendMessage", args: { id: `h-${i}`, channelId: "ch-100", text: `#${i}` } })) });
  const r = await s.type("pushResult");
  assert.equal(r.results.length, 100);
  assert.ok(r.results.every((x) => x.status === "ok"));
  await s.close();
});

test("a frame over 1 MiB gets FRAME_TOO_LARGE and close 4009; the shard keeps serving", async () => {
  const s = await writer("big", "big1", "ch-big");
  const pad = "x".repeat(MiB + 1 - '{"type":"push","pad":""}'.length);
  s.send(`{"type":"push","pad":"${pad}"}`);
  assert.equal((await s.type("error")).code, "FRAME_TOO_LARGE");
  assert.equal(await closedWith(s), 4009);
  await shardStillServes("big", "ch-big");
});

test("the limit counts UTF-8 bytes, not characters", async () => {
  // 349,526 euro signs are 349,526 UTF-16 units but 1,048,578 bytes.
  const s = await writer("utf8", "u1", "ch-utf8");
  s.send({ type: "push", mutations: [{ id: 2, name: "sendMessage", args: { id: "u", channelId: "ch-utf8", text: "€".repeat(349526) } }] });
  assert.equal((await s.type("error")).code, "FRAME_TOO_LARGE");
  assert.equal(await closedWith(s), 4009);
});

test("a frame of exactly 1 MiB passes the frame limit and is judged on its content", async () => {
  const s = await writer("edge", "e1", "ch-edge");
  const head = '{"type":"push","mutations":[{"id":2,"name":"sendMessage","args":{"id":"e","channelId":"ch-edge","text":"';
  const tail = '"}}]}';
  const frame = head + "y".repeat(MiB - head.length - tail.length) + tail;
  assert.equal(Buffer.byteLength(frame), MiB);
  s.send(frame);
  const r = await s.type("pushResult");
  assert.equal(r.results[0].code, "BAD_ARGS", "args over 64 KiB are the validators' concern");
  assert.equal(s.closed, null);
  await s.close();
});

test("a binary frame over the limit is FRAME_TOO_LARGE too", async () => {
  const s = await writer("binbig", "bb1", "ch-binbig");
  s.ws.send(Buffer.alloc(MiB + 1, 0x20), { binary: true });
  assert.equal((await s.type("error")).code, "FRAME_TOO_LARGE");
  assert.equal(await closedWith(s), 4009);
});

test("the frame limit is configurable and enforced before the engine", async () => {
  // The shim refuses it before the text crosses into Java, and hands the same
  // value to the engine, whose own check is the backstop.
  const small = await startWorker({ bindings: { SHOAL_FRAME_BYTES_MAX: "1000" } });
  try {
    const s = await connect(small, { sub: "a", client: "a1" });
    await s.type("connected");
    s.send({ type: "unsubscribe", id: "x".repeat(900) });
    assert.equal((await s.type("error")).code, "BAD_FRAME", "900 bytes reach the engine");
    s.send({ type: "unsubscribe", id: "x".repeat(2000) });
    assert.equal((await s.type("error")).code, "FRAME_TOO_LARGE");
    assert.equal(await closedWith(s), 4009);
  } finally {
    await small.stop();
  }
});

test("over workerd's own 32 MiB cap the runtime closes with 1009 before the object sees the frame", async () => {
  // Measured: workerd sends a 1009 close frame ("Message is too large") at
  // once; the TCP connection ends ~10 s later. Between 1 MiB and 32 MiB the
  // frame reaches the object, which answers FRAME_TOO_LARGE (tests above).
  const s = await writer("huge", "hg1", "ch-huge");
  s.send("z".repeat(32 * MiB + 1));
  assert.equal(await closedWith(s, 30000), 1009);
  assert.deepEqual(s.all((f) => f.type === "error"), [], "the object never saw it");
  await shardStillServes("huge", "ch-huge");
});

test("within the default rate a burst of 300 frames is served", async () => {
  const s = await connect(worker, { sub: "calm", client: "calm1", shard: "ch-calm" });
  await s.type("connected");
  for (let i = 0; i < 300; i++) s.send({ type: "unsubscribe", id: `nothing-${i}` });
  s.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "ch-calm", name: "c" } }] });
  assert.equal((await s.type("pushResult")).results[0].status, "ok");
  assert.equal(s.closed, null);
  assert.deepEqual(s.all((f) => f.type === "error"), []);
  await s.close();
});

test("a flood over the default burst gets RATE_LIMITED and close 4029; other sockets are served", async () => {
  const s = await connect(worker, { sub: "flood", client: "flood1", shard: "ch-flood" });
  await s.type("connected");
  for (let i = 0; i < 1000; i++) s.send({ type: "unsubscribe", id: `nothing-${i}` });
  const e = await s.type("error");
  assert.equal(e.code, "RATE_LIMITED");
  assert.equal(await closedWith(s), 4029);
  assert.equal(s.all((f) => f.type === "error").length, 1, "one error, then nothing for the frames still in flight");
  await shardStillServes("flood", "ch-flood");
});

test("the rate limit is configurable, per socket, and refills over time", async () => {
  const slow = await startWorker({ bindings: { SHOAL_RATE_PER_SEC: "5", SHOAL_RATE_BURST: "10" } });
  try {
    const a = await connect(slow, { sub: "a", client: "a1", shard: "ch-a" });
    const b = await connect(slow, { sub: "b", client: "b1", shard: "ch-b" });
    await a.type("connected");
    await b.type("connected");
    for (let i = 0; i < 10; i++) a.send({ type: "unsubscribe", id: `n${i}` });
    await new Promise((r) => setTimeout(r, 1300)); // refills 6 frames' worth
    for (let i = 0; i < 5; i++) a.send({ type: "unsubscribe", id: `m${i}` });
    // b has its own bucket: a's traffic does not spend it.
    for (let i = 0; i < 9; i++) b.send({ type: "unsubscribe", id: `n${i}` });
    b.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "ch-b", name: "b" } }] });
    assert.equal((await b.type("pushResult")).results[0].status, "ok", "b's tenth frame is within its own burst");
    a.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "ch-a", name: "a" } }] });
    assert.equal((await a.type("pushResult")).results[0].status, "ok", "16 frames in 1.3 s fit 10 + 6.5");
    for (let i = 0; i < 20; i++) a.send({ type: "unsubscribe", id: `o${i}` });
    assert.equal((await a.type("error")).code, "RATE_LIMITED");
    assert.equal(await closedWith(a), 4029);
  } finally {
    await slow.stop();
  }
});

test("mutations are charged one by one: a socket over its mutation rate is RATE_LIMITED on its next frame", async () => {
  const slow = await startWorker({ bindings: { SHOAL_MUTATION_RATE_PER_SEC: "2", SHOAL_MUTATION_BURST: "20" } });
  try {
    const a = await connect(slow, { sub: "a", client: "a1", shard: "ch-rate" });
    const b = await connect(slow, { sub: "b", client: "b1", shard: "ch-rate" });
    await a.type("connected");
    await b.type("connected");
    const messages = (from, n) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: "sendMessage", args: { id: `m${from + i}`, channelId: "ch-rate", text: "x" } }));
    a.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "ch-rate", name: "r" } }, ...messages(2, 29)] });
    const ran = await a.type("pushResult");
    assert.equal(ran.results.filter((r) => r.status === "ok").length, 30, "one frame of 30 mutations runs: the charge comes after");
    // 30 charged against a burst of 20: the balance is below zero, so the next frame is refused,
    // however small (only 2 mutations a second come back).
    a.send({ type: "unsubscribe", id: "nothing" });
    assert.equal((await a.type("error")).code, "RATE_LIMITED");
    assert.equal(await closedWith(a), 4029);
    // b's balance is its own.
    b.send({ type: "subscribe", id: "s", shape: "channel", args: { id: "ch-rate" } });
    assert.notEqual((await b.next((f) => f.type === "poke" || f.type === "pokeStart" || f.type === "error")).code, "RATE_LIMITED");
  } finally {
    await slow.stop();
  }
});

test("an unsupported v is accepted as a socket, answered PROTOCOL_VERSION and closed 4002", async () => {
  const s = await connect(worker, { sub: "old", client: "old1", v: "2" });
  const e = await s.type("error");
  assert.equal(e.code, "PROTOCOL_VERSION");
  assert.equal(await closedWith(s), 4002);
  assert.equal(s.all((f) => f.type === "connected").length, 0, "no connected frame before it");
});

test("a missing v, a missing or malformed client or a malformed shard is HTTP 400", async () => {
  const auth = { authorization: `Bearer ${await worker.token("alice")}` };
  const sync = (q) => `${worker.wsUrl}/sync?${q}`;
  assert.equal(await upgradeStatus(sync("client=c1&v=1"), auth), 101);
  assert.equal(await upgradeStatus(sync("client=c1"), auth), 400, "v missing");
  assert.equal(await upgradeStatus(sync("v=1"), auth), 400, "client missing");
  assert.equal(await upgradeStatus(sync("client=&v=1"), auth), 400, "client empty");
  assert.equal(await upgradeStatus(sync(`client=${"c".repeat(65)}&v=1`), auth), 400, "client over 64 chars");
  assert.equal(await upgradeStatus(sync("client=a%2Fb&v=1"), auth), 400, "client with a slash");
  assert.equal(await upgradeStatus(sync("client=c1&v=1&shard=a%20b"), auth), 400, "shard with a space");
  assert.equal(await upgradeStatus(sync(`client=c1&v=1&shard=${"s".repeat(129)}`), auth), 400, "shard over 128 chars");
  // Checked before the token: a malformed request is 400 even without credentials.
  assert.equal(await upgradeStatus(sync("client=c1")), 400);
});

test("a malformed limit setting is a 500 that names it", async () => {
  const settings = [
    [{ SHOAL_RATE_PER_SEC: "fast" }, /SHOAL_RATE_PER_SEC/],
    [{ SHOAL_RATE_BURST: "-1" }, /SHOAL_RATE_BURST/],
    [{ SHOAL_MUTATION_BURST: "lots" }, /SHOAL_MUTATION_BURST/],
    // One frame limit for the shim and the engine: it has one name.
    [{ SHOAL_LIMITS: '{"frameBytesMax": 5}' }, /SHOAL_FRAME_BYTES_MAX/],
  ];
  for (const [bindings, names] of settings) {
    const bad = await startWorker({ bindings });
    try {
      const res = await upgrade(`${bad.wsUrl}/sync?client=c1&v=1`, { authorization: `Bearer ${await bad.token("a")}` });
      assert.equal(res.status, 500, JSON.stringify(bindings));
      assert.match(res.body, names);
    } finally {
      await bad.stop();
    }
  }
});
