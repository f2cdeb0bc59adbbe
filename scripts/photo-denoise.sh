#!/usr/bin/env bash
# The photo denoising measurement of docs/denoise.md: 4 000 random 32×32 windows (at full size) of each of five of
# the free-licence sample photographs (`convae pretrain --patches`; flower left out), a one-block colour CAE without
# pooling pretrained on them with Gaussian noise σ 0.1, then the held-out flower (640×427) denoised at its own size
# by `convae denoise` and measured against a 3×3 median filter for several tilings (scripts/photo-denoise.ts), and
# through the command's --stride and --window (scripts/denoise-tiling.ts).
# Usage: bash scripts/photo-denoise.sh [work dir]   (about 3 minutes on 2 cores at load 2–5)
set -euo pipefail
W=${1:-/tmp/convae-photo-denoise}
mkdir -p "$W/wheel" "$W/held"
pip download --no-deps --only-binary=:all: scikit-image scikit-learn -d "$W/wheel" -q
unzip -o -q "$W"/wheel/scikit_image-*.whl 'skimage/data/*' -d "$W/src"
unzip -o -q "$W"/wheel/scikit_learn-*.whl 'sklearn/datasets/images/*' -d "$W/src"
rm -rf "$W/photos" "$W/stack" "$W/denoised"
mkdir -p "$W/photos"
for f in skimage/data/astronaut.png skimage/data/chelsea.png skimage/data/coffee.png skimage/data/rocket.jpg \
  sklearn/datasets/images/china.jpg; do
  cp "$W/src/$f" "$W/photos/"
done
nice -n 10 npx tsx ts/cli/main.ts pretrain --data "$W/photos" --patches 4000 --size 32x32 --channels 3 \
  --layers 1 --maps 32,64 --kernel 5 --padding same --activation relu --pool 1 \
  --noise gaussian:0.1 --epochs 8 --batch 32 --lr 3e-3 --out "$W/stack"
cp "$W/src/sklearn/datasets/images/flower.jpg" "$W/held/"
npx tsx ts/cli/main.ts denoise --model "$W/stack" --data "$W/held" --add-noise gaussian:0.1 --out "$W/denoised"
npx tsx scripts/photo-denoise.ts --std 0.1 --seeds 3 --picture "$W/denoise-tiles.png" "$W/stack" "$W/held/flower.jpg"
npx tsx scripts/photo-denoise.ts --std 0.2 --seeds 2 "$W/stack" "$W/held/flower.jpg"
npx tsx scripts/denoise-tiling.ts --std 0.1 --seeds 3 --strides 8,16,32 "$W/stack" "$W/held"
