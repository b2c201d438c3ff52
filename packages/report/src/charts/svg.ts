/**
 * A tiny SVG string builder with escaping built in. Attribute values and text
 * are always escaped; numbers are written with at most two decimals and no
 * exponent or locale, so the same chart gives the same bytes everywhere.
 * Attacker-written text goes through `untrusted()` (capped, control
 * characters made visible, XML-escaped); alf's own text through `text()`.
 */
import { capLength, defang, escapeControls, escapeSvgText, escapeXml } from '../escape.ts';

/** Serialised SVG markup (already escaped). */
export interface Markup {
  readonly svg: string;
}

export type AttrValue = string | number | null | undefined;

/** `12.3456` → `12.35`, `-0` → `0`, non-finite → `0`. Coordinates only. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 100) / 100;
  if (r === 0) return '0';
  if (Math.abs(r) >= 1e15) return r.toFixed(0);
  return String(r);
}

/** Text alf wrote itself, escaped for XML. */
export function text(s: string): Markup {
  return { svg: escapeXml(s) };
}

/** Default cap (code points) for attacker-written labels. */
export const LABEL_MAX_CHARS = 40;

/** Attacker-written text (AS organisations, paths, user agents): capped, controls made visible, escaped. */
export function untrusted(s: string, maxChars: number = LABEL_MAX_CHARS): Markup {
  return { svg: escapeSvgText(capLength(s, maxChars)) };
}

const NAME_RE = /^[a-zA-Z][a-zA-Z0-9-]*$/;

/** An element; attributes with null/undefined values are left out. Children are markup or alf text. */
export function el(name: string, attrs: Readonly<Record<string, AttrValue>>, ...children: readonly (Markup | string)[]): Markup {
  if (!NAME_RE.test(name)) throw new Error(`bad element name ${name}`);
  let s = '<' + name;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (!NAME_RE.test(k) || /^on/i.test(k) || /href$/i.test(k)) throw new Error(`attribute ${k} is not allowed`);
    s += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  }
  if (children.length === 0) return { svg: s + '/>' };
  s += '>';
  for (const c of children) s += typeof c === 'string' ? escapeXml(c) : c.svg;
  return { svg: s + `</${name}>` };
}

/** Concatenates markup. */
export function group(children: readonly Markup[]): Markup {
  return { svg: children.map((c) => c.svg).join('\n') };
}

/** Path data from points; a null point ends the current line (a data gap). */
export function linePath(points: readonly ([number, number] | null)[]): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    d += (pen ? 'L' : (d === '' ? 'M' : ' M')) + num(p[0]) + ' ' + num(p[1]);
    pen = true;
  }
  return d;
}

/**
 * Colours: a light page by default (explicit background), switched by
 * `prefers-color-scheme: dark`. Classes: bg, fg (text), muted, grid, axis,
 * s-req, s-ip, base, excess, peak, v-attack, v-flash_crowd, v-crawl, v-unclear, bar.
 */
export const LIGHT_CSS: string = [
  '.bg{fill:#ffffff}',
  'text{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;font-size:12px;fill:#1f2937}',
  '.muted{fill:#4b5563}', '.small{font-size:11px}', '.title{font-size:15px;font-weight:bold}', '.end{text-anchor:end}', '.mid{text-anchor:middle}',
  '.grid{stroke:#e5e7eb;stroke-width:1}', '.axis{stroke:#6b7280;stroke-width:1}',
  '.s-req{fill:none;stroke:#2563eb;stroke-width:1.5}', '.a-req{fill:#2563eb;fill-opacity:0.15;stroke:none}',
  '.s-ip{fill:none;stroke:#047857;stroke-width:1.5}', '.a-ip{fill:#047857;fill-opacity:0.12;stroke:none}',
  '.base{fill:none;stroke:#374151;stroke-width:1.5;stroke-dasharray:6 4}',
  '.peak{fill:none;stroke:#b45309;stroke-width:1;stroke-dasharray:2 3}',
  '.excess{fill:#dc2626;fill-opacity:0.35;stroke:none}',
  '.gap{fill:#9ca3af;fill-opacity:0.18;stroke:none}',
  '.v-attack{fill:#dc2626}', '.v-flash_crowd{fill:#7c3aed}', '.v-crawl{fill:#d97706}', '.v-unclear{fill:#6b7280}',
  '.shade{fill-opacity:0.16}', '.win{fill-opacity:0.08}',
  '.bar{fill:#2563eb}', '.bar-ex{fill:#dc2626}', '.thin{stroke-width:0.8}',
].join('');

