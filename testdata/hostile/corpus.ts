/**
 * Generator of the hostile input corpus (issue 8): one small file per case of
 * framing, grammar and compression trouble, built in memory from hand-written
 * lines (nothing captured from real traffic). Tests write the files to a temp
 * directory and run the real CLI on them; `scripts/hostile/run.ts` builds the
 * heavy variants (1 GiB line, 100M empty lines, 10 GB bomb) with `scale`.
 *
 * Every case states what an independent reader of the bytes knows: how many
 * lines the decoded content has (when that is well defined), the input flags
 * alf must raise, and reject reasons that must appear (at least that many).
 */
import { gzipSync } from 'node:zlib';

export interface HostileCase {
  /** File name, unique; the extension is sometimes a lie on purpose. */
  readonly name: string;
  readonly group: 'framing' | 'grammar' | 'compression' | 'clean';
  /** The file as stored. */
  readonly bytes: Buffer;
  /** Lines of the decoded content, counted without alf; undefined when not well defined (damaged gzip, UTF-16). */
  readonly lines: number | undefined;
  /** Input flags alf must raise (exactly these). */
  readonly flags: readonly string[];
  /** Reject reasons that must be counted, at least this many each. */
  readonly reasons: Readonly<Record<string, number>>;
  /** Records that must be parsed, at least. */
  readonly parsedAtLeast: number;
}

/** One `combined` line; every field may be overridden with raw text. */
export function combinedLine(f: {
  ip?: string; user?: string; time?: string; request?: string; status?: string; bytes?: string; referer?: string; ua?: string;
} = {}): string {
  return `${f.ip ?? '203.0.113.7'} - ${f.user ?? '-'} [${f.time ?? '10/Oct/2020:13:55:36 +0000'}] "${f.request ?? 'GET /index.html HTTP/1.1'}" ${f.status ?? '200'} ${f.bytes ?? '512'} "${f.referer ?? '-'}" "${f.ua ?? 'Mozilla/5.0'}"`;
}

/** Lines of decoded text the way alf frames them: `\n` ends a line, a final unterminated line counts, a leading UTF-8 BOM is skipped. */
export function countLines(text: Buffer): number {
  let start = 0;
  if (text.length >= 3 && text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) start = 3;
  let n = 0;
  let at = start;
  for (;;) {
    const nl = text.indexOf(0x0a, at);
    if (nl === -1) break;
    n++;
    at = nl + 1;
  }
  return n + (at < text.length ? 1 : 0);
}

const good = (n: number, seed = 0): string[] => Array.from({ length: n }, (_, i) =>
  combinedLine({ ip: `198.51.100.${(i + seed) % 250 + 1}`, time: `10/Oct/2020:13:${String(10 + (i % 50)).padStart(2, '0')}:36 +0000`, request: `GET /page/${i} HTTP/1.1` }));

