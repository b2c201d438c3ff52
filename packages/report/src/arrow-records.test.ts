import { describe, expect, test } from 'vitest';
import { RecordBatchReader, tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseLines, recordRows } from '@alf/parser';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { arrowIpcChunks, createArrowIpcEncoder, recordsToTable } from './arrow-records.ts';

interface Row {
  ts: number; ip: string; path: string; status: number; line: number; bytes?: number; ua?: string | null; tls?: string;
}

function dict(values: (string | null)[]): DictColumn {
  const uniq: string[] = [];
  const ids = new Int32Array(values.length + 3); // longer than length, as after growth by doubling
  values.forEach((v, i) => {
    if (v === null) { ids[i] = -1; return; }
    let id = uniq.indexOf(v);
    if (id < 0) { id = uniq.length; uniq.push(v); }
    ids[i] = id;
  });
  return { ids, values: uniq };
}

function batch(rows: Row[], input = 0): RecordBatch {
  const n = rows.length;
  const f64 = (get: (r: Row) => number): Float64Array => Float64Array.from([...rows.map(get), 0, 0]);
  const nulls = dict(rows.map(() => null));
  return {
    length: n,
    ts: f64((r) => r.ts),
    status: Uint16Array.from(rows.map((r) => r.status)),
    bytesSent: f64((r) => r.bytes ?? NaN),
    durationMs: f64(() => NaN),
    upstreamMs: f64(() => NaN),
    ip: dict(rows.map((r) => r.ip)),
    ipKind: Uint8Array.from(rows.map(() => 4)),
    method: dict(rows.map(() => 'GET')),
    path: dict(rows.map((r) => r.path)),
    query: nulls,
    protocol: dict(rows.map(() => 'HTTP/1.1')),
    referer: nulls,
    userAgent: dict(rows.map((r) => r.ua ?? null)),
    vhost: nulls,
    user: nulls,
    forwardedFor: nulls,
    extra: new Map(rows.some((r) => r.tls) ? [['ssl_protocol', dict(rows.map((r) => r.tls ?? null))]] : []),
    input: Uint16Array.from(rows.map(() => input)),
    line: f64((r) => r.line),
    byteOffset: f64((r) => r.line * 100),
  };
}

const t0 = Date.UTC(2018, 11, 15, 10, 18, 31);
const first: Row[] = [
  { ts: t0, ip: '10.0.0.1', path: '/', status: 200, line: 1, bytes: 512, ua: 'curl/8', tls: 'TLSv1.3' },
  { ts: t0 + 1000, ip: '2001:db8::1', path: '/wp-login.php', status: 404, line: 2, ua: null, tls: 'TLSv1.2' },
  { ts: t0 + 2000, ip: '10.0.0.1', path: '/', status: 304, line: 4, bytes: 0 },
];
const second: Row[] = [
  { ts: t0 + 5000, ip: '192.0.2.9', path: '/=cmd|calc', status: 500, line: 5, ua: 'x', tls: 'TLSv1.3' },
  { ts: t0 + 6000, ip: '10.0.0.1', path: '/', status: 200, line: 6 },
];
const all = [...first, ...second];

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out;
}

function expectSameRecords(table: Table): void {
  expect(table.numRows).toBe(all.length);
  expect(table.getChild('ts')!.toArray().length).toBe(all.length);
  for (let i = 0; i < all.length; i++) {
    const row = table.get(i)!;
    const want = all[i]!;
    expect(Number(row['ts'])).toBe(want.ts);
    expect(row['ip']).toBe(want.ip);
    expect(row['path']).toBe(want.path);
    expect(row['status']).toBe(want.status);
    expect(row['line']).toBe(want.line);
    expect(row['bytesSent']).toBe(want.bytes ?? null);
    expect(row['userAgent']).toBe(want.ua ?? null);
    expect(row['extra_ssl_protocol']).toBe(want.tls ?? null);
    expect(row['query']).toBe(null);
  }
}

