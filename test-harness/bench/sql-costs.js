#!/usr/bin/env node
// What the SQLite statements of one mutation cost inside a Durable Object, without the engine: the
// statement shapes of a push (Shoal's policy-checked INSERT with its log trigger, the baseline's
// upsert plus changelog insert, the ledger upsert, transactionSync savepoints) run in a loop inside
// one event of a Durable Object in workerd (Miniflare), per mutation. workerd's clock only moves in
// whole milliseconds, so each figure is a loop of thousands; every row is measured 5 times,
// interleaved, and the median is printed.
//
//   node test-harness/bench/sql-costs.js [--n=8000]
//
// The shapes are written out here for the bench app's `messages` table, after ChangeLog's trigger
// and Db.insertIfAllowed's statement; they measure the kind of statement, not the engine's text.
// A script, not a test: nothing here asserts on time.
import { Miniflare } from "miniflare";

const N = Number(process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? 8000);

const OBJECT = String.raw`
import { DurableObject } from "cloudflare:workers";
const DOC = "json_object('id', NEW.id, 'channelId', NEW.channelId, 'authorId', NEW.authorId, 'text', NEW.text, 'createdAt', NEW.createdAt)";
const TEXT = "a message of ordinary length from the benchmark writer, about a hundred bytes with its id";
const STATEMENTS = {
  // Shoal: the insert policy (author is the writer, and a member of the channel) checked on the new row, in the INSERT.
  shoalInsert: 'WITH cur AS (SELECT ? AS "id", ? AS "channelId", ? AS "authorId", ? AS "text", ? AS "createdAt")'
    + ' INSERT INTO "messages" ("id", "channelId", "authorId", "text", "createdAt") SELECT "id", "channelId", "authorId", "text", "createdAt" FROM cur'
    + ' WHERE coalesce(((cur."authorId" = ?) AND EXISTS (SELECT 1 FROM "members" WHERE "members"."channelId" = cur."channelId" AND ("members"."userId" = ?))), 0)',
  plainInsert: "INSERT INTO messages (id, channelId, authorId, text, createdAt) VALUES (?, ?, ?, ?, ?)",
  upsert: "INSERT INTO messages (id, channelId, authorId, text, createdAt) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    + " channelId = excluded.channelId, authorId = excluded.authorId, text = excluded.text, createdAt = excluded.createdAt",
  changelog: "INSERT INTO changelog (ts, \"table\", id, op, doc) VALUES (?, 'messages', ?, 'put', ?) RETURNING seq",
  ledger: "INSERT INTO clients (identity, client, last_mutation_id) VALUES (?, ?, ?) ON CONFLICT (identity, client) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
  // The poke's reads after a commit (ViewIndex.page, View.diff for one row), as the engine builds them for the bench app.
  page: 'SELECT "table" AS t, max(seq), count(*), CASE WHEN "table" = \'members\' THEN json_extract(doc, \'$.channelId\') END AS v0,'
    + ' CASE WHEN "table" = \'members\' THEN json_extract(pre, \'$.channelId\') END AS p0, CASE WHEN "table" = \'messages\' THEN json_extract(doc, \'$.channelId\') END AS v1,'
    + ' CASE WHEN "table" = \'messages\' THEN json_extract(pre, \'$.channelId\') END AS p1 FROM __cdc_log WHERE seq > ? GROUP BY t, v0, p0, v1, p1',
  rowDiff: "WITH who AS (SELECT ? AS me), img AS (SELECT id, pre FROM __cdc_log WHERE seq = ?) SELECT '[' || CASE (CASE WHEN cur.id IS NOT NULL"
    + ' AND coalesce((("cur"."channelId" = ?) AND (EXISTS (SELECT 1 FROM "members" AS "r0" WHERE "r0"."channelId" = "cur"."channelId" AND ("r0"."userId" = who.me)))), 0) THEN 1'
    + " WHEN img.pre IS NOT NULL AND coalesce(((json_extract(img.pre, '$.channelId') = ?) AND (EXISTS (SELECT 1 FROM \"members\" AS \"r0\" WHERE \"r0\".\"channelId\" = json_extract(img.pre, '$.channelId') AND (\"r0\".\"userId\" = who.me)))), 0) THEN 0 END)"
    + " WHEN 1 THEN json_object('op', 'put', 'table', 'messages', 'id', cur.id, 'doc', json_object('id', cur.\"id\", 'channelId', cur.\"channelId\", 'authorId', cur.\"authorId\", 'text', cur.\"text\", 'createdAt', cur.\"createdAt\"))"
    + " WHEN 0 THEN json_object('op', 'del', 'table', 'messages', 'id', img.id) END || ']' FROM who CROSS JOIN img LEFT JOIN \"messages\" AS cur ON cur.id = img.id",
};
function schema(sql, trigger) {
  sql.exec("CREATE TABLE messages (id TEXT PRIMARY KEY NOT NULL, channelId TEXT, authorId TEXT, text TEXT, createdAt REAL)");
  sql.exec("CREATE INDEX messages_channel ON messages (channelId)");
  sql.exec("CREATE TABLE members (id TEXT PRIMARY KEY NOT NULL, channelId TEXT, userId TEXT)");
  sql.exec("CREATE INDEX members_channel_user ON members (channelId, userId)");
  sql.exec("INSERT INTO members VALUES ('c:w', 'c', 'w')");
  sql.exec('CREATE TABLE __cdc_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "table" TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, doc TEXT, pre TEXT)');
  sql.exec('CREATE TABLE changelog (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "table" TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, doc TEXT)');
  sql.exec("CREATE TABLE clients (identity TEXT NOT NULL, client TEXT NOT NULL, last_mutation_id INTEGER NOT NULL, PRIMARY KEY (identity, client))");
  if (trigger) {
    sql.exec("CREATE TRIGGER log_insert AFTER INSERT ON messages BEGIN INSERT INTO __cdc_log (ts, \"table\", id, op, doc, pre) VALUES"
      + " ((julianday('now') - 2440587.5) * 86400000.0, 'messages', NEW.id, 'insert', (SELECT CASE WHEN length(CAST(d AS BLOB)) > 65536"
      + " THEN RAISE(ABORT, 'SHOAL_ROW_TOO_LARGE') ELSE d END FROM (SELECT " + DOC + " AS d)), NULL); END");
  }
}
export class Bench extends DurableObject {
  async fetch(request) {
    const { write, trigger, savepoint, ledger, reads = 0, n } = JSON.parse(new URL(request.url).searchParams.get("case"));
    const sql = this.ctx.storage.sql;
    schema(sql, trigger);
    let id = 0;
    const mutation = () => {
      const row = ["m" + ++id, "c", "w", TEXT, Date.now()];
      if (write === "shoal") {
        const c = sql.exec(STATEMENTS.shoalInsert, ...row, "w", "w");
        c.toArray();
        if (c.rowsWritten < 1) throw new Error("refused");
      } else if (write === "plain") {
        sql.exec(STATEMENTS.plainInsert, ...row);
      } else {
        sql.exec(STATEMENTS.upsert, ...row);
        sql.exec(STATEMENTS.changelog, Date.now(), row[0], JSON.stringify({ id: row[0], channelId: "c", authorId: "w", text: TEXT, createdAt: row[4] })).one();
      }
      if (ledger === "each" || (ledger === "every50" && id % 50 === 0)) sql.exec(STATEMENTS.ledger, "w", "cl", id);
    };
    const t0 = performance.now();
    const size = savepoint === 0 ? n : savepoint;
    for (let i = 0; i < n; i += size) {
      const group = () => {
        for (let j = i; j < Math.min(n, i + size); j++) mutation();
        if (ledger === "group") sql.exec(STATEMENTS.ledger, "w", "cl", id);
      };
      if (savepoint === 0) group();
      else this.ctx.storage.transactionSync(group);
      // After the commit, as the engine's poke round: which views the new log rows touch, then the row's diff.
      if (reads >= 1 && sql.exec(STATEMENTS.page, id - 1).raw().toArray().length !== 1) throw new Error("page");
      if (reads >= 2 && !sql.exec(STATEMENTS.rowDiff, "w", id, "c", "c").raw().toArray()[0][0].includes('"put"')) throw new Error("diff");
    }
    return Response.json({ us: ((performance.now() - t0) * 1000) / n });
  }
}
export default { fetch: (request, env) => env.BENCH.get(env.BENCH.newUniqueId()).fetch(request) };
`;

