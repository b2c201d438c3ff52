/**
 * `summary.md` of the analysis evidence pack: what an incident report would
 * paste. A pure function of `AnalysisPackInput`: no clock, no locale, no time
 * zone (numbers are grouped with `,` by hand, times are ISO-8601 UTC), so the
 * same input gives the same bytes.
 *
 * Every string that did not come from alf itself (paths, user agents, AS
 * organisations, countries, prefixes, input names, database text, and the
 * reasons and findings that quote them) goes through `capLength` and then
 * `escapeMarkdownInline`, which escapes Markdown/HTML metacharacters (`|`,
 * backticks, `<`, `[`, `!` …), shows control characters as visible escapes
 * and defangs URLs and host names (`hxxp[://]evil[.]example`). Nothing
 * attacker-written is ever put in a code span, a link or raw HTML.
 */
import type {
  AnalysisResult, AsnRow, Attacker, Burst, CountryRow, Finding, PathRow, PrefixRow, UserAgentRow,
} from '@alf/core';
import { REJECT_REASONS } from '@alf/parser';
import type { GeoDbInfo } from '@alf/geo';
import { capLength, escapeMarkdownInline, escapeMarkdownTrusted } from './escape.ts';
import { byBurstThenRequests, isoSeconds, sortBursts, timelineColumns, timelineLength } from './pack-tables.ts';
import { blocklistFileNames, burstBlocklists, type Blocklist } from './blocklist.ts';
import { recordsBullet } from './records-pack.ts';
import { TIMELINE_CHART_PATH, burstChartPaths } from './charts/chart-files.ts';
import type { AnalysisPackInput, PackInputSummary } from './types.ts';

/** Rows per cluster table in summary.md (all rows are in the CSV files). */
export const SUMMARY_TOP_ROWS = 10;
/** Cap (code points) of an attacker-written string in summary.md, before escaping. */
export const SUMMARY_TEXT_MAX_CHARS = 160;

// ---------------------------------------------------------------------------
// Formatting (locale-independent)

/** Escapes attacker (or any non-alf) text for an inline Markdown position, capped first. */
function md(s: string | null | undefined, empty = '–'): string {
  if (s === null || s === undefined || s.length === 0) return empty;
  return escapeMarkdownInline(capLength(s, SUMMARY_TEXT_MAX_CHARS));
}

/** alf's own constant text (licence and attribution lines): escaped, not defanged, so the URLs a licence asks for stay links. */
function mdt(s: string | null | undefined, empty = '–'): string {
  if (s === null || s === undefined || s === '') return empty;
  return escapeMarkdownTrusted(capLength(s, SUMMARY_TEXT_MAX_CHARS));
}

/** `1234567.8` → `1,234,568` (rounded, `,` groups). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const neg = n < 0 && Math.round(n) !== 0;
  const digits = Math.abs(Math.round(n)).toFixed(0);
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return neg ? '-' + grouped : grouped;
}

/** Fixed decimals with `,` groups in the integer part: `4021.337, 2` → `4,021.34`. */
function formatDecimal(n: number, decimals: number): string {
  if (!Number.isFinite(n)) return '–';
  const s = Math.abs(n).toFixed(decimals);
  const [int = '0', frac] = s.split('.');
  const out = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac !== undefined ? '.' + frac : '');
  return n < 0 && /[1-9]/.test(s) ? '-' + out : out;
}

