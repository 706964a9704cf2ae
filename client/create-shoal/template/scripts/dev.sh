#!/usr/bin/env bash
# Runs the app locally: workerd via wrangler, SQLite on disk under .wrangler/state, on
# http://127.0.0.1:${PORT:-8787} (GET / answers 200 once it is ready).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/wrangler ] || npm install --no-audit --no-fund
mvn -B -q package -DskipTests   # the engine and the app, compiled by TeaVM into build/engine.js
node web/build.js               # the page, into web/dist/
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state --show-interactive-dev-session=false
