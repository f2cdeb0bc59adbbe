#!/usr/bin/env bash
# Installs the other JavaScript runtimes the smoke test runs on, from their npm packages (the
# binaries ship inside them), into a tools folder outside the project: Node 22 and 24, Bun, Deno.
# Prints the folder. Reuses an earlier install. Usage: bash scripts/install-runtimes.sh [DIR]
set -euo pipefail
dir="${1:-${CONVAE_RUNTIMES:-${XDG_CACHE_HOME:-$HOME/.cache}/convae-runtimes}}"
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/deno" ] || [ ! -x "$dir/node_modules/.bin/bun" ] || [ ! -d "$dir/node_modules/node24" ]; then
  [ -f "$dir/package.json" ] || echo '{ "name": "convae-runtimes", "private": true }' >"$dir/package.json"
  # Aliases, so that two versions of the `node` package sit side by side; their install scripts fetch
  # the platform binary package from the same registry.
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
    node22@npm:node@22 node24@npm:node@24 bun@1 deno@2 >&2
fi
echo "$dir"