const text = (lines: readonly string[], eol = '\n'): Buffer => Buffer.from(lines.map((l) => l + eol).join(''), 'latin1');
const utf8 = (lines: readonly string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

function plain(name: string, group: HostileCase['group'], bytes: Buffer, reasons: Record<string, number> = {}, parsedAtLeast = 0, flags: string[] = []): HostileCase {
  return { name, group, bytes, lines: countLines(bytes), flags, reasons, parsedAtLeast };
}

function gz(name: string, group: HostileCase['group'], content: Buffer, reasons: Record<string, number> = {}, parsedAtLeast = 0): HostileCase {
  return { name, group, bytes: gzipSync(content), lines: countLines(content), flags: [], reasons, parsedAtLeast };
}

export interface CorpusScale {
  /** Length of the over-long line inside gzip (CI 10 MB; the script 1 GiB). */
  readonly longLineBytes: number;
  /** Empty lines in the small gzip (CI 200k; the script 100M). */
  readonly emptyLines: number;
}

export const CI_SCALE: CorpusScale = { longLineBytes: 10 * 1000 * 1000, emptyLines: 200_000 };

/** Gzip of `head + a line of n bytes + tail`, streamed through deflate so a 1 GiB line never sits in memory. */
export function gzipWithLongLine(head: string, n: number, tail: string, fill = 0x41): Buffer {
  // deflateSync of a repeated byte compresses ~1000:1; build it from one gzip member per piece
  // (multi-member gzip is one stream to alf) so no piece is larger than 64 MiB.
  const piece = 64 * 1024 * 1024;
  const parts: Buffer[] = [gzipSync(Buffer.from(head, 'latin1'))];
  const block = gzipSync(Buffer.alloc(Math.min(piece, n), fill), { level: 9 });
  let left = n;
  while (left >= piece) { parts.push(block); left -= piece; }
  if (left > 0) parts.push(gzipSync(Buffer.alloc(left, fill), { level: 9 }));
  parts.push(gzipSync(Buffer.from(tail, 'latin1')));
  return Buffer.concat(parts);
}

/** Gzip of `n` newlines, built from repeated members so 100M lines cost one 64 MiB buffer at most. */
export function gzipEmptyLines(n: number): Buffer {
  const piece = 16 * 1024 * 1024;
  const parts: Buffer[] = [];
  const block = gzipSync(Buffer.alloc(Math.min(piece, n), 0x0a), { level: 9 });
  let left = n;
  while (left >= piece) { parts.push(block); left -= piece; }
  if (left > 0) parts.push(gzipSync(Buffer.alloc(left, 0x0a), { level: 9 }));
  return Buffer.concat(parts);
}

function utf16(lines: readonly string[], le: boolean, bom: boolean): Buffer {
  const s = lines.map((l) => `${l}\n`).join('');
  const b = Buffer.from(s, 'utf16le');
  if (!le) b.swap16();
  const mark = bom ? Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]) : Buffer.alloc(0);
  return Buffer.concat([mark, b]);
}

function framing(scale: CorpusScale): HostileCase[] {
  const g = good(20);
  const head = `${g.slice(0, 3).join('\n')}\n`;
  const tail = `\n${g.slice(3, 6).join('\n')}\n`;
  return [
    plain('crlf.log', 'framing', text(g, '\r\n'), {}, 20),
    plain('lone-cr.log', 'framing', text([
      ...g.slice(0, 5),
      combinedLine({ ua: 'lone\rCR inside' }),
      combinedLine({ request: 'GET /a\rb HTTP/1.1' }),
      `${g[5]!}\r${g[6]!}`, // a lone CR is no line break: one line, one verdict
    ]), {}, 7),
    plain('invalid-utf8.log', 'framing', Buffer.concat([text(g.slice(0, 3)), Buffer.from(combinedLine({ request: 'GET /\xff\xfe\xc3\x28\xed\xa0\x80 HTTP/1.1', ua: '\xc0\xaf\xf8\x88\x80\x80\x80' }) + '\n', 'latin1')]), {}, 4),
    plain('nul.log', 'framing', text([...g.slice(0, 3), combinedLine({ ua: 'a\x00b', request: 'GET /\x00 HTTP/1.1' }), '\x00\x00\x00']), {}, 4),
    plain('bom.log', 'framing', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(g.slice(0, 5))]), {}, 5),
    { name: 'utf16le.log', group: 'framing', bytes: utf16(g.slice(0, 5), true, true), lines: undefined, flags: ['encoding'], reasons: { encoding: 1 }, parsedAtLeast: 0 },
    { name: 'utf16be.log', group: 'framing', bytes: utf16(g.slice(0, 5), false, true), lines: undefined, flags: ['encoding'], reasons: { encoding: 1 }, parsedAtLeast: 0 },
    { name: 'utf16le-nobom.log', group: 'framing', bytes: utf16(g.slice(0, 5), true, false), lines: undefined, flags: ['encoding'], reasons: { encoding: 1 }, parsedAtLeast: 0 },
    plain('unicode-separators.log', 'framing', utf8([
      combinedLine({ request: 'GET /a\u2028b HTTP/1.1' }),
      combinedLine({ ua: 'x\u2029y\u0085z' }),
      combinedLine({ referer: 'http://e.example/\u202Egnp.exe' }),
      combinedLine({ user: 'u\u2028\u202e' }),
    ]), {}, 4),
    { ...gz('long-line.log.gz', 'framing', Buffer.alloc(0)), bytes: gzipWithLongLine(head, scale.longLineBytes, tail), lines: 3 + 1 + 3, reasons: { line_too_long: 1 }, parsedAtLeast: 6 },
    { ...gz('empty-lines.log.gz', 'framing', Buffer.alloc(0)), bytes: gzipEmptyLines(scale.emptyLines), lines: scale.emptyLines, reasons: { empty: scale.emptyLines }, parsedAtLeast: 0 },
  ];
}

