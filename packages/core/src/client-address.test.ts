import { describe, expect, test } from 'vitest';
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6, canonicalIp, isAlfError } from '@alf/parser';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { forwardedEntry, resolveClients, trustedProxies, walkForwardedFor } from './client-address.ts';
import { filterByVhost, vhostFilter, vhostHost } from './vhost-filter.ts';
import { makeBatch } from './test-batch.ts';

function dict(values: readonly (string | null)[]): DictColumn {
  const out: string[] = [];
  const index = new Map<string, number>();
  const ids = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null) {
      ids[i] = -1;
      return;
    }
    let id = index.get(v);
    if (id === undefined) {
      id = out.length;
      out.push(v);
      index.set(v, id);
    }
    ids[i] = id;
  });
  return { ids, values: out };
}

/** A batch of rows (logged address, X-Forwarded-For, vhost). */
function batchOf(rows: readonly [ip: string, xff: string | null, vhost?: string | null][]): RecordBatch {
  const base = makeBatch(rows.map((_, i) => ({ ts: 1_000 * i, ip: '0.0.0.0' })));
  const ipKind = new Uint8Array(rows.length);
  rows.forEach(([ip], i) => { ipKind[i] = canonicalIp(ip)?.kind ?? IP_KIND_HOSTNAME; });
  return {
    ...base,
    ip: dict(rows.map((r) => r[0])),
    ipKind,
    forwardedFor: dict(rows.map((r) => r[1])),
    vhost: dict(rows.map((r) => r[2] ?? null)),
  };
}

const clientsOf = (b: RecordBatch): string[] =>
  Array.from({ length: b.length }, (_, i) => `${b.ip.values[b.ip.ids[i]!]}/${b.ipKind[i]}`);

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAlfError(e) && e.code === 'ALF_USAGE') return e.message;
    throw e;
  }
  throw new Error('no error');
}

