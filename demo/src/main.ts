/**
 * The demo page: wires the controls to a training session in workers and
 * keeps the pictures live. The main thread only draws: each snapshot the
 * workers send is copied into a main-thread model of the same architecture,
 * at most every RENDER_MS, which then draws its filters and reconstructs 16
 * test images (and what is drawn on the pad). Dropped or picked images are
 * decoded in convae's decoding workers; the anomaly threshold and what a
 * filter responds to are computed in the analysis worker.
 *
 * `window.convaeDemo` exposes the page's state for the browser test
 * (test/browser/demo.test.ts).
 */
import { StackedConvAutoencoder, type Classifier, type ImageFileInput } from 'convae';
import { Analysis, type Threshold } from './analysis.js';
import { blockSpecs, readSettings, showSpec } from './architecture.js';
import { type DemoData, loadDropped, loadMnist } from './data.js';
import { DigitView, type PadContext } from './digit.js';
import { DrawPad } from './drawpad.js';
import { acceptImages } from './drop.js';
import { createEnv } from './env.js';
import { FeatureView, filterAt } from './feature.js';
import { downloadModel, loadModelFiles } from './files.js';
import { LossPlot } from './lossplot.js';
import { type FilterLayout, ReconstructionView, drawFilters } from './pictures.js';
import { ProgressView } from './progress.js';
import { run } from './training.js';

type Phase = 'loading' | 'idle' | 'training' | 'paused' | 'failed';
const state = {
  /** The images trained on: 'MNIST' or the dropped folder's name, their shape and classes. */
  data: { name: '', shape: [0, 0, 0] as number[], train: 0, classes: null as string[] | null, note: '' },
  /** Dropped images being decoded (done / total), or null. */
  decoding: null as { done: number; total: number } | null,
  /** The anomaly threshold fitted on the validation images for the current model, or null (untrained, fitting). */
  threshold: null as Threshold | null,
  /** Times a threshold was fitted (the test waits for the next one). */
  thresholds: 0,
  /** What the pad shows: its score, the threshold and the verdict. */
  pad: { score: null as number | null, threshold: null as number | null, flagged: null as boolean | null },
  /** The feature whose projections are shown. */
  feature: null as { feature: number; images: number; activations: number[] } | null,
  phase: 'loading' as Phase,
  build: '',
  isolated: false,
  maxWorkers: 1,
  steps: 0,
  loss: NaN,
  /** The loss of the run's first batch (what the test compares the last one with, whenever it looks). */
  firstLoss: NaN,
  renders: 0,
  /** The longest redraw of the pictures (main-thread work per snapshot) since training last started, ms. */
  longestRenderMs: 0,
  accuracy: null as number | null,
  message: '',
};
(window as unknown as { convaeDemo: typeof state }).convaeDemo = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const button = (id: string) => $<HTMLButtonElement>(id);
/** Least time between two redraws of the pictures during training. */
const RENDER_MS = 100;
const params = new URLSearchParams(location.search);
const seed = Number(params.get('seed')) || 1;
const progress = new ProgressView();

