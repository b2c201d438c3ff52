/**
 * The TSV rows `alf load clickhouse` sends: one row per parsed record with the
 * table's columns, attacker-written fields escaped so they cannot add columns
 * or rows, and the row bookkeeping that lets a retry resend only missing rows.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ALF_TABLE_COLUMNS, ipHash } from '@alf/core';
import { openGeo } from '@alf/geo';
import { parseInput } from '../parse-input.ts';
import { RowEncoder, TsvBuffer, putUint } from './tsv-rows.ts';

const LINES = [
  '203.0.113.7 - - [02/Mar/2026:10:00:00 +0000] "GET /a.css?x=1 HTTP/1.1" 200 512 "https://www.google.com/search" "Mozilla/5.0"',
  '198.51.100.2 - - [02/Mar/2026:10:00:01 +0000] "GET /p\\\\q\\ttab?cb=1a2b3c4d5e HTTP/1.1" 404 - "-" "evil\\\\agent\\n=HYPERLINK()"',
  '2001:db8::1 - - [02/Mar/2026:10:00:02 +0000] "POST /login HTTP/1.1" 503 0 "-" "curl/8.0"',
];

/** ClickHouse TabSeparated unescaping. */
function unescape(field: string): string {
  return field.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n', r: '\r', '0': '\0', b: '\b', f: '\f' })[c] ?? c);
}

async function encode(lines: readonly string[], batchRows?: number): Promise<TsvBuffer> {
  const geo = await openGeo({});
  const out = new TsvBuffer(16);
  const encoder = new RowEncoder(geo);
  try {
    for await (const chunk of parseInput(Readable.from([Buffer.from(`${lines.join('\n')}\n`)]), { maxLineBytes: 1 << 20, inputIndex: 0, batchRows }).chunks) {
      encoder.encode(chunk.records, 'in\tput.log', 'load-1\t0\n', out);
    }
  } finally {
    geo.close();
  }
  return out;
}

describe('alf load clickhouse rows', () => {
  test('one TSV row per record, every column in table order, hostile fields escaped', async () => {
    const out = await encode(LINES);
    const rows = out.view().toString('utf8').split('\n').slice(0, -1);
    expect(rows).toHaveLength(3);
    const names = ALF_TABLE_COLUMNS.map(([n]) => n);
    const parsed = rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [names[i], unescape(v)])));
    for (const r of rows) expect(r.split('\t')).toHaveLength(names.length);
    expect(parsed[0]).toMatchObject({ ts_ms: String(Date.UTC(2026, 2, 2, 10)), ts_ok: '1', ip: '203.0.113.7', ip_kind: '4', ip_hash: String(ipHash('203.0.113.7')),
      prefix: '203.0.113.0/24', path: '/a.css', query: 'x=1', status: '200', bytes: '512', path_asset: '1', query_random: '0', ref_class: '1', ref_host: 'www.google.com',
      input: 'in\tput.log', line: '1', load_id: 'load-1', batch: '0' });
    expect(parsed[1]).toMatchObject({ ip: '198.51.100.2', status: '404', bytes: '-1', query_random: '1', ref_class: '0', ref_host: '', line: '2' });
    expect(parsed[1]!['path']).toContain('\\');
    expect(parsed[1]!['ua']).toContain('HYPERLINK');
    expect(parsed[2]).toMatchObject({ ip: '2001:db8::1', ip_kind: '6', prefix: '2001:db8::/48', method: 'POST', line: '3' });
  });

  test('without() keeps exactly the rows that did not land, bytes unchanged', async () => {
    const out = await encode(LINES);
    const rows = out.view().toString('utf8').split('\n').slice(0, -1);
    const rest = out.without(new Set(['in\tput.log\t1', 'in\tput.log\t3']));
    expect(rest.rows).toBe(1);
    expect(rest.keys()).toEqual(['in\tput.log\t2']);
    expect(rest.view().toString('utf8')).toBe(`${rows[1]}\n`);
    expect(out.without(new Set()).view().equals(out.view())).toBe(true);
  });

  test('integers are written in decimal with a tab, up to 2^53 (byte offsets past 2 GiB included)', () => {
    const buf = Buffer.alloc(32);
    const check = (x: number): void => {
      const end = putUint(buf, 3, x);
      expect(buf.toString('latin1', 3, end)).toBe(`${x}\t`);
    };
    for (const x of [0, 9, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 1e9, 1e9 * 2147 + 5, 1_772_445_600_123, 2 ** 53 - 1]) check(x);
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (x) => check(x)));
  });

  test('rows of later record batches reuse the encoded values and stay identical to a fresh encoding', async () => {
    const once = await encode(LINES);
    const twice = await encode([...LINES, ...LINES.map((l) => l.replace('10:00:0', '10:00:1'))], 2);
    const rows = twice.view().toString('utf8').split('\n').slice(0, -1);
    expect(rows.slice(0, 3).join('\n')).toBe(once.view().toString('utf8').trimEnd());
    // Lines 4-6 repeat lines 1-3 ten seconds later, in other record batches: same fields, their own time and place.
    for (let i = 0; i < 3; i++) {
      const [a, b] = [rows[i]!.split('\t'), rows[i + 3]!.split('\t')];
      expect(Number(b[0]) - Number(a[0])).toBe(10_000);
      expect(b.slice(1, 24)).toEqual(a.slice(1, 24));
    }
    expect(twice.keys()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `in\tput.log\t${n}`));
  });
});
