#!/usr/bin/env bash
# Installs what rebuilding the wasm needs on Debian 12 (only needed to change
# kernels: the built .wasm files are committed in ts/wasm/).
# - Debian's rustc-web 1.96 + its std source: rustup's stable has no wasm32 std
#   here, so core/alloc/std are built with -Zbuild-std (see docs/BUILD.md);
# - lld-14 for wasm-ld; wabt for inspecting modules;
# - the wasm-bindgen CLI at the exact version the crate pins.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
if ! dpkg -s rustc-web rust-web-src lld-14 wabt >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    rustc-web cargo-web rust-web-src lld-14 wabt
fi
rustup toolchain list | grep -q '^debian-web' || rustup toolchain link debian-web /usr

want=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' crates/convae-wasm/Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  # Not --locked: the CLI's lock file pins a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$want"
fi