function grammar(): HostileCase[] {
  const ok = good(3, 7);
  return [
    plain('tls-binary.log', 'grammar', Buffer.concat([text([
      ...ok,
      // nginx writes the bytes of a TLS ClientHello sent to a plain-HTTP port as \xNN text
      '192.0.2.10 - - [10/Oct/2020:13:55:36 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03" 400 150 "-" "-"',
      '192.0.2.11 - - [10/Oct/2020:13:55:37 +0000] "\\x16\\x03\\x01" 400 150 "-" "-"',
      '192.0.2.12 - - [10/Oct/2020:13:55:37 +0000] "-" 400 0 "-" "-"',
      '192.0.2.13 - - [10/Oct/2020:13:55:37 +0000] "" 400 0 "-" "-"',
      '192.0.2.14 - - [10/Oct/2020:13:55:37 +0000] "SSH-2.0-OpenSSH_8.9" 400 157 "-" "-"',
    ]), Buffer.from('192.0.2.15 - - [10/Oct/2020:13:55:38 +0000] "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03\x8a" 400 150 "-" "-"\n\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n', 'latin1')]), {}, 3),
    plain('escaped-quotes.log', 'grammar', text([
      combinedLine({ request: 'GET /a\\"b HTTP/1.1', ua: 'say \\"hi\\"' }),
      combinedLine({ request: 'GET /a\\x22b HTTP/1.1', ua: 'x\\x22y' }),
      combinedLine({ ua: 'trailing backslash \\\\' }),
      combinedLine({ referer: '\\"', ua: '\\' }),
      combinedLine({ request: 'GET /"quoted" HTTP/1.1' }),
    ]), {}, 3),
    // $remote_user / %u is sent by the client (Authorization header) and logged unquoted; nginx writes
    // its `"` as \x22, Apache as \". A forged second request must never become a record of its own.
    plain('forged-user.log', 'grammar', text([
      '203.0.113.7 - - [10/Oct/2020:13:55:36 +0000] \\x22GET /admin HTTP/1.1\\x22 200 1 \\x22-\\x22 \\x22x\\x22 192.0.2.99 - - [10/Oct/2020:13:55:37 +0000] "GET /index.html HTTP/1.1" 404 512 "-" "Mozilla/5.0"',
      '203.0.113.7 - - [10/Oct/2020:13:55:36 +0000] \\"GET /admin HTTP/1.1\\" 200 1 \\"-\\" \\"x\\" 192.0.2.99 - - [10/Oct/2020:13:55:37 +0000] "GET /index.html HTTP/1.1" 404 512 "-" "Mozilla/5.0"',
      combinedLine({ user: 'x[10/Oct/2020:13:55:36', time: '10/Oct/2020:13:55:37 +0000' }),
      // raw quotes: no server writes these, the line is ambiguous; still one line, one verdict, the real client
      combinedLine({ user: '- [10/Oct/2020:13:55:36 +0000] "GET /admin HTTP/1.1" 200 1 "-" "x" 192.0.2.99 - -' }),
      combinedLine({ ua: 'x\\x22 200 1 \\x22-\\x22 \\x22y\\x22\\x0a192.0.2.99 - - [10/Oct/2020:13:55:36 +0000] \\x22GET /forged HTTP/1.1' }),
    ]), { field_count: 2 }, 3),
    plain('bad-ips.log', 'grammar', text([
      ...ok,
      combinedLine({ ip: '010.8.8.8' }),
      combinedLine({ ip: '127.1' }),
      combinedLine({ ip: '1.2.3.4:8080' }),
      combinedLine({ ip: '0x7f.0.0.1' }),
      combinedLine({ ip: '256.1.1.1' }),
      combinedLine({ ip: '1.2.3.4.5' }),
      combinedLine({ ip: 'host.example.com' }),
      combinedLine({ ip: '::ffff:192.0.2.1' }),
      combinedLine({ ip: 'fe80::1%eth0' }),
      combinedLine({ ip: '2001:db8::1' }),
    ]), { bad_ip: 6 }, 3 + 4),
    plain('bad-status.log', 'grammar', text([
      ...ok,
      combinedLine({ status: '999' }),
      combinedLine({ status: '-1' }),
      combinedLine({ status: '20' }),
      combinedLine({ status: '2000' }),
      combinedLine({ status: '0x1F' }),
    ]), { bad_status: 5 }, 3),
    plain('big-bytes.log', 'grammar', text([
      ...ok,
      combinedLine({ bytes: '9007199254740991' }),
      combinedLine({ bytes: '9007199254740993' }),
      combinedLine({ bytes: '18446744073709551616' }),
      combinedLine({ bytes: '1e400' }),
      combinedLine({ bytes: '-5' }),
      combinedLine({ bytes: '-' }),
    ]), { bad_bytes: 4 }, 3 + 2),
    plain('bad-dates.log', 'grammar', text([
      ...ok,
      combinedLine({ time: '31/Feb/2021:10:00:00 +0000' }),
      combinedLine({ time: '10/Oct/2020:25:61:61 +0000' }),
      combinedLine({ time: '10/Oct/2020:13:55:36 +9999' }),
      combinedLine({ time: '10/Foo/2020:13:55:36 +0000' }),
      combinedLine({ time: '00/Oct/2020:13:55:36 +0000' }),
      combinedLine({ time: '10/Oct/-2020:13:55:36 +0000' }),
      combinedLine({ time: '29/Feb/2020:13:55:36 +0000' }), // a real leap day
    ]), { bad_time: 6 }, 3 + 1),
    // The same four instants written by two servers in different zones, across the 2021 EU DST change.
    plain('zone-berlin.log', 'grammar', text([
      combinedLine({ time: '28/Mar/2021:01:59:59 +0100' }),
      combinedLine({ time: '28/Mar/2021:03:00:00 +0200' }),
      combinedLine({ time: '31/Oct/2021:02:30:00 +0200' }),
      combinedLine({ time: '31/Oct/2021:02:30:00 +0100' }),
    ]), {}, 4),
    plain('zone-newyork.log', 'grammar', text([
      combinedLine({ time: '27/Mar/2021:20:59:59 -0400' }),
      combinedLine({ time: '27/Mar/2021:21:00:00 -0400' }),
      combinedLine({ time: '30/Oct/2021:20:30:00 -0400' }),
      combinedLine({ time: '30/Oct/2021:21:30:00 -0400' }),
    ]), {}, 4),
  ];
}

