/**
 * Files an earlier run left (search.json, paper-runs.json, stack-seedN.json, run.json) are
 * untrusted: damaged or hostile ones give one line naming the file and what is wrong, before
 * anything is trained and without echoing what the file holds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliAsync, SMALL_RUN_FLAGS } from '../util/cli.js';
import { ConvaeError } from '../../ts/errors.js';
import { changedFlags } from '../../ts/cli/resume.js';
import { BUILD } from '../util/backend.js';

const cli = cliAsync(120_000);

/** `run` over `items`, `n` at a time (the machine may have two cores, and the runs load data). */
async function batched<T, R>(items: T[], n: number, run: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(run))));
  return out;
}

/** One line on stderr, the typed error of the CLI: no stack trace, bounded. */
function expectRefused(r: { status: number | null; stderr: string }, message: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^convae(?: [a-z-]+)?: /); // "convae: …", or a command's own "convae detect: …"
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.length).toBeLessThan(4000);
}

describe.runIf(BUILD === 'simd')('damaged files from earlier runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convae-damaged-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, text);
    return f;
  };

  it('train --from-search: a damaged best block is a FormatError naming the file and the field, before any training', async () => {
    const search = (best: unknown) => JSON.stringify({ format: 'convae-search', best });
    const cases: [string, string, RegExp][] = [
      ['null-conv.json', search({ convs: [null] }), /null-conv\.json: best\.convs\[0\]: must be an object, got null/],
      ['no-convs.json', search({ activation: 'tanh' }), /no-convs\.json: best\.convs: /],
      ['bad-filters.json', search({ convs: [{ filters: 'x', kernel: 3 }] }), /best\.convs\[0\]\.filters: must be an/],
      ['best-list.json', search([1, 2]), /best-list\.json: best: must be an object/],
      ['no-best.json', search(null), /no-best\.json: holds no usable best block/],
      ['null.json', 'null', /null\.json: not a convae search result/],
      ['truncated.json', search({ convs: [{ filters: 4, kernel: 3 }] }).slice(0, 30), /truncated\.json: not JSON/],
      ['deep.json', `{"format":"convae-search","best":${'['.repeat(100_000)}`, /deep\.json: JSON nests deeper than/],
    ];
    const out = join(dir, 'train-out');
    const results = await batched(cases, 4, ([name, text]) =>
      cli(['train', '--from-search', file(name, text), '--limit', '100', '--workers', '0', '--out', out]),
    );
    results.forEach((r, i) => {
      expectRefused(r, cases[i][2]);
      expect(r.stdout).toBe('');
    });
  }, 120_000);

  it('train --from-search: a 5 MB field is refused without being echoed', async () => {
    const f = file(
      'junk.json',
      JSON.stringify({ format: 'convae-search', best: { convs: [{ filters: 4, kernel: 3 }], junk: 'x'.repeat(5e6) } }),
    );
    const r = await cli(['train', '--from-search', f, '--limit', '100', '--workers', '0', '--out', join(dir, 'o')]);
    expect(r.stdout.length).toBeLessThan(1000);
    expectRefused(r, /junk\.json: best\.junk: unknown field/);
  }, 60_000);

  it('paper --resume: a damaged paper-runs.json or stack-seedN.json is a FormatError before any tuning', async () => {
    const cases: [string, string, RegExp][] = [
      ['truncated/paper-runs.json', '{"settingsKey":"x","runs":{"a":', /paper-runs\.json: the file is not valid JSON/],
      ['null/paper-runs.json', 'null', /paper-runs\.json: the file must hold a JSON object, got null/],
      ['runs-list/paper-runs.json', '{"settingsKey":"x","runs":[1]}', /paper-runs\.json: runs: must be an object/],
      [
        'bad-run/paper-runs.json',
        '{"settingsKey":"x","runs":{"tune/1":{"key":"tune/1","error":"0.1","seconds":1}}}',
        /paper-runs\.json: runs\["tune\/1"\]: must be \{key, error, seconds\}/,
      ],
      ['garbage/stack-seed1.json', 'garbage', /stack-seed1\.json: the file is not valid JSON/],
      ['null-stack/stack-seed1.json', 'null', /stack-seed1\.json: the file must hold a JSON object/],
      ['deep-stack/stack-seed1.json', '['.repeat(100_000), /stack-seed1\.json: the file nests deeper than/],
    ];
    // Tiny settings: without the up-front check, the random arm's tuning runs would come first.
    const tiny = ['--sizes', '100', '--seeds', '1', '--lrs', '0.05', '--epochs', '100:1', '--epoch-factors', '1'];
    const more = ['--dropouts', '0', '--unlabelled', '200', '--limit', '600', '--workers', '0', '--build', 'simd'];
    const results = await batched(cases, 3, ([name, text]) =>
      cli(['paper', ...tiny, ...more, '--resume', '--out', join(file(name, text), '..')]),
    );
    results.forEach((r, i) => {
      expect(r.stdout, cases[i][0]).not.toMatch(/tune|pretrained/);
      expectRefused(r, cases[i][2]);
    });
  }, 240_000);

  it("train --resume: a run.json nested too deeply is a FormatError, not a stack overflow in the flags' comparison", async () => {
    const out = join(dir, 'deep-run');
    file('deep-run/run.json', `{"format":"convae-run","flags":{"maps":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`);
    const flags = SMALL_RUN_FLAGS;
    const e = await changedFlags(out, flags).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConvaeError);
    expect((e as Error).message).toMatch(/run\.json": the file nests deeper than 64 levels/);
  });
});
