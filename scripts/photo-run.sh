#!/usr/bin/env bash
# The real colour run of README "Your own images": patches of scikit-image's
# sample photographs, a one-layer colour CAE, its filters in docs/.
set -euo pipefail
W=${1:-/tmp/convae-photos}
mkdir -p "$W"
pip download --no-deps --only-binary=:all: scikit-image -d "$W/wheel" -q
unzip -o -q "$W"/wheel/scikit_image-*.whl 'skimage/data/*' -d "$W/wheel"
node scripts/photo-patches.mjs "$W/wheel/skimage/data" "$W/patches" 400 32
nice -n 19 npx tsx ts/cli/main.ts pretrain --data "$W/patches" --size 32x32 --channels 3 \
  --layers 1 --maps 32,64 --kernel 7 --noise 0.3 --epochs 2 --out "$W/out"