try {
  const [env, mnist] = await Promise.all([createEnv(params), loadMnist()]);
  let data: DemoData = mnist;
  const { be, trainer } = env;
  Object.assign(state, { build: be.build, isolated: crossOriginIsolated, maxWorkers: env.maxWorkers });
  showEnvironment(be.build, env.shared, env.maxWorkers, trainer.workers);
  const analysis = new Analysis(be);
  analysis.setData(data.validation, data.test);

  let stack = new StackedConvAutoencoder(be, blockSpecs(readSettings(env.maxWorkers), 1), data.train.shape, seed);
  let clf: Classifier | null = null;
  let threshold: Threshold | null = null;
  let layout: FilterLayout | null = null;
  /** What the pictures show: the stack (reconstructions through `depth` blocks) or the classifier's first filters. */
  let shown: 'stack' | 'classifier' = 'stack';
  let depth = 1;
  let abort: AbortController | null = null;
  let pending: { params: Record<string, Float32Array>; model: StackedConvAutoencoder | Classifier } | null = null;

  const plot = new LossPlot($<HTMLCanvasElement>('plot'));
  let recon = new ReconstructionView(be, data.test, $<HTMLCanvasElement>('recon'));
  const digit = new DigitView(be, {
    input: $<HTMLCanvasElement>('pad-small'),
    output: $<HTMLCanvasElement>('pad-recon'),
    error: $<HTMLCanvasElement>('pad-error'),
    score: $('score'),
    prediction: $('prediction'),
  });
  const padContext = (): PadContext => ({ depth, threshold, classes: data.classes });
  function showPad(drawn: DrawPad | null): void {
    digit.show(drawn ? drawn.image(data.train.shape, data.mnist) : null, stack, clf, padContext());
    state.pad = { ...digit.reading };
  }
  const pad = new DrawPad($<HTMLCanvasElement>('pad'), showPad);
  button('clear').onclick = () => pad.clear();
  const pen = $<HTMLInputElement>('pen');
  pen.oninput = () => {
    pad.pen = pen.value;
  };
  const feature = new FeatureView(analysis, $<HTMLCanvasElement>('projection'), $('feature-note'));
  $<HTMLCanvasElement>('filters').addEventListener('click', (e) => {
    if (state.phase !== 'idle') {
      $('feature-note').textContent = 'click a filter once training has stopped';
      return;
    }
    const f = layout && filterAt($<HTMLCanvasElement>('filters'), e, layout);
    if (f === null) return;
    const from = shown === 'classifier' ? ' of the CAE the classifier started from' : '';
    feature.show(f, data.train.shape, from).then(
      () => {
        state.feature = feature.shown;
      },
      (err) => {
        $('feature-note').textContent = `could not project: ${(err as Error).message}`;
      },
    );
  });

  /** Fits the anomaly threshold of the current model in the analysis worker (it then redraws the pad's reading). */
  function fitThresholdLater(): void {
    threshold = null;
    state.threshold = null;
    feature.clear();
    state.feature = null;
    analysis.setModel(stack, depth).then(
      (t) => {
        if (!t || state.phase === 'training' || state.phase === 'paused') return;
        threshold = t;
        state.threshold = t;
        state.thresholds++;
        showPad(pad.empty() ? null : pad);
      },
      (e) => console.error(e),
    );
  }

  /** Shows what the page trains on and sizes the pad's captions to it. */
  function describeData(note: string): void {
    const [c, h, w] = data.train.shape;
    state.data = { name: data.name, shape: [c, h, w], train: data.train.length, classes: data.classes, note };
    $('data-note').textContent = note;
    $('draw-title').textContent = data.mnist
      ? 'Draw a digit'
      : `Draw (the model reads ${h}×${w} ${c === 3 ? 'colour' : 'grey'})`;
    $('pad-caption').textContent = `${h}×${w} input · reconstruction · error (black 0, white ≥ 0.5)`;
    button('train-stack').title = data.classes
      ? 'Pretrain two CAE blocks greedily, then fine-tune a CNN classifier (test accuracy on the held-out images)'
      : 'needs labelled images (class folders)';
  }
  describeData(
    `MNIST: ${data.train.length} training, ${data.validation.length} validation and ${data.test.length} test digits (28×28 grey)`,
  );

  function render(): void {
    const t0 = performance.now();
    if (pending) {
      for (const p of pending.model.params()) {
        const v = pending.params[p.name];
        if (v && v.length === p.value.size) p.value.set(v);
      }
      pending = null;
    }
    layout = drawFilters($<HTMLCanvasElement>('filters'), shown === 'classifier' && clf ? clf : stack);
    recon.draw(stack, depth);
    $('recon-title').textContent =
      `Test ${data.mnist ? 'digits' : 'images'} (top) and their reconstructions (below)${depth > 1 ? `, through ${depth} blocks` : ''}`;
    digit.refresh(stack, clf, padContext());
    state.pad = { ...digit.reading };
    state.renders++;
    state.longestRenderMs = Math.max(state.longestRenderMs, performance.now() - t0);
  }

  let renderQueued = false,
    lastRender = 0;
  function scheduleRender(): void {
    if (renderQueued) return;
    renderQueued = true;
    const wait = Math.max(0, lastRender + RENDER_MS - performance.now());
    setTimeout(
      () =>
        requestAnimationFrame(() => {
          renderQueued = false;
          lastRender = performance.now();
          render();
        }),
      wait,
    );
  }

  function setPhase(p: Phase): void {
    state.phase = p;
    const busy = p === 'training' || p === 'paused';
    const loading = p === 'loading';
    for (const id of ['train', 'load', 'pick-files', 'pick-folder']) button(id).disabled = busy || loading;
    button('train-stack').disabled = busy || loading || !data.classes;
    button('use-mnist').disabled = busy || loading || data.mnist;
    button('pause').disabled = p !== 'training';
    button('resume').disabled = p !== 'paused';
    button('cancel').disabled = !busy;
    for (const id of ['download-classifier-weights', 'download-classifier-json']) button(id).disabled = busy || !clf;
    for (const id of ['download-stack-weights', 'download-stack-json']) button(id).disabled = busy;
  }

  function replaceStack(next: StackedConvAutoencoder): void {
    if (next !== stack) stack.dispose();
    stack = next;
  }

  function replaceClassifier(next: Classifier | null): void {
    if (clf && next !== clf) clf.dispose();
    clf = next;
  }

  /** A fresh, untrained model of the form's architecture (its random filters are drawn too). */
  function rebuild(levels: 1 | 2 = 1): boolean {
    try {
      const s = readSettings(env.maxWorkers);
      replaceStack(new StackedConvAutoencoder(be, blockSpecs(s, levels), data.train.shape, seed));
      replaceClassifier(null);
      shown = 'stack';
      depth = 1;
      threshold = null;
      state.threshold = null;
      feature.clear();
      state.feature = null;
      render();
      return true;
    } catch (e) {
      progress.status((e as Error).message, true);
      return false;
    }
  }

  async function train(levels: 1 | 2): Promise<void> {
    let settings: ReturnType<typeof readSettings>;
    try {
      settings = readSettings(env.maxWorkers);
    } catch (e) {
      progress.status((e as Error).message, true);
      return;
    }
    state.longestRenderMs = 0;
    if (!rebuild(levels)) return;
    plot.clear();
    state.steps = 0;
    state.accuracy = null;
    $('accuracy').textContent = '–';
    abort = new AbortController();
    setPhase('training');
    // The fresh model is drawn in this task; the job starts (the model is posted to the workers) in the next one.
    await new Promise((ok) => setTimeout(ok, 0));
    let target: StackedConvAutoencoder | Classifier = stack;
    try {
      const r = await run({
        trainer,
        stack,
        data,
        settings,
        depth: levels,
        seed,
        signal: abort.signal,
        hooks: {
          stage: (st, i, n) => {
            progress.begin(n > 1 ? `${i + 1}/${n} ${st.label}` : st.label, settings.epochs, data.train.length);
            plot.begin(st.label);
            if (st.kind === 'cae') {
              target = stack;
              depth = st.layer + 1;
            }
          },
          classifier: (c) => {
            replaceClassifier(c);
            target = c;
            shown = 'classifier';
          },
          batch: (i) => {
            progress.batch(i);
            plot.batch(i.loss);
            if (++state.steps === 1) state.firstLoss = i.loss;
            state.loss = i.loss;
          },
          epoch: (i) => {
            progress.epoch(i);
            plot.epoch(i.loss);
            if (i.valAccuracy !== undefined) state.accuracy = i.valAccuracy;
          },
          snapshot: (p) => {
            pending = { params: p, model: target };
            scheduleRender();
          },
        },
      });
      progress.status(r.aborted ? 'cancelled: the model keeps the weights of the last completed step' : 'done');
      state.message = r.aborted ? 'cancelled' : 'trained';
    } catch (e) {
      console.error(e);
      progress.status(`training failed: ${(e as Error).name}: ${(e as Error).message}`, true);
    } finally {
      // The trained (or last completed) parameters are in the models now: draw those, not a late snapshot.
      pending = null;
      abort = null;
      render();
      setPhase('idle');
      fitThresholdLater();
    }
  }

  /** Makes `next` the page's data: a fresh model of its shape, its pictures, its threshold. */
  function useData(next: DemoData, note: string): void {
    data = next;
    analysis.setData(data.validation, data.test);
    recon = new ReconstructionView(be, data.test, $<HTMLCanvasElement>('recon'));
    describeData(note);
    setPhase('idle');
    pad.clear();
    if (rebuild()) fitThresholdLater();
  }

  async function dropped(files: ImageFileInput[] | Error): Promise<void> {
    if (files instanceof Error) {
      progress.status(`could not read the drop: ${files.message}`, true);
      return;
    }
    setPhase('loading');
    state.decoding = { done: 0, total: 0 };
    progress.status(`decoding ${files.length} files in workers…`);
    const channels = $<HTMLSelectElement>('colour').value;
    try {
      const { data: next, note } = await loadDropped(files, {
        size: Number($<HTMLSelectElement>('size').value),
        channels: channels === 'auto' ? 'auto' : (Number(channels) as 1 | 3),
        seed,
        onProgress: (done, total) => {
          state.decoding = { done, total };
          if (done % 16 === 0 || done === total) progress.status(`decoding: ${done} of ${total} images`);
        },
      });
      state.decoding = null;
      useData(next, note);
      progress.status('idle: images loaded; press Train');
      state.message = `loaded ${next.train.length + next.validation.length + next.test.length} images`;
    } catch (e) {
      console.error(e);
      progress.status(`could not use these files: ${(e as Error).message}`, true);
      state.message = `images failed: ${(e as Error).message}`;
    } finally {
      state.decoding = null;
      setPhase('idle');
    }
  }
  acceptImages(
    $('drop'),
    [$<HTMLInputElement>('pick-files'), $<HTMLInputElement>('pick-folder')],
    (f) => void dropped(f),
    () => state.phase === 'idle',
  );
  button('use-mnist').onclick = () =>
    useData(
      mnist,
      `MNIST: ${mnist.train.length} training, ${mnist.validation.length} validation and ${mnist.test.length} test digits (28×28 grey)`,
    );

  button('train').onclick = () => void train(1);
  button('train-stack').onclick = () => void train(2);
  button('pause').onclick = () => {
    trainer.pause();
    setPhase('paused');
    progress.status(`${$('stage').textContent} — paused`);
  };
  button('resume').onclick = () => {
    trainer.resume();
    setPhase('training');
  };
  button('cancel').onclick = () => abort?.abort();
  $('arch').addEventListener('change', (e) => {
    const id = (e.target as HTMLElement).id;
    if (state.phase === 'idle' && ['maps', 'kernel', 'tied', 'noise'].includes(id)) rebuild();
  });

  button('download-stack-weights').onclick = () => downloadModel(stack, 'convae-cae', 'safetensors');
  button('download-stack-json').onclick = () => downloadModel(stack, 'convae-cae', 'json');
  button('download-classifier-weights').onclick = () => clf && downloadModel(clf, 'convae-classifier', 'safetensors');
  button('download-classifier-json').onclick = () => clf && downloadModel(clf, 'convae-classifier', 'json');
  const load = $<HTMLInputElement>('load');
  load.onchange = async () => {
    if (!load.files?.length) return;
    try {
      const { model, meta, name } = await loadModelFiles(be, load.files);
      const want = data.train.shape.join('×');
      if (model.inputShape.join('×') !== want) {
        model.dispose();
        throw new Error(`the model reads ${model.inputShape.join('×')} images, the page's are ${want}`);
      }
      if (meta.kind === 'stack') {
        replaceStack(model as StackedConvAutoencoder);
        depth = stack.blocks.length;
        shown = 'stack';
      } else {
        replaceClassifier(model as Classifier);
        shown = 'classifier';
      }
      showSpec(meta.blocks[0]);
      render();
      setPhase('idle');
      if (meta.kind === 'stack') fitThresholdLater();
      $('files-note').textContent =
        `loaded ${meta.kind === 'stack' ? 'CAE stack' : 'classifier'} “${name}” (${meta.blocks.length} block${meta.blocks.length > 1 ? 's' : ''})`;
      state.message = `loaded ${meta.kind}`;
    } catch (e) {
      $('files-note').textContent = `could not load: ${(e as Error).message}`;
      state.message = `load failed: ${(e as Error).message}`;
    } finally {
      load.value = '';
    }
  };

  render();
  setPhase('idle');
  fitThresholdLater();
  progress.status('idle: choose an architecture and press Train, or drop your own images');
} catch (e) {
  console.error(e);
  state.phase = 'failed';
  state.message = String(e);
  $('env').innerHTML = '';
  $('env').append(
    Object.assign(document.createElement('span'), {
      className: 'warn',
      textContent: `The demo could not start: ${(e as Error).message}`,
    }),
  );
}

function showEnvironment(build: string, shared: boolean, maxWorkers: number, poolSize: number): void {
  const what =
    { relaxed: 'relaxed SIMD (fused multiply-add)', simd: 'SIMD128', scalar: 'scalar, no SIMD' }[build] ?? build;
  const env = $('env');
  env.innerHTML = '';
  const b = (t: string) => Object.assign(document.createElement('b'), { textContent: t });
  env.append('wasm build: ', b(`${build}`), ` (${what}) · `);
  if (shared) env.append('cross-origin isolated: ', b('yes'), ` — up to ${maxWorkers} workers train data-parallel`);
  else
    env.append(
      Object.assign(document.createElement('span'), {
        className: 'warn',
        textContent: `not cross-origin isolated (no SharedArrayBuffer): up to ${maxWorkers} workers average their gradients through messages, slower per step`,
      }),
    );
  const workers = $<HTMLInputElement>('workers');
  workers.max = String(maxWorkers);
  workers.value = String(Math.min(2, maxWorkers));
  $('workers-note').textContent = shared
    ? `${poolSize} workers started; N > 1 splits each batch over N workers (synchronous data-parallel SGD).`
    : `${poolSize} workers started. Serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp for the faster shared-memory all-reduce.`;
}
