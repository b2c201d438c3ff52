/**
 * Compile format items into a specialised line parser: one closure per literal
 * and per field, chosen once from the field kind and its neighbours, run in
 * order over the line with indexOf/charCodeAt. No regex, no backtracking: every
 * scan moves forward, and the only look-ahead past a closing quote is bounded.
 */
import { canonicalIp } from './ip-address.ts';
import { COL_EXTRA, COL_FORWARDED_FOR, COL_VHOST } from './batch-builder.ts';
import type { FieldDef, FormatItem } from './format-fields.ts';
import { usedColumns } from './format-fields.ts';
import { converter, stageClient, stageStr } from './field-stage.ts';
import { fail, Finder, literalStep, quotedScanner, show, tokenScanner, userScanner } from './line-scan.ts';
import type { LineCtx, LineParser, Neighbours, Scanner, Step } from './line-scan.ts';
import { ClfTimeParser } from './timestamp.ts';
import { compileCombinedFast } from './combined-fast.ts';
import type { TimeZone } from './time-zone.ts';

export type { FastRowParser, LineCtx, LineParser } from './line-scan.ts';

function fieldStep(f: FieldDef, nb: Neighbours, tz: TimeZone, extraIndex: (n: string) => number): Step {
  const quoted = nb.prevLit.endsWith('"') && (nb.nextLit === null || nb.nextLit.startsWith('"'));
  let scan: Scanner;
  if (quoted) scan = quotedScanner(nb);
  else if (f.kind === 'user') scan = userScanner(nb) ?? tokenScanner(nb, false);
  else {
    // a strftime pattern may itself contain the terminator (`%d/%b/%Y %T` before a space)
    const stop = nb.nextLit === null ? ' ' : nb.nextLit.charAt(0);
    const inner = f.kind === 'time_strftime' ? (f.pattern as string).split(stop).length - 1 : 0;
    scan = tokenScanner(nb, f.list === true, inner);
  }
  const what = f.source;
  const noEnd = (c: LineCtx): false => {
    c.pos = c.end;
    return f.kind === 'request'
      ? fail(c, 'bad_request', `request has no closing quote`)
      : fail(c, 'field_count', `${what}: no end found`);
  };

  switch (f.kind) {
    case 'time_clf': {
      const clf = new ClfTimeParser(tz);
      return (c) => {
        const ms = clf.parse(c.text, c.pos, c.end);
        if (Number.isNaN(ms)) {
          const e = scan(c);
          return fail(c, 'bad_time', `${what} ${show(c, c.pos, e < 0 ? c.end : e)} is not a valid dd/Mon/yyyy:HH:MM:SS ±hhmm time`);
        }
        c.b.ts[c.b.length] = ms;
        c.pos = clf.end;
        c.fieldsSeen++;
        return true;
      };
    }
    case 'client': {
      const prefixCheck = nb.first && !nb.hasVhostField && nb.nextLit === ' ';
      /** `"a, b, c" client`: a quoted X-Forwarded-For list logged before the client. */
      const xffQuote = new Finder('"');
      const quotedXff = (c: LineCtx, q: number): number => {
        const t = c.text;
        const close = xffQuote.find(c, q + 1);
        if (close >= c.end || t.charCodeAt(close + 1) !== 32) return -1;
        stageStr(c, COL_FORWARDED_FOR, q + 1, close);
        let p = close + 1;
        while (t.charCodeAt(p) === 32) p++;
        return p;
      };
      return (c) => {
        const t = c.text;
        let s = c.pos;
        if (prefixCheck && t.charCodeAt(s) === 34) {
          const p = quotedXff(c, s);
          if (p < 0) return fail(c, 'bad_ip', `${what} ${show(c, s, c.end)} is not an IP address nor a host name`);
          s = c.pos = p;
        }
        let e = scan(c);
        if (e <= s) return fail(c, 'bad_ip', `${what} is empty`);
        let cs = s;
        if (prefixCheck) {
          // `vhost[:port] client - - [`: a second token that is an IP literal means the first is a vhost
          let b2 = e + 1;
          while (t.charCodeAt(b2) === 32) b2++;
          const ch = t.charCodeAt(b2);
          if (ch === 34 && b2 < c.end) {
            const p = quotedXff(c, b2);
            if (p >= 0) {
              stageStr(c, COL_VHOST, s, e);
              c.pos = p;
              cs = p;
              e = scan(c);
            }
          } else if (ch !== 45 && b2 < c.end && ((ch >= 48 && ch <= 58) || (ch >= 97 && ch <= 102) || (ch >= 65 && ch <= 70))) {
            c.pos = b2;
            const e2 = scan(c);
            let last = e2 - 1;
            while (last >= b2 && t.charCodeAt(last) !== 32) last--;
            const cand = t.slice(last >= b2 ? last + 1 : b2, e2);
            const ip = canonicalIp(cand);
            if (ip !== null && ip.kind !== 0) {
              // `a, b c - -`: an unquoted X-Forwarded-For list, then the client; `host c - -`: a vhost, then the client
              let list = false;
              for (let i = s; i < e && !list; i++) list = t.charCodeAt(i) === 44;
              stageStr(c, list ? COL_FORWARDED_FOR : COL_VHOST, s, e);
              cs = b2;
              e = e2;
            }
          }
        }
        c.pos = e;
        if (!stageClient(c, cs, e)) return false;
        c.fieldsSeen++;
        return true;
      };
    }
    default:
      break;
  }

  const convert = converter(f, tz, extraIndex);
  // ident / user missing before the time (`1.2.3.4 [20/Jul/…`, `1.2.3.4 - [20/Jul/…`): absent, not misread
  const absentAtBracket = (f.kind === 'skip' || f.kind === 'user') && nb.prevLit.endsWith(' ') && nb.nextLit !== null && nb.nextLit.startsWith(' ');
  const optional = nb.optionalSelf;
  return (c) => {
    const s = c.pos;
    if (absentAtBracket && c.text.charCodeAt(s) === 91) {
      const d = c.text.charCodeAt(s + 1);
      if (d >= 48 && d <= 57) {
        c.pos = s - 1;
        return true;
      }
    }
    let e = scan(c);
    if (e < 0) {
      if (!(quoted && optional)) return noEnd(c);
      e = c.end; // a truncated last quoted field: keep what is there
      c.stop = true;
    }
    c.pos = e;
    if (!convert(c, s, e)) return false;
    c.fieldsSeen++;
    return true;
  };
}