// savepoint: mutations per transactionSync (0: none, the event's implicit transaction only);
// ledger: with "each" mutation, with "every50"th, once per savepoint "group", or "none".
const CASES = [
  ["Shoal's INSERT (policy check + log trigger)", { write: "shoal", trigger: true, savepoint: 0, ledger: "none" }],
  ["baseline: upsert + changelog INSERT (JSON built in JS)", { write: "base", trigger: false, savepoint: 0, ledger: "none" }],
  ["plain INSERT + log trigger", { write: "plain", trigger: true, savepoint: 0, ledger: "none" }],
  ["plain INSERT, no trigger", { write: "plain", trigger: false, savepoint: 0, ledger: "none" }],
  ["Shoal's INSERT + ledger, a savepoint each (before 2026-11-29 15:30)", { write: "shoal", trigger: true, savepoint: 1, ledger: "each" }],
  ["Shoal's INSERT, a savepoint each, ledger with every 50th (now, pushes of 50)", { write: "shoal", trigger: true, savepoint: 1, ledger: "every50" }],
  ["the same, then the poke's log page read (ViewIndex.page)", { write: "shoal", trigger: true, savepoint: 1, ledger: "every50", reads: 1 }],
  ["the same, then the log page and the row's diff through the read policy (View.diff)", { write: "shoal", trigger: true, savepoint: 1, ledger: "every50", reads: 2 }],
  ["Shoal's INSERT, one savepoint per 2 mutations", { write: "shoal", trigger: true, savepoint: 2, ledger: "group" }],
  ["Shoal's INSERT, one savepoint per 50 mutations", { write: "shoal", trigger: true, savepoint: 50, ledger: "group" }],
  ["baseline: upsert + changelog + ledger, a savepoint each", { write: "base", trigger: false, savepoint: 1, ledger: "each" }],
];

const mf = new Miniflare({
  modules: [{ type: "ESModule", path: "bench.js", contents: OBJECT }],
  compatibilityDate: "2025-04-01",
  durableObjects: { BENCH: { className: "Bench", useSQLite: true } },
});
const runs = new Map(CASES.map(([label]) => [label, []]));
for (let round = 0; round < 5; round++) {
  for (const [label, c] of CASES) {
    const res = await mf.dispatchFetch(`http://bench/?case=${encodeURIComponent(JSON.stringify({ ...c, n: N }))}`);
    runs.get(label).push((await res.json()).us);
  }
}
await mf.dispose();
console.log(`SQLite per mutation inside one Durable Object event (workerd via Miniflare), ${N} mutations per loop, median of 5 loops:`);
console.log("| statements of one mutation | µs (median) | the 5 loops |\n|---|---:|---|");
for (const [label, us] of runs) {
  const s = [...us].sort((a, b) => a - b);
  console.log(`| ${label} | ${s[2].toFixed(2)} | ${s.map((x) => x.toFixed(2)).join(" ")} |`);
}
