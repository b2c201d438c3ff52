import { describe, expect, test } from 'vitest';
import { IpCounts, ROLE_INSIDE, ROLE_REF, clientKey } from './ip-counts.ts';

function counts(c: IpCounts): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  c.forEach((inside, ref, kind, textOf) => out.push([textOf(), kind, inside, ref]));
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe('IpCounts', () => {
  test('keys each spelling of a client once: IPv4 as u32, canonical IPv6 as words, anything else as text', () => {
    const c = new IpCounts();
    for (const ip of ['10.0.0.1', '10.0.0.1', '2001:db8::1', '2001:DB8::1', '010.0.0.1', 'host.example', '::ffff:10.0.0.1', '0.0.0.0']) c.add(clientKey(ip), ROLE_INSIDE);
    c.add(clientKey('2001:db8::1'), ROLE_REF);
    expect(counts(c)).toEqual([
      ['0.0.0.0', 4, 1, 0], ['010.0.0.1', 0, 1, 0], ['10.0.0.1', 4, 2, 0], ['2001:DB8::1', 0, 1, 0], ['2001:db8::1', 6, 1, 1],
      ['::ffff:10.0.0.1', 0, 1, 0], ['host.example', 0, 1, 0],
    ]);
    expect(c.size).toBe(7);
    expect(c.get(clientKey('2001:db8::1'), ROLE_REF)).toBe(1);
    expect(c.get(clientKey('10.9.9.9'), ROLE_INSIDE)).toBe(0);
  });

  test('counts past 65,535 per slot stay exact, through growth, merge and snapshot', () => {
    const a = new IpCounts();
    const b = new IpCounts();
    for (let i = 0; i < 70_000; i++) a.addV4(0x0a000001, ROLE_INSIDE);
    for (let i = 0; i < 5000; i++) a.addV4(0x0b000000 + i, i % 2); // forces the table to grow around the heavy key
    b.add(clientKey('10.0.0.1'), ROLE_INSIDE, 65_534);
    b.add(clientKey('10.0.0.1'), ROLE_REF, 100_000);
    b.add(clientKey('2001:db8::7'), ROLE_INSIDE, 3);
    a.merge(IpCounts.fromSnapshot(structuredClone(b.snapshot())));
    const k = clientKey('10.0.0.1');
    expect([a.get(k, ROLE_INSIDE), a.get(k, ROLE_REF)]).toEqual([135_534, 100_000]);
    expect(a.size).toBe(5002);
    const again = IpCounts.fromSnapshot(a.snapshot());
    expect(counts(again)).toEqual(counts(a));
  });

  test('merge gives the same counts in any order and split', () => {
    const ips = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `2001:db8::${(i % 500).toString(16)}` : `192.0.${i % 256}.${i % 97}`));
    const whole = new IpCounts();
    ips.forEach((ip, i) => whole.add(clientKey(ip), i % 3 === 0 ? ROLE_REF : ROLE_INSIDE));
    const parts = [new IpCounts(), new IpCounts(), new IpCounts()];
    ips.forEach((ip, i) => parts[(i * 7919) % 3]!.add(clientKey(ip), i % 3 === 0 ? ROLE_REF : ROLE_INSIDE));
    const m1 = new IpCounts();
    for (const p of parts) m1.merge(p);
    const m2 = new IpCounts();
    for (const p of [...parts].reverse()) m2.merge(IpCounts.fromSnapshot(p.snapshot()));
    expect(counts(m1)).toEqual(counts(whole));
    expect(counts(m2)).toEqual(counts(whole));
  });

  test('other client texts past maxOtherKeys are counted in totals only', () => {
    const c = new IpCounts(2);
    for (const h of ['a.example', 'b.example', 'c.example', 'c.example']) c.add(clientKey(h), ROLE_INSIDE);
    expect([c.other.size, c.otherDroppedInside]).toEqual([2, 2]);
  });
});