/** Overrides for dark viewers. */
export const DARK_CSS: string = [
  '.bg{fill:#111827}', 'text{fill:#e5e7eb}', '.muted{fill:#9ca3af}',
  '.grid{stroke:#374151}', '.axis{stroke:#9ca3af}',
  '.s-req{stroke:#60a5fa}', '.a-req{fill:#60a5fa;fill-opacity:0.2}',
  '.s-ip{stroke:#34d399}', '.a-ip{fill:#34d399;fill-opacity:0.15}',
  '.base{stroke:#d1d5db}', '.peak{stroke:#fbbf24}', '.excess{fill:#f87171;fill-opacity:0.4}',
  '.v-attack{fill:#f87171}', '.v-flash_crowd{fill:#a78bfa}', '.v-crawl{fill:#fbbf24}', '.v-unclear{fill:#9ca3af}',
  '.shade{fill-opacity:0.22}', '.bar{fill:#60a5fa}',
].join('');

export interface SvgDocument {
  readonly width: number;
  readonly height: number;
  /** Short title (alf's own text): `<title>` and `aria-label`. */
  readonly title: string;
  /** Longer description (alf's own text or already-escaped markup): `<desc>`. */
  readonly desc: string | Markup;
  readonly body: readonly Markup[];
}

/** A standalone SVG file: no scripts, no external references, light/dark styles, accessible title. */
export function svgDocument(d: SvgDocument): string {
  const head =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ${num(d.width)} ${num(d.height)}" ` +
    `width="${num(d.width)}" height="${num(d.height)}" role="img" aria-label="${escapeXml(d.title)}">\n`;
  const style = `<style>${LIGHT_CSS}@media (prefers-color-scheme: dark){${DARK_CSS}}</style>`;
  const parts = [
    el('title', {}, d.title).svg,
    el('desc', {}, d.desc).svg,
    style,
    el('rect', { class: 'bg', x: 0, y: 0, width: d.width, height: d.height }).svg,
    ...d.body.map((b) => b.svg),
  ];
  return head + parts.join('\n') + '\n</svg>\n';
}

/**
 * Code points of `s` that fit in `units` display units, counting East Asian
 * wide and emoji code points (≥ U+1100) as two: the cap to pass to
 * `untrusted()` so a label of wide characters stays inside its column.
 */
export function fitCodePoints(s: string, units: number): number {
  let used = 0;
  let n = 0;
  for (const ch of s) {
    used += (ch.codePointAt(0) as number) >= 0x1100 ? 2 : 1;
    if (used > units) return Math.max(1, n);
    n++;
    if (n > units) break;
  }
  return Math.max(1, n);
}

/**
 * Attacker-written label that must fit a column of `units` display units:
 * capped at 200 code points, control characters made visible (`\x1b`), URLs
 * and host names defanged as in summary.md (`hxxp[://]evil[.]example`, so no
 * PDF or image viewer turns them into links), then cut to fit (wide
 * characters count double) and XML-escaped.
 */
export function untrustedLabel(s: string, units: number): Markup {
  const visible = defang(escapeControls(capLength(s, 200)));
  return { svg: escapeXml(capLength(visible, fitCodePoints(visible, units))) };
}
