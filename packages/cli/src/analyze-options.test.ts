import { availableParallelism } from 'node:os';
import { describe, expect, test } from 'vitest';
import { parseLines } from '@alf/parser';
import { parseTimeBound, resolveBound, validateAnalyzeOptions } from './analyze-options.ts';
import { batchSpan, filterByTime } from './analyze-filter.ts';
import { defaultPackName, packInputName } from './analyze-summary.ts';
import { joinRelativeTimes } from './main.ts';

describe('--from/--to values', () => {
  test.for([
    ['2021-03-29T08:00Z', Date.UTC(2021, 2, 29, 8)],
    ['2021-03-29T08:00:30+02:00', Date.UTC(2021, 2, 29, 6, 0, 30)],
    ['2021-03-29 08:00:30.250Z', Date.UTC(2021, 2, 29, 8, 0, 30, 250)],
    ['2021-03-29', Date.UTC(2021, 2, 29)],
    ['2021-03-29T08:00-0800', Date.UTC(2021, 2, 29, 16)],
  ] as const)('%s is absolute', ([given, ms]) => {
    expect(parseTimeBound('--from', given, undefined)).toMatchObject({ kind: 'absolute', ms });
  });

  test('an ISO time without offset is read in --tz', () => {
    expect(parseTimeBound('--from', '2021-03-29T08:00', 'America/New_York')).toMatchObject({ ms: Date.UTC(2021, 2, 29, 12) });
  });

  test('+2h counts from the first record, -1h30m back from the last', () => {
    const plus = parseTimeBound('--from', '+2h', undefined);
    const minus = parseTimeBound('--to', '-1h30m', undefined);
    expect(plus).toMatchObject({ kind: 'relative', fromEnd: false, offsetMs: 7_200_000 });
    expect(resolveBound(plus as Exclude<typeof plus, string>, 1000, 1_000_000_000)).toBe(7_201_000);
    expect(resolveBound(minus as Exclude<typeof minus, string>, 1000, 1_000_000_000)).toBe(1_000_000_000 - 5_400_000);
  });

  test.for(['yesterday', '2021-02-30', '2021-03-29T25:00Z', '+2x', ''])('`%s` is refused with what is expected', (given) => {
    expect(parseTimeBound('--from', given, undefined)).toMatch(/^`--from` must be an ISO-8601 time .* got `/);
  });

  test('--workers: the cores available by default; a whole number from 1 to 256', () => {
    expect(validateAnalyzeOptions({}).workers).toBe(availableParallelism());
    expect(validateAnalyzeOptions({ workers: '3' }).workers).toBe(3);
    for (const bad of ['0', '1.5', 'two', '257']) {
      expect(() => validateAnalyzeOptions({ workers: bad })).toThrow(/`--workers` must be a whole number of threads from 1 to 256 .* got `/);
    }
  });

  test('--from after --to, a bad sensitivity and --min-requests 0 are usage errors naming the flag', () => {
    expect(() => validateAnalyzeOptions({ from: '2021-03-30', to: '2021-03-29' })).toThrow(/`--from` \(2021-03-30\) must be before `--to`/);
    expect(() => validateAnalyzeOptions({ sensitivity: 'hgih' })).toThrow(/`--sensitivity` must be one of low, normal, high; got `hgih` \(did you mean `high`\?\)/);
    expect(() => validateAnalyzeOptions({ 'min-requests': '0' })).toThrow(/`--min-requests` must be a whole number/);
  });

  test('--sensitivity and --min-requests map onto core options (--min-requests wins)', () => {
    expect(validateAnalyzeOptions({}).analysis).toEqual({});
    expect(validateAnalyzeOptions({ sensitivity: 'high', 'min-requests': '50' }).analysis).toMatchObject({ minExcessRequests: 50, minRatio: 1.5 });
  });

  test('`--from -30m` reaches yargs as one value', () => {
    expect(joinRelativeTimes(['analyze', '--from', '-30m', '--to', '-5m', 'x.log'])).toEqual(['analyze', '--from=-30m', '--to=-5m', 'x.log']);
    expect(joinRelativeTimes(['parse', '--to', 'csv', '-'])).toEqual(['parse', '--to', 'csv', '-']);
  });
});

describe('time filter', () => {
  const lines = [
    '1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET /a HTTP/1.0" 200 10 "-" "ua"',
    '1.2.3.5 - - [10/Oct/2000:13:56:36 +0000] "GET /b HTTP/1.0" 200 10 "-" "ua"',
    '1.2.3.6 - - [10/Oct/2000:13:57:36 +0000] "GET /c HTTP/1.0" 404 10 "-" "ua"',
  ];
  const { chunks } = parseLines(lines, { format: 'combined' });

  test('keeps [from, to) and shares dictionaries', () => {
    const batch = chunks[0]!.records;
    const t1 = Date.UTC(2000, 9, 10, 13, 56, 36);
    const { batch: kept, skipped } = filterByTime(batch, t1, t1 + 60_000);
    expect(skipped).toBe(2);
    expect(kept.length).toBe(1);
    expect(kept.ip.values[kept.ip.ids[0]!]).toBe('1.2.3.5');
    expect(kept.line[0]).toBe(2);
    expect(batchSpan(batch)).toEqual({ firstMs: t1 - 60_000, lastMs: t1 + 60_000 });
    expect(filterByTime(batch, null, null).batch).toBe(batch);
  });
});

describe('pack names', () => {
  test('default directory from the first input and the time range; inputs named by content', () => {
    expect(defaultPackName(['logs/access.log.2018-12-15.gz'], Date.UTC(2018, 11, 15, 10, 18, 31), Date.UTC(2018, 11, 16, 10, 14, 42)))
      .toBe('alf-access.log.2018-12-15-20181215T101831Z-20181216T101442Z');
    expect(defaultPackName(['-', 'b'], null, null)).toBe('alf-stdin-and-1-more-no-records');
    expect(defaultPackName(['../$(rm -rf)/..evil name'], null, null)).toBe('alf-evil_name-no-records');
    expect(packInputName('d18bed6a0750f613f69b7185c77992817492c611238d6fb1ba5e5757f77e3466', '/var/log/web1/access.log.2.gz'))
      .toBe('access.log.2.gz (sha256:d18bed6a0750f613)');
    expect(packInputName('d18bed6a0750f613f69b7185c77992817492c611238d6fb1ba5e5757f77e3466', '-')).toBe('stdin (sha256:d18bed6a0750f613)');
  });
});
