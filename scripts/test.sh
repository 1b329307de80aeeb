#!/usr/bin/env bash
# The one test command (npm test): installs what the browser tests need, then type-checks, lints,
# builds the client and runs every test. CI calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm install --no-audit --no-fund
bash scripts/find-chromium.sh >/dev/null

echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint"; npx biome check .
echo "== build client"; npx vite build --logLevel warn
echo "== tests"; npx vitest run "$@"
