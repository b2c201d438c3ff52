/**
 * `evidence/burst-<id>.log`: original log lines of a burst, byte for byte as
 * they stand in the (decompressed) input, escaped for display and each cited
 * by input, line number and byte offset.
 *
 * The escaping is reversible and leaves nothing a terminal or an editor would
 * act on: `\` is written `\\`; C0 controls (tab, CR, ESC …), DEL, bytes that
 * are not part of valid UTF-8, and valid UTF-8 sequences encoding C1 controls,
 * bidi controls, zero-width and other invisible format characters, line and
 * paragraph separators or noncharacters are written byte by byte as `\xNN`
 * (uppercase hex). Every other valid UTF-8 sequence is kept as text. Undo it
 * by replacing `\xNN` with byte NN and `\\` with `\`.
 */

/** Longest part of a line shown (bytes of the original line); the rest is counted, not shown. */
export const EVIDENCE_LINE_MAX_BYTES = 4096;

const HEX = '0123456789ABCDEF';
const hexByte = (b: number): string => `\\x${HEX[b >> 4]}${HEX[b & 15]}`;

/** Code points shown as escapes even though they are valid UTF-8 (invisible or reordering). */
function hidden(cp: number): boolean {
  return (cp >= 0x80 && cp <= 0x9f) // C1 controls (8-bit CSI, OSC …)
    || cp === 0xad // soft hyphen
    || cp === 0x61c // Arabic letter mark
    || (cp >= 0x200b && cp <= 0x200f) // zero-width, LRM, RLM
    || (cp >= 0x2028 && cp <= 0x202e) // line/paragraph separators, bidi embeddings and overrides
    || (cp >= 0x2060 && cp <= 0x206f) // word joiner, bidi isolates, deprecated format controls
    || cp === 0xfeff // BOM / zero-width no-break space
    || (cp >= 0xfff9 && cp <= 0xfffb) // interlinear annotation
    || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe // noncharacters
    || (cp >= 0xe0000 && cp <= 0xe007f); // tag characters
}

/**
 * Length of the valid UTF-8 sequence starting at `i` (2..4), or 0 when the
 * bytes there are not one (overlong forms, surrogates and values past U+10FFFF
 * are invalid).
 */
function utf8Length(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  const cont = (k: number): boolean => i + k < end && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // > U+10FFFF
    return 4;
  }
  return 0;
}

function codePoint(b: Uint8Array, i: number, n: number): number {
  const c = b[i]!;
  if (n === 2) return ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f);
  if (n === 3) return ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f);
  return ((c & 0x07) << 18) | ((b[i + 1]! & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
}

/** The bytes `[start, end)` escaped for display (see the module comment). */
export function escapeLogBytes(bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  let out = '';
  let run = start; // start of a run of plain ASCII copied at once
  const flush = (to: number): void => {
    if (to > run) out += String.fromCharCode(...bytes.subarray(run, to));
  };
  let i = start;
  while (i < end) {
    const c = bytes[i]!;
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) {
      i++;
      if (i - run >= 4096) { flush(i); run = i; }
      continue;
    }
    flush(i);
    if (c === 0x5c) {
      out += '\\\\';
      i++;
    } else if (c < 0x80) {
      out += hexByte(c);
      i++;
    } else {
      const n = utf8Length(bytes, i, end);
      if (n === 0) {
        out += hexByte(c);
        i++;
      } else {
        const cp = codePoint(bytes, i, n);
        if (hidden(cp)) for (let k = 0; k < n; k++) out += hexByte(bytes[i + k]!);
        else out += String.fromCodePoint(cp);
        i += n;
      }
    }
    run = i;
  }
  flush(end);
  return out;
}

/** A string (an input name, a header value) escaped the same way, via its UTF-8 bytes. */
export function escapeLogText(text: string): string {
  return escapeLogBytes(Buffer.from(text, 'utf8'));
}

/** Where a line stands: input name as in the pack, 1-based line number, byte offset in the decompressed input. */
export interface LineCitation {
  readonly input: string;
  readonly line: number;
  readonly byteOffset: number;
}

/**
 * One evidence line: `<input>:<line>@<byte_offset>: <escaped bytes>`. `bytes`
 * is the line without its '\n' (a '\r' before it is kept, shown `\x0D`);
 * lines longer than `maxBytes` are cut and end with ` … [N more bytes]` (`totalBytes`: the
 * line's full length when `bytes` holds only its start).
 */
export function evidenceLine(c: LineCitation, bytes: Uint8Array, maxBytes: number = EVIDENCE_LINE_MAX_BYTES, totalBytes: number = bytes.length): string {
  const shown = Math.min(bytes.length, maxBytes);
  const more = Math.max(totalBytes, bytes.length) - shown;
  return `${escapeLogText(c.input)}:${c.line}@${c.byteOffset}: ${escapeLogBytes(bytes, 0, shown)}${more > 0 ? ` … [${more} more bytes]` : ''}`;
}

/** What `evidenceHeader` states about the file. */
export interface EvidenceHeaderInfo {
  readonly burstId: number;
  readonly verdict: string;
  /** Burst interval (UTC epoch ms; end = start of its last second). */
  readonly startMs: number;
  readonly endMs: number;
  /** Records of the burst (rows with this burst_id in records.arrow). */
  readonly records: number;
  /** Distinct lines shown. */
  readonly shown: number;
  /** How the sample was drawn, in words (one line each). */
  readonly sample: readonly string[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The comment header (lines starting with `# `) that opens an evidence file. */
export function evidenceHeader(h: EvidenceHeaderInfo): string {
  return [
    `# alf evidence lines: burst ${h.burstId} (${escapeLogText(h.verdict)}), ${iso(h.startMs)} – ${iso(h.endMs)} UTC (that last second included)`,
    `# A sample of the original log lines of this burst: ${h.shown} distinct line${h.shown === 1 ? '' : 's'} of ${h.records} record${h.records === 1 ? '' : 's'}.`,
    ...h.sample.map((s) => `#   - ${s}`),
    '# Each line is <input>:<line>@<byte offset>: <line>. <input> is the name of the input in this pack (manifest.json maps it',
    '# to its path and SHA-256); <line> is 1-based; <byte offset> is the offset of the line\'s first byte in the DECOMPRESSED',
    '# input (after gzip), i.e. in `zcat FILE` for a .gz file: `tail -c +$((OFFSET+1)) FILE | head -n 1` shows the line.',
    '# The line\'s bytes follow unchanged, except that they are escaped for display: a backslash is written \\\\; control',
    '# characters (tab, CR, ESC, …), DEL, bytes that are not valid UTF-8, and invisible or reordering characters (C1 controls,',
    '# bidi overrides and isolates, zero-width characters, line/paragraph separators) are written byte by byte as \\xNN.',
    `# Lines longer than ${EVIDENCE_LINE_MAX_BYTES} bytes are cut and end with " … [N more bytes]". A line can appear in more than one section.`,
    '',
  ].join('\n');
}
