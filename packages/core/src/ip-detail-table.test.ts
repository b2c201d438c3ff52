import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { hashString } from './hash.ts';
import { IpDetailTable } from './ip-detail-table.ts';
import { addCount, addPath, emptyAggregate, keyCount, newIpStats, pathCount, type IpWindowStats, type KeyCounts, type PathCounts, type WindowAggregate } from './ip-window-stats.ts';
import { REF_NONE, REF_SEARCH, REF_SOCIAL } from './request-traits.ts';

const MAX_PATHS = 3;
const MAX_AGENTS = 2;

interface Hit {
  readonly ip: string;
  readonly t: number;
  readonly kind: number;
  readonly asset: number;
  readonly rq: number;
  readonly rc: number;
  readonly status: number;
  readonly path: string;
  readonly ua: string;
  readonly bytes: number;
}

const hitArb: fc.Arbitrary<Hit> = fc.record({
  ip: fc.constantFrom('192.0.2.1', '192.0.2.2', '2001:db8::1', 'host.example', '198.51.100.7', '203.0.113.9'),
  t: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_900_000 }),
  kind: fc.integer({ min: 0, max: 3 }),
  asset: fc.integer({ min: 0, max: 1 }),
  rq: fc.integer({ min: 0, max: 1 }),
  rc: fc.integer({ min: 0, max: 3 }),
  status: fc.constantFrom(200, 301, 404, 429, 499, 503, 999),
  path: fc.constantFrom('/', '/login', '/a', '/b', '/c', '', '/x?'),
  ua: fc.constantFrom('curl/8', 'Mozilla/5.0', 'Go-http-client/1.1', ''),
  bytes: fc.integer({ min: -1, max: 5000 }),
});

/** The object form's rule for one request (what WindowCounts did before the tables). */
function refHit(m: Map<string, IpWindowStats>, h: Hit): void {
  let s = m.get(h.ip);
  if (s === undefined) m.set(h.ip, (s = newIpStats(h.ip, hashString(h.ip))));
  s.requests++;
  s.firstMs = Math.min(s.firstMs, h.t);
  s.lastMs = Math.max(s.lastMs, h.t);
  s.assets += h.asset;
  s.randomQuery += h.rq;
  if (h.rc === REF_NONE) s.refNone++;
  else if (h.rc === REF_SEARCH) s.refSearch++;
  else if (h.rc === REF_SOCIAL) s.refSocial++;
  else s.refOther++;
  s.statuses = addCount(s.statuses, h.status, 1)!;
  if (s.paths !== null) s.paths = addPath(s.paths, h.path, 1, h.rq, MAX_PATHS);
  if (s.userAgents !== null) s.userAgents = addCount(s.userAgents, h.ua, 1, MAX_AGENTS);
  if (h.bytes > 0) s.bytes += h.bytes;
  s.ipKind = h.kind;
}

function tableOf(hits: readonly Hit[]): IpDetailTable {
  const t = new IpDetailTable(MAX_PATHS, MAX_AGENTS);
  for (const h of hits) {
    let s = t.slot(h.ip);
    if (s < 0) s = t.insert(h.ip, hashString(h.ip));
    t.hit(s, h.t, h.kind, h.asset, h.rq, h.rc, h.status, t.intern(h.path), t.intern(h.ua), h.bytes);
  }
  return t;
}

function refOf(hits: readonly Hit[]): Map<string, IpWindowStats> {
  const m = new Map<string, IpWindowStats>();
  for (const h of hits) refHit(m, h);
  return m;
}

const byIp = (a: IpWindowStats, b: IpWindowStats): number => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
const sorted = (it: Iterable<IpWindowStats>): IpWindowStats[] => [...it].sort(byIp);
/** Detail units as WindowCounts counts them (a list past its cap counts as full). */
const unitsOf = (s: IpWindowStats): number => 1 + (s.paths === null ? MAX_PATHS : s.paths.length / 3) + (s.userAgents === null ? MAX_AGENTS : s.userAgents.length / 2);