describe('trustedProxies', () => {
  test.for([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['192.168.1.7', '192.168.1.8', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8:0:0:8000::/65', '2001:db8::8000:0:0:1', true],
    ['2001:db8::/65', '2001:db8::8000:0:0:1', false],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['10.0.0.0/8', 'proxy.example', false],
    ['10.0.0.0/8', 'garbage', false],
  ] as const)('%s contains %s: %s', ([cidr, ip, inside]) => {
    expect(trustedProxies([cidr]).contains(ip)).toBe(inside);
  });

  test('lists networks in canonical CIDR text, without duplicates', () => {
    expect(trustedProxies(['10.0.0.0/8', ' 192.168.1.7 ', '2001:DB8:0::/32', '10.0.0.0/8']).cidrs)
      .toEqual(['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32']);
  });

  test.for([
    ['10.0.0.0/33', /prefix length must be from 0 to 32/],
    ['10.1.2.3/8', /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/],
    ['2001:db8::1/32', /did you mean 2001:db8::\/32\?/],
    ['10.0.0/8', /`10\.0\.0` is not an IP address/],
    ['localhost', /not an IP address/],
    ['10.0.0.0/x', /prefix length `x` is not a number/],
    ['', /empty/],
  ] as const)('refuses %j with ALF_USAGE', ([cidr, message]) => {
    const m = usageError(() => trustedProxies([cidr]));
    expect(m).toMatch(/`--trusted-proxy` must be an IPv4 or IPv6 network in CIDR form/);
    expect(m).toMatch(message);
  });
});

describe('X-Forwarded-For entries and the walk', () => {
  test.for([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['1.2.3.4:5678', '1.2.3.4'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:DB8:0::1', '2001:db8::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['unknown', null],
    ['', null],
    ['010.1.1.1', null],
    ['1.2.3.4:port', null],
    ['1.2.3.4:123456', null],
    ['[2001:db8::1]x', null],
    ['host.example', null],
  ] as const)('entry %j reads as %j', ([raw, value]) => {
    expect(forwardedEntry(raw)?.value ?? null).toBe(value);
  });

  const m = trustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48']);
  test.for([
    ['203.0.113.9', '203.0.113.9', null],
    ['198.51.100.1, 203.0.113.9', '203.0.113.9', null], // the right-most untrusted: a client-written left entry is ignored
    ['203.0.113.9, 10.0.0.2, 10.0.0.1', '203.0.113.9', '10.0.0.2'], // a chain of trusted proxies
    ['2001:db8:1::5, 2001:db8:ffff::1', '2001:db8:1::5', '2001:db8:ffff::1'],
    ['10.0.0.3, 10.0.0.2', null, '10.0.0.3'], // all trusted: the left-most (last walked) hop
    ['203.0.113.9, unknown, 10.0.0.2', null, '10.0.0.2'], // malformed: stop, keep the last trusted hop
    ['203.0.113.9, garbage', null, null],
    ['203.0.113.9:4711', '203.0.113.9', null],
    ['', null, null],
    [',,', null, null],
  ] as const)('walk %j → client %j, last trusted %j', ([xff, client, last]) => {
    const w = walkForwardedFor(xff, m);
    expect(w.client?.value ?? null).toBe(client);
    expect(w.lastTrusted?.value ?? null).toBe(last);
  });

  test('stops after 32 hops', () => {
    const long = ['203.0.113.9', ...Array.from({ length: 40 }, () => '10.0.0.1')].join(', ');
    const w = walkForwardedFor(long, m);
    expect(w.client).toBeNull();
    expect(w.lastTrusted?.value).toBe('10.0.0.1');
  });
});

describe('resolveClients', () => {
  const m = trustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48']);

  test('takes the client from X-Forwarded-For only behind a trusted proxy; a spoofed header from an untrusted peer is ignored', () => {
    const b = batchOf([
      ['10.0.0.1', '203.0.113.9'], // resolved
      ['198.51.100.7', '1.1.1.1'], // untrusted peer: its X-Forwarded-For is attacker-written
      ['10.0.0.1', null], // trusted, no header: kept as the proxy
      ['10.0.0.2', '203.0.113.9, 10.0.0.1'], // chain
      ['2001:db8:ffff::1', '[2001:db8:1::5]:443'], // IPv6, port
      ['10.0.0.1', 'unknown'], // no usable header
      ['10.0.0.1', '203.0.113.9'],
      ['10.0.0.1', '2001:db8::ab, 10.9.9.9'], // v6 client behind a v4 proxy: kind changes
      ['proxy.internal', '203.0.113.9'], // host names are never trusted
    ]);
    const r = resolveClients(b, m);
    expect(clientsOf(r.batch)).toEqual([
      `203.0.113.9/${IP_KIND_V4}`, `198.51.100.7/${IP_KIND_V4}`, `10.0.0.1/${IP_KIND_V4}`, `203.0.113.9/${IP_KIND_V4}`,
      `2001:db8:1::5/${IP_KIND_V6}`, `10.0.0.1/${IP_KIND_V4}`, `203.0.113.9/${IP_KIND_V4}`, `2001:db8::ab/${IP_KIND_V6}`,
      `proxy.internal/${IP_KIND_HOSTNAME}`,
    ]);
    expect(r.fromForwardedFor).toBe(5);
    expect(r.proxyKept).toBe(2);
    // other columns are shared, the input batch is untouched
    expect(r.batch.ts).toBe(b.ts);
    expect(r.batch.forwardedFor).toBe(b.forwardedFor);
    expect(clientsOf(b)[0]).toBe(`10.0.0.1/${IP_KIND_V4}`);
    // one dictionary entry per distinct address
    expect(r.batch.ip.values.filter((v) => v === '203.0.113.9')).toHaveLength(1);
  });

  test('a trusted hop inside X-Forwarded-For becomes the client when nothing untrusted follows, counted as kept', () => {
    const r = resolveClients(batchOf([['10.0.0.1', '10.0.0.9'], ['10.0.0.1', 'x, 10.0.0.8']]), m);
    expect(clientsOf(r.batch)).toEqual([`10.0.0.9/${IP_KIND_V4}`, `10.0.0.8/${IP_KIND_V4}`]);
    expect(r).toMatchObject({ fromForwardedFor: 0, proxyKept: 2 });
  });

  test('a batch with nothing to resolve is returned as it is', () => {
    const b = batchOf([['198.51.100.7', '1.1.1.1'], ['203.0.113.1', null]]);
    expect(resolveClients(b, m)).toEqual({ batch: b, fromForwardedFor: 0, proxyKept: 0 });
    expect(resolveClients(b, trustedProxies([])).batch).toBe(b);
  });
});

describe('vhost filter', () => {
  test.for([
    ['www.example.com', 'www.example.com', true],
    ['www.example.com', 'WWW.Example.COM', true],
    ['www.example.com', 'www.example.com:443', true],
    ['www.example.com', 'www.example.com.', true],
    ['www.example.com', 'example.com', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com:8080', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['EXAMPLE.com', 'example.com', true],
    ['10.1.2.3', '10.1.2.3:80', true],
  ] as const)('%s matches %s: %s', ([pattern, vhost, ok]) => {
    expect(vhostFilter([pattern]).matches(vhost)).toBe(ok);
  });

  test('host part of a logged vhost', () => {
    expect(vhostHost('Example.COM:80')).toBe('example.com');
    expect(vhostHost('[2001:db8::1]:443')).toBe('[2001:db8::1]');
  });

  test.for(['', 'a b', '*', 'exa*mple.com', 'foo.*.com', '*.', '-bad.com', 'a..b'])('refuses pattern %j', (p) => {
    expect(usageError(() => vhostFilter([p]))).toMatch(/`--vhost` must be a host name \(www\.example\.com\) or `\*\.` and a domain/);
  });

  test('keeps matching rows, counts other vhosts and rows without one', () => {
    const b = batchOf([
      ['1.1.1.1', null, 'a.example.com'],
      ['1.1.1.2', null, 'other.org'],
      ['1.1.1.3', null, null],
      ['1.1.1.4', null, 'WWW.EXAMPLE.COM:80'],
      ['1.1.1.5', null, 'a.example.com'],
    ]);
    const r = filterByVhost(b, vhostFilter(['*.example.com']));
    expect(r.otherVhost).toBe(1);
    expect(r.withoutVhost).toBe(1);
    expect(clientsOf(r.batch).map((s) => s.split('/')[0])).toEqual(['1.1.1.1', '1.1.1.4', '1.1.1.5']);
    expect(Array.from(r.batch.ts)).toEqual([0, 3000, 4000]);
    const again = filterByVhost(r.batch, vhostFilter(['*.example.com']));
    expect(again.batch).toBe(r.batch); // wholly kept: returned as it is
    expect(again).toMatchObject({ otherVhost: 0, withoutVhost: 0 });
  });
});
