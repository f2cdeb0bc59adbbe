import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_FILES, parseCifar10 } from '../../ts/data/cifar.js';
import { loadCifar10 } from '../../ts/data/cifarfiles.js';
import { DataError, FormatError } from '../../ts/errors.js';

/** n records in CIFAR-10's binary layout: label (k + seed) % 10, pixel j of record k = (k·7 + j + seed) mod 256. */
function records(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * 3073);
  for (let k = 0; k < n; k++) {
    out[k * 3073] = (k + seed) % 10;
    for (let j = 0; j < 3072; j++) out[k * 3073 + 1 + j] = (k * 7 + j + seed) % 256;
  }
  return out;
}

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'convae-cifar-'));
  const bins = join(dir, 'cifar-10-batches-bin');
  mkdirSync(bins);
  CIFAR10_FILES.train.forEach((f, i) => writeFileSync(join(bins, f), records(3, i)));
  writeFileSync(join(bins, 'test_batch.bin'), records(4, 9));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CIFAR-10 binary reader', () => {
  it('reads label + R, G, B planes per record into [3, 32, 32] byte-stored images', () => {
    const ds = parseCifar10(records(5, 2), 'x.bin');
    expect(ds.shape).toEqual([3, 32, 32]);
    expect(ds.length).toBe(5);
    expect(Array.from(ds.labels!)).toEqual([2, 3, 4, 5, 6]);
    expect(ds.numClasses).toBe(10);
    // Record 3: red (0, 0) is byte 1 of the record, green (0, 0) byte 1 + 1024, blue (31, 31) the last.
    const img = ds.image(3);
    expect(img[0]).toBe(Math.fround(((3 * 7 + 0 + 2) % 256) / 255));
    expect(img[1024]).toBe(Math.fround(((3 * 7 + 1024 + 2) % 256) / 255));
    expect(img[3071]).toBe(Math.fround(((3 * 7 + 3071 + 2) % 256) / 255));
  });

  it('damaged copies: truncated, trailing bytes, empty, a label above 9', () => {
    const good = records(3, 0);
    expect(formatError(() => parseCifar10(good.subarray(0, good.length - 1), 'b.bin')).message).toBe(
      'b.bin: 9218 bytes are not a whole number of CIFAR-10 records (1 label byte + 3072 pixel bytes = 3073): 2 records and 3072 bytes left over',
    );
    const long = new Uint8Array(good.length + 5);
    long.set(good);
    expect(formatError(() => parseCifar10(long, 'c.bin')).message).toMatch(/3 records and 5 bytes left over/);
    expect(formatError(() => parseCifar10(new Uint8Array(0), 'd.bin')).message).toMatch(/empty file/);
    const bad = good.slice();
    bad[2 * 3073] = 10;
    expect(formatError(() => parseCifar10(bad, 'e.bin')).message).toBe(
      'e.bin: record 2 (byte 6146) has label 10; CIFAR-10 labels are 0–9 (is this CIFAR-100, with 2 label bytes?)',
    );
  });

  it('loadCifar10 reads the five training batches in order (and the folder inside DIR), limit, test', async () => {
    const train = await loadCifar10({ split: 'train', dir });
    expect(train.length).toBe(15);
    // Batch i record k has label (k + i) % 10.
    expect(Array.from(train.labels!)).toEqual([0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]);
    expect(train.bytes![3 * 3072]).toBe((0 * 7 + 0 + 1) % 256); // batch 2, record 0, first red byte
    const few = await loadCifar10({ split: 'train', dir, limit: 4 });
    expect(Array.from(few.labels!)).toEqual([0, 1, 2, 1]);
    const test = await loadCifar10({ split: 'test', dir: join(dir, 'cifar-10-batches-bin') });
    expect(Array.from(test.labels!)).toEqual([9, 0, 1, 2]);
  });

  it('a missing file is a DataError, a damaged one a FormatError naming it', async () => {
    await expect(loadCifar10({ split: 'test', dir: join(dir, 'nowhere') })).rejects.toThrow(DataError);
    const broken = mkdtempSync(join(tmpdir(), 'convae-cifar-bad-'));
    writeFileSync(join(broken, 'test_batch.bin'), records(2, 0).subarray(0, 5000));
    const e = await loadCifar10({ split: 'test', dir: broken }).catch((x) => x);
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(join(broken, 'test_batch.bin'));
    rmSync(broken, { recursive: true, force: true });
  });
});