describe('IpDetailTable: the per-IP detail in typed arrays', () => {
  test('gives the same IpWindowStats as the object form, request by request (lists in first-seen order, caps as many)', () => {
    fc.assert(fc.property(fc.array(hitArb, { maxLength: 200 }), (hits) => {
      const t = tableOf(hits);
      const ref = refOf(hits);
      expect(t.size).toBe(ref.size);
      expect(sorted(t.values())).toEqual(sorted(ref.values()));
      for (const ip of ref.keys()) {
        expect(t.get(ip)).toEqual(ref.get(ip));
        expect(t.units(t.slot(ip))).toBe(unitsOf(ref.get(ip)!));
      }
      expect(t.totalUnits()).toBe([...ref.values()].reduce((a, s) => a + unitsOf(s), 0));
    }), { numRuns: 300 });
  });

  test('merging two tables equals merging the objects (mergeIpStats), whatever the split', () => {
    fc.assert(fc.property(fc.array(hitArb, { maxLength: 200 }), fc.nat(200), (hits, cut) => {
      const a = hits.slice(0, cut);
      const b = hits.slice(cut);
      const t = tableOf(a);
      t.mergeFrom(tableOf(b), 2 ** 32);
      const ref = refOf(a);
      for (const s of refOf(b).values()) {
        const mine = ref.get(s.ip);
        if (mine === undefined) {
          const copy = newIpStats(s.ip, s.hash);
          mergeIpStats(copy, s, { maxPathsPerIp: MAX_PATHS, maxUserAgentsPerIp: MAX_AGENTS });
          ref.set(s.ip, copy);
        } else mergeIpStats(mine, s, { maxPathsPerIp: MAX_PATHS, maxUserAgentsPerIp: MAX_AGENTS });
      }
      // Lists merged from parts may differ in order from one pass over all rows; compare them as sets.
      const norm = (s: IpWindowStats): unknown => ({
        ...s, paths: s.paths && [...chunks(s.paths, 3)].sort(), userAgents: s.userAgents && [...chunks(s.userAgents, 2)].sort(), statuses: [...chunks(s.statuses, 2)].sort(),
      });
      expect(sorted(t.values()).map(norm)).toEqual(sorted(ref.values()).map(norm));
      // Sums do not depend on the split: the same as one table over all rows.
      const whole = tableOf(hits);
      expect(sorted(t.values()).map((s) => [s.ip, s.requests, s.bytes, s.firstMs, s.lastMs])).toEqual(sorted(whole.values()).map((s) => [s.ip, s.requests, s.bytes, s.firstMs, s.lastMs]));
    }), { numRuns: 300 });
  });

  test('pack and unpack give back the same table; dropFrom moves exactly the IPs past the limit into the totals', () => {
    fc.assert(fc.property(fc.array(hitArb, { maxLength: 200 }), fc.integer({ min: 0, max: 2 ** 32 }), (hits, limit) => {
      const t = tableOf(hits);
      const before = sorted(t.values());
      const packed = structuredClone(t.pack());
      const back = IpDetailTable.unpack(packed, MAX_PATHS, MAX_AGENTS);
      expect(sorted(back.values())).toEqual(before);
      const got = emptyAggregate();
      const removed = back.dropFrom(limit, (slot) => back.toAggregate(slot, got));
      const want = emptyAggregate();
      for (const s of before) if (s.hash >= limit) ipToAggregate(want, s);
      expect(got).toEqual(want);
      expect(removed).toBe(before.filter((s) => s.hash >= limit).reduce((a, s) => a + unitsOf(s), 0));
      expect(sorted(back.values())).toEqual(before.filter((s) => s.hash < limit));
      // The rebuilt table still takes requests for its IPs and new ones.
      for (const h of hits.slice(0, 20)) {
        let s = back.slot(h.ip);
        if (s < 0) s = back.insert(h.ip, hashString(h.ip));
        back.hit(s, h.t, h.kind, h.asset, h.rq, h.rc, h.status, back.intern(h.path), back.intern(h.ua), h.bytes);
      }
      expect(back.size).toBe(new Set([...before.filter((s) => s.hash < limit).map((s) => s.ip), ...hits.slice(0, 20).map((h) => h.ip)]).size);
    }), { numRuns: 300 });
  });

  test('IpDetailTable.of and pack keep MANY lists, and a packed table with a bad length is refused', () => {
    const s = newIpStats('192.0.2.1', hashString('192.0.2.1'));
    s.requests = 7;
    s.paths = null;
    s.userAgents = ['curl/8', 7];
    s.statuses = [200, 5, 404, 2];
    const t = IpDetailTable.of([s], MAX_PATHS, MAX_AGENTS);
    expect(t.get('192.0.2.1')).toEqual(s);
    const p = t.pack();
    expect(IpDetailTable.unpack(structuredClone(p), MAX_PATHS, MAX_AGENTS).get('192.0.2.1')).toEqual(s);
    expect(() => IpDetailTable.unpack({ ...p, kind: new Uint8Array(2) }, MAX_PATHS, MAX_AGENTS)).toThrow(/lengths/);
    expect(() => IpDetailTable.unpack({ ...p, lists: p.lists.map((x, i) => (i === 3 ? 99 : x)) }, MAX_PATHS, MAX_AGENTS)).toThrow(/past the entries/);
    expect(() => IpDetailTable.of([s, s], MAX_PATHS, MAX_AGENTS)).toThrow(/twice/);
  });
});

