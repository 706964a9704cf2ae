// The Worker and the shard Durable Object: routing, token checks, sockets, and
// the calls into the Java engine. No sync logic lives here (PROTOCOL.md is
// implemented by the engine); this file only binds the engine to the runtime.
import { DurableObject } from "cloudflare:workers";
import { ShardObject } from "./build/engine.js";
import { createVerifier, tokenFromRequest, AuthError } from "./auth.js";

const PROTOCOL_VERSION = "1";
const DEFAULT_SHARD = "__root__";
const SHARD_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const CLIENT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// Identity reaches the Durable Object only through these headers, set by the
// Worker after it strips every incoming header with this prefix.
const IDENTITY_PREFIX = "x-shoal-";

let verifier = null;
let verifierEnv = null;

function verifierFor(env) {
  if (verifier && verifierEnv === env.SHOAL_JWT_SECRET + "|" + env.SHOAL_JWKS_URL) return verifier;
  verifierEnv = env.SHOAL_JWT_SECRET + "|" + env.SHOAL_JWKS_URL;
  verifier = createVerifier({
    ...(env.SHOAL_JWT_SECRET ? { secret: env.SHOAL_JWT_SECRET } : {}),
    ...(env.SHOAL_JWKS_URL ? { jwksUrl: env.SHOAL_JWKS_URL } : {}),
    ...(env.SHOAL_JWT_ISSUER ? { issuer: env.SHOAL_JWT_ISSUER } : {}),
    ...(env.SHOAL_JWT_AUDIENCE ? { audience: env.SHOAL_JWT_AUDIENCE } : {}),
    forwardClaims: (env.SHOAL_FORWARD_CLAIMS || "").split(",").filter(Boolean),
  });
  return verifier;
}

function text(status, body) {
  return new Response(body + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

async function sync(request, env, url) {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return text(426, "expected a WebSocket upgrade");
  }
  const shard = url.searchParams.get("shard") ?? DEFAULT_SHARD;
  const client = url.searchParams.get("client");
  const v = url.searchParams.get("v");
  if (!SHARD_PATTERN.test(shard)) return text(400, "shard must be 1..128 chars of [A-Za-z0-9_.:-]");
  if (client === null || !CLIENT_PATTERN.test(client)) return text(400, "client must be 1..64 chars of [A-Za-z0-9_-]");
  if (v === null) return text(400, "v (the protocol version) is required");

  const token = tokenFromRequest(request);
  if (token === null) return text(401, "missing bearer token");
  let identity;
  try {
    identity = await verifierFor(env).verify(token);
  } catch (e) {
    if (e instanceof AuthError) return text(401, `token refused (${e.code})`);
    throw e;
  }

  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (!name.toLowerCase().startsWith(IDENTITY_PREFIX) && name.toLowerCase() !== "authorization") headers.set(name, value);
  }
  headers.set("x-shoal-sub", identity.sub);
  headers.set("x-shoal-exp", String(identity.exp));
  headers.set("x-shoal-claims", JSON.stringify(identity.claims ?? {}));
  headers.set("x-shoal-shard", shard);
  headers.set("x-shoal-client", client);
  headers.set("x-shoal-version", v);
  const stub = env.SHARD.get(env.SHARD.idFromName(shard));
  return stub.fetch(new Request(request.url, { headers }));
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/sync") return sync(request, env, url);
    if (url.pathname === "/" && request.method === "GET") return text(200, "Shoal example app: connect to /sync");
    return text(404, "not found");
  },
};

export class ShardDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.sockets = new Map();
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
          try {
            this.sockets.get(conn)?.send(frame);
          } catch {
            // a socket closing under us: its close event cleans up
          }
        },
        close: (conn, code, reason) => {
          try {
            this.sockets.get(conn)?.close(code, reason);
          } catch {}
        },
      };
      this.engine = new ShardObject(this.ctx.storage, peers, shard);
      this.engine.retain([...this.sockets.keys()]);
    }
    return this.engine;
  }

  async fetch(request) {
    const h = request.headers;
    const shard = h.get("x-shoal-shard");
    const { 0: clientSocket, 1: server } = new WebSocketPair();
    const conn = crypto.randomUUID();
    this.ctx.acceptWebSocket(server, [conn]);
    server.serializeAttachment({ conn, shard });
    this.sockets.set(conn, server);
    const offered = (h.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    const headers = offered.includes("shoal-v1") ? { "sec-websocket-protocol": "shoal-v1" } : {};
    if (h.get("x-shoal-version") !== PROTOCOL_VERSION) {
      server.send(JSON.stringify({ type: "error", code: "PROTOCOL_VERSION", message: `this server speaks protocol version ${PROTOCOL_VERSION}` }));
      server.close(4002, "unsupported protocol version");
      this.sockets.delete(conn);
    } else {
      await this.ctx.blockConcurrencyWhile(async () => {
        this.engineFor(shard).open(conn, h.get("x-shoal-sub"), h.get("x-shoal-client"), h.get("x-shoal-claims"), Number(h.get("x-shoal-exp")));
      });
    }
    return new Response(null, { status: 101, webSocket: clientSocket, headers });
  }

  async webSocketMessage(ws, message) {
    const { conn, shard } = ws.deserializeAttachment();
    if (typeof message !== "string") {
      ws.send(JSON.stringify({ type: "error", code: "BAD_FRAME", message: "binary frames are not part of the protocol" }));
      return;
    }
    await this.ctx.blockConcurrencyWhile(async () => this.engineFor(shard).message(conn, message));
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
    await this.ctx.blockConcurrencyWhile(async () => this.engineFor(a.shard).closed(a.conn));
  }
}
