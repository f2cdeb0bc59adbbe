/**
 * The addon against the wasm export layer: the same function names, and the
 * same status code for the same bad call. Both backends are loaded in this
 * realm (native beside one wasm build is allowed); each call gets addresses of
 * its own memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as cv from '../../ts/index.js';
import { exportNames, type Exports } from '../../ts/backend/loader.js';
import { backendUnderTest } from '../util/backend.js';

const native = await backendUnderTest();
const wasm = await cv.loadBackend({ build: 'simd' });

/** What the addon exports beyond the wasm glue's functions (the glue takes both from its instance). */
const NATIVE_ONLY = ['memory', 'memory_bytes'];

describe('the addon exports the wasm layer’s functions', () => {
  it('native is what this project tests', () => {
    expect(native.build).toBe('native');
    expect(['avx512', 'avx2', 'scalar']).toContain(native.isa);
  });

  it('exactly the same function names, plus its memory', () => {
    const addon = native.mem.exports as unknown as Record<string, unknown>;
    const wasmNames = exportNames();
    expect(wasmNames.length).toBeGreaterThan(30);
    const fns = Object.keys(addon).filter((k) => typeof addon[k] === 'function');
    expect(fns.filter((k) => !NATIVE_ONLY.includes(k)).sort()).toEqual(wasmNames);
    expect(Object.keys(addon).sort()).toEqual([...wasmNames, ...NATIVE_ONLY].sort());
    expect(addon.memory).toBeInstanceOf(ArrayBuffer);
  });
});

// status codes (crates/convae-abi/src/lib.rs)
const OK = 0,
  OUT_OF_BOUNDS = 2,
  MISALIGNED = 3,
  OVERLAP = 4,
  BAD_SWITCH = 5,
  BAD_LABEL = 6,
  BAD_ARGUMENT = 7,
  ZERO = 16,
  KERNEL_TOO_LARGE = 17,
  PADDING_TOO_LARGE = 18,
  OUTPUT_PADDING_TOO_LARGE = 19,
  TOO_LARGE = 20;

/** Four 4 KiB blocks of zeros (a, b, c, d) and a 1 MiB workspace `ws` in one backend's memory. */
interface Blocks {
  x: Exports;
  a: number;
  b: number;
  c: number;
  d: number;
  ws: number;
}
const blocks = (be: cv.Backend): Blocks => {
  const x = be.mem.exports;
  const [a, b, c, d, ws] = [4096, 4096, 4096, 4096, 1 << 20].map((n) => be.mem.alloc(n));
  for (const p of [a, b, c, d]) new Uint8Array(be.mem.memory.buffer, p, 4096).fill(0);
  return { x, a, b, c, d, ws };
};

// conv2d x [1,1,4,4], w [2,1,3,3] → y [1,2,2,2]; the geometry is the first 11 arguments.
const G = [1, 1, 4, 4, 2, 3, 3, 1, 1, 0, 0] as const;

