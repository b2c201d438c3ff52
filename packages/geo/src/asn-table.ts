/**
 * A compact, fast-to-load ASN range table, built once from the `@ip-location-db/asn`
 * CSVs (`start,end,asn,organisation`, inclusive numeric ranges) and cached as one binary
 * file: sorted range starts and ends, AS numbers, organisation ids, and a UTF-8 string
 * table. Loading is a single read plus typed-array views; a search is a binary search.
 * Answers carry the largest CIDR block around the address that lies inside one range (or
 * one gap), exactly what an MMDB built from the same ranges would return.
 */
import type { NetworkSource, RawHit } from './network-memo.ts';
import type { DbFields } from './record-fields.ts';
import { cleanText } from './record-fields.ts';
import type { GeoSourceFile } from './types.ts';

const MAGIC = 'ALFASN01';
export const ASN_TABLE_FORMAT = 1;

/** Provenance stored inside the table file. */
export interface AsnTableHeader {
  readonly format: number;
  readonly packageName: string;
  readonly packageVersion: string;
  readonly sources: readonly GeoSourceFile[];
  readonly v4Count: number;
  readonly v6Count: number;
  readonly orgCount: number;
  readonly orgBytes: number;
}

export interface AsnTable {
  readonly header: AsnTableHeader;
  readonly v4Start: Uint32Array;
  readonly v4End: Uint32Array;
  readonly v4Asn: Uint32Array;
  readonly v4Org: Uint32Array;
  /** Four big-endian-ordered 32-bit words per IPv6 range bound. */
  readonly v6Start: Uint32Array;
  readonly v6End: Uint32Array;
  readonly v6Asn: Uint32Array;
  readonly v6Org: Uint32Array;
  /** orgCount + 1 offsets into orgBlob; organisation id 0 means "none". */
  readonly orgOffsets: Uint32Array;
  readonly orgBlob: Uint8Array;
}

// ---------------------------------------------------------------------------------------
// Building from CSV

interface CsvRow {
  start: number;
  end: number;
  asn: number;
  org: string;
}

/** Calls `row(f0, f1, f2, org)` for each `a,b,c,org` line; org may be quoted with `""` escapes. */
function eachCsvRow(buf: Buffer, row: (a: string, b: string, asn: number, org: string) => void): void {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    let lineEnd = buf.indexOf(10, i);
    if (lineEnd < 0) lineEnd = n;
    let e = lineEnd;
    if (e > i && buf[e - 1] === 13) e--;
    if (e > i) {
      const c1 = buf.indexOf(44, i);
      const c2 = c1 < 0 ? -1 : buf.indexOf(44, c1 + 1);
      const c3 = c2 < 0 ? -1 : buf.indexOf(44, c2 + 1);
      if (c3 > 0 && c3 < e) {
        const a = buf.toString('latin1', i, c1);
        const b = buf.toString('latin1', c1 + 1, c2);
        const asn = Number(buf.toString('latin1', c2 + 1, c3));
        let org: string;
        if (buf[c3 + 1] === 34 && e - c3 >= 3 && buf[e - 1] === 34) {
          org = buf.toString('utf8', c3 + 2, e - 1).replaceAll('""', '"');
        } else {
          org = buf.toString('utf8', c3 + 1, e);
        }
        row(a, b, asn, org);
      }
    }
    i = lineEnd + 1;
  }
}

