// What `npm pack` puts in each published package: ESM with its types, the README, nothing of the
// tests. (create-shoal ships its template, which holds the generated app's own tests.)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

for (const name of ["@shoal/client", "@shoal/db", "@shoal/react", "@shoal/worker", "create-shoal"]) {
  test(`npm pack of ${name} is clean`, () => {
    const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "-w", name], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    const files = pack.files.map((f) => f.path);
    const dir = path.join(root, name === "create-shoal" ? "client/create-shoal" : name === "@shoal/worker" ? "worker-shim" : `client/${name.split("/")[1]}`);
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    assert.equal(pkg.type, "module", "ESM");
    assert.ok(!files.some((f) => /^test\//.test(f) || /\.test\.js$/.test(f) && !f.startsWith("template/")), `no tests: ${files}`);
    assert.ok(files.includes("README.md") || name !== "@shoal/worker", "a README");
    for (const entry of Object.values(pkg.exports ?? {})) {
      for (const target of typeof entry === "string" ? [entry] : Object.values(entry)) {
        assert.ok(files.includes(target.replace(/^\.\//, "")), `${name} exports ${target}, and packs it`);
      }
      if (name !== "create-shoal") assert.ok(typeof entry === "object" && entry.types, `${name}: every export has types`);
    }
  });
}
