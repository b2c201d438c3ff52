/**
 * Attribution: which IPs took part in a burst window, from pass-2 counts.
 * An IP is attributed when its requests inside the window are clearly above
 * what its own rate in the reference periods predicts (or it is new there) and
 * its excess is at least the ordinary heavy visitor's count (p99 of per-IP
 * requests in the reference periods, at least `minAttackerRequests`).
 * In SQL: one GROUP BY ip over the window and its reference periods.
 */
import { IP_KIND_HOSTNAME, IP_KIND_V4, IP_KIND_V6 } from '@alf/parser';
import { hashString } from './hash.ts';
import { ROLE_INSIDE, ROLE_REF, clientKey } from './ip-counts.ts';
import { countEntries, newIpStats, pathEntries, pathRequests } from './ip-window-stats.ts';
import type { IpWindowStats, WindowState } from './window-counts.ts';

export interface Participant {
  /** Per-IP detail; `requests` is the exact inside count (other fields may be partial, see `detail`). */
  readonly stats: IpWindowStats;
  /** `rate`: above its own expectation; `signature`: a light new IP doing exactly what the attackers do. */
  readonly by: 'rate' | 'signature';
  /** Requests in the reference periods (exact). */
  readonly refRequests: number;
  readonly expected: number;
  readonly excess: number;
  /** `full`: detail of every request (sampled, or from a detail pass); `none`: exact counts only. */
  readonly detail: 'full' | 'none';
}

export interface WindowAttribution {
  readonly durationS: number;
  readonly refDurationS: number;
  /** The per-IP excess an IP needed to be attributed. */
  readonly threshold: number;
  /** Exact number of distinct IPs with a request inside the window. */
  readonly distinctIps: number;
  readonly attackers: Participant[];
  /** Non-attributed IPs with detail (all of them while the window is under its detail cap). */
  readonly others: Participant[];
}

/** Counts below this go into the histogram of `quantileOfCounts`; the few above it into a list. */
const SMALL_COUNTS = 65_536;

/**
 * The nearest-rank quantile q of n counts (`sorted[ceil(q·n) − 1]` of the counts sorted), from
 * `hist[c]` = how many counts equal c (for c < SMALL_COUNTS) and the larger ones in `large`.
 */
export function quantileOfCounts(hist: ArrayLike<number>, large: number[], n: number, q: number): number {
  if (n === 0) return 0;
  const pos = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  let seen = 0;
  for (let c = 0; c < hist.length; c++) {
    seen += hist[c]!;
    if (seen > pos) return c;
  }
  large.sort((a, b) => a - b);
  return large[pos - seen]!;
}

const KIND_OF_KEY = [IP_KIND_HOSTNAME, 0, 0, 0, IP_KIND_V4, 0, IP_KIND_V6];

/** The rate test of a window: the per-IP bar (p99 of reference counts, at least `minAttackerRequests`) and the expectation from an IP's reference count. */
interface AttackerBar {
  readonly durationS: number;
  readonly refDurationS: number;
  readonly threshold: number;
  readonly distinctIps: number;
  readonly expectedOf: (refRequests: number) => number;
  readonly isAttacker: (requests: number, expected: number) => boolean;
}

function attackerBar(w: WindowState, minAttackerRequests: number): AttackerBar {
  const durationS = (w.insideToMs - w.insideFromMs) / 1000;
  const refDurationS = w.refDurationMs / 1000;
  // Exact counts of every IP: the heavy-visitor bar and the rate test. The p99 of the reference
  // counts comes from a histogram of them, not a sorted copy (10M reference IPs: 40 MB and a sort).
  const hist = new Uint32Array(SMALL_COUNTS);
  const large: number[] = [];
  let nRef = 0;
  let distinctIps = 0;
  w.counts.forEach((inside, ref) => {
    if (ref > 0) {
      nRef++;
      if (ref < SMALL_COUNTS) hist[ref]!++;
      else large.push(ref);
    }
    if (inside > 0) distinctIps++;
  });
  const p99 = nRef >= 20 ? quantileOfCounts(hist, large, nRef, 0.99) : 0;
  const threshold = Math.max(minAttackerRequests, Math.ceil(p99));
  return {
    durationS, refDurationS, threshold, distinctIps,
    expectedOf: (refRequests) => (refDurationS > 0 ? (refRequests * durationS) / refDurationS : 0),
    isAttacker: (requests, expected) => requests - expected >= threshold && requests >= 3 * expected + 3 * Math.sqrt(expected) + 1,
  };
}

