// @shoal/worker: the Worker and the shard Durable Object of a Shoal app: routing, token checks,
// per-socket limits, and the calls into the app's engine (the Java engine and the app, compiled
// by TeaVM into the app's build/engine.js). No sync logic lives here (PROTOCOL.md is implemented
// by the engine); this package only binds the engine to the runtime and refuses what should
// never reach it. An app's worker entry (docs/getting-started.md):
//
//   import { ShardObject } from "../build/engine.js";
//   import { shoal } from "@shoal/worker";
//   const app = shoal({ engine: ShardObject });
//   export default app.worker;
//   export const ShardDO = app.ShardDO;
import { DurableObject } from "cloudflare:workers";
import { createVerifier, tokenFromRequest, AuthError, signHs256 } from "./auth.js";
import { PROTOCOL_VERSION as WIRE_PROTOCOL_VERSION, SUBPROTOCOL, AUTH_SUBPROTOCOL_PREFIX, DEFAULT_SHARD, CLOSE, LIMITS } from "./wire.gen.js";
import { GlobalSync, GLOBAL_SHARD, pollMsOf } from "./global.js";

/**
 * The Worker and the Durable Object class for an app's engine.
 * - `engine`: the `ShardObject` class exported by the app's compiled engine (build/engine.js).
 * - `fetch(request, env, ctx)`: optional, for the app's own routes; called for every request
 *   that is not /sync, /anonymous or /dev/token, it returns a Response, or undefined to let Shoal answer
 *   (GET / is 200, anything else 404).
 * The Durable Object namespace must be bound as SHARD (wrangler.toml).
 */
export function shoal({ engine, fetch: appFetch } = {}) {
  if (typeof engine !== "function") {
    throw new TypeError("shoal({ engine }): pass the ShardObject class exported by your app's build/engine.js (build it with `mvn package`)");
  }
  if (appFetch !== undefined && typeof appFetch !== "function") throw new TypeError("shoal({ fetch }): fetch must be a function");
  class AppShardDO extends ShardDO {}
  AppShardDO.Engine = engine;
  return { worker: { fetch: (request, env, ctx) => route(request, env, ctx, appFetch) }, ShardDO: AppShardDO };
}

export { signHs256, createVerifier, AuthError } from "./auth.js";

// The wire's constants come from their one definition in Java (wire.gen.js, generated).
const PROTOCOL_VERSION = String(WIRE_PROTOCOL_VERSION);
const SHARD_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CLIENT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Identity reaches the Durable Object only through these headers, set by the
// Worker after it strips every incoming header with this prefix.
const IDENTITY_PREFIX = "x-shoal-";
// With SHOAL_ALLOW_ANONYMOUS="true", POST /anonymous mints a token for a new
// identity ANONYMOUS_PREFIX + a random secret-backed name (docs/auth.md).
const ANONYMOUS_PREFIX = "anon:";
const ANONYMOUS_TTL_SEC = 30 * 24 * 3600;
const COMPACTION_DELAY_MS = 500;

// ---- configuration (env vars; docs/auth.md and docs/mutators.md list them) ----

const LIMIT_VARS = {
  ratePerSec: ["SHOAL_RATE_PER_SEC", 200],
  rateBurst: ["SHOAL_RATE_BURST", 400],
  // Mutations are charged one by one, after the frame that carried them ran: a socket whose
  // mutation bucket is below zero gets RATE_LIMITED on its next frame. The burst covers a client's
  // whole outbox (outboxMax, 1,000), so a long offline stretch replays in one go.
  mutationRatePerSec: ["SHOAL_MUTATION_RATE_PER_SEC", 200],
  mutationBurst: ["SHOAL_MUTATION_BURST", 1000],
  frameBytesMax: ["SHOAL_FRAME_BYTES_MAX", LIMITS.frameBytesMax],
};

/** The per-socket limits from env; a malformed value throws (a deployment error, loud on the first request). */
function limitsFrom(env) {
  const out = {};
  for (const [key, [name, fallback]] of Object.entries(LIMIT_VARS)) {
    const raw = env[name];
    const n = raw === undefined || raw === "" ? fallback : Number(raw);
    if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
    out[key] = n;
  }
  return out;
}

/**
 * The engine's limits: SHOAL_LIMITS, JSON overrides of its defaults by name
 * (docs/shapes.md, "Limits"), with the frame limit taken from
 * SHOAL_FRAME_BYTES_MAX so that the shim and the engine enforce one value.
 */