class OrgTable {
  private readonly ids = new Map<string, number>();
  readonly list: string[] = [''];
  id(raw: string): number {
    const s = cleanText(raw);
    if (s === null) return 0;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
}

/** Builds the table from the two numeric CSVs of `@ip-location-db/asn`. */
export function buildAsnTable(
  v4Csv: Buffer,
  v6Csv: Buffer,
  meta: { packageName: string; packageVersion: string; sources: readonly GeoSourceFile[] },
): AsnTable {
  const orgs = new OrgTable();
  const v4: CsvRow[] = [];
  eachCsvRow(v4Csv, (a, b, asn, org) => {
    const start = Number(a);
    const end = Number(b);
    if (!(start >= 0 && end >= start && end <= 0xffffffff && Number.isInteger(start) && Number.isInteger(end))) return;
    v4.push({ start, end, asn: validAsn(asn), org: org });
  });
  v4.sort((x, y) => x.start - y.start);
  const v4Start = new Uint32Array(v4.length);
  const v4End = new Uint32Array(v4.length);
  const v4Asn = new Uint32Array(v4.length);
  const v4Org = new Uint32Array(v4.length);
  let n4 = 0;
  let prevEnd = -1;
  for (const r of v4) {
    const start = Math.max(r.start, prevEnd + 1); // clip the rare overlap
    if (start > r.end) continue;
    v4Start[n4] = start;
    v4End[n4] = r.end;
    v4Asn[n4] = r.asn;
    v4Org[n4] = orgs.id(r.org);
    n4++;
    prevEnd = r.end;
  }

  const v6Rows: { start: bigint; end: bigint; asn: number; org: string }[] = [];
  const max128 = (1n << 128n) - 1n;
  eachCsvRow(v6Csv, (a, b, asn, org) => {
    let start: bigint;
    let end: bigint;
    try {
      start = BigInt(a);
      end = BigInt(b);
    } catch {
      return;
    }
    if (start < 0n || end < start || end > max128) return;
    v6Rows.push({ start, end, asn: validAsn(asn), org });
  });
  v6Rows.sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
  const v6Start = new Uint32Array(v6Rows.length * 4);
  const v6End = new Uint32Array(v6Rows.length * 4);
  const v6Asn = new Uint32Array(v6Rows.length);
  const v6Org = new Uint32Array(v6Rows.length);
  let n6 = 0;
  let prev6 = -1n;
  for (const r of v6Rows) {
    const start = r.start > prev6 ? r.start : prev6 + 1n;
    if (start > r.end) continue;
    for (let w = 0; w < 4; w++) {
      const shift = BigInt(96 - 32 * w);
      v6Start[n6 * 4 + w] = Number((start >> shift) & 0xffffffffn);
      v6End[n6 * 4 + w] = Number((r.end >> shift) & 0xffffffffn);
    }
    v6Asn[n6] = r.asn;
    v6Org[n6] = orgs.id(r.org);
    n6++;
    prev6 = r.end;
  }

  const encoder = new TextEncoder();
  const encoded = orgs.list.map((s) => encoder.encode(s));
  const orgOffsets = new Uint32Array(encoded.length + 1);
  let total = 0;
  for (let k = 0; k < encoded.length; k++) {
    orgOffsets[k] = total;
    total += encoded[k]!.length;
  }
  orgOffsets[encoded.length] = total;
  const orgBlob = new Uint8Array(total);
  for (let k = 0; k < encoded.length; k++) orgBlob.set(encoded[k]!, orgOffsets[k]!);

  return {
    header: {
      format: ASN_TABLE_FORMAT,
      packageName: meta.packageName,
      packageVersion: meta.packageVersion,
      sources: meta.sources,
      v4Count: n4,
      v6Count: n6,
      orgCount: encoded.length,
      orgBytes: total,
    },
    v4Start: v4Start.subarray(0, n4),
    v4End: v4End.subarray(0, n4),
    v4Asn: v4Asn.subarray(0, n4),
    v4Org: v4Org.subarray(0, n4),
    v6Start: v6Start.subarray(0, n6 * 4),
    v6End: v6End.subarray(0, n6 * 4),
    v6Asn: v6Asn.subarray(0, n6),
    v6Org: v6Org.subarray(0, n6),
    orgOffsets,
    orgBlob,
  };
}

function validAsn(n: number): number {
  return Number.isInteger(n) && n > 0 && n <= 0xffffffff ? n : 0;
}

// ---------------------------------------------------------------------------------------
// Binary file: MAGIC, u32 header length, header JSON (padded to 4), then the arrays

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function sections(t: AsnTable): Uint8Array[] {
  const bytes = (a: Uint32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return [
    bytes(t.v4Start), bytes(t.v4End), bytes(t.v4Asn), bytes(t.v4Org),
    bytes(t.v6Start), bytes(t.v6End), bytes(t.v6Asn), bytes(t.v6Org),
    bytes(t.orgOffsets), t.orgBlob,
  ];
}

/** Serialises the table (little-endian typed arrays, as on every platform Node ships for). */
export function serializeAsnTable(t: AsnTable): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(t.header), 'utf8');
  const parts = sections(t);
  const headerEnd = pad4(12 + headerBytes.length);
  const total = headerEnd + parts.reduce((s, p) => s + pad4(p.byteLength), 0);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerBytes.length, 8);
  headerBytes.copy(out, 12);
  let off = headerEnd;
  for (const p of parts) {
    out.set(p, off);
    off += pad4(p.byteLength);
  }
  return out;
}

