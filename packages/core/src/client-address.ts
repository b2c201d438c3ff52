/**
 * `--trusted-proxy`: which address identifies the client. By default it is the
 * logged remote address. Behind the user's own proxies (load balancers, CDNs
 * they run) that address is a proxy, and the client is in X-Forwarded-For,
 * which every hop appends to. X-Forwarded-For is attacker-written: it is read
 * only for rows whose logged address is a trusted proxy.
 *
 * The walk (as nginx `real_ip_recursive on`): from the right-most entry
 * leftwards, skip entries that are trusted proxies; the first entry that is
 * not is the client. The walk stops, keeping the last trusted hop (the logged
 * address or a trusted X-Forwarded-For entry) as the client, when
 * - every entry is a trusted proxy;
 * - an entry is malformed: not an IP address (host names, `unknown`, empty
 *   entries, `010.1.1.1`), longer than 64 characters, or after 32 hops.
 *   Entries to its left were written by whoever sent the malformed one and
 *   cannot be trusted.
 * Entries may carry a port: `1.2.3.4:5678` and `[2001:db8::1]:443` are read as
 * the address (some proxies append the client port); a bare IPv6 address is
 * never cut at a colon. Addresses are canonicalised with `canonicalIp`
 * (`::ffff:1.2.3.4` → `1.2.3.4`, zone ids stripped).
 *
 * `resolveClients` is a stateless step over a batch: it works once per
 * distinct X-Forwarded-For value of the batch (the outcome of the walk does not
 * depend on which trusted proxy logged the row), not once per row.
 */
import { AlfError, IP_KIND_V4, IP_KIND_V6, canonicalIp } from '@alf/parser';
import type { DictColumn, RecordBatch } from '@alf/parser';
import { formatIpv4, formatIpv6, parseIp } from '@alf/geo';

/** Longest X-Forwarded-For entry read (a bracketed IPv6 with zone and port fits). */
const MAX_ENTRY_CHARS = 64;
/** Most X-Forwarded-For entries walked per value. */
const MAX_HOPS = 32;

/** A set of trusted proxy networks. */
export interface ProxyMatcher {
  /** The networks in canonical CIDR text (`10.0.0.0/8`, `2001:db8::/32`), as given order, without duplicates. */
  readonly cidrs: readonly string[];
  /** True when `ip` (IPv4 or IPv6 text) is inside one of the networks. Host names and garbage: false. */
  contains(ip: string): boolean;
}

interface V4Net { readonly base: number; readonly bits: number }
interface V6Net { readonly hextets: Uint16Array; readonly bits: number }

function badCidr(given: string, why: string): AlfError {
  return new AlfError('ALF_USAGE',
    `\`--trusted-proxy\` must be an IPv4 or IPv6 network in CIDR form (e.g. 10.0.0.0/8, 192.168.1.7, 2001:db8::/32); got \`${given.slice(0, 80)}\`: ${why}`,
    { option: 'trusted-proxy', given: given.slice(0, 200) });
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function maskV6(h: ArrayLike<number>, bits: number): Uint16Array {
  const out = new Uint16Array(8);
  for (let k = 0, left = bits; k < 8 && left > 0; k++, left -= 16) {
    out[k] = (h[k] as number) & (left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff);
  }
  return out;
}

function inV6(h: ArrayLike<number>, net: V6Net): boolean {
  let bits = net.bits;
  for (let k = 0; k < 8 && bits > 0; k++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((h[k] as number) & mask) !== net.hextets[k]) return false;
  }
  return true;
}

/**
 * A matcher for trusted proxy networks: `a.b.c.d/n`, IPv6 `x::/n`, or a single
 * address (a /32 or /128). Throws AlfError('ALF_USAGE') on anything else,
 * including a network with host bits set (`10.1.2.3/8`: say `10.0.0.0/8`).
 */