describe('Arrow record writers', () => {
  test('IPC stream read back with tableFromIPC gives the same values across batches with their own dictionaries', async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of arrowIpcChunks([batch(first), batch(second)], 'stream')) chunks.push(c);
    const table = tableFromIPC(concat(chunks));
    expectSameRecords(table);
    const ts = table.schema.fields.find((f) => f.name === 'ts')!;
    expect(String(ts.type)).toBe('Timestamp<MILLISECOND, UTC>');
    expect(String(table.schema.fields.find((f) => f.name === 'ip')!.type)).toBe('Dictionary<Int32, Utf8>');
  });

  test('IPC stream reads batch by batch with RecordBatchReader', () => {
    const enc = createArrowIpcEncoder('stream', { metadata: new Map([['alf.inputs', '["a.log"]']]) });
    const bytes = concat([enc.encode(batch(first)), enc.encode(batch(second)), enc.finish()]);
    const reader = RecordBatchReader.from(bytes);
    const batches = [...reader];
    expect(batches.map((b) => b.numRows)).toEqual([3, 2]);
    expect(batches[0]!.schema.metadata.get('alf.inputs')).toBe('["a.log"]');
  });

  test('IPC file grows dictionaries by deltas and reads back the same values', () => {
    const enc = createArrowIpcEncoder('file');
    const bytes = concat([enc.encode(batch(first)), enc.encode(batch(second)), enc.finish()]);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe('ARROW1');
    expectSameRecords(tableFromIPC(bytes));
  });

  test('no records still gives a readable stream with the schema', () => {
    const enc = createArrowIpcEncoder('stream');
    const table = tableFromIPC(enc.finish());
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toContain('userAgent');
  });

  test('batches are copied: reusing the parser arrays afterwards does not change written bytes', () => {
    const b = batch(first);
    const enc = createArrowIpcEncoder('stream');
    const bytes = enc.encode(b);
    (b.status as Uint16Array).fill(999);
    (b.ts as Float64Array).fill(0);
    const table = tableFromIPC(concat([bytes, enc.finish()]));
    expect(table.get(0)!['status']).toBe(200);
    expect(Number(table.get(0)!['ts'])).toBe(t0);
  });

  test('recordsToTable builds one in-memory table', () => {
    expectSameRecords(recordsToTable([batch(first), batch(second)]));
  });

  test.for([
    ['testdata/real/secrepo/access.log.2022-12-22.gz'], // combined, IPv4
    ['testdata/real/elastic-beats/nginx-ingress_controller-test.log'], // extra columns
    ['testdata/real/nasa-http/NASA_access_log_Aug95.first20000.log.gz'], // host names, `-` bytes
  ] as const)('real parser batches of %s read back from stream and file with every value equal', ([path]) => {
    const raw = readFileSync(new URL(`../../../${path}`, import.meta.url));
    const whole = path.endsWith('.gz') ? gunzipSync(raw) : raw;
    let cut = 0; // the first 3,000 lines are plenty
    for (let n = 0; n < 3000 && cut >= 0; n++) cut = whole.indexOf(10, cut + (n === 0 ? 0 : 1));
    const bytes = cut > 0 ? whole.subarray(0, cut + 1) : whole;
    const { chunks } = parseLines(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { batchRows: 1000 });
    const batches = chunks.map((c) => c.records).filter((b) => b.length > 0);
    const want = recordRows(batches);
    expect(want.length).toBeGreaterThan(0);
    for (const kind of ['stream', 'file'] as const) {
      const enc = createArrowIpcEncoder(kind);
      const table = tableFromIPC(concat([...batches.map((b) => enc.encode(b)), enc.finish()]));
      expect(table.numRows).toBe(want.length);
      const extras = [...batches[0]!.extra.keys()];
      for (let i = 0; i < want.length; i++) {
        const got = table.get(i)!;
        const w = want[i]!;
        const nan = (x: number): number | null => (Number.isNaN(x) ? null : x);
        expect({
          ts: Number(got['ts']), status: got['status'], bytesSent: got['bytesSent'], durationMs: got['durationMs'], upstreamMs: got['upstreamMs'],
          ip: got['ip'], ipKind: got['ipKind'], method: got['method'], path: got['path'], query: got['query'], protocol: got['protocol'],
          referer: got['referer'], userAgent: got['userAgent'], vhost: got['vhost'], user: got['user'], forwardedFor: got['forwardedFor'],
          input: got['input'], line: got['line'], byteOffset: got['byteOffset'],
          extra: Object.fromEntries(extras.map((k) => [k, got[`extra_${k}`]])),
        }).toEqual({
          ...w, bytesSent: nan(w.bytesSent), durationMs: nan(w.durationMs), upstreamMs: nan(w.upstreamMs),
          extra: Object.fromEntries(extras.map((k) => [k, w.extra[k] ?? null])),
        });
      }
    }
  });
});