function engineLimits(env, limits) {
  const overrides = JSON.parse(env.SHOAL_LIMITS ?? "{}");
  if (overrides === null || typeof overrides !== "object" || Array.isArray(overrides)) {
    throw new TypeError("SHOAL_LIMITS must be a JSON object");
  }
  if ("frameBytesMax" in overrides) throw new TypeError("set the frame limit with SHOAL_FRAME_BYTES_MAX, not SHOAL_LIMITS");
  return { ...overrides, frameBytesMax: limits.frameBytesMax };
}

function list(value) {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

let cachedVerifier = null;
let cachedKey = null;

/**
 * The token verifier for this env, or null when no key source is configured. Cached per isolate.
 * Throws for a configuration that cannot be served safely (docs/auth.md, "The Worker's settings").
 */
function verifierFor(env) {
  const config = {
    ...(env.SHOAL_JWT_SECRET ? { secret: env.SHOAL_JWT_SECRET } : {}),
    ...(env.SHOAL_JWKS_URL ? { jwksUrl: env.SHOAL_JWKS_URL } : {}),
    ...(env.SHOAL_JWT_ISSUER ? { issuer: env.SHOAL_JWT_ISSUER } : {}),
    ...(env.SHOAL_JWT_AUDIENCE ? { audience: list(env.SHOAL_JWT_AUDIENCE) } : {}),
    forwardClaims: list(env.SHOAL_FORWARD_CLAIMS),
    clockSkewSec: clockSkewSec(env),
  };
  if (anonymousAllowed(env) && !config.secret) throw new TypeError("SHOAL_ALLOW_ANONYMOUS needs SHOAL_JWT_SECRET: anonymous tokens are signed with it");
  if (!config.secret && !config.jwksUrl) return null;
  if (config.jwksUrl && !(config.issuer && config.audience)) {
    // Without both, any token the key set signs is accepted: with a shared key set (Firebase's, an
    // Auth0 tenant's) another project's users would get in, as anyone they like.
    throw new TypeError("SHOAL_JWKS_URL needs SHOAL_JWT_ISSUER and SHOAL_JWT_AUDIENCE (docs/auth.md)");
  }
  const key = JSON.stringify(config);
  if (cachedKey !== key) {
    // Kept across requests: the verifier holds the JWKS cache.
    cachedVerifier = createVerifier(config);
    cachedKey = key;
  }
  return cachedVerifier;
}

/** Whether the request carries any credential at all, well-formed or not. */
function presentsCredentials(request) {
  return request.headers.has("authorization") ||
    list(request.headers.get("sec-websocket-protocol")).some((p) => p.startsWith(AUTH_SUBPROTOCOL_PREFIX));
}

/** SHOAL_CLOCK_SKEW_SEC: leeway for exp/nbf between the token issuer's clock and ours (0..60, default 60). */
function clockSkewSec(env) {
  return env.SHOAL_CLOCK_SKEW_SEC === undefined || env.SHOAL_CLOCK_SKEW_SEC === "" ? 60 : Number(env.SHOAL_CLOCK_SKEW_SEC);
}

function anonymousAllowed(env) {
  return env.SHOAL_ALLOW_ANONYMOUS === "true";
}

function text(status, body) {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

// ---- the Worker ----

/** The verified identity {sub, exp, alg, claims} for the request, or a Response refusing it. */
async function identify(request, env, verifier) {
  const token = tokenFromRequest(request);
  if (token === null && !presentsCredentials(request)) {
    if (anonymousAllowed(env)) return text(401, "missing bearer token (anonymous users get one from POST /anonymous)");
    return verifier ? text(401, "missing bearer token") : text(500, "server misconfigured: set SHOAL_JWT_SECRET or SHOAL_JWKS_URL");
  }
  if (verifier === null) return text(401, "token refused (no key is configured to verify tokens)");
  let identity;
  try {
    // A null token here is an empty or malformed credential: refused, never anonymous.
    identity = await verifier.verify(token);
  } catch (e) {
    if (e instanceof AuthError) return text(401, `token refused (${e.code})`);
    throw e;
  }
  if (/[\u0000-\u001f\u007f]/.test(identity.sub)) {
    // It could not travel in a header, and no identity provider means one.
    return text(401, "token refused (sub contains control characters)");
  }
  if (identity.sub.startsWith(ANONYMOUS_PREFIX) && !(anonymousAllowed(env) && identity.alg === "HS256")) {
    // Anonymous identities come only from tokens this Worker minted (POST /anonymous, signed with
    // SHOAL_JWT_SECRET), and only while anonymous access is on.
    return text(401, `token refused (a "${ANONYMOUS_PREFIX}" sub comes only from POST /anonymous)`);
  }
  return identity;
}

async function sync(request, env, url) {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    // A browser cannot read the status of a refused upgrade: it asks here, with the token as a
    // header, whether the token is the reason (401) or not (426).
    if (request.headers.has("authorization") && request.method === "GET") {
      let verifier;
      try {
        verifier = verifierFor(env);
      } catch {
        return text(426, "expected a WebSocket upgrade");
      }
      const verdict = await identify(request, env, verifier, url.searchParams.get("client") ?? "");
      if (verdict instanceof Response && verdict.status === 401) return verdict;
    }
    return text(426, "expected a WebSocket upgrade");
  }
  const shard = url.searchParams.get("shard") ?? DEFAULT_SHARD;
  const client = url.searchParams.get("client");
  const v = url.searchParams.get("v");
  if (!SHARD_PATTERN.test(shard)) return text(400, "shard must be 1..128 chars of [A-Za-z0-9_.:-]");
  if (client === null || !CLIENT_PATTERN.test(client)) return text(400, "client must be 1..64 chars of [A-Za-z0-9_-]");
  if (v === null) return text(400, "v (the protocol version) is required");
  let verifier;
  try {
    // A malformed setting fails here, as a 500 that names it, rather than inside the object.
    engineLimits(env, limitsFrom(env));
    pollMsOf(env);
    verifier = verifierFor(env);
  } catch (e) {
    return text(500, `server misconfigured: ${e.message}`);
  }

  const identity = await identify(request, env, verifier);
  if (identity instanceof Response) return identity;

  const headers = new Headers();
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(IDENTITY_PREFIX) && lower !== "authorization" && lower !== "sec-websocket-protocol") {
      headers.set(name, value);
    }
  }
  // The object only needs to know whether "shoal-v1" was offered; the token
  // offered next to it goes no further than this Worker.
  const offered = list(request.headers.get("sec-websocket-protocol")).filter((p) => !p.startsWith(AUTH_SUBPROTOCOL_PREFIX));
  if (offered.length > 0) headers.set("sec-websocket-protocol", offered.join(", "));
  headers.set("x-shoal-sub", identity.sub);
  // The moment this server holds the token expired, skew included: the shard re-checks it on every
  // frame and poke against its own clock, with the same leeway the Worker granted at connect.
  headers.set("x-shoal-exp", String(identity.exp > 0 ? identity.exp + clockSkewSec(env) : 0));
  headers.set("x-shoal-claims", JSON.stringify(identity.claims ?? {}));
  headers.set("x-shoal-shard", shard);
  headers.set("x-shoal-client", client);
  headers.set("x-shoal-version", v);
  const stub = env.SHARD.get(env.SHARD.idFromName(shard));
  return stub.fetch(new Request(request.url, { headers }));
}

