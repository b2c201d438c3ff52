import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compileFormat, listFormats } from './compile-format.ts';
import { AlfError } from './errors.ts';
import { parseApacheFormat, parseNginxFormat } from './format-string.ts';
import { parseLines } from './parse-lines.ts';
import { recordRows } from './record-rows.ts';
import type { RecordRow } from './record-rows.ts';

function rowsOf(lines: readonly string[], format: string, tz?: string): { rows: RecordRow[]; rejects: string[] } {
  const r = parseLines(lines, { format, tz });
  return { rows: recordRows(r.chunks.map((c) => c.records)), rejects: r.chunks.flatMap((c) => c.rejects.map((j) => `${j.line}: ${j.reason} ${j.detail}`)) };
}

describe('presets', () => {
  test.for(listFormats().map((f) => [f.id, f] as const))('%s parses all its sample lines', ([, f]) => {
    expect(f.sampleLines.length).toBeGreaterThan(0);
    const { rows, rejects } = rowsOf(f.sampleLines, f.id);
    expect(rejects).toEqual([]);
    expect(rows.length).toBe(f.sampleLines.length);
    for (const r of rows) {
      expect(r.ts).not.toBeNaN();
      expect(r.ip).not.toBeNull();
    }
  });

  test.for(listFormats().filter((f) => f.id !== 'nginx_combined' && f.id !== 'apache_combined_s').map((f) => [f.id, f] as const))(
    'auto-detection picks %s on its own sample lines', ([id, f]) => {
      expect(parseLines(f.sampleLines, {}).format.id).toBe(id);
    });

  test('timing presets fill durationMs and upstreamMs', () => {
    const t = rowsOf(listFormats().find((f) => f.id === 'nginx_timing')!.sampleLines, 'nginx_timing').rows;
    expect(t.map((r) => [r.durationMs, r.upstreamMs])).toEqual([[12, 10], [250, 6], [0, NaN]]);
    const us = rowsOf(listFormats().find((f) => f.id === 'apache_combined_us')!.sampleLines, 'apache_combined_us').rows;
    expect(us.map((r) => r.durationMs)).toEqual([5.134, 0.312]);
  });

  test('json lines map nginx variable names and aliases', () => {
    const { rows } = rowsOf(listFormats().find((f) => f.id === 'json')!.sampleLines, 'json');
    expect(rows[0]).toMatchObject({ ip: '192.0.2.9', method: 'GET', path: '/a', query: 'b=c', status: 200, bytesSent: 512, durationMs: 4, userAgent: 'curl/8.5.0' });
    expect(rows[1]).toMatchObject({ ip: '2001:db8::2', method: 'POST', path: '/login', status: 401, ts: Date.UTC(2024, 2, 12, 8, 1, 3, 250) });
  });

  test('a JSON line that is not an object is bad_json', () => {
    const r = parseLines(['{"ip":"1.2.3.4","time":"2024-01-01T00:00:00Z","status":200}', '[1,2]', '{oops'], { format: 'json' });
    expect(r.accounting.byReason.bad_json).toBe(2);
  });
});

