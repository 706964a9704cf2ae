// The generator on its own (test-harness/test/new-app.test.js builds and runs what it writes).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createApp, UsageError } from "../index.js";

const tmp = () => mkdtempSync(join(tmpdir(), "create-shoal-"));
const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

function files(dir, prefix = "") {
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? files(join(dir, e), `${prefix}${e}/`) : [`${prefix}${e}`]));
}

test("writes the template with every placeholder filled and dotfiles named as such", () => {
  const dir = join(tmp(), "my-app");
  assert.equal(createApp(dir), "my-app");
  const written = files(dir);
  for (const f of [".gitignore", ".dev.vars", "pom.xml", "package.json", "README.md", "wrangler.toml", "worker/index.js",
    "src/main/java/app/TodoApp.java", "src/main/resources/META-INF/services/dev.shoal.engine.AppSource", "web/src/shoal.gen.ts"]) {
    assert.ok(written.includes(f), `${f} is written`);
  }
  for (const f of written) assert.doesNotMatch(readFileSync(join(dir, f), "utf8"), /\{\{\w+\}\}/, `${f} has no placeholder left`);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.equal(pkg.name, "my-app");
  for (const p of ["client", "db", "react", "worker"]) assert.equal(pkg.dependencies[`@shoal/${p}`], version, "npm and Maven halves at one version");
  assert.match(readFileSync(join(dir, "pom.xml"), "utf8"), new RegExp(`<artifactId>shoal-app-parent</artifactId>\\s*<version>${version.replace(/\./g, "\\.")}</version>`));
  assert.match(readFileSync(join(dir, "wrangler.toml"), "utf8"), /^name = "my-app"$/m);
  assert.ok(statSync(join(dir, "scripts/dev.sh")).mode & 0o100, "scripts stay executable");
});

test("every app gets its own development secret", () => {
  const a = join(tmp(), "a");
  const b = join(tmp(), "b");
  createApp(a);
  createApp(b);
  const secret = (d) => /^SHOAL_JWT_SECRET=(.*)$/m.exec(readFileSync(join(d, ".dev.vars"), "utf8"))[1];
  assert.match(secret(a), /^[0-9a-f]{64}$/);
  assert.notEqual(secret(a), secret(b));
});

test("--local depends on the packed tarballs, copied into vendor/", () => {
  const packs = tmp();
  for (const p of ["client", "db", "react", "worker"]) writeFileSync(join(packs, `shoal-${p}-${version}.tgz`), "x");
  const dir = join(tmp(), "local-app");
  createApp(dir, { local: packs });
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.equal(pkg.dependencies["@shoal/worker"], `file:vendor/shoal-worker-${version}.tgz`);
  assert.deepEqual(readdirSync(join(dir, "vendor")).sort(), ["client", "db", "react", "worker"].map((p) => `shoal-${p}-${version}.tgz`));
  assert.throws(() => createApp(join(tmp(), "x"), { local: tmp() }), /shoal-client-.*\.tgz is missing: pack it/);
});

test("refuses a bad name or a directory in use, with what to do", () => {
  assert.throws(() => createApp(join(tmp(), "My App")), (e) => e instanceof UsageError && /"My App" is not one: use 1\.\.64 of a-z/.test(e.message));
  const used = join(tmp(), "used");
  mkdirSync(used);
  writeFileSync(join(used, "keep.txt"), "mine");
  assert.throws(() => createApp(used), /exists and is not empty: pick a new directory/);
  assert.equal(readFileSync(join(used, "keep.txt"), "utf8"), "mine", "nothing of the user's is touched");
});

test("the command line prints the next steps, and usage errors exit 2", () => {
  const cli = fileURLToPath(new URL("../index.js", import.meta.url));
  const cwd = tmp();
  assert.match(execFileSync(process.execPath, [cli, "cli-app"], { cwd, encoding: "utf8" }), /cd cli-app\n  bash scripts\/dev\.sh/);
  try {
    execFileSync(process.execPath, [cli], { cwd, encoding: "utf8", stdio: "pipe" });
    assert.fail("no directory must fail");
  } catch (e) {
    assert.equal(e.status, 2);
    assert.match(e.stderr, /usage: npm create shoal@latest <dir>/);
  }
});
