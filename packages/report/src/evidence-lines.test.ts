import { describe, expect, test } from 'vitest';
import { escapeLogBytes, evidenceHeader, evidenceLine } from './evidence-lines.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Reverses the escaping: `\xNN` → byte, `\\` → `\`. */
function unescape(text: string): Buffer {
  const out: number[] = [];
  const b = Buffer.from(text, 'utf8');
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && b[i + 1] === 0x5c) { out.push(0x5c); i++; continue; }
    if (b[i] === 0x5c && b[i + 1] === 0x78) { out.push(parseInt(b.subarray(i + 2, i + 4).toString(), 16)); i += 3; continue; }
    out.push(b[i]!);
  }
  return Buffer.from(out);
}

describe('evidence line escaping', () => {
  test.for([
    ['plain ASCII', bytes('GET /index.html HTTP/1.1'), 'GET /index.html HTTP/1.1'],
    ['ESC sequences (CSI, OSC title)', bytes('a', [0x1b], '[31mred', [0x1b], ']0;pwned', [0x07]), 'a\\x1B[31mred\\x1B]0;pwned\\x07'],
    ['tab, CR, DEL, NUL', bytes('a\tb\r', [0x7f, 0]), 'a\\x09b\\x0D\\x7F\\x00'],
    ['backslash doubled', bytes('C:\\x41'), 'C:\\\\x41'],
    ['bidi override and isolate', bytes('user\u202Egnp.exe\u2066'), 'user\\xE2\\x80\\xAEgnp.exe\\xE2\\x81\\xA6'],
    ['8-bit CSI as UTF-8 C1 and as a raw byte', bytes('\u009b2J', [0x9b]), '\\xC2\\x9B2J\\x9B'],
    ['invalid UTF-8: lone continuation, truncated, overlong, surrogate', bytes([0x80, 0xe2, 0x82, 0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80]), '\\x80\\xE2\\x82A\\xC0\\xAF\\xED\\xA0\\x80'],
    ['valid UTF-8 kept', bytes('/café/東京/😀'), '/café/東京/😀'],
    ['zero-width and BOM escaped', bytes('a\u200Bb\uFEFF'), 'a\\xE2\\x80\\x8Bb\\xEF\\xBB\\xBF'],
  ] as const)('%s', ([, input, shown]) => {
    const out = escapeLogBytes(input);
    expect(out).toBe(shown);
    expect(unescape(out).equals(Buffer.from(input))).toBe(true);
    // Nothing a terminal acts on is left.
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/);
  });

  test('a line is cited and capped', () => {
    const line = evidenceLine({ input: 'access.log (sha256:0123)', line: 7, byteOffset: 1234 }, bytes('x'.repeat(10)), 4);
    expect(line).toBe('access.log (sha256:0123):7@1234: xxxx … [6 more bytes]');
  });

  test('an input name is escaped too', () => {
    expect(evidenceLine({ input: 'a\nb', line: 1, byteOffset: 0 }, bytes('z'))).toBe('a\\x0Ab:1@0: z');
  });

  test('the header says what the sample is and that offsets are of the decompressed input', () => {
    const h = evidenceHeader({ burstId: 3, verdict: 'attack', startMs: 0, endMs: 59_000, records: 100, shown: 40, sample: ['the first 20 lines'] });
    expect(h).toContain('burst 3 (attack), 1970-01-01T00:00:00Z – 1970-01-01T00:00:59Z');
    expect(h).toContain('DECOMPRESSED');
    expect(h).toContain('the first 20 lines');
    expect(h.split('\n').filter((l) => l !== '').every((l) => l.startsWith('#'))).toBe(true);
  });
});
