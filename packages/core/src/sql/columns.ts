/**
 * The columns the SQL engine reads, as SQL expressions over a ClickHouse table.
 * A table loaded by `alf load clickhouse` has every column precomputed; on a
 * user's own table `--columns ts=timestamp,ip=client_ip,…` names the base
 * columns and the derived ones (asset path, random query, referer class and
 * host, IP hash) fall back to SQL expressions that follow core's JavaScript
 * definitions (request-traits.ts, hash.ts) for ASCII input.
 */

/** Logical fields the engine reads. */
export const SQL_FIELDS = [
  'ts', 'ts_ms', 'ts_ok', 'ip', 'ip_kind', 'ip_hash', 'status', 'bytes', 'path', 'query', 'referer', 'ua',
  'path_asset', 'query_random', 'ref_class', 'ref_host',
] as const;
export type SqlField = (typeof SQL_FIELDS)[number];

/** A SQL expression per logical field. */
export type SqlColumns = Readonly<Record<SqlField, string>>;

/** Longest path or user agent kept as a key (core's window-counts MAX_KEY_CHARS). */
export const SQL_MAX_KEY_CHARS = 512;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes an identifier with backquotes (the only quoting ClickHouse 18.16 and 26.x both accept everywhere). */
export function quoteIdent(name: string): string {
  if (IDENT.test(name)) return name;
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** A table name, optionally `db.table`. */
export function quoteTable(name: string): string {
  const dot = name.indexOf('.');
  if (dot > 0 && IDENT.test(name.slice(0, dot)) && IDENT.test(name.slice(dot + 1))) return `${name.slice(0, dot)}.${name.slice(dot + 1)}`;
  return quoteIdent(name);
}

/** A string literal (single quotes, backslash escapes). */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\0/g, '\\0')}'`;
}

const ASSET_RE = '(?i)\\.(?:css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|eot|mp4|webm|mp3)$';
const SEARCH_RE = '(?i)(^|\\.)(google\\.[a-z.]+|bing\\.com|duckduckgo\\.com|yandex\\.[a-z]+|baidu\\.com|search\\.yahoo\\.com|ecosia\\.org|qwant\\.com)$';
const SOCIAL_RE = '(?i)(^|\\.)(news\\.ycombinator\\.com|reddit\\.com|t\\.co|twitter\\.com|x\\.com|facebook\\.com|lnkd\\.in|linkedin\\.com|slashdot\\.org|lobste\\.rs|news\\.google\\.com|digg\\.com|mastodon\\.social|bsky\\.app|telegram\\.org|whatsapp\\.com|youtube\\.com|instagram\\.com|tiktok\\.com|[a-z]*news[a-z]*\\.[a-z.]+)$';

/** capKey of core: the first 512 characters and `…` when longer. */
export function capKeyExpr(e: string): string {
  return `if(lengthUTF8(${e}) > ${SQL_MAX_KEY_CHARS}, concat(substringUTF8(${e}, 1, ${SQL_MAX_KEY_CHARS}), '…'), ${e})`;
}

/** isAssetPath(capKey(path)); its 20-character slice of long paths is a speed cap only (the extension is within it). */
export function assetExpr(path: string): string {
  return `toUInt8(match(${capKeyExpr(path)}, ${sqlString(ASSET_RE)}))`;
}

/** isRandomQuery(query). */
export function randomQueryExpr(query: string): string {
  const values = `arrayMap(x -> if(position(x, '=') > 0, substring(x, position(x, '=') + 1), x), splitByChar('&', substringUTF8(${query}, 1, 512)))`;
  const test = "v -> length(v) >= 6 AND length(v) <= 128 AND match(v, '^[A-Za-z0-9_-]+$') AND ((match(v, '[A-Za-z]') AND match(v, '[0-9]')) OR (length(v) >= 8 AND match(v, '^[0-9a-fA-F]+$')))";
  return `toUInt8(arrayExists(${test}, ${values}))`;
}

/** refererHost(referer), '' for none. */
export function refHostExpr(referer: string): string {
  return `lower(extract(substringUTF8(${referer}, 1, 300), ${sqlString('^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:@]+)')}))`;
}

/** refererClass(referer): 0 none, 1 search, 2 social, 3 other. */
export function refClassExpr(referer: string): string {
  const h = refHostExpr(referer);
  return `toUInt8(multiIf(${h} = '', 0, match(${h}, ${sqlString(SEARCH_RE)}), 1, match(${h}, ${sqlString(SOCIAL_RE)}), 2, 3))`;
}

/** IP_KIND_V6 (6) when the address has a colon, IP_KIND_V4 (4) for dotted digits, else host name (0). */
export function ipKindExpr(ip: string): string {
  return `toUInt8(multiIf(position(${ip}, ':') > 0, 6, match(${ip}, '^[0-9]+\\\\.[0-9]+\\\\.[0-9]+\\\\.[0-9]+$'), 4, 0))`;
}

/** Characters of an address hashed by the SQL FNV-1a (longer ones hash their first 64 bytes). */
const HASH_CHARS = 64;

