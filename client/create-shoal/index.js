#!/usr/bin/env node
// create-shoal: writes a new Shoal app into a directory, from ./template.
//
//   npm create shoal@latest my-app                  # the published path: @shoal/* from npm, dev.shoal:* from Maven Central
//   node index.js my-app --local <dir of .tgz>       # scripts/new-app.sh: @shoal/* from tarballs packed from a checkout
//
// The app's Maven parent and its @shoal/* packages get this package's version, so that the Java and
// npm halves of Shoal always line up.
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const TEMPLATE = join(here, "template");
const VERSION = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).version;
/** The npm packages an app depends on, by placeholder. */
const PACKAGES = { shoalClient: "client", shoalDb: "db", shoalReact: "react", shoalWorker: "worker" };
/** Template files whose names npm would drop or a dotfile-blind tool would miss. */
const RENAMES = { _gitignore: ".gitignore", "_dev.vars": ".dev.vars" };
const NAME = /^[a-z][a-z0-9-]{0,63}$/;

export class UsageError extends Error {}

/**
 * Writes the app into `dir` (which must not exist, or be empty). `local`: a directory holding the
 * packed @shoal/* tarballs (`npm pack`), copied into the app's vendor/ and depended on as files.
 * Returns the app's name.
 */
export function createApp(dir, { local } = {}) {
  const target = resolve(dir);
  const name = basename(target);
  if (!NAME.test(name)) {
    throw new UsageError(`the app's directory name is its name, and "${name}" is not one: use 1..64 of a-z, 0-9 and -, starting with a letter`);
  }
  if (existsSync(target) && readdirSync(target).length > 0) throw new UsageError(`${dir} exists and is not empty: pick a new directory`);
  const values = { name, shoalVersion: VERSION, devSecret: randomBytes(32).toString("hex") };
  for (const [key, pkg] of Object.entries(PACKAGES)) values[key] = VERSION;
  if (local) {
    const vendor = join(target, "vendor");
    mkdirSync(vendor, { recursive: true });
    for (const [key, pkg] of Object.entries(PACKAGES)) {
      const file = `shoal-${pkg}-${VERSION}.tgz`;
      if (!existsSync(join(local, file))) throw new UsageError(`${join(local, file)} is missing: pack it with \`npm pack -w @shoal/${pkg}\``);
      copyFileSync(join(local, file), join(vendor, file));
      values[key] = `file:vendor/${file}`;
    }
  }
  copyTree(TEMPLATE, target, values);
  return name;
}

function copyTree(from, to, values) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const dest = join(to, RENAMES[entry] ?? entry);
    if (statSync(source).isDirectory()) {
      copyTree(source, dest, values);
      continue;
    }
    const text = readFileSync(source, "utf8").replace(/\{\{(\w+)\}\}/g, (whole, key) => {
      if (!(key in values)) throw new Error(`template ${relative(TEMPLATE, source)} names unknown {{${key}}}`);
      return values[key];
    });
    writeFileSync(dest, text, { mode: statSync(source).mode });
  }
}

function main(argv) {
  const args = [...argv];
  let local;
  const at = args.indexOf("--local");
  if (at >= 0) {
    local = args[at + 1];
    if (!local) throw new UsageError("--local needs the directory of the packed @shoal/* tarballs");
    args.splice(at, 2);
  }
  if (args.length !== 1 || args[0].startsWith("-")) throw new UsageError("usage: npm create shoal@latest <dir>   (or: create-shoal <dir> [--local <dir of .tgz>])");
  const dir = args[0];
  const name = createApp(dir, { local });
  console.log(`Created ${name} in ${resolve(dir)}. Next:

  cd ${dir}
  bash scripts/dev.sh     # run it: http://127.0.0.1:8787
  bash scripts/test.sh    # run its tests

Its README.md says what is where; Shoal's docs/getting-started.md goes on from here.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`create-shoal: ${e.message}`);
    process.exit(2);
  }
}