function compression(): HostileCase[] {
  const body = text(good(40, 3));
  const z = gzipSync(body);
  const crc = Buffer.from(z);
  crc[crc.length - 6]! ^= 0xff; // a CRC32 byte
  const second = text(good(10, 90));
  return [
    { name: 'truncated.log.gz', group: 'compression', bytes: z.subarray(0, Math.floor(z.length * 0.6)), lines: undefined, flags: ['truncated'], reasons: {}, parsedAtLeast: 0 },
    { name: 'trailing-garbage.log.gz', group: 'compression', bytes: Buffer.concat([z, Buffer.from('this is not gzip\n')]), lines: 40, flags: ['trailing_garbage'], reasons: {}, parsedAtLeast: 40 },
    { name: 'bad-crc.log.gz', group: 'compression', bytes: crc, lines: 40, flags: ['crc_error'], reasons: {}, parsedAtLeast: 40 },
    { name: 'multi-member.log.gz', group: 'compression', bytes: Buffer.concat([z, gzipSync(second)]), lines: 50, flags: [], reasons: {}, parsedAtLeast: 50 },
    { name: 'nul-padded.log.gz', group: 'compression', bytes: Buffer.concat([z, Buffer.alloc(4096), gzipSync(second), Buffer.alloc(512)]), lines: 50, flags: [], reasons: {}, parsedAtLeast: 50 },
    plain('plain-text-named.log.gz', 'compression', body, {}, 40),
    { name: 'gzip-named.log', group: 'compression', bytes: z, lines: 40, flags: [], reasons: {}, parsedAtLeast: 40 },
    // a member inside another's data: gzip of a gzip file is text of binary junk, never decoded twice
    { name: 'gzip-of-gzip.log.gz', group: 'compression', bytes: gzipSync(z), lines: countLines(z), flags: [], reasons: {}, parsedAtLeast: 0 },
  ];
}