/** Reads a serialised table; returns null when the bytes are not a complete, current table. */
export function parseAsnTable(buf: Buffer): AsnTable | null {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const headerLength = buf.readUInt32LE(8);
  if (12 + headerLength > buf.length) return null;
  let header: AsnTableHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as AsnTableHeader;
  } catch {
    return null;
  }
  const { v4Count, v6Count, orgCount, orgBytes } = header;
  if (
    header.format !== ASN_TABLE_FORMAT ||
    ![v4Count, v6Count, orgCount, orgBytes].every((n) => Number.isSafeInteger(n) && n >= 0)
  ) {
    return null;
  }
  const sizes = [v4Count, v4Count, v4Count, v4Count, v6Count * 4, v6Count * 4, v6Count, v6Count, orgCount + 1];
  const headerEnd = pad4(12 + headerLength);
  const total = headerEnd + sizes.reduce((s, n) => s + n * 4, 0) + pad4(orgBytes);
  if (buf.length !== total) return null;
  // typed-array views need 4-byte alignment; copy in the unlikely case the buffer is not aligned
  const base = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  let off = headerEnd;
  const take = (n: number): Uint32Array => {
    const a = new Uint32Array(base.buffer, base.byteOffset + off, n);
    off += n * 4;
    return a;
  };
  const arrays = sizes.map(take);
  const orgBlob = new Uint8Array(base.buffer, base.byteOffset + off, orgBytes);
  const [v4Start, v4End, v4Asn, v4Org, v6Start, v6End, v6Asn, v6Org, orgOffsets] = arrays as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  if (orgOffsets[orgCount] !== orgBytes) return null;
  return { header, v4Start, v4End, v4Asn, v4Org, v6Start, v6End, v6Asn, v6Org, orgOffsets, orgBlob };
}

// ---------------------------------------------------------------------------------------
// Searching

/** Largest p such that the /p block around `ip` lies inside [lo, hi] (all IPv4 numbers). */
function blockPrefixV4(ip: number, lo: number, hi: number): number {
  for (let p = 0; p < 32; p++) {
    const size = 2 ** (32 - p);
    const start = Math.floor(ip / size) * size;
    if (start >= lo && start + size - 1 <= hi) return p;
  }
  return 32;
}

type Words = [number, number, number, number];

