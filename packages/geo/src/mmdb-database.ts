/**
 * Opens one MaxMind-format database with the `maxmind` reader: checks the file, hashes
 * it, validates the metadata, samples records to detect the layout, and exposes a search
 * that returns fields and the network prefix length. Every failure to open is an
 * `AlfError('ALF_GEO_DB_OPEN')` naming the file; searches may throw (the caller counts
 * those as geo_error).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { AlfError } from '@alf/parser';
import { Reader, type Response } from 'maxmind';
import { formatIpv4, formatIpv6 } from './ip-address.ts';
import type { NetworkSource, RawHit } from './network-memo.ts';
import { cleanText, compileExtractor, detectLayout, type DbFields, type RecordLayout } from './record-fields.ts';

export interface MmdbDatabase {
  readonly path: string;
  readonly databaseType: string;
  /** ISO-8601, or null when the metadata build_epoch is not a usable date. */
  readonly buildDate: string | null;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly ipVersion: 4 | 6;
  readonly layout: RecordLayout;
  readonly notes: readonly string[];
  readonly source: NetworkSource;
  /** `direct`: the tree is walked on the numeric address; `reader`: through getWithPrefixLength (fallback). */
  readonly search: 'direct' | 'reader';
}

/** Records sampled at open time to detect the layout, and the search budget for them. */
const SAMPLE_RECORDS = 200;
const SAMPLE_STEPS = 4000;
/** Sampling stops after this many failed searches: some broken records take milliseconds to fail. */
const SAMPLE_ERRORS = 32;
/** Decoded-record cache inside the reader (keyed by data offset). */
const DECODE_CACHE = 10_000;

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function openError(path: string, what: string, cause?: unknown): AlfError {
  return new AlfError(
    'ALF_GEO_DB_OPEN',
    `cannot open GeoIP database ${path}: ${what}`,
    { file: path },
    cause === undefined ? undefined : { cause },
  );
}

/** A tiny capped cache for the reader's decoder (`{ get, set }`). */
function decodeCache(capacity: number): { get(k: string | number): unknown; set(k: string | number, v: unknown): void } {
  let map = new Map<string | number, unknown>();
  return {
    get: (k) => map.get(k),
    set: (k, v) => {
      if (map.size >= capacity) map = new Map();
      map.set(k, v);
    },
  };
}

/** Build date from the reader's metadata, or null with a note when it is unusable. */
function buildDateOf(epoch: unknown, notes: string[]): string | null {
  const ms = epoch instanceof Date ? epoch.getTime() : NaN;
  // 1995–2200: anything outside is a broken header, not a real build (UINT64_MAX gives NaN)
  if (Number.isFinite(ms) && ms >= 788_918_400_000 && ms <= 7_258_118_400_000) {
    return new Date(ms).toISOString();
  }
  notes.push('build_epoch in the metadata is not a valid date; build date unknown');
  return null;
}

export async function openMmdb(path: string): Promise<MmdbDatabase> {
  let sizeBytes: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw openError(path, 'it is a directory, expected an .mmdb file');
    sizeBytes = st.size;
  } catch (e) {
    if (e instanceof AlfError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw openError(path, code === 'ENOENT' ? 'file not found' : `${code ?? 'stat failed'}`, e);
  }
  if (sizeBytes === 0) throw openError(path, 'the file is empty (0 bytes), not a MaxMind DB');
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (e) {
    throw openError(path, `${(e as NodeJS.ErrnoException).code ?? 'read failed'}`, e);
  }
  if (buffer[0] === GZIP_MAGIC_0 && buffer[1] === GZIP_MAGIC_1) {
    throw openError(path, 'the file is gzip-compressed; extract the .mmdb first (gunzip / tar -xzf)');
  }
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(buffer, { cache: decodeCache(DECODE_CACHE) });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw openError(path, `not a readable MaxMind DB (${cleanText(msg) ?? 'unknown error'})`, e);
  }
  const m = reader.metadata;
  const ipVersion = m.ipVersion;
  // a node_count larger than the file (GeoIP2-City-Test-Invalid-Node-Count) is not refused
  // here: the reader copes, its searches throw, and those are counted as geo_error
  if ((ipVersion !== 4 && ipVersion !== 6) || !Number.isSafeInteger(m.nodeCount) || m.nodeCount <= 0) {
    throw openError(path, 'corrupt metadata (ip_version or node_count out of range)');
  }
  const notes: string[] = [];
  const databaseType = cleanText(typeof m.databaseType === 'string' ? m.databaseType : '') ?? 'unknown';
  const buildDate = buildDateOf(m.buildEpoch, notes);
  const sha256 = createHash('sha256').update(buffer).digest('hex');

  const { records, errors } = sampleRecords(reader, ipVersion);
  if (errors > 0) notes.push(`${errors} record(s) could not be decoded while sampling the database`);
  const layout = detectLayout(databaseType, records);
  const extract = compileExtractor(layout);

  const found = (rec: unknown, prefixLength: number): RawHit => ({
    fields: rec === null || rec === undefined ? null : (extract(rec) as DbFields),
    prefixLength,
  });
  const NONE: RawHit = { fields: null, prefixLength: 0 };
  const walk = treeWalker(reader, extract);
  const source: NetworkSource = walk
    ? {
        findV4: (value) => walk.v4(value),
        findV6: (hextets) => (ipVersion === 4 ? NONE : walk.v6(hextets)),
      }
    : {
        findV4(_value, text) {
          const [rec, len] = reader.getWithPrefixLength(text);
          return found(rec, len);
        },
        findV6(hextets) {
          // an IPv4-only tree has no IPv6 data; walking it with 128 bits would read garbage
          if (ipVersion === 4) return NONE;
          const [rec, len] = reader.getWithPrefixLength(formatIpv6(hextets));
          return found(rec, len);
        },
      };
  return { path, databaseType, buildDate, sha256, sizeBytes, ipVersion, layout, notes, source, search: walk ? 'direct' : 'reader' };
}