// ---- development tokens (docs/deploy.md, "Development tokens") ----

const DEV_TOKEN_TTL_SEC = 24 * 3600;

/**
 * POST /dev/token {"sub": "alice"}: an HS256 token for that user, signed with SHOAL_JWT_SECRET, so
 * the example app's page can sign in during local development. It lets anyone act as anyone, so it
 * answers 404 unless SHOAL_DEV_TOKENS is "true", which only .dev.vars sets (never wrangler.toml).
 */
async function devToken(request, env) {
  if (env.SHOAL_DEV_TOKENS !== "true") return text(404, "not found");
  if (request.method !== "POST") {
    return new Response('use POST with the JSON body {"sub": "<user>"}\n', { status: 405, headers: { allow: "POST", "content-type": "text/plain; charset=utf-8" } });
  }
  if (!env.SHOAL_JWT_SECRET) return text(500, "server misconfigured: dev tokens need SHOAL_JWT_SECRET");
  let sub;
  try {
    sub = (await request.json())?.sub;
  } catch {
    return text(400, 'expected the JSON body {"sub": "<user>"}');
  }
  if (typeof sub !== "string" || sub.length < 1 || sub.length > 128 || /[\u0000-\u001f\u007f]/.test(sub) || sub.startsWith(ANONYMOUS_PREFIX)) {
    return text(400, `sub must be 1..128 characters, without control characters, not starting with "${ANONYMOUS_PREFIX}"`);
  }
  const exp = Math.floor(Date.now() / 1000) + DEV_TOKEN_TTL_SEC;
  const token = await signHs256({ sub, exp, ...checkedClaims(env) }, env.SHOAL_JWT_SECRET);
  return new Response(JSON.stringify({ token, exp }), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

// ---- anonymous identities (docs/auth.md, "Anonymous access") ----

/**
 * POST /anonymous: a token for a new anonymous identity, "anon:" + 128 random bits, signed with
 * SHOAL_JWT_SECRET. The token is the identity's only credential: the client keeps it and presents
 * it like any token. POST it back (Authorization: Bearer) before it expires to get a fresh one
 * for the same identity. 404 unless SHOAL_ALLOW_ANONYMOUS is "true".
 */
async function anonymousToken(request, env) {
  if (!anonymousAllowed(env)) return text(404, "not found");
  if (request.method !== "POST") {
    return new Response("use POST (with the current anonymous token as a bearer to renew it)\n", { status: 405, headers: { allow: "POST", "content-type": "text/plain; charset=utf-8" } });
  }
  let verifier;
  try {
    verifier = verifierFor(env);
  } catch (e) {
    return text(500, `server misconfigured: ${e.message}`);
  }
  let sub;
  if (presentsCredentials(request)) {
    const identity = await identify(request, env, verifier);
    if (identity instanceof Response) return identity;
    if (!identity.sub.startsWith(ANONYMOUS_PREFIX)) return text(400, "only an anonymous token is renewed here");
    sub = identity.sub;
  } else {
    sub = ANONYMOUS_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(16)));
  }
  const exp = Math.floor(Date.now() / 1000) + ANONYMOUS_TTL_SEC;
  const token = await signHs256({ sub, exp, ...checkedClaims(env) }, env.SHOAL_JWT_SECRET);
  return new Response(JSON.stringify({ token, sub, exp }), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

/** iss and aud for a token this Worker signs: the verifier checks them on every token when configured. */
function checkedClaims(env) {
  const audience = list(env.SHOAL_JWT_AUDIENCE)[0];
  return { ...(env.SHOAL_JWT_ISSUER ? { iss: env.SHOAL_JWT_ISSUER } : {}), ...(audience ? { aud: audience } : {}) };
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function route(request, env, ctx, appFetch) {
  const url = new URL(request.url);
  if (url.pathname === "/sync") return sync(request, env, url);
  if (url.pathname === "/anonymous") return anonymousToken(request, env);
  if (url.pathname === "/dev/token") return devToken(request, env);
  const answer = appFetch ? await appFetch(request, env, ctx) : undefined;
  if (answer !== undefined) return answer;
  if (url.pathname === "/" && request.method === "GET") return text(200, "Shoal: connect to /sync");
  return text(404, "not found");
}

// ---- per-socket limits ----

/**
 * A token bucket: `ratePerSec` frames sustained, bursts of `burst`. Kept in
 * memory per socket: an object is evicted only after it has been idle, and an
 * idle socket's bucket would be full anyway.
 */
class Bucket {
  constructor(ratePerSec, burst, nowMs) {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.tokens = burst;
    this.atMs = nowMs;
  }

  refill(nowMs) {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.atMs) * this.ratePerSec) / 1000);
    this.atMs = nowMs;
    return this.tokens;
  }

  take(nowMs) {
    if (this.refill(nowMs) < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes `n` tokens whatever is left: the balance may go below zero, refusing what comes next. */
  charge(n, nowMs) {
    this.refill(nowMs);
    this.tokens -= n;
  }
}

/** Whether `s` is longer than `max` bytes in UTF-8, without encoding it. */
function utf8Over(s, max) {
  if (s.length > max) return true; // every UTF-16 unit is at least one byte
  if (s.length * 3 <= max) return false; // and at most three
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is 4 bytes: 2 counted for each half.
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return n > max;
}

// ---- poke assembly (the engine's Peers.poke / flushPokes: java-src/engine/.../sync/Peers.java) ----

/**
 * One poke round: the engine names each socket's parts (the rows of a part are one string shared
 * by every socket that gets it), then flushes; every socket named gets exactly one poke: a single
 * `poke` frame when its parts fit one part's limit (at most one part, or UTF-16 length x 3 within
 * partBytesMax), else pokeStart / pokePart... / pokeEnd. Consecutive sockets that get the same
 * parts and lastMutationId share the frame text: it is built once, sent to each.
 */
class PokeRound {
  constructor(send) {
    this.send = send;
    this.pending = new Map(); // conn -> { parts: [sub, reset, rows, ...], last }
  }

  add(conn, sub, reset, rows, last) {
    let p = this.pending.get(conn);
    if (p === undefined) {
      p = { parts: [], last };
      this.pending.set(conn, p);
    }
    p.last = last;
    if (sub !== null && sub !== undefined) p.parts.push(sub, reset, rows);
  }

  abandon() {
    this.pending = new Map();
  }

  flush(pokeId, seq, epoch, partBytesMax) {
    const pending = this.pending;
    this.pending = new Map();
    const id = JSON.stringify(pokeId);
    const end = `,"seq":${seq},"epoch":${JSON.stringify(epoch)},"lastMutationId":`;
    let shared = null; // the last { parts, last, frames } built
    pending.forEach((p, conn) => {
      if (shared === null || shared.last !== p.last || !sameParts(shared.parts, p.parts)) {
        shared = { parts: p.parts, last: p.last, frames: pokeFrames(id, p.parts, end + p.last + "}", partBytesMax) };
      }
      const frames = shared.frames;
      for (let i = 0; i < frames.length; i++) this.send(conn, frames[i]);
    });
    return pending.size;
  }
}

function sameParts(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The frames of one poke; `parts` is flat: [sub, reset, rows, ...]; `tail` closes the last frame. */
function pokeFrames(id, parts, tail, partBytesMax) {
  let chars = 0;
  for (let i = 2; i < parts.length; i += 3) chars += parts[i].length;
  if (parts.length <= 3 || chars * 3 <= partBytesMax) {
    let body = "";
    for (let i = 0; i < parts.length; i += 3) {
      body += `${i ? "," : ""}{"sub":${JSON.stringify(parts[i])},"reset":${parts[i + 1]},"rows":${parts[i + 2]}}`;
    }
    return [`{"type":"poke","pokeId":${id},"parts":[${body}]${tail}`];
  }
  const frames = [`{"type":"pokeStart","pokeId":${id}}`];
  for (let i = 0; i < parts.length; i += 3) {
    frames.push(`{"type":"pokePart","pokeId":${id},"sub":${JSON.stringify(parts[i])},"reset":${parts[i + 1]},"rows":${parts[i + 2]}}`);
  }
  frames.push(`{"type":"pokeEnd","pokeId":${id}${tail}`);
  return frames;
}

// ---- the Durable Object ----

/** The shard Durable Object; shoal() makes the app's subclass, which knows its engine class. */
class ShardDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.limits = limitsFrom(env);
    this.sockets = new Map();
    // Sockets the engine is opening, not accepted yet: what it sends them is held here.
    this.opening = new Map();
    this.burstEnding = false; // a timer will end the engine's burst (endBurstSoon)
    this.buckets = new Map();
    this.attachments = new WeakMap(); // socket -> its attachment {conn, shard}: see attachment()
    for (const ws of ctx.getWebSockets()) {
      const a = this.attachment(ws);
      if (a) this.sockets.set(a.conn, ws);
    }
    this.engine = null;
    // Writes of global tables to D1, and the __global__ shard's mirror of them (global.js).
    this.global = new GlobalSync(this);
  }

  // The engine is built on the first event, when the shard's name is known
  // (from the request, or from a socket's attachment after hibernation).
  engineFor(shard) {
    if (this.engine === null) {
      const send = (conn, frame) => {
        const held = this.opening.size === 0 ? undefined : this.opening.get(conn);
        if (held) return void held.frames.push(frame);
        try {
          this.sockets.get(conn)?.send(frame);
        } catch {
          // a socket closing under us: its close event cleans up
        }
      };
      const round = new PokeRound(send);
      const peers = {
        send,
        poke: (conn, sub, reset, rows, lastMutationId) => round.add(conn, sub, reset, rows, lastMutationId),
        flushPokes: (pokeId, seq, epoch, partBytesMax) => round.flush(pokeId, seq, epoch, partBytesMax),
        abandonPokes: () => round.abandon(),
        close: (conn, code, reason) => {
          const held = this.opening.get(conn);
          if (held) return void (held.close = [code, reason]);
          try {
            this.sockets.get(conn)?.close(code, reason);
          } catch {}
        },
      };
      this.engine = new this.constructor.Engine(this.ctx.storage, peers, shard ?? null, engineLimits(this.env, this.limits));
      this.engine.retain([...this.sockets.keys()]);
    }
    return this.engine;
  }

  // Log compaction runs from an alarm, in bounded batches, never on a request's path
  // (compactionDue is one comparison in memory, plus one row read once the log is long; after a
  // frame, ShardObject.message's result carries it).
  async scheduleCompaction(due = this.engine?.compactionDue()) {
    if (due) await this.alarmIn(COMPACTION_DELAY_MS);
  }

  /** One alarm serves every duty (compaction, D1 applies, the global poll): it fires at the soonest. */
  async alarmIn(ms) {
    const at = Date.now() + ms;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  async alarm() {
    let more = false;
    await this.ctx.blockConcurrencyWhile(async () => {
      more = this.engineFor(null).compact();
    });
    if (more) await this.alarmIn(COMPACTION_DELAY_MS);
    await this.global.onAlarm(this.engine.name() === GLOBAL_SHARD);
  }

  async fetch(request) {
    const path = new URL(request.url).pathname;
    // Engine counters for tests and benchmarks, and the note of changed global rows from another
    // shard: only reachable through the namespace binding, since the Worker forwards nothing but /sync.
    if (path === "/__shoal/stats") return Response.json({ ...JSON.parse(this.engineFor(null).stats()), ...this.global.counters });
    if (path === "/__shoal/global-changed") {
      this.engineFor(GLOBAL_SHARD);
      await this.global.refreshRows(await request.json());
      return new Response(null, { status: 204 });
    }
    const h = request.headers;
    const { 0: clientSocket, 1: server } = new WebSocketPair();
    if (h.get("x-shoal-version") !== PROTOCOL_VERSION) {
      refuse(server, [errorFrame("PROTOCOL_VERSION", `this server speaks protocol version ${PROTOCOL_VERSION}`)], [CLOSE.PROTOCOL_VERSION, "PROTOCOL_VERSION"]);
    } else {
      if (h.get("x-shoal-shard") === GLOBAL_SHARD) {
        // The mirror of the global tables is read from D1 before its first socket is served.
        this.engineFor(GLOBAL_SHARD);
        await this.global.beforeOpen();
      }
      await this.ctx.blockConcurrencyWhile(async () => this.open(server, h));
      await this.scheduleCompaction();
      await this.global.kick(); // a previous instance may have died before its D1 apply
    }
    const headers = list(h.get("sec-websocket-protocol")).includes(SUBPROTOCOL) ? { "sec-websocket-protocol": SUBPROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: clientSocket, headers });
  }

  /**
   * Opens the socket in the engine, then accepts it for hibernation and sends what the engine
   * said meanwhile. A socket the engine refuses (closes while opening, e.g. FORBIDDEN 4003) is
   * never accepted for hibernation: see refuse(). Runs inside blockConcurrencyWhile, so no other
   * event can send to the socket between the engine learning of it and its acceptance.
   */
  open(server, h) {
    const shard = h.get("x-shoal-shard");
    const conn = crypto.randomUUID();
    const held = { frames: [], close: null };
    this.opening.set(conn, held);
    try {
      this.engineFor(shard).open(conn, h.get("x-shoal-sub"), h.get("x-shoal-client"), h.get("x-shoal-claims"), Number(h.get("x-shoal-exp")));
    } finally {
      this.opening.delete(conn);
    }
    if (held.close) {
      refuse(server, held.frames, held.close);
      return;
    }
    this.ctx.acceptWebSocket(server, [conn]);
    const attachment = { conn, shard };
    server.serializeAttachment(attachment);
    this.attachments.set(server, attachment);
    this.sockets.set(conn, server);
    for (const frame of held.frames) server.send(frame);
  }

  async webSocketMessage(ws, message) {
    // Frames that were already in flight when a fatal error closed the socket.
    if (ws.readyState !== WebSocket.OPEN) return;
    const { conn, shard } = this.attachment(ws);
    if (!this.admit(conn)) {
      fatal(ws, "RATE_LIMITED", CLOSE.RATE_LIMITED, `at most ${this.limits.ratePerSec} frames (bursts of ${this.limits.rateBurst}) and ${this.limits.mutationRatePerSec} mutations (bursts of ${this.limits.mutationBurst}) per second: reconnect and slow down`);
      return;
    }
    // Checked here so that a huge string never crosses into Java; the engine checks again.
    const max = this.limits.frameBytesMax;
    if (typeof message === "string" ? utf8Over(message, max) : message.byteLength > max) {
      fatal(ws, "FRAME_TOO_LARGE", CLOSE.FRAME_TOO_LARGE, `a frame may hold at most ${max} bytes`);
      return;
    }
    if (typeof message !== "string") {
      ws.send(errorFrame("BAD_FRAME", "binary frames are not part of the protocol: send JSON text"));
      return;
    }
    let outcome; // {mutations, inBurst, compactionDue}: ShardObject.message
    await this.ctx.blockConcurrencyWhile(async () => {
      outcome = this.engineFor(shard).message(conn, message);
    });
    if (outcome.inBurst) this.endBurstSoon();
    if (outcome.mutations > 0) this.buckets.get(conn)?.mutations.charge(outcome.mutations, Date.now());
    // Awaited only when there is something to wait for: each await is a turn of the event loop.
    if (outcome.compactionDue) await this.scheduleCompaction(true);
    const applying = this.global.kick(); // writes of global tables this frame committed go to D1 now
    if (applying) await applying;
  }

  /**
   * The socket's attachment {conn, shard}: written once as it opens and never changed, so it is
   * read from the socket once per socket and instance (a socket is the same object in every event
   * of an instance).
   */
  attachment(ws) {
    let a = this.attachments.get(ws);
    if (a === undefined) {
      a = ws.deserializeAttachment();
      if (a) this.attachments.set(ws, a);
    }
    return a;
  }

  /**
   * Pushes that arrive while earlier frames are still being handled (a burst) share poke rounds
   * (the engine's limit burstPushesMax): a timer set now fires once the frames waiting ahead of
   * it are handled, and the burst's last commits are poked then. A lone push was poked already.
   */
  endBurstSoon() {
    if (this.burstEnding) return;
    this.burstEnding = true;
    setTimeout(() => {
      this.burstEnding = false;
      // A lone push was poked already: ending its burst touches nothing, and needs no gate.
      if (!this.engine.holdsBack()) return void this.engine.endBurst();
      this.ctx.blockConcurrencyWhile(async () => this.engine.endBurst()).catch(() => {});
    }, 0);
  }

  /** A frame is admitted while the socket has a frame token and its mutation balance is not below zero. */
  admit(conn) {
    const now = Date.now();
    let b = this.buckets.get(conn);
    if (!b) {
      b = {
        frames: new Bucket(this.limits.ratePerSec, this.limits.rateBurst, now),
        mutations: new Bucket(this.limits.mutationRatePerSec, this.limits.mutationBurst, now),
      };
      this.buckets.set(conn, b);
    }
    return b.mutations.refill(now) >= 0 && b.frames.take(now);
  }

  async webSocketClose(ws, code) {
    await this.forget(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {}
  }

  async webSocketError(ws) {
    await this.forget(ws);
  }

  async forget(ws) {
    const a = this.attachment(ws);
    if (!a) return;
    this.sockets.delete(a.conn);
    this.buckets.delete(a.conn);
    await this.ctx.blockConcurrencyWhile(async () => this.engineFor(a.shard).closed(a.conn));
  }
}

function errorFrame(code, message) {
  return JSON.stringify({ type: "error", code, message });
}

/**
 * Answers a socket refused as it opens: `frames`, then the close [code, reason]. It is
 * accepted outside hibernation, since the object is done with it. (Measured in workerd: a
 * hibernatable socket closed before its 101 is returned sends the close frame but keeps
 * the connection open ~10 s; a plain one closes at once.)
 */
function refuse(server, frames, [closeCode, reason]) {
  server.accept();
  for (const frame of frames) server.send(frame);
  server.close(closeCode, reason);
}

/** A fatal error (PROTOCOL.md, "Errors"): the error frame, then the close. */
function fatal(ws, code, closeCode, message) {
  try {
    ws.send(errorFrame(code, message));
    ws.close(closeCode, code);
  } catch {
    // already closing
  }
}
