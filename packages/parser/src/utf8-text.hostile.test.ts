/**
 * decodeUtf8Lenient on hostile bytes: the one-buffer decoder gives exactly the
 * text of a plain reference (valid sequences decoded, every other byte as
 * `\xNN`) for random bytes, and stays correct on a 1 MB field of invalid bytes
 * (its speed is measured by scripts/hostile/run.ts, not here).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeUtf8Lenient } from './utf8-text.ts';

/** Reference: decode one code point at a time with a fatal TextDecoder. */
function reference(b: Uint8Array): string {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let out = '';
  let i = 0;
  while (i < b.length) {
    let done = false;
    for (const n of [1, 2, 3, 4]) {
      if (i + n > b.length) break;
      try {
        const s = strict.decode(b.subarray(i, i + n));
        if (n === 1 && b[i]! >= 0x80) break;
        out += s;
        i += n;
        done = true;
        break;
      } catch {
        // a longer sequence may be valid
      }
    }
    if (!done) {
      out += `\\x${b[i]!.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

describe('decodeUtf8Lenient', () => {
  test('random bytes (biased to UTF-8 lead and continuation bytes) give the reference text', () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x80, max: 0xbf }), fc.integer({ min: 0xc0, max: 0xf7 }));
    fc.assert(fc.property(fc.array(byte, { maxLength: 64 }), fc.nat(8), (arr, pad) => {
      const b = new Uint8Array([...Array.from({ length: pad }, () => 0x41), ...arr]);
      expect(decodeUtf8Lenient(b, pad, b.length)).toBe(reference(b.subarray(pad)));
    }), { numRuns: 5000 });
  });

  test('overlong forms, surrogates and code points above U+10FFFF are escaped byte by byte', () => {
    const b = Buffer.from('c0afeda080f4908080e282ac', 'hex');
    expect(decodeUtf8Lenient(b, 0, b.length)).toBe('\\xC0\\xAF\\xED\\xA0\\x80\\xF4\\x90\\x80\\x80€');
  });

  test('a 1 MB field of invalid bytes becomes 4 MB of `\\xNN` text', () => {
    const b = Buffer.alloc(1 << 20, 0xff);
    const s = decodeUtf8Lenient(b, 0, b.length);
    expect(s.length).toBe(4 << 20);
    expect(s.slice(0, 8)).toBe('\\xFF\\xFF');
  });
});
