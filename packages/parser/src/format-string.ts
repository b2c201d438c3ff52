/**
 * Pasted format strings → format items. Accepts nginx `log_format` lines as
 * written in nginx.conf (name, `escape=`, several quoted pieces, `;`) or just
 * the format text, and Apache `LogFormat "…" nickname` lines or just the format.
 */
import { AlfError } from './errors.ts';
import { apacheItems, nginxField } from './format-fields.ts';
import type { FieldDef, FormatItem } from './format-fields.ts';

export interface ParsedFormatString {
  readonly flavor: 'nginx' | 'apache';
  /** The format text after removing the directive, name and quoting. */
  readonly text: string;
  readonly items: FormatItem[];
  /** nginx `escape=json` or a format that writes a JSON object. */
  readonly json: boolean;
}

function invalid(msg: string, spec: string): AlfError {
  return new AlfError('ALF_FORMAT_INVALID', msg, { given: spec });
}

/** Concatenate quoted config pieces ('a' "b"), undoing backslash escapes. */
function unquotePieces(s: string, spec: string): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c !== '"' && c !== "'") throw invalid(`format string: expected a quoted piece at \`${s.slice(i, i + 20)}\``, spec);
    i++;
    let closed = false;
    while (i < s.length) {
      const d = s[i] as string;
      if (d === '\\' && i + 1 < s.length) {
        const e = s[i + 1] as string;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === '"' || e === "'" || e === '\\' ? e : `\\${e}`;
        i += 2;
        continue;
      }
      if (d === c) {
        closed = true;
        i++;
        break;
      }
      out += d;
      i++;
    }
    if (!closed) throw invalid('format string: a quoted piece is not closed', spec);
  }
  return out;
}

function pushLit(items: FormatItem[], lit: string): void {
  if (lit === '') return;
  const last = items[items.length - 1];
  if (last !== undefined && 'lit' in last) items[items.length - 1] = { lit: last.lit + lit };
  else items.push({ lit });
}

export function parseNginxFormat(spec: string): ParsedFormatString {
  let s = spec.trim();
  let json = false;
  if (s.endsWith(';')) s = s.slice(0, -1).trimEnd();
  if (/^log_format\s/.test(s)) {
    s = s.slice('log_format'.length).trimStart();
    const name = /^[^\s'"]+/.exec(s);
    if (name) s = s.slice(name[0].length).trimStart();
    const esc = /^escape=(\w+)/.exec(s);
    if (esc) {
      json = esc[1] === 'json';
      s = s.slice(esc[0].length).trimStart();
    }
  }
  const text = s.startsWith("'") || s.startsWith('"') ? unquotePieces(s, spec) : s;
  if (text.trimStart().startsWith('{')) json = true;
  const items: FormatItem[] = [];
  let lit = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (c === '$') {
      let name: string | undefined;
      let len = 0;
      if (text[i + 1] === '{') {
        const close = text.indexOf('}', i + 2);
        if (close < 0) throw invalid(`nginx format: \`\${\` without \`}\` at column ${i + 1}`, spec);
        name = text.slice(i + 2, close);
        len = close + 1 - i;
      } else {
        const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1, i + 80));
        if (m) {
          name = m[0];
          len = 1 + m[0].length;
        }
      }
      if (name !== undefined && /^[A-Za-z0-9_]+$/.test(name)) {
        pushLit(items, lit);
        lit = '';
        items.push({ field: nginxField(name) });
        i += len;
        continue;
      }
    }
    lit += c;
    i++;
  }
  pushLit(items, lit);
  return { flavor: 'nginx', text, items: finishItems(items, spec), json };
}

