/**
 * What a database record says, whatever its layout: GeoLite2/GeoIP2 nested names
 * (`country.iso_code`, `autonomous_system_number`, `traits.autonomous_system_number`),
 * DB-IP Lite (the same names), IPinfo and other flat MMDBs (`country_code`, `asn` as a
 * number or `"AS123"`, `as_name`, `as_domain`). The layout is detected once per database
 * from its metadata and a sample of its records; the compiled extractor then only tries
 * the accessors that database uses.
 */
import type { GeoField } from './types.ts';

/** The fields alf keeps from one record. */
export interface DbFields {
  readonly asn: number | null;
  readonly asOrg: string | null;
  readonly asDomain: string | null;
  readonly country: string | null;
  readonly continent: string | null;
  readonly city: string | null;
}

export const EMPTY_FIELDS: DbFields = Object.freeze({
  asn: null, asOrg: null, asDomain: null, country: null, continent: null, city: null,
});

type Rec = Record<string, unknown>;
type Get<T> = (r: Rec) => T | null;
interface Accessor<T> {
  readonly name: string;
  readonly get: Get<T>;
}

const MAX_TEXT = 200;
// C0, DEL, C1 controls and bidi overrides/isolates: never let a database move the cursor.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Strips control and bidi characters, trims, caps length; null for empty or non-strings. */
export function cleanText(v: unknown): string | null {
  if (typeof v !== 'string' || v.length === 0) return null;
  let s = v.length > MAX_TEXT * 2 ? v.slice(0, MAX_TEXT * 2) : v;
  s = s.replace(CONTROL, '').trim();
  if (s.length > MAX_TEXT) s = `${s.slice(0, MAX_TEXT - 1)}…`;
  return s.length === 0 ? null : s;
}

function obj(v: unknown): Rec | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : null;
}

/** An AS number from a number, a bigint, `"AS123"` or `"123"`; null when absent or invalid. */
export function asnValue(v: unknown): number | null {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = v <= 0xffffffffn && v > 0n ? Number(v) : NaN;
  else if (typeof v === 'string') {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(v.length <= 12 ? v.trim() : '');
    n = m ? Number(m[1]) : NaN;
  } else return null;
  return Number.isInteger(n) && n > 0 && n <= 0xffffffff ? n : null;
}

function countryValue(v: unknown): string | null {
  if (typeof v !== 'string' || v.length !== 2) return null;
  const a = v.charCodeAt(0) | 32;
  const b = v.charCodeAt(1) | 32;
  return a >= 97 && a <= 122 && b >= 97 && b <= 122 ? v.toUpperCase() : null;
}

function nameValue(v: unknown): string | null {
  const names = obj(v);
  if (!names) return null;
  const en = cleanText(names['en']);
  if (en) return en;
  for (const k in names) {
    const s = cleanText(names[k]);
    if (s) return s;
  }
  return null;
}

const ASN: readonly Accessor<number>[] = [
  { name: 'autonomous_system_number', get: (r) => asnValue(r['autonomous_system_number']) },
  { name: 'traits.autonomous_system_number', get: (r) => asnValue(obj(r['traits'])?.['autonomous_system_number']) },
  { name: 'asn', get: (r) => asnValue(r['asn']) },
];
const AS_ORG: readonly Accessor<string>[] = [
  { name: 'autonomous_system_organization', get: (r) => cleanText(r['autonomous_system_organization']) },
  {
    name: 'traits.autonomous_system_organization',
    get: (r) => cleanText(obj(r['traits'])?.['autonomous_system_organization']),
  },
  { name: 'as_name', get: (r) => cleanText(r['as_name']) },
  { name: 'as_org', get: (r) => cleanText(r['as_org']) },
];
const AS_DOMAIN: readonly Accessor<string>[] = [
  { name: 'as_domain', get: (r) => cleanText(r['as_domain']) },
];
const COUNTRY: readonly Accessor<string>[] = [
  { name: 'country_code', get: (r) => countryValue(r['country_code']) },
  { name: 'country.iso_code', get: (r) => countryValue(obj(r['country'])?.['iso_code']) },
  { name: 'country', get: (r) => countryValue(r['country']) },
];
const CONTINENT: readonly Accessor<string>[] = [
  { name: 'continent.code', get: (r) => countryValue(obj(r['continent'])?.['code']) },
  { name: 'continent_code', get: (r) => countryValue(r['continent_code']) },
  { name: 'continent', get: (r) => countryValue(r['continent']) },
];
const CITY: readonly Accessor<string>[] = [
  { name: 'city.names', get: (r) => nameValue(obj(r['city'])?.['names']) },
  { name: 'city', get: (r) => cleanText(r['city']) },
  { name: 'city_name', get: (r) => cleanText(r['city_name']) },
];

