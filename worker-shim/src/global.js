// Global tables on D1 (docs/sharding.md), the runtime half: the engine records a mutator's writes
// of global tables in its shard's outbox, in the mutation's own transaction; this applies them to
// D1 after the commit, retried from the alarm until done, and tells the __global__ shard which rows
// changed so that it re-reads them from D1 and pokes their subscribers. Every D1 statement of an
// outbox entry is guarded by D1's __shoal_applied (shard, outbox id), written in the same D1 batch,
// so a batch replayed after a crash changes nothing twice. No sync logic: the engine builds the SQL.

export const GLOBAL_SHARD = "__global__";
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 60_000;
const DEFAULT_POLL_MS = 5_000;
const FEED_PAGE = 500; // change-feed entries read per D1 round trip
const PRUNE_EVERY_MS = 3_600_000; // how often __global__ trims D1's change feed to its retention

/** The D1 database of the global tables: the binding named by SHOAL_D1_BINDING (default "DB"). */
export function d1Of(env) {
  return env[env.SHOAL_D1_BINDING || "DB"] ?? null;
}

/** SHOAL_GLOBAL_POLL_MS: how often __global__ re-reads D1 for writes made behind Shoal's back; 0 turns polling off. */
export function pollMsOf(env) {
  const raw = env.SHOAL_GLOBAL_POLL_MS;
  const n = raw === undefined || raw === "" ? DEFAULT_POLL_MS : Number(raw);
  if (!(Number.isFinite(n) && n >= 0)) throw new RangeError(`SHOAL_GLOBAL_POLL_MS must be a number of milliseconds >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

const schemaReady = new WeakMap(); // per D1 binding: the promise of its schema, once per isolate

/**
 * Creates the global tables in D1, then adds the columns the app declares and D1 lacks (a table
 * made by an earlier version of the app): additive only, as on the shards. A failure (say, another
 * isolate adding the same column first) is retried on the next use.
 */
async function ensureSchema(db, engine) {
  if (!schemaReady.has(db)) {
    const run = (statements) => (statements.length ? db.batch(statements.map((s) => db.prepare(s))) : []);
    const p = (async () => {
      const sql = JSON.parse(engine.globalSql());
      await run(sql.schema);
      const tables = Object.keys(sql.columns);
      const infos = await run(tables.map((t) => sql.columns[t]));
      const stored = Object.fromEntries(tables.map((t, i) => [t, infos[i].results.map((c) => c.name)]));
      await run(JSON.parse(engine.globalMigration(JSON.stringify(stored))));
    })();
    schemaReady.set(db, p);
    p.catch(() => schemaReady.delete(db));
  }
  await schemaReady.get(db);
}

/**
 * Per Durable Object: the D1 apply of its outbox, and (on __global__) the mirror's refresh.
 * `object` is the ShardDO: its ctx, env and engineFor().
 */
export class GlobalSync {
  constructor(object) {
    this.object = object;
    this.applying = null;
    this.again = false;
    this.attempt = 0;
    this.synced = false;
    // On __global__, for tests and benchmarks: full re-reads of the global tables, rows read from D1.
    this.counters = { globalFullReads: 0, globalRowsRead: 0 };
  }

  get engine() {
    return this.object.engineFor(null);
  }

  /** The app's global tables, read once per instance (every frame passes kick()). */
  get tables() {
    this.globalTables ??= new Set(JSON.parse(this.engine.globalTables()));
    return this.globalTables;
  }

  hasGlobals() {
    return this.tables.size > 0;
  }

  /** After a commit (or a wake): apply pending writes now; an alarm retries until done. */
  kick() {
    if (!this.hasGlobals() || !this.engine.globalPending()) return;
    if (this.applying) {
      this.again = true;
      return;
    }
    this.applying = this.applyAll().finally(() => {
      this.applying = null;
    });
    return this.applying;
  }

  async applyAll() {
    const { ctx, env } = this.object;
    // Set first: if this object dies before the apply ends, or the apply fails, the alarm retries
    // it, later after each failure (500 ms, doubling, at most a minute).
    await this.object.alarmIn(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.attempt, 16)));
    const db = d1Of(env);
    if (!db) {
      console.error(`shoal: writes of global tables wait: bind a D1 database as ${env.SHOAL_D1_BINDING || "DB"} (wrangler.toml [[d1_databases]])`);
      return;
    }
    try {
      do {
        this.again = false;
        // A test hook: stop as if the object died between the shard's commit and the D1 apply.
        if (env.SHOAL_TEST_CRASH_BEFORE_D1 === "true") return;
        await ensureSchema(db, this.engine);
        for (;;) {
          const batch = JSON.parse(this.engine.globalBatch());
          if (batch.upTo === 0) break;
          await db.batch(batch.statements.map((s) => db.prepare(s.sql).bind(...s.params)));
          await ctx.blockConcurrencyWhile(async () => this.engine.globalApplied(batch.upTo));
          await this.notifyGlobal(batch.changed);
        }
      } while (this.again);
      this.attempt = 0;
    } catch (err) {
      console.error(`shoal: applying writes of global tables to D1 failed, retrying: ${err?.message ?? err}`);
      this.attempt++;
    }
  }

  /** Tells the __global__ shard which rows changed in D1; it re-reads them and pokes. */
  async notifyGlobal(changed) {
    if (Object.keys(changed).length === 0) return;
    const ns = this.object.env.SHARD;
    try {
      await ns.get(ns.idFromName(GLOBAL_SHARD)).fetch("http://do/__shoal/global-changed", { method: "POST", body: JSON.stringify(changed) });
    } catch (err) {
      // The rows are in D1: the poll picks them up.
      console.error(`shoal: could not tell ${GLOBAL_SHARD} about changed rows: ${err?.message ?? err}`);
    }
  }

  /** On __global__: re-read these rows ({table: [ids]}) from D1 into the mirror, then poke. */
  async refreshRows(changed) {
    const db = d1Of(this.object.env);
    if (!db) return;
    await ensureSchema(db, this.engine);
    for (const [table, ids] of Object.entries(changed)) {
      const idsJson = JSON.stringify(ids);
      const { results } = await db.prepare(`SELECT * FROM "${table}" WHERE id IN (SELECT value FROM json_each(?))`).bind(idsJson).all();
      this.counters.globalRowsRead += results.length;
      await this.object.ctx.blockConcurrencyWhile(async () => this.engine.mirrorGlobal(table, JSON.stringify(results), idsJson));
    }
  }

  /**
   * On __global__: brings the mirror up to D1. It reads D1's change feed (every insert, update and
   * delete of a global table, by a Shoal mutator or behind Shoal's back) from the mirror's cursor,
   * and re-reads only the rows named there; the first time, or when the feed no longer reaches
   * back to the cursor (the mirror was away longer than its retention), it re-reads every table.
   */
  async sync() {
    const db = d1Of(this.object.env);
    if (!db) return;
    await ensureSchema(db, this.engine);
    const sql = (this.feedSql ??= JSON.parse(this.engine.globalSql()).feed);
    for (;;) {
      const cursor = this.engine.globalFeedCursor();
      const [stats, page] = await db.batch([db.prepare(sql.top), db.prepare(sql.page).bind(Math.max(cursor, 0), FEED_PAGE)]);
      const { floor, top } = stats.results[0];
      if (cursor < 0 || floor > cursor + 1) return this.refreshAll(db, top);
      const entries = page.results;
      if (entries.length === 0) break;
      const changed = {};
      // Only the app's global tables: a feed row naming anything else (written by hand) is passed over.
      for (const e of entries) if (this.tables.has(e.table)) (changed[e.table] ??= []).push(String(e.id));
      await this.refreshRows(changed);
      await this.object.ctx.blockConcurrencyWhile(async () => this.engine.setGlobalFeedCursor(entries[entries.length - 1].seq));
      if (entries.length < FEED_PAGE) break;
    }
    if (Date.now() - (this.prunedAt ?? 0) > PRUNE_EVERY_MS) {
      await db.prepare(sql.prune).bind(Date.now() - sql.retentionMs).run();
      this.prunedAt = Date.now();
    }
  }

  /** Re-reads every global table into the mirror; `top`, read before, is the feed's seq it covers. */
  async refreshAll(db, top) {
    for (const table of this.tables) {
      const { results } = await db.prepare(`SELECT * FROM "${table}"`).all();
      this.counters.globalRowsRead += results.length;
      await this.object.ctx.blockConcurrencyWhile(async () => this.engine.mirrorGlobal(table, JSON.stringify(results), null));
    }
    await this.object.ctx.blockConcurrencyWhile(async () => this.engine.setGlobalFeedCursor(top));
    this.counters.globalFullReads++;
  }

  /** On __global__, before a socket opens: the mirror catches up with D1 once per instance. */
  async beforeOpen() {
    if (!this.hasGlobals()) return;
    if (!this.synced) {
      await this.sync();
      this.synced = true;
    }
    await this.schedulePoll(); // the poll stops while no socket is open: a new one restarts it
  }

  async schedulePoll() {
    const ms = pollMsOf(this.object.env);
    if (ms > 0) await this.object.alarmIn(ms);
  }

  /** The alarm's share: finish pending D1 applies; on __global__ with sockets, poll D1. */
  async onAlarm(isGlobal) {
    await this.kick();
    if (isGlobal && this.object.sockets.size > 0 && this.hasGlobals()) {
      try {
        await this.sync();
      } catch (err) {
        console.error(`shoal: polling D1 failed: ${err?.message ?? err}`);
      }
      const ms = pollMsOf(this.object.env);
      if (ms > 0) await this.object.alarmIn(ms);
    }
  }
}