function cmpWords(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  for (let w = 0; w < 4; w++) {
    const x = a[ai + w]!;
    const y = b[bi + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function addOne(w: ArrayLike<number>, at: number, delta: 1 | -1): Words {
  const out: Words = [w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!];
  for (let k = 3; k >= 0; k--) {
    const v = out[k]! + delta;
    if (v >= 0 && v <= 0xffffffff) {
      out[k] = v;
      return out;
    }
    out[k] = delta === 1 ? 0 : 0xffffffff;
  }
  return out;
}

/** Smallest prefix length whose block around `ip` lies inside [lo, hi] (4-word values). */
function blockPrefixV6(ip: Words, lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  // the block at p fits when its first address is ≥ lo and its last ≤ hi; both only get
  // easier as p grows, so binary-search p; words compared most significant first
  const fits = (p: number): boolean => {
    let startCmp = 0; // sign of (block start - lo), decided by the first differing word
    let endCmp = 0; // sign of (block end - hi)
    for (let k = 0; k < 4; k++) {
      const bits = p - 32 * k;
      const host = bits >= 32 ? 0 : bits <= 0 ? 0xffffffff : 0xffffffff >>> bits;
      if (startCmp === 0) {
        const s = (ip[k]! & ~host) >>> 0;
        if (s !== lo[k]) startCmp = s < lo[k]! ? -1 : 1;
      }
      if (endCmp === 0) {
        const e = (ip[k]! | host) >>> 0;
        if (e !== hi[k]) endCmp = e < hi[k]! ? -1 : 1;
      }
    }
    return startCmp >= 0 && endCmp <= 0;
  };
  let a = 0;
  let b = 128; // fits(128) is always true: ip is inside [lo, hi]
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (fits(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

const ZERO: Words = [0, 0, 0, 0];
const MAX: Words = [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];

/** A `NetworkSource` over a loaded table: one binary search per search. */
export function asnTableSource(t: AsnTable): NetworkSource {
  const names: (string | null)[] = new Array<string | null>(t.header.orgCount).fill(null);
  const decoder = new TextDecoder();
  const orgName = (id: number): string | null => {
    if (id === 0 || id >= t.header.orgCount) return null;
    let s = names[id];
    if (s === null || s === undefined) {
      s = decoder.decode(t.orgBlob.subarray(t.orgOffsets[id]!, t.orgOffsets[id + 1]!));
      names[id] = s;
    }
    return s;
  };
  const fields = (asn: number, org: number): DbFields => ({
    asn: asn === 0 ? null : asn,
    asOrg: orgName(org),
    asDomain: null,
    country: null,
    continent: null,
    city: null,
  });
  const n4 = t.header.v4Count;
  const n6 = t.header.v6Count;
  const { v4Start, v4End, v6Start, v6End } = t;
  return {
    findV4(ip: number): RawHit {
      let lo = 0;
      let hi = n4 - 1;
      let i = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (v4Start[mid]! <= ip) {
          i = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (i >= 0 && ip <= v4End[i]!) {
        return { fields: fields(t.v4Asn[i]!, t.v4Org[i]!), prefixLength: blockPrefixV4(ip, v4Start[i]!, v4End[i]!) };
      }
      const gapLo = i >= 0 ? v4End[i]! + 1 : 0;
      const gapHi = i + 1 < n4 ? v4Start[i + 1]! - 1 : 0xffffffff;
      return { fields: null, prefixLength: blockPrefixV4(ip, gapLo, gapHi) };
    },
    findV6(h: Uint16Array): RawHit {
      const ip: Words = [
        (h[0]! * 65536 + h[1]!) >>> 0, (h[2]! * 65536 + h[3]!) >>> 0,
        (h[4]! * 65536 + h[5]!) >>> 0, (h[6]! * 65536 + h[7]!) >>> 0,
      ];
      let lo = 0;
      let hi = n6 - 1;
      let i = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (cmpWords(v6Start, mid * 4, ip, 0) <= 0) {
          i = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (i >= 0 && cmpWords(ip, 0, v6End, i * 4) <= 0) {
        return {
          fields: fields(t.v6Asn[i]!, t.v6Org[i]!),
          prefixLength: blockPrefixV6(ip, v6Start.subarray(i * 4, i * 4 + 4), v6End.subarray(i * 4, i * 4 + 4)),
        };
      }
      const gapLo = i >= 0 ? addOne(v6End, i * 4, 1) : ZERO;
      const gapHi = i + 1 < n6 ? addOne(v6Start, (i + 1) * 4, -1) : MAX;
      return { fields: null, prefixLength: blockPrefixV6(ip, gapLo, gapHi) };
    },
  };
}
