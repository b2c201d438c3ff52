import { describe, expect, test } from 'vitest';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { RecordTable } from './record-table.ts';
import { emptyAccounting, formatSummary } from './summary.ts';
import type { InputResult } from './summary.ts';

function result(name: string, lines: number, rejected: Partial<Record<'field_count' | 'bad_time', number>>, extra: Partial<InputResult> = {}): InputResult {
  const accounting = emptyAccounting();
  const r = Object.values(rejected).reduce((a, b) => a + b, 0);
  Object.assign(accounting.byReason, rejected);
  Object.assign(accounting, { linesRead: lines, parsed: lines - r, rejected: r, bytesRead: lines * 100 });
  return {
    name, sizeBytes: lines * 100, sha256: 'ab'.repeat(32), complete: true, accounting, decode: undefined,
    format: { id: 'combined', detected: true, sampleMatched: 998, sampleLines: 1000 }, flags: [], notes: [], ...extra,
  };
}

describe('stderr summary', () => {
  test('totals, per input counts, reasons, format and sample match, flags, first rejects', () => {
    const text = formatSummary([
      result('a.log', 5000, { field_count: 3, bad_time: 1 }),
      result('b.log.gz', 1000, {}, { flags: ['truncated'], notes: ['ends inside member 1'], format: { id: 'common', detected: false, tz: 'Europe/Berlin' } }),
    ], {
      command: 'alf parse', rejectsTotal: 4, inputNames: ['a.log', 'b.log.gz'],
      rejectSample: [{ input: 0, line: 17, byteOffset: 1600, reason: 'field_count', detail: 'line ends early', excerpt: 'GET /\u001b[31mred' }],
    }).join('\n');
    expect(text).toMatch(/^alf parse: 2 inputs, 6,000 lines: 5,996 parsed, 4 rejected/);
    expect(text).toMatch(/a\.log .*format combined \(detected: 998 of 1,000 sample lines matched\); 5,000 lines: 4,996 parsed, 4 rejected/);
    expect(text).toMatch(/rejected: field_count 3, bad_time 1/);
    expect(text).toMatch(/b\.log\.gz .*format common, times without offset read as Europe\/Berlin/);
    expect(text).toMatch(/flagged: truncated \(ends inside member 1\)/);
    expect(text).toMatch(/a\.log:17 \(byte 1,600\) field_count: line ends early — "GET \/\\x1b\[31mred"/);
    expect(text).not.toContain('\u001b');
  });
});

function dict(values: (string | null)[]): DictColumn {
  const uniq: string[] = [];
  return { ids: Int32Array.from(values, (v) => (v === null ? -1 : uniq.includes(v) ? uniq.indexOf(v) : uniq.push(v) - 1)), values: uniq };
}

describe('record table', () => {
  test('first N records, aligned, paths cut to the width, control characters escaped', () => {
    const n = 3;
    const none = dict([null, null, null]);
    const batch: RecordBatch = {
      length: n, ts: Float64Array.of(0, 1000, NaN), status: Uint16Array.of(200, 404, 500), bytesSent: Float64Array.of(10, NaN, 0),
      durationMs: new Float64Array(n), upstreamMs: new Float64Array(n), ip: dict(['10.0.0.1', '2001:db8::1', 'host.example']),
      ipKind: Uint8Array.of(4, 6, 0), method: dict(['GET', 'POST', null]), path: dict(['/', `/${'x'.repeat(200)}`, '/\u001b]0;pwned\u0007']),
      query: dict([null, 'a=1', null]), protocol: none, referer: none, userAgent: none, vhost: none, user: none, forwardedFor: none,
      extra: new Map(), input: new Uint16Array(n), line: Float64Array.of(1, 2, 3), byteOffset: new Float64Array(n),
    };
    const table = new RecordTable(2);
    table.add(batch);
    expect(table.full).toBe(true);
    const lines = table.render(80).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^1970-01-01T00:00:00Z {2}10\.0\.0\.1 +GET +200 +10 {2}\/$/);
    expect(lines[2]!.length).toBeLessThanOrEqual(80);
    expect(lines[2]).toMatch(/…$/);
    const third = new RecordTable(5);
    third.add(batch);
    expect(third.render(200)).toContain('/\\x1b]0;pwned\\x07');
  });
});
