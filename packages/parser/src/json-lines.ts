/**
 * JSON lines (nginx `log_format … escape=json '{"k":"$var",…}'`). Keys map to
 * nginx variables, either from the pasted template or by name (variable names
 * and common aliases). Keys nobody maps become extras, declared from the first
 * lines seen at compile time; later new keys are not kept.
 */
import { canonicalIp } from './ip-address.ts';
import {
  COL_EXTRA, COL_FORWARDED_FOR, COL_METHOD, COL_PATH, COL_PROTOCOL, COL_QUERY, COL_REFERER, COL_USER, COL_USER_AGENT, COL_VHOST,
} from './batch-builder.ts';
import { nginxField } from './format-fields.ts';
import type { FieldDef } from './format-fields.ts';
import type { LineCtx, LineParser } from './line-parser.ts';
import { decodeUtf8Lenient } from './utf8-text.ts';
import { ClfTimeParser, parseEpochSeconds, parseIso8601 } from './timestamp.ts';
import type { TimeZone } from './time-zone.ts';

const ALIASES: Record<string, string> = {
  ip: 'remote_addr', client: 'remote_addr', client_ip: 'remote_addr', clientip: 'remote_addr', remote_ip: 'remote_addr', src_ip: 'remote_addr',
  time: 'time_any', timestamp: 'time_any', '@timestamp': 'time_any', ts: 'time_any', date: 'time_any', datetime: 'time_any',
  method: 'request_method', verb: 'request_method',
  url: 'request_uri', uri: 'request_uri', path: 'request_uri',
  query: 'args',
  protocol: 'server_protocol', http_version: 'server_protocol',
  status_code: 'status', response: 'status', code: 'status',
  bytes: 'body_bytes_sent', size: 'body_bytes_sent', body_bytes: 'body_bytes_sent',
  referer: 'http_referer', referrer: 'http_referer', http_referrer: 'http_referer',
  user_agent: 'http_user_agent', useragent: 'http_user_agent', ua: 'http_user_agent', agent: 'http_user_agent',
  vhost: 'host', server: 'host',
  user: 'remote_user',
  xff: 'http_x_forwarded_for', x_forwarded_for: 'http_x_forwarded_for', forwarded_for: 'http_x_forwarded_for',
  duration: 'request_time', response_time: 'request_time', elapsed: 'request_time',
};

/** Field for a JSON key by name; `time_any` guesses the time shape per value. */
function fieldForKey(key: string): FieldDef {
  const k = key.toLowerCase().replace(/[-.]/g, '_');
  const alias = ALIASES[k] ?? ALIASES[key];
  if (alias === 'time_any') return { kind: 'time_iso', source: 'time_any' };
  return nginxField(alias ?? k);
}

export interface JsonFormatOptions {
  /** key → field from a pasted template; undefined = by name. */
  readonly keyFields?: ReadonlyMap<string, FieldDef> | undefined;
  /** Sample lines to declare extra columns from (by-name mode). */
  readonly sample?: readonly string[] | undefined;
}

function valueText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Split a request line string into method / path / query / protocol. */
function requestParts(r: string): [string | null, string | null, string | null, string | null] {
  if (r === '' || r === '-') return [null, null, null, null];
  const sp = r.indexOf(' ');
  if (sp < 0) return [null, r, null, null];
  const method = r.slice(0, sp);
  let rest = r.slice(sp + 1).trimStart();
  let protocol: string | null = null;
  const last = rest.lastIndexOf(' ');
  if (last >= 0 && rest.startsWith('HTTP/', last + 1)) {
    protocol = rest.slice(last + 1);
    rest = rest.slice(0, last).trimEnd();
  }
  const [p, q] = uriParts(rest);
  return [method, p, q, protocol];
}

function uriParts(u: string): [string | null, string | null] {
  if (u === '' || u === '-') return [null, null];
  const q = u.indexOf('?');
  return q < 0 ? [u, null] : [u.slice(0, q), u.slice(q + 1)];
}

