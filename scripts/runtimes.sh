#!/usr/bin/env bash
# Every runtime the package supports, in CI: the packed package installed into an empty project, and
# test/runtimes/smoke.mjs (load the backend, train a few steps in 2 workers, save, load) run on the
# machine's Node, Node 22, Node 24, Bun and Deno (from their npm packages: scripts/install-runtimes.sh,
# into a tools folder, not into the project). The browsers: test/browser/demo.test.ts (Chromium) and
# test/browser/demo-firefox.test.ts (Firefox ESR) run in `npm test`. Prints a table; exit 1 if any failed.
# Usage: bash scripts/runtimes.sh [TOOLS_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$(bash scripts/install-runtimes.sh "${1:-}") || { echo "runtimes: installing the runtimes failed" >&2; exit 1; }
bin="$tools/node_modules"
app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
echo '{ "name": "convae-smoke", "private": true, "type": "module" }' >"$app/package.json"
tarball=$(npm pack --silent --pack-destination "$app" | tail -1) || exit 1
# The main package alone, as `npm install convae` gives it: it carries the addon `npm pack` built for this
# platform (package.json files), which the loader finds inside it; test/package.test.ts covers the
# per-platform package installed beside.
# A stalled registry connection can leave npm waiting with no end: each attempt gets 100 s (a normal install takes 10–20).
for attempt in 1 2 3; do
  (cd "$app" && timeout 100 npm install --no-audit --no-fund --loglevel=error --ignore-scripts "./$tarball") && break
  [ "$attempt" = 3 ] && exit 1
  echo "npm install failed or stalled (attempt $attempt of 3); trying again" >&2
done
cp test/runtimes/smoke.mjs "$app/"

declare -a names cmds
names+=("node $(node --version) (machine)"); cmds+=("node smoke.mjs")
names+=("node 22"); cmds+=("$bin/node22/bin/node smoke.mjs")
names+=("node 24"); cmds+=("$bin/node24/bin/node smoke.mjs")
names+=("bun"); cmds+=("$bin/.bin/bun smoke.mjs")
names+=("deno"); cmds+=("$bin/.bin/deno run -A smoke.mjs")

fail=0
echo "| runtime | result | build | steps | accuracy | s |"
echo "|---|---|---|---|---|---|"
# Each runtime twice: as installed (native where the addon loads), and on wasm (CONVAE_NATIVE=0), the build
# every other platform runs.
for i in "${!names[@]}"; do
  # An empty CONVAE_NATIVE is the default (the loader reads it as unset); 0 turns native off.
  for native in '' 0; do
    out=$(cd "$app" && CONVAE_NATIVE=$native timeout 120 ${cmds[$i]} 2>&1 | tail -1)
    if node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.ok ? 0 : 1)' "$out" 2>/dev/null; then
      node -e 'const r = JSON.parse(process.argv[1]); console.log(`| ${r.runtime} | ok | ${r.build} | ${r.steps} | ${r.accuracy} | ${r.seconds} |`)' "$out"
    else
      fail=1
      echo "| ${names[$i]}${native:+, CONVAE_NATIVE=0} | FAILED | | | | |"
      echo "$out" | head -20 >&2
    fi
  done
done
exit $fail
