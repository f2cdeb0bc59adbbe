/**
 * The command line's first minute: `convae --version`, a bare `convae`
 * (help, exit 0), library errors printed once with one `convae:` prefix, and
 * a progress line that fits 80 columns with its rate and ETA.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  CountProgress,
  countLine,
  formatDuration,
  MAX_EPOCH_LINES,
  Progress,
  progressLine,
  type ProgressState,
} from '../ts/cli/progress.js';
import type { EpochInfo } from '../ts/train/fit.js';
import { BUILD } from './util/backend.js';
import { cliRunner } from './util/cli.js';

const root = new URL('..', import.meta.url).pathname;
const cli = cliRunner(60_000);

describe.runIf(BUILD === 'simd')('convae command line basics', () => {
  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version);
  });
  it('a bare convae prints the help and exits 0', () => {
    const r = cli();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: convae/);
    expect(r.stdout).toMatch(/train/);
  });
  it("a bare convae's examples with one's own images: each command exists and takes each flag the example gives", () => {
    const help = cli().stdout;
    const block = help.slice(help.indexOf('With your own images'));
    const examples = [...block.matchAll(/^ {2}convae ([a-z-]+) (.+)$/gm)];
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const [line, cmd, rest] of examples) {
      const r = cli(cmd!, '--help');
      expect(r.status, line).toBe(0);
      for (const flag of rest!.match(/--[a-z-]+/g) ?? []) expect(r.stdout, `${line}: ${flag}`).toContain(`${flag} `);
    }
  }, 60_000);
  it('embeddings --labels or --unlabelled above the 60 000 MNIST training images: a usage error, not the 60 000 in silence', () => {
    for (const flag of ['--labels', '--unlabelled']) {
      const r = cli('embeddings', flag, '60001');
      expect(r.status, flag).toBe(1);
      expect(r.stderr, flag).toMatch(
        new RegExp(
          `^error: option '${flag} <n>' argument '60001' is invalid\\. ${flag} must be an integer in \\[(10|1), 60000\\]`,
        ),
      );
    }
  });
  it('train --help says that --limit shrinks the test set too', () => {
    expect(cli('train', '--help').stdout.replace(/\s+/g, ' ')).toMatch(/--limit <n>.*the test set shrinks too/);
  });
  it('from the sources without the worker bundle: names dist/worker.js and npm run bundle:worker', () => {
    // A copy of the sources with no dist/ beside them, as a clone before its first build.
    const tmp = mkdtempSync(join(tmpdir(), 'convae-no-bundle-'));
    try {
      cpSync(join(root, 'ts'), join(tmp, 'ts'), { recursive: true });
      cpSync(join(root, 'package.json'), join(tmp, 'package.json'));
      symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'));
      const args = ['anomaly', '--normal', '1', '--limit', '50', '--seeds', '1', '--workers', '1', '--out', 'o'];
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', ...args], {
        cwd: tmp,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, CONVAE_NATIVE: '0' },
      });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `worker unavailable: the bundled worker is missing (${join(tmp, 'dist', 'worker.js')}); run \`npm run bundle:worker\``,
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
  it('--help of the commands that read image folders says what --channels defaults to', () => {
    for (const cmd of ['train', 'pretrain', 'anomaly', 'detect'])
      expect(cli(cmd, '--help').stdout.replace(/\s+/g, ' '), cmd).toMatch(
        /--channels <n> .*3 = RGB \(the default\), 1 = grey/,
      );
  });
  it.runIf(!process.execArgv.some((a) => a.includes('relaxed-simd')))(
    'a library error is printed once, with one convae: prefix',
    () => {
      // Node 20 without --experimental-wasm-relaxed-simd cannot run the relaxed build: a BackendError whose message starts "convae: ".
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'ts/cli/main.ts', 'train', '--build', 'relaxed'], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      if (Number(process.versions.node.split('.')[0]) >= 22) return; // relaxed SIMD is on by default there
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^convae: this runtime cannot run the relaxed build/);
      expect(r.stderr).not.toMatch(/convae: convae:/);
    },
  );
});

describe('epoch lines in a log (stderr no terminal)', () => {
  const info = (epoch: number): EpochInfo => ({ epoch, loss: 0.5, lr: 0.01, seconds: 0.1, imagesPerSecond: 1000 });
  const printed = (epochs: number) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const bar = new Progress('fine-tune', epochs, false);
      for (let e = 0; e < epochs; e++) bar.epoch(info(e));
      return log.mock.calls.map((c) => String(c[0]));
    } finally {
      log.mockRestore();
    }
  };
  it.runIf(!process.stderr.isTTY)('every epoch up to MAX_EPOCH_LINES epochs', () => {
    expect(printed(MAX_EPOCH_LINES)).toHaveLength(MAX_EPOCH_LINES);
  });
  it.runIf(!process.stderr.isTTY)('625 epochs: the first, every 13th and the last, not 625 lines', () => {
    const lines = printed(625);
    expect(lines.length).toBeLessThanOrEqual(MAX_EPOCH_LINES + 2);
    expect(lines[0]).toMatch(/^fine-tune: epoch 1\/625 /);
    expect(lines[1]).toMatch(/^fine-tune: epoch 13\/625 /);
    expect(lines.at(-1)).toMatch(/^fine-tune: epoch 625\/625 /);
  });
});

describe('count lines in a log (stderr no terminal): convae denoise’s tiles', () => {
  /** The lines of a CountProgress over `total` units done in `steps` (ascending `done` values), over `items`. */
  const printed = (total: number, steps: number[], quiet = false) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const bar = new CountProgress('convae denoise', total, 'tiles', quiet);
      for (const [k, done] of steps.entries()) bar.update(done, Math.min(3, 1 + Math.floor((3 * k) / steps.length)), 3);
      bar.stop();
      return err.mock.calls.map((c) => String(c[0]));
    } finally {
      err.mockRestore();
    }
  };
  it.runIf(!process.stderr.isTTY)('a line each fiftieth of the work and one at the end, not one per update', () => {
    // 100 000 tiles in groups of 1 024 (reconstructTiled's), as one large photo gives them: 98 updates.
    const steps = Array.from({ length: Math.ceil(100_000 / 1024) }, (_, k) => Math.min(100_000, 1024 * (k + 1)));
    const lines = printed(100_000, steps);
    expect(lines.length).toBeLessThanOrEqual(MAX_EPOCH_LINES + 1);
    expect(lines.length).toBeGreaterThanOrEqual(MAX_EPOCH_LINES - 1);
    expect(lines[0]).toMatch(/^convae denoise: 2% \(2048 of 100000 tiles\), image 1\/3, \S+, ETA \S+$/);
    expect(lines.at(-1)).toMatch(/^convae denoise: 100% \(100000 of 100000 tiles\), image 3\/3, \S+$/);
    // Ten one-tile images: a line each (fewer than MAX_EPOCH_LINES), the last at 100 %.
    expect(printed(10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toHaveLength(10);
  });
  it('nothing with -q', () => {
    expect(printed(100, [50, 100], true)).toEqual([]);
  });
  it('the bar’s line fits the columns with the rate and ETA', () => {
    const line = countLine(
      { label: 'convae denoise', done: 45_000, total: 100_000, unit: 'tiles', item: 7, items: 120, seconds: 10 },
      60,
    );
    expect(line.length).toBeLessThanOrEqual(59);
    expect(line).toMatch(/ 45% img 7\/120 4500 tiles\/s ETA 12s$/);
  });
});

