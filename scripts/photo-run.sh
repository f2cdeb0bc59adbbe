#!/usr/bin/env bash
# The real colour run of README "A real colour run": 16×16 patches of the
# free-licence sample photographs of the scikit-image and scikit-learn wheels
# (`convae pretrain --patches`: 1 250 random windows of each photograph at half
# size), a one-block colour CAE on contrast-normalised, whitened patches (ReLU,
# 'same' padding: the settings scripts/photo-select.ts measured), its filters
# copied to docs/images/photo-filters.png.
#
# The photographs are scenes and objects under free licences: scikit-image's
# astronaut (NASA, public domain), chelsea (a cat) and coffee (CC0), rocket
# (SpaceX, public domain), and scikit-learn's china (a temple) and flower
# (CC BY 2.0, danielbuechele / vultilion on Flickr; sklearn/datasets/images/README.txt).
# Not the telescope, microscope and retina images, the Middlebury stereo pair
# (research terms) nor the synthetic ones (chessboards, logo, phantom, text).
# Usage: bash scripts/photo-run.sh [work dir]   (about a minute on 2 idle cores)
set -euo pipefail
W=${1:-/tmp/convae-photos}
mkdir -p "$W/wheel"
pip download --no-deps --only-binary=:all: scikit-image scikit-learn -d "$W/wheel" -q
unzip -o -q "$W"/wheel/scikit_image-*.whl 'skimage/data/*' -d "$W/src"
unzip -o -q "$W"/wheel/scikit_learn-*.whl 'sklearn/datasets/images/*' -d "$W/src"
rm -rf "$W/photos"
mkdir -p "$W/photos"
for f in skimage/data/astronaut.png skimage/data/chelsea.png skimage/data/coffee.png skimage/data/rocket.jpg \
  sklearn/datasets/images/china.jpg sklearn/datasets/images/flower.jpg; do
  cp "$W/src/$f" "$W/photos/"
done
nice -n 10 npx tsx ts/cli/main.ts pretrain --data "$W/photos" --patches 1250 --patch-scale 0.5 --size 16x16 \
  --channels 3 --layers 1 --maps 32,64 --kernel 7 --padding same --activation relu --normalize whiten \
  --noise 0.3 --epochs 15 --batch 32 --lr 3e-3 --out "$W/out"
cp "$W/out/filters-block1.png" docs/images/photo-filters.png
cp "$W/out/reconstructions.png" docs/images/photo-reconstructions.png
