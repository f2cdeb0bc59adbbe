/**
 * The fuzz suite's referee. Every case is one call on generated input with an
 * independent expectation: 'invalid' (must be a typed convae error), 'valid'
 * (must succeed and pass its own verification), or 'either' (a byte flip that
 * may or may not break the file: a typed error, or a success that verifies).
 * After every case: Object.prototype and Array.prototype unchanged, and after a
 * rejection wasm memory and the live-tensor count unchanged; messages ≤ 1000
 * characters; no case over 5 s. Seeded (ts/util/rng.ts), so a failure replays.
 */
import { expect } from 'vitest';
import type { Backend } from '../../ts/backend/backend.js';
import { ConvaeError } from '../../ts/errors.js';
import { Rng } from '../../ts/util/rng.js';

export type Expect = 'valid' | 'invalid' | 'either';

export interface Tally {
  tried: number;
  typed: number;
  valid: number;
  other: number;
  failures: string[];
  /** Distinct kinds of 'other' outcome (label without the case number, and the reason's start). */
  classes: Set<string>;
}

const tallies = new Map<string, Tally>();

const protoSnapshot = () =>
  JSON.stringify([
    Reflect.ownKeys(Object.prototype).map(String),
    Reflect.ownKeys(Array.prototype).map(String),
    Object.getPrototypeOf(Object.prototype),
  ]);
const PROTO = protoSnapshot();

export const CASE_MS = 5000;
export const MAX_MESSAGE = 1000;

/**
 * Runs one case. `run` returns a verifier (called on success: throws or
 * returns false when the result is wrong) or nothing (success needs no check).
 */
export async function fuzzCase(
  be: Backend | null,
  group: string,
  label: string,
  expectation: Expect,
  run: () => unknown | Promise<unknown>,
): Promise<void> {
  const t = tallies.get(group) ?? { tried: 0, typed: 0, valid: 0, other: 0, failures: [], classes: new Set<string>() };
  tallies.set(group, t);
  t.tried++;
  const mem0 = be?.memoryBytes ?? 0;
  const live0 = be?.mem.live.tensors ?? 0;
  const t0 = performance.now();
  let outcome: 'typed' | 'valid' | 'other';
  let detail = '';
  try {
    const verify = await run();
    if (typeof verify === 'function' && (await verify()) === false) throw new Error('verification returned false');
    outcome = 'valid';
  } catch (e) {
    if (e instanceof ConvaeError) {
      outcome = 'typed';
      if (e.message.length > MAX_MESSAGE) {
        outcome = 'other';
        detail = `message of ${e.message.length} characters`;
      }
      if (be && (be.memoryBytes !== mem0 || be.mem.live.tensors !== live0)) {
        outcome = 'other';
        detail = `rejection changed wasm memory ${mem0}→${be.memoryBytes} / live tensors ${live0}→${be.mem.live.tensors}: ${e.message.slice(0, 200)}`;
      }
    } else {
      outcome = 'other';
      detail = `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    }
  }
  const ms = performance.now() - t0;
  if (ms > CASE_MS) {
    outcome = 'other';
    detail = `took ${ms.toFixed(0)} ms`;
  }
  if (protoSnapshot() !== PROTO) {
    outcome = 'other';
    detail = 'Object.prototype or Array.prototype changed';
  }
  if (outcome === 'valid' && expectation === 'invalid') {
    outcome = 'other';
    detail = 'accepted although invalid';
  }
  if (outcome === 'typed' && expectation === 'valid') {
    outcome = 'other';
    detail = 'refused although valid';
  }
  t[outcome]++;
  if (outcome === 'other') {
    if (t.failures.length < 20) t.failures.push(`${label}: ${detail}`);
    t.classes.add(`${label.replace(/^#\d+ /, '')}: ${detail}`.replace(/\d+/g, 'N').slice(0, 110));
  }
}

export const tally = (group: string): Tally => tallies.get(group)!;

/** Asserts the group had no 'other' outcome (listing the first few), after printing its counts. */
export function expectClean(group: string): void {
  const t = tallies.get(group)!;
  expect(t.failures, `${group}: ${t.failures.join('\n')}`).toEqual([]);
  expect(t.other).toBe(0);
}

export function report(title: string, be: Backend | null, before: { memory: number; rss: number }): void {
  const rows = [...tallies].map(
    ([g, t]) =>
      `${g.padEnd(22)} tried ${String(t.tried).padStart(5)}  typed ${String(t.typed).padStart(5)}  valid ${String(t.valid).padStart(5)}  other ${t.other}`,
  );
  const total = [...tallies.values()].reduce((s, t) => s + t.tried, 0);
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  console.log(
    [
      `fuzz ${title}: ${total} cases${SEED_OFFSET ? ` (CONVAE_FUZZ_SEED=${SEED_OFFSET})` : ''}`,
      ...rows,
      `wasm memory ${mb(before.memory)} → ${mb(be?.memoryBytes ?? 0)}, RSS ${mb(before.rss)} → ${mb(process.memoryUsage().rss)}`,
    ].join('\n'),
  );
}

export const snapshot = (be: Backend | null) => ({ memory: be?.memoryBytes ?? 0, rss: process.memoryUsage().rss });

/**
 * Added to every group's seed: `CONVAE_FUZZ_SEED=n npm run test:fuzz` throws other cases than CI's
 * (which runs 0) at the same referee; a failure replays with the same n.
 */
export const SEED_OFFSET = fuzzSeedOffset(process.env.CONVAE_FUZZ_SEED);

function fuzzSeedOffset(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 31)
    throw new Error(`CONVAE_FUZZ_SEED must be an integer in [0, 2^31), got ${JSON.stringify(v.slice(0, 40))}`);
  return n;
}

/** Small helpers over the seeded generator. */
export class Gen {
  readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng((seed + SEED_OFFSET) % 2 ** 32);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }
  bool(p = 0.5): boolean {
    return this.rng.next() < p;
  }
  name(): string {
    return this.pick([
      () => `t${this.int(0, 99)}`,
      () => this.pick(['__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty']),
      () => 'x'.repeat(this.int(1, 2000)),
      () => 'é🙂\u0000"\\',
    ])();
  }
  /** A hostile JSON value: wrong types, huge numbers, deep nesting, long strings, prototype keys. */
  junk(): unknown {
    return this.pick<() => unknown>([
      () => null,
      () => true,
      () => -1,
      () => 0,
      () => 1.5,
      () => 2 ** 31,
      () => 2 ** 32,
      () => 1e9,
      () => 1e300,
      () => -0,
      () => 'x',
      () => '',
      () => 'y'.repeat(this.int(1000, 100_000)),
      () => [],
      () => [null],
      () => [1, 2, 3],
      () => ({}),
      () => JSON.parse('{"__proto__":{"polluted":1}}'),
      () => ({ constructor: { prototype: { polluted: 1 } } }),
      () => JSON.parse(deepJson(this.int(65, 3000))),
    ])();
  }
}

/** A JSON text nesting `depth` arrays. */
export const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
