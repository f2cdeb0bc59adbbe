#!/usr/bin/env bash
# Builds the three wasm builds of crates/convae-wasm from source and writes them,
# with the wasm-bindgen glue they share, to ts/wasm/. The committed files there
# are the canonical output of this script; `--check` rebuilds into a temporary
# folder and fails if any byte differs (CI runs it that way).
#
# Needs Debian's rustc-web toolchain linked as `debian-web` and the wasm-bindgen
# CLI at the exact version of the crate: scripts/setup-rust-wasm.sh installs both.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
[ "${1:-}" = "--check" ] && check=1

out=ts/wasm
if [ $check = 1 ]; then out=$(mktemp -d); fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

bindgen_version=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' crates/convae-wasm/Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
if [ "$have" != "$bindgen_version" ]; then
  echo "wasm-bindgen CLI $have found, the crate pins $bindgen_version: run scripts/setup-rust-wasm.sh" >&2
  exit 1
fi

# name → target features. One place for the per-build flags: a RUSTFLAGS env var
# replaces .cargo/config.toml's rustflags entirely.
declare -A features=(
  [scalar]=""
  [simd]="+simd128"
  [relaxed]="+simd128,+relaxed-simd"
)

for build in scalar simd relaxed; do
  flags="-C linker=wasm-ld-14"
  [ -n "${features[$build]}" ] && flags="$flags -C target-feature=${features[$build]}"
  echo "== building $build ($flags)" >&2
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo +debian-web build --quiet --release \
    --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort \
    -p convae-wasm --target-dir "target/wasm-$build"
  # --omit-default-module-path: the glue's own `new URL('convae_wasm_bg.wasm', import.meta.url)` names a file
  # the package does not have (the loader always passes the module of the build it picked), and bundlers
  # fail (webpack) or warn (Vite) on it.
  wasm-bindgen --target web --no-typescript --omit-default-module-path --out-dir "$stage/$build" \
    "target/wasm-$build/wasm32-unknown-unknown/release/convae_wasm.wasm"
  # The typed declarations are written once, from the simd build (they are the same for all).
  if [ $build = simd ]; then
    wasm-bindgen --target web --omit-default-module-path --out-dir "$stage/types" \
      "target/wasm-$build/wasm32-unknown-unknown/release/convae_wasm.wasm"
  fi
done

# One glue file serves all three builds: check that it really is the same.
for build in simd relaxed; do
  if ! cmp -s "$stage/scalar/convae_wasm.js" "$stage/$build/convae_wasm.js"; then
    echo "wasm-bindgen glue differs between the scalar and $build builds" >&2
    diff "$stage/scalar/convae_wasm.js" "$stage/$build/convae_wasm.js" >&2 || true
    exit 1
  fi
done

mkdir -p "$out"
cp "$stage/scalar/convae_wasm.js" "$out/convae_wasm.js"
cp "$stage/types/convae_wasm.d.ts" "$out/convae_wasm.d.ts"
cp "$stage/types/convae_wasm_bg.wasm.d.ts" "$out/convae_wasm_bg.wasm.d.ts"
for build in scalar simd relaxed; do
  cp "$stage/$build/convae_wasm_bg.wasm" "$out/convae-$build.wasm"
done
(cd "$out" && sha256sum convae-*.wasm convae_wasm.js) >&2

if [ $check = 1 ]; then
  status=0
  for f in convae_wasm.js convae_wasm.d.ts convae_wasm_bg.wasm.d.ts convae-scalar.wasm convae-simd.wasm convae-relaxed.wasm; do
    if ! cmp -s "$out/$f" "ts/wasm/$f"; then
      echo "ts/wasm/$f differs from a fresh build: rebuild with scripts/build-wasm.sh and commit" >&2
      status=1
    fi
  done
  rm -rf "$out"
  [ $status = 0 ] && echo "wasm check: the committed builds match a fresh build from source" >&2
  exit $status
fi
