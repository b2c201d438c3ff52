import { describe, expect, test } from 'vitest';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import MarkdownIt from 'markdown-it';
import fc from 'fast-check';
import { decodeEscapes, loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import {
    capLength,
  csvStringifyCast,
  defang,
  escapeControls,
  escapeMarkdownInline,
  escapeMarkdownTrusted,
  escapeSvgText,
  escapeTerminal,
  escapeXml,
  neutraliseCsvCell,
  safeJsonStringify,
} from './escape.ts';

const ALL = loadPayloads();
const texts = ALL.map((p) => p.text);

/** Anything a terminal, bidi algorithm or line splitter would act on. */
const DANGEROUS_CHAR_RE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('payload file', () => {
  test('loads every category, decoded', () => {
    const cats = new Set(ALL.map((p) => p.category));
    expect([...cats].sort()).toEqual(['csv-formula', 'markdown-html', 'svg-xml', 'terminal']);
    expect(texts).toContain('\x1b]0;pwned title\x07');
    expect(texts).toContain('\x9b31mred 8-bit CSI');
    expect(texts).toContain('user\u202eexe.txt');
    expect(texts).toContain('\\<script>');
  });
  test('decoder rejects unknown escapes', () => {
    expect(() => decodeEscapes('\\n')).toThrow(/unknown escape/);
    expect(decodeEscapes('a\\\\b\\x41\\u00e9\\u{1f4a9}')).toBe('a\\bAé\u{1f4a9}');
  });
});

describe('escapeControls / escapeTerminal', () => {
  test.for([
    ['\x1b[2J', '\\x1b[2J'],
    ['\x1b]0;t\x07', '\\x1b]0;t\\x07'],
    ['\x9b31m', '\\x9b31m'],
    ['a\x08b', 'a\\x08b'],
    ['\x00\x7f', '\\x00\\x7f'],
    ['a\r\nb\tc', 'a\\x0d\\x0ab\\x09c'],
    ['user\u202eexe.txt', 'user\\u202eexe.txt'],
    ['\u2066x\u2069', '\\u2066x\\u2069'],
    ['a\u2028b\u2029c\u0085d', 'a\\u2028b\\u2029c\\x85d'],
    ['\ufeffx\u200b', '\\ufeffx\\u200b'],
    ['lone \ud800 high', 'lone \\ud800 high'],
    ['lone \udc00 low', 'lone \\udc00 low'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    ['émoji \u{1f4a9} 日本語 Ωμέγα عربى', 'émoji \u{1f4a9} 日本語 Ωμέγα عربى'],
    ['plain ascii ~!@#', 'plain ascii ~!@#'],
  ] as const)('%j → %j', ([input, want]) => {
    expect(escapeControls(input)).toBe(want);
    expect(escapeTerminal(input)).toBe(want);
  });

  test.for(ALL)('payload line $line leaves no control, C1, bidi or separator character', (p) => {
    const out = escapeTerminal(p.text);
    expect(out).not.toMatch(DANGEROUS_CHAR_RE);
    // Nothing dropped: without backslashes in the input, decoding the visible escapes gives it back.
    if (!p.text.includes('\\')) expect(decodeEscapes(out)).toBe(p.text);
  });
});

describe('capLength', () => {
  test.for([
    ['', 5, ''],
    ['abc', 3, 'abc'],
    ['abcd', 3, 'ab…'],
    ['abcd', 1, '…'],
    ['abcd', 0, ''],
    ['\u{1f4a9}\u{1f4a9}\u{1f4a9}', 3, '\u{1f4a9}\u{1f4a9}\u{1f4a9}'], // 6 UTF-16 units, 3 code points
    ['\u{1f4a9}\u{1f4a9}\u{1f4a9}\u{1f4a9}', 3, '\u{1f4a9}\u{1f4a9}…'],
    ['a\u{1f4a9}b', 2, 'a…'],
    ['\ud800\ud800x', 2, '\ud800…'], // lone surrogates count as one each
  ] as const)('capLength(%j, %d) = %j', ([s, n, want]) => {
    expect(capLength(s, n)).toBe(want);
  });
  test('never splits a surrogate pair and never exceeds the cap', () => {
    const s = 'x\u{1f4a9}'.repeat(50);
    for (let n = 1; n < 110; n++) {
      const out = capLength(s, n);
      expect([...out].length).toBeLessThanOrEqual(n);
      expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
  });
  test('a long line is cut without scanning past the cap', () => {
    const big = 'A'.repeat(5_000_000);
    expect(capLength(big, 200)).toBe('A'.repeat(199) + '…');
  });
});

describe('CSV formula neutralising', () => {
  /** A string cell that a spreadsheet would treat as a formula or strip into one. */
  const FORMULA_LIKE =
    /^[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b]/;

  test.for([
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(1+1)', "'@SUM(1+1)"],
    ['\t=1', "'\\x09=1"],
    ['\r=1', "'\\x0d=1"],
    ['\n=1', "'\\x0a=1"],
    ['\thello', "'\\x09hello"],
    ['   =1+1', "'   =1+1"],
    ['\u00a0=1', "'\u00a0=1"],
    ['\u3000@x', "'\u3000@x"],
    ['\u200b=1', "'\\u200b=1"],
    ['\uff1dcmd', "'\uff1dcmd"],
    ['\uff0b1', "'\uff0b1"],
    ['\uff0d1', "'\uff0d1"],
    ['\uff20x', "'\uff20x"],
    ['a\nb', 'a\\x0ab'],
    ['/index.php?a=1', '/index.php?a=1'],
    ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['-', '-'],
    ['', ''],
    ['a=1', 'a=1'],
  ] as const)('%j → %j', ([input, want]) => {
    expect(neutraliseCsvCell(input)).toBe(want);
  });

  test('every payload survives csv-stringify + csv-parse with the same row and column counts, no formula cell', () => {
    const header = ['id', 'value', 'delta', 'payload', 'tail'];
    const rows = ALL.map((p, i) => [i, -2, 3.5, p.text, 'end']);
    const csv = stringify(rows, { header: true, columns: header, cast: csvStringifyCast() });
    // One physical line per record: no raw CR/LF made it through.
    expect(csv.split('\n')).toHaveLength(rows.length + 2); // header + rows + final empty
    expect(csv).not.toMatch(/\r/);

    const back: string[][] = parse(csv, { relax_column_count: false, bom: false });
    expect(back).toHaveLength(rows.length + 1);
    expect(back[0]).toEqual(header);
    back.slice(1).forEach((row, i) => {
      expect(row).toHaveLength(5);
      expect(row[0]).toBe(String(i));
      expect(row[1]).toBe('-2'); // our own numbers are not mangled
      expect(row[2]).toBe('3.5');
      expect(row[4]).toBe('end');
      const cell = row[3] as string;
      expect(cell).toBe(neutraliseCsvCell(texts[i] as string));
      expect(cell).not.toMatch(FORMULA_LIKE);
      expect(cell).not.toMatch(DANGEROUS_CHAR_RE);
    });
  });

  test('every csv-formula payload is prefixed', () => {
    for (const p of loadPayloads(['csv-formula'])) {
      const out = neutraliseCsvCell(p.text);
      if (FORMULA_LIKE.test(p.text) || /^[\t\r\n]/.test(p.text)) expect(out.startsWith("'"), p.text).toBe(true);
    }
  });
});

describe('defang', () => {
  test.for([
    ['http://evil.example/a.php', 'hxxp[://]evil[.]example/a[.]php'],
    ['HTTPS://www.evil.example', 'HxxPS[://]www[.]evil[.]example'],
    ['ftp://files.evil.example', 'fxp[://]files[.]evil[.]example'],
    ['evil.example', 'evil[.]example'],
    ['10.0.0.1', '10[.]0[.]0[.]1'],
    ['evil.example:8080/x.js', 'evil[.]example:8080/x[.]js'],
    ['//evil.example/x', '[//]evil[.]example/x'],
    ['/wp-login.php', '/wp-login[.]php'],
    ['javascript://x.y', 'javascript[://]x[.]y'],
    ['see //localhost/x and a=.com', 'see [//]localhost/x and a=[.]com'],
    ['-', '-'],
  ] as const)('%j → %j', ([input, want]) => {
    expect(defang(input)).toBe(want);
  });
});

describe('Markdown escaping, rendered with markdown-it (CommonMark + GFM tables, raw HTML and linkify on)', () => {
  const md = new MarkdownIt({ html: true, linkify: true });
  type Token = ReturnType<MarkdownIt['parse']>[number];
  const FORBIDDEN_TOKENS = new Set([
    'link_open', 'image', 'html_inline', 'html_block', 'code_inline', 'code_block', 'fence', 'em_open',
    'strong_open', 's_open', 'heading_open', 'bullet_list_open', 'ordered_list_open', 'blockquote_open', 'hr',
  ]);
  const ALLOWED_TAGS = new Set(['table', 'thead', 'tbody', 'tr', 'th', 'td', 'p', 'ul', 'li', 'br']);

  function tokenTypes(tokens: Token[], out: string[] = []): string[] {
    for (const t of tokens) {
      out.push(t.type);
      if (t.children) tokenTypes(t.children, out);
    }
    return out;
  }
  function tagsIn(html: string): string[] {
    return [...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => (m[1] as string).toLowerCase());
  }
  function decodeHtml(s: string): string {
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  }
  /** What the reader should see: every backslash we added is consumed by the renderer. */
  function visible(escaped: string): string {
    return escaped.replace(/\\(.)|&#32;/gs, (m, c: string | undefined) => c ?? ' ');
  }

  test('a GFM table of every payload has one row of two cells per payload, and only table markup', () => {
    const lines = ['| # | value |', '|---|---|', ...texts.map((t, i) => `| ${i} | ${escapeMarkdownInline(t)} |`)];
    const src = lines.join('\n') + '\n';
    const tokens = md.parse(src, {});
    const types = tokenTypes(tokens);
    expect(types.filter((t) => FORBIDDEN_TOKENS.has(t))).toEqual([]);
    const html = md.render(src);
    expect(new Set(tagsIn(html))).toEqual(new Set(['table', 'thead', 'tbody', 'tr', 'th', 'td']));
    const rows = [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] as string);
    expect(rows).toHaveLength(texts.length + 1);
    rows.slice(1).forEach((row, i) => {
      const cells = [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1] as string);
      expect(cells).toHaveLength(2);
      expect(cells[0]).toBe(String(i));
      // Exact rendering: the reader sees the (control-escaped, defanged) text, byte for byte.
      expect(decodeHtml(cells[1] as string)).toBe(visible(escapeMarkdownInline(texts[i] as string).trim()));
    });
  });

  test.for(ALL)('payload line $line renders as plain text at the start of a paragraph and in a list item', (p) => {
    const escaped = escapeMarkdownInline(p.text);
    for (const template of ['@@\n', '- value: @@\n', 'text @@ text\n']) {
      const src = template.replace('@@', () => escaped);
      const types = tokenTypes(md.parse(src, {}));
      const baseline = tokenTypes(md.parse(template.replace('@@', 'x'), {}));
      expect(types.filter((t) => FORBIDDEN_TOKENS.has(t)), src).toEqual(baseline.filter((t) => FORBIDDEN_TOKENS.has(t)));
      const html = md.render(src);
      for (const tag of tagsIn(html)) expect(ALLOWED_TAGS.has(tag), `${tag} in ${html}`).toBe(true);
      expect(html).not.toMatch(/<[a-zA-Z][^>]*\s[^>]*>/); // no tag carries an attribute (href, src, on…)
    }
  });

  test.for([
    ['<script>alert(1)</script>', '\\<script\\>alert\\(1\\)\\</script\\>'],
    ['![x](http://evil.example/x.png)', '\\!\\[x\\]\\(hxxp[://]evil[.]example/x[.]png\\)'.replace(/\[(:\/\/|\.)\]/g, '\\[$1\\]')],
    ['a | b', 'a \\| b'],
    ['`x`', '\\`x\\`'],
    ['- item', '\\- item'],
    ['1. item', '1\\. item'],
    ['&amp;', '\\&amp;'],
    ['a\nb', 'a\\\\x0ab'],
  ] as const)('%j → %j', ([input, want]) => {
    expect(escapeMarkdownInline(input)).toBe(want);
  });
});

describe('XML/SVG escaping', () => {
  function unescapeXml(s: string): string {
    return s.replace(/&(amp|lt|gt|quot|apos|#9|#10|#13);/g, (_m, e: string) =>
      ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#9': '\t', '#10': '\n', '#13': '\r' })[e] as string,
    );
  }
  const XML_ILLEGAL =
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  test.for(ALL)('payload line $line cannot leave a text node or attribute', (p) => {
    for (const out of [escapeXml(p.text), escapeSvgText(p.text)]) {
      expect(out).not.toMatch(/[<>"'\t\n\r]/);
      expect(out).not.toMatch(XML_ILLEGAL);
      // Every & starts one of our entities.
      expect(out.replace(/&(amp|lt|gt|quot|apos|#9|#10|#13);/g, '')).not.toMatch(/&/);
    }
    expect(unescapeXml(escapeXml(p.text))).toBe(p.text.replace(new RegExp(XML_ILLEGAL.source, 'g'), ''));
    expect(escapeSvgText(p.text)).not.toMatch(DANGEROUS_CHAR_RE);
  });

  test('drops characters illegal in XML 1.0 and keeps the rest', () => {
    expect(escapeXml('a\x00b\x0bc\ufffed\ud800e\u{1f4a9}f')).toBe('abcde\u{1f4a9}f');
    expect(escapeXml('</text><script>')).toBe('&lt;/text&gt;&lt;script&gt;');
    expect(escapeSvgText('a\x1bb\u202e')).toBe('a\\x1bb\\u202e');
  });
});

describe('safeJsonStringify', () => {
  test.for(ALL)('payload line $line round-trips and leaves no raw U+2028/U+2029/</>/&', (p) => {
    const value = { ua: p.text, n: [1, -2, 3.5] };
    const out = safeJsonStringify(value, 2);
    expect(JSON.parse(out)).toEqual(value);
    expect(out).not.toMatch(/[\u2028\u2029<>&]/);
    expect(out).not.toMatch(/[\u0000-\u001f](?<!\n)/);
  });
  test('escapes as \\uXXXX', () => {
    expect(safeJsonStringify('</script>\u2028&')).toBe('"\\u003c/script\\u003e\\u2028\\u0026"');
    expect(safeJsonStringify(undefined)).toBe('null');
  });
});

describe('properties over random strings (fast-check)', () => {
  // Units biased towards what matters: formula, Markdown, HTML, URL and control characters, plus any code point.
  const unit = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(
      '=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20', '\t', '\r', '\n', ' ', '\u00a0', '|', '`', '*', '_', '[', ']', '(',
      ')', '<', '>', '!', '#', '~', '&', '$', '^', '\\', '.', ':', '/', '"', "'", '1', 'a', 'x', 'com', 'www.', 'http://',
      'mailto:', '@', ';', '\x1b', '\x9b', '\x07', '\x00', '\u202e', '\u2066', '\u2028', '\u0085', '\ufeff', '\ud800', '\udc00',
      '<script>', '![', '](', '&lt;', '&#', '    ', '//', '%', '?', 'localhost', 'io', '.\u0440\u0444', 'xn--p1ai', '\u{3347a}',
    ) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  );
  const hostile = fc.string({ unit, maxLength: 40 });
  const md = new MarkdownIt({ html: true, linkify: true });
  const FORMULA_LIKE =
    /^[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b]/;

  test('CSV: one row, five columns, the cell comes back as neutralised and is never formula-like', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const csv = stringify([[1, s, -2, s, 'end']], { cast: csvStringifyCast() });
        const rows: string[][] = parse(csv);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toEqual(['1', neutraliseCsvCell(s), '-2', neutraliseCsvCell(s), 'end']);
        if (s !== '-') expect(rows[0]?.[1]).not.toMatch(FORMULA_LIKE);
      }),
      { numRuns: 2000 },
    );
  });

  test('Markdown: a host after non-ASCII punctuation is defanged too (linkify reads U+115C1 as a host character)', () => {
    // Found by the property below (seed 610488649): `𑗁.рф` rendered as a link.
    for (const s of ['𑗁.рф', '\u{115c1}.com', '«.example']) {
      const html = md.render(`${escapeMarkdownInline(s)}\n`);
      expect(html).not.toMatch(/<a\b/);
    }
  });

  test('Markdown: renders as exactly the visible text, no markup, in a table cell and a paragraph', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const e = escapeMarkdownInline(s);
        const html = md.render(`| v |\n|---|\n| ${e} |\n\n${e}\n`);
        const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[1]));
        for (const t of tags) expect(['table', 'thead', 'tbody', 'tr', 'th', 'td', 'p']).toContain(t);
        expect(html).not.toMatch(/<[a-zA-Z][^>]*\s[^>]*>/);
        const cell = /<td>([\s\S]*?)<\/td>/.exec(html)?.[1] ?? '';
        const decoded = cell.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
        expect(decoded).toBe(e.trim().replace(/\\(.)|&#32;/gs, (_m, c: string | undefined) => c ?? ' '));
      }),
      { numRuns: 2000 },
    );
  });

  test('terminal, XML, JSON and capLength invariants', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 50 }), (s, n) => {
        expect(escapeTerminal(s)).not.toMatch(DANGEROUS_CHAR_RE);
        const x = escapeSvgText(s);
        expect(x).not.toMatch(/[<>"'\t\n\r]/);
        expect(x.replace(/&(amp|lt|gt|quot|apos|#9|#10|#13);/g, '')).not.toMatch(/&/);
        const j = safeJsonStringify({ s });
        expect(JSON.parse(j)).toEqual({ s });
        expect(j).not.toMatch(/[\u2028\u2029<>&]/);
        const c = capLength(s, n);
        expect([...c].length).toBeLessThanOrEqual(n);
        if (c === s) expect([...s].length).toBeLessThanOrEqual(n);
        else if (n === 0) expect(c).toBe('');
        else expect(s.startsWith(c.slice(0, -1)) && c.endsWith('…')).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('escapeMarkdownTrusted (alf-written and user-supplied text)', () => {
  test('keeps file names and attribution URLs readable but still escapes markup', () => {
    expect(escapeMarkdownTrusted('access.log.2018-12-15.gz')).toBe('access.log.2018-12-15.gz');
    expect(escapeMarkdownTrusted('licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)'))
      .toBe('licensed under CC BY 4.0 \\(https://creativecommons.org/licenses/by/4.0/\\)');
    expect(escapeMarkdownTrusted('a|b <script> `x` ![i](u)\n- y')).toBe('a\\|b \\<script\\> \\`x\\` \\!\\[i\\]\\(u\\)\\\\x0a- y');
  });
});
