// The wire fuzzer: random, malformed and hostile frames against the real worker in workerd, over
// real WebSockets. Every answer must be a protocol frame; every error must carry a code of the
// protocol (java-src/protocol ErrorCode) and never INTERNAL; a socket may close only with a
// documented close code; afterwards the shard still serves an ordinary client.
//
//   node test-harness/fuzz/wire.js [--frames=100000] [--seed=1] [--sockets=4]
//
// (Runs the example app's worker, as test-harness/lib/worker.js starts it; build it first with
// `mvn -B -q install -DskipTests`.) A short run is part of the test command (test/fuzz.test.js).
import { NO_RATE_LIMIT } from "../bench/common.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startWorker } from "../lib/worker.js";
import { connect } from "../lib/socket.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The protocol's error codes, read from their one definition. */
export const ERROR_CODES = new Set(
  [...readFileSync(path.join(root, "java-src/protocol/src/main/java/dev/shoal/protocol/ErrorCode.java"), "utf8").matchAll(/^\s{4}([A-Z_]+)\(/gm)].map((m) => m[1]),
);
const SERVER_TYPES = new Set(["connected", "pokeStart", "pokePart", "pokeEnd", "poke", "pushResult", "error", "pong"]);
/** Closes a server may send (PROTOCOL.md): normal, token expired, version, forbidden, too large, rate limited. */
const CLOSE_CODES = new Set([1000, 4001, 4002, 4003, 4009, 4029]);

/** A small seeded PRNG (mulberry32): a failing seed replays exactly. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function frameSource(seed) {
  const r = prng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (xs) => xs[int(xs.length)];
  const strings = ["", "c1", "m1", "general", "ünïcødé", "日本語のテキスト", "\u0000", "\ud800", "' OR 1=1 --", "\"); DROP TABLE messages; --",
    "__cdc_log", "a".repeat(300), "x".repeat(5000), "../../etc", "me()", "%s%n", "<script>"];
  const numbers = [0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e-308, 0.5, 3.14159, -0];
  const scalar = () => pick([() => pick(strings), () => pick(numbers), () => r() < 0.5, () => null, () => int(1000)])();
  const value = (depth = 0) => {
    if (depth > 3 || r() < 0.5) return scalar();
    if (r() < 0.5) return Array.from({ length: int(4) }, () => value(depth + 1));
    const o = {};
    for (let i = int(4); i > 0; i--) o[pick(["id", "channelId", "userId", "text", "name", "topic", "type", "args", "since", pick(strings)])] = value(depth + 1);
    return o;
  };
  const shapes = ["messagesByChannel", "myChannels", "membersByChannel", "nope", "", "__proto__"];
  const mutators = ["createChannel", "renameChannel", "setTopic", "addMember", "removeMember", "sendMessage", "nope", "constructor"];
  const goodArgs = {
    createChannel: () => ({ id: `c${int(r() < 0.8 ? 4 : 20)}`, name: pick(["general", "x", "日本"]) }),
    sendMessage: () => ({ id: `m${int(100000)}`, channelId: `c${int(r() < 0.8 ? 4 : 20)}`, text: pick(strings.filter(Boolean)) }),
    addMember: () => ({ channelId: `c${int(r() < 0.8 ? 4 : 20)}`, userId: pick(["alice", "bob", "carol", "eve"]) }),
    removeMember: () => ({ channelId: `c${int(r() < 0.8 ? 4 : 20)}`, userId: pick(["alice", "bob", "carol", "eve"]) }),
    renameChannel: () => ({ id: `c${int(r() < 0.8 ? 4 : 20)}`, name: pick(strings) }),
    setTopic: () => ({ id: `c${int(r() < 0.8 ? 4 : 20)}`, topic: pick(strings) }),
  };
  let nextMutation = 1;
  const frames = {
    subscribe: () => ({ type: "subscribe", id: r() < 0.9 ? `s${int(50)}` : value(), shape: r() < 0.8 ? pick(shapes) : value(), args: r() < 0.6 ? { channelId: `c${int(r() < 0.8 ? 4 : 20)}` } : value(),
      ...(r() < 0.3 ? { since: r() < 0.5 ? { seq: pick(numbers), epoch: pick(strings) } : value() } : {}) }),
    unsubscribe: () => ({ type: "unsubscribe", id: r() < 0.8 ? `s${int(50)}` : value() }),
    push: () => ({ type: "push", mutations: r() < 0.85 ? Array.from({ length: 1 + int(r() < 0.1 ? 120 : 4) }, () => {
      const name = pick(mutators);
      return { id: r() < 0.8 ? nextMutation++ : pick(numbers), name, args: r() < 0.7 && goodArgs[name] ? goodArgs[name]() : value() };
    }) : value() }),
    junk: () => value(),
  };
  const text = () => {
    const kind = int(20);
    if (kind === 0) return pick(["", "null", "[]", "{", "}", "{\"type\":", "ping", "\ud800\udc00", "\u0000", "{\"type\":\"push\",\"mutations\":[{]}"]);
    if (kind === 1) return JSON.stringify(frames[pick(["subscribe", "push"])]()).slice(0, int(60));
    const frame = frames[pick(["subscribe", "subscribe", "unsubscribe", "push", "push", "push", "junk"])]();
    if (frame && typeof frame === "object" && !Array.isArray(frame) && r() < 0.15) {
      const keys = Object.keys(frame);
      if (keys.length) frame[pick(keys)] = value();
    }
    return JSON.stringify(frame);
  };
  /** After an OUT_OF_ORDER, the fuzzer continues from the id the server expects. */
  const resync = (expected) => {
    nextMutation = expected;
  };
  return { text, resync };
}