/** Each case names a bad (or good) call; run on both backends with their own addresses. */
const cases: [string, number, (m: Blocks) => number][] = [
  ['conv2d ok', OK, (m) => m.x.conv2d(...G, m.a, m.b, 0, m.c, m.ws)],
  ['conv2d x at address 0', OUT_OF_BOUNDS, (m) => m.x.conv2d(...G, 0, m.b, 0, m.c, m.ws)],
  ['conv2d w misaligned', MISALIGNED, (m) => m.x.conv2d(...G, m.a, m.b + 2, 0, m.c, m.ws)],
  ['conv2d y overlaps x', OVERLAP, (m) => m.x.conv2d(...G, m.a, m.b, 0, m.a + 16, m.ws)],
  ['conv2d y overlaps the workspace', OVERLAP, (m) => m.x.conv2d(...G, m.a, m.b, 0, m.ws, m.ws)],
  // Above everything allocated so far (native: the arena's high-water mark, not its 4 GiB of address space).
  ['conv2d y at 2 GiB, above the memory in use', OUT_OF_BOUNDS, (m) => m.x.conv2d(...G, m.a, m.b, 0, 2 ** 31, m.ws)],
  ['conv2d y beyond 4 GiB', OUT_OF_BOUNDS, (m) => m.x.conv2d(...G, m.a, m.b, 0, 2 ** 32 - 16, m.ws)],
  [
    'conv2d y in the last 4 bytes of the address space',
    OUT_OF_BOUNDS,
    (m) => m.x.conv2d(...G, m.a, m.b, 0, 2 ** 32 - 4, m.ws),
  ],
  ['conv2d bias misaligned', MISALIGNED, (m) => m.x.conv2d(...G, m.a, m.b, m.d + 1, m.c, m.ws)],
  ['conv2d n = 0', ZERO, (m) => m.x.conv2d(0, 1, 4, 4, 2, 3, 3, 1, 1, 0, 0, m.a, m.b, 0, m.c, m.ws)],
  [
    'conv2d kernel larger than the image',
    KERNEL_TOO_LARGE,
    (m) => m.x.conv2d(1, 1, 4, 4, 2, 5, 5, 1, 1, 0, 0, m.a, m.b, 0, m.c, m.ws),
  ],
  [
    'conv2d padding ≥ kernel',
    PADDING_TOO_LARGE,
    (m) => m.x.conv2d(1, 1, 4, 4, 2, 3, 3, 1, 1, 3, 0, m.a, m.b, 0, m.c, m.ws),
  ],
  [
    'conv2d shape overflowing',
    TOO_LARGE,
    (m) => m.x.conv2d(65536, 65536, 4, 4, 2, 3, 3, 1, 1, 0, 0, m.a, m.b, 0, m.c, m.ws),
  ],
  ['conv2d_backward_input dx overlaps dy', OVERLAP, (m) => m.x.conv2d_backward_input(...G, m.c, m.b, m.c, m.ws)],
  ['conv2d_backward_weight x misaligned', MISALIGNED, (m) => m.x.conv2d_backward_weight(...G, m.a + 1, m.c, m.b, m.ws)],
  [
    'conv_transpose2d output padding ≥ stride',
    OUTPUT_PADDING_TOO_LARGE,
    (m) => m.x.conv_transpose2d(1, 2, 2, 2, 1, 3, 3, 1, 1, 0, 0, 1, 0, m.a, m.b, 0, m.c, m.ws),
  ],
  [
    'conv_transpose2d ok',
    OK,
    (m) => m.x.conv_transpose2d(1, 2, 2, 2, 1, 3, 3, 1, 1, 0, 0, 0, 0, m.a, m.b, 0, m.c, m.ws),
  ],
  ['gemm ldc < n', ZERO, (m) => m.x.gemm(2, 4, 3, m.a, 3, 1, m.b, 4, 1, m.c, 3, false, m.ws)],
  ['gemm C overlaps B', OVERLAP, (m) => m.x.gemm(2, 4, 3, m.a, 3, 1, m.b, 4, 1, m.b + 16, 4, false, m.ws)],
  ['gemm ok', OK, (m) => m.x.gemm(2, 4, 3, m.a, 3, 1, m.b, 4, 1, m.c, 4, true, m.ws)],
  ['bias_backward c = 0', ZERO, (m) => m.x.bias_backward(2, 0, 4, m.a, m.b)],
  ['dense inp = 0', ZERO, (m) => m.x.dense(2, 0, 3, m.a, m.b, 0, m.c, m.ws)],
  ['dense_backward_weight dw overlaps dy', OVERLAP, (m) => m.x.dense_backward_weight(2, 3, 4, m.a, m.b, m.b, m.ws)],
  ['max_pool2d switches overlap y', OVERLAP, (m) => m.x.max_pool2d(1, 4, 4, 2, 2, 2, 2, m.a, m.b, m.b)],
  ['max_pool2d ok', OK, (m) => m.x.max_pool2d(1, 4, 4, 2, 2, 2, 2, m.a, m.b, m.d)],
  [
    'max_pool2d_backward a switch outside its plane',
    BAD_SWITCH,
    (m) => {
      new Uint32Array(bufferOf(m), m.d, 4).set([0, 2, 8, 16]);
      return m.x.max_pool2d_backward(1, 4, 4, 2, 2, 2, 2, m.b, m.d, m.c);
    },
  ],
  [
    'max_unpool2d a switch outside its plane',
    BAD_SWITCH,
    (m) => {
      new Uint32Array(bufferOf(m), m.d, 4).set([0, 3, 2 ** 31, 10]);
      return m.x.max_unpool2d(1, 4, 4, 2, 2, 2, 2, m.b, m.d, m.c);
    },
  ],
  [
    'max_unpool2d ok',
    OK,
    (m) => {
      new Uint32Array(bufferOf(m), m.d, 4).set([0, 3, 8, 10]);
      return m.x.max_unpool2d(1, 4, 4, 2, 2, 2, 2, m.b, m.d, m.c);
    },
  ],
  [
    'softmax_cross_entropy a label ≥ classes',
    BAD_LABEL,
    (m) => {
      new Uint32Array(bufferOf(m), m.d, 2).set([1, 3]);
      return m.x.softmax_cross_entropy(2, 3, m.a, m.d, 0, m.c);
    },
  ],
  [
    'softmax_cross_entropy grad overlaps logits',
    OVERLAP,
    (m) => {
      new Uint32Array(bufferOf(m), m.d, 2).set([1, 2]);
      return m.x.softmax_cross_entropy(2, 3, m.a, m.d, m.a, m.c);
    },
  ],
  ['activation unknown kind', BAD_ARGUMENT, (m) => m.x.activation(9, 0, 16, m.a, m.b)],
  ['activation leaky relu slope 1.5', BAD_ARGUMENT, (m) => m.x.activation(2, 1.5, 16, m.a, m.b)],
  ['activation in place', OK, (m) => m.x.activation(3, 0, 16, m.a, m.a)],
  ['activation y overlaps x', OVERLAP, (m) => m.x.activation(3, 0, 16, m.a, m.a + 4)],
  [
    'activation_backward in place with y overlapping',
    OVERLAP,
    (m) => m.x.activation_backward(3, 0, 16, m.a, m.a + 8, m.a + 8),
  ],
  ['mse_loss len = 0', ZERO, (m) => m.x.mse_loss(0, m.a, m.b, 0, m.c)],
  ['mse_loss loss_out at 0', OUT_OF_BOUNDS, (m) => m.x.mse_loss(4, m.a, m.b, 0, 0)],
  ['sgd_step velocity = params', OVERLAP, (m) => m.x.sgd_step(16, m.a, m.b, m.a, 0.1, 0.9, 0, false)],
  ['adam_step step 0', BAD_ARGUMENT, (m) => m.x.adam_step(16, m.a, m.b, m.c, m.d, 1e-3, 0.9, 0.999, 1e-8, 0, 0)],
  ['adam_step ok', OK, (m) => m.x.adam_step(16, m.a, m.b, m.c, m.d, 1e-3, 0.9, 0.999, 1e-8, 0, 1)],
  ['axpby y overlaps x', OVERLAP, (m) => m.x.axpby(16, m.a, 0.5, m.a + 32, 0.5)],
  ['axpby a length wrapping past 2^32 bytes', OUT_OF_BOUNDS, (m) => m.x.axpby(2 ** 30, m.a, 0.5, m.b, 0.5)],
];