describe('compileFormat', () => {
  test('unknown names say what was expected and suggest the closest preset', () => {
    const err = (() => { try { compileFormat('combind'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(AlfError);
    expect((err as AlfError).code).toBe('ALF_FORMAT_UNKNOWN');
    expect((err as AlfError).message).toMatch(/did you mean `combined`/);
  });

  test('format strings that cannot be compiled are ALF_FORMAT_INVALID', () => {
    for (const bad of ['%h%u %t', '$remote_addr$remote_user', '%{Referer %t', 'LogFormat "%h %t']) {
      expect(() => compileFormat(bad), bad).toThrow(expect.objectContaining({ code: 'ALF_FORMAT_INVALID' }) as Error);
    }
    expect(() => compileFormat('combined', { tz: 'Nowhere/Land' })).toThrow(expect.objectContaining({ code: 'ALF_TZ_INVALID' }) as Error);
  });

  test('nginx log_format pasted verbatim: name, escape=, concatenated quoted pieces, ${var}, unknown variables as extras', () => {
    const conf = `log_format  main  escape=default '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for" \${ssl_protocol}/$ssl_cipher rt=$request_time';`;
    const p = parseNginxFormat(conf);
    expect(p.text).toBe('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" ${ssl_protocol}/$ssl_cipher rt=$request_time');
    const { rows, rejects } = rowsOf(['10.1.2.3 - - [12/Mar/2024:08:01:02 +0000] "GET / HTTP/2.0" 200 5 "-" "curl" "203.0.113.1" TLSv1.3/TLS_AES_128_GCM_SHA256 rt=0.120'], conf);
    expect(rejects).toEqual([]);
    expect(rows[0]).toMatchObject({ forwardedFor: '203.0.113.1', durationMs: 120, extra: { ssl_protocol: 'TLSv1.3', ssl_cipher: 'TLS_AES_128_GCM_SHA256' } });
  });

  test('nginx variables: $time_iso8601, $msec, $request_method/$request_uri/$server_protocol, $host, $bytes_sent, $upstream_*', () => {
    const fmt = '$time_iso8601 $msec $remote_addr $host "$request_method $request_uri $server_protocol" $status $bytes_sent $upstream_addr $upstream_response_time';
    const { rows, rejects } = rowsOf(['2024-03-12T08:01:02+01:00 1710226862.500 ::1 shop.example "GET /a?b HTTP/1.1" 502 99 10.0.0.1:80, 10.0.0.2:80 0.001, 0.002 : 0.003'], fmt);
    expect(rejects).toEqual([]);
    expect(rows[0]).toMatchObject({ ts: Date.UTC(2024, 2, 12, 7, 1, 2), vhost: 'shop.example', method: 'GET', path: '/a', query: 'b', protocol: 'HTTP/1.1', bytesSent: 99, upstreamMs: 6, extra: { msec: '1710226862.500', upstream_addr: '10.0.0.1:80, 10.0.0.2:80' } });
  });

  test('$msec alone is the time', () => {
    const { rows } = rowsOf(['1710226862.5 1.2.3.4 "GET / HTTP/1.1" 200'], '$msec $remote_addr "$request" $status');
    expect(rows[0]!.ts).toBe(1710226862500);
  });

  test('nginx JSON log_format templates map keys by their variable', () => {
    const conf = `log_format j escape=json '{"t":"$time_iso8601","a":"$remote_addr","r":"$request","s":$status,"ua":"$http_user_agent","x":"$ssl_protocol"}';`;
    const { rows, rejects } = rowsOf(['{"t":"2024-03-12T08:01:02+00:00","a":"1.2.3.4","r":"GET /x HTTP/1.1","s":404,"ua":"a\\"b","x":"TLSv1.2"}'], conf);
    expect(rejects).toEqual([]);
    expect(rows[0]).toMatchObject({ ip: '1.2.3.4', path: '/x', status: 404, userAgent: 'a"b', extra: { ssl_protocol: 'TLSv1.2' } });
  });

  test('Apache LogFormat pasted verbatim, with modifiers, %{…}t, %D, %T, %{c}a, headers and %U%q', () => {
    const conf = 'LogFormat "%v:%p %{c}a %l %u [%{%d/%b/%Y:%H:%M:%S %z}t] \\"%m %U%q %H\\" %>s %B %400,501{Referer}i \\"%{User-Agent}i\\" %{X-Request-Id}i %{Content-Type}o %D %{ms}T" custom';
    const p = parseApacheFormat(conf);
    expect(p.text).toContain('"%m %U%q %H"');
    const { rows, rejects } = rowsOf(['www.example.com:443 192.0.2.4 - - [12/Mar/2024:08:01:02 +0100] "GET /p?q=1 HTTP/1.1" 200 10 - "Mozilla" abc-1 text/html 1500 2'], conf);
    expect(rejects).toEqual([]);
    expect(rows[0]).toMatchObject({ vhost: 'www.example.com', ip: '192.0.2.4', ts: Date.UTC(2024, 2, 12, 7, 1, 2), method: 'GET', path: '/p', query: 'q=1', protocol: 'HTTP/1.1', status: 200, bytesSent: 10, referer: null, userAgent: 'Mozilla', durationMs: 1.5, extra: { port: '443', http_x_request_id: 'abc-1', sent_http_content_type: 'text/html', msT: '2' } });
  });

  test('Apache %{sec}t, %{msec}t and %t with %{msec_frac}t', () => {
    expect(rowsOf(['1710230462 1.2.3.4 200'], '%{sec}t %h %>s').rows[0]!.ts).toBe(1710230462000);
    expect(rowsOf(['1710230462123 1.2.3.4 200'], '%{msec}t %h %>s').rows[0]!.ts).toBe(1710230462123);
    expect(rowsOf(['[12/Mar/2024:08:01:02 +0000].045 1.2.3.4 200'], '%t.%{msec_frac}t %h %>s').rows[0]!.ts).toBe(Date.UTC(2024, 2, 12, 8, 1, 2, 45));
  });

  test('a strftime time without offset uses tz and says so', () => {
    const f = compileFormat('%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s', { tz: 'Europe/Berlin' });
    expect(f.spec.needsTz).toBe(true);
    expect(rowsOf(['1.2.3.4 [2024-07-01 12:00:00] "GET / HTTP/1.1" 200'], '%h [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s', 'Europe/Berlin').rows[0]!.ts)
      .toBe(Date.UTC(2024, 6, 1, 10));
    expect(compileFormat('combined').spec.needsTz).toBe(false);
  });
});

// ------------------------------------------------------------ round trips

const token = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,12}$/).filter((s) => s !== '-');
const freeText = fc.string({ unit: fc.constantFrom(...'abc XYZ 019 ()[];,/:=+*!?éü\u2028'.split('')), minLength: 1, maxLength: 40 })
  .filter((s) => s !== '-' && s.trim() === s && s.length > 0);
const quoted = fc.string({ unit: fc.constantFrom(...'ab "c\\ /'.split('')), minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== '-');
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

interface Values {
  ip: string; user: string | null; epochSec: number; offsetMin: number; method: string; path: string; query: string | null; protocol: string;
  status: number; bytes: number | null; referer: string | null; ua: string; ms: number; host: string; xff: string | null;
}

const values: fc.Arbitrary<Values> = fc.record({
  ip: fc.oneof(fc.ipV4(), fc.constantFrom('2001:db8::1', '::1', 'fe80::1:2', 'crawler.example.net')),
  user: fc.option(token, { nil: null }),
  epochSec: fc.integer({ min: 0, max: 4_000_000_000 }),
  offsetMin: fc.integer({ min: -12 * 60, max: 14 * 60 }),
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PROPFIND', 'PATCHp'),
  path: fc.stringMatching(/^\/[A-Za-z0-9/._~%-]{0,30}$/),
  query: fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,20}$/), { nil: null }),
  protocol: fc.constantFrom('HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0'),
  status: fc.integer({ min: 100, max: 599 }),
  bytes: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null }),
  referer: fc.option(freeText, { nil: null }),
  ua: quoted,
  ms: fc.integer({ min: 0, max: 1_000_000 }),
  host: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}\.example$/),
  xff: fc.option(fc.constantFrom('203.0.113.1', '203.0.113.1, 198.51.100.2'), { nil: null }),
});