/** Share 0..1 as a percentage with one decimal: `0.8412` → `84.1%`. */
export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${formatDecimal(share * 100, 1)}%` : '–';
}

/** Seconds as `45 s`, `31 min`, `31 min 5 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(totalS: number): string {
  if (!Number.isFinite(totalS) || totalS < 0) return '–';
  const s = Math.round(totalS);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.floor(s / 60);
  if (s < 86_400) return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
  const h = Math.floor(s / 3600);
  return h % 24 === 0 ? `${h / 24} d` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Bytes as `123 B`, `85.8 MiB` (binary units, one decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${formatCount(v)} B` : `${formatDecimal(v, 1)} ${units[u]}`;
}

function time(ms: number | null): string {
  return ms === null ? '–' : (isoSeconds(ms) ?? '–');
}

function span(first: number | null, last: number | null): string {
  if (first === null || last === null) return 'no records with a usable timestamp';
  return `${time(first)} – ${time(last)} (${formatDuration((last - first) / 1000)})`;
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** A GFM table; cells must already be escaped. Right-aligned columns are marked in `align`. */
function table(header: readonly string[], rows: readonly (readonly string[])[], align: string): string[] {
  if (rows.length === 0) return ['_none_', ''];
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [
    `| ${header.join(' | ')} |`,
    `| ${sep.join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ];
}

// ---------------------------------------------------------------------------
// Sections

function timelineNote(result: AnalysisResult): string {
  const tl = result.timeline;
  const first = timelineColumns(tl)[0];
  return `timeline.csv: ${formatCount(timelineLength(tl))} buckets of ${formatDuration(tl.bucketS)} (${tl.bucketS} s), first column \`${first}\``;
}

function header(input: AnalysisPackInput): string[] {
  const { result, inputs } = input;
  const title =
    inputs.length === 0 ? (input.source !== undefined ? md(input.source) : 'no input') : inputs.length === 1 ? md(inputs[0]!.name) : `${md(inputs[0]!.name)} and ${plural(inputs.length - 1, 'more input', 'more inputs')}`;
  return [
    `<!-- alf summary.md; ${timelineNote(result)}; all times UTC (ISO-8601) -->`,
    `# alf analysis: ${title}`,
    '',
    `alf ${input.toolVersion.replace(/[^0-9A-Za-z.+-]/g, '')}; ${inputs.length === 0 && input.source !== undefined ? 'no input files' : plural(inputs.length, 'input', 'inputs')}; ` +
      `${plural(input.accounting.linesRead, input.source !== undefined ? 'record' : 'line', input.source !== undefined ? 'records' : 'lines')}; ` +
      `${plural(result.bursts.length, 'burst', 'bursts')}.`,
    '',
    `Time span of the records: ${span(result.firstMs, result.lastMs)}. All times are UTC (ISO-8601). ` +
      `Timeline bucket: ${formatDuration(result.timeline.bucketS)} (\`timeline.csv\`, first column \`${timelineColumns(result.timeline)[0]}\`).`,
    '',
  ];
}

/** A number as written in options: integers grouped, others by `String` (locale-independent). */
function optionNumber(n: number): string {
  return Number.isInteger(n) ? formatCount(n) : String(n);
}

/** One line listing the run's options (keys sorted; numbers only, so nothing to escape but the zone name). */
function optionsLine(input: AnalysisPackInput): string {
  const o = input.options;
  const parts: string[] = [];
  if (o.fromMs !== null && o.fromMs !== undefined) parts.push(`from ${time(o.fromMs)}`);
  if (o.toMs !== null && o.toMs !== undefined) parts.push(`to ${time(o.toMs)}`);
  if (o.tz) parts.push(`time zone for local timestamps ${md(o.tz)}`);
  const analysis = o.analysis as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(analysis).sort()) {
    const v = analysis[key];
    if (typeof v === 'number') parts.push(`${md(key)} ${optionNumber(v)}`);
    else if (Array.isArray(v)) parts.push(`${md(key)} ${v.map((x) => (typeof x === 'number' ? optionNumber(x) : md(String(x)))).join(', ')}`);
    else if (typeof v === 'string' || typeof v === 'boolean') parts.push(`${md(key)} ${md(String(v))}`);
  }
  return parts.length > 0 ? `Options: ${parts.join('; ')}.` : 'Options: defaults.';
}

function inputsSection(inputs: readonly PackInputSummary[], source?: string): string[] {
  if (inputs.length === 0 && source !== undefined) return ['## Inputs', '', `Records read from ${md(source)}, not from input files.`, ''];
  const rows = inputs.map((inp, i) => [
    String(i + 1),
    md(inp.name),
    formatBytes(inp.sizeBytes),
    md(inp.sha256.slice(0, 16)),
    md(inp.format) + (inp.decode?.compression === 'gzip' ? ' (gzip)' : ''),
    inp.accounting === null ? '–' : formatCount(inp.accounting.linesRead),
    time(inp.firstMs),
    time(inp.lastMs),
  ]);
  return [
    '## Inputs',
    '',
    ...table(['#', 'input', 'size', 'SHA-256 (first 16)', 'format', 'lines', 'first record', 'last record'], rows, 'rlrllrll'),
    'Full SHA-256 of every input: `manifest.json`.',
    '',
  ];
}

