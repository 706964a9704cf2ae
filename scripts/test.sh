#!/usr/bin/env bash
# Runs every test: JVM unit tests (engine on real SQLite), the TeaVM build, then the JS suites
# against the real worker in workerd (Miniflare), real WebSockets, real TanStack DB and, for the
# browser tests, Debian's Chromium driven by playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export SHOAL_REQUIRE_BROWSER=1   # a browser test must run here, never skip
npm ci --no-audit --no-fund
mvn -B verify
node --test --test-concurrency=1 worker-shim/ test-harness/test/ $(ls -d client/*/test examples/*/test 2>/dev/null)
