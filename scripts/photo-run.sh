#!/usr/bin/env bash
# The real colour run of README "A real colour run": 16×16 patches of the
# free-licence sample photographs of the scikit-image and scikit-learn wheels
# (scripts/photo-patches.mjs), a one-block colour CAE on contrast-normalised,
# whitened patches (ReLU, 'same' padding: the settings scripts/photo-select.ts
# measured), its filters copied to docs/images/photo-filters.png.
# Usage: bash scripts/photo-run.sh [work dir]   (about 5 minutes on 2 idle cores)
set -euo pipefail
W=${1:-/tmp/convae-photos}
mkdir -p "$W/wheel"
pip download --no-deps --only-binary=:all: scikit-image scikit-learn -d "$W/wheel" -q
unzip -o -q "$W"/wheel/scikit_image-*.whl 'skimage/data/*' -d "$W/src"
unzip -o -q "$W"/wheel/scikit_learn-*.whl 'sklearn/datasets/images/*' -d "$W/src"
rm -rf "$W/patches"
node scripts/photo-patches.mjs "$W/src" "$W/patches" 7500 16 0.5
nice -n 10 npx tsx ts/cli/main.ts pretrain --data "$W/patches" --size 16x16 --channels 3 \
  --layers 1 --maps 32,64 --kernel 7 --padding same --activation relu --normalize whiten \
  --noise 0.3 --epochs 15 --batch 32 --lr 3e-3 --out "$W/out"
cp "$W/out/filters-block1.png" docs/images/photo-filters.png
cp "$W/out/reconstructions.png" docs/images/photo-reconstructions.png