/**
 * Walks the address space network by network (each search skips the whole network it
 * landed in) and keeps up to SAMPLE_RECORDS records: enough to see which fields the
 * database uses, bounded so a hostile tree cannot stall the open.
 */
function sampleRecords(reader: Reader<Response>, ipVersion: number): { records: unknown[]; errors: number } {
  const records: unknown[] = [];
  let errors = 0;
  let steps = 0;
  let ip = 0;
  while (ip < 4294967296 && steps < SAMPLE_STEPS && records.length < SAMPLE_RECORDS && errors < SAMPLE_ERRORS) {
    steps++;
    let len = 16;
    try {
      const [rec, l] = reader.getWithPrefixLength(formatIpv4(ip));
      if (rec !== null && rec !== undefined) records.push(rec);
      if (Number.isInteger(l) && l >= 0 && l <= 32) len = l;
    } catch {
      errors++;
    }
    const size = 2 ** (32 - len);
    ip = Math.floor(ip / size) * size + size;
  }
  if (ipVersion !== 6) return { records, errors };
  let ip6 = 0x2000n << 112n;
  const end6 = 0x4000n << 112n;
  const h = new Uint16Array(8);
  steps = 0;
  while (ip6 < end6 && steps < SAMPLE_STEPS && records.length < SAMPLE_RECORDS * 2 && errors < SAMPLE_ERRORS * 2) {
    steps++;
    for (let i = 0; i < 8; i++) h[i] = Number((ip6 >> BigInt(112 - 16 * i)) & 0xffffn);
    let len = 32;
    try {
      const [rec, l] = reader.getWithPrefixLength(formatIpv6(h));
      if (rec !== null && rec !== undefined) records.push(rec);
      if (Number.isInteger(l) && l >= 0 && l <= 128) len = l;
    } catch {
      errors++;
    }
    const size = 1n << BigInt(128 - len);
    ip6 = (ip6 / size) * size + size;
  }
  return { records, errors };
}

/** The parts of maxmind's Reader (mmdb-lib 3) the direct walk needs; private there, so checked at run time. */
interface ReaderInternals {
  readonly metadata: { readonly nodeCount: number; readonly nodeByteSize: number; readonly ipVersion: number };
  readonly walker: { left(offset: number): number; right(offset: number): number };
  readonly ipv4StartNodeNumber: number;
  resolveDataPointer(pointer: number): unknown;
}

/** Decoded records kept per data pointer: a country database has a few hundred distinct records. */
const RECORD_CACHE = 100_000;

/**
 * The search tree walked directly on the numeric address, as mmdb-lib's walker does after
 * parsing the text (same node reads, same result and prefix length), with the extracted
 * fields cached by data pointer, so a new network of a known record costs a tree walk and
 * no decoding. Returns null when the reader does not expose what the walk needs (another
 * maxmind version): the caller then uses `getWithPrefixLength`.
 */
function treeWalker(
  reader: Reader<Response>,
  extract: (record: unknown) => DbFields,
): { v4(value: number): RawHit; v6(hextets: Uint16Array): RawHit } | null {
  const r = reader as unknown as Partial<ReaderInternals>;
  const m = r.metadata;
  if (
    !m || typeof r.walker?.left !== 'function' || typeof r.walker.right !== 'function' ||
    typeof r.resolveDataPointer !== 'function' || !Number.isInteger(r.ipv4StartNodeNumber)
  ) {
    return null;
  }
  const { left, right } = r.walker;
  const nodeCount = m.nodeCount;
  const nodeBytes = m.nodeByteSize;
  const ipv4Start = r.ipv4StartNodeNumber!;
  const resolve = r.resolveDataPointer.bind(reader);
  let records = new Map<number, DbFields>();
  const fieldsAt = (pointer: number): DbFields => {
    let f = records.get(pointer);
    if (f === undefined) {
      f = extract(resolve(pointer));
      if (records.size >= RECORD_CACHE) records = new Map();
      records.set(pointer, f);
    }
    return f;
  };
  const result = (node: number, depth: number): RawHit =>
    node > nodeCount ? { fields: fieldsAt(node), prefixLength: depth } : { fields: null, prefixLength: depth };
  return {
    v4(value: number): RawHit {
      let node = ipv4Start;
      let depth = 0;
      for (; depth < 32 && node < nodeCount; depth++) {
        const offset = node * nodeBytes;
        node = (value >>> (31 - depth)) & 1 ? right(offset) : left(offset);
      }
      return result(node, depth);
    },
    v6(h: Uint16Array): RawHit {
      let node = 0;
      let depth = 0;
      for (; depth < 128 && node < nodeCount; depth++) {
        const offset = node * nodeBytes;
        node = (h[depth >>> 4]! >>> (15 - (depth & 15))) & 1 ? right(offset) : left(offset);
      }
      return result(node, depth);
    },
  };
}
