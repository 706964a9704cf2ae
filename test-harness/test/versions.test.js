// One Shoal version across Maven and npm: the root pom's <version> is the definition; shoal.version,
// every module's <parent>, every @shoal/* package (and create-shoal, which stamps it into new apps)
// and every @shoal/* dependency must say the same. A release changes them together.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (p) => readFileSync(path.join(root, p), "utf8");
const rootPom = read("pom.xml");
const version = /<artifactId>shoal<\/artifactId>\s*(?:<!--[\s\S]*?-->\s*)?<version>([^<]+)<\/version>/.exec(rootPom)[1];

test("the root pom defines a release version, and shoal.version repeats it", () => {
  assert.match(version, /^\d+\.\d+\.\d+$/, "a release version, ready for mvn deploy");
  assert.equal(/<shoal\.version>([^<]+)<\/shoal\.version>/.exec(rootPom)[1], version);
});

test("every Maven module's parent is this version", () => {
  const modules = [...rootPom.matchAll(/<module>([^<]+)<\/module>/g)].map((m) => m[1]);
  assert.ok(modules.length >= 7);
  for (const m of modules) {
    const parent = /<parent>[\s\S]*?<version>([^<]+)<\/version>[\s\S]*?<\/parent>/.exec(read(`${m}/pom.xml`))[1];
    assert.equal(parent, version, `${m}/pom.xml`);
  }
});

test("every npm package of Shoal, and every @shoal/* dependency, is this version", () => {
  const manifests = readdirSync(path.join(root, "client")).map((d) => `client/${d}/package.json`).concat(["worker-shim/package.json", "examples/chat/package.json"]);
  for (const file of manifests.filter((f) => existsSync(path.join(root, f)))) {
    const pkg = JSON.parse(read(file));
    if (file !== "examples/chat/package.json") assert.equal(pkg.version, version, `${file} version`);
    for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies]) {
      for (const [name, spec] of Object.entries(deps ?? {})) {
        if (name.startsWith("@shoal/")) assert.equal(spec, version, `${file} depends on ${name}`);
      }
    }
  }
});
