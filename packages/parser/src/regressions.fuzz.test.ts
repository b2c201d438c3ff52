/**
 * Replays every input `scripts/fuzz.ts` ever saved in
 * testdata/hostile/regressions (see the README there) through the same
 * oracle: each must now parse with exact line accounting and no exception.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseProblems } from '../../../scripts/hostile/parse-oracle.ts';
import { listFormats } from './compile-format.ts';

const DIR = new URL('../../../testdata/hostile/regressions/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f !== 'README.md').sort();
const FORMATS = new Set([...listFormats().map((f) => f.id), 'detect']);

describe('fuzz regressions', () => {
  test('every file is named <format>--<sha256 prefix>.log after its content', () => {
    expect(readdirSync(DIR)).toContain('README.md');
    for (const f of files) {
      const m = /^([a-z0-9_]+)--([0-9a-f]{16})\.log$/.exec(f);
      expect(m, f).not.toBeNull();
      expect(FORMATS.has(m![1]!), `${f}: unknown format`).toBe(true);
      expect(createHash('sha256').update(readFileSync(new URL(f, DIR))).digest('hex').slice(0, 16), f).toBe(m![2]);
    }
  });

  test.for(files)('%s parses with exact accounting', (f) => {
    const format = f.split('--')[0]!;
    expect(parseProblems(readFileSync(new URL(f, DIR)), format === 'detect' ? {} : { format })).toEqual([]);
  });
});
