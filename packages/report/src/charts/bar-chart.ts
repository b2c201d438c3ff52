/**
 * Horizontal bar charts of a burst's top sources: charts/burst-<id>-asns.svg
 * (AS number and organisation) and charts/burst-<id>-countries.svg, bars by
 * requests, each labelled with its count and share of the burst's requests.
 * Organisation names come from IP databases (text anyone can register), so
 * they pass through `untrustedLabel()`: capped, controls visible, escaped.
 */
import type { AsnRow, Burst, CountryRow } from '@alf/core';
import { byBurstThenRequests } from '../pack-tables.ts';
import { formatCount, formatPercent } from '../summary-md.ts';
import { valueLabel, valueTicks, linearScale } from './scale.ts';
import { el, group, svgDocument, untrustedLabel, type Markup } from './svg.ts';
import { verdictWords } from './timeline-chart.ts';

/** Bars shown per chart. */
export const BAR_CHART_ROWS = 10;
/** Cap (code points) on an organisation name in a bar label. */
export const BAR_LABEL_MAX_CHARS = 34;

export interface BarRow {
  /** Escaped label markup. */
  readonly label: Markup;
  readonly requests: number;
  readonly share: number;
  readonly ips: number;
}

export interface BarChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly rows: readonly BarRow[];
  /** Rows not shown (beyond the top 10). */
  readonly more: number;
  readonly csv: string;
  readonly empty: string;
}

const W = 960;
const LABEL_W = 340;
const RIGHT = 150;
const ROW_H = 24;

/** A horizontal bar chart as a standalone SVG document. */
export function barChartSvg(input: BarChartInput): string {
  const body: Markup[] = [
    el('text', { class: 'title', x: 16, y: 22 }, input.title),
    el('text', { class: 'small muted', x: 16, y: 40 }, input.subtitle),
  ];
  const top = 62;
  if (input.rows.length === 0) {
    body.push(el('text', { class: 'muted', x: 16, y: top + 16 }, input.empty));
    return svgDocument({ width: W, height: top + 34, title: input.title, desc: input.empty, body });
  }
  const max = Math.max(...input.rows.map((r) => r.requests));
  const ticks = valueTicks(max, 5);
  const x = linearScale(0, ticks.top, LABEL_W, W - RIGHT);
  const plotH = input.rows.length * ROW_H;
  for (const v of ticks.ticks) {
    body.push(el('line', { class: 'grid', x1: x(v), y1: top, x2: x(v), y2: top + plotH }));
    body.push(el('text', { class: 'small muted mid', x: x(v), y: top + plotH + 16 }, valueLabel(v, ticks.step)));
  }
  body.push(el('text', { class: 'small muted end', x: W - RIGHT, y: top + plotH + 32 }, 'requests'));
  input.rows.forEach((r, i) => {
    const y = top + i * ROW_H;
    body.push(el('text', { class: 'end', x: LABEL_W - 8, y: y + 16 }, r.label));
    body.push(el('rect', { class: 'bar', x: LABEL_W, y: y + 4, width: Math.max(1, x(r.requests) - LABEL_W), height: ROW_H - 8 }));
    body.push(el('text', { class: 'small', x: x(r.requests) + 6, y: y + 16 },
      `${formatCount(r.requests)} (${formatPercent(r.share)}), ${formatCount(r.ips)} IP${r.ips === 1 ? '' : 's'}`));
  });
  body.push(el('line', { class: 'axis', x1: LABEL_W, y1: top, x2: LABEL_W, y2: top + plotH }));
  let h = top + plotH + 36;
  if (input.more > 0) {
    body.push(el('text', { class: 'small muted', x: 16, y: h + 10 }, `${formatCount(input.more)} more in ${input.csv}`));
    h += 16;
  }
  return svgDocument({ width: W, height: h + 8, title: input.title, desc: `${input.subtitle}. All rows: ${input.csv}.`, body: [group(body)] });
}

function rowsOf<T extends { readonly burstId: number; readonly requests: number }>(
  rows: readonly T[], b: Burst, key: (r: T) => string | number | null,
): T[] {
  return byBurstThenRequests(rows.filter((r) => r.burstId === b.burstId), key);
}

/** Top ASNs of a burst by requests. */
export function asnBarChartSvg(b: Burst, asns: readonly AsnRow[]): string {
  const all = rowsOf(asns, b, (r) => r.asn);
  const shown = all.slice(0, BAR_CHART_ROWS);
  return barChartSvg({
    title: `Burst #${b.burstId} (${verdictWords(b.verdict)}): top networks (ASNs) by requests`,
    subtitle: `share of the burst's ${formatCount(b.requests)} requests; organisation names as the ASN database gives them`,
    rows: shown.map((r) => ({
      label: {
        svg: (r.asn === null ? 'unknown ASN' : `AS${r.asn}`) + (r.asOrg ? ' ' + untrustedLabel(r.asOrg, BAR_LABEL_MAX_CHARS).svg : ''),
      },
      requests: r.requests, share: r.share, ips: r.ips,
    })),
    more: all.length - shown.length,
    csv: 'asns.csv',
    empty: 'No ASN rows for this burst (no ASN database, or no geolocated client).',
  });
}

/** Top countries of a burst by requests. */
export function countryBarChartSvg(b: Burst, countries: readonly CountryRow[]): string {
  const all = rowsOf(countries, b, (r) => r.country);
  const shown = all.slice(0, BAR_CHART_ROWS);
  return barChartSvg({
    title: `Burst #${b.burstId} (${verdictWords(b.verdict)}): top countries by requests`,
    subtitle: `share of the burst's ${formatCount(b.requests)} requests; country of the address's registration or location per the database`,
    rows: shown.map((r) => ({
      label: r.country === null ? { svg: 'unknown' } : untrustedLabel(r.country, 12),
      requests: r.requests, share: r.share, ips: r.ips,
    })),
    more: all.length - shown.length,
    csv: 'countries.csv',
    empty: 'No country rows for this burst (no country database, or no geolocated client).',
  });
}