const CORE: ReadonlySet<string> = new Set(['client', 'request', 'status', 'bytes', 'time_clf', 'time_iso', 'time_msec', 'time_int', 'time_strftime']);

/** Compile format items (literals and fields) into a line parser. */
export function compileLineParser(items: readonly FormatItem[], tz: TimeZone): LineParser {
  const fields = items.flatMap((it) => ('field' in it ? [it.field] : []));
  const extraNames: string[] = [];
  for (const f of fields) if (f.kind === 'extra') extraNames.push(f.extraName as string);
  const extraIndex = (n: string): number => COL_EXTRA + extraNames.indexOf(n);
  const used = usedColumns(fields, extraIndex);
  // fields after the last core field may be missing at the end of a line (common lines under combined)
  let lastCore = -1;
  items.forEach((it, i) => { if ('field' in it && CORE.has(it.field.kind)) lastCore = i; });
  const hasVhostField = fields.some((f) => f.kind === 'string' && f.column === COL_VHOST);
  const hasFrac = fields.some((f) => f.kind === 'time_frac');

  const steps: Step[] = [];
  items.forEach((it, i) => {
    if ('lit' in it) {
      const nextItem = items[i + 1];
      const after = nextItem !== undefined && 'field' in nextItem ? `before ${nextItem.field.source}` : 'at the end';
      steps.push(literalStep(it.lit, i > lastCore, after));
      return;
    }
    const prev = items[i - 1];
    const next = items[i + 1];
    const nextField = items[i + 2];
    steps.push(fieldStep(it.field, {
      prevLit: prev !== undefined && 'lit' in prev ? prev.lit : '',
      nextLit: next !== undefined && 'lit' in next ? next.lit : null,
      next: nextField !== undefined && 'field' in nextField ? nextField.field : null,
      first: i === 0,
      optionalSelf: i > lastCore,
      hasVhostField,
    }, tz, extraIndex));
  });
  const n = steps.length;
  const parse = (c: LineCtx): boolean => {
    c.pos = c.start;
    c.stop = false;
    c.listSeen = false;
    c.fieldsSeen = 0;
    c.tsFrac = 0;
    for (let i = 0; i < n; i++) {
      if (!(steps[i] as Step)(c)) return false;
      if (c.stop) break;
    }
    if (hasFrac) c.b.ts[c.b.length] = (c.b.ts[c.b.length] as number) + c.tsFrac;
    return true;
  };
  return { extraNames, used, fieldCount: fields.length, parse, fast: compileCombinedFast(items, tz, used) ?? undefined };
}

