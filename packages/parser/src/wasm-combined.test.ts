/**
 * The WebAssembly fast path (assembly/combined.ts) must be invisible: the same rows, rejects and
 * accounting as the JavaScript fast path and as the generic parser, on inputs built to reach its
 * edges: clients of every kind (dotted quads, IPv6, IPv4-mapped IPv6, host names, tokens that are
 * neither, leading zeros), values enough to fill its tables several times within a batch (every
 * clear starts a new batch), lines it leaves to JavaScript (escaped quotes, `±hh:mm` zones, high
 * bytes, blank and overlong lines, CRLF), column subsets and time filters. fast-path.test.ts runs
 * its own checks on real lines with the module on too (it is on whenever it is built).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalIp } from './ip-address.ts';
import { LineFramer } from './frame-lines.ts';
import { ParseSession } from './parse-session.ts';
import { recordRows } from './record-rows.ts';
import type { FramedChunk, ParsedChunk, ParseOptions, RecordBatch, StringColumn } from './types.ts';
import { WasmCombined } from './wasm-combined.ts';

/** A small seeded generator (mulberry32): the same input on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** n lines in the combined family (`tail`: '' combined, 'xff' nginx main, 'common'), many distinct values, odd lines mixed in. */
function lines(n: number, seed: number, tail: '' | 'xff' | 'common'): string {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const int = (k: number): number => Math.floor(r() * k);
  const out: string[] = [];
  const hotIps = Array.from({ length: 50 }, () => `${1 + int(223)}.${int(256)}.${int(256)}.${int(256)}`);
  const agents = Array.from({ length: 40 }, (_, i) => `Mozilla/5.0 (agent ${i}; rv:${int(100)}) Gecko/20100101`);
  for (let i = 0; i < n; i++) {
    const u = r();
    const client = u < 0.5 ? pick(hotIps)
      : u < 0.75 ? `${int(256)}.${int(256)}.${int(256)}.${int(256)}`
        : u < 0.82 ? `2001:db8:${int(65536).toString(16)}::${int(65536).toString(16)}`
          : u < 0.85 ? `::ffff:10.0.${int(4)}.${int(256)}`
            : u < 0.88 ? `Host-${int(300)}.Example.COM`
              : u < 0.9 ? pick(['010.8.8.8', '127.1', '1.2.3', 'a_b', '[2001:db8::1]', '1.2.3.4,', '"quoted"', '300.1.1.1', '2001:DB8::1'])
                : `10.${int(4)}.${int(256)}.${int(256)}`;
    const user = r() < 0.9 ? '-' : pick(['alice', 'bob smith', '-x', 'u[1]', 'a "q" b']);
    const zone = r() < 0.95 ? pick(['+0000', '-0700', '+0200']) : pick(['+05:30', '+2400', '', 'Z']);
    const day = 1 + int(31);
    const time = `${String(day).padStart(2, '0')}/${pick(MONTHS)}/20${pick(['21', '24', '25'])}:${String(int(24)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}:${String(int(61)).padStart(2, '0')}${zone === '' ? '' : ` ${zone}`}`;
    const method = r() < 0.9 ? pick(['GET', 'POST', 'HEAD']) : pick(['PROPFIND', 'G(T', '', '-']);
    const path = r() < 0.6 ? pick(['/', '/index.html', '/a/b', '/wp-login.php']) : `/p/${int(1e6)}${r() < 0.1 ? '/x y' : ''}`;
    const query = r() < 0.5 ? '' : r() < 0.5 ? `?q=${int(1e7)}` : pick(['?', '?a=1', '?a=1?b=2']);
    const proto = r() < 0.95 ? pick(['HTTP/1.1', 'HTTP/2.0', 'HTTP/1.0']) : pick(['', 'HTTP/9', 'http/1.1']);
    let request = method === '-' ? '-' : [method, `${path}${query}`, proto].filter((x) => x !== '').join(' ');
    if (r() < 0.02) request = pick(['\\x16\\x03\\x01', '', 'GET /a\\"b HTTP/1.1', 'GET  /double  HTTP/1.1  ', 'GET /a\\" 200 1 "x']);
    const status = r() < 0.97 ? pick(['200', '404', '301', '500', '503']) : pick(['999', '20', '-', '0200']);
    const bytes = r() < 0.8 ? String(int(1e6)) : pick(['-', '0', '1234567890123456']);
    // attacker-written quotes: escaped ones that look like the end of a field
    const referer = r() < 0.6 ? '-' : r() < 0.5 ? `https://example.com/r/${int(5000)}` : pick(['', 'https://x.test/"', 'a\\"b', 'x\\" "y']);
    const agent = r() < 0.9 ? pick(agents) : r() < 0.5 ? `bot-${int(1e6)}` : pick(['-', '', 'caf\u00e9', 'x\\"y', 'z\\', 'q\\" "203.0.113.9']);
    let line = `${client} - ${user} [${time}] "${request}" ${status} ${bytes}`;
    if (tail !== 'common') line += ` "${referer}" "${agent}"`;
    if (tail === 'xff') line += ` "${r() < 0.7 ? '-' : `203.0.113.${int(256)}, 10.0.0.${int(9)}`}"`;
    const odd = r();
    if (odd < 0.005) line = '';
    else if (odd < 0.01) line = `${line}\r`;
    else if (odd < 0.012) line = `${line}   `;
    else if (odd < 0.014) line = line.slice(0, int(line.length));
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

interface Outcome {
  rows: string[];
  accounting: unknown;
  wasmRows: number;
}

function parse(text: string, opts: ParseOptions, tuning: { fastPath: boolean; wasm: boolean }, blockBytes: number): Outcome {
  const bytes = Buffer.from(text, 'latin1');
  const framer = new LineFramer({ targetBlockBytes: blockBytes });
  const framed: FramedChunk[] = [];
  framer.push(bytes, framed);
  framer.end(framed);
  const session = new ParseSession(opts, tuning);
  const chunks: ParsedChunk[] = [];
  for (const f of framed) chunks.push(...session.push(f));
  chunks.push(...session.end());
  for (const c of chunks) expectUniqueDicts(c.records);
  return {
    rows: [...recordRows(chunks.map((c) => c.records)).map((r) => JSON.stringify(r)), ...chunks.flatMap((c) => c.rejects.map((x) => JSON.stringify(x)))],
    accounting: session.accounting,
    wasmRows: session.wasmRows,
  };
}

function expectUniqueDicts(b: RecordBatch): void {
  for (const col of [b.ip, b.method, b.path, b.query, b.protocol, b.referer, b.userAgent, b.user, b.forwardedFor]) {
    expect(new Set(col.values).size).toBe(col.values.length);
  }
}

/**
 * The three paths agree (the first differing row is shown); returns the WebAssembly outcome. With
 * rowsWithin only the two fast paths are compared: they skip a line outside the ranges as soon as
 * its time is read, where the generic parser may reject it first (fast-path.test.ts checks that).
 */
function expectThreeSame(text: string, opts: ParseOptions, blockBytes = 64 * 1024): Outcome {
  const wasm = parse(text, opts, { fastPath: true, wasm: true }, blockBytes);
  const others = [parse(text, opts, { fastPath: true, wasm: false }, blockBytes)];
  if (opts.rowsWithin === undefined) others.push(parse(text, opts, { fastPath: false, wasm: false }, blockBytes));
  for (const other of others) {
    expect(wasm.accounting).toEqual(other.accounting);
    const i = wasm.rows.findIndex((x, k) => x !== other.rows[k]);
    expect(i < 0 ? null : wasm.rows[i]).toBe(i < 0 ? null : other.rows[i]);
    expect(wasm.rows.length).toBe(other.rows.length);
  }
  return wasm;
}

describe('WebAssembly fast path = JavaScript fast path = generic parser', () => {
  test('the module is built (pnpm build) and loads', () => {
    expect(WasmCombined.create(true, false, new Int32Array(0))).not.toBeNull();
  });

  test('its client canonicalisation is canonicalIp, on edge cases and on random client texts', () => {
    const w = WasmCombined.create(true, false, new Int32Array(0)) as WasmCombined;
    const same = (raw: string): void => {
      const want = canonicalIp(raw);
      expect([raw, w.canonical(raw)]).toEqual([raw, want === null ? null : { kind: want.kind, value: want.value }]);
    };
    for (const raw of ['1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '::', '::1', '1::', '1::2',
      '2001:DB8::1', '2001:db8:0:0:1:0:0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '0:0:0:0:0:0:0:0', '1:0:0:2:0:0:0:3',
      '::ffff:1.2.3.4', '::FFFF:10.0.0.1', '::ffff:0102:0304', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
      '[2001:db8::1]', '[2001:db8::1', 'fe80::1%eth0', 'fe80::1%', '[fe80::1%25en0]', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:',
      '12345::1', 'g::1', 'localhost', 'Host-1.Example.COM.', 'a..b', '-a.b', 'a-.b', 'a.b-', '1.2.3.com', 'a.123', 'x_y.z', 'a.',
      '.', '..', `${'a'.repeat(63)}.b`, `${'a'.repeat(64)}.b`, `${'a.'.repeat(126)}b`, 'unix:', 'a:b']) same(raw);
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.%[]-_xyzG'.split(''));
    fc.assert(fc.property(fc.array(alphabet, { maxLength: 45 }).map((cs) => cs.join('')), (raw) => same(raw)), { numRuns: 20_000 });
    const v6 = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(fc.property(v6, fc.boolean(), (g, upper) => {
      const full = g.map((x) => x.toString(16)).join(':');
      same(upper ? full.toUpperCase() : full);
      same(canonicalIp(full)?.value ?? full);
    }), { numRuns: 5_000 });
  });

  test.for([['combined', ''], ['nginx_main', 'xff'], ['common', 'common']] as const)('%s: 60,000 generated lines, tables cleared several times within batches', ([format, tail]) => {
    const text = lines(60_000, 7, tail);
    const got = expectThreeSame(text, { format, batchRows: 65_536 });
    // most rows went through the module, and there were more distinct values than a table holds
    expect(got.wasmRows).toBeGreaterThan(30_000);
    expect(new Set(text.split('\n').map((l) => l.split('"')[1])).size).toBeGreaterThan(20_000);
  });

  test.for([1, 7, 100, 8192])('batches of %i rows, small blocks', (batchRows) => {
    expectThreeSame(lines(5_000, 11 + batchRows, ''), { format: 'combined', batchRows }, 700);
  });

  test('lines longer than the module takes (64 KiB), with and without bytes >= 0x80, among ordinary ones', () => {
    const base = lines(200, 13, '').split('\n').filter((l) => l.length > 0);
    const long = (ua: string): string => `192.0.2.1 - - [10/Oct/2025:13:55:36 +0000] "GET /x HTTP/1.1" 200 5 "-" "${ua}"`;
    const text = [...base.slice(0, 100), long('a'.repeat(70_000)), long(`\u00e9${'b'.repeat(70_000)}`), long(`${'c'.repeat(70_000)}\u00e9`),
      ...base.slice(100)].join('\n');
    const got = expectThreeSame(Buffer.from(text, 'utf8').toString('latin1'), { format: 'combined' });
    expect(got.wasmRows).toBeGreaterThan(100);
  });

  test('sessions of one format share its fast parser: interleaved block by block, each gets its own rows', () => {
    const texts = [lines(20_000, 21, ''), lines(20_000, 22, '')];
    const solo = texts.map((t) => parse(t, { format: 'combined', batchRows: 3000 }, { fastPath: false, wasm: false }, 64 * 1024));
    const framed = texts.map((t) => {
      const framer = new LineFramer({ targetBlockBytes: 16 * 1024 });
      const out: FramedChunk[] = [];
      framer.push(Buffer.from(t, 'latin1'), out);
      framer.end(out);
      return out;
    });
    const sessions = texts.map(() => new ParseSession({ format: 'combined', batchRows: 3000 }, { fastPath: true, wasm: true }));
    const chunks: ParsedChunk[][] = [[], []];
    for (let i = 0; i < Math.max(framed[0]!.length, framed[1]!.length); i++) {
      for (const k of [0, 1]) {
        const f = framed[k]![i];
        if (f !== undefined) chunks[k]!.push(...sessions[k]!.push(f));
      }
    }
    for (const k of [0, 1]) {
      chunks[k]!.push(...sessions[k]!.end());
      for (const c of chunks[k]!) expectUniqueDicts(c.records);
      const rows = [...recordRows(chunks[k]!.map((c) => c.records)).map((r) => JSON.stringify(r)),
        ...chunks[k]!.flatMap((c) => c.rejects.map((x) => JSON.stringify(x)))];
      expect(sessions[k]!.accounting).toEqual(solo[k]!.accounting);
      const i = rows.findIndex((x, j) => x !== solo[k]!.rows[j]);
      expect(i < 0 ? null : rows[i]).toBe(i < 0 ? null : solo[k]!.rows[i]);
      expect(sessions[k]!.wasmRows).toBeGreaterThan(10_000);
    }
  });

  test('auto-detected format', () => {
    const got = expectThreeSame(lines(5_000, 3, ''), {});
    expect(got.wasmRows).toBeGreaterThan(2_500);
  });

  test.for([[], ['path'], ['query', 'userAgent'], ['method', 'protocol', 'referer', 'user', 'forwardedFor']].map((columns) => ({ columns })))(
    'columns $columns, with and without time filters', ({ columns }) => {
      const text = lines(20_000, 5, 'xff');
      const all = parse(text, { format: 'nginx_main' }, { fastPath: false, wasm: false }, 64 * 1024);
      const times = all.rows.filter((r) => r.startsWith('{"ts"') || r.includes('"ts":')).map((r) => JSON.parse(r) as { ts: number }).map((r) => r.ts)
        .filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
      expect(times.length).toBeGreaterThan(10_000);
      const at = (q: number): number => times[Math.floor(q * (times.length - 1))] as number;
      expectThreeSame(text, { format: 'nginx_main', columns: columns as StringColumn[] });
      expectThreeSame(text, { format: 'nginx_main', columns: columns as StringColumn[], allColumnsWithin: [[at(0.2), at(0.4)], [at(0.6), at(0.61)]] });
      expectThreeSame(text, { format: 'nginx_main', columns: columns as StringColumn[], rowsWithin: [[at(0.1), at(0.5)], [at(0.7), at(0.9)]],
        allColumnsWithin: [[at(0.3), at(0.35)]] });
    });
});
