/**
 * Per-burst blocklists: the burst's attacker addresses aggregated into the
 * fewest CIDR prefixes that cover all of them and no "normal" address (any
 * client seen in the inputs that is not an attacker of this burst), IPv4 and
 * IPv6 separately. Pure: the caller passes the sorted client addresses
 * (`ClientSetSnapshot` from core).
 *
 * Algorithm (per address family, addresses as BigInt): sort the attackers;
 * take the narrowest prefix T holding all attackers of the current node. If T
 * is no shorter than the floor and holds no normal address (two binary
 * searches: clients in range minus this burst's attackers in range), emit T.
 * Otherwise split T at its next bit (both halves hold attackers) and recurse;
 * a single address is always emitted as /32 or /128. Cleanliness is inherited
 * downwards, so every emitted T lies in a maximal clean prefix holding the
 * same attackers, and distinct maximal clean prefixes are disjoint: the count
 * is the minimum, and each prefix is the narrowest that keeps it so (a lone
 * attacker stays a /32 even when its /16 has no other client).
 *
 * The floor (default /16 for IPv4, /32 for IPv6) bounds the width whatever the
 * client set says: an address range nobody visited from is not evidence that
 * it is safe to block.
 */
import type { Attacker, Burst, ClientSetSnapshot } from '@alf/core';
import { formatIpv4, formatIpv6, parseIp } from '@alf/geo';
import { isoSeconds } from './pack-tables.ts';
import type { AnalysisPackInput } from './types.ts';

export interface BlocklistOptions {
  /** Shortest IPv4 prefix ever emitted (default 16). */
  readonly ipv4FloorBits?: number;
  /** Shortest IPv6 prefix ever emitted (default 32). */
  readonly ipv6FloorBits?: number;
}

export const DEFAULT_BLOCKLIST_OPTIONS: { readonly ipv4FloorBits: number; readonly ipv6FloorBits: number } = {
  ipv4FloorBits: 16,
  ipv6FloorBits: 32,
};

/** One prefix of a blocklist. */
export interface BlockPrefix {
  readonly version: 4 | 6;
  /** First address of the prefix (IPv4 value or 128-bit IPv6 value). */
  readonly base: bigint;
  readonly bits: number;
  /** CIDR text (`198.51.100.0/24`, RFC 5952 for IPv6). */
  readonly cidr: string;
  /** Attacker addresses of the burst inside it. */
  readonly attackers: number;
}

export interface Blocklist {
  readonly burstId: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Distinct attacker addresses listed (IPv4, IPv6). */
  readonly ipv4Attackers: number;
  readonly ipv6Attackers: number;
  /** Attackers logged as host names: not addresses, not listed. */
  readonly hostNameAttackers: number;
  /** IPv4 prefixes first, each family ascending. */
  readonly prefixes: readonly BlockPrefix[];
  /** Normal clients inside the prefixes, counted after aggregation (0 by construction). */
  readonly normalCovered: number;
  /** Normal clients known (clients seen minus this burst's attackers). */
  readonly normalClients: number;
  /** False when the client set hit its cap: clients it dropped were not checked. */
  readonly normalCheckComplete: boolean;
  readonly incompleteReason: string | null;
  readonly ipv4FloorBits: number;
  readonly ipv6FloorBits: number;
  /** CIDR of the prefix holding each listed attacker address (by the attacker's `ip` text). */
  readonly prefixOfIp: ReadonlyMap<string, string>;
}

// ---------------------------------------------------------------------------
// Sorted-array searches

