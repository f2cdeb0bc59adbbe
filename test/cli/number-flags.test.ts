/**
 * Numeric flags: only plain decimal numbers. `Number` alone reads '' and ' ' as 0 and takes
 * '0x10' and '0b11', so `--seed ''` used to run with seed 0; integers have an upper bound, so
 * `--batch 1e300` is a usage error rather than a failure after the data is loaded.
 */
import { describe, expect, it } from 'vitest';
import { cliAsync } from '../util/cli.js';
import {
  flagInteger,
  flagNumber,
  fractionArg,
  int,
  mapsArg,
  rateArg,
  sparsityArg,
  workersArg,
} from '../../ts/cli/commands.js';
import { BUILD } from '../util/backend.js';

const cli = cliAsync(60_000);

describe('flagNumber', () => {
  it('reads plain decimal notation', () => {
    for (const [v, n] of [
      ['0', 0],
      ['17', 17],
      ['-3', -3],
      ['+2', 2],
      ['0.25', 0.25],
      ['.5', 0.5],
      ['5.', 5],
      ['1e-3', 1e-3],
      ['2E+2', 200],
      ['1e300', 1e300],
    ] as const)
      expect(flagNumber(v), v).toBe(n);
  });

  it('gives NaN for everything else, which every range check refuses', () => {
    for (const v of ['', ' ', '\t', '\n', ' 5', '5 ', '0x10', '0b11', '0o7', 'Infinity', '-Infinity', 'NaN']) {
      expect(flagNumber(v), JSON.stringify(v)).toBeNaN();
      expect(() => int('--n', 0)(v), JSON.stringify(v)).toThrow(/--n must be an integer in \[0, /);
      expect(() => workersArg(v), JSON.stringify(v)).toThrow(/--workers must be an integer in \[0, 256\]/);
      expect(() => fractionArg('--noise')(v), JSON.stringify(v)).toThrow(/--noise must be a fraction/);
      expect(() => rateArg('--lr')(v), JSON.stringify(v)).toThrow(/--lr must be a number/);
      expect(() => sparsityArg(v), JSON.stringify(v)).toThrow(/--sparsity must be a fraction/);
    }
    for (const v of ['1e', '.', '+', '-', '1_000', '1,5', '1..2', '--1', '٣'])
      expect(flagNumber(v), JSON.stringify(v)).toBeNaN();
  });

  it('integer flags take digits only: a float spelling of a count is refused, not rounded or read', () => {
    for (const [v, n] of [
      ['0', 0],
      ['17', 17],
      ['+2', 2],
      ['-3', -3],
      ['007', 7],
    ] as const) {
      expect(flagInteger(v), v).toBe(n);
      expect(flagInteger(v), v).toBe(flagNumber(v)); // where both read a value, it is the same value
    }
    for (const v of ['1e3', '1E3', '2.', '5.0', '.5', '1e0', '1.5e1', '', ' 5', '0x10', 'Infinity']) {
      expect(flagInteger(v), v).toBeNaN();
      expect(() => int('--epochs')(v), v).toThrow(/--epochs must be an integer in \[1, 1000000000\], in digits/);
    }
    expect(() => mapsArg('20,5e1')).toThrow(/--maps takes two integers/);
    expect(mapsArg('20, 50')).toEqual([20, 50]);
  });

  it('bounds integers by default', () => {
    expect(int('--batch')('1000000000')).toBe(1e9);
    for (const v of ['1000000001', '1e300', '9007199254740993'])
      expect(() => int('--batch')(v), v).toThrow(/--batch must be an integer in \[1, 1000000000\]/);
  });
});

describe.runIf(BUILD === 'simd')('numeric flags on the command line', () => {
  // A missing data folder: a value that slipped through parsing fails at once on the data, not after a run.
  const noData = ['--data', 'idx:/nonexistent-convae-data'];
  const cases: [string[], RegExp][] = [
    [['train', '--seed', ''], /--seed must be an integer/],
    [['train', '--epochs', ''], /--epochs must be an integer/],
    [['train', '--workers', ''], /--workers must be an integer/],
    [['train', '--workers', '0x10'], /--workers must be an integer/],
    [['train', '--batch', '0b11'], /--batch must be an integer/],
    [
      ['train', '--noise', ''],
      /--noise takes a masking fraction in \[0, 1\) \(or masking:f\), gaussian:σ or salt-pepper:f/,
    ],
    [['train', '--dropout', ' '], /--dropout must be a fraction/],
    [['train', '--shift', ''], /--shift must be an integer in \[0, 8\]/],
    [['train', '--sparsity', ''], /--sparsity must be a fraction/],
    [['train', '--lr', '0x0'], /--lr must be a number in \(0, 1\)/],
    [['train', '--maps', '4,0x6'], /--maps takes two integers/],
    [['train', '--limit', '1e300'], /--limit must be an integer in \[1, 1000000000\]/],
    [['search', '--maps', '0x8'], /--maps takes a comma-separated list/],
    [['search', '--noise', ' '], /--noise takes a comma-separated list/],
    [['paper', '--lrs', ''], /--lrs takes a comma-separated list/],
    [['paper', '--sizes', '0x100'], /--sizes takes integers/],
    [['paper', '--epochs', '100:'], /--epochs takes size:epochs pairs/],
    [['paper', '--validation', ''], /--validation must be a fraction/],
    [['anomaly', '--normal', '1', '--depth', ''], /--depth must be an integer/],
    [['anomaly', '--normal', '1', '--fpr', ' '], /--fpr must be in \(0, 1\)/],
    [['anomaly', '--normal', '1', '--k', '1001'], /--k must be an integer in \[1, 1000\]/],
    [['pretrain', '--seed', ' '], /--seed must be an integer in \[0, 4294967295\]/],
    [['pretrain', '--seed', '1e300'], /--seed must be an integer in \[0, 4294967295\]/],
    [['pretrain', '--batch', '1e300'], /--batch must be an integer in \[1, 1000000000\]/],
    [['pretrain', '--maps', '1e300,1'], /--maps takes two integers in \[1, 4096\]/],
    [['pretrain', '--padding', ''], /--padding takes an integer/],
    [['pretrain', '--pool', ' '], /--pool takes an integer/],
    [['pretrain', '--layers', '5'], /Allowed choices are 1, 2/],
    [['pretrain', '--channels', '7'], /Allowed choices are 1, 3/],
    [['encode', '--model', '/nonexistent-convae-model', '--workers', ''], /--workers must be an integer in \[0, 256\]/],
    [['train', '--epochs', '1e3'], /--epochs must be an integer in \[0, 1000000000\], in digits/],
    [['train', '--seed', '5.0'], /--seed must be an integer in \[0, 4294967295\], in digits/],
    [['pretrain', '--pool', '2.'], /--pool takes an integer/],
    [['search', '--kernels', '3,5e0'], /--kernels takes a comma-separated list/],
    [['paper', '--sizes', '1e3'], /--sizes takes integers/],
    [['paper', '--epochs', '1000:1.5e2'], /--epochs takes size:epochs pairs/],
  ];

  it(`${cases.length} empty, blank, hex and huge values: usage errors before anything runs`, async () => {
    const results: Awaited<ReturnType<typeof cli>>[] = [];
    for (let i = 0; i < cases.length; i += 4)
      results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => cli([...args, ...noData])))));
    results.forEach((r, i) => {
      const label = cases[i][0].join(' ');
      expect(r.status, `${label}\n${r.stderr}`).not.toBe(0);
      expect(r.stderr.split('\n')[0], label).toMatch(/^error: option '.*' argument '.*' is invalid\./);
      expect(r.stderr, label).toMatch(cases[i][1]);
      expect(r.stderr, label).not.toMatch(/\n\s+at /);
      expect(r.stdout, label).toBe('');
    });
  }, 240_000);
});
