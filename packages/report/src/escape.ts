/**
 * Output escaping for attacker-written text. Every byte of a log line after the
 * client address is chosen by whoever sent the request, so every place such a
 * string reaches (CSV, Markdown, SVG/XML, terminal, JSON) goes through one of
 * these pure functions first.
 *
 * Order of operations at a call site: `capLength` first (on the raw value, so
 * no regex ever sees an unbounded string), then the escaper for the target
 * format. Escaping can grow a string by up to ~10× (`\u202e` for one char, plus
 * a Markdown backslash), so a cap of N gives at most ~10N output characters.
 *
 * Visible escapes: control and invisible characters are written as `\xNN`
 * (code points below U+0100), `\uNNNN` (BMP) or `\u{NNNNN}` (astral). A
 * backslash already in the input is left as is in CSV and terminal output, so
 * a literal `\x1b` typed by the attacker and an escaped ESC look the same; the
 * raw bytes stay available in `evidence/` and `records.arrow`.
 */

/**
 * Characters shown as visible escapes wherever attacker text is displayed:
 * C0 controls, DEL, C1 controls (incl. 8-bit CSI U+009B and NEL U+0085), soft
 * hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and bidi
 * marks (U+200B–U+200F), line/paragraph separators and bidi embeddings and
 * overrides (U+2028–U+202E), word joiner and invisible operators
 * (U+2060–U+2064), bidi isolates (U+2066–U+2069), BOM/ZWNBSP, interlinear
 * annotation controls, Unicode tag characters (U+E0000–U+E007F, used to
 * smuggle invisible text) and lone surrogates.
 */
const CONTROL_RE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function visibleEscape(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  if (cp < 0x100) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp <= 0xffff) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\u{' + cp.toString(16) + '}';
}

/**
 * Replaces control and invisible characters (see above) with visible escapes
 * such as `\x1b`, `\x9b`, `\u202e`. Printable text, including non-Latin
 * scripts and emoji, is unchanged.
 */
export function escapeControls(s: string): string {
  return s.replace(CONTROL_RE, visibleEscape);
}

/**
 * Makes a string safe to print on a terminal: ESC (so CSI `ESC [`, OSC `ESC ]`
 * and every other escape sequence), 8-bit C1 controls (CSI U+009B, OSC U+009D),
 * BEL, backspace, CR, bidi overrides and isolates, U+2028/U+2029/U+0085 and the
 * other invisible characters become visible escapes (`\x1b`, `\u202e`). Nothing
 * is dropped, so the reader sees that something was there.
 */
export function escapeTerminal(s: string): string {
  return escapeControls(s);
}

/**
 * Caps `s` at `maxCodePoints` code points, the last of which is `…` when the
 * string was cut. Never splits a surrogate pair. Cheap when `s` is short (one
 * length check), so call it before any regex or escaper.
 */
export function capLength(s: string, maxCodePoints: number): string {
  if (s.length <= maxCodePoints) return s; // UTF-16 length ≥ code points
  if (maxCodePoints <= 0) return '';
  const keep = maxCodePoints - 1; // room for the ellipsis
  let i = 0;
  let cps = 0;
  let cut = 0;
  while (i < s.length) {
    if (cps === keep) cut = i;
    if (cps === maxCodePoints) return s.slice(0, cut) + '…';
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    cps++;
  }
  return s;
}

// ---------------------------------------------------------------------------
// CSV

/**
 * A cell that a spreadsheet would run as a formula: after any leading
 * whitespace or invisible characters, one of `= + - @` or their full-width
 * (U+FF1D U+FF0B U+FF0D U+FF20) and small (U+FE66 U+FE62 U+FE63 U+FE6B) forms.
 */
const CSV_FORMULA_RE =
  /^[\s\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b]/;
/** Tab, CR, LF or any other C0 control as the very first character. */
const CSV_CONTROL_START_RE = /^[\u0000-\u001f]/;

/**
 * Neutralises one attacker-written CSV string cell (OWASP "CSV injection"):
 * - a cell that starts with a formula character (`= + - @`, their full-width
 *   and small forms), also after leading spaces/whitespace/invisible
 *   characters, or that starts with tab, CR, LF or another control character,
 *   gets a `'` prefix so spreadsheets show it as text;
 * - control and invisible characters become visible escapes (`\x0a`, `\u202e`),
 *   so every record stays on one physical line and nothing hides in a cell.
 *
 * A lone `-` (the log's "no value") is left as is: it cannot form a formula.
 * Only strings pass through here: numbers the tool computed are written as
 * numbers (see `CSV_STRINGIFY_CAST`), so `-2` stays `-2` in a numeric column.
 * Quoting of `,` and `"` is csv-stringify's job.
 */
export function neutraliseCsvCell(s: string): string {
  if (s.length === 0 || s === '-') return s;
  const prefix = CSV_FORMULA_RE.test(s) || CSV_CONTROL_START_RE.test(s);
  const body = escapeControls(s);
  return prefix ? "'" + body : body;
}

