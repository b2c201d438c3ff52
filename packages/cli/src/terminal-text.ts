/**
 * Attacker-written text made safe for a terminal: capped first, then control,
 * bidi and invisible characters shown as visible escapes (report's escaper).
 * Used for every field or file name printed on stderr.
 */
import { capLength, escapeTerminal } from '@alf/report';

export function terminalSafe(text: string, maxChars = 200): string {
  return escapeTerminal(capLength(text, maxChars));
}