function accountingSection(input: AnalysisPackInput): string[] {
  const a = input.accounting;
  const lines: string[] = ['## Accounting', ''];
  lines.push(
    ...table(
      ['', 'lines'],
      [
        ['read', formatCount(a.linesRead)],
        ['parsed', formatCount(a.parsed)],
        ['rejected', formatCount(a.rejected)],
        ['parsed, but without a usable timestamp', formatCount(input.result.recordsWithoutTime)],
        ['analysed (records with a timestamp)', formatCount(input.result.records)],
      ],
      'lr',
    ),
  );
  lines.push(...scopeLines(input));
  const reasons = REJECT_REASONS.filter((r) => (a.byReason[r] ?? 0) > 0);
  if (reasons.length > 0) {
    lines.push('Rejected lines by reason (each one is in `rejects.csv` with input, line and byte offset):', '');
    lines.push(...table(['reason', 'lines'], reasons.map((r) => [md(r), formatCount(a.byReason[r])]), 'lr'));
  } else {
    lines.push('No line was rejected.', '');
  }
  const flagged = input.inputs.filter((i) => (i.decode?.flags.length ?? 0) > 0);
  if (flagged.length > 0) {
    lines.push('Input flags:', '');
    for (const i of flagged) {
      const d = i.decode!;
      const notes = d.notes.length > 0 ? `: ${d.notes.map((n) => md(n)).join('; ')}` : '';
      lines.push(`- ${md(i.name)}: ${d.flags.join(', ')}${notes}`);
    }
    lines.push('');
  } else {
    lines.push('No input was flagged (truncated, corrupt, changed while read or cut at a size limit).', '');
  }
  return lines;
}

/**
 * Which field identified clients (`--trusted-proxy`) and the `--vhost` filter, as paragraphs. CIDRs are
 * alf's canonical text and vhost patterns were validated (letters, digits, `.-_*`): safe in code spans.
 */
function scopeLines(input: AnalysisPackInput): string[] {
  const lines: string[] = [];
  const c = input.clientAddress;
  if (c === undefined || c.trustedProxies.length === 0) lines.push('Clients identified by: the logged remote address.', '');
  else {
    lines.push(`Clients identified by: X-Forwarded-For behind trusted proxies ${c.trustedProxies.map((x) => `\`${x}\``).join(', ')} ` +
      `(${plural(c.fromForwardedFor, 'record', 'records')} resolved; ${formatCount(c.proxyKept)} from a trusted proxy without a usable X-Forwarded-For kept as the proxy address).`, '');
  }
  const v = input.vhostFilter;
  if (v) {
    lines.push(`Virtual hosts: only ${v.patterns.map((x) => `\`${x}\``).join(', ')} ` +
      `(${plural(v.otherVhost, 'parsed record', 'parsed records')} of other virtual hosts and ${formatCount(v.withoutVhost)} without a virtual host left out).`, '');
  }
  return lines;
}

function databasesSection(input: AnalysisPackInput): string[] {
  const dbs = input.databases;
  const lines: string[] = ['## Databases', ''];
  if (dbs.length === 0) {
    lines.push('No ASN or geolocation database was used: ASN, organisation, country and prefix columns are empty.', '');
    return lines;
  }
  const rows = dbs.map((d) => [d.role, md(d.databaseType), d.buildDate === null ? 'unknown' : md(d.buildDate), md(d.sha256.slice(0, 16)), d.source]);
  lines.push(...table(['role', 'database', 'build date', 'SHA-256 (first 16)', 'found via'], rows, 'lllll'));
  const attributions = [...new Set(dbs.map((d) => d.attribution).filter((a): a is string => a !== null && a.length > 0))];
  for (const a of attributions) lines.push(`> ${mdt(a)}`, '');
  if (input.databaseAgeWarning) lines.push(`**Warning:** ${md(input.databaseAgeWarning)}`, '');
  return lines;
}

function burstOverview(bursts: readonly Burst[]): string[] {
  if (bursts.length === 0) return ['No burst was found: no window rose clearly above the baseline at any time scale.', ''];
  const rows = bursts.map((b) => [
    String(b.burstId),
    `${time(b.startMs)} – ${time(b.endMs)}`,
    formatDuration(b.durationS),
    formatCount(b.requests),
    formatCount(b.excessRequests),
    formatCount(b.attackers),
    md(b.verdict),
  ]);
  return table(['burst', 'window (UTC)', 'duration', 'requests', 'excess', 'attributed IPs', 'verdict'], rows, 'rllrrrl');
}

function ratio(b: Burst): string {
  if (!(b.baselineRps > 0)) return 'no baseline traffic';
  return `×${formatDecimal(b.peakRps / b.baselineRps, 1)}`;
}

function top<T>(rows: readonly T[], what: string, csv: string, toRow: (r: T) => string[], head: readonly string[], align: string): string[] {
  const shown = rows.slice(0, SUMMARY_TOP_ROWS);
  const out = [`#### Top ${what}`, '', ...table(head, shown.map(toRow), align)];
  if (rows.length > shown.length) out.push(`Showing ${shown.length} of ${formatCount(rows.length)}; all in \`${csv}\`.`, '');
  return out;
}

