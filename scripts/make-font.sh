#!/usr/bin/env bash
# The font the PNG charts are drawn with (ts/viz/fonts/, committed; shipped in dist/fonts/):
# DejaVu Sans and DejaVu Sans Bold cut down to Latin-1 and the few symbols the captions use, so
# every machine renders the text the same way, fonts installed or not (~40 KB instead of ~1.4 MB).
# Needs Debian's fonts-dejavu-core and fonttools (pip install fonttools). Rerun only to change the set.
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/fonts/truetype/dejavu
out=ts/viz/fonts
mkdir -p "$out"
chars="U+0020-007E,U+00A0-00FF,U+00D7,U+2013,U+2014,U+2026,U+2212,U+2264,U+2265,U+00B7,U+2191,U+2193,U+2192"
for f in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "$src/$f.ttf" --unicodes="$chars" --layout-features='kern,liga' --output-file="$out/$f.ttf"
done
cp /usr/share/doc/fonts-dejavu-core/copyright "$out/LICENSE-DejaVu.txt"
ls -l "$out"
