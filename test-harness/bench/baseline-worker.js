// A hand-written JS baseline for the write-to-poke benchmark: a Worker and a
// Durable Object (BaselineDO) that speak the minimum of the Shoal protocol the
// benchmark uses and do the same durable work by hand, with no engine:
//
// - connect: hibernatable socket (ctx.acceptWebSocket), `connected` frame,
//   ping/pong by auto-response;
// - subscribe to messagesByChannel({channelId}): a reset poke with the
//   channel's rows (no catch-up: `since` is ignored);
// - push of sendMessage mutations: per mutation, inside blockConcurrencyWhile
//   and one ctx.storage.transactionSync, upsert the row into `messages`,
//   append a row to `changelog` (seq autoincrement, ts, table, id, op, doc)
//   and record the client's last mutation id (Shoal also persists it in the
//   same transaction; exactly-once needs it); then a pushResult to the writer
//   and a one-frame `poke` with the new rows to every subscriber of the
//   channel, and a poke to the writer's (identity, client) sockets. (Until
//   2026-11-29 it sent pokeStart/pokePart/pokeEnd, as the engine did then.)
//
// Not done here (the engine does them): JWT verification (the Worker reads
// `sub` from the token's payload WITHOUT checking the signature), args
// validators beyond type checks, read policies, catch-up from a cursor,
// limits, subscription state in SQLite (subscriptions live in the socket
// attachment and in memory).
import { DurableObject } from "cloudflare:workers";

const CLIENT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function unverifiedSub(request) {
  const auth = request.headers.get("authorization") ?? "";
  const token = auth.replace(/^Bearer\s+/i, "");
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub ?? null;
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/sync") return new Response("not found\n", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade\n", { status: 426 });
    const shard = url.searchParams.get("shard") ?? "__root__";
    const client = url.searchParams.get("client");
    if (client === null || !CLIENT_PATTERN.test(client) || url.searchParams.get("v") !== "1") return new Response("bad request\n", { status: 400 });
    const sub = unverifiedSub(request);
    if (!sub) return new Response("missing bearer token\n", { status: 401 });
    const headers = new Headers({ upgrade: "websocket", "x-sub": sub, "x-client": client, "x-shard": shard });
    return env.SHARD.get(env.SHARD.idFromName(shard)).fetch(new Request(request.url, { headers }));
  },
};

