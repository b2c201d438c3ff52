/**
 * The fast row parsers must be invisible: every input gives the same rows,
 * rejects (reason, detail, line, offset, excerpt), accounting and format with
 * the fast path on as with every line sent through the generic parser.
 * Checked on every real log and on real lines mutated by fast-check (quotes,
 * backslashes, brackets, digits, high bytes inserted, deleted or replaced).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { LineFramer } from './frame-lines.ts';
import { ParseSession } from './parse-session.ts';
import { recordRows } from './record-rows.ts';
import type { RecordRow } from './record-rows.ts';
import type { Accounting, DictColumn, FramedChunk, ParsedChunk, ParseOptions, RecordBatch, Reject } from './types.ts';
import { PRESETS } from './presets.ts';
import { STRING_COLUMNS } from './types.ts';
import type { StringColumn } from './types.ts';

const REAL = join(import.meta.dirname, '../../../testdata/real');

interface Outcome {
  rows: RecordRow[];
  rejects: Reject[];
  accounting: Accounting;
  format: string;
  error: string | null;
}

/** Parse bytes cut into blocks of about `blockBytes` (several blocks: per-block scanner state is exercised). */
function parse(bytes: Uint8Array, opts: ParseOptions, fastPath: boolean, blockBytes: number): Outcome {
  const framer = new LineFramer({ targetBlockBytes: blockBytes });
  const framed: FramedChunk[] = [];
  framer.push(bytes, framed);
  framer.end(framed);
  const session = new ParseSession(opts, { fastPath });
  const chunks: ParsedChunk[] = [];
  let error: string | null = null;
  try {
    for (const f of framed) chunks.push(...session.push(f));
    chunks.push(...session.end());
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  for (const c of chunks) expectUniqueDicts(c.records);
  return {
    rows: recordRows(chunks.map((c) => c.records)),
    rejects: chunks.flatMap((c) => [...c.rejects]),
    accounting: session.accounting,
    format: session.format?.id ?? 'none',
    error,
  };
}

/** Every dictionary of a batch holds each value once (consumers group by id). */
function expectUniqueDicts(b: RecordBatch): void {
  const cols: [string, DictColumn][] = [['ip', b.ip], ['method', b.method], ['path', b.path], ['query', b.query], ['protocol', b.protocol],
    ['referer', b.referer], ['userAgent', b.userAgent], ['vhost', b.vhost], ['user', b.user], ['forwardedFor', b.forwardedFor], ...b.extra];
  for (const [name, col] of cols) {
    const seen = new Set(col.values);
    if (seen.size !== col.values.length) expect.fail(`${name} dictionary repeats a value: ${col.values.filter((v, i) => col.values.indexOf(v) !== i)[0]}`);
  }
}

function expectSame(bytes: Uint8Array, opts: ParseOptions, blockBytes = 4096): Outcome {
  const fast = parse(bytes, opts, true, blockBytes);
  const generic = parse(bytes, opts, false, blockBytes);
  expect(fast.error).toBe(generic.error);
  expect(fast.format).toBe(generic.format);
  expect(fast.accounting).toEqual(generic.accounting);
  expect(fast.rejects).toEqual(generic.rejects);
  expect(fast.rows).toEqual(generic.rows);
  return fast;
}

function realFiles(): { rel: string; path: string }[] {
  const out: { rel: string; path: string }[] = [];
  for (const dir of readdirSync(REAL)) {
    if (dir === 'maxmind-db' || !statSync(join(REAL, dir)).isDirectory()) continue;
    for (const f of readdirSync(join(REAL, dir))) if (f !== 'SOURCES.md') out.push({ rel: `${dir}/${f}`, path: join(REAL, dir, f) });
  }
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}

const LINE_FORMATS = PRESETS.filter((p) => p.flavor !== 'json').map((p) => p.id);

describe('fast path = generic path', () => {
  test.for(realFiles().map((f) => [f.rel, f.path] as const))('%s: same batches and rejects, detected and under each preset', ([, path]) => {
    let bytes: Uint8Array = readFileSync(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return; // gzip members are covered by the stream tests
    bytes = bytes.subarray(0, 256 * 1024);
    const detected = expectSame(bytes, {}, 16 * 1024);
    if (detected.error === null) expect(detected.accounting.linesRead).toBe(detected.accounting.parsed + detected.accounting.rejected);
    for (const format of LINE_FORMATS) expectSame(bytes.subarray(0, 16 * 1024), { format, batchRows: 97 }, 2048);
  });

  // CLF-like real lines, the pool mutations start from
  const pool: string[] = [];
  for (const f of realFiles()) {
    const text = readFileSync(f.path, 'latin1');
    for (const line of text.split('\n').slice(0, 200)) {
      if (line.length < 2000 && /^\S.* \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "/.test(line)) {
        pool.push(line);
        // the same line with a quoted X-Forwarded-For after it (nginx `main`)
        if (pool.length % 3 === 0) pool.push(`${line.trimEnd()} "${['-', '', '203.0.113.7, 10.0.0.1', '2001:db8::1'][pool.length % 4]}"`);
        // … and with timing fields after it (nginx $request_time $upstream_response_time, Apache %D / %T)
        if (pool.length % 3 === 1) {
          const timing = ['0.005 0.004', '1234', '- -', '0.010 0.003, 0.002', '0.2 0.1 : 0.05', '3', '0.000 -', '12.5'][pool.length % 8];
          pool.push(`${line.trimEnd()} ${timing}`);
        }
      }
    }
  }

  test('the pool of real lines is not empty', () => {
    expect(pool.length).toBeGreaterThan(500);
  });

  const INTERESTING = [0x22, 0x5c, 0x20, 0x5b, 0x5d, 0x2d, 0x3f, 0x2f, 0x3a, 0x2e, 0x2c, 0x30, 0x31, 0x35, 0x39, 0x0d, 0x09, 0x00, 0x78, 0x41, 0x80, 0xc3, 0xa9, 0xff];
  /** Bytes that delimit fields: most edits land on or next to one of them. */
  const STRUCTURE = new Set([0x22, 0x20, 0x5b, 0x5d, 0x2d, 0x3f, 0x2e, 0x3a, 0x2f]);
  const edit = fc.record({
    at: fc.nat(),
    nearStructure: fc.boolean(),
    shift: fc.integer({ min: -1, max: 1 }),
    op: fc.constantFrom('insert', 'delete', 'replace'),
    byte: fc.constantFrom(...INTERESTING),
  });
  const mutated = fc.record({ base: fc.nat(), edits: fc.array(edit, { maxLength: 3 }) }).map(({ base, edits }) => {
    const bytes = [...Buffer.from(pool[base % pool.length] as string, 'latin1')];
    for (const e of edits) {
      let at = bytes.length === 0 ? 0 : e.at % (bytes.length + (e.op === 'insert' ? 1 : 0));
      if (e.nearStructure) {
        const marks = bytes.flatMap((b, i) => (STRUCTURE.has(b) ? [i] : []));
        if (marks.length > 0) at = Math.max(0, Math.min(bytes.length - 1, (marks[e.at % marks.length] as number) + e.shift));
      }
      if (e.op === 'insert') bytes.splice(at, 0, e.byte);
      else if (e.op === 'delete') bytes.splice(at, 1);
      else bytes[at] = e.byte;
    }
    return bytes.filter((b) => b !== 0x0a);
  });
  // a few lines, repeated in any order: repeated values hit the fast path's tables, also across batches
  const input = fc.record({
    lines: fc.array(mutated, { minLength: 1, maxLength: 6 }),
    order: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
    batchRows: fc.integer({ min: 1, max: 16 }),
    crlf: fc.boolean(),
  });

  /** Compare large outcomes row by row as JSON (a deep equal over 100k objects is slow); the first difference is shown. */
  function expectSameLarge(bytes: Uint8Array, opts: ParseOptions): void {
    const fast = parse(bytes, opts, true, 64 * 1024);
    const generic = parse(bytes, opts, false, 64 * 1024);
    expect(fast.error).toBe(generic.error);
    expect(fast.accounting).toEqual(generic.accounting);
    const a = [...fast.rows.map((r) => JSON.stringify(r)), ...fast.rejects.map((r) => JSON.stringify(r))];
    const b = [...generic.rows.map((r) => JSON.stringify(r)), ...generic.rejects.map((r) => JSON.stringify(r))];
    const i = a.findIndex((x, k) => x !== b[k]);
    expect(i < 0 ? null : a[i]).toBe(i < 0 ? null : b[i]);
    expect(a.length).toBe(b.length);
  }

  // every single-byte edit (insert, replace, delete) at every position of some real lines
  const SINGLE = [0x22, 0x5c, 0x20, 0x5b, 0x5d, 0x2d, 0x3f, 0x2e, 0x30, 0x09, 0xc3];
  test.for(['combined', 'common', 'nginx_combined', 'vhost_combined', 'nginx_main', 'nginx_timing', 'apache_combined_us'])('%s: every single-byte edit of real lines', (format) => {
    const step = Math.max(1, Math.floor(pool.length / 12));
    const lines: string[] = [];
    for (let k = 0; k < pool.length; k += step) {
      // each base line also with the tails the fast path knows: an X-Forwarded-For, timing fields
      const base = (pool[k] as string).trimEnd();
      lines.push(base, `${base} "203.0.113.7, 10.0.0.1"`, `${base} 0.005 0.004`, `${base} 1234`);
    }
    const out: number[] = [];
    for (const text of lines) {
      const line = [...Buffer.from(text, 'latin1')].slice(0, 400);
      for (let at = 0; at <= line.length; at++) {
        for (const byte of SINGLE) {
          out.push(...line.slice(0, at), byte, ...line.slice(at), 0x0a);
          if (at < line.length) out.push(...line.slice(0, at), byte, ...line.slice(at + 1), 0x0a);
        }
        if (at < line.length) out.push(...line.slice(0, at), ...line.slice(at + 1), 0x0a);
      }
    }
    expectSameLarge(Uint8Array.from(out), { format, batchRows: 4093 });
  });

  /** The generated lines in the generated order, each ended by LF (or CRLF). */
  function joined(lines: readonly (readonly number[])[], order: readonly number[], crlf = false): Uint8Array {
    const out: number[] = [];
    for (const i of order) out.push(...(lines[i % lines.length] as number[]), ...(crlf ? [0x0d, 0x0a] : [0x0a]));
    return Uint8Array.from(out);
  }

  test.for(LINE_FORMATS)('%s: mutated real lines give the same rows and rejects', (format) => {
    fc.assert(fc.property(input, ({ lines, order, batchRows, crlf }) => {
      const got = expectSame(joined(lines, order, crlf), { format, batchRows }, 512);
      expect(got.accounting.linesRead).toBe(order.length);
    }), { numRuns: 60 });
  });

  /** A full row with the string columns left out of `columns` set to null. */
  function only(row: RecordRow, columns: readonly StringColumn[]): RecordRow {
    const out = { ...row, extra: { ...row.extra } };
    for (const name of STRING_COLUMNS) {
      if (columns.includes(name)) continue;
      if (name === 'extra') for (const k of Object.keys(out.extra)) out.extra[k] = null;
      else out[name] = null;
    }
    return out;
  }

  test.for([...LINE_FORMATS, 'json'])('%s: parsing only some columns gives the same rows, those columns null, same rejects', (format) => {
    fc.assert(fc.property(input, fc.subarray([...STRING_COLUMNS]), ({ lines, order }, columns) => {
      const bytes = joined(lines, order);
      const all = parse(bytes, { format }, true, 512);
      for (const fastPath of [true, false]) {
        const some = parse(bytes, { format, columns }, fastPath, 512);
        expect(some.error).toBe(all.error);
        expect(some.accounting).toEqual(all.accounting);
        expect(some.rejects).toEqual(all.rejects);
        expect(some.rows).toEqual(all.rows.map((r) => only(r, columns)));
      }
    }), { numRuns: 30 });
  });

  // ParseOptions.allColumnsWithin / rowsWithin: time ranges bounded by times of the rows (a row on a range's end is outside it)
  const ranges = fc.array(fc.record({ from: fc.nat(), to: fc.nat(), past: fc.boolean() }), { maxLength: 3 });
  type Picks = { from: number; to: number; past: boolean }[];
  function rangesOver(rows: readonly { ts: number }[], picks: Picks): { within: [number, number][]; inside: (ts: number) => boolean } {
    const times = [...new Set(rows.map((r) => r.ts))].sort((a, b) => a - b);
    const within: [number, number][] = times.length === 0 ? [] : picks.map(({ from, to, past }) => {
      const a = times[from % times.length] as number;
      const b = (times[to % times.length] as number) + (past ? 1 : 0);
      return [Math.min(a, b), Math.max(a, b)];
    });
    return { within, inside: (ts) => within.some(([a, b]) => ts >= a && ts < b) };
  }

  // ParseOptions.allColumnsWithin: rows in the time ranges are full rows, the others as `columns` says
  test.for([...LINE_FORMATS, 'json'])('%s: rows inside allColumnsWithin equal the full parse, rows outside the `columns` parse', (format) => {
    fc.assert(fc.property(input, fc.subarray([...STRING_COLUMNS]), ranges, ({ lines, order, batchRows }, columns, picks) => {
      const bytes = joined(lines, order);
      const all = parse(bytes, { format, batchRows }, true, 512);
      const { within, inside } = rangesOver(all.rows, picks);
      for (const fastPath of [true, false]) {
        const some = parse(bytes, { format, batchRows, columns, allColumnsWithin: within }, fastPath, 512);
        expect(some.error).toBe(all.error);
        expect(some.accounting).toEqual(all.accounting);
        expect(some.rejects).toEqual(all.rejects);
        expect(some.rows).toEqual(all.rows.map((r) => (inside(r.ts) ? r : only(r, columns))));
      }
    }), { numRuns: 30 });
  });

  test.for([...LINE_FORMATS, 'json'])('%s: rowsWithin gives the rows of the full parse inside the ranges, some of its rejects, every line counted', (format) => {
    fc.assert(fc.property(input, ranges, ({ lines, order, batchRows }, picks) => {
      const bytes = joined(lines, order);
      const all = parse(bytes, { format, batchRows }, true, 512);
      const { within, inside } = rangesOver(all.rows, picks);
      for (const fastPath of [true, false]) {
        const some = parse(bytes, { format, batchRows, columns: [], rowsWithin: within }, fastPath, 512);
        expect(some.error).toBe(all.error);
        expect(some.rows).toEqual(all.rows.filter((r) => inside(r.ts)));
        const rejects = new Set(all.rejects.map((r) => JSON.stringify(r)));
        for (const r of some.rejects) expect(rejects.has(JSON.stringify(r))).toBe(true);
        expect(some.accounting.linesRead).toBe(all.accounting.linesRead);
        expect(some.accounting.bytesRead).toBe(all.accounting.bytesRead);
        expect(some.accounting.parsed).toBe(some.rows.length);
        expect(some.accounting.rejected).toBe(some.rejects.length);
      }
    }), { numRuns: 30 });
  });

  // rowsWithin and allColumnsWithin together: the wanted rows, full inside allColumnsWithin, the others as `columns` says
  test.for([...LINE_FORMATS, 'json'])('%s: rowsWithin with allColumnsWithin: the wanted rows, full only inside allColumnsWithin', (format) => {
    fc.assert(fc.property(input, fc.subarray([...STRING_COLUMNS]), ranges, ranges, ({ lines, order, batchRows }, columns, wantedPicks, fullPicks) => {
      const bytes = joined(lines, order);
      const all = parse(bytes, { format, batchRows }, true, 512);
      const wanted = rangesOver(all.rows, wantedPicks);
      const full = rangesOver(all.rows, fullPicks);
      for (const fastPath of [true, false]) {
        const some = parse(bytes, { format, batchRows, columns, rowsWithin: wanted.within, allColumnsWithin: full.within }, fastPath, 512);
        expect(some.error).toBe(all.error);
        expect(some.rows).toEqual(all.rows.filter((r) => wanted.inside(r.ts)).map((r) => (full.inside(r.ts) ? r : only(r, columns))));
        expect(some.accounting.linesRead).toBe(all.accounting.linesRead);
        expect(some.accounting.parsed).toBe(some.rows.length);
      }
    }), { numRuns: 30 });
  });

  test('rows outside allColumnsWithin leave nothing in the dictionaries', () => {
    const bytes = Buffer.from(`${pool.join('\n')}\n`, 'latin1');
    const all = parse(bytes, { format: 'combined' }, true, 64 * 1024);
    const times = all.rows.map((r) => r.ts).sort((a, b) => a - b);
    const mid = times[times.length >> 1] as number;
    for (const fastPath of [true, false]) {
      const framer = new LineFramer();
      const framed: FramedChunk[] = [];
      framer.push(bytes, framed);
      framer.end(framed);
      const session = new ParseSession({ format: 'combined', columns: [], allColumnsWithin: [[mid, mid + 1]] }, { fastPath });
      const chunks = [...framed.flatMap((f) => session.push(f)), ...session.end()];
      const paths = new Set(all.rows.filter((r) => r.ts === mid).map((r) => r.path));
      expect(paths.size).toBeGreaterThan(0);
      expect(new Set(chunks.flatMap((c) => c.records.path.values))).toEqual(paths);
    }
  });

  test('a skipped column has no dictionary values', () => {
    const bytes = Buffer.from(`${pool.join('\n')}\n`, 'latin1');
    const framer = new LineFramer();
    const framed: FramedChunk[] = [];
    framer.push(bytes, framed);
    framer.end(framed);
    const session = new ParseSession({ format: 'combined', columns: ['userAgent'] });
    const chunks = [...framed.flatMap((f) => session.push(f)), ...session.end()];
    expect(chunks.length).toBeGreaterThan(0);
    for (const { records: b } of chunks) {
      expect(b.path.values).toEqual([]);
      expect(b.referer.values).toEqual([]);
      expect(b.userAgent.values.length).toBeGreaterThan(0);
      expect(b.ip.values.length).toBeGreaterThan(0);
    }
  });
});
