#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (playwright-core drives it; it
# never downloads a browser of its own). Without it, the browser tests are skipped
# locally; CI always installs it.
set -euo pipefail
SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
if [ ! -x /usr/bin/chromium ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