describe('progress line', () => {
  const worst: ProgressState = {
    label: 'pretrain CAE 2/2',
    epoch: 20,
    epochs: 20,
    fraction: 0.456,
    loss: 0.012345678,
    imagesPerSecond: 123456.7,
    etaSeconds: 4000,
  };
  it('fits 80 columns with loss, rate and ETA', () => {
    const line = progressLine(worst, 80);
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toContain('45%');
    expect(line).toContain('ep 20/20');
    expect(line).toContain('loss 0.01235');
    expect(line).toContain('123457 img/s');
    expect(line).toContain('ETA 1h06m');
    expect(line).toMatch(/\[#+-+\]/);
  });
  it('keeps rate and ETA at 60 columns by cutting the bar and label first', () => {
    const line = progressLine(worst, 60);
    expect(line.length).toBeLessThanOrEqual(59);
    expect(line).toMatch(/img\/s ETA 1h06m$/);
  });
  it('shows unknowns as dashes', () => {
    expect(progressLine({ ...worst, loss: null, imagesPerSecond: null, etaSeconds: null })).toMatch(
      /loss - - img\/s ETA --$/,
    );
  });
  it('formats durations', () => {
    expect([formatDuration(42.4), formatDuration(187), formatDuration(3900), formatDuration(-1)]).toEqual([
      '42s',
      '3m07s',
      '1h05m',
      '--',
    ]);
  });
});
