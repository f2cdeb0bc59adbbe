/**
 * The demo page: wires the controls to a training session in workers and
 * keeps the pictures live. The main thread only draws: each snapshot the
 * workers send is copied into a main-thread model of the same architecture,
 * at most every RENDER_MS, which then draws its filters and reconstructs 16
 * test digits (and the digit drawn on the pad).
 *
 * `window.convaeDemo` exposes the page's state for the browser test
 * (test/browser/demo.test.ts).
 */
import { StackedConvAutoencoder, type Classifier } from 'convae';
import { blockSpecs, readSettings, showSpec } from './architecture.js';
import { loadData } from './data.js';
import { DigitView } from './digit.js';
import { DrawPad } from './drawpad.js';
import { createEnv } from './env.js';
import { downloadModel, loadModelFiles } from './files.js';
import { LossPlot } from './lossplot.js';
import { ReconstructionView, drawFilters } from './pictures.js';
import { ProgressView } from './progress.js';
import { run } from './training.js';

type Phase = 'loading' | 'idle' | 'training' | 'paused' | 'failed';
const state = {
  phase: 'loading' as Phase,
  build: '',
  isolated: false,
  maxWorkers: 1,
  steps: 0,
  loss: NaN,
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
  const [env, data] = await Promise.all([createEnv(params), loadData()]);
  const { be, trainer } = env;
  Object.assign(state, { build: be.build, isolated: crossOriginIsolated, maxWorkers: env.maxWorkers });
  showEnvironment(be.build, env.shared, env.maxWorkers, trainer.workers);

  let stack = new StackedConvAutoencoder(be, blockSpecs(readSettings(env.maxWorkers), 1), data.train.shape, seed);
  let clf: Classifier | null = null;
  /** What the pictures show: the stack (reconstructions through `depth` blocks) or the classifier's first filters. */
  let shown: 'stack' | 'classifier' = 'stack';
  let depth = 1;
  let abort: AbortController | null = null;
  let pending: { params: Record<string, Float32Array>; model: StackedConvAutoencoder | Classifier } | null = null;

  const plot = new LossPlot($<HTMLCanvasElement>('plot'));
  const recon = new ReconstructionView(be, data.test, $<HTMLCanvasElement>('recon'));
  const digit = new DigitView(
    be,
    $<HTMLCanvasElement>('pad-small'),
    $<HTMLCanvasElement>('pad-recon'),
    $('prediction'),
  );
  const pad = new DrawPad($<HTMLCanvasElement>('pad'), (img) => digit.show(img, stack, clf));
  button('clear').onclick = () => pad.clear();

  function render(): void {
    const t0 = performance.now();
    if (pending) {
      for (const p of pending.model.params()) {
        const v = pending.params[p.name];
        if (v && v.length === p.value.size) p.value.set(v);
      }
      pending = null;
    }
    drawFilters($<HTMLCanvasElement>('filters'), shown === 'classifier' && clf ? clf : stack);
    recon.draw(stack, depth);
    $('recon-title').textContent =
      `Test digits (top) and their reconstructions (below)${depth > 1 ? `, through ${depth} blocks` : ''}`;
    digit.refresh(stack, clf);
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
    for (const id of ['train', 'train-stack', 'load']) button(id).disabled = busy;
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
            state.steps++;
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
    } catch (e) {
      console.error(e);
      progress.status(`training failed: ${(e as Error).name}: ${(e as Error).message}`, true);
    } finally {
      // The trained (or last completed) parameters are in the models now: draw those, not a late snapshot.
      pending = null;
      abort = null;
      render();
      setPhase('idle');
    }
  }

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
  progress.status('idle: choose an architecture and press Train');
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
