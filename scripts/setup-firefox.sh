#!/usr/bin/env bash
# Installs Debian's Firefox ESR for test/browser/demo-firefox.test.ts (puppeteer-core drives it over
# WebDriver BiDi; nothing downloads a browser of its own). Without it that test is skipped locally;
# CI installs it.
set -euo pipefail
SUDO=""
[ "$(id -u)" != 0 ] && SUDO=sudo
if [ ! -x /usr/bin/firefox-esr ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends firefox-esr
fi