/**
 * A chart alf wrote into the pack: a Markdown image with alf's own alt text
 * and a fixed relative path under charts/ (never anything from the log).
 */
function chartImage(alt: string, file: string): string {
  return `![${mdt(alt)}](${file})`;
}

function burstSection(b: Burst, result: AnalysisResult, blocklist?: Blocklist, recordsLine: string | null = null): string[] {
  const of = <T extends { readonly burstId: number; readonly requests: number }>(rows: readonly T[], key: (r: T) => string | number | null): T[] =>
    byBurstThenRequests(rows.filter((r) => r.burstId === b.burstId), key);
  const notes = result.findings.filter((f) => f.burstId === b.burstId && f.code !== 'burst');
  const lines = [
    `### Burst ${b.burstId}: ${md(b.verdict)}`,
    '',
    `- **Window:** ${time(b.startMs)} – ${time(b.endMs)} (UTC), ${formatDuration(b.durationS)}`,
    `- **Magnitude:** ${formatCount(b.requests)} requests, ${formatCount(b.excessRequests)} above baseline; ` +
      `peak ${formatDecimal(b.peakRps, 2)} req/s vs baseline ${formatDecimal(b.baselineRps, 2)} req/s (${ratio(b)}); score ${formatDecimal(b.score, 1)}`,
    `- **Sources:** ${plural(b.distinctIps, 'distinct IP', 'distinct IPs')}; ${plural(b.attackers, 'attributed IP', 'attributed IPs')} ` +
      `(\`attackers.csv\`) explain ${formatPercent(b.attributedShare)} of the excess`,
    `- **Verdict:** ${md(b.verdict)}`,
  ];
  if (b.reasons.length > 0) {
    lines.push('- **Reasons:**');
    for (const r of b.reasons) lines.push(`  - ${md(r)}`);
  }
  if (notes.length > 0) {
    lines.push('- **Notes:**');
    for (const f of notes) lines.push(`  - ${md(f.message)}`);
  }
  if (blocklist) lines.push(blocklistBullet(blocklist));
  if (recordsLine !== null) lines.push(recordsLine);
  lines.push('');
  const charts = burstChartPaths(b.burstId);
  lines.push(chartImage(`Burst ${b.burstId}: requests per second around the window, baseline and excess`, charts.zoom), '');
  lines.push(chartImage(`Burst ${b.burstId}: top networks by requests`, charts.asns), '');
  lines.push(chartImage(`Burst ${b.burstId}: top countries by requests`, charts.countries), '');
  const shares = (r: { ips: number; requests: number; share: number; excessShare: number }): string[] => [
    formatCount(r.ips), formatCount(r.requests), formatPercent(r.share), formatPercent(r.excessShare),
  ];
  const SH = ['IPs', 'requests', 'share', 'share of excess'];
  lines.push(
    ...top(of<AsnRow>(result.asns, (r) => r.asn), 'ASNs', 'asns.csv',
      (r) => [r.asn === null ? '–' : `AS${r.asn}`, md(r.asOrg), ...shares(r)], ['ASN', 'organisation', ...SH], 'llrrrr'),
    ...top(of<CountryRow>(result.countries, (r) => r.country), 'countries', 'countries.csv',
      (r) => [md(r.country), ...shares(r)], ['country', ...SH], 'lrrrr'),
    ...top(of<PrefixRow>(result.prefixes, (r) => r.prefix), 'prefixes', 'prefixes.csv',
      (r) => [md(r.prefix), r.asn === null ? '–' : `AS${r.asn}`, ...shares(r)], ['prefix', 'ASN', ...SH], 'llrrrr'),
    ...top(of<PathRow>(result.paths, (r) => r.path), 'paths', 'paths.csv',
      (r) => [md(r.path), ...shares(r), formatPercent(r.randomQueryShare)], ['path', ...SH, 'random query'], 'lrrrrr'),
    ...top(of<UserAgentRow>(result.userAgents, (r) => r.userAgent), 'user agents', 'user_agents.csv',
      (r) => [md(r.userAgent), ...shares(r), md(r.claimedCrawler)], ['user agent', ...SH, 'claims to be'], 'lrrrrl'),
  );
  return lines;
}

function blocklistBullet(bl: Blocklist): string {
  const n = blocklistFileNames(bl.burstId);
  const check = bl.normalCheckComplete ? '' : '; normal-client check incomplete (client cap reached)';
  return `- **Blocklist:** \`${n.txt}\` (${plural(bl.prefixes.length, 'prefix', 'prefixes')}, ${formatCount(bl.normalCovered)} normal clients covered${check}); ` +
    `also as \`${n.nginx}\`, \`${n.nft}\`, \`${n.ipset}\`; abuse contacts per ASN in \`abuse.csv\``;
}

