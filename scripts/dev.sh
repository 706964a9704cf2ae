#!/usr/bin/env bash
# Runs the example app locally: workerd via wrangler, SQLite on disk under .wrangler/state,
# listening on http://127.0.0.1:8787: open it for the example chat (GET / answers 200 once it is ready).
set -euo pipefail
cd "$(dirname "$0")/.."
{ [ -d node_modules/wrangler ] && [ -d node_modules/react-dom ]; } || npm ci --no-audit --no-fund
mvn -B -q package -DskipTests
node examples/chat/build.js   # the page, into examples/chat/dist (wrangler.toml [assets])
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state --show-interactive-dev-session=false
