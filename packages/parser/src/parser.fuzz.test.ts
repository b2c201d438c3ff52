/**
 * Fuzzing with fast-check, cheap cases, about 105k in all (a case is one line
 * or one run of random bytes; 100 cases go through one parse, as lines of one
 * input, since a parser session costs more than a line): random bytes,
 * mutated real log lines (testdata/real), mutated sample lines of every
 * preset, auto-detection on mutated lines, and damaged gzip through the
 * stream entry. The oracle (scripts/hostile/parse-oracle.ts) checks the
 * accounting line by line; it knows nothing about what a line means.
 * Longer runs: `scripts/fuzz.ts --seconds N`.
 */
import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { HOSTILE_BYTES, lineStarts, mutate, parseProblems } from '../../../scripts/hostile/parse-oracle.ts';
import { seededRandom } from '../../../scripts/hostile/kill-runs.ts';
import { listFormats } from './compile-format.ts';
import { isAlfError } from './errors.ts';
import { parseStream } from './parse-stream.ts';
import { REJECT_REASONS } from './types.ts';

const real = (rel: string, max: number): Buffer[] => {
  const text = gunzipSync(readFileSync(new URL(`../../../testdata/real/${rel}`, import.meta.url)));
  const out: Buffer[] = [];
  let at = 0;
  while (out.length < max && at < text.length) {
    const nl = text.indexOf(0x0a, at);
    const end = nl === -1 ? text.length : nl;
    out.push(text.subarray(at, end));
    at = end + 1;
  }
  return out;
};

const COMBINED = real('secrepo/access.log.2018-12-15.gz', 3000);
/** Cases (lines) per parse. */
const CASES_PER_RUN = 100;
const COMMON = real('nasa-http/NASA_access_log_Aug95.first20000.log.gz', 2000);

/** `cases` lines picked from `pool`, each with up to 6 mutations, joined by newlines (the last one maybe unterminated). */
const mutatedLines = (pool: readonly Buffer[], cases = CASES_PER_RUN) => fc.tuple(
  fc.array(fc.tuple(fc.nat(pool.length - 1), fc.nat(pool.length - 1), fc.integer({ min: 0, max: 6 }), fc.nat()), { minLength: cases, maxLength: cases }),
  fc.boolean(),
).map(([picks, finalNewline]) => {
  const lines = picks.map(([i, j, n, seed]) => {
    const next = seededRandom(seed);
    let line: Uint8Array = pool[i]!;
    for (let k = 0; k < n; k++) line = mutate(line, pool[j]!, next);
    return Buffer.from(line);
  });
  const joined = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  return finalNewline ? joined : joined.subarray(0, joined.length - 1);
});

const expectNoProblems = (bytes: Uint8Array, format: string | undefined): void => {
  const problems = parseProblems(bytes, format === undefined ? {} : { format });
  if (problems.length > 0) expect.fail(`${problems.join('\n')}\ninput (base64): ${Buffer.from(bytes).toString('base64')} format ${format}`);
};

describe('fuzz: line accounting holds for any input', () => {
  test('random bytes (30k runs of up to 240 bytes, biased towards quotes, escapes, separators)', () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...HOSTILE_BYTES));
    const run = fc.array(byte, { maxLength: 240 }).map((a) => Buffer.from(a));
    fc.assert(fc.property(fc.array(run, { minLength: CASES_PER_RUN, maxLength: CASES_PER_RUN }), (runs) => {
      expectNoProblems(Buffer.concat(runs.flatMap((r) => [r, Buffer.from('\n')])), 'combined');
    }), { numRuns: 300 });
  });

  test('mutated real combined lines (secrepo, 40k lines)', () => {
    fc.assert(fc.property(mutatedLines(COMBINED), (bytes) => { expectNoProblems(bytes, 'combined'); }), { numRuns: 400 });
  });

  test('mutated real common lines (NASA-HTTP, 10k lines)', () => {
    fc.assert(fc.property(mutatedLines(COMMON), (bytes) => { expectNoProblems(bytes, 'common'); }), { numRuns: 100 });
  });

  test.for(listFormats().map((f) => [f.id, f.sampleLines] as const))('mutated sample lines of %s (2,000 lines)', ([id, samples]) => {
    const pool = samples.map((s) => Buffer.from(s, 'utf8'));
    fc.assert(fc.property(mutatedLines(pool), (bytes) => { expectNoProblems(bytes, id); }), { numRuns: 20 });
  });

  test('auto-detection on mutated lines of every preset: parsed with exact accounting or ALF_FORMAT_UNDETECTED (3k lines)', () => {
    const pool = listFormats().flatMap((f) => f.sampleLines.map((s) => Buffer.from(s, 'utf8')));
    fc.assert(fc.property(mutatedLines(pool, 10), (bytes) => { expectNoProblems(bytes, undefined); }), { numRuns: 300 });
  });

  test('damaged gzip through the stream entry: no crash, lines read = parsed + rejected (300 cases)', async () => {
    const gz = gzipSync(Buffer.concat(COMBINED.slice(0, 40).flatMap((l) => [l, Buffer.from('\n')])));
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(gz.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.integer({ min: 1, max: gz.length }), fc.uint8Array({ maxLength: 40 }),
      async (flips, cut, tail) => {
        const bytes = Buffer.concat([Buffer.from(gz).subarray(0, cut), tail]);
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        const handle = parseStream((async function* () { yield bytes; })(), { format: 'combined' });
        let records = 0;
        let rejects = 0;
        const lines = new Set<number>();
        try {
          for await (const chunk of handle.chunks) {
            records += chunk.records.length;
            rejects += chunk.rejects.length;
            for (let i = 0; i < chunk.records.length; i++) lines.add(chunk.records.line[i]!);
            for (const r of chunk.rejects) lines.add(r.line);
          }
        } catch (error) {
          if (!isAlfError(error)) throw error;
          return;
        }
        const { accounting: a, decode } = handle.result();
        expect(a.parsed + a.rejected).toBe(a.linesRead);
        expect(REJECT_REASONS.reduce((s, r) => s + a.byReason[r], 0)).toBe(a.rejected);
        expect(records).toBe(a.parsed);
        if (!decode.flags.includes('encoding')) {
          expect(rejects).toBe(a.rejected);
          expect(lines.size).toBe(a.linesRead);
        }
      }), { numRuns: 300 });
  });
});

describe('the oracle itself', () => {
  test('counts lines the way the framer does (BOM, CRLF, unterminated last line)', () => {
    expect(lineStarts(Buffer.from('\xef\xbb\xbfa\r\nb\n\nc', 'latin1'))).toEqual([3, 6, 8, 9]);
    expect(lineStarts(Buffer.alloc(0))).toEqual([]);
  });

  test('finds nothing wrong in a well-accounted line and reports an exception as a problem', () => {
    // A parse of a combined line with a NUL in the middle still accounts for the line: no problems.
    expect(parseProblems(Buffer.from('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "\0"\n'), { format: 'combined' })).toEqual([]);
    // A format the parser does not know is a thrown AlfError the oracle reports.
    expect(parseProblems(Buffer.from('x\n'), { format: 'no-such-format' })[0]).toMatch(/^threw /);
  });
});
