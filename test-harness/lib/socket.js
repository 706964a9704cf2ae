// A raw protocol client for tests: a real WebSocket speaking PROTOCOL.md,
// with helpers to await frames and collect whole pokes.
import WebSocket from "ws";

export async function connect(worker, { sub = "alice", client = "c1", shard, token, v = "1", subprotocol = false } = {}) {
  const t = token ?? (await worker.token(sub));
  const params = new URLSearchParams({ client, v });
  if (shard !== undefined) params.set("shard", shard);
  const url = `${worker.wsUrl}/sync?${params}`;
  const ws = subprotocol
    ? new WebSocket(url, ["shoal-v1", `shoal-auth.${t}`])
    : new WebSocket(url, { headers: { authorization: `Bearer ${t}` } });
  const s = new TestSocket(ws);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once("error", reject);
  });
  return s;
}

/** The answer to an upgrade request: {status, body} of a refusal, or {status: 101} (then closed). */
export function upgrade(url, headers = {}, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    ws.once("open", () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.once("error", reject);
  });
}

/** The three-frame form of a one-frame `poke` (PROTOCOL.md: the two forms mean the same). */
export function expandPoke({ pokeId, parts, seq, epoch, lastMutationId }) {
  return [
    { type: "pokeStart", pokeId },
    ...parts.map(({ sub, reset, rows }) => ({ type: "pokePart", pokeId, sub, reset, rows })),
    { type: "pokeEnd", pokeId, seq, epoch, lastMutationId },
  ];
}

export class TestSocket {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.waiters = [];
    this.closed = null;
    ws.on("message", (data, isBinary) => {
      const text = data.toString();
      const f = text === "pong" ? { type: "pong" } : JSON.parse(text);
      // A one-frame poke is recorded as its pokeStart, pokeParts and pokeEnd, so tests read one form.
      this.frames.push(...(f.type === "poke" ? expandPoke(f) : [f]));
      this.wake();
    });
    ws.on("close", (code) => {
      this.closed = { code };
      this.wake();
    });
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  send(frame) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame at or after `from` matching `pred`; stores the index after it in `this.cursor`. */
  async next(pred, { timeoutMs = 10000 } = {}) {
    const start = this.cursor ?? 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = start; i < this.frames.length; i++) {
        if (pred(this.frames[i])) {
          this.cursor = i + 1;
          return this.frames[i];
        }
      }
      if (this.closed && !pred({ type: "__closed__" })) throw new Error(`socket closed (${this.closed.code}) while waiting`);
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  type(t, opts) {
    return this.next((f) => f.type === t, opts);
  }

  /** The next whole poke: { start, parts, end, rows } (rows of every part, in order). */
  async poke(opts) {
    const start = await this.type("pokeStart", opts);
    const parts = [];
    for (;;) {
      const f = await this.next((x) => x.pokeId === start.pokeId && (x.type === "pokePart" || x.type === "pokeEnd"), opts);
      if (f.type === "pokeEnd") return { start, parts, end: f, rows: parts.flatMap((p) => p.rows) };
      parts.push(f);
    }
  }

  /** Frames received so far that satisfy `pred`. */
  all(pred) {
    return this.frames.filter(pred);
  }

  async close() {
    if (this.closed) return;
    const done = new Promise((r) => this.ws.once("close", r));
    this.ws.close();
    await done;
  }
}

/**
 * A WebSocket class (for ShoalClient's `WebSocket` option) whose sockets record their traffic in
 * `sockets`: one entry `{ sent, received, closes }` per socket, frames parsed, `ping`/`pong` left
 * out, a one-frame `poke` recorded as its three-frame form (so tests read one form).
 */
export function recordingWebSocket(sockets) {
  return class RecordingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const record = { sent: [], received: [], closes: [] };
      this.record = record;
      sockets.push(record);
      this.on("message", (data) => {
        const text = String(data);
        if (text === "pong") return;
        const f = JSON.parse(text);
        record.received.push(...(f.type === "poke" ? expandPoke(f) : [f]));
      });
      this.on("close", (code) => record.closes.push(code));
    }

    send(data, ...rest) {
      if (data !== "ping") this.record.sent.push(JSON.parse(data));
      return super.send(data, ...rest);
    }
  };
}