/**
 * What a detail pass must collect for a window past its detail cap: the attackers by rate outside
 * the detail sample (as `attributeWindow` finds them, most excess first, at most `room`), and the
 * per-IP bar. Reads only the count tables: the sampled IPs' detail is not turned into objects.
 */
export function missingAttackers(w: WindowState, minAttackerRequests: number, room: number): { readonly ips: string[]; readonly threshold: number } {
  const bar = attackerBar(w, minAttackerRequests);
  const found: { ip: string; excess: number }[] = [];
  forEachUnsampledAttacker(w, bar, (ip, inside, _ref, expected) => found.push({ ip, excess: inside - expected }));
  const { threshold } = bar;
  found.sort((a, b) => b.excess - a.excess || (a.ip < b.ip ? -1 : 1));
  return { ips: found.slice(0, Math.max(0, room)).map((f) => f.ip), threshold };
}

/** Calls `visit` for every IP attributed by rate (exact counts) that has no detail in the window's sample (`ips`, `heavy`). */
function forEachUnsampledAttacker(w: WindowState, bar: AttackerBar, visit: (ip: string, inside: number, ref: number, expected: number, kind: number) => void): void {
  if (w.limit >= 2 ** 32) return;
  const { threshold, expectedOf, isAttacker } = bar;
  w.counts.forEach((inside, ref, kind, textOf) => {
    if (inside < threshold) return;
    const expected = expectedOf(ref);
    if (!isAttacker(inside, expected)) return;
    const ip = textOf();
    if (!w.ips.has(ip) && !w.heavy.has(ip)) visit(ip, inside, ref, expected, kind);
  });
}

/**
 * `detail`: the same window from a detail pass (`WindowCounts.detailFor`), holding the
 * detail of attackers that the sample missed.
 */
export function attributeWindow(w: WindowState, minAttackerRequests: number, windowExcess: number, detail?: WindowState): WindowAttribution {
  const bar = attackerBar(w, minAttackerRequests);
  const { durationS, refDurationS, threshold, distinctIps, expectedOf, isAttacker } = bar;

  const attackers: Participant[] = [];
  const others: Participant[] = [];
  const key = clientKey('');
  const sampled = (ip: string): boolean => w.ips.has(ip) || w.heavy.has(ip);
  for (const map of [w.ips, w.heavy]) {
    for (const s of map.values()) {
      clientKey(s.ip, key);
      const requests = w.counts.get(key, ROLE_INSIDE);
      const refRequests = w.counts.get(key, ROLE_REF);
      const expected = expectedOf(refRequests);
      const full = requests === s.requests;
      const p: Participant = {
        stats: full ? s : { ...s, requests }, by: 'rate', refRequests, expected, excess: requests - expected, detail: 'full',
      };
      if (isAttacker(requests, expected)) attackers.push(p);
      else others.push(p);
    }
  }
  // Attackers outside the sample: exact counts, detail from the detail pass when it ran, else
  // none (the window's bounds as first/last seen).
  forEachUnsampledAttacker(w, bar, (ip, inside, ref, expected, kind) => {
    const d = detail?.heavy.get(ip);
    if (d !== undefined && d.requests === inside) {
      attackers.push({ stats: d, by: 'rate', refRequests: ref, expected, excess: inside - expected, detail: 'full' });
      return;
    }
    const s = newIpStats(ip, hashString(ip));
    s.ipKind = KIND_OF_KEY[kind] ?? IP_KIND_HOSTNAME;
    s.requests = inside;
    s.firstMs = w.insideFromMs;
    s.lastMs = w.insideToMs - 1000;
    s.paths = null;
    s.userAgents = null;
    attackers.push({ stats: s, by: 'rate', refRequests: ref, expected, excess: inside - expected, detail: 'none' });
  });
  // Light new IPs outside the sample whose detail the detail pass collected: candidates for
  // signature attribution only (the cluster tables keep the uniform sample).
  const candidates: Participant[] = [];
  if (detail !== undefined) {
    const attackerIps = new Set(attackers.map((p) => p.stats.ip));
    for (const s of detail.heavy.values()) {
      if (sampled(s.ip) || attackerIps.has(s.ip)) continue;
      const refRequests = w.counts.get(clientKey(s.ip, key), ROLE_REF);
      const expected = expectedOf(refRequests);
      candidates.push({ stats: s, by: 'rate', refRequests, expected, excess: s.requests - expected, detail: 'full' });
    }
  }
  const pool = candidates.length > 0 ? [...others, ...candidates] : others;
  const extra = bySignature(attackers, pool);
  if (extra.length === 0) extra.push(...byRandomQueries(pool, w, durationS, refDurationS, windowExcess));
  const byExcess = (a: Participant, b: Participant): number => b.excess - a.excess || (a.stats.ip < b.stats.ip ? -1 : 1);
  const all = [...attackers, ...extra].sort(byExcess);
  const taken = new Set(extra.map((p) => p.stats));
  const rest = others.filter((p) => !taken.has(p.stats)).sort(byExcess);
  return { durationS, refDurationS, threshold, distinctIps, attackers: all, others: rest };
}