/** The accessors a database uses, field by field. */
export interface RecordLayout {
  readonly asn: readonly Accessor<number>[];
  readonly asOrg: readonly Accessor<string>[];
  readonly asDomain: readonly Accessor<string>[];
  readonly country: readonly Accessor<string>[];
  readonly continent: readonly Accessor<string>[];
  readonly city: readonly Accessor<string>[];
  /** Fields the database carries. */
  readonly answers: readonly GeoField[];
}

function pick<T>(all: readonly Accessor<T>[], samples: readonly Rec[], implied: boolean): Accessor<T>[] {
  const seen = all.filter((a) => samples.some((s) => a.get(s) !== null));
  if (seen.length > 0) return seen;
  return implied ? [...all] : [];
}

/**
 * Detects the layout from the metadata database type and sample records. Fields seen in a
 * sample are used; when no record could be read, the database type decides
 * (`*-ASN`/`*-ISP` → ASN fields, `*-Country` → country, `*-City` → country and city).
 */
export function detectLayout(databaseType: string, samples: readonly unknown[]): RecordLayout {
  const recs = samples.map(obj).filter((r): r is Rec => r !== null);
  // the database type decides only when no record could be read (a broken or empty tree)
  const type = recs.length === 0 ? databaseType.toLowerCase() : '';
  const typeAsn = /asn|isp|enterprise|ipinfo/.test(type);
  const typeCountry = /country|city|enterprise|ipinfo/.test(type);
  const typeCity = /city|enterprise/.test(type);
  const layout = {
    asn: pick(ASN, recs, typeAsn),
    asOrg: pick(AS_ORG, recs, typeAsn),
    asDomain: pick(AS_DOMAIN, recs, false),
    country: pick(COUNTRY, recs, typeCountry),
    continent: pick(CONTINENT, recs, typeCountry),
    city: pick(CITY, recs, typeCity),
  };
  const answers: GeoField[] = [];
  if (layout.asn.length > 0) answers.push('asn');
  if (layout.asOrg.length > 0) answers.push('as_org');
  if (layout.asDomain.length > 0) answers.push('as_domain');
  if (layout.country.length > 0) answers.push('country');
  if (layout.continent.length > 0) answers.push('continent');
  if (layout.city.length > 0) answers.push('city');
  return { ...layout, answers };
}

function first<T>(accessors: readonly Accessor<T>[], r: Rec): T | null {
  for (let i = 0; i < accessors.length; i++) {
    const v = accessors[i]!.get(r);
    if (v !== null) return v;
  }
  return null;
}

/** Compiles the extractor for one layout: record → fields (never throws). */
export function compileExtractor(layout: RecordLayout): (record: unknown) => DbFields {
  const { asn, asOrg, asDomain, country, continent, city } = layout;
  return (record) => {
    const r = obj(record);
    if (r === null) return EMPTY_FIELDS;
    return {
      asn: first(asn, r),
      asOrg: first(asOrg, r),
      asDomain: first(asDomain, r),
      country: first(country, r),
      continent: first(continent, r),
      city: first(city, r),
    };
  };
}
