/**
 * Loader for testdata/hostile/payloads.txt (see README.md beside it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface HostilePayload {
  /** From the last `;; [category]` line above it. */
  readonly category: string;
  /** 1-based line number in payloads.txt. */
  readonly line: number;
  /** The decoded payload. */
  readonly text: string;
}

export const PAYLOADS_PATH: string = fileURLToPath(new URL('./payloads.txt', import.meta.url));

/**
 * Decodes `\xNN`, `\uNNNN`, `\u{N…}` and `\\`; throws on any other backslash
 * sequence so a typo cannot silently become a different payload. `\uD800`
 * style escapes may produce lone surrogates on purpose.
 */
export function decodeEscapes(s: string): string {
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|(\\)|(.|$))/g, (m, x, ub, u, bs, bad) => {
    if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
    if (ub !== undefined) return String.fromCodePoint(parseInt(ub, 16));
    if (u !== undefined) return String.fromCharCode(parseInt(u, 16));
    if (bs !== undefined) return '\\';
    throw new Error(`unknown escape ${JSON.stringify(m)} (bad: ${JSON.stringify(bad)}); write a literal backslash as \\\\`);
  });
}

/** Every payload in the file, optionally only those of some categories. */
export function loadPayloads(categories?: readonly string[]): HostilePayload[] {
  const lines = readFileSync(PAYLOADS_PATH, 'utf8').split('\n');
  const out: HostilePayload[] = [];
  let category = 'uncategorised';
  lines.forEach((raw, i) => {
    if (raw.length === 0) return;
    if (raw.startsWith(';;')) {
      const m = /^;;\s*\[([\w-]+)\]\s*$/.exec(raw);
      if (m) category = m[1] as string;
      return;
    }
    if (categories && !categories.includes(category)) return;
    try {
      out.push({ category, line: i + 1, text: decodeEscapes(raw) });
    } catch (e) {
      throw new Error(`${PAYLOADS_PATH}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}
