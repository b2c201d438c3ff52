/**
 * Odd lines that real access logs contain: TLS handshakes on a plain port,
 * nginx `\x22` escapes, raw and invalid UTF-8, truncated and empty lines, CRLF,
 * host names as clients. Some parse, some are rejects; the labels list them all.
 */
import type { Prng } from './prng.ts';

export const ODD_KINDS = [
  'tls_handshake', 'empty_request', 'escaped_quote_uri', 'long_uri', 'raw_utf8_path', 'invalid_utf8',
  'truncated', 'empty_line', 'hostname_client', 'odd_user', 'connect_method', 'crlf',
] as const;

export type OddKind = (typeof ODD_KINDS)[number];

/**
 * An odd line (ending in '\n'), derived from a normal `line` where that helps.
 * `stamp` is the local time text of the line's second.
 */
export function oddLine(rng: Prng, kind: OddKind, line: string, stamp: string): string {
  const ip = line.slice(0, line.indexOf(' '));
  switch (kind) {
    case 'tls_handshake':
      return `${ip} - - [${stamp}] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03\\xA7\\x1B" 400 157 "-" "-"\n`;
    case 'empty_request':
      return rng.int(2) === 0 ? `${ip} - - [${stamp}] "-" 408 0 "-" "-"\n` : `${ip} - - [${stamp}] "" 400 0 "-" "-"\n`;
    case 'escaped_quote_uri':
      return `${ip} - - [${stamp}] "GET /search?q=\\x22%3E%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1" 200 17231 "-" "Mozilla/5.0 \\"sqlmap/1.7\\""\n`;
    case 'long_uri':
      return `${ip} - - [${stamp}] "GET /search?q=${'A'.repeat(2000 + rng.int(6000))} HTTP/1.1" 414 0 "-" "python-requests/2.31.0"\n`;
    case 'raw_utf8_path':
      return `${ip} - - [${stamp}] "GET /blog/2024/caf\xc3\xa9-culture HTTP/2.0" 200 22190 "https://www.google.com/" "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"\n`;
    case 'invalid_utf8':
      return `${ip} - - [${stamp}] "GET /products/\xc3\x28\xff HTTP/1.1" 404 312 "-" "Mozilla/5.0 \xfe\xfe\x80"\n`;
    case 'truncated':
      // A writer killed mid-line (log rotation, full disk).
      return `${line.slice(0, Math.max(8, Math.floor(line.length * (0.2 + 0.6 * rng.float()))))}\n`;
    case 'empty_line':
      return '\n';
    case 'hostname_client':
      return `crawl-66-249-66-${1 + rng.int(250)}.googlebot.com${line.slice(line.indexOf(' '))}`;
    case 'odd_user':
      return `${ip} - [bob "the admin"] [${stamp}] "GET /admin/ HTTP/1.1" 401 381 "-" "curl/7.88.1"\n`;
    case 'connect_method':
      return `${ip} - - [${stamp}] "CONNECT www.google.com:443 HTTP/1.1" 400 150 "-" "-"\n`;
    case 'crlf':
      return `${line.slice(0, -1)}\r\n`;
  }
}