const buffers = new Map<Exports, ArrayBuffer>();
const bufferOf = (m: Blocks) => buffers.get(m.x) as ArrayBuffer;

describe('the same status code for the same call', () => {
  let n: Blocks, w: Blocks;
  beforeAll(() => {
    n = blocks(native);
    w = blocks(wasm);
    buffers.set(n.x, native.mem.memory.buffer);
    buffers.set(w.x, wasm.mem.memory.buffer);
  });
  for (const [name, code, call] of cases) {
    it(`${name} → ${code}`, () => {
      buffers.set(w.x, wasm.mem.memory.buffer); // wasm memory may have grown
      expect({ native: call(n), wasm: call(w) }).toEqual({ native: code, wasm: code });
    });
  }

  it('shape math: the same sizes and the same error codes over a grid', () => {
    const [nx, wx] = [native.mem.exports, wasm.mem.exports];
    for (let input = 0; input <= 9; input++)
      for (let k = 0; k <= 4; k++)
        for (let s = 0; s <= 3; s++)
          for (let p = 0; p <= 3; p++) {
            expect(nx.conv_out(input, k, s, p)).toBe(wx.conv_out(input, k, s, p));
            expect(nx.pool_out(input, k, s)).toBe(wx.pool_out(input, k, s));
            for (const op of [0, 1, 2])
              expect(nx.conv_transpose_out(input, k, s, p, op)).toBe(wx.conv_transpose_out(input, k, s, p, op));
          }
  });

  it('workspace lengths come from each build’s own tile: both positive or both the same error', () => {
    const [nx, wx] = [native.mem.exports, wasm.mem.exports];
    const geometries: Parameters<Exports['conv2d_workspace_len']>[] = [
      [2, 1, 28, 28, 20, 5, 5, 1, 1, 0, 0],
      [64, 20, 12, 12, 50, 5, 5, 1, 1, 0, 0],
      [1, 3, 8, 8, 4, 3, 3, 2, 2, 1, 1],
      [1, 1, 4, 4, 2, 5, 5, 1, 1, 0, 0],
      [0, 1, 4, 4, 2, 3, 3, 1, 1, 0, 0],
    ];
    let differ = 0;
    for (const g of geometries) {
      const [a, b] = [nx.conv2d_workspace_len(...g), wx.conv2d_workspace_len(...g)];
      if (a < 0 || b < 0) expect(a).toBe(b);
      else differ += a === b ? 0 : 1;
    }
    // Native tiles are 8 x 32, wasm's 4 x 8 (docs/NATIVE.md): the lengths must differ somewhere.
    expect(differ).toBeGreaterThan(0);
    expect(nx.gemm_workspace_len(50, 64, 500)).toBeGreaterThan(0);
  });
});
