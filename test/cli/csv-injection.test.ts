/**
 * The CSVs convae writes carry names from the user's folders. A file named `=HYPERLINK(…)` used to land in a cell
 * as it is, and a spreadsheet opening the CSV runs it as a formula. Such a field now starts with `'`; every name
 * still reads back, by an RFC 4180 reader written here, as itself or as `'` + itself.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField } from '../../ts/cli/apply.js';
import { BUILD } from '../util/backend.js';
import { cliAsync } from '../util/cli.js';

/** A plain RFC 4180 reader: fields split at commas outside quotes, `""` inside quotes is one quote. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') quoted = !quoted;
    else if (quoted) field += c;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

/** What a spreadsheet treats as the start of a formula (OWASP's list). */
const FORMULA_START = /^[=+\-@\t\r]/;

describe('csvField', () => {
  const names = [
    'plain.png',
    '=HYPERLINK("http://x","y").png',
    '+1+1.png',
    '-2+3.png',
    '@SUM(A1).png',
    '\tcell.png',
    '\r=1.png',
    'a,b.png',
    'say "hi".png',
    'line\nbreak.png',
    "'quoted.png",
    ' =space-first.png',
    '',
  ];

  it('reads back as the name, or as the name after a quote when the name would start a formula', () => {
    const text = `${names.map((n) => `${csvField(n)},1`).join('\n')}\n`;
    const rows = readCsv(text);
    expect(rows).toHaveLength(names.length);
    rows.forEach((r, i) => {
      const n = names[i]!;
      expect(r, JSON.stringify(n)).toEqual([FORMULA_START.test(n) ? `'${n}` : n, '1']);
      expect(r[0], JSON.stringify(n)).not.toMatch(FORMULA_START);
    });
  });
});

describe.runIf(BUILD === 'simd')('convae detect on hostile file names', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const cli = cliAsync(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'convae-csv-'));
  const imgs = join(dir, 'imgs');
  const hostile = join(dir, 'hostile'); // unlabelled: the names are the cells' first characters
  const evil = ['=HYPERLINK("x","y").png', '@SUM(1).png', '-1+2.png', '+3.png', 'a,b.png'];
  beforeAll(() => {
    expect(spawnSync(process.execPath, ['scripts/make-test-folder.mjs', imgs], { cwd: root }).status).toBe(0);
    mkdirSync(hostile, { recursive: true });
    const reds = readdirSync(join(imgs, 'reds')).slice(0, evil.length);
    reds.forEach((f, i) => copyFileSync(join(imgs, 'reds', f), join(hostile, evil[i]!)));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('detect: no cell starts a formula, and each file is its name after a quote', async () => {
    const out = join(dir, 'scores.csv');
    const args = ['--size', '16x16', '--epochs', '1', '--workers', '0', '-q'];
    const r = await cli(['detect', '--normal-data', imgs, '--data', hostile, '--out', out, ...args]);
    expect(r.status, r.stderr).toBe(0);
    const rows = readCsv(readFileSync(out, 'utf8'));
    expect(rows[0]).toEqual(['file', 'score', 'anomalous']);
    const files = rows.slice(1).map((row) => row[0]!);
    for (const f of files) expect(f).not.toMatch(FORMULA_START);
    // The scored file names, with the quote a spreadsheet needs before those that start formulas.
    const expected = evil.map((n) => (FORMULA_START.test(n) ? `'${n}` : n));
    expect(files.sort()).toEqual(expected.sort());
  }, 180_000);
});
