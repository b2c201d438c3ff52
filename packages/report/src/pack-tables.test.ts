import { describe, expect, test } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { AnalysisResult, TimelineSeries } from '@alf/core';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import {
  ASNS_COLUMNS, ATTACKERS_COLUMNS, BURSTS_COLUMNS, COUNTRIES_COLUMNS, PATHS_COLUMNS, PREFIXES_COLUMNS, REJECTS_COLUMNS,
  STATUSES_COLUMNS, USER_AGENTS_COLUMNS, analysisTables, attackersCsvChunks, burstsCsv, createRejectsCsvEncoder,
  fixedNumber, intNumber, isoSeconds, rejectsCsv, timelineCsv, timelineCsvChunks,
} from './pack-tables.ts';
import { testAnalysisResult, testRejects } from './test-analysis.ts';

const HOSTILE = loadPayloads().map((p) => p.text);
const RESULT = testAnalysisResult(HOSTILE);

/** A cell a spreadsheet would run as a formula (also after leading blanks/invisibles), or that starts with a control. */
const FORMULA_START_RE =
  /^[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b]|^[\u0000-\u001f]/;
const NUMBER_RE = /^-?\d+(?:\.\d+)?$/;
const CONTROL_RE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function reparse(csv: string): string[][] {
  return parse(csv, { relax_column_count: false, bom: false }) as string[][];
}

/** Header, width of every row, and no formula/control start in any cell (numbers in numeric cells are fine). */
function checkTable(csv: string, header: readonly string[]): string[][] {
  const rows = reparse(csv);
  expect(rows[0]).toEqual(header);
  for (const row of rows) {
    expect(row).toHaveLength(header.length);
    for (const cell of row) {
      if (NUMBER_RE.test(cell) || cell === '-') continue;
      expect(cell, `cell ${JSON.stringify(cell)}`).not.toMatch(FORMULA_START_RE);
      expect(cell).not.toMatch(CONTROL_RE);
    }
  }
  // one physical line per record: the body never contains a raw newline inside a cell
  expect(csv.split('\n').length - 1).toBe(rows.length);
  expect(csv.endsWith('\n')).toBe(true);
  return rows;
}

describe('cell formatting', () => {
  test.for([
    [Date.UTC(2021, 2, 29, 10, 15, 0), '2021-03-29T10:15:00Z'],
    [Date.UTC(2021, 2, 29, 10, 15, 0) + 999, '2021-03-29T10:15:00Z'],
    [0, '1970-01-01T00:00:00Z'],
    [-1, '1969-12-31T23:59:59Z'],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    [1e20, null],
  ] as const)('isoSeconds(%s) → %s', ([ms, want]) => {
    expect(isoSeconds(ms)).toBe(want);
  });

  test.for([
    [0.62068965, 4, '0.6207'],
    [1, 4, '1.0000'],
    [-0.00001, 4, '0.0000'],
    [-0, 2, '0.00'],
    [1234567.891, 3, '1234567.891'],
    [Number.NaN, 2, null],
    [Number.NEGATIVE_INFINITY, 2, null],
  ] as const)('fixedNumber(%s, %s) → %s', ([n, d, want]) => {
    expect(fixedNumber(n, d)).toBe(want);
  });

  test('counts are rounded integers without separators or exponents', () => {
    expect(intNumber(279_600.4)).toBe('279600');
    expect(intNumber(1e15)).toBe('1000000000000000');
    expect(intNumber(-0.2)).toBe('0');
  });
});