function* chunks<T>(a: readonly T[], n: number): Generator<string> {
  for (let i = 0; i < a.length; i += n) yield JSON.stringify(a.slice(i, i + n));
}

// The object form's merge and sampled-out rule, as WindowCounts applied them before the tables: the reference model.

function mergeIpStats(into: IpWindowStats, o: IpWindowStats, opts: { readonly maxPathsPerIp: number; readonly maxUserAgentsPerIp: number }): void {
  into.ipKind = Math.max(into.ipKind, o.ipKind);
  into.requests += o.requests;
  into.firstMs = Math.min(into.firstMs, o.firstMs);
  into.lastMs = Math.max(into.lastMs, o.lastMs);
  into.assets += o.assets;
  into.randomQuery += o.randomQuery;
  into.refNone += o.refNone;
  into.refSearch += o.refSearch;
  into.refSocial += o.refSocial;
  into.refOther += o.refOther;
  into.bytes += o.bytes;
  if (into.paths !== null) {
    if (o.paths === null) into.paths = null;
    else {
      let paths: PathCounts = into.paths;
      for (let i = 0; i < o.paths.length; i += 3) paths = addPath(paths, o.paths[i] as string, o.paths[i + 1] as number, o.paths[i + 2] as number, Infinity)!;
      into.paths = pathCount(paths) > opts.maxPathsPerIp ? null : paths;
    }
  }
  if (into.userAgents !== null) {
    if (o.userAgents === null) into.userAgents = null;
    else {
      let uas: KeyCounts<string> = into.userAgents;
      for (let i = 0; i < o.userAgents.length; i += 2) uas = addCount(uas, o.userAgents[i] as string, o.userAgents[i + 1] as number)!;
      into.userAgents = keyCount(uas) > opts.maxUserAgentsPerIp ? null : uas;
    }
  }
  for (let i = 0; i < o.statuses.length; i += 2) into.statuses = addCount(into.statuses, o.statuses[i] as number, o.statuses[i + 1] as number)!;
}

function ipToAggregate(into: WindowAggregate, s: IpWindowStats): void {
  into.requests += s.requests;
  into.assets += s.assets;
  into.randomQuery += s.randomQuery;
  into.refNone += s.refNone;
  into.refSearch += s.refSearch;
  into.refSocial += s.refSocial;
  into.refOther += s.refOther;
  const statuses = s.statuses;
  for (let i = 0; i < statuses.length; i += 2) {
    const st = statuses[i]!;
    const c = statuses[i + 1]!;
    if (st >= 400 && st < 500) into.errors4xx += c;
    if (st >= 500) into.errors5xx += c;
    if (st === 429 || st === 499 || st === 503) into.throttled += c;
  }
}
