import { describe, expect, test } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { parseLines } from '@alf/parser';
import type { RecordBatch } from '@alf/parser';
import { RECORDS_ARROW_COLUMNS, createRecordsArrowEncoder } from './records-pack.ts';
import type { RecordEnrichment } from './records-pack.ts';

const line = (ip: string, sec: number, path: string, ua = 'curl/8'): string =>
  `${ip} - - [15/Dec/2018:10:00:${String(sec).padStart(2, '0')} +0000] "GET ${path} HTTP/1.1" 200 12 "-" "${ua}"`;

function batches(lines: string[]): RecordBatch[] {
  return parseLines(lines, { format: 'combined' }).chunks.map((c) => c.records).filter((b) => b.length > 0);
}

const enrich = (ip: string): RecordEnrichment | null =>
  ip.startsWith('10.') ? null : { prefix: `${ip.split('.').slice(0, 3).join('.')}.0/24`, asn: 64500, country: 'NL' };

function encodeAll(parts: { batch: RecordBatch; rows: number[]; burst: number[]; input: string }[]): Uint8Array {
  const enc = createRecordsArrowEncoder(new Map([['alf.records', 'test']]));
  const out: Uint8Array[] = [];
  for (const p of parts) {
    out.push(enc.encode(p.batch, {
      rows: Int32Array.from(p.rows), count: p.rows.length, burstIds: Int32Array.from(p.burst), inputName: p.input, enrich,
    }));
  }
  out.push(enc.finish());
  return Buffer.concat(out);
}

describe('records.arrow encoder', () => {
  test('writes the selected rows with enrichment, nulls and burst ids, across batches with growing dictionaries', () => {
    const [a] = batches([line('192.0.2.1', 1, '/a?x=1'), line('10.0.0.1', 2, '/b'), line('192.0.2.1', 3, '/c', 'bot\u202Eevil')]);
    const [b] = batches([line('198.51.100.7', 4, '/d'), line('192.0.2.1', 5, '/a?x=1')]);
    const bytes = encodeAll([
      { batch: a!, rows: [0, 1, 2], burst: [1, -1, 1], input: 'one.log (sha256:00)' },
      { batch: b!, rows: [1, 0], burst: [2, 2], input: 'two.log (sha256:11)' },
    ]);
    const t = tableFromIPC(bytes);
    expect(t.schema.fields.map((f) => f.name)).toEqual(RECORDS_ARROW_COLUMNS);
    expect(t.schema.metadata.get('alf.records')).toBe('test');
    const rows = t.toArray().map((r) => r.toJSON());
    expect(rows.map((r) => [r['ip'], r['prefix'], r['asn'], r['country'], r['path'], r['query'], r['input'], Number(r['line']), r['burst_id']])).toEqual([
      ['192.0.2.1', '192.0.2.0/24', 64500, 'NL', '/a', 'x=1', 'one.log (sha256:00)', 1, 1],
      ['10.0.0.1', null, null, null, '/b', null, 'one.log (sha256:00)', 2, null],
      ['192.0.2.1', '192.0.2.0/24', 64500, 'NL', '/c', null, 'one.log (sha256:00)', 3, 1],
      ['192.0.2.1', '192.0.2.0/24', 64500, 'NL', '/a', 'x=1', 'two.log (sha256:11)', 2, 2],
      ['198.51.100.7', '198.51.100.0/24', 64500, 'NL', '/d', null, 'two.log (sha256:11)', 1, 2],
    ]);
    expect(rows[2]!['user_agent']).toBe('bot\u202Eevil');
    expect(rows[0]!['ts']).toBe(Date.UTC(2018, 11, 15, 10, 0, 1));
    expect(rows[0]!['status']).toBe(200);
    expect(rows[0]!['bytes']).toBe(12);
    expect(Number(rows[4]!['byte_offset'])).toBe(0);
  });

  test('line and byte_offset past 2^32 (a 5 TB input) come back exact', () => {
    const [a] = batches([line('192.0.2.1', 1, '/a'), line('192.0.2.2', 2, '/b'), line('192.0.2.3', 3, '/c')]);
    const big = [2 ** 32, 2 ** 32 + 12_345, 2 ** 53 - 1];
    a!.byteOffset.set(big);
    a!.line.set([4_294_967_295, 4_294_967_296, 7]);
    const rows = tableFromIPC(encodeAll([{ batch: a!, rows: [2, 0, 1], burst: [1, 1, 1], input: 'x' }])).toArray().map((r) => r.toJSON());
    expect(rows.map((r) => [r['byte_offset'], r['line']])).toEqual([[BigInt(2 ** 53 - 1), 7n], [BigInt(2 ** 32), 4_294_967_295n], [BigInt(2 ** 32 + 12_345), 4_294_967_296n]]);
  });

  test('no rows gives a valid empty file with the schema', () => {
    const t = tableFromIPC(encodeAll([]));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(RECORDS_ARROW_COLUMNS);
  });

  test('same rows in the same order give the same bytes', () => {
    const [a] = batches([line('192.0.2.1', 1, '/a'), line('192.0.2.9', 2, '/b')]);
    const parts = [{ batch: a!, rows: [0, 1], burst: [1, 1], input: 'x' }];
    expect(Buffer.from(encodeAll(parts)).equals(Buffer.from(encodeAll(parts)))).toBe(true);
  });
});

describe('records.arrow in an independent reader (Polars, Rust arrow)', () => {
  test('Polars reads the file with the same rows, types and values as apache-arrow', async () => {
    const { default: pl } = await import('nodejs-polars');
    const [a] = batches([line('192.0.2.1', 1, '/a?x=1'), line('10.0.0.1', 2, '/b'), line('192.0.2.1', 3, '/c', 'bot\u202Eevil')]);
    const bytes = encodeAll([{ batch: a!, rows: [0, 1, 2], burst: [7, -1, 7], input: 'one.log (sha256:00)' }]);
    const df = pl.readIPC(Buffer.from(bytes));
    expect(df.columns).toEqual(RECORDS_ARROW_COLUMNS);
    expect(df.height).toBe(3);
    const dtypes = Object.fromEntries(df.columns.map((c, i) => [c, String(df.dtypes[i])]));
    expect(dtypes).toMatchObject({ ts: 'DataType(Datetime(ms,UTC))', asn: 'DataType(UInt32)', status: 'DataType(UInt16)', line: 'DataType(Int64)', burst_id: 'DataType(Int32)' });
    const rows = df.toRecords() as Record<string, unknown>[];
    expect(rows.map((r) => [r['ip'], r['prefix'], r['path'], r['query'], r['burst_id'], r['user_agent']])).toEqual([
      ['192.0.2.1', '192.0.2.0/24', '/a', 'x=1', 7, 'curl/8'],
      ['10.0.0.1', null, '/b', null, null, 'curl/8'],
      ['192.0.2.1', '192.0.2.0/24', '/c', null, 7, 'bot\u202Eevil'],
    ]);
    expect(new Date(rows[0]!['ts'] as Date | number).getTime()).toBe(Date.UTC(2018, 11, 15, 10, 0, 1));
  });
});
