import { describe, expect, test } from 'vitest';
import MarkdownIt from 'markdown-it';
import type { AnalysisResult } from '@alf/core';
import { loadPayloads } from '../../../testdata/hostile/load-payloads.ts';
import { formatBytes, formatCount, formatDuration, formatPercent, renderSummaryMd } from './summary-md.ts';
import { testPackInput } from './test-analysis.ts';
import type { AnalysisPackInput } from './types.ts';

const HOSTILE = loadPayloads().map((p) => p.text);
const INPUT = testPackInput(HOSTILE);

const mdit = new MarkdownIt({ html: true, linkify: true });

/**
 * Links may come only from alf's own text: the licence/attribution URLs of the
 * databases (their licences ask for them). Anything else linked came from log content.
 */
const ATTRIBUTION_URLS = new Set(INPUT.databases.flatMap((d) => [...(d.attribution ?? '').matchAll(/https?:\/\/[^\s()]+[^\s().,;]/g)].map((m) => m[0])));
/**
 * Images may come only from alf's own charts: a fixed relative path under
 * charts/ and alt text that alf wrote (see `chartImage` in summary-md.ts).
 */
const ALF_CHART_SRC = /^charts\/(?:timeline|burst-\d+(?:-asns|-countries)?)\.svg$/;
const ALF_CHART_ALT = /^(?:Request rate and distinct IPs over the whole span, bursts shaded|Burst \d+: (?:requests per second around the window, baseline and excess|top networks by requests|top countries by requests))$/;
type Tok = ReturnType<MarkdownIt['parse']>[number];
const isAlfChart = (t: Tok): boolean =>
  t.type === 'image' && ALF_CHART_SRC.test(t.attrGet('src') ?? '') && ALF_CHART_ALT.test(t.content) &&
  t.attrs?.length === 2 && (t.children ?? []).every((c) => c.type === 'text');
const foreignMarkup = (tokens: Tok[]): Tok[] =>
  tokens.filter((t) => ['link_open', 'image', 'html_inline', 'code_block', 'fence', 's_open'].includes(t.type))
    .filter((t) => !(t.type === 'link_open' && ATTRIBUTION_URLS.has(t.attrGet('href') ?? '')))
    .filter((t) => !isAlfChart(t));
