import { describe, expect, test } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { createCsvRecordEncoder, recordBatchToNdjson } from './record-rows.ts';

function dict(values: (string | null)[]): DictColumn {
  const uniq: string[] = [];
  const ids = Int32Array.from(values, (v) => {
    if (v === null) return -1;
    const at = uniq.indexOf(v);
    return at >= 0 ? at : uniq.push(v) - 1;
  });
  return { ids, values: uniq };
}

const t0 = Date.UTC(2018, 11, 15, 10, 18, 31);
const paths = ['/', '=HYPERLINK("http://evil")', '/a,b "quoted"\nnext'];
function batch(extra = true): RecordBatch {
  const n = 3;
  const none = dict([null, null, null]);
  return {
    length: n,
    ts: Float64Array.of(t0, t0 + 1.4, NaN),
    status: Uint16Array.of(200, 404, 0),
    bytesSent: Float64Array.of(512, NaN, 0),
    durationMs: Float64Array.of(NaN, NaN, 1.5),
    upstreamMs: Float64Array.of(NaN, NaN, NaN),
    ip: dict(['10.0.0.1', '2001:db8::1', 'host.example']),
    ipKind: Uint8Array.of(4, 6, 0),
    method: dict(['GET', 'POST', '-']),
    path: dict(paths),
    query: dict([null, 'a=1', null]),
    protocol: dict(['HTTP/1.1', 'HTTP/1.1', null]),
    referer: dict(['-', '@SUM(1+1)', null]),
    userAgent: dict(['curl/8', 'ua\u2028with sep', null]),
    vhost: none, user: none, forwardedFor: none,
    extra: new Map(extra ? [['ssl_protocol', dict(['TLSv1.3', null, '-1+2'])]] : []),
    input: Uint16Array.of(0, 0, 1),
    line: Float64Array.of(1, 2, 7),
    byteOffset: Float64Array.of(0, 90, 700),
  };
}

describe('NDJSON rows', () => {
  test('one JSON object per record with ISO time, nulls for NaN and missing values, input names', () => {
    const text = recordBatchToNdjson(batch(), { inputNames: ['a.log', 'b.log.gz'] });
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    const rows = lines.slice(0, 3).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows[0]).toMatchObject({ input: 'a.log', line: 1, ts: '2018-12-15T10:18:31.000Z', ip: '10.0.0.1', status: 200, bytesSent: 512, query: null, extra_ssl_protocol: 'TLSv1.3' });
    expect(rows[1]).toMatchObject({ ts: '2018-12-15T10:18:31.001Z', ip: '2001:db8::1', bytesSent: null, path: paths[1], userAgent: 'ua\u2028with sep' });
    expect(rows[2]).toMatchObject({ input: 'b.log.gz', ts: null, durationMs: 1.5, path: paths[2] });
  });
});

describe('CSV rows', () => {
  test('header once, values round-trip through a CSV parser, formulas neutralised', () => {
    const enc = createCsvRecordEncoder({ inputNames: ['a.log', 'b.log'] });
    const text = enc.encode(batch()) + enc.encode(batch()) + enc.finish();
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({ input: 'a.log', line: '1', ts: '2018-12-15T10:18:31.000Z', status: '200', bytesSent: '512', query: '', method: 'GET' });
    expect(rows[1]!['path']).toBe(`'${paths[1]}`);
    expect(rows[1]!['referer']).toBe(`'@SUM(1+1)`);
    expect(rows[0]!['referer']).toBe('-');
    expect(rows[2]!['path']).toBe('/a,b "quoted"\\x0anext'); // one physical line per record
    expect(rows[2]!['extra_ssl_protocol']).toBe("'-1+2");
    expect(rows[2]!['durationMs']).toBe('1.5');
    expect(text.trimEnd().split('\n')).toHaveLength(7);
    expect(text.split('\n')[0]).toMatch(/^input,line,byteOffset,ts,ip,/);
  });

  test('a row range of a batch gives those rows only', () => {
    const enc = createCsvRecordEncoder({ inputNames: ['a.log', 'b.log'] });
    const text = enc.encode(batch(), 0, 1) + enc.encode(batch(), 1, 3);
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['line'])).toEqual(['1', '2', '7']);
    expect(recordBatchToNdjson(batch(), {}, 2, 3).trimEnd().split('\n').map((l) => JSON.parse(l).line)).toEqual([7]);
  });

  test('no records: the header alone', () => {
    const enc = createCsvRecordEncoder({ extraNames: [] });
    expect(enc.finish()).toMatch(/^input,line,byteOffset,ts,.*forwardedFor\n$/);
    expect(enc.finish()).toBe('');
  });

});