function hasRole(dbs: readonly GeoDbInfo[], role: GeoDbInfo['role']): boolean {
  return dbs.some((d) => d.role === role);
}

function couldNotTell(input: AnalysisPackInput): string[] {
  const { result } = input;
  const items: string[] = [];
  for (const a of result.approximations) items.push(`Approximate: ${md(a.what)}: ${md(a.why)}; error bound ${md(a.errorBound)}.`);
  const global = (f: Finding): boolean => f.burstId === null && f.code !== 'burst';
  for (const f of result.findings.filter(global)) items.push(`${md(f.message)} (${f.code}).`);
  const capped = result.findings.filter((f) => f.code === 'cap_hit' && f.burstId !== null);
  for (const f of capped) items.push(`Burst ${f.burstId}: ${md(f.message)} (cap_hit).`);
  if (result.recordsWithoutTime > 0) {
    items.push(`${plural(result.recordsWithoutTime, 'parsed record has', 'parsed records have')} no usable timestamp and ${result.recordsWithoutTime === 1 ? 'is' : 'are'} not in the timeline or any burst.`);
  }
  if (input.accounting.rejected > 0) {
    items.push(`${plural(input.accounting.rejected, 'line was', 'lines were')} rejected and not analysed (\`rejects.csv\`).`);
  }
  for (const i of input.inputs) {
    if ((i.decode?.flags.length ?? 0) > 0) items.push(`Input ${md(i.name)} is ${i.decode!.flags.join(', ')}: its results may be partial.`);
  }
  const gs = input.geoStats;
  if (gs && gs.hostnames > 0) {
    items.push(`${plural(gs.hostnames, 'client was logged as a host name', 'clients were logged as host names')}, not an IP address: not geolocated (no ASN, organisation, country or prefix).`);
  }
  if (gs && gs.labelled > 0) {
    items.push(`${plural(gs.labelled, 'client address is', 'client addresses are')} in private or special-purpose ranges: no ASN or country (behind a proxy or NAT?).`);
  }
  if (gs && gs.geoErrors > 0) items.push(`${plural(gs.geoErrors, 'database lookup', 'database lookups')} failed; those clients have no ASN or country.`);
  if (!hasRole(input.databases, 'asn')) items.push('No ASN database was used: ASN and organisation columns are empty.');
  if (!hasRole(input.databases, 'geo')) items.push('No country database was used: country columns are empty.');
  for (const d of input.databases) for (const n of d.notes ?? []) items.push(`Database ${md(d.databaseType)}: ${md(n)}.`);
  const noTopPath = result.attackers.filter((a: Attacker) => a.topPath === null).length;
  const coveredByCore = result.approximations.some((a) => a.what.includes('top_path'));
  if (noTopPath > 0 && !coveredByCore) {
    items.push(`${plural(noTopPath, 'attributed IP', 'attributed IPs')} used more distinct paths than the per-IP cap: top path unknown; their requests count as \`(many paths)\` in \`paths.csv\`.`);
  }
  const noBaseline = result.bursts.filter((b) => !(b.baselineRps > 0)).map((b) => b.burstId);
  if (noBaseline.length > 0) items.push(`Burst ${noBaseline.join(', ')}: no baseline traffic around the window, so no peak-to-baseline ratio.`);
  for (const n of input.notes ?? []) items.push(md(n));
  items.push('Client addresses are as logged: behind a proxy, CDN or load balancer they may be the proxy\u2019s, and alf cannot tell spoofed or relayed sources from real ones.');
  return ['## What alf could not tell', '', ...items.map((s) => `- ${s}`), ''];
}

/** summary.md for an analysis pack (see the module comment). */
export function renderSummaryMd(input: AnalysisPackInput): string {
  const bursts = sortBursts(input.result.bursts);
  const lines: string[] = [
    ...header(input),
    ...inputsSection(input.inputs, input.source),
    optionsLine(input),
    '',
    ...accountingSection(input),
    ...databasesSection(input),
    '## Bursts',
    '',
    chartImage('Request rate and distinct IPs over the whole span, bursts shaded', TIMELINE_CHART_PATH),
    '',
    ...burstOverview(bursts),
  ];
  for (const b of bursts) {
    lines.push(...burstSection(b, input.result, burstBlocklists(input)?.get(b.burstId), input.records ? recordsBullet(b.burstId, input.records) : null));
  }
  lines.push(...couldNotTell(input));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').replace(/\n*$/, '\n');
}