/** First index in sorted `a` with a[i] >= x. */
function lowerBoundBig(a: readonly bigint[], x: bigint, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lowerBoundV4(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const MASK32 = 0xffffffffn;

function v6Words(x: bigint): [number, number, number, number] {
  return [Number((x >> 96n) & MASK32), Number((x >> 64n) & MASK32), Number((x >> 32n) & MASK32), Number(x & MASK32)];
}

/** First address index (not word index) in 4-word sorted `a` whose value is >= x. */
function lowerBoundV6(a: Uint32Array, x: bigint): number {
  const w = v6Words(x);
  let lo = 0;
  let hi = a.length >>> 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let d = 0;
    for (let k = 0; k < 4 && d === 0; k++) d = a[mid * 4 + k]! - w[k]!;
    if (d < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Clients of one family in [lo, hi] (inclusive); `end` is 2^bits. */
type RangeCount = (lo: bigint, hi: bigint) => number;

function clientCounter(clients: ClientSetSnapshot, version: 4 | 6): RangeCount {
  if (version === 4) {
    const a = clients.ipv4;
    return (lo, hi) => lowerBoundV4(a, Number(hi) + 1) - lowerBoundV4(a, Number(lo));
  }
  const a = clients.ipv6;
  const top = (1n << 128n) - 1n;
  return (lo, hi) => (hi === top ? a.length >>> 2 : lowerBoundV6(a, hi + 1n)) - lowerBoundV6(a, lo);
}

// ---------------------------------------------------------------------------
// Aggregation

function commonPrefixBits(a: bigint, b: bigint, bits: number): number {
  let x = a ^ b;
  let n = bits;
  while (x > 0n) {
    x >>= 1n;
    n--;
  }
  return n;
}

/**
 * The fewest prefixes, each no shorter than `floorBits`, covering every address
 * of `sorted` (ascending, distinct) and no address that `normalIn` counts; each
 * as narrow as it can be. Single addresses are always emitted at full length.
 */
export function aggregateAddresses(
  sorted: readonly bigint[], bits: number, floorBits: number, normalIn: (lo: bigint, hi: bigint) => number,
): { base: bigint; bits: number; count: number }[] {
  const out: { base: bigint; bits: number; count: number }[] = [];
  const visit = (i: number, j: number): void => {
    const len = commonPrefixBits(sorted[i]!, sorted[j - 1]!, bits);
    const hostBits = BigInt(bits - len);
    const base = (sorted[i]! >> hostBits) << hostBits;
    const hi = base + (1n << hostBits) - 1n;
    if (len === bits || (len >= floorBits && normalIn(base, hi) === 0)) {
      out.push({ base, bits: len, count: j - i });
      return;
    }
    const k = lowerBoundBig(sorted, base + (1n << (hostBits - 1n)), i, j);
    visit(i, k);
    visit(k, j);
  };
  if (sorted.length > 0) visit(0, sorted.length);
  return out;
}

function bigToHextets(x: bigint): Uint16Array {
  const h = new Uint16Array(8);
  for (let i = 7; i >= 0; i--) {
    h[i] = Number(x & 0xffffn);
    x >>= 16n;
  }
  return h;
}

function cidrText(version: 4 | 6, base: bigint, bits: number): string {
  return version === 4 ? `${formatIpv4(Number(base))}/${bits}` : `${formatIpv6(bigToHextets(base))}/${bits}`;
}

/** The value of an attacker's address, or null for a host name. */
function addressOf(ip: string): { version: 4 | 6; value: bigint } | null {
  const p = parseIp(ip);
  if (!p) return null;
  if (p.version === 4) return { version: 4, value: BigInt(p.value) };
  let v = 0n;
  for (const h of p.hextets) v = (v << 16n) | BigInt(h);
  return { version: 6, value: v };
}

function uniqueSorted(values: bigint[]): bigint[] {
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return values.filter((v, i) => i === 0 || values[i - 1] !== v);
}

/**
 * The blocklist of one burst. `attackers` may hold other bursts' rows (they are
 * filtered by `burstId`); they count as normal clients here when `clients` has them.
 */
export function buildBlocklist(
  burst: Burst, attackers: readonly Attacker[], clients: ClientSetSnapshot, opts: BlocklistOptions = {},
): Blocklist {
  const floor4 = opts.ipv4FloorBits ?? DEFAULT_BLOCKLIST_OPTIONS.ipv4FloorBits;
  const floor6 = opts.ipv6FloorBits ?? DEFAULT_BLOCKLIST_OPTIONS.ipv6FloorBits;
  const byFamily: { 4: bigint[]; 6: bigint[] } = { 4: [], 6: [] };
  const ipsByValue = new Map<string, string[]>(); // `${version}:${value}` → ip texts
  let hostNames = 0;
  for (const a of attackers) {
    if (a.burstId !== burst.burstId) continue;
    const addr = addressOf(a.ip);
    if (!addr) {
      hostNames++;
      continue;
    }
    byFamily[addr.version].push(addr.value);
    const key = `${addr.version}:${addr.value}`;
    const texts = ipsByValue.get(key);
    if (texts) texts.push(a.ip);
    else ipsByValue.set(key, [a.ip]);
  }
  const prefixes: BlockPrefix[] = [];
  const prefixOfIp = new Map<string, string>();
  let normalCovered = 0;
  let normalClients = 0;
  for (const version of [4, 6] as const) {
    const sorted = uniqueSorted(byFamily[version]);
    byFamily[version] = sorted;
    const clientsIn = clientCounter(clients, version);
    // This burst's attackers that the client set holds: not normal.
    const known = sorted.filter((v) => clientsIn(v, v) > 0);
    const normalIn = (lo: bigint, hi: bigint): number =>
      clientsIn(lo, hi) - (lowerBoundBig(known, hi + 1n) - lowerBoundBig(known, lo));
    const all = version === 4 ? clients.ipv4.length : clients.ipv6.length >>> 2;
    normalClients += all - known.length;
    const bits = version === 4 ? 32 : 128;
    for (const p of aggregateAddresses(sorted, bits, version === 4 ? floor4 : floor6, normalIn)) {
      const cidr = cidrText(version, p.base, p.bits);
      prefixes.push({ version, base: p.base, bits: p.bits, cidr, attackers: p.count });
      // Counted again over the final prefix, independently of how it was chosen.
      normalCovered += normalIn(p.base, p.base + (1n << BigInt(bits - p.bits)) - 1n);
      const hi = p.base + (1n << BigInt(bits - p.bits));
      for (let i = lowerBoundBig(sorted, p.base); i < sorted.length && sorted[i]! < hi; i++) {
        for (const ip of ipsByValue.get(`${version}:${sorted[i]!}`) ?? []) prefixOfIp.set(ip, cidr);
      }
    }
  }
  return {
    burstId: burst.burstId,
    startMs: burst.startMs,
    endMs: burst.endMs,
    ipv4Attackers: byFamily[4].length,
    ipv6Attackers: byFamily[6].length,
    hostNameAttackers: hostNames,
    prefixes,
    normalCovered,
    normalClients,
    normalCheckComplete: clients.complete,
    incompleteReason: clients.incompleteReason,
    ipv4FloorBits: floor4,
    ipv6FloorBits: floor6,
    prefixOfIp,
  };
}

// ---------------------------------------------------------------------------
// Files

/** Pack-relative names of a burst's blocklist files. */
export function blocklistFileNames(burstId: number): { readonly txt: string; readonly nginx: string; readonly nft: string; readonly ipset: string } {
  const stem = `blocklists/burst-${burstId}`;
  return { txt: `${stem}.txt`, nginx: `${stem}.nginx.conf`, nft: `${stem}.nft`, ipset: `${stem}.ipset` };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The `#` comment header shared by every format (tool-written text only). */
function header(bl: Blocklist, format: string): string[] {
  const v4 = bl.prefixes.filter((p) => p.version === 4).length;
  const lines = [
    `# alf blocklist (${format}): burst ${bl.burstId}`,
    `# window: ${isoSeconds(bl.startMs) ?? '-'} to ${isoSeconds(bl.endMs) ?? '-'} (UTC)`,
    `# attacker addresses: ${bl.ipv4Attackers + bl.ipv6Attackers} (IPv4 ${bl.ipv4Attackers}, IPv6 ${bl.ipv6Attackers})`,
    `# prefixes: ${bl.prefixes.length} (IPv4 ${v4}, IPv6 ${bl.prefixes.length - v4}); never shorter than /${bl.ipv4FloorBits} (IPv4), /${bl.ipv6FloorBits} (IPv6)`,
    `# normal clients covered: ${bl.normalCovered} (of ${count(bl.normalClients, 'normal client', 'normal clients')} seen in the inputs)`,
  ];
  if (bl.normalCheckComplete) lines.push('# normal-client check: complete (every distinct client address of the inputs)');
  else lines.push(`# normal-client check incomplete: ${bl.incompleteReason ?? 'the client set hit its cap'}; clients past the cap were not checked`);
  if (bl.hostNameAttackers > 0) {
    lines.push(`# not listed: ${count(bl.hostNameAttackers, 'attacker', 'attackers')} logged as a host name, not an address`);
  }
  return lines;
}

/** `blocklists/burst-<id>.txt`: header, then one CIDR per line. */
export function blocklistTxt(bl: Blocklist): string {
  return [...header(bl, 'plain CIDR list'), ...bl.prefixes.map((p) => p.cidr), ''].join('\n');
}

/** `blocklists/burst-<id>.nginx.conf`: `deny <cidr>;` lines (include inside `http`, `server` or `location`). */
export function blocklistNginx(bl: Blocklist): string {
  return [
    ...header(bl, 'nginx'),
    '# include inside an http, server or location block',
    ...bl.prefixes.map((p) => `deny ${p.cidr};`),
    '',
  ].join('\n');
}

function nftSet(name: string, type: string, cidrs: readonly string[]): string[] {
  const lines = [`  set ${name} {`, `    type ${type};`, '    flags interval;'];
  if (cidrs.length > 0) {
    lines.push('    elements = {');
    cidrs.forEach((c, i) => lines.push(`      ${c}${i < cidrs.length - 1 ? ',' : ''}`));
    lines.push('    }');
  }
  lines.push('  }');
  return lines;
}

/** `blocklists/burst-<id>.nft`: table `inet alf` with one interval set per family (`nft -f`). */
export function blocklistNft(bl: Blocklist): string {
  const v4 = `burst_${bl.burstId}_v4`;
  const v6 = `burst_${bl.burstId}_v6`;
  return [
    ...header(bl, 'nftables'),
    '# load with `nft -f` (adds the sets to table inet alf), then drop from a chain of yours, e.g.:',
    `#   nft add rule inet alf input ip saddr @${v4} drop`,
    `#   nft add rule inet alf input ip6 saddr @${v6} drop`,
    'table inet alf {',
    ...nftSet(v4, 'ipv4_addr', bl.prefixes.filter((p) => p.version === 4).map((p) => p.cidr)),
    ...nftSet(v6, 'ipv6_addr', bl.prefixes.filter((p) => p.version === 6).map((p) => p.cidr)),
    '}',
    '',
  ].join('\n');
}

/** `blocklists/burst-<id>.ipset`: `ipset restore` lines (hash:net per family). */
export function blocklistIpset(bl: Blocklist): string {
  const v4 = `alf-burst-${bl.burstId}-v4`;
  const v6 = `alf-burst-${bl.burstId}-v6`;
  return [
    ...header(bl, 'ipset'),
    `# load with: grep -v '^#' burst-${bl.burstId}.ipset | ipset restore`,
    `# then e.g.: iptables -I INPUT -m set --match-set ${v4} src -j DROP; ip6tables -I INPUT -m set --match-set ${v6} src -j DROP`,
    `create ${v4} hash:net family inet -exist`,
    ...bl.prefixes.filter((p) => p.version === 4).map((p) => `add ${v4} ${p.cidr} -exist`),
    `create ${v6} hash:net family inet6 -exist`,
    ...bl.prefixes.filter((p) => p.version === 6).map((p) => `add ${v6} ${p.cidr} -exist`),
    '',
  ].join('\n');
}

/** Every blocklist file of a burst, as [pack-relative name, content]. */
export function blocklistFiles(bl: Blocklist): Array<[name: string, content: string]> {
  const n = blocklistFileNames(bl.burstId);
  return [
    [n.txt, blocklistTxt(bl)],
    [n.nginx, blocklistNginx(bl)],
    [n.nft, blocklistNft(bl)],
    [n.ipset, blocklistIpset(bl)],
  ];
}

const cache = new WeakMap<object, ReadonlyMap<number, Blocklist>>();

/**
 * Blocklists of every burst of a pack input, by burst id; null when the input
 * has no client set (`AnalysisPackInput.clients`), so no blocklist is written.
 * Memoised per input object (summary.md and the files share one computation).
 */
export function burstBlocklists(input: AnalysisPackInput): ReadonlyMap<number, Blocklist> | null {
  const clients = input.clients;
  if (!clients) return null;
  const hit = cache.get(input);
  if (hit) return hit;
  const byBurst = new Map<number, Attacker[]>();
  for (const a of input.result.attackers) {
    const list = byBurst.get(a.burstId);
    if (list) list.push(a);
    else byBurst.set(a.burstId, [a]);
  }
  const out = new Map<number, Blocklist>();
  for (const b of input.result.bursts) out.set(b.burstId, buildBlocklist(b, byBurst.get(b.burstId) ?? [], clients, input.blocklist));
  cache.set(input, out);
  return out;
}