function clfTime(v: Values): string {
  const d = new Date((v.epochSec + v.offsetMin * 60) * 1000);
  const off = Math.abs(v.offsetMin);
  return `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${v.offsetMin < 0 ? '-' : '+'}${p2(Math.floor(off / 60))}${p2(off % 60)}`;
}

/** Apache escapes `"` and `\` inside quoted fields; the parser keeps fields as logged. */
const apacheEscape = (s: string): string => s.replace(/[\\"]/g, (c) => `\\${c}`);
/** nginx (escape=default) writes `"` and `\` as \x22 and \x5C. */
const nginxEscape = (s: string): string => s.replace(/["\\]/g, (c) => (c === '"' ? '\\x22' : '\\x5C'));

function expectRow(row: RecordRow | undefined, v: Values, esc: (s: string) => string): void {
  expect(row).toBeDefined();
  const r = row as RecordRow;
  expect(r.ts).toBe(v.epochSec * 1000);
  expect(r.ip).toBe(v.ip.toLowerCase());
  expect(r.user).toBe(v.user);
  expect([r.method, r.path, r.query, r.protocol]).toEqual([v.method, v.path, v.query, v.protocol]);
  expect(r.status).toBe(v.status);
  expect(r.bytesSent).toBe(v.bytes ?? NaN);
  expect(r.referer).toBe(v.referer === null ? null : esc(v.referer));
  expect(r.userAgent).toBe(esc(v.ua));
}

describe('format strings round-trip', () => {
  test('nginx: lines written from a log_format parse back to the same fields', () => {
    const fmt = `log_format rt '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$http_x_forwarded_for" $host';`;
    const compiled = compileFormat(fmt);
    expect(compiled.spec.id.startsWith('nginx:')).toBe(true);
    fc.assert(fc.property(fc.array(values, { minLength: 1, maxLength: 5 }), (vs) => {
      const lines = vs.map((v) => `${v.ip} - ${v.user ?? '-'} [${clfTime(v)}] "${v.method} ${v.path}${v.query === null ? '' : `?${v.query}`} ${v.protocol}" ${v.status} ` +
        `${v.bytes ?? '-'} "${v.referer === null ? '-' : nginxEscape(v.referer)}" "${nginxEscape(v.ua)}" ${(v.ms / 1000).toFixed(3)} "${v.xff ?? '-'}" ${v.host}`);
      const { rows, rejects } = rowsOf(lines, fmt);
      expect(rejects).toEqual([]);
      vs.forEach((v, i) => {
        expectRow(rows[i], v, nginxEscape);
        expect(rows[i]!.durationMs).toBe(v.ms);
        expect(rows[i]!.forwardedFor).toBe(v.xff);
        expect(rows[i]!.vhost).toBe(v.host);
      });
    }), { numRuns: 150 });
  });

  test('Apache: lines written from a LogFormat parse back to the same fields', () => {
    const fmt = 'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D %v" rt';
    fc.assert(fc.property(fc.array(values, { minLength: 1, maxLength: 5 }), (vs) => {
      const lines = vs.map((v) => `${v.ip} - ${v.user ?? '-'} [${clfTime(v)}] "${v.method} ${v.path}${v.query === null ? '' : `?${v.query}`} ${v.protocol}" ${v.status} ` +
        `${v.bytes ?? '-'} "${v.referer === null ? '-' : apacheEscape(v.referer)}" "${apacheEscape(v.ua)}" ${v.ms * 1000} ${v.host}`);
      const { rows, rejects } = rowsOf(lines, fmt);
      expect(rejects).toEqual([]);
      vs.forEach((v, i) => {
        expectRow(rows[i], v, apacheEscape);
        expect(rows[i]!.durationMs).toBe(v.ms);
        expect(rows[i]!.vhost).toBe(v.host);
      });
    }), { numRuns: 150 });
  });
});
