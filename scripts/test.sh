#!/usr/bin/env bash
# Runs every test: JVM unit tests (engine on real SQLite), the TeaVM build, then the JS suites
# against the real worker in workerd (Miniflare), real WebSockets and real TanStack DB.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
mvn -B verify
node --test --test-concurrency=1 worker-shim/ test-harness/test/ $(ls -d client/*/test 2>/dev/null)
