import { describe, expect, it } from 'vitest';
import { comparePaths, labelPaths } from '../../ts/data/imagelist.js';
import { DataError } from '../../ts/errors.js';

describe('image listing rules shared by the Node and browser loaders', () => {
  it('comparePaths orders folder by folder, as a sorted directory walk does', () => {
    const paths = ['a.b/c.png', 'a/z.png', 'a/b/y.png', 'B/x.png', 'a-1.png'];
    // Code points: 'B' < 'a' < 'a-1.png' < 'a.b'; inside 'a', 'b' (a folder) < 'z.png'.
    expect([...paths].sort(comparePaths)).toEqual(['B/x.png', 'a/b/y.png', 'a/z.png', 'a-1.png', 'a.b/c.png']);
    // A plain string sort would put 'a.b/…' before 'a/…' ('.' < '/').
    expect([...paths].sort()[2]).toBe('a.b/c.png');
  });

  it('labelPaths: classes from top-level folders, sorted; auto needs every file in a folder', () => {
    const paths = ['cat/a.png', 'cat/x/b.png', 'dog/c.png'];
    expect(labelPaths('t', paths, 'auto', 'root')).toEqual({
      classes: ['cat', 'dog'],
      labels: Uint8Array.from([0, 0, 1]),
    });
    expect(labelPaths('t', ['a.png', 'cat/b.png'], 'auto', 'root')).toEqual({ classes: null, labels: null });
    expect(labelPaths('t', paths, 'none', 'root')).toEqual({ classes: null, labels: null });
    expect(() => labelPaths('t', ['a.png', 'cat/b.png'], 'folders', 'root')).toThrow(/a.png lies at the top level/);
    const many = Array.from({ length: 257 }, (_, i) => `c${i}/x.png`);
    expect(() => labelPaths('t', many, 'auto', 'root')).toThrow(DataError);
  });
});