export function trustedProxies(cidrs: readonly string[]): ProxyMatcher {
  const v4: V4Net[] = [];
  const v6: V6Net[] = [];
  const names: string[] = [];
  for (const raw of cidrs) {
    const given = raw.trim();
    if (given === '') throw badCidr(raw, 'empty');
    const slash = given.indexOf('/');
    const addr = slash < 0 ? given : given.slice(0, slash);
    const lenText = slash < 0 ? '' : given.slice(slash + 1);
    const ip = parseIp(addr);
    if (ip === null) throw badCidr(given, `\`${addr.slice(0, 60)}\` is not an IP address`);
    // IPv4-mapped IPv6 networks (::ffff:10.0.0.0/104) come back as IPv4: their length counts from bit 96.
    const mapped = ip.version === 4 && addr.includes(':');
    const maxBits = ip.version === 4 ? 32 : 128;
    let bits = maxBits;
    if (slash >= 0) {
      if (!/^\d{1,3}$/.test(lenText)) throw badCidr(given, `the prefix length \`${lenText.slice(0, 10)}\` is not a number`);
      bits = Number(lenText) - (mapped ? 96 : 0);
      if (bits < 0 || bits > maxBits) throw badCidr(given, `the prefix length must be from ${mapped ? 96 : 0} to ${mapped ? 128 : maxBits}`);
    }
    let name: string;
    if (ip.version === 4) {
      const base = (ip.value & v4Mask(bits)) >>> 0;
      if (base !== ip.value) throw badCidr(given, `host bits are set (did you mean ${formatIpv4(base)}/${bits}?)`);
      v4.push({ base, bits });
      name = `${formatIpv4(base)}/${bits}`;
    } else {
      const hextets = maskV6(ip.hextets, bits);
      const text = formatIpv6(hextets);
      if (text !== formatIpv6(ip.hextets)) throw badCidr(given, `host bits are set (did you mean ${text}/${bits}?)`);
      v6.push({ hextets, bits });
      name = `${text}/${bits}`;
    }
    if (!names.includes(name)) names.push(name);
  }
  return {
    cidrs: names,
    contains(text: string): boolean {
      const ip = parseIp(text);
      if (ip === null) return false;
      if (ip.version === 4) {
        for (const n of v4) if (((ip.value & v4Mask(n.bits)) >>> 0) === n.base) return true;
        return false;
      }
      for (const n of v6) if (inV6(ip.hextets, n)) return true;
      return false;
    },
  };
}

/** One X-Forwarded-For entry as a canonical IP (port and brackets removed), or null when malformed. */
export function forwardedEntry(raw: string): { value: string; kind: number } | null {
  const s = raw.trim();
  if (s.length === 0 || s.length > MAX_ENTRY_CHARS) return null;
  let addr = s;
  if (s.charCodeAt(0) === 91) {
    // [v6] or [v6]:port
    const close = s.indexOf(']');
    if (close < 0) return null;
    const rest = s.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    addr = s.slice(1, close);
  } else {
    const colon = s.indexOf(':');
    // a.b.c.d:port (one colon after a dotted quad); more colons: IPv6, never cut
    if (colon > 0 && colon === s.lastIndexOf(':') && s.indexOf('.') >= 0 && s.indexOf('.') < colon) {
      if (!/^:\d{1,5}$/.test(s.slice(colon))) return null;
      addr = s.slice(0, colon);
    }
  }
  const ip = canonicalIp(addr);
  if (ip === null || (ip.kind !== IP_KIND_V4 && ip.kind !== IP_KIND_V6)) return null;
  return ip;
}

/**
 * The client from an X-Forwarded-For value seen from a trusted proxy: the
 * right-most entry that is not a trusted proxy (see the module comment), or
 * null when there is none (all trusted, empty, or malformed before one);
 * `lastTrusted` is then the last trusted entry walked, if any.
 */
export function walkForwardedFor(xff: string, matcher: ProxyMatcher): { client: { value: string; kind: number } | null; lastTrusted: { value: string; kind: number } | null } {
  let end = xff.length;
  let lastTrusted: { value: string; kind: number } | null = null;
  for (let hops = 0; hops < MAX_HOPS && end >= 0; hops++) {
    const comma = xff.lastIndexOf(',', end - 1);
    const raw = xff.slice(comma + 1, end);
    if (raw.length > MAX_ENTRY_CHARS + 16) return { client: null, lastTrusted };
    const entry = forwardedEntry(raw);
    if (entry === null) return { client: null, lastTrusted };
    if (!matcher.contains(entry.value)) return { client: entry, lastTrusted };
    lastTrusted = entry;
    if (comma < 0) break;
    end = comma;
  }
  return { client: null, lastTrusted };
}

