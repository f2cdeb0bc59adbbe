// The package on one runtime (Node, Bun, Deno), as a user installs it: load the fastest build (the addon the
// package carries for this platform, else wasm), train a small CNN a few steps data-parallel in 2 workers, save it,
// load it back and check that the loaded model predicts what the trained one does. Prints one JSON line; exits 1 on
// any failure. Run from a folder where `convae` is installed: scripts/runtimes.sh does that for every runtime.
import { Classifier, ImageDataset, loadBackend, loadModel, saveModel, Trainer } from 'convae';

const runtime =
  typeof globalThis.Bun !== 'undefined'
    ? `bun ${globalThis.Bun.version}`
    : typeof globalThis.Deno !== 'undefined'
      ? `deno ${globalThis.Deno.version.deno}`
      : `node ${process.versions.node}`;
const t0 = performance.now();
try {
  const be = await loadBackend();
  const n = 128;
  // Two classes a linear model cannot confuse: bright left half vs bright right half, with a little texture.
  const labels = new Uint8Array(n).map((_, i) => i % 2);
  const pixels = new Uint8Array(n * 12 * 12);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++)
        pixels[i * 144 + y * 12 + x] = (x < 6 === (labels[i] === 0) ? 200 : 30) + ((i * 31 + x * 7 + y * 13) % 40);
  const data = ImageDataset.fromUint8(pixels, [1, 12, 12], labels);
  const clf = Classifier.fromBlocks(
    be,
    [{ convs: [{ filters: 4, kernel: 3 }], pool: { kernel: 2 } }],
    [1, 12, 12],
    { hidden: [8], classes: 2 },
    1,
  );
  const trainer = await Trainer.create(be, { size: 2 });
  const { history } = await trainer.fit(clf, data, {
    epochs: 3,
    batchSize: 32,
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
    workers: 2,
  });
  await trainer.dispose();
  const losses = history.epochs.map((e) => e.loss);
  if (history.steps !== 12) throw new Error(`expected 12 steps, got ${history.steps}`);
  if (!losses.every(Number.isFinite) || !(losses[2] < losses[0])) throw new Error(`loss did not fall: ${losses}`);

  const { json, weights } = saveModel(clf);
  const { model } = loadModel(be, json, weights);
  if (!(model instanceof Classifier)) throw new Error('the saved classifier did not load as a Classifier');
  const x = be.fromArray([n, 1, 12, 12], data.images);
  const a = Array.from(clf.predict(x)),
    b = Array.from(model.predict(x));
  const accuracy = a.filter((c, i) => c === labels[i]).length / n;
  x.dispose();
  if (a.join() !== b.join()) throw new Error('the loaded model predicts other classes than the trained one');
  console.log(
    JSON.stringify({
      runtime,
      ok: true,
      build: be.build,
      steps: history.steps,
      losses: losses.map((l) => +l.toFixed(4)),
      accuracy,
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
    }),
  );
  clf.dispose();
  model.dispose();
  process.exit(0);
} catch (e) {
  console.log(JSON.stringify({ runtime, ok: false, error: String(e?.stack ?? e).slice(0, 2000) }));
  process.exit(1);
}
