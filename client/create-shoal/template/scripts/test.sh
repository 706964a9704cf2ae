#!/usr/bin/env bash
# Runs the app's tests: JUnit tests of its policies and mutators (shoal-testkit, real SQLite), the
# TeaVM build and the check that web/src/shoal.gen.ts is current (mvn verify), the page's build,
# then the workerd test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/wrangler ] || npm install --no-audit --no-fund
mvn -B verify
node web/build.js   # the page compiles
node --test test/