/** An `<img>` tag in rendered HTML is alf's chart: exactly src (chart path) and alt (alf's text). */
const isAlfChartTag = (attrs: string): boolean => {
  const m = /^ src="([^"]*)" alt="([^"]*)"$/.exec(attrs);
  return m !== null && ALF_CHART_SRC.test(m[1]!) && ALF_CHART_ALT.test(m[2]!);
};
type Token = ReturnType<MarkdownIt['parse']>[number];

function flatten(tokens: Token[], out: Token[] = []): Token[] {
  for (const t of tokens) {
    out.push(t);
    if (t.children) flatten(t.children, out);
  }
  return out;
}

const ALLOWED_TAGS = new Set([
  'h1', 'h2', 'h3', 'h4', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'strong', 'code', 'em', 'blockquote',
]);
/** Code spans alf writes itself (file and column names); attacker text never goes in one. */
const ALF_CODE_SPANS = new Set([
  'timeline.csv', 'bucket_start', 'second', 'manifest.json', 'rejects.csv', 'attackers.csv', 'asns.csv', 'countries.csv',
  'prefixes.csv', 'paths.csv', 'user_agents.csv', '(many paths)',
]);

/** Every HTML tag is one alf writes: table/list/text tags, alf's chart images, the attribution links. */
function expectOnlyAlfTags(html: string): void {
  for (const m of html.matchAll(/<\/?([a-zA-Z][\w-]*)([^>]*)>/g)) {
    const tag = m[1]!.toLowerCase();
    if (tag === 'a') expect(m[2] === '' || ATTRIBUTION_URLS.has(/^ href="([^"]*)"$/.exec(m[2]!)?.[1] ?? ''), m[0]).toBe(true);
    else if (tag === 'img') expect(isAlfChartTag(m[2]!), m[0]).toBe(true);
    else {
      expect(ALLOWED_TAGS.has(tag), m[0]).toBe(true);
      expect(m[2]).toMatch(/^(?: style="text-align:(?:right|left)")?$/);
    }
  }
}

describe('number and time formatting', () => {
  test.for([
    [0, '0'], [999, '999'], [1000, '1,000'], [279_600.4, '279,600'], [-1234, '-1,234'], [1e15, '1,000,000,000,000,000'],
  ] as const)('formatCount(%s) → %s', ([n, want]) => expect(formatCount(n)).toBe(want));
  test.for([
    [45, '45 s'], [60, '1 min'], [1860, '31 min'], [1865, '31 min 5 s'], [7200, '2 h'], [7500, '2 h 5 min'], [100_800, '1 d 4 h'],
  ] as const)('formatDuration(%s) → %s', ([n, want]) => expect(formatDuration(n)).toBe(want));
  test('percent and bytes', () => {
    expect(formatPercent(0.8412)).toBe('84.1%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(90_000_000)).toBe('85.8 MiB');
  });
});

describe('summary.md', () => {
  const text = renderSummaryMd(INPUT);

  test('states the timeline bucket in a header comment and carries every section', () => {
    expect(text.split('\n')[0]).toBe(
      '<!-- alf summary.md; timeline.csv: 120 buckets of 1 min (60 s), first column `bucket_start`; all times UTC (ISO-8601) -->',
    );
    for (const h of ['## Inputs', '## Accounting', '## Databases', '## Bursts', '### Burst 1: attack', '### Burst 2: flash\\_crowd', '## What alf could not tell']) {
      expect(text).toContain(`\n${h}\n`);
    }
    expect(text).toContain('- **Window:** 2021-03-29T10:15:00Z – 2021-03-29T10:45:59Z (UTC), 31 min');
    expect(text).toContain('peak 171.25 req/s vs baseline 5.60 req/s (×30.6)');
    expect(text).toContain('| field\\_count | 4 |');
    expect(text).toContain('This product includes GeoLite2 data created by MaxMind');
    expect(text).toContain('error bound ±9% \\(1.04/sqrt\\(128\\)\\)');
    expect(text).toContain('alf 0.1.0; 2 inputs; 400,010 lines; 2 bursts.');
    expect(text).toContain('1 client was logged as a host name');
    expect(text).toContain('Showing 10 of 13; all in `paths.csv`.');
    expect(text).toContain('\nOptions: minRatio 3; scalesS 10, 60, 600; timelineBucketS 0.\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toMatch(/\n\n\n/);
  });

  test('renders (raw HTML and linkify on) without any tag, link, image or code span from log content', () => {
    const tokens = flatten(mdit.parse(text, {}));
    expect(foreignMarkup(tokens)).toEqual([]);
    const htmlBlocks = tokens.filter((t) => t.type === 'html_block');
    expect(htmlBlocks).toHaveLength(1); // the header comment
    expect(htmlBlocks[0]!.content.startsWith('<!-- alf summary.md;')).toBe(true);
    for (const t of tokens.filter((t) => t.type === 'code_inline')) expect(ALF_CODE_SPANS.has(t.content), t.content).toBe(true);
    const html = mdit.render(text);
    expect(html).not.toMatch(/<script|<svg|<iframe|<object|<embed|<style/i);
    const imgs = [...html.matchAll(/<img\b([^>]*)>/g)];
    expect(imgs.map((m) => /src="([^"]*)"/.exec(m[1]!)?.[1])).toEqual([
      'charts/timeline.svg', 'charts/burst-1.svg', 'charts/burst-1-asns.svg', 'charts/burst-1-countries.svg',
      'charts/burst-2.svg', 'charts/burst-2-asns.svg', 'charts/burst-2-countries.svg',
    ]);
    for (const m of imgs) expect(isAlfChartTag(m[1]!), m[0]).toBe(true);
    for (const m of html.matchAll(/<a\s[^>]*href="([^"]*)"/g)) expect(ATTRIBUTION_URLS.has(m[1]!), m[0]).toBe(true);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;'); // shown as text
    expectOnlyAlfTags(html);
  });

  test.for(loadPayloads())('payload line $line in every attacker-written field renders as text only', (p) => {
    const src = renderSummaryMd({ ...testPackInput([p.text]), options: { analysis: {}, tz: p.text } });
    const tokens = flatten(mdit.parse(src, {}));
    expect(foreignMarkup(tokens)).toEqual([]);
    expect(tokens.filter((t) => t.type === 'image')).toHaveLength(1 + 3 * 2); // alf's charts, no more
    expect(tokens.filter((t) => t.type === 'html_block')).toHaveLength(1);
    for (const t of tokens.filter((t) => t.type === 'code_inline')) expect(ALF_CODE_SPANS.has(t.content), t.content).toBe(true);
    // headings are alf's own: one h1, and only the section/burst headings
    const headings = tokens.filter((t) => t.type === 'heading_open').map((t) => t.tag);
    expect(headings.filter((h) => h === 'h1')).toHaveLength(1);
    expect(headings).toHaveLength(1 + 5 + 2 * 6);
    const html = mdit.render(src);
    expectOnlyAlfTags(html);
    for (const t of [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((m) => m[1]!)) {
      const rows = [...t.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
      const width = [...rows[0]!.matchAll(/<th[ >]/g)].length;
      for (const r of rows.slice(1)) expect([...r.matchAll(/<td[ >]/g)].length).toBe(width);
    }
    expect(src).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });

  test('every table row has as many cells as its header: no `|` from log content splits a cell', () => {
    const html = mdit.render(text);
    const tables = [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((m) => m[1]!);
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables) {
      const rows = [...t.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]!);
      const width = [...rows[0]!.matchAll(/<th[ >]/g)].length;
      for (const r of rows.slice(1)) expect([...r.matchAll(/<td[ >]/g)].length).toBe(width);
    }
    // every line of a table in the source starts and ends with a pipe that alf wrote
    for (const line of text.split('\n').filter((l) => l.startsWith('|'))) expect(line.endsWith(' |')).toBe(true);
  });

  test('top tables show at most 10 rows per burst', () => {
    const section = text.slice(text.indexOf('### Burst 1'), text.indexOf('### Burst 2'));
    const paths = section.slice(section.indexOf('#### Top paths'), section.indexOf('#### Top user agents'));
    expect(paths.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| path') && !l.startsWith('| ---'))).toHaveLength(10);
  });

  test('a result without bursts or databases says so', () => {
    const quiet: AnalysisPackInput = {
      ...INPUT,
      databases: [],
      geoStats: null,
      result: { ...INPUT.result, bursts: [], attackers: [], asns: [], countries: [], prefixes: [], paths: [], userAgents: [], statuses: [], findings: [], approximations: [] } satisfies AnalysisResult,
    };
    const q = renderSummaryMd(quiet);
    expect(q).toContain('No burst was found');
    expect(q).toContain('No ASN database was used');
    expect(q).toContain('No ASN or geolocation database was used');
  });

  test('records from a table, not files: the title and the Inputs section name the source', () => {
    const fromTable = renderSummaryMd({ ...INPUT, inputs: [], source: 'ClickHouse http://ch1:8123, table logs|x' });
    // Escaped and defanged like any text in summary.md (no link, no table cell split).
    expect(fromTable).toContain('# alf analysis: ClickHouse hxxp\\[://\\]ch1:8123, table logs\\|x');
    expect(fromTable).toContain('Records read from ClickHouse hxxp\\[://\\]ch1:8123, table logs\\|x, not from input files.');
    expect(fromTable).not.toContain('analysis: no input');
    expect(fromTable).not.toContain('| # | input |');
    expect(renderSummaryMd({ ...INPUT, inputs: [] })).toContain('# alf analysis: no input');
  });

  test('byte-identical across runs and time zones', () => {
    const before = process.env['TZ'];
    try {
      const a = renderSummaryMd(testPackInput(HOSTILE));
      process.env['TZ'] = 'Asia/Kathmandu';
      const b = renderSummaryMd(testPackInput(HOSTILE));
      process.env['TZ'] = 'America/Los_Angeles';
      const c = renderSummaryMd(testPackInput(HOSTILE));
      expect(b).toBe(a);
      expect(c).toBe(a);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });
});