export class BaselineDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY NOT NULL, channelId TEXT NOT NULL,
      authorId TEXT NOT NULL, text TEXT NOT NULL, createdAt REAL NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS messages_channel ON messages(channelId)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS changelog (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,
      "table" TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, doc TEXT)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS clients (identity TEXT NOT NULL, client TEXT NOT NULL,
      last_mutation_id INTEGER NOT NULL, PRIMARY KEY (identity, client))`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', ?)", crypto.randomUUID().slice(0, 12));
    this.epoch = this.sql.exec("SELECT value FROM meta WHERE key = 'epoch'").one().value;
    this.seq = this.sql.exec("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changelog'), 0) AS s").one().s;
    this.pokeCounter = 0;
    this.lastIds = new Map(); // identity \0 client -> last mutation id
    // In memory, rebuilt from the attachments after hibernation; keyed by connection id.
    this.conns = new Map(); // conn -> { ws, a }
    this.byChannel = new Map(); // channelId -> Map<conn, Set<subId>>
    this.byClient = new Map(); // identity \0 client -> Set<conn>
    for (const ws of ctx.getWebSockets()) this.index(ws, ws.deserializeAttachment());
  }

  index(ws, a) {
    if (!a) return;
    this.conns.set(a.conn, { ws, a });
    const key = a.sub + "\0" + a.client;
    if (!this.byClient.has(key)) this.byClient.set(key, new Set());
    this.byClient.get(key).add(a.conn);
    for (const [subId, channelId] of Object.entries(a.subs)) this.addSub(a.conn, subId, channelId);
  }

  addSub(conn, subId, channelId) {
    if (!this.byChannel.has(channelId)) this.byChannel.set(channelId, new Map());
    const m = this.byChannel.get(channelId);
    if (!m.has(conn)) m.set(conn, new Set());
    m.get(conn).add(subId);
  }

  removeSub(conn, subId, channelId) {
    const m = this.byChannel.get(channelId);
    const s = m?.get(conn);
    if (!s) return;
    s.delete(subId);
    if (s.size === 0) m.delete(conn);
    if (m.size === 0) this.byChannel.delete(channelId);
  }

  lastId(key, identity, client) {
    let v = this.lastIds.get(key);
    if (v === undefined) {
      const row = this.sql.exec("SELECT last_mutation_id AS v FROM clients WHERE identity = ? AND client = ?", identity, client).toArray()[0];
      v = row ? row.v : 0;
      this.lastIds.set(key, v);
    }
    return v;
  }

  async fetch(request) {
    const h = request.headers;
    const { 0: clientSocket, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const a = { conn: crypto.randomUUID(), sub: h.get("x-sub"), client: h.get("x-client"), shard: h.get("x-shard"), subs: {} };
    server.serializeAttachment(a);
    this.index(server, a);
    const last = this.lastId(a.sub + "\0" + a.client, a.sub, a.client);
    server.send(JSON.stringify({ type: "connected", shard: a.shard, epoch: this.epoch, seq: this.seq, lastMutationId: last }));
    return new Response(null, { status: 101, webSocket: clientSocket });
  }

  async webSocketMessage(ws, message) {
    await this.ctx.blockConcurrencyWhile(async () => this.handle(ws, message));
  }

  handle(ws, message) {
    let f;
    try {
      f = JSON.parse(message);
    } catch {
      return ws.send(JSON.stringify({ type: "error", code: "BAD_FRAME", message: "a frame must be JSON text" }));
    }
    const { conn } = ws.deserializeAttachment();
    const a = this.conns.get(conn)?.a;
    if (!a) return ws.close(1011, "unknown connection");
    if (f.type === "subscribe") return this.subscribe(ws, a, f);
    if (f.type === "unsubscribe") {
      const channelId = a.subs[f.id];
      if (channelId !== undefined) {
        delete a.subs[f.id];
        ws.serializeAttachment(a);
        this.removeSub(a.conn, f.id, channelId);
      }
      return;
    }
    if (f.type === "push" && Array.isArray(f.mutations) && f.mutations.length >= 1 && f.mutations.length <= 100) return this.push(ws, a, f.mutations);
    ws.send(JSON.stringify({ type: "error", code: "BAD_FRAME", message: "unsupported frame" }));
  }

  subscribe(ws, a, f) {
    const channelId = f.args?.channelId;
    if (f.shape !== "messagesByChannel" || typeof channelId !== "string") {
      return ws.send(JSON.stringify({ type: "error", code: "BAD_ARGS", message: "messagesByChannel({channelId}) only", id: f.id }));
    }
    const old = a.subs[f.id];
    if (old !== undefined) this.removeSub(a.conn, f.id, old);
    a.subs[f.id] = channelId;
    ws.serializeAttachment(a);
    this.addSub(a.conn, f.id, channelId);
    const rows = this.sql
      .exec("SELECT id, channelId, authorId, text, createdAt FROM messages WHERE channelId = ? ORDER BY id", channelId)
      .toArray()
      .map((doc) => ({ op: "put", table: "messages", id: doc.id, doc }));
    const key = a.sub + "\0" + a.client;
    this.sendPoke(ws, [{ sub: f.id, reset: true, rows: JSON.stringify(rows) }], this.lastId(key, a.sub, a.client));
  }

  push(ws, a, mutations) {
    const key = a.sub + "\0" + a.client;
    let last = this.lastId(key, a.sub, a.client);
    const results = [];
    const changed = new Map(); // channelId -> [row op]
    for (const m of mutations) {
      if (m.id <= last) {
        results.push({ id: m.id, status: "duplicate" });
        continue;
      }
      if (m.id > last + 1) {
        results.push({ id: m.id, status: "error", code: "OUT_OF_ORDER", message: `expected ${last + 1}`, expected: last + 1 });
        break;
      }
      const args = m.args;
      if (m.name !== "sendMessage" || typeof args?.id !== "string" || typeof args.channelId !== "string" || typeof args.text !== "string") {
        this.ctx.storage.transactionSync(() => this.recordApplied(a, m.id));
        last = m.id;
        results.push({ id: m.id, status: "error", code: m.name === "sendMessage" ? "BAD_ARGS" : "UNKNOWN_MUTATOR", message: "sendMessage({id, channelId, text}) only" });
        continue;
      }
      const doc = { id: args.id, channelId: args.channelId, authorId: a.sub, text: args.text, createdAt: Date.now() };
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `INSERT INTO messages (id, channelId, authorId, text, createdAt) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET channelId = excluded.channelId, authorId = excluded.authorId,
             text = excluded.text, createdAt = excluded.createdAt`,
          doc.id, doc.channelId, doc.authorId, doc.text, doc.createdAt,
        );
        this.seq = this.sql.exec(
          `INSERT INTO changelog (ts, "table", id, op, doc) VALUES (?, 'messages', ?, 'put', ?) RETURNING seq`,
          Date.now(), doc.id, JSON.stringify(doc),
        ).one().seq;
        this.recordApplied(a, m.id);
      });
      last = m.id;
      results.push({ id: m.id, status: "ok" });
      if (!changed.has(doc.channelId)) changed.set(doc.channelId, []);
      changed.get(doc.channelId).push({ op: "put", table: "messages", id: doc.id, doc });
    }
    this.lastIds.set(key, last);
    ws.send(JSON.stringify({ type: "pushResult", results }));

    // Fan-out: each channel's rows serialized once and spliced into every subscriber's frames.
    const parts = new Map(); // conn -> [{sub, reset, rows}]
    for (const [channelId, ops] of changed) {
      const subs = this.byChannel.get(channelId);
      if (!subs) continue;
      const rows = JSON.stringify(ops);
      for (const [conn, ids] of subs) {
        if (!parts.has(conn)) parts.set(conn, []);
        for (const id of ids) parts.get(conn).push({ sub: id, reset: false, rows });
      }
    }
    for (const conn of this.byClient.get(key) ?? []) if (!parts.has(conn)) parts.set(conn, []);
    for (const [conn, p] of parts) {
      const c = this.conns.get(conn);
      if (c) this.sendPoke(c.ws, p, this.lastId(c.a.sub + "\0" + c.a.client, c.a.sub, c.a.client));
    }
  }

  recordApplied(a, id) {
    this.sql.exec(
      `INSERT INTO clients (identity, client, last_mutation_id) VALUES (?, ?, ?)
       ON CONFLICT (identity, client) DO UPDATE SET last_mutation_id = excluded.last_mutation_id`,
      a.sub, a.client, id,
    );
  }

  // One `poke` frame per socket, the form the engine sends when a poke fits one part.
  sendPoke(ws, parts, lastMutationId) {
    const pokeId = "b" + (++this.pokeCounter).toString(36);
    try {
      const body = parts.map((p) => `{"sub":${JSON.stringify(p.sub)},"reset":${p.reset},"rows":${p.rows}}`).join(",");
      ws.send(`{"type":"poke","pokeId":"${pokeId}","parts":[${body}],"seq":${this.seq},"epoch":"${this.epoch}","lastMutationId":${lastMutationId}}`);
    } catch {
      // a socket closing under us: its close event cleans up
    }
  }

  forget(ws) {
    const conn = ws.deserializeAttachment()?.conn;
    const a = this.conns.get(conn)?.a;
    if (!a) return;
    this.conns.delete(conn);
    this.byClient.get(a.sub + "\0" + a.client)?.delete(conn);
    for (const [subId, channelId] of Object.entries(a.subs)) this.removeSub(conn, subId, channelId);
  }

  async webSocketClose(ws, code) {
    this.forget(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {}
  }

  async webSocketError(ws) {
    this.forget(ws);
  }
}
