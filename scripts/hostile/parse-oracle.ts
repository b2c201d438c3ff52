/**
 * The fuzzing oracle: parse bytes with the sync entry (`parseLines`) and check
 * what must hold for any input, without knowing what the input means:
 * no exception but an AlfError of a known kind; lines read = the newline
 * count (a final unterminated line counts, a leading UTF-8 BOM does not) =
 * parsed + rejected = records + rejects; rejects by reason sum up; every line
 * number is exactly one record or one reject, at the byte offset where that
 * line starts; a record of a text format has a non-empty client and a status
 * 100..599 (JSON lines may lack any key, the client included: null there). Used by the fuzz tests, `scripts/fuzz.ts` and the replay
 * of testdata/hostile/regressions.
 */
import { REJECT_REASONS, isAlfError, parseLines } from '@alf/parser';
import type { ParseOptions } from '@alf/parser';

/** Line starts of `bytes` as alf frames them (after a leading BOM). */
export function lineStarts(bytes: Uint8Array): number[] {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const starts: number[] = [];
  while (at < bytes.length) {
    starts.push(at);
    const nl = bytes.indexOf(0x0a, at);
    if (nl === -1) break;
    at = nl + 1;
  }
  return starts;
}

/** Problems found parsing `bytes` (empty when every property holds). An uncaught non-Alf exception is a problem, not a throw. */
export function parseProblems(bytes: Uint8Array, opts: ParseOptions): string[] {
  let result;
  try {
    result = parseLines(bytes, opts);
  } catch (error) {
    // Only "no format fits" is an expected error, and only when detecting.
    if (isAlfError(error) && error.code === 'ALF_FORMAT_UNDETECTED' && opts.format === undefined) return [];
    return [`threw ${(error as Error)?.stack ?? String(error)}`];
  }
  const problems: string[] = [];
  const a = result.accounting;
  const starts = lineStarts(bytes);
  if (a.linesRead !== starts.length) problems.push(`linesRead ${a.linesRead}, but the bytes hold ${starts.length} lines`);
  if (a.parsed + a.rejected !== a.linesRead) problems.push(`parsed ${a.parsed} + rejected ${a.rejected} != linesRead ${a.linesRead}`);
  const byReason = REJECT_REASONS.reduce((s, r) => s + (a.byReason[r] ?? 0), 0);
  if (byReason !== a.rejected) problems.push(`rejects by reason sum to ${byReason}, rejected is ${a.rejected}`);
  const seen = new Map<number, string>();
  let records = 0;
  let rejects = 0;
  const mark = (line: number, offset: number, what: string): void => {
    if (seen.has(line)) problems.push(`line ${line} is both ${seen.get(line)} and ${what}`);
    seen.set(line, what);
    if (starts[line - 1] !== offset) problems.push(`${what} of line ${line} at byte ${offset}, the line starts at ${starts[line - 1]}`);
  };
  const text = result.format.id !== 'json' && result.format.id !== 'none';
  for (const chunk of result.chunks) {
    const b = chunk.records;
    records += b.length;
    for (let i = 0; i < b.length; i++) {
      mark(b.line[i]!, b.byteOffset[i]!, 'record');
      const ipId = b.ip.ids[i]!;
      if (text && (ipId < 0 || (b.ip.values[ipId] ?? '') === '')) problems.push(`record of line ${b.line[i]} has no client`);
      if (text && b.status[i] !== 0 && (b.status[i]! < 100 || b.status[i]! > 599)) problems.push(`record of line ${b.line[i]} has status ${b.status[i]}`);
    }
    for (const r of chunk.rejects) {
      rejects++;
      mark(r.line, r.byteOffset, `reject ${r.reason}`);
      if (!REJECT_REASONS.includes(r.reason)) problems.push(`unknown reason ${r.reason}`);
    }
  }
  if (records !== a.parsed) problems.push(`${records} records, accounting says ${a.parsed} parsed`);
  if (rejects !== a.rejected) problems.push(`${rejects} rejects listed, accounting says ${a.rejected}`);
  for (let line = 1; line <= starts.length; line++) if (!seen.has(line)) problems.push(`line ${line} vanished`);
  return problems.slice(0, 10);
}

/** Bytes an attacker likes to put in a log line: quotes, escapes, brackets, separators, NUL, CR, invalid UTF-8, digits. */
export const HOSTILE_BYTES: readonly number[] = [
  0x22, 0x5c, 0x20, 0x5b, 0x5d, 0x2d, 0x0a, 0x0d, 0x09, 0x00, 0xff, 0xc3, 0xe2, 0x80, 0xa8, 0x3a, 0x2f, 0x2e, 0x2b,
  0x30, 0x31, 0x35, 0x39, 0x78, 0x7b, 0x7d, 0x2c, 0x25,
];

/** One mutation of `line`, driven by `next()` in [0, 1). */
export function mutate(line: Uint8Array, other: Uint8Array, next: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(next() * n);
  const at = pick(line.length + 1);
  const buf = Buffer.from(line);
  switch (pick(8)) {
    case 0: { // flip a byte
      if (buf.length === 0) return buf;
      const c = Buffer.from(buf);
      c[Math.min(at, c.length - 1)] = pick(256);
      return c;
    }
    case 1: // insert a hostile byte
      return Buffer.concat([buf.subarray(0, at), Buffer.from([HOSTILE_BYTES[pick(HOSTILE_BYTES.length)]!]), buf.subarray(at)]);
    case 2: { // delete a range
      const end = Math.min(buf.length, at + 1 + pick(16));
      return Buffer.concat([buf.subarray(0, at), buf.subarray(end)]);
    }
    case 3: { // duplicate a range
      const end = Math.min(buf.length, at + 1 + pick(32));
      return Buffer.concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
    }
    case 4: // splice with another line
      return Buffer.concat([buf.subarray(0, at), Buffer.from(other).subarray(pick(other.length + 1))]);
    case 5: // truncate
      return buf.subarray(0, at);
    case 6: { // repeat a byte many times (long runs of quotes, spaces, digits)
      const b = buf.length > 0 ? buf[Math.min(at, buf.length - 1)]! : 0x22;
      return Buffer.concat([buf.subarray(0, at), Buffer.alloc(1 + pick(300), b), buf.subarray(at)]);
    }
    default: { // replace a digit run with an extreme number
      const extremes = ['9007199254740993', '-1', '0', '99999999999999999999999', '1e400', 'NaN', '00000000000000000001'];
      const text = buf.toString('latin1');
      const m = [...text.matchAll(/\d+/g)];
      if (m.length === 0) return buf;
      const hit = m[pick(m.length)]!;
      return Buffer.from(text.slice(0, hit.index) + extremes[pick(extremes.length)]! + text.slice(hit.index + hit[0].length), 'latin1');
    }
  }
}
