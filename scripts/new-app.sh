#!/usr/bin/env bash
# Generates a new Shoal app in DIR from this checkout: installs the Maven artifacts (dev.shoal:*)
# into the local repository, packs the npm packages (@shoal/*) into DIR/vendor, and runs the same
# generator as `npm create shoal@latest` (client/create-shoal). Nothing is published.
#
#   bash scripts/new-app.sh ~/my-app && cd ~/my-app && bash scripts/dev.sh
set -euo pipefail
if [ $# -ne 1 ]; then echo "usage: bash scripts/new-app.sh DIR" >&2; exit 2; fi
dir=$(realpath -m "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
{ [ -d node_modules/esbuild ] && [ -d node_modules/@shoal/worker ]; } || npm ci --no-audit --no-fund
# Every artifact an app depends on (the example app is not one).
mvn -B -q install -DskipTests -pl .,java-src/protocol,java-src/engine,java-src/testkit,java-src/codegen,java-src/do,java-src/app-parent
packs=$(mktemp -d)
trap 'rm -rf "$packs"' EXIT
for pkg in client db react worker; do
  npm pack --silent --pack-destination "$packs" -w "@shoal/$pkg" >/dev/null
done
node "$root/client/create-shoal/index.js" "$dir" --local "$packs"