/** The corpus; `scale` sets the size of the two big framing cases. */
export function hostileCorpus(scale: CorpusScale = CI_SCALE): HostileCase[] {
  return [...framing(scale), ...grammar(), ...compression()];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** CLF time of a UTC epoch ms. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** A payload as an attacker can put it in a quoted log field: raw bytes, but no newline and no bare `"` (written `\x22`, as nginx does). */
export function asLogField(payload: string): string {
  return payload.replace(/\n/g, '\\x0a').replace(/"/g, '\\x22');
}

/**
 * Two hours of quiet traffic, then a 10-minute flood from one address per
 * payload: address i requests payload i as its path (query, referer, user
 * agent and user name are other payloads), so every payload is some
 * attacker's top path and top user agent and reaches attackers.csv, the top
 * tables, charts, blocklists and the evidence lines.
 */
export function payloadBurstLog(payloads: readonly string[], t0 = Date.UTC(2024, 2, 1)): Buffer {
  const rows: [number, string][] = [];
  for (let s = 0; s < 2 * 3600; s += 20) {
    rows.push([t0 + s * 1000, combinedLine({ ip: `198.51.100.${((s / 20) % 20) + 1}`, time: clfTime(t0 + s * 1000), request: `GET /page/${s % 7} HTTP/1.1` })]);
  }
  const burstAt = t0 + 3600_000;
  const n = payloads.length;
  const field = (i: number): string => asLogField(payloads[i % n]!);
  for (let i = 0; i < 4000; i++) {
    const ms = burstAt + Math.floor(i / 7) * 1000;
    const k = i % n;
    rows.push([ms, combinedLine({
      ip: `203.0.${113 + Math.floor(k / 250)}.${(k % 250) + 1}`, time: clfTime(ms), user: field(k).replace(/ /g, '_') || '-',
      request: `GET ${field(k).replace(/ /g, '%20')}?q=${field(k + 3).replace(/ /g, '+')} HTTP/1.1`, referer: field(k + 2), ua: field(k + 1),
    })]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  return Buffer.from(rows.map(([, l]) => `${l}\n`).join(''), 'utf8');
}

/**
 * A clean log of `n` lines over six hours with a flood in the middle (for
 * process tests that need a run long enough to interrupt, and a pack with
 * every kind of file). Deterministic.
 */
export function cleanLog(n: number, t0 = Date.UTC(2024, 4, 1)): Buffer {
  const parts: string[] = [];
  const span = 6 * 3600_000;
  const floodFrom = t0 + span / 2;
  for (let i = 0; i < n; i++) {
    const flood = i % 3 === 0;
    const ms = flood ? floodFrom + Math.floor((i / n) * 600_000) : t0 + Math.floor((i / n) * span);
    const ip = flood ? `203.0.113.${(i % 97) + 1}` : `198.51.${(i >> 8) % 200}.${(i % 250) + 1}`;
    parts.push(`${combinedLine({ ip, time: clfTime(ms), request: `GET /${flood ? 'login' : 'page'}/${i % 113} HTTP/1.1`, status: flood ? '401' : '200', ua: flood ? 'python-requests/2.31' : 'Mozilla/5.0' })}\n`);
  }
  return Buffer.from(parts.join(''), 'latin1');
}
