/**
 * A folder tree deeper than PATH_MAX: listing it fails below some depth, and
 * the caller gets a DataError of bounded length, not Node's ENAMETOOLONG whose
 * message repeats the whole path (4 000+ characters, more the deeper the tree).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadImageFolder } from '../../ts/data/imagefolder.js';
import { DataError } from '../../ts/errors.js';
import { MAX_MESSAGE_CHARS } from '../../ts/limits.js';

describe.runIf(process.platform === 'linux')('loadImageFolder on a tree deeper than PATH_MAX', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'convae-deep-'));
  // 15 levels of 200-character names: 3 000 characters, under Linux's 4 096 per path.
  const chain = Array.from({ length: 15 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/');
  const root = join(tmp, 'root');
  const outer = join(root, chain);
  // Each path handed to the kernel stays short; the tree below `root` reaches about 6 000 characters.
  mkdirSync(outer, { recursive: true });
  mkdirSync(join(tmp, 'inner', chain), { recursive: true });
  renameSync(join(tmp, 'inner'), join(outer, 'inner'));
  afterAll(() => {
    // Undo the nesting first: removing the deep tree in one go would need its long paths too.
    renameSync(join(outer, 'inner'), join(tmp, 'inner'));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is a DataError naming the sub-folder, cut short', async () => {
    const e = await loadImageFolder(root).then(
      () => null,
      (x: Error) => x,
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e!.message).toMatch(/^loadImageFolder: cannot list the sub-folder "0d+…": ENAMETOOLONG/);
    expect(e!.message.length).toBeLessThan(400);
    expect(e!.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  });
});
