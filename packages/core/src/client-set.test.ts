import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from '@alf/parser';
import type { RecordBatch } from '@alf/parser';
import { ClientSet } from './client-set.ts';

/** A batch with only the columns ClientSet reads (ip dictionary + ipKind). */
function ipBatch(ips: readonly string[]): RecordBatch {
  const values: string[] = [];
  const index = new Map<string, number>();
  const ids = new Int32Array(ips.length);
  const kind = new Uint8Array(ips.length);
  ips.forEach((ip, i) => {
    let id = index.get(ip);
    if (id === undefined) {
      id = values.length;
      values.push(ip);
      index.set(ip, id);
    }
    ids[i] = id;
    kind[i] = ip.includes(':') ? IP_KIND_V6 : /^[0-9.]+$/.test(ip) ? IP_KIND_V4 : IP_KIND_HOSTNAME;
  });
  return { length: ips.length, ip: { ids, values }, ipKind: kind } as unknown as RecordBatch;
}

const v4 = (s: ClientSet): string[] => [...s.snapshot().ipv4].map((v) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`);

describe('ClientSet', () => {
  test('keeps each distinct address once, sorted, and skips host names', () => {
    const s = new ClientSet();
    s.add(ipBatch(['10.0.0.2', '10.0.0.1', '10.0.0.2', 'crawl.example.com', '2001:db8::1', '2001:db8::1', '::1']));
    s.add(ipBatch(['10.0.0.1', '9.9.9.9']));
    expect(v4(s)).toEqual(['9.9.9.9', '10.0.0.1', '10.0.0.2']);
    const snap = s.snapshot();
    expect([...snap.ipv6]).toEqual([0, 0, 0, 1, 0x20010db8, 0, 0, 1]);
    expect(snap.complete).toBe(true);
    expect(snap.incompleteReason).toBeNull();
    expect(s.ipv4Count).toBe(3);
    expect(s.ipv6Count).toBe(2);
  });

  test('dedupes across many compactions (more adds than the initial buffer)', () => {
    const s = new ClientSet();
    for (let round = 0; round < 5; round++) for (let i = 0; i < 10_000; i++) s.addIpv4((i * 7919) % 6000);
    for (let i = 0; i < 20_000; i++) s.addIpv6Words(0x20010db8, 0, i % 3000, 1);
    const snap = s.snapshot();
    expect(snap.ipv4.length).toBe(6000);
    expect([...snap.ipv4]).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(snap.ipv6.length / 4).toBe(3000);
    expect(snap.complete).toBe(true);
  });

  test('says it is incomplete past the cap and keeps at most the cap', () => {
    const s = new ClientSet({ maxIpv4: 10, maxIpv6: 2 });
    for (let i = 0; i < 11; i++) s.addIpv4(i);
    s.addText('2001:db8::1');
    s.addText('2001:db8::2');
    expect(s.snapshot().complete).toBe(false);
    expect(s.snapshot().ipv4.length).toBe(10);
    expect(s.snapshot().incompleteReason).toMatch(/more than 10 distinct IPv4 clients/);
    const t = new ClientSet({ maxIpv4: 10 });
    for (let i = 0; i < 50; i++) t.addIpv4(i % 10); // 10 distinct: still exact
    expect(t.snapshot().complete).toBe(true);
  });

  test('IPv4-mapped IPv6 text counts as IPv4', () => {
    const s = new ClientSet();
    expect(s.addText('::ffff:192.0.2.1')).toBe(true);
    expect(s.addText('not-an-ip')).toBe(false);
    expect(v4(s)).toEqual(['192.0.2.1']);
  });

  test('merging two sets equals adding everything to one, whatever the split', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 3000 }), fc.nat(), (values, cut) => {
        const at = values.length === 0 ? 0 : cut % values.length;
        const a = new ClientSet();
        const b = new ClientSet();
        const all = new ClientSet();
        values.forEach((v, i) => {
          (i < at ? a : b).addIpv4(v);
          all.addIpv4(v);
          all.addIpv6Words(0, v, 0, 1);
          (i < at ? b : a).addIpv6Words(0, v, 0, 1);
        });
        a.merge(b);
        expect([...a.snapshot().ipv4]).toEqual([...all.snapshot().ipv4]);
        expect([...a.snapshot().ipv6]).toEqual([...all.snapshot().ipv6]);
        expect([...all.snapshot().ipv4]).toEqual([...new Set(values)].sort((x, y) => x - y));
      }),
      { numRuns: 50 },
    );
  });

  test('merging many snapshots one after another (in place once the buffer holds the union) equals adding everything to one', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 800 }), { maxLength: 10 }), fc.boolean(), (parts, withAdds) => {
        const merged = new ClientSet();
        const all = new ClientSet();
        for (const part of parts) {
          const p = new ClientSet();
          for (const v of part) {
            p.addIpv4(v);
            all.addIpv4(v);
          }
          merged.merge(p.snapshot());
          if (withAdds) {
            merged.addIpv4(part.length * 7); // pending values between merges
            all.addIpv4(part.length * 7);
          }
        }
        expect([...merged.snapshot().ipv4]).toEqual([...all.snapshot().ipv4]);
        expect(merged.ipv4Count).toBe(new Set([...parts.flat(), ...(withAdds ? parts.map((p) => p.length * 7) : [])]).size);
      }),
      { numRuns: 200 },
    );
  });

  test('a merge past the cap keeps the lowest addresses of both sets, and the set takes adds afterwards', () => {
    const a = new ClientSet({ maxIpv4: 5 });
    const b = new ClientSet();
    for (const v of [9, 3, 7, 1]) a.addIpv4(v);
    for (const v of [8, 2, 3, 6]) b.addIpv4(v);
    a.merge(b.snapshot());
    expect([...a.snapshot().ipv4]).toEqual([1, 2, 3, 6, 7]);
    expect(a.snapshot().complete).toBe(false);
    const c = new ClientSet();
    c.merge(b);
    c.merge(b);
    for (let v = 0; v < 10_000; v++) c.addIpv4(v % 4);
    expect([...c.snapshot().ipv4]).toEqual([0, 1, 2, 3, 6, 8]);
    expect(c.snapshot().complete).toBe(true);
  });

  test('merging an incomplete set makes the result incomplete', () => {
    const small = new ClientSet({ maxIpv4: 1 });
    small.addIpv4(1);
    small.addIpv4(2);
    const big = new ClientSet();
    big.merge(small);
    expect(big.snapshot().complete).toBe(false);
    expect(big.snapshot().incompleteReason).toMatch(/more than 1 distinct IPv4/);
  });
});
