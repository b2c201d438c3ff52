import { expect, test } from 'vitest';
import { numberOf, parseStepOutput } from './protocol.ts';
import { formatTable } from './table.ts';

test('reads a step\'s key: value lines, numbers without their units', () => {
  const out = parseStepOutput('records: 199981 records\naccounting: ok\nseconds: 1.250 s\nnoise without colon\n');
  expect(numberOf(out, 'records')).toBe(199981);
  expect(numberOf(out, 'seconds')).toBe(1.25);
  expect(out.values.get('accounting')).toBe('ok');
  expect(numberOf(out, 'accounting')).toBeUndefined();
  expect(out.skipped).toBeUndefined();
});

test('a skipped step keeps its reason whole, colons included', () => {
  expect(parseStepOutput('skipped: not installed (see scripts/bench/README.md: install)\n').skipped)
    .toBe('not installed (see scripts/bench/README.md: install)');
});

test('the table right-aligns figures and shows skips as notes', () => {
  const table = formatTable([
    { name: 'newline-count.plain', size: '1m', lines: 1_000_000, rate: 6_250_000, mbPerSecond: 1440.04, rssMb: 105, seconds: 0.16 },
    { name: 'parse-only.plain', size: '1m', lines: 1_000_000, note: 'skipped: parser stream entry not available' },
  ]).split('\n');
  expect(table[0]).toMatch(/^measurement\s+size\s+lines\s+lines\/s\s+MB\/s\s+peak RSS MB\s+x newline\s+seconds\s+note$/);
  expect(table[2]).toContain('6,250,000');
  expect(table[2]).toContain('1,440.0');
  expect(table[3]).toMatch(/parse-only\.plain\s+1m\s+1,000,000\s+skipped: parser stream entry not available$/);
  expect(table[2]!.indexOf('6,250,000') + '6,250,000'.length).toBe(table[0]!.indexOf('lines/s') + 'lines/s'.length);
});
