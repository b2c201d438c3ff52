import { describe, expect, test } from 'vitest';
import { AlfError } from './errors.ts';
import { resolveTimeZone, UTC_ZONE } from './time-zone.ts';
import { ClfTimeParser, compileStrftime, parseEpochSeconds, parseIso8601 } from './timestamp.ts';

const clf = (s: string, tz = UTC_ZONE): number => new ClfTimeParser(tz).parse(s, 0, s.length);

describe('CLF time', () => {
  test.for([
    ['10/Oct/2000:13:55:36 -0700', '2000-10-10T20:55:36.000Z'],
    ['01/Aug/1995:00:00:01 -0400', '1995-08-01T04:00:01.000Z'],
    ['29/Feb/2024:23:59:59 +0000', '2024-02-29T23:59:59.000Z'],
    ['17/Oct/2023:05:57:49 +1100', '2023-10-16T18:57:49.000Z'],
    ['01/Jan/2020:00:30:00 +0330', '2019-12-31T21:00:00.000Z'],
    ['01/jan/2020:00:30:00 +0000', '2020-01-01T00:30:00.000Z'],
    ['02/sept./2015:00:11:31 +0200', '2015-09-01T22:11:31.000Z'], // French month names (fail2ban openhab fixture)
    ['17/oct./2015:10:00:00 +0200', '2015-10-17T08:00:00.000Z'],
    ['17/Okt/2015:10:00:00 +0200', '2015-10-17T08:00:00.000Z'],
  ] as const)('%s → %s', ([s, iso]) => {
    expect(new Date(clf(s)).toISOString()).toBe(iso);
  });

  test.for([
    '31/Feb/2000:13:55:36 -0700', '29/Feb/2023:00:00:00 +0000', '10/Oct/2000:25:61:61 -0700', '10/Oct/2000:13:55:36 +9999',
    '10/Oct/2000:13:60:00 +0000', '10/Foo/2000:13:55:36 +0000', '1/Oct/2000:13:55:36 +0000', '02/xyz./2015:00:11:31 +0200',
  ])('%s is impossible or malformed → NaN', (s) => {
    expect(clf(s)).toBeNaN();
  });

  test('the per-hour cache gives the same answer as a cold parse, line after line', () => {
    const p = new ClfTimeParser(UTC_ZONE);
    const lines = ['10/Oct/2000:13:55:36 -0700', '10/Oct/2000:13:59:59 -0700', '10/Oct/2000:13:00:00 -0700', '10/Oct/2000:13:00:00 +0000', '10/Oct/2000:14:00:00 -0700'];
    for (const s of lines) expect(p.parse(s, 0, s.length)).toBe(clf(s));
  });

  test('a missing or empty zone uses the time zone option', () => {
    const berlin = resolveTimeZone('Europe/Berlin');
    expect(new Date(clf('27/Jun/2013:11:55:44', berlin)).toISOString()).toBe('2013-06-27T09:55:44.000Z');
    expect(new Date(clf('31/Jan/2015:14:29:44 ', berlin)).toISOString()).toBe('2015-01-31T13:29:44.000Z');
  });
});

describe('time zones', () => {
  test('IANA zones are DST-correct, including the repeated and the skipped hour', () => {
    const ny = resolveTimeZone('America/New_York');
    const at = (y: number, mo: number, d: number, h: number, mi: number): string => new Date(ny.localToUtc(Date.UTC(y, mo - 1, d, h, mi))).toISOString();
    expect(at(2024, 1, 15, 12, 0)).toBe('2024-01-15T17:00:00.000Z');
    expect(at(2024, 7, 15, 12, 0)).toBe('2024-07-15T16:00:00.000Z');
    expect(at(2024, 11, 3, 1, 30)).toBe('2024-11-03T05:30:00.000Z'); // repeated hour: the earlier instant
    expect(at(2024, 3, 10, 2, 30)).toBe('2024-03-10T07:30:00.000Z'); // skipped hour: offset before the change
    expect(at(2024, 3, 10, 3, 30)).toBe('2024-03-10T07:30:00.000Z');
  });

  test('fixed offsets and errors', () => {
    expect(resolveTimeZone('+05:30').localToUtc(Date.UTC(2020, 0, 1, 5, 30))).toBe(Date.UTC(2020, 0, 1));
    expect(resolveTimeZone('-0800').localToUtc(0)).toBe(8 * 3_600_000);
    expect(() => resolveTimeZone('Mars/Olympus')).toThrow(AlfError);
    expect(() => resolveTimeZone('+25:00')).toThrow(/18:00/);
  });
});

describe('other time fields', () => {
  test.for([
    ['2015-10-30T15:59:39+01:00', '2015-10-30T14:59:39.000Z'],
    ['2024-03-12T08:01:03.250Z', '2024-03-12T08:01:03.250Z'],
    ['2024-03-12 08:01:03-0700', '2024-03-12T15:01:03.000Z'],
  ] as const)('ISO 8601 %s', ([s, iso]) => {
    expect(new Date(parseIso8601(s, 0, s.length, UTC_ZONE)).toISOString()).toBe(iso);
  });

  test('bad ISO 8601 and epoch values are NaN', () => {
    for (const s of ['2015-02-30T00:00:00Z', '2015-10-30T15:59:39+99:00', '2015-10-30', 'x']) expect(parseIso8601(s, 0, s.length, UTC_ZONE)).toBeNaN();
    for (const s of ['', '1.', 'abc', '1449512455.12x']) expect(parseEpochSeconds(s, 0, s.length)).toBeNaN();
  });

  test('$msec keeps milliseconds', () => {
    expect(parseEpochSeconds('1449512455.123', 0, 14)).toBe(1449512455123);
    expect(parseEpochSeconds('1449512455', 0, 10)).toBe(1449512455000);
  });

  test.for([
    ['%Y-%m-%d %H:%M:%S', '2024-03-12 08:01:02', '2024-03-12T08:01:02.000Z'],
    ['%d/%b/%Y:%H:%M:%S %z', '10/Oct/2000:13:55:36 -0700', '2000-10-10T20:55:36.000Z'],
    ['%a, %d %B %Y %T', 'Tue, 12 March 2024 08:01:02', '2024-03-12T08:01:02.000Z'],
    ['%s', '1700000000', '2023-11-14T22:13:20.000Z'],
    ['%D %I:%M %p', '03/12/24 08:01 PM', '2024-03-12T20:01:00.000Z'],
  ] as const)('strftime %s', ([fmt, s, iso]) => {
    const fn = compileStrftime(fmt, UTC_ZONE);
    expect(fn).not.toBeNull();
    expect(new Date(fn!(s, 0, s.length)).toISOString()).toBe(iso);
  });
});