/**
 * csv-stringify `cast` option that runs `neutraliseCsvCell` over string values
 * only; numbers, bigints, booleans and dates keep csv-stringify's formatting.
 * Use as `stringify({ cast: csvStringifyCast(), ... })`. A fresh object per
 * call, because csv-stringify fills its defaults into the object it is given.
 */
export function csvStringifyCast(): { string: (value: string) => string } {
  return { string: (value: string): string => neutraliseCsvCell(value) };
}

// ---------------------------------------------------------------------------
// URLs, hosts and Markdown

/** `scheme://` anywhere (case-insensitive), e.g. `http://`, `HTTPS://`, `ftp://`, `javascript://`. */
const SCHEME_RE = /([a-z][a-z0-9+.-]{0,31}):\/\//gi;
/**
 * A dot (or full-width/ideographic dot) after anything but whitespace or
 * Unicode punctuation other than `_`/`-` (linkify counts symbols such as `=`,
 * `+`, `$` and unassigned code points as host characters) and before a
 * letter: every host name's last dot before its TLD matches, so no
 * `label.tld` survives for an autolinker to pick up. Any non-ASCII character
 * before the dot counts too, punctuation included: linkify's Unicode tables
 * are older than the engine's, so `𑗁.рф` (U+115C1, punctuation today) is a
 * host to it. Dots followed by digits
 * (`HTTP/1.1`, `1.2.3.4`) are left alone by this text rule.
 */
const HOST_DOT_RE = /(?<=[^\s\p{P}]|[-_]|[^\s\p{ASCII}])[.\uff0e\u3002\uff61](?=\p{L})/gu;

function defangScheme(_m: string, scheme: string): string {
  const lower = scheme.toLowerCase();
  let s = scheme;
  if (lower === 'http' || lower === 'https') s = scheme.slice(0, 1) + 'xx' + scheme.slice(3);
  else if (lower === 'ftp' || lower === 'ftps' || lower === 'sftp') s = scheme.replace(/t/i, 'x');
  return s + '[://]';
}

/**
 * Schemes that autolinkers accept without `//` (GFM: `mailto:`, `xmpp:`;
 * linkify: `mailto:`) and script-like schemes, written `mailto[:]`.
 */
const BARE_SCHEME_RE = /\b(mailto|xmpp|javascript|vbscript|data|file):(?!\/\/)/gi;

