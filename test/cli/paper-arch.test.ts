/** `convae paper --first-cae` and `--decoder`: which regulariser the first CAE of the pretrained stack gets, and whether its decoders are tied. */
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES, pretrainBlocks } from '../../ts/cli/paper-arch.js';

describe('pretrainBlocks', () => {
  for (const name of ['small', 'small-relu', 'masci'] as const) {
    const arch = ARCHITECTURES[name];
    it(`${name}: k-sparse by default, masking noise 0.3 with 'noise'; the other blocks as the architecture has them`, () => {
      const k = pretrainBlocks(arch);
      expect(k[0].sparsity).toEqual({ keep: 0.05 });
      expect(k[0].noise).toBeUndefined();
      const n = pretrainBlocks(arch, 'noise');
      expect(n[0].noise).toEqual({ type: 'mask', fraction: 0.3 });
      expect(n[0].sparsity).toBeUndefined();
      for (const blocks of [k, n]) {
        expect(blocks).toHaveLength(arch.blocks.length);
        expect(blocks.slice(1)).toEqual(arch.blocks.slice(1));
        expect({ ...blocks[0], sparsity: undefined, noise: undefined }).toEqual({
          ...arch.blocks[0],
          sparsity: undefined,
          noise: undefined,
        });
      }
    });
  }

  it("'untied' unties every block's decoder and changes nothing else", () => {
    for (const name of ['small', 'masci'] as const) {
      const arch = ARCHITECTURES[name];
      const tied = pretrainBlocks(arch);
      const untied = pretrainBlocks(arch, 'ksparse', 'untied');
      expect(tied.every((b) => b.tied === undefined)).toBe(true);
      expect(untied.map((b) => b.tied)).toEqual(arch.blocks.map(() => false));
      expect(untied.map((b) => ({ ...b, tied: undefined }))).toEqual(tied.map((b) => ({ ...b, tied: undefined })));
    }
  });
});
