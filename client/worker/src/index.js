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

/**
 * The Worker and the Durable Object class for an app's engine.
 * - `engine`: the `ShardObject` class exported by the app's compiled engine (build/engine.js).
 * - `fetch(request, env, ctx)`: optional, for the app's own routes; called for every request
 *   that is not /sync or /dev/token, it returns a Response, or undefined to let Shoal answer
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

const PROTOCOL_VERSION = "1";
const DEFAULT_SHARD = "__root__";
const SHARD_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CLIENT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Identity reaches the Durable Object only through these headers, set by the
// Worker after it strips every incoming header with this prefix.
const IDENTITY_PREFIX = "x-shoal-";
// With SHOAL_ALLOW_ANONYMOUS="true", a request without a token is the
// identity ANONYMOUS_PREFIX + its client id (docs/auth.md).
const ANONYMOUS_PREFIX = "anon:";
const COMPACTION_DELAY_MS = 500;
const AUTH_SUBPROTOCOL_PREFIX = "shoal-auth.";

// ---- configuration (env vars; docs/auth.md and docs/mutators.md list them) ----

const LIMIT_VARS = {
  ratePerSec: ["SHOAL_RATE_PER_SEC", 200],
  rateBurst: ["SHOAL_RATE_BURST", 400],
  frameBytesMax: ["SHOAL_FRAME_BYTES_MAX", 1 << 20],
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

/** The token verifier for this env, or null when no key source is configured. Cached per isolate. */
function verifierFor(env) {
  const config = {
    ...(env.SHOAL_JWT_SECRET ? { secret: env.SHOAL_JWT_SECRET } : {}),
    ...(env.SHOAL_JWKS_URL ? { jwksUrl: env.SHOAL_JWKS_URL } : {}),
    ...(env.SHOAL_JWT_ISSUER ? { issuer: env.SHOAL_JWT_ISSUER } : {}),
    ...(env.SHOAL_JWT_AUDIENCE ? { audience: list(env.SHOAL_JWT_AUDIENCE) } : {}),
    forwardClaims: list(env.SHOAL_FORWARD_CLAIMS),
    clockSkewSec: clockSkewSec(env),
  };
  if (!config.secret && !config.jwksUrl) return null;
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

/** The verified identity {sub, exp, claims} for the request, or a Response refusing it. */
async function identify(request, env, verifier, client) {
  const token = tokenFromRequest(request);
  if (token === null && !presentsCredentials(request)) {
    if (anonymousAllowed(env)) return { sub: ANONYMOUS_PREFIX + client, exp: 0, claims: {} };
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
  if (anonymousAllowed(env) && identity.sub.startsWith(ANONYMOUS_PREFIX)) {
    // An anonymous identity is named by its client id alone; no token may claim one.
    return text(401, `token refused (a token's sub may not start with "${ANONYMOUS_PREFIX}")`);
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
    verifier = verifierFor(env);
  } catch (e) {
    return text(500, `server misconfigured: ${e.message}`);
  }

  const identity = await identify(request, env, verifier, client);
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
  const token = await signHs256({ sub, exp }, env.SHOAL_JWT_SECRET);
  return new Response(JSON.stringify({ token, exp }), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

async function route(request, env, ctx, appFetch) {
  const url = new URL(request.url);
  if (url.pathname === "/sync") return sync(request, env, url);
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

  take(nowMs) {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.atMs) * this.ratePerSec) / 1000);
    this.atMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
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
    this.buckets = new Map();
    for (const ws of ctx.getWebSockets()) {
      const a = ws.deserializeAttachment();
      if (a) this.sockets.set(a.conn, ws);
    }
    this.engine = null;
  }

  // The engine is built on the first event, when the shard's name is known
  // (from the request, or from a socket's attachment after hibernation).
  engineFor(shard) {
    if (this.engine === null) {
      const peers = {
        send: (conn, frame) => {
          const held = this.opening.get(conn);
          if (held) return void held.frames.push(frame);
          try {
            this.sockets.get(conn)?.send(frame);
          } catch {
            // a socket closing under us: its close event cleans up
          }
        },
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
  // (compactionDue is one comparison in memory, plus one row read once the log is long).
  async scheduleCompaction() {
    if (this.engine?.compactionDue() && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + COMPACTION_DELAY_MS);
    }
  }

  async alarm() {
    let more = false;
    await this.ctx.blockConcurrencyWhile(async () => {
      more = this.engineFor(null).compact();
    });
    if (more) await this.ctx.storage.setAlarm(Date.now() + COMPACTION_DELAY_MS);
  }

  async fetch(request) {
    // Engine counters for tests and benchmarks: only reachable through the namespace binding,
    // since the Worker forwards nothing but /sync.
    if (new URL(request.url).pathname === "/__shoal/stats") return new Response(this.engineFor(null).stats());
    const h = request.headers;
    const { 0: clientSocket, 1: server } = new WebSocketPair();
    if (h.get("x-shoal-version") !== PROTOCOL_VERSION) {
      refuse(server, [errorFrame("PROTOCOL_VERSION", `this server speaks protocol version ${PROTOCOL_VERSION}`)], [4002, "PROTOCOL_VERSION"]);
    } else {
      await this.ctx.blockConcurrencyWhile(async () => this.open(server, h));
      await this.scheduleCompaction();
    }
    const headers = list(h.get("sec-websocket-protocol")).includes("shoal-v1") ? { "sec-websocket-protocol": "shoal-v1" } : {};
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
    server.serializeAttachment({ conn, shard });
    this.sockets.set(conn, server);
    for (const frame of held.frames) server.send(frame);
  }

  async webSocketMessage(ws, message) {
    // Frames that were already in flight when a fatal error closed the socket.
    if (ws.readyState !== WebSocket.OPEN) return;
    const { conn, shard } = ws.deserializeAttachment();
    if (!this.admit(conn)) {
      fatal(ws, "RATE_LIMITED", 4029, `at most ${this.limits.ratePerSec} frames per second (bursts of ${this.limits.rateBurst}): reconnect and slow down`);
      return;
    }
    // Checked here so that a huge string never crosses into Java; the engine checks again.
    const max = this.limits.frameBytesMax;
    if (typeof message === "string" ? utf8Over(message, max) : message.byteLength > max) {
      fatal(ws, "FRAME_TOO_LARGE", 4009, `a frame may hold at most ${max} bytes`);
      return;
    }
    if (typeof message !== "string") {
      ws.send(errorFrame("BAD_FRAME", "binary frames are not part of the protocol: send JSON text"));
      return;
    }
    await this.ctx.blockConcurrencyWhile(async () => this.engineFor(shard).message(conn, message));
    await this.scheduleCompaction();
  }

  admit(conn) {
    const now = Date.now();
    let bucket = this.buckets.get(conn);
    if (!bucket) {
      bucket = new Bucket(this.limits.ratePerSec, this.limits.rateBurst, now);
      this.buckets.set(conn, bucket);
    }
    return bucket.take(now);
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
    const a = ws.deserializeAttachment();
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
