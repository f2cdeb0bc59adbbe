/**
 * Held-out reconstruction error of `scripts/photo-run.sh`'s stacks photograph by photograph: how much a split of
 * the patches flattered it. For each seed, the stack trained on an 80/20 split of the *windows* (OLD: every photograph
 * in both parts) and the one trained on an 80/20 split of the *images* (NEW: `convae pretrain --patches` now, the
 * held-out photograph never seen) are scored on the patches each held out, per photograph:
 *
 *   npx tsx scripts/photo-heldout.ts PHOTOS OLD_PREFIX NEW_PREFIX [seeds=1,2,3]
 *
 * where OLD_PREFIX-s1/ … hold the stacks `pretrain … --seed 1 --out OLD_PREFIX-s1` wrote before the change (commit
 * 8b40bf1 for docs/photo-run.md), and NEW_PREFIX-s1/ … after (the photo-run flags, `--seed s`). MSE as `pretrain`
 * prints it (½·mean squared error, in each stack's own whitened units).
 */
import { loadBackend } from '../ts/backend/backend.js';
import { normalized } from '../ts/cli/data.js';
import { loadStackDirInput } from '../ts/cli/model-dir.js';
import type { ImageDataset } from '../ts/data/dataset.js';
import { loadImageFolder } from '../ts/data/imagefolder.js';
import { splitDataset } from '../ts/data/split.js';
import { stackLayerTask } from '../ts/model/tasks.js';
import { evaluateTask } from '../ts/train/evaluate.js';

const [photos, oldPrefix, newPrefix, seedList = '1,2,3'] = process.argv.slice(2);
if (!photos || !oldPrefix || !newPrefix)
  throw new Error('usage: photo-heldout.ts PHOTOS OLD_PREFIX NEW_PREFIX [1,2,3]');
const be = await loadBackend({ build: 'auto' });

/** The MSE of the stack in `dir` on the patches of `ds` at `indices`, in all and per file. */
async function scores(dir: string, ds: ImageDataset, files: string[], indices: Uint32Array) {
  const { stack, input } = await loadStackDirInput(be, dir);
  const mse = (idx: Uint32Array) =>
    evaluateTask(be, stackLayerTask(stack, 0), normalized(ds.subset(idx), input.normalize, input.whitening)).loss;
  const perFile = new Map<string, number>();
  for (const f of [...new Set(Array.from(indices, (i) => files[i]!))])
    perFile.set(f, mse(indices.filter((i) => files[i] === f)));
  const all = mse(indices);
  stack.dispose();
  return { all, perFile };
}

for (const seed of seedList.split(',').map(Number)) {
  const f = await loadImageFolder(photos, {
    size: [16, 16],
    channels: 3,
    patches: { perImage: 1250, seed, scale: 0.5 },
  });
  const byWindow = splitDataset(f.dataset, { validation: 0, test: 0.2, seed });
  const byImage = splitDataset(f.dataset, { validation: 0, test: 0.2, seed, groups: f.patchOrigins!.image });
  const old = await scores(`${oldPrefix}-s${seed}`, f.dataset, f.files, byWindow.test!.indices);
  const now = await scores(`${newPrefix}-s${seed}`, f.dataset, f.files, byImage.test!.indices);
  const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v.toFixed(5)}`).join(', ');
  console.log(`seed ${seed}: old (windows split) ${old.all.toFixed(5)} [${fmt(old.perFile)}]`);
  console.log(`seed ${seed}: new (images split) ${now.all.toFixed(5)} [${fmt(now.perFile)}]`);
}