/** Runs `frames` fuzzed frames; returns { sent, answered, faults: [...], errors: {code: n}, closes: {code: n}, ms }. */
export async function fuzz({ worker, frames = 100000, seed = 1, sockets = 4, batch = 200 } = {}) {
  const faults = [];
  const errors = {};
  const closes = {};
  let answered = 0;
  let sent = 0;
  let barrier = 0;
  const users = ["alice", "bob", "carol", "eve"];
  // Each socket on the shard of one of the channels the frames name (channel c lives on shard c),
  // so that well-formed mutations reach the mutators; others answer WRONG_SHARD.
  const open = async (i) => {
    const s = await connect(worker, { sub: users[i % users.length], client: `fuzz${i}-${Date.now() % 1e6}`, shard: `c${i % 4}` });
    s.seen = 0;
    // Each socket is its own client, with its own mutation counter: most pushes are in order, so
    // mutators run, and some are not.
    s.source = frameSource(seed * 1000 + i);
    return s;
  };
  const check = (s, label) => {
    for (; s.seen < s.frames.length; s.seen++) {
      const f = s.frames[s.seen];
      answered++;
      if (!f || !SERVER_TYPES.has(f.type)) faults.push(`${label}: not a protocol frame: ${JSON.stringify(f).slice(0, 200)}`);
      const codes = f?.type === "error" ? [f.code] : f?.type === "pushResult" ? (f.results ?? []).filter((x) => x.status === "error").map((x) => x.code) : [];
      for (const code of codes) {
        errors[code] = (errors[code] ?? 0) + 1;
        if (!ERROR_CODES.has(code) || code === "INTERNAL") faults.push(`${label}: error ${code}: ${JSON.stringify(f).slice(0, 300)}`);
      }
      if (f?.type === "pushResult" && (f.results ?? []).some((x) => !["ok", "error", "duplicate"].includes(x.status))) faults.push(`${label}: bad status ${JSON.stringify(f).slice(0, 200)}`);
    }
  };
  const pool = await Promise.all(Array.from({ length: sockets }, (_, i) => open(i)));
  const t0 = performance.now();
  while (sent < frames) {
    await Promise.all(pool.map(async (s, i) => {
      const n = Math.min(batch, frames - sent);
      if (n <= 0) return;
      sent += n;
      for (let k = 0; k < n && !s.closed; k++) s.send(s.source.text());
      // A barrier: frames are handled in order, so its answer means every frame before it was.
      const id = `barrier-${++barrier}`;
      if (!s.closed) s.send({ type: "subscribe", id, shape: "no-such-shape", args: {} });
      try {
        await s.next((f) => (f.type === "error" && f.id === id) || f.type === "__closed__", { timeoutMs: 60000 });
      } catch (e) {
        if (!s.closed) faults.push(`socket ${i}: no answer to ${id}: ${e.message.slice(0, 300)}`);
      }
      const last = s.frames.findLast((f) => f.type === "pushResult" && f.results?.some((x) => x.expected));
      if (last) s.source.resync(last.results.find((x) => x.expected).expected);
      check(s, `socket ${i}`);
      if (s.closed) {
        closes[s.closed.code] = (closes[s.closed.code] ?? 0) + 1;
        if (!CLOSE_CODES.has(s.closed.code)) faults.push(`socket ${i}: closed with ${s.closed.code}`);
        pool[i] = await open(i + sockets * barrier);
      }
    }));
  }
  const ms = performance.now() - t0;
  // The shard still serves an ordinary client.
  const probe = await connect(worker, { sub: "zed", client: `probe${Date.now() % 1e6}`, shard: "probe-channel" });
  probe.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "probe-channel", name: "probe" } }] });
  const result = await probe.type("pushResult");
  if (result.results?.[0]?.status !== "ok") faults.push(`after fuzzing, an ordinary push failed: ${JSON.stringify(result)}`);
  await Promise.all([...pool, probe].map((s) => s.close()));
  return { sent, answered, faults, errors, closes, ms };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
  const worker = await startWorker({ bindings: NO_RATE_LIMIT });
  try {
    const out = await fuzz({ worker, frames: arg("frames", 100000), seed: arg("seed", 1), sockets: arg("sockets", 4) });
    console.log(`frames sent: ${out.sent}, server frames checked: ${out.answered}, ${(out.sent / (out.ms / 1000)).toFixed(0)} frames/s`);
    console.log(`error codes: ${JSON.stringify(out.errors)}`);
    console.log(`closes: ${JSON.stringify(out.closes)}`);
    console.log(out.faults.length === 0 ? "faults: none" : `faults (${out.faults.length}):\n${out.faults.slice(0, 50).join("\n")}`);
    process.exitCode = out.faults.length === 0 ? 0 : 1;
  } finally {
    await worker.stop();
  }
}