/** A scheme-relative `//host` (linkify accepts `//localhost`, `//10.0.0.1`); `[://]` is already defanged. */
const SCHEMELESS_RE = /(?<![:[])\/\/(?=[^\s/])/g;
/** `www.` starts a GFM extended autolink whatever follows. */
const WWW_RE = /\b(www)\./gi;

/** Defangs every URL scheme and host-like dot in free text (see `defang`). */
function defangText(s: string): string {
  return s
    .replace(SCHEME_RE, defangScheme)
    .replace(BARE_SCHEME_RE, '$1[:]')
    .replace(WWW_RE, '$1[.]')
    .replace(SCHEMELESS_RE, '[//]')
    .replace(HOST_DOT_RE, '[.]');
}

/**
 * Defangs a URL or host name in the usual incident-report style so that no
 * viewer turns it into a live link: `https://evil.example/a.php` →
 * `hxxps[://]evil[.]example/a[.]php`, `10.0.0.1` → `10[.]0[.]0[.]1`,
 * `ftp://` → `fxp[://]`, other schemes keep their name (`javascript[://]`),
 * scheme-relative `//host` → `[//]host`.
 * Every dot of the host part is bracketed (IP addresses too); in the rest of
 * the string, dots before a letter are. Not an escaper: pass the result
 * through `escapeMarkdownInline` (which also defangs) or `escapeXml`.
 */
export function defang(s: string): string {
  const m = /^(\s*)(?:([a-z][a-z0-9+.-]{0,31}):\/\/|\/\/)?([^/?#\s]*)/i.exec(s);
  if (m === null) return defangText(s);
  const lead = m[1] ?? '';
  const scheme = m[2];
  const authority = m[3] ?? '';
  const rest = s.slice(m[0].length);
  const head = scheme !== undefined ? defangScheme('', scheme) : m[0].slice(lead.length).startsWith('//') ? '[//]' : '';
  return lead + head + authority.replace(/[.\uff0e\u3002\uff61]/g, '[.]') + defangText(rest);
}

/** Inline Markdown/HTML metacharacters, escaped with a backslash anywhere in the text. */
const MD_INLINE_RE = /[\\`*_{}[\]()<>#!|~&$^]/g;
/** Characters that start a block construct (list, setext heading, thematic break) at the beginning of a line. */
const MD_BLOCK_MARKER_RE = /^( {0,3})([-+=])/;
/** Four or more leading spaces (indented code block) or two or more trailing ones (hard line break). */
const MD_EDGE_SPACES_RE = /^ {4,}| {2,}$/g;
/** An ordered-list marker `1.` at the beginning (`1)` is covered by the `)` escape). */
const MD_ORDERED_START_RE = /^( {0,3}\d{1,9})(\.)/;

/**
 * Escapes attacker text for an inline position in Markdown, in particular a GFM
 * table cell, so that nothing in it renders as Markdown or HTML:
 * 1. control/invisible characters become visible escapes (newlines cannot end
 *    the table row, bidi overrides cannot reorder the line);
 * 2. URLs and host names are defanged (`hxxp[://]evil[.]com`, `mailto[:]`,
 *    `[//]localhost`, `www[.]`) so neither GFM autolinks nor linkify-style
 *    fuzzy links (`evil.com`, `www.x.y`, `a@b.example`) come alive; as a side
 *    effect dotted names such as `wp-login.php` read `wp-login[.]php`;
 * 3. `\ \` * _ { } [ ] ( ) < > # ! | ~ & $ ^` get a backslash, which CommonMark
 *    and GFM honour for every ASCII punctuation character: no emphasis, code
 *    spans, links, images (`![](…)`), raw HTML (`<script>`, `<img …>`),
 *    entities (`&lt;`), autolinks (`<http://…>`), strikethrough, math or cell
 *    breaks (`|`) can form;
 * 4. a leading `-`, `+`, `=` or `1.`/`1)` (after up to three spaces) is
 *    escaped too, so the text is also safe at the start of a line (no list,
 *    setext heading or thematic break);
 *    four or more leading spaces (indented code) and two or more trailing ones
 *    (hard line break) are written as `&#32;`.
 */
export function escapeMarkdownInline(s: string): string {
  let t = defangText(escapeControls(s)).replace(MD_INLINE_RE, '\\$&');
  t = t.replace(MD_BLOCK_MARKER_RE, '$1\\$2').replace(MD_ORDERED_START_RE, '$1\\$2');
  return t.replace(MD_EDGE_SPACES_RE, (m) => '&#32;'.repeat(m.length));
}

/**
 * Escapes text that alf itself wrote or that the user supplied (input file
 * names, option values, database names, licence and attribution lines) for an
 * inline Markdown position: the same as `escapeMarkdownInline` but without
 * defanging, so `access.log.gz` reads as itself and an attribution URL stays a
 * working link, as its licence asks. Never use it for log content.
 */
export function escapeMarkdownTrusted(s: string): string {
  let t = escapeControls(s).replace(MD_INLINE_RE, '\\$&');
  t = t.replace(MD_BLOCK_MARKER_RE, '$1\\$2').replace(MD_ORDERED_START_RE, '$1\\$2');
  return t.replace(MD_EDGE_SPACES_RE, (m) => '&#32;'.repeat(m.length));
}

// ---------------------------------------------------------------------------
// XML / SVG

/**
 * Characters not allowed in an XML 1.0 document: C0 controls other than tab,
 * LF and CR; U+FFFE, U+FFFF; lone surrogates.
 */
const XML_ILLEGAL_RE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const XML_SPECIAL_RE = /[&<>"'\t\n\r]/g;
const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * Escapes text for XML/SVG character data and for attribute values in either
 * quote style: `& < > " '` become entities; tab, LF and CR become character
 * references (attribute-value normalisation would otherwise turn them into
 * spaces); characters illegal in XML 1.0 are dropped. For attacker text shown
 * in a chart use `escapeSvgText`, which keeps those characters visible.
 */
export function escapeXml(s: string): string {
  return s.replace(XML_ILLEGAL_RE, '').replace(XML_SPECIAL_RE, (c) => XML_ENTITIES[c] as string);
}

/**
 * Attacker text for an SVG `<text>` node or attribute: control and invisible
 * characters (incl. bidi overrides) become visible escapes first, then
 * `escapeXml`. `</text><script>` stays text.
 */
export function escapeSvgText(s: string): string {
  return escapeXml(escapeControls(s));
}

// ---------------------------------------------------------------------------
// JSON

const JSON_UNSAFE_RE = /[\u2028\u2029<>&]/g;

/**
 * `JSON.stringify` plus escapes for U+2028, U+2029, `<`, `>` and `&` as
 * `\u2028`, `\u003c`, …: the output is still the same JSON value, but can also
 * be embedded in a `<script>` block or evaluated as JavaScript (pre-ES2019
 * engines treat raw U+2028/U+2029 as line ends) without breaking out. Lone
 * surrogates are already escaped by `JSON.stringify` (well-formed stringify).
 * Control characters need nothing more: JSON escapes them. `undefined` gives
 * `null`.
 */
export function safeJsonStringify(value: unknown, space?: number): string {
  const json = JSON.stringify(value, null, space) as string | undefined;
  if (json === undefined) return 'null';
  return json.replace(JSON_UNSAFE_RE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