/** `f(x)` with `x` computed once: a one-element arrayMap (aliases are expanded as text by ClickHouse, lambdas are not). */
function letIn(param: string, value: string, body: string): string {
  return `arrayElement(arrayMap(${param} -> ${body}, [${value}]), 1)`;
}

/**
 * core's hashString (FNV-1a over char codes, then murmur3 fmix32) for ASCII strings,
 * unrolled without arrayFold (ClickHouse 18.16 has none): one nested lambda per step.
 */
export function ipHashExpr(ip: string): string {
  const M = '4294967295';
  let h = 'toUInt64(2166136261)';
  for (let i = 1; i <= HASH_CHARS; i++) {
    h = letIn(`__alf_f${i}`, h, `if(length(${ip}) >= ${i}, bitAnd(bitXor(__alf_f${i}, toUInt64(reinterpretAsUInt8(substring(${ip}, ${i}, 1)))) * 16777619, ${M}), __alf_f${i})`);
  }
  // fmix32: h ^= h >>> 16; h = imul(h, 0x85ebca6b); h ^= h >>> 13; h = imul(h, 0xc2b2ae35); h ^= h >>> 16.
  // imul of two 32-bit values: the low 32 bits of the 64-bit product (split to stay below 2^64).
  const imul = (x: string, k: number): string => `bitAnd(${x} * ${k & 0xffff} + bitShiftLeft(bitAnd(${x} * ${k >>> 16}, 65535), 16), ${M})`;
  h = letIn('__alf_m1', h, 'bitXor(__alf_m1, bitShiftRight(__alf_m1, 16))');
  h = letIn('__alf_m2', h, imul('__alf_m2', 0x85ebca6b));
  h = letIn('__alf_m3', h, 'bitXor(__alf_m3, bitShiftRight(__alf_m3, 13))');
  h = letIn('__alf_m4', h, imul('__alf_m4', 0xc2b2ae35));
  h = letIn('__alf_m5', h, 'bitXor(__alf_m5, bitShiftRight(__alf_m5, 16))');
  return `toUInt32(${h})`;
}

/** The columns of a table loaded by `alf load clickhouse`. */
export const ALF_COLUMNS: SqlColumns = Object.fromEntries(SQL_FIELDS.map((f) => [f, f])) as SqlColumns;

/**
 * The expressions for a table with the given columns and a `field=column` mapping.
 * Base fields missing from both throw; derived fields fall back to expressions.
 */
export function resolveColumns(existing: readonly string[], mapping: Readonly<Partial<Record<SqlField, string>>>): { columns: SqlColumns; derived: SqlField[] } {
  const have = new Set(existing);
  const col = (f: SqlField): string | null => {
    const m = mapping[f];
    if (m !== undefined) {
      if (!have.has(m)) throw new Error(`--columns maps ${f} to \`${m}\`, which the table does not have (it has: ${existing.join(', ')})`);
      return quoteIdent(m);
    }
    return have.has(f) ? quoteIdent(f) : null;
  };
  const derived: SqlField[] = [];
  const need = (f: SqlField): string => {
    const c = col(f);
    if (c === null) throw new Error(`the table has no \`${f}\` column: map one with --columns ${f}=COLUMN`);
    return c;
  };
  const or = (f: SqlField, fallback: () => string): string => {
    const c = col(f);
    if (c !== null) return c;
    derived.push(f);
    return fallback();
  };
  const tsMs = col('ts_ms') ?? (() => {
    derived.push('ts_ms');
    return `(toInt64(toUInt32(${need('ts')})) * 1000)`;
  })();
  const ts = col('ts') ?? `toDateTime(intDiv(${tsMs}, 1000))`;
  const ip = need('ip');
  const path = or('path', () => "''");
  const query = or('query', () => "''");
  const referer = or('referer', () => "''");
  const columns: SqlColumns = {
    ts, ts_ms: tsMs, ts_ok: or('ts_ok', () => '1'), ip, ip_kind: or('ip_kind', () => ipKindExpr(ip)), ip_hash: or('ip_hash', () => ipHashExpr(ip)),
    status: need('status'), bytes: or('bytes', () => '0'), path, query, referer, ua: or('ua', () => "''"),
    path_asset: or('path_asset', () => assetExpr(path)), query_random: or('query_random', () => randomQueryExpr(query)),
    ref_class: or('ref_class', () => refClassExpr(referer)), ref_host: or('ref_host', () => refHostExpr(referer)),
  };
  return { columns, derived };
}

/** Parses `ts=timestamp,ip=client_ip,…`. */
export function parseColumnMapping(text: string): Partial<Record<SqlField, string>> {
  const out: Partial<Record<SqlField, string>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    const value = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!(SQL_FIELDS as readonly string[]).includes(key) || value === '') {
      throw new Error(`--columns takes FIELD=COLUMN pairs separated by commas, FIELD one of ${SQL_FIELDS.join(', ')}; got \`${part}\``);
    }
    out[key as SqlField] = value;
  }
  return out;
}
