/**
 * Attacker-written text made safe for a terminal: control characters (C0, DEL,
 * C1), line/paragraph separators and bidi controls are shown as escapes, and
 * long text is capped. Used for every field or file name printed on stderr.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string, maxChars = 200): string {
  const capped = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return capped.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
