/**
 * A saved model's `training.classes`, read by evaluate and predict to match a test folder's class folders by
 * name: a long folder name survives the round trip, and a list that is not 1 to 256 distinct names, or that names
 * another number of classes than the head has, is a DataError naming the file. Before, such a list was dropped
 * without a word and the folders were matched by sorted position (a one-class folder scored as class 0).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classesOf, MAX_CLASS_NAME_CHARS } from '../../ts/cli/saved.js';
import { DataError } from '../../ts/errors.js';
import { BUILD } from '../util/backend.js';
import { cliRunner } from '../util/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const cli = cliRunner(120_000);

describe.runIf(BUILD === 'simd')("a saved model's class names", () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-classes-'));
  const imgs = join(dir, 'imgs'),
    run = join(dir, 'run'),
    onlyLong = join(dir, 'only-long');
  const long = 'é'.repeat(20) + 'r'.repeat(200); // 220 characters, 240 bytes in UTF-8: one file name (≤ 255 bytes)
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    renameSync(join(imgs, 'reds'), join(imgs, long)); // sorts after blues: class 1
    mkdirSync(onlyLong);
    cpSync(join(imgs, long), join(onlyLong, long), { recursive: true });
    const r = cli(
      ...['train', '--data', imgs, '--size', '16x16', '--maps', '4,8', '--hidden', '8'],
      ...['--epochs', '1', '--pretrain-epochs', '1', '--out', run, '-q'],
    );
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Right predictions in the row of class `name` of an evaluate's confusion (its JSON --out). */
  const rightIn = (model: string, data: string, name: string) => {
    const out = join(dir, `eval-${Math.random()}.json`);
    const r = cli('evaluate', '--model', model, '--data', data, '--out', out, '-q');
    expect(r.status, r.stderr).toBe(0);
    const a = JSON.parse(readFileSync(out, 'utf8')) as { classes: string[]; confusion: number[][] };
    const i = a.classes.indexOf(name);
    return a.confusion[i]![a.classes.indexOf(name)]!;
  };

  it('a 220-character class folder is matched by name: the same right predictions alone as in the whole folder', () => {
    const saved = JSON.parse(readFileSync(join(run, 'classifier.json'), 'utf8'));
    expect(saved.training.classes).toEqual(['blues', long]);
    const inAll = rightIn(run, imgs, long);
    expect(inAll).toBeGreaterThan(0);
    expect(rightIn(run, onlyLong, long)).toBe(inAll);
  });

  it('a hostile training.classes is a DataError naming the file, from evaluate and predict', () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2], /training\.classes\[0\] must be a name of 1 to 1024 characters, got 1/],
      [['blues', 'blues'], /the name "blues" appears twice/],
      [['blues'], /names 1 classes, the classifier's head has 2/],
      [['blues', long, 'x'], /names 3 classes, the classifier's head has 2/],
      [{ 0: 'blues', 1: long }, /must be a list of class names/],
    ];
    for (const [i, [classes, message]] of cases.entries()) {
      const model = join(dir, `hostile-${i}`);
      cpSync(run, model, { recursive: true });
      const json = JSON.parse(readFileSync(join(model, 'classifier.json'), 'utf8'));
      json.training.classes = classes;
      writeFileSync(join(model, 'classifier.json'), JSON.stringify(json));
      for (const cmd of ['evaluate', 'predict']) {
        const r = cli(cmd, '--model', model, '--data', onlyLong);
        expect(r.status, `${cmd} ${JSON.stringify(classes)}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/^convae: .*classifier\.json: training\.classes/);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });
});

describe('classesOf', () => {
  it('absent or null: none; a valid list: itself', () => {
    expect(classesOf(undefined, 'f')).toBeNull();
    expect(classesOf({}, 'f')).toBeNull();
    expect(classesOf({ classes: null }, 'f')).toBeNull();
    expect(classesOf({ classes: ['__proto__', 'constructor', 'Cat', 'cat'] }, 'f')).toEqual([
      '__proto__',
      'constructor',
      'Cat',
      'cat',
    ]);
    expect(classesOf({ classes: ['x'.repeat(MAX_CLASS_NAME_CHARS)] }, 'f')).toHaveLength(1);
  });

  it('too many, empty, too long or not strings: a DataError with a bounded message', () => {
    for (const classes of [
      [],
      Array.from({ length: 257 }, (_, i) => `c${i}`),
      [''],
      ['x'.repeat(MAX_CLASS_NAME_CHARS + 1)],
      ['a', 1n],
      'blues,reds',
    ]) {
      let err: unknown;
      try {
        classesOf({ classes }, 'model.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(/^model\.json: training\.classes/);
      expect((err as Error).message.length).toBeLessThan(400);
    }
  });
});