describe('analysis tables', () => {
  const headers: Record<string, readonly string[]> = {
    'bursts.csv': BURSTS_COLUMNS,
    'attackers.csv': ATTACKERS_COLUMNS,
    'asns.csv': ASNS_COLUMNS,
    'countries.csv': COUNTRIES_COLUMNS,
    'prefixes.csv': PREFIXES_COLUMNS,
    'paths.csv': PATHS_COLUMNS,
    'user_agents.csv': USER_AGENTS_COLUMNS,
    'statuses.csv': STATUSES_COLUMNS,
    'timeline.csv': ['bucket_start', 'requests', 'distinct_ips', 's2xx', 's3xx', 's4xx', 's5xx', 'bytes'],
  };
  const counts: Record<string, number> = {
    'bursts.csv': RESULT.bursts.length,
    'attackers.csv': RESULT.attackers.length,
    'asns.csv': RESULT.asns.length,
    'countries.csv': RESULT.countries.length,
    'prefixes.csv': RESULT.prefixes.length,
    'paths.csv': RESULT.paths.length,
    'user_agents.csv': RESULT.userAgents.length,
    'statuses.csv': RESULT.statuses.length,
    'timeline.csv': RESULT.timeline.requests.length,
  };
  const tables = analysisTables(RESULT);

  test('the spec column headers, exactly', () => {
    expect(BURSTS_COLUMNS.join(', ')).toBe(
      'burst_id, start, end, duration_s, requests, excess_requests, peak_rps, baseline_rps, distinct_ips, attackers, score, verdict, reasons',
    );
    expect(ATTACKERS_COLUMNS.join(', ')).toBe(
      'burst_id, ip, requests, excess_requests, first_seen, last_seen, prefix, asn, as_org, country, top_path, top_user_agent',
    );
    expect(REJECTS_COLUMNS.join(', ')).toBe('input, line, byte_offset, reason, excerpt');
  });

  test.for(tables.map(([name]) => name))('%s re-parses with one header row, fixed width, no formula or control start', (name) => {
    const csv = tables.find(([n]) => n === name)![1];
    const rows = checkTable(csv, headers[name]!);
    expect(rows.length - 1).toBe(counts[name]);
  });

  test('hostile strings survive as text: every path payload is found (escaped) in paths.csv', () => {
    const rows = reparse(tables.find(([n]) => n === 'paths.csv')![1]).slice(1);
    const paths = rows.map((r) => r[1]);
    // A payload without control characters or formula start comes back unchanged.
    const plain = RESULT.paths
      .map((p) => p.path)
      .filter((p) => !/[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/.test(p))
      .filter((p) => !FORMULA_START_RE.test(p) && p.length > 0);
    expect(plain.length).toBeGreaterThan(3);
    for (const p of plain) expect(paths).toContain(p);
  });

  test('bursts.csv: by id, ISO UTC seconds, fixed decimals, reasons joined with "; "', () => {
    const rows = reparse(burstsCsv(RESULT));
    expect(rows[1]!.slice(0, 11)).toEqual([
      '1', '2021-03-29T10:15:00Z', '2021-03-29T10:45:59Z', '1860', '290000', '279600', '171.250', '5.600', '1234', '4', '4021.34',
    ]);
    expect(rows[1]![11]).toBe('attack');
    expect(rows[1]![12]!.startsWith('84% of excess from 4 hosting ASNs; 1 path; user agent ')).toBe(true);
    expect(rows[2]![0]).toBe('2');
    expect(rows[2]![11]).toBe('flash_crowd');
  });

  test('attackers.csv: per burst, most excess first; host-name client has empty prefix and asn', () => {
    const rows = reparse([...attackersCsvChunks(RESULT.attackers)].join('')).slice(1);
    expect(rows.map((r) => `${r[0]} ${r[1]}`)).toEqual([
      '1 198.51.100.23', '1 203.0.113.7', '1 2001:db8:1::5', '1 evil.example', '2 192.0.2.3', '2 192.0.2.1', '2 192.0.2.2',
    ]);
    const host = rows.find((r) => r[1] === 'evil.example')!;
    expect([host[6], host[7], host[8], host[9]]).toEqual(['', '', '', '']);
    expect(rows[0]![4]).toBe('2021-03-29T10:15:01Z');
  });

  test('timeline.csv: every bucket, bucket_start per the series bucket, NaN distinct_ips as empty cell', () => {
    const rows = reparse(timelineCsv(RESULT));
    expect(rows).toHaveLength(121);
    expect(rows[1]![0]).toBe('2021-03-29T10:00:00Z');
    expect(rows[2]![0]).toBe('2021-03-29T10:01:00Z');
    expect(rows[6]![2]).toBe('');
    const col = (n: number): Float64Array => new Float64Array(n).fill(1);
    const perSecond: TimelineSeries = {
      bucketS: 1, startMs: RESULT.timeline.startMs, requests: col(9000), distinctIps: col(9000).fill(Number.NaN),
      s2xx: col(9000), s3xx: col(9000), s4xx: col(9000), s5xx: col(9000), bytes: col(8200),
    };
    const chunks = [...timelineCsvChunks(perSecond)];
    expect(chunks.length).toBeGreaterThan(2); // streamed in pieces
    const r2 = reparse(chunks.join(''));
    expect(r2[0]![0]).toBe('second');
    expect(r2).toHaveLength(8201); // shortest column wins
    expect(r2[8200]).toEqual(['2021-03-29T12:16:39Z', '1', '', '1', '1', '1', '1', '1']);
  });

  test('an empty result gives header-only tables', () => {
    const empty: AnalysisResult = {
      ...RESULT, bursts: [], attackers: [], asns: [], countries: [], prefixes: [], paths: [], userAgents: [], statuses: [],
      timeline: { ...RESULT.timeline, requests: new Float64Array(0) },
    };
    for (const [name, csv] of analysisTables(empty)) {
      expect(reparse(csv), name).toHaveLength(1);
    }
  });

  test('input order does not change the output', () => {
    const shuffled: AnalysisResult = {
      ...RESULT,
      bursts: [...RESULT.bursts].reverse(),
      attackers: [...RESULT.attackers].reverse(),
      asns: [...RESULT.asns].reverse(),
      paths: [...RESULT.paths].reverse(),
      userAgents: [...RESULT.userAgents].reverse(),
    };
    expect(analysisTables(shuffled)).toEqual(analysisTables(RESULT));
  });

  test('byte-identical across runs and time zones', () => {
    const before = process.env['TZ'];
    try {
      const a = analysisTables(testAnalysisResult(HOSTILE));
      process.env['TZ'] = 'Pacific/Chatham';
      const b = analysisTables(testAnalysisResult(HOSTILE));
      process.env['TZ'] = 'America/St_Johns';
      const c = analysisTables(testAnalysisResult(HOSTILE));
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });
});

describe('rejects.csv', () => {
  const names = ['access.log', '=cmd|calc!A0.log'];

  test('every hostile excerpt becomes one row, escaped, neutralised, capped', () => {
    const rejects = testRejects(HOSTILE);
    const csv = rejectsCsv(rejects, { inputNames: names, excerptMaxChars: 40 });
    const rows = checkTable(csv, REJECTS_COLUMNS).slice(1);
    expect(rows).toHaveLength(rejects.length);
    expect(rows[0]!.slice(0, 4)).toEqual(['access.log', '1000', '123456', 'field_count']);
    expect(rows[1]![0]).toBe("'=cmd|calc!A0.log");
    expect(rows[2]![0]).toBe('2'); // no name for input 2
    for (const r of rows) expect([...r[4]!].length).toBeLessThanOrEqual(41 * 10);
    const esc = rows.find((r) => r[4]!.includes('pwned title'))!;
    expect(esc[4]).toBe("'\\x1b]0;pwned title\\x07"); // starts with a control: prefixed, then escaped
  });

  test('long excerpts are capped before escaping', () => {
    const csv = rejectsCsv([{ input: 0, line: 1, byteOffset: 0, reason: 'line_too_long', detail: '', excerpt: 'A'.repeat(100_000) }], {
      inputNames: names,
    });
    const rows = reparse(csv);
    expect(rows[1]![4]).toBe('A'.repeat(299) + '…');
  });

  test('the encoder writes the same bytes however the rejects are split into calls', () => {
    const rejects = testRejects(HOSTILE);
    const enc = createRejectsCsvEncoder({ inputNames: names });
    const whole = enc.header() + enc.rows(rejects);
    let pieces = enc.header();
    for (let i = 0; i < rejects.length; i += 7) pieces += enc.rows(rejects.slice(i, i + 7));
    expect(pieces).toBe(whole);
    expect(enc.rows([])).toBe('');
  });
});