/** What `resolveClients` did to one batch. */
export interface ResolvedClients {
  readonly batch: RecordBatch;
  /** Rows whose client was taken from X-Forwarded-For (an entry that is not a trusted proxy). */
  readonly fromForwardedFor: number;
  /** Rows logged by a trusted proxy without a usable X-Forwarded-For: the client is a trusted proxy's address. */
  readonly proxyKept: number;
}

/**
 * The batch with `ip`/`ipKind` replaced, for rows logged by a trusted proxy,
 * by the client found in their X-Forwarded-For. Other rows are unchanged; a
 * batch where nothing changes is returned as it is (other columns are shared).
 */
export function resolveClients(batch: RecordBatch, matcher: ProxyMatcher): ResolvedClients {
  if (matcher.cidrs.length === 0 || batch.length === 0) return { batch, fromForwardedFor: 0, proxyKept: 0 };
  const ipValues = batch.ip.values;
  const xffValues = batch.forwardedFor.values;
  // Per distinct id: 0 unknown, 1 trusted, 2 not trusted.
  const peerTrusted = new Uint8Array(ipValues.length);
  // Per distinct X-Forwarded-For id: -2 not walked yet, -1 no address from it, else an index into `added`.
  const pickOf = new Int32Array(xffValues.length).fill(-2);
  // Per distinct X-Forwarded-For id: 1 when the pick is a client (not a trusted hop).
  const isClient = new Uint8Array(xffValues.length);
  const added: { value: string; kind: number }[] = [];
  let ids: Int32Array | null = null;
  let kinds: Uint8Array | null = null;
  let fromForwardedFor = 0;
  let proxyKept = 0;
  for (let i = 0; i < batch.length; i++) {
    const ipId = batch.ip.ids[i]!;
    if (ipId < 0) continue;
    let t = peerTrusted[ipId]!;
    if (t === 0) {
      const kind = batch.ipKind[i]!;
      t = (kind === IP_KIND_V4 || kind === IP_KIND_V6) && matcher.contains(ipValues[ipId]!) ? 1 : 2;
      peerTrusted[ipId] = t;
    }
    if (t === 2) continue;
    const xffId = batch.forwardedFor.ids[i]!;
    if (xffId < 0) {
      proxyKept++;
      continue;
    }
    let k = pickOf[xffId]!;
    if (k === -2) {
      const walk = walkForwardedFor(xffValues[xffId]!, matcher);
      const pick = walk.client ?? walk.lastTrusted;
      if (pick === null) k = -1;
      else {
        k = added.length;
        added.push(pick);
      }
      pickOf[xffId] = k;
      isClient[xffId] = walk.client === null ? 0 : 1;
    }
    if (isClient[xffId] === 1) fromForwardedFor++;
    else proxyKept++; // no client in X-Forwarded-For: the logged proxy, or the last trusted hop in it
    if (k < 0) continue;
    ids ??= batch.ip.ids.slice();
    kinds ??= batch.ipKind.slice();
    ids[i] = -2 - k; // placeholder: the id is given below
    kinds[i] = added[k]!.kind;
  }
  if (ids === null || kinds === null) return { batch, fromForwardedFor, proxyKept };
  // Give each added address an id: reuse the batch's own when it has the value.
  const values = [...ipValues];
  const index = new Map<string, number>();
  for (let v = 0; v < values.length; v++) if (!index.has(values[v]!)) index.set(values[v]!, v);
  const finalIds = added.map((a) => {
    let id = index.get(a.value);
    if (id === undefined) {
      id = values.length;
      values.push(a.value);
      index.set(a.value, id);
    }
    return id;
  });
  for (let i = 0; i < batch.length; i++) {
    const id = ids[i]!;
    if (id <= -2) ids[i] = finalIds[-2 - id]!;
  }
  const ip: DictColumn = { ids, values };
  return { batch: { ...batch, ip, ipKind: kinds }, fromForwardedFor, proxyKept };
}