export function compileJsonParser(tz: TimeZone, opts: JsonFormatOptions): LineParser {
  const byKey = new Map<string, FieldDef>();
  const extraNames: string[] = [];
  const addKey = (key: string, f: FieldDef): void => {
    if (byKey.has(key)) return;
    let def = f;
    if (def.kind === 'extra' || def.kind === 'skip') {
      const name = (def.kind === 'extra' ? def.extraName ?? key : key).replace(/[^A-Za-z0-9_]+/g, '_');
      if (extraNames.includes(name)) return;
      extraNames.push(name);
      def = { kind: 'extra', extraName: name, source: key };
    }
    byKey.set(key, def);
  };
  if (opts.keyFields !== undefined) for (const [k, f] of opts.keyFields) addKey(k, f);
  else {
    for (const line of opts.sample ?? []) {
      try {
        const o: unknown = JSON.parse(line);
        if (o !== null && typeof o === 'object' && !Array.isArray(o)) for (const k of Object.keys(o)) addKey(k, fieldForKey(k));
      } catch {
        // not JSON: ignored here, rejected when parsed
      }
    }
  }
  const used = [COL_METHOD, COL_PATH, COL_QUERY, COL_PROTOCOL, COL_REFERER, COL_USER_AGENT, COL_VHOST, COL_USER, COL_FORWARDED_FOR,
    ...extraNames.map((_, i) => COL_EXTRA + i)];
  const clf = new ClfTimeParser(tz);
  const keyed = opts.keyFields !== undefined;

  const parse = (c: LineCtx): boolean => {
    const b = c.b;
    const r = b.length;
    while (c.start < c.end && (c.text.charCodeAt(c.start) === 32 || c.text.charCodeAt(c.start) === 9)) c.start++;
    if (c.text.charCodeAt(c.start) !== 123 || c.text.charCodeAt(c.end - 1) !== 125) {
      // not an object: refused without building a JSON.parse exception per line
      c.reason = 'bad_json';
      c.detail = 'not a JSON object (expected `{…}`)';
      return false;
    }
    const raw = c.lineHigh ? decodeUtf8Lenient(c.bytes, c.start, c.end) : c.text.slice(c.start, c.end);
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      c.reason = 'bad_json';
      c.detail = `not JSON: ${(e as Error).message.slice(0, 80)}`;
      return false;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      c.reason = 'bad_json';
      c.detail = 'a JSON value but not an object';
      return false;
    }
    c.fieldsSeen = 0;
    b.ts[r] = NaN;
    const sv = b.slotValue;
    const fail = (reason: LineCtx['reason'], detail: string): false => {
      c.reason = reason;
      c.detail = detail;
      b.discardRow(used);
      return false;
    };
    for (const key in obj) {
      let f = byKey.get(key);
      if (f === undefined) {
        if (keyed) continue;
        f = fieldForKey(key);
        if (f.kind === 'extra') continue; // not declared from the sample
      }
      const v = valueText((obj as Record<string, unknown>)[key]);
      if (v === null) continue;
      c.fieldsSeen++;
      const dash = v === '-' || v === '';
      switch (f.kind) {
        case 'client': {
          const last = v.lastIndexOf(',');
          const one = last >= 0 ? v.slice(last + 1).trim() : v;
          if (last >= 0 && sv[COL_FORWARDED_FOR] === undefined) sv[COL_FORWARDED_FOR] = v;
          const ip = canonicalIp(one);
          if (ip === null) return fail('bad_ip', `client ${JSON.stringify(one.slice(0, 40))} is not an IP address nor a host name`);
          b.ipIds[r] = b.internIp(ip.value);
          b.ipKind[r] = ip.kind;
          break;
        }
        case 'time_clf': case 'time_iso': case 'time_msec': {
          let ms: number;
          if (/^\d{2}\/[A-Za-z]{3}\//.test(v)) ms = clf.parse(v, 0, v.length);
          else if (/^\d+(\.\d+)?$/.test(v)) {
            ms = parseEpochSeconds(v, 0, v.length);
            if (ms > 1e14) ms = Math.floor(ms / 1000); // epoch milliseconds
          } else ms = parseIso8601(v, 0, v.length, tz);
          if (Number.isNaN(ms)) return fail('bad_time', `${key} ${JSON.stringify(v.slice(0, 40))} is not a time`);
          b.ts[r] = ms;
          break;
        }
        case 'request': {
          const [m, p, q, pr] = requestParts(v);
          sv[COL_METHOD] = m; sv[COL_PATH] = p; sv[COL_QUERY] = q; sv[COL_PROTOCOL] = pr;
          break;
        }
        case 'uri': {
          const [p, q] = uriParts(v);
          sv[COL_PATH] = p;
          if (q !== null) sv[COL_QUERY] = q;
          break;
        }
        case 'method': sv[COL_METHOD] = dash ? null : v; break;
        case 'path': sv[COL_PATH] = dash ? null : v; break;
        case 'args': case 'query': sv[COL_QUERY] = dash ? null : v.replace(/^\?/, ''); break;
        case 'protocol': sv[COL_PROTOCOL] = dash ? null : v; break;
        case 'user': sv[COL_USER] = dash ? null : v; break;
        case 'status': {
          const n = Number(v);
          if (!/^\d{3}$/.test(v) || n < 100 || n > 599) return fail('bad_status', `status ${JSON.stringify(v.slice(0, 20))} is not a code 100..599`);
          b.status[r] = n;
          break;
        }
        case 'bytes': {
          if (dash) break;
          const n = Number(v);
          if (!/^\d{1,16}$/.test(v) || n > Number.MAX_SAFE_INTEGER) return fail('bad_bytes', `bytes ${JSON.stringify(v.slice(0, 20))} is not a count`);
          b.bytesSent[r] = n;
          break;
        }
        case 'duration': {
          if (dash) break;
          const n = Number(v);
          if (!/^\d+(\.\d+)?$/.test(v)) return fail('field_count', `${key} ${JSON.stringify(v.slice(0, 20))} is not a number`);
          b.durationMs[r] = Math.round(n * (f.scale ?? 1000) * 1000) / 1000;
          break;
        }
        case 'upstream_time': {
          let sum = 0;
          let any = false;
          for (const part of v.split(/[,:]/)) {
            const t = part.trim();
            if (t === '-' || t === '') continue;
            if (!/^\d+(\.\d+)?$/.test(t)) return fail('field_count', `${key} ${JSON.stringify(v.slice(0, 40))} is not a list of times`);
            sum += Number(t);
            any = true;
          }
          b.upstreamMs[r] = any ? Math.round(sum * 1e6) / 1e3 : NaN;
          break;
        }
        case 'string': sv[f.column as number] = dash ? null : v; break;
        case 'extra': sv[COL_EXTRA + extraNames.indexOf(f.extraName as string)] = dash ? null : v; break;
        default: break;
      }
    }
    if (Number.isNaN(b.ts[r] as number)) return fail('bad_time', 'no time field');
    // every used column must have a staged value so commit() never reads a stale slot
    for (const col of used) if (sv[col] === undefined) sv[col] = null;
    return true;
  };
  return { extraNames, used, fieldCount: byKey.size, parse };
}

/** Key → field map from an nginx JSON template (`{"ip":"$remote_addr",…}`). */
export function jsonTemplateFields(text: string): Map<string, FieldDef> | null {
  const re = /"((?:[^"\\]|\\.)*)"\s*:\s*"?\$\{?([A-Za-z0-9_]+)\}?"?/g;
  const out = new Map<string, FieldDef>();
  for (const m of text.matchAll(re)) out.set(JSON.parse(`"${m[1] as string}"`) as string, nginxField(m[2] as string));
  return out.size > 0 ? out : null;
}
