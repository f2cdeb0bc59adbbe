/**
 * The architecture and training settings chosen in the form, as convae's
 * BlockSpec list and options; and back (a loaded model sets the form).
 */
import type { BlockSpec, HeadSpec, Noise } from 'convae';

export interface Settings {
  maps: number;
  kernel: number;
  tied: boolean;
  noise: Noise | null;
  lr: number;
  epochs: number;
  batchSize: number;
  workers: number;
}

const el = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string, lo: number, hi: number, int = true): number => {
  const input = el<HTMLInputElement>(id);
  const v = Number(input.value);
  if (!Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v)))
    throw new Error(
      `${input.labels?.[0]?.textContent?.trim() ?? id}: expected ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${input.value}`,
    );
  return v;
};

function parseNoise(v: string): Noise | null {
  const [type, amount] = v.split(':');
  if (type === 'mask') return { type: 'mask', fraction: Number(amount) };
  // The demo's images are pixels in [0, 1]: clipped, as `convae pretrain --noise gaussian:σ` clips it there.
  if (type === 'gaussian') return { type: 'gaussian', std: Number(amount), clip: true };
  if (type === 'salt-pepper') return { type: 'salt-pepper', fraction: Number(amount) };
  return null;
}

const noiseValue = (n: Noise | null | undefined) =>
  !n
    ? 'none'
    : n.type === 'mask'
      ? `mask:${n.fraction}`
      : n.type === 'gaussian'
        ? `gaussian:${n.std}`
        : `salt-pepper:${n.fraction}`;

export function readSettings(maxWorkers: number): Settings {
  return {
    maps: num('maps', 1, 64),
    kernel: Number(el<HTMLSelectElement>('kernel').value),
    tied: el<HTMLSelectElement>('tied').value === 'tied',
    noise: parseNoise(el<HTMLSelectElement>('noise').value),
    lr: num('lr', 1e-6, 1, false),
    epochs: num('epochs', 1, 100),
    batchSize: num('batch', 1, 512),
    workers: num('workers', 1, maxWorkers),
  };
}

/** One CAE block (conv → tanh → 2×2 max-pool), or two for the stack: the second with twice the maps. */
export function blockSpecs(s: Settings, depth: 1 | 2): BlockSpec[] {
  const first: BlockSpec = {
    convs: [{ filters: s.maps, kernel: s.kernel }],
    activation: 'tanh',
    pool: { kernel: 2 },
    tied: s.tied,
    noise: s.noise,
  };
  if (depth === 1) return [first];
  return [
    first,
    { convs: [{ filters: 2 * s.maps, kernel: s.kernel }], activation: 'tanh', pool: { kernel: 2 }, tied: s.tied },
  ];
}

/** The classifier's head: 100 hidden units, one output per class. */
export const headSpec = (classes: number): HeadSpec => ({ hidden: [100], classes });

/** Shows a loaded model's first block in the form, so what you see is what runs next. */
export function showSpec(b: BlockSpec): void {
  const c = b.convs[0];
  const k = Array.isArray(c.kernel) ? c.kernel[0] : c.kernel;
  el<HTMLInputElement>('maps').value = String(c.filters);
  const kernel = el<HTMLSelectElement>('kernel');
  if (![...kernel.options].some((o) => o.value === String(k))) kernel.add(new Option(String(k)));
  kernel.value = String(k);
  el<HTMLSelectElement>('tied').value = b.tied === false ? 'untied' : 'tied';
  const noise = el<HTMLSelectElement>('noise'),
    v = noiseValue(b.noise);
  if (![...noise.options].some((o) => o.value === v)) noise.add(new Option(v, v));
  noise.value = v;
}