/**
 * A botnet too thin for any member to stand out, busting caches: new IPs that
 * request no assets and put random query strings on at least half of their
 * requests are attributed when there are 20 or more of them, they carry at
 * least half of the window's excess, and random query strings are rare around
 * the window (less than a tenth of their volume at the reference rate).
 */
function byRandomQueries(others: readonly Participant[], w: WindowState, durationS: number, refDurationS: number, windowExcess: number): Participant[] {
  const cands = others.filter((o) => {
    const s = o.stats;
    return o.refRequests === 0 && s.requests >= 2 && s.assets === 0 && s.randomQuery >= 0.5 * s.requests;
  });
  if (cands.length < 20) return [];
  const volume = cands.reduce((a, o) => a + o.stats.requests, 0);
  const expectedRandom = refDurationS > 0 ? (w.reference.randomQuery * durationS) / refDurationS : 0;
  if (volume < 0.5 * windowExcess || expectedRandom > 0.1 * volume) return [];
  return cands.map((o) => ({ ...o, by: 'signature' as const }));
}

/**
 * Detail pass: the light new IPs (no reference request, 2 or more inside, under the attacker
 * bar) that signature attribution would look at, the heaviest first, at most `room` of them
 * (a count cut, so the choice does not depend on order: ties at the cut are all left out).
 * IPs in the detail sample are skipped (they have detail already).
 */
export function signatureCandidates(w: WindowState, threshold: number, room: number): string[] {
  if (room <= 0) return [];
  const hist = new Float64Array(Math.max(3, threshold + 1));
  w.counts.forEach((inside, ref) => {
    if (ref === 0 && inside >= 2 && inside < threshold) hist[inside] = hist[inside]! + 1;
  });
  let cut = threshold;
  let taken = 0;
  while (cut > 2 && taken + hist[cut - 1]! <= room) taken += hist[--cut]!;
  const out: string[] = [];
  if (cut >= threshold) return out;
  w.counts.forEach((inside, ref, _kind, textOf) => {
    if (ref !== 0 || inside < cut || inside >= threshold) return;
    const ip = textOf();
    if (hashString(ip) >= w.limit) out.push(ip);
  });
  return out;
}

function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/**
 * A wide botnet spreads its requests so thin that many members stay under the
 * per-IP bar. When at least 20 attributed IPs share one signature — one path
 * for 60%+ of their requests, no assets, and either random query strings on
 * half their requests or a user agent they all use — new IPs (none in the
 * reference periods) whose every request fits that signature are attributed too.
 */
function bySignature(attackers: readonly Participant[], others: readonly Participant[]): Participant[] {
  if (attackers.length < 20) return [];
  const pathReq = new Map<string, number>();
  let req = 0;
  let rq = 0;
  let assets = 0;
  const uaReq = new Map<string, number>();
  for (const a of attackers) {
    const s = a.stats;
    req += s.requests;
    rq += s.randomQuery;
    assets += s.assets;
    if (s.paths !== null) for (const [p, c] of pathEntries(s.paths)) pathReq.set(p, (pathReq.get(p) ?? 0) + c);
    if (s.userAgents !== null) for (const [u, c] of countEntries(s.userAgents)) uaReq.set(u, (uaReq.get(u) ?? 0) + c);
  }
  const top = [...pathReq].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
  if (top === undefined || share(top[1], req) < 0.6 || share(assets, req) > 0.01) return [];
  const randomSig = share(rq, req) >= 0.5;
  const uas = new Set([...uaReq].filter(([, c]) => share(c, req) >= 0.01).map(([u]) => u));
  if (!randomSig && uas.size > 5) return [];
  const out: Participant[] = [];
  for (const o of others) {
    const s = o.stats;
    if (o.refRequests > 0 || s.requests < 2 || s.assets > 0 || s.paths === null || s.userAgents === null) continue;
    if (pathRequests(s.paths, top[0]) !== s.requests) continue;
    if (randomSig ? s.randomQuery < 0.5 * s.requests : !countEntries(s.userAgents).every(([u]) => uas.has(u))) continue;
    out.push({ ...o, by: 'signature' });
  }
  return out;
}
