import { describe, expect, test } from 'vitest';
import { IpCounts, clientKey, ROLE_INSIDE, ROLE_REF } from '../ip-counts.ts';
import { IpCountsBuilder, fetchLimit } from './build-state.ts';

describe('fetchLimit', () => {
  test('fetches every IP (2^32) when the inside IPs fit', () => {
    expect(fetchLimit([[0, 3], [65535, 4]], 10)).toBe(2 ** 32);
  });
  test('halves the hash limit until the inside IPs fit', () => {
    // 10 IPs in each quarter of the hash space.
    const inside = [[0, 10], [16384, 10], [32768, 10], [49152, 10]];
    expect(fetchLimit(inside, 20)).toBe(2 ** 31);
    expect(fetchLimit(inside, 10)).toBe(2 ** 30);
  });
  test('stops at 2^16 (the top 16 bits are all it sees); the attribution\'s own cap applies after', () => {
    expect(fetchLimit([[0, 1000]], 10)).toBe(2 ** 16);
  });
});

describe('IpCountsBuilder', () => {
  test('keys GROUP BY ip rows as core does: the snapshot equals the one of core\'s own counts', () => {
    const rows: [string, number, number][] = [
      ['10.0.0.1', 5, 0], ['010.0.0.1', 1, 2], ['2001:db8::1', 3, 4], ['2001:DB8::1', 1, 0], ['::ffff:1.2.3.4', 0, 7],
      ['crawler.example', 2, 2], ['255.255.255.255', 70_000, 1], ['1.2.3.4.5', 1, 1],
    ];
    const b = new IpCountsBuilder();
    const core = new IpCounts();
    for (const [ip, inside, ref] of rows) {
      b.add(ip, inside, ref);
      if (inside > 0) core.add(clientKey(ip), ROLE_INSIDE, inside);
      if (ref > 0) core.add(clientKey(ip), ROLE_REF, ref);
    }
    expect(b.insideClients).toBe(7);
    const fromRows = IpCounts.fromSnapshot(b.snapshot());
    const seen = (c: IpCounts): string[] => {
      const out: string[] = [];
      c.forEach((inside, ref, kind, textOf) => out.push(`${kind} ${textOf()} ${inside} ${ref}`));
      return out.sort();
    };
    expect(seen(fromRows)).toEqual(seen(core));
    expect(seen(fromRows)).toContain('4 10.0.0.1 5 0');
    expect(seen(fromRows)).toContain('6 2001:db8::1 3 4');
    expect(seen(fromRows)).toContain('0 010.0.0.1 1 2');
    expect(seen(fromRows)).toContain('4 255.255.255.255 70000 1');
  });
  test('refuses counts that are not counts', () => {
    expect(() => new IpCountsBuilder().add('1.2.3.4', -1, 0)).toThrow(/bad counts/);
    expect(() => new IpCountsBuilder().add('1.2.3.4', 1.5, 0)).toThrow(/bad counts/);
  });
});
