/**
 * Cutting one plain input file into byte ranges for parallel parsing: each
 * range starts right after a '\n' (so a CRLF, a long line over the cap or a
 * last line without newline always stays whole in one range), and never where
 * the parser would read the first bytes differently from the middle of a file
 * (gzip magic, a byte-order mark, NUL bytes that look like UTF-16). A range
 * parsed on its own then gives the same records and rejects as the same lines
 * inside the whole input, with line numbers and byte offsets shifted by what
 * the ranges before it hold.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** A byte range [start, end) of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Bytes read at a time while looking for a cut. */
const SCAN_BYTES = 64 * 1024;
/** Bytes after a cut that must hold no NUL (decode-input sniffs the first KB for UTF-16). */
const SNIFF_BYTES = 1024;

/** True when parsing could start at `bytes[at]` exactly as it continues there inside the file. */
function safeStart(bytes: Uint8Array, at: number): boolean {
  const b0 = bytes[at];
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  if (b0 === 0x1f && b1 === 0x8b) return false; // gzip magic
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return false; // UTF-8 BOM (skipped at a stream start)
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return false; // UTF-16 BOM
  const stop = Math.min(bytes.length, at + SNIFF_BYTES);
  for (let i = at; i < stop; i++) if (bytes[i] === 0) return false;
  return true;
}

/** True when the start of a whole file can be cut into ranges (plain text, not gzip, not UTF-16). */
export function plainHead(head: Uint8Array): boolean {
  return head.length === 0 || safeStart(head, 0);
}

/**
 * Where the cuts of `n` ranges aim (n - 1 byte positions). Even, or with `taper` > 0 and enough
 * ranges (n >= 4 × taper) tapered: the last `taper` ranges a quarter and the `taper` before them
 * half the size of the others. Threads take the next range when done, so a pass ends within
 * about one range's work on every thread: with the last ranges small, a thread that also does
 * other work (the main thread hashes every input) no longer leaves the others idle for most of a
 * full range at the end (5M-line bench: a worker idle ~0.5 s of pass 1's ~5.5 s with 8 even ranges).
 */
export function rangeAims(sizeBytes: number, n: number, taper = 0): number[] {
  const weights = new Array<number>(n).fill(4);
  if (taper > 0 && n >= 4 * taper) for (let i = 0; i < 2 * taper; i++) weights[n - 1 - i] = i < taper ? 1 : 2;
  const total = weights.reduce((a, b) => a + b, 0);
  const aims: number[] = [];
  let sum = 0;
  for (let k = 0; k < n - 1; k++) {
    sum += weights[k]!;
    aims.push(Math.floor((sizeBytes * sum) / total));
  }
  return aims;
}

/**
 * The first safe cut (a position right after a '\n', see safeStart) at or after `aim` and before
 * `limit`, reading `fh` only below `end`; -1 when there is none. `final`: `end` is the end of the
 * file. Otherwise (a file still being written, `end` the bytes known to be written) a cut needs
 * the whole sniff window after it below `end`.
 */
export async function findCut(fh: FileHandle, aim: number, limit: number, end: number, final: boolean): Promise<number> {
  const buf = new Uint8Array(SCAN_BYTES + SNIFF_BYTES + 3);
  let pos = Math.max(1, aim) - 1;
  while (pos < limit && pos < end) {
    const want = Math.min(buf.length, end - pos);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) return -1;
    const view = buf.subarray(0, bytesRead);
    // A full read leaves the sniff window after every newline scanned; a short one ends the file
    // (or, while it is written, ends what may be scanned: the sniff window must still fit).
    const atEnd = bytesRead < buf.length;
    const scanEnd = !atEnd ? SCAN_BYTES : final ? bytesRead : bytesRead - (SNIFF_BYTES + 3);
    for (let i = view.indexOf(10); i >= 0 && i < scanEnd; i = view.indexOf(10, i + 1)) {
      const at = pos + i + 1;
      if (at >= limit || at >= end) return -1;
      if (safeStart(view, i + 1)) return at;
    }
    if (atEnd || scanEnd <= 0) return -1;
    pos += scanEnd;
  }
  return -1;
}

/**
 * Cuts `path` (of `sizeBytes`) into at most `parts` ranges of at least
 * `minBytes` each, cut after newlines (see the module comment), the last ones
 * smaller with `taper` (see rangeAims). One range when the file is small or
 * no safe cut is found.
 */
export async function cutRanges(path: string, sizeBytes: number, parts: number, minBytes: number, taper = 0): Promise<ByteRange[]> {
  const n = Math.max(1, Math.min(parts, Math.floor(sizeBytes / Math.max(1, minBytes))));
  if (n <= 1) return [{ start: 0, end: sizeBytes }];
  const aims = rangeAims(sizeBytes, n, taper);
  const fh = await open(path, 'r');
  try {
    const cuts: number[] = [];
    for (let k = 1; k < n; k++) {
      const aim = Math.max(aims[k - 1]!, cuts.length > 0 ? cuts[cuts.length - 1]! : 1);
      const limit = k < n - 1 ? aims[k]! : sizeBytes; // not past the next aim
      const cut = await findCut(fh, aim, limit, sizeBytes, true);
      if (cut > 0 && cut < sizeBytes) cuts.push(cut);
    }
    const ranges: ByteRange[] = [];
    let start = 0;
    for (const c of cuts) {
      if (c <= start) continue;
      ranges.push({ start, end: c });
      start = c;
    }
    ranges.push({ start, end: sizeBytes });
    return ranges;
  } finally {
    await fh.close();
  }
}