export function parseApacheFormat(spec: string): ParsedFormatString {
  let s = spec.trim();
  if (/^LogFormat\s/i.test(s)) s = s.slice('LogFormat'.length).trimStart();
  let text = s;
  if (s.startsWith('"')) {
    // the first quoted string; the nickname after it is ignored
    let out = '';
    let i = 1;
    let closed = false;
    while (i < s.length) {
      const d = s[i] as string;
      if (d === '\\' && i + 1 < s.length) {
        const e = s[i + 1] as string;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === '"' || e === '\\' ? e : `\\${e}`;
        i += 2;
        continue;
      }
      if (d === '"') {
        closed = true;
        break;
      }
      out += d;
      i++;
    }
    if (!closed) throw invalid('Apache LogFormat: the quoted format is not closed', spec);
    text = out;
  }
  const items: FormatItem[] = [];
  let lit = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (c !== '%') {
      lit += c;
      i++;
      continue;
    }
    const m = /^%([!<>0-9,]*)(?:\{([^}]*)\})?([<>]?)(\^t[io]|[a-zA-Z%])/.exec(text.slice(i, i + 200));
    if (!m) throw invalid(`Apache LogFormat: cannot read the directive at \`${text.slice(i, i + 12)}\``, spec);
    const letter = m[4] as string;
    if (letter === '%') {
      lit += '%';
      i += m[0].length;
      continue;
    }
    const its = apacheItems(letter, m[2], m[0]);
    if (its === null) throw invalid(`Apache LogFormat: unsupported directive \`${m[0]}\``, spec);
    for (const it of its) {
      if ('lit' in it) lit += it.lit;
      else {
        pushLit(items, lit);
        lit = '';
        items.push(it);
      }
    }
    i += m[0].length;
  }
  pushLit(items, lit);
  return { flavor: 'apache', text, items: finishItems(items, spec), json: false };
}

const SINGLE: ReadonlySet<string> = new Set([
  'client', 'user', 'request', 'method', 'uri', 'path', 'query', 'args', 'protocol', 'status', 'bytes', 'duration',
  'upstream_time', 'time_clf', 'time_iso', 'time_msec', 'time_int', 'time_strftime',
]);

function asExtra(f: FieldDef): FieldDef {
  const name = f.source.replace(/^[$%]/, '').replace(/[{}]/g, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'field';
  return { kind: 'extra', extraName: name, source: f.source, list: f.list ?? false };
}

/** Merge `%U%q`, demote repeated singletons to extras, refuse adjacent fields. */
function finishItems(items: FormatItem[], spec: string): FormatItem[] {
  const out: FormatItem[] = [];
  for (const it of items) {
    const prev = out[out.length - 1];
    if ('field' in it && prev !== undefined && 'field' in prev) {
      if (prev.field.kind === 'path' && it.field.kind === 'query') {
        out[out.length - 1] = { field: { kind: 'uri', source: prev.field.source + it.field.source } };
        continue;
      }
      throw invalid(`format: \`${prev.field.source}\` and \`${it.field.source}\` are not separated by anything; alf cannot tell where one ends`, spec);
    }
    out.push(it);
  }
  const fields = out.flatMap((it) => ('field' in it ? [it.field] : []));
  const hasBody = fields.some((f) => f.kind === 'bytes');
  const seen = new Set<string>();
  const strCols = new Set<number>();
  const extras = new Set<string>();
  let anyTime = false;
  const res = out.map((it): FormatItem => {
    if (!('field' in it)) return it;
    let f = it.field;
    // $bytes_sent / %O fill bytesSent when the format has no body byte count
    if (!hasBody && f.kind === 'extra' && (f.source === '$bytes_sent' || f.source === '%O')) f = { kind: 'bytes', source: f.source };
    const isTime = f.kind.startsWith('time_') && f.kind !== 'time_frac';
    if ((SINGLE.has(f.kind) && seen.has(f.kind)) || (isTime && anyTime) ||
      (f.kind === 'string' && strCols.has(f.column as number))) f = asExtra(f);
    if (f.kind === 'extra') {
      let name = f.extraName as string;
      for (let k = 2; extras.has(name); k++) name = `${f.extraName as string}_${k}`;
      extras.add(name);
      f = { ...f, extraName: name };
    }
    seen.add(f.kind);
    if (isTime && f.kind !== 'extra') anyTime = true;
    if (f.kind === 'string') strCols.add(f.column as number);
    return { field: f };
  });
  if (!res.some((it) => 'field' in it)) throw invalid('format: no fields found (nginx `$variable` or Apache `%x` expected)', spec);
  return res;
}
