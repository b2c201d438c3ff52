/**
 * Concurrent attacks: a window's attackers are grouped by network (/24 or /48
 * prefix); groups that hit the same paths over about the same interval are one
 * event (a botnet spread over many networks). When two or more events each
 * carry at least 15% of the attributed excess, the window is reported as that
 * many bursts, each with its own attackers and interval.
 */
import type { Participant } from './attribute.ts';
import { pathEntries } from './ip-window-stats.ts';

export interface AttackerGroup {
  readonly members: Participant[];
  readonly startMs: number;
  readonly endMs: number;
  readonly excess: number;
}

/** Aggregation prefix of an address: `a.b.c.0/24` for IPv4, the first three groups `/48` for IPv6, else the string itself. */
export function networkKey(ip: string): string {
  if (ip.includes(':')) {
    const dbl = ip.indexOf('::');
    let groups: string[];
    if (dbl >= 0) {
      const head = ip.slice(0, dbl).split(':').filter((x) => x !== '');
      const tail = ip.slice(dbl + 2).split(':').filter((x) => x !== '');
      groups = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
    } else groups = ip.split(':');
    const first = groups.slice(0, 3).map((g) => (g.replace(/^0+(?=.)/, '') || '0').toLowerCase());
    while (first.length > 0 && first[first.length - 1] === '0') first.pop();
    return `${first.join(':')}::/48`;
  }
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+$/.exec(ip);
  return m === null ? ip : `${m[1]}.${m[2]}.${m[3]}.0/24`;
}

interface Group {
  members: Participant[];
  startMs: number;
  endMs: number;
  excess: number;
  requests: number;
  paths: Map<string, number>;
}

function topPaths(g: Group): Set<string> {
  const rows = [...g.paths].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = new Set<string>();
  let acc = 0;
  for (const [p, c] of rows) {
    out.add(p);
    acc += c;
    if (acc >= 0.8 * g.requests) break;
  }
  return out;
}

function similarPaths(a: Set<string>, b: Set<string>): boolean {
  let common = 0;
  for (const p of a) if (b.has(p)) common++;
  return common > 0 && common / Math.min(a.size, b.size) >= 0.5;
}

export function splitAttackers(attackers: readonly Participant[], windowDurationS: number): AttackerGroup[] {
  const byNet = new Map<string, Group>();
  for (const p of attackers) {
    const key = networkKey(p.stats.ip);
    let g = byNet.get(key);
    if (g === undefined) {
      g = { members: [], startMs: Infinity, endMs: -Infinity, excess: 0, requests: 0, paths: new Map() };
      byNet.set(key, g);
    }
    g.members.push(p);
    g.startMs = Math.min(g.startMs, p.stats.firstMs);
    g.endMs = Math.max(g.endMs, p.stats.lastMs);
    g.excess += p.excess;
    g.requests += p.stats.requests;
    if (p.stats.paths === null) g.paths.set('(many paths)', (g.paths.get('(many paths)') ?? 0) + p.stats.requests);
    else for (const [path, c] of pathEntries(p.stats.paths)) g.paths.set(path, (g.paths.get(path) ?? 0) + c);
  }
  const groups = [...byNet.keys()].sort().map((k) => byNet.get(k)!);
  const tolMs = Math.max(60, 0.15 * windowDurationS) * 1000;
  // Union-find: same paths and same interval → same event.
  const parent = groups.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const sig = groups.map(topPaths);
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      const a = groups[i]!;
      const b = groups[j]!;
      const sameTime = Math.abs(a.startMs - b.startMs) <= tolMs && Math.abs(a.endMs - b.endMs) <= tolMs;
      if (sameTime && similarPaths(sig[i]!, sig[j]!)) parent[find(i)] = find(j);
    }
  }
  const events = new Map<number, Group>();
  groups.forEach((g, i) => {
    const r = find(i);
    const e = events.get(r);
    if (e === undefined) events.set(r, { ...g, members: [...g.members], paths: new Map(g.paths) });
    else {
      e.members.push(...g.members);
      e.startMs = Math.min(e.startMs, g.startMs);
      e.endMs = Math.max(e.endMs, g.endMs);
      e.excess += g.excess;
      e.requests += g.requests;
    }
  });
  const total = attackers.reduce((a, p) => a + p.excess, 0);
  const list = [...events.values()].sort((a, b) => b.excess - a.excess || a.startMs - b.startMs);
  const big = list.filter((e) => e.excess >= 0.15 * total);
  if (big.length < 2) return [{ members: [...attackers], startMs: minOf(attackers, true), endMs: minOf(attackers, false), excess: total }];
  // Small events join the big event nearest in time.
  for (const e of list) {
    if (big.includes(e)) continue;
    let best = big[0]!;
    let bestD = Infinity;
    for (const b of big) {
      const d = Math.abs(b.startMs - e.startMs) + Math.abs(b.endMs - e.endMs);
      if (d < bestD) {
        bestD = d;
        best = b;
      }
    }
    best.members.push(...e.members);
    best.excess += e.excess;
  }
  const byExcess = (a: Participant, b: Participant): number => b.excess - a.excess || (a.stats.ip < b.stats.ip ? -1 : 1);
  return big
    .map((e) => ({ members: e.members.sort(byExcess), startMs: e.startMs, endMs: e.endMs, excess: e.excess }))
    .sort((a, b) => a.startMs - b.startMs || b.excess - a.excess);
}

function minOf(ps: readonly Participant[], first: boolean): number {
  let v = first ? Infinity : -Infinity;
  for (const p of ps) v = first ? Math.min(v, p.stats.firstMs) : Math.max(v, p.stats.lastMs);
  return v;
}
