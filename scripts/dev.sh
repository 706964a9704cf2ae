#!/usr/bin/env bash
# Runs the example app locally (wrangler.toml at the root names it): workerd via wrangler, SQLite
# on disk under .wrangler/state, listening on http://127.0.0.1:${PORT:-8787}: open it for the
# example chat (GET / answers 200 once it is ready).
set -euo pipefail
cd "$(dirname "$0")/.."
{ [ -d node_modules/wrangler ] && [ -d node_modules/react-dom ]; } || npm ci --no-audit --no-fund
# Installs the Shoal artifacts and builds the example as any app is built: examples/chat/build/engine.js.
mvn -B -q install -DskipTests
node examples/chat/web/build.js   # the page, into examples/chat/dist (wrangler.toml [assets])
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" --persist-to .wrangler/state --show-interactive-dev-session=false
