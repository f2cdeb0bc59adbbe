/**
 * Damage shared by the fuzz groups of saved files (models, detectors): paths into a parsed JSON description, and
 * one seeded change to a safetensors file of F32 tensors.
 */
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../ts/io/safetensors.js';
import { deepJson, type Expect, type Gen } from './harness.js';

export type Path = (string | number)[];

/** Every path into `v` (the free-form `training` left out: anything goes there). */
export function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at[0] === 'training') return out;
  out.push(at);
  if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) paths(x, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

export const get = (o: unknown, p: Path) => p.reduce<unknown>((x, k) => (x as Record<string, unknown>)?.[k], o);

/** Sets `p` as an own property, also when its last key is `__proto__`. */
export function set(o: unknown, p: Path, v: unknown): void {
  const parent = get(o, p.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, p[p.length - 1], { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * One tensor of `weights` damaged: the file cut, a bit flipped ('either': it may still be a valid file), a value
 * made NaN or infinite, the tensor removed, renamed, given another dtype or shape, or a tensor added.
 */
export function damageWeights(
  g: Gen,
  weights: Uint8Array,
): { weights: Uint8Array; how: string; tensor: string; exp: Expect } {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [k, v] of Object.entries(decodeSafetensors(weights, 'w').tensors)) set(tensors, [k], v);
  const n = g.pick(Object.keys(tensors));
  const t = tensors[n] as { dtype: 'F32'; shape: number[]; data: Float32Array };
  const how = g.pick(['truncate', 'flip', 'nan', 'remove', 'extra', 'rename', 'dtype', 'shape'] as const);
  const out = { how, tensor: n, exp: 'invalid' as Expect };
  if (how === 'truncate') return { ...out, weights: weights.subarray(0, g.int(0, weights.length - 1)) };
  if (how === 'flip') {
    const w = weights.slice();
    w[g.int(0, w.length - 1)] ^= 1 << g.int(0, 7);
    return { ...out, weights: w, exp: 'either' };
  }
  if (how === 'nan') {
    const d = t.data.slice();
    d[g.int(0, d.length - 1)] = g.pick([Number.NaN, Infinity, -Infinity]);
    set(tensors, [n], { ...t, data: d });
  } else if (how === 'remove') delete tensors[n];
  else if (how === 'extra') set(tensors, [g.name()], { dtype: 'F32', shape: [1], data: new Float32Array(1) });
  else if (how === 'rename') {
    set(tensors, [`${n}x`], t);
    delete tensors[n];
  } else if (how === 'dtype') set(tensors, [n], { dtype: 'U32', shape: t.shape, data: new Uint32Array(t.data.buffer) });
  else set(tensors, [n], { ...t, shape: [t.data.length, 1, 1, 1, 1].slice(0, t.shape.length === 5 ? 4 : 5) });
  return { ...out, weights: encodeSafetensors(tensors) };
}

/**
 * A key added to one object of the JSON `text` (the free-form `training` aside): a prototype name, an unknown or a
 * 10 000-character one, holding `{"polluted":1}` or (`deep`) arrays nested `depth` deep.
 */
export function addKey(g: Gen, text: string): { json: string; key: string; at: Path; deep: boolean; depth: number } {
  const j = JSON.parse(text);
  const objs = paths(j).filter((q) => {
    const v = get(j, q);
    return v && typeof v === 'object' && !Array.isArray(v);
  });
  const at = g.pick(objs);
  const key = g.pick(['__proto__', 'constructor', 'prototype', 'extra', 'x'.repeat(10000)]);
  const deep = g.bool(0.5);
  const depth = g.int(100, 20000);
  set(get(j, at), [key], 0);
  const json = JSON.stringify(j).replace(
    `${JSON.stringify(key)}:0`,
    `${JSON.stringify(key)}:${deep ? deepJson(depth) : '{"polluted":1}'}`,
  );
  return { json, key, at, deep, depth };
}

/** One field of the JSON `text` (the free-form `training` aside) replaced by what `value` draws. */
export function replaceField(
  g: Gen,
  text: string,
  value: () => unknown,
): { json: string; at: Path; orig: unknown; v: unknown; label: string } {
  const j = JSON.parse(text);
  const at = g.pick(paths(j).filter((p) => p.length > 0));
  const orig = get(j, at);
  const v = value();
  set(j, at, v);
  const label = `field ${at.join('.')} = ${String(JSON.stringify(v)).slice(0, 60)}`;
  return { json: JSON.stringify(j) ?? 'null', at, orig, v, label };
}
