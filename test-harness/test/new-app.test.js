// An app made by scripts/new-app.sh, used as its README says: the app's own test command, its run
// command on another port (a todo synced between two clients of one user while a second user
// receives nothing, over the protocol), and a dry-run deploy. This is what a new user of Shoal
// does first; it runs against this checkout's artifacts (scripts/test.sh installed them).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, existsSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { connect } from "../lib/socket.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const parent = mkdtempSync(path.join(tmpdir(), "shoal-new-app-"));
const dir = path.join(parent, "todo-app");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_UPDATE_NOTIFIER: "1" };
// The app's own `node --test` must report as a top-level run (TAP), not to this test runner.
delete env.NODE_TEST_CONTEXT;

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    assert.fail(`${command} ${args.join(" ")} failed in ${cwd} (${e.status}):\n${e.stdout}\n${e.stderr}`);
  }
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

before(() => run("bash", [path.join(root, "scripts/new-app.sh"), dir], parent));
after(() => rmSync(parent, { recursive: true, force: true }));

test("the generated app's README starts with its two commands", () => {
  const readme = readFileSync(path.join(dir, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)[1].trim().split("\n");
  assert.match(block[0], /^bash scripts\/dev\.sh\s+#/);
  assert.match(block[1], /^bash scripts\/test\.sh\s+#/);
  assert.match(readFileSync(path.join(dir, ".dev.vars"), "utf8"), /^SHOAL_JWT_SECRET=[0-9a-f]{64}$/m);
});

test("the app's own test command passes (JUnit through the test kit, codegen check, workerd)", () => {
  const out = run("bash", ["scripts/test.sh"], dir);
  assert.match(out, /Tests run: [1-9]\d*, Failures: 0, Errors: 0/, "the JUnit tests ran, and passed");
  assert.match(out, /shoal-codegen: .*shoal\.gen\.ts is up to date with app\.TodoApp/);
  assert.match(out, /# pass [1-9]/);
  assert.match(out, /# fail 0/);
});

test("its run command serves the app; a todo syncs between two clients of one user, and another user receives nothing", async () => {
  const port = await freePort();
  const child = spawn("bash", ["scripts/dev.sh"], { cwd: dir, env: { ...env, PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const log = [];
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let deadline = Date.now() + 120_000; ; ) {
      if (child.exitCode !== null) assert.fail(`scripts/dev.sh exited (${child.exitCode}):\n${log.join("")}`);
      try {
        if ((await fetch(url + "/")).status === 200) break;
      } catch {}
      if (Date.now() > deadline) assert.fail(`GET / never answered 200:\n${log.join("")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(await (await fetch(url + "/")).text(), /<div id="root">/, "GET / serves the page");
    const token = async (sub) => {
      const res = await fetch(url + "/dev/token", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sub }) });
      assert.equal(res.status, 200, "development tokens are on in .dev.vars");
      return (await res.json()).token;
    };
    const worker = { wsUrl: url.replace(/^http/, "ws") };
    const [phone, laptop, bob] = await Promise.all([
      connect(worker, { client: "alice-phone", token: await token("alice") }),
      connect(worker, { client: "alice-laptop", token: await token("alice") }),
      connect(worker, { client: "bob-1", token: await token("bob") }),
    ]);
    const rowsOf = (s) => s.frames.flatMap((f) => (f.type === "pokePart" ? f.rows : f.type === "poke" ? f.parts.flatMap((p) => p.rows) : []));
    const hydrated = (f) => (f.type === "pokePart" && f.reset) || (f.type === "poke" && f.parts.some((p) => p.reset));
    for (const s of [phone, laptop, bob]) s.send({ type: "subscribe", id: "mine", shape: "myTodos", args: {} });
    await Promise.all([phone, laptop, bob].map((s) => s.next(hydrated)));

    phone.send({ type: "push", mutations: [{ id: 1, name: "addTodo", args: { id: "todo-of-alice", text: "milk" } }] });
    assert.deepEqual((await phone.type("pushResult")).results, [{ id: 1, status: "ok" }]);
    await laptop.next(() => rowsOf(laptop).some((r) => r.id === "todo-of-alice"));
    assert.deepEqual(rowsOf(laptop).find((r) => r.id === "todo-of-alice").doc, { id: "todo-of-alice", text: "milk", done: false });

    laptop.send({ type: "push", mutations: [{ id: 1, name: "setDone", args: { id: "todo-of-alice", done: true } }] });
    assert.equal((await laptop.type("pushResult")).results[0].status, "ok");
    await phone.next(() => rowsOf(phone).some((r) => r.id === "todo-of-alice" && r.doc?.done === true));

    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(rowsOf(bob), [], "bob receives no row of alice's");
    assert.ok(!JSON.stringify(bob.frames).includes("todo-of-alice"), "no frame to bob names alice's todo");
    await Promise.all([phone, laptop, bob].map((s) => s.close()));
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
});

test("npx wrangler deploy --dry-run --outdir dist bundles the app without network", () => {
  run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"], dir);
  assert.ok(existsSync(path.join(dir, "dist/index.js")), "the bundle is written");
});
