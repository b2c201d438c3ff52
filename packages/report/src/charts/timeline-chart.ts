/**
 * charts/timeline.svg: requests per bucket over the whole span (upper panel)
 * and distinct client IPs per bucket (lower panel), every burst shaded in its
 * verdict's colour and labelled `#id verdict` above the plot. Stretches of at
 * least `minGapS` without a request are drawn as "no data" (grey), and neither
 * line crosses them.
 */
import type { Burst, TimelineSeries } from '@alf/core';
import { formatCount, formatDuration } from '../summary-md.ts';
import { timeAxis, valueAxis, type Panel } from './axes.ts';
import { bucketName, groupedFixed, linearScale, utcLabel, utcSecondsLabel } from './scale.ts';
import { el, group, linePath, svgDocument, type Markup } from './svg.ts';

export interface TimelineChartInput {
  readonly timeline: TimelineSeries;
  readonly bursts: readonly Burst[];
  /** A run of empty buckets at least this long (s) is missing data (core's `minGapS`, default 1800). */
  readonly minGapS: number;
}

/** Verdict as words: `flash_crowd` → `flash crowd`. */
export function verdictWords(v: string): string {
  return v.replace(/_/g, ' ');
}

/** Half-open bucket ranges [from, to) that are data gaps. */
export function gapRuns(requests: Float64Array, bucketS: number, minGapS: number): [number, number][] {
  const runs: [number, number][] = [];
  let i = 0;
  while (i < requests.length) {
    if (requests[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < requests.length && requests[j] === 0) j++;
    if ((j - i) * bucketS >= minGapS) runs.push([i, j]);
    i = j;
  }
  return runs;
}

/**
 * Step-line points for a bucketed column: each bucket a horizontal segment;
 * null (pen up) in gaps and for NaN values.
 */
export function stepPoints(
  values: Float64Array, inGap: Uint8Array, x: (i: number) => number, y: (v: number) => number,
): ([number, number] | null)[] {
  const pts: ([number, number] | null)[] = [];
  let lastV = NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (inGap[i] === 1 || !Number.isFinite(v)) {
      if (pts.length > 0 && pts[pts.length - 1] !== null) pts.push(null);
      lastV = NaN;
      continue;
    }
    if (v === lastV) {
      (pts[pts.length - 1] as [number, number])[0] = x(i + 1); // same value: extend the segment
      continue;
    }
    pts.push([x(i), y(v)], [x(i + 1), y(v)]);
    lastV = v;
  }
  return pts;
}

/**
 * Groups of `k` consecutive buckets reduced to their maximum (NaN when none
 * is finite), and a group is in a gap only when all its buckets are: keeps
 * peaks visible when there are more buckets than pixels.
 */
export function maxPerGroup(values: Float64Array, inGap: Uint8Array, k: number): { values: Float64Array; inGap: Uint8Array } {
  const m = Math.ceil(values.length / k);
  const out = new Float64Array(m).fill(NaN);
  const gap = new Uint8Array(m).fill(1);
  for (let i = 0; i < values.length; i++) {
    const g = Math.floor(i / k);
    if (inGap[i] !== 1) gap[g] = 0;
    const v = values[i]!;
    if (Number.isFinite(v) && !(out[g]! >= v)) out[g] = v;
  }
  return { values: out, inGap: gap };
}

/** Closes each pen-down run of a step line down to `baseY`, giving a fill path. */
export function areaPath(points: readonly ([number, number] | null)[], baseY: number): string {
  const runs: [number, number][][] = [];
  let cur: [number, number][] = [];
  for (const p of points) {
    if (p === null) {
      if (cur.length > 0) runs.push(cur);
      cur = [];
    } else cur.push(p);
  }
  if (cur.length > 0) runs.push(cur);
  return runs
    .map((r) => linePath([[r[0]![0], baseY], ...r, [r[r.length - 1]![0], baseY]]) + 'Z')
    .join(' ');
}

const W = 960;
const LEFT = 78;
const RIGHT = 24;

interface Placed {
  readonly burst: Burst;
  readonly x0: number;
  readonly x1: number;
  readonly row: number;
  readonly label: string;
  /** Left edge of the label (moved left near the right edge of the chart). */
  readonly lx: number;
}

/** Puts burst labels in rows so that they do not overlap (estimated 6.6 px per character at 11 px). */
function placeLabels(bursts: readonly Burst[], x: (ms: number) => number, rows: number, rightX: number): Placed[] {
  const ends = new Array<number>(rows).fill(-Infinity);
  const sorted = [...bursts].sort((a, b) => a.startMs - b.startMs || a.burstId - b.burstId);
  const short = bursts.length > 12;
  return sorted.map((b) => {
    const x0 = x(b.startMs);
    const x1 = Math.max(x0 + 2, x(b.endMs + 1000));
    const label = short ? `#${b.burstId}` : `#${b.burstId} ${verdictWords(b.verdict)}`;
    const w = label.length * 6.6 + 11;
    const lx = Math.min(x0, rightX - w);
    let row = ends.findIndex((e) => e + 6 <= lx);
    if (row < 0) row = ends.indexOf(Math.min(...ends));
    ends[row] = lx + w;
    return { burst: b, x0, x1, row, label, lx };
  });
}

/** The whole-span timeline chart as a standalone SVG document. */
export function timelineChartSvg(input: TimelineChartInput): string {
  const t = input.timeline;
  const n = t.requests.length;
  const bucketMs = t.bucketS * 1000;
  const fromMs = t.startMs;
  const toMs = t.startMs + n * bucketMs;
  const per = bucketName(t.bucketS);
  const title = 'Request rate and distinct client IPs over the whole span (UTC), bursts shaded';
  const body: Markup[] = [el('text', { class: 'title', x: LEFT, y: 22 }, title)];
  if (n === 0) {
    body.push(el('text', { class: 'muted', x: LEFT, y: 60 }, 'No timestamped records: nothing to chart.'));
    return svgDocument({ width: W, height: 90, title, desc: 'No timestamped records.', body });
  }
  let peak = 0;
  let peakIps = 0;
  for (let i = 0; i < n; i++) {
    peak = Math.max(peak, t.requests[i]!);
    if (Number.isFinite(t.distinctIps[i]!)) peakIps = Math.max(peakIps, t.distinctIps[i]!);
  }
  const hasIps = t.distinctIps.some((v) => Number.isFinite(v));
  body.push(el('text', { class: 'small muted', x: LEFT, y: 40 },
    `${utcLabel(fromMs)} – ${utcLabel(toMs)} (${formatDuration((toMs - fromMs) / 1000)}); buckets of ${per}; ` +
    `busiest bucket ${formatCount(peak)} requests (${groupedFixed(peak / t.bucketS, 2)} req/s on average)` +
    (n > 2 * (W - LEFT - RIGHT) ? `; steps: busiest of ${Math.ceil(n / (2 * (W - LEFT - RIGHT)))} buckets` : '')));

  const labelRows = 2;
  const bandY = 52;
  const p1: Panel = { x: LEFT, y: bandY + labelRows * 16 + 6, width: W - LEFT - RIGHT, height: 200 };
  const p2: Panel = { x: LEFT, y: p1.y + p1.height + 22, width: p1.width, height: 100 };
  const xt = linearScale(fromMs, toMs, p1.x, p1.x + p1.width);
  const xi = (i: number): number => xt(fromMs + i * bucketMs);

  const gaps = gapRuns(t.requests, t.bucketS, input.minGapS);
  const inGap = new Uint8Array(n);
  for (const [a, b] of gaps) inGap.fill(1, a, b);

  const ya = valueAxis(p1, peak * 1.04, `requests per ${per}`);
  const yb = valueAxis(p2, peakIps * 1.04, `distinct IPs per ${per}`, 3);
  body.push(ya.markup, yb.markup, timeAxis(p1, fromMs, toMs, false), timeAxis(p2, fromMs, toMs, true));

  // no-data stretches, then bursts, under the lines
  for (const [a, b] of gaps) {
    for (const p of [p1, p2]) body.push(el('rect', { class: 'gap', x: xi(a), y: p.y, width: xi(b) - xi(a), height: p.height }));
    const mid = (xi(a) + xi(b)) / 2;
    if (xi(b) - xi(a) > 50) body.push(el('text', { class: 'small muted mid', x: mid, y: p1.y + 14 }, 'no data'));
  }
  const placed = placeLabels(input.bursts, xt, labelRows, W - 4);
  for (const pl of placed) {
    const cls = `v-${pl.burst.verdict}`;
    for (const p of [p1, p2]) {
      body.push(el('rect', { class: `${cls} shade`, x: pl.x0, y: p.y, width: pl.x1 - pl.x0, height: p.height }));
    }
    const ly = bandY + pl.row * 16 + 10;
    body.push(el('line', { class: 'axis', x1: pl.x0, y1: ly + 3, x2: pl.x0, y2: p1.y }));
    body.push(el('rect', { class: cls, x: pl.lx, y: ly - 8, width: 8, height: 8 }));
    body.push(el('text', { class: 'small', x: pl.lx + 11, y: ly }, pl.label));
  }

  // more buckets than two per pixel: one step per group of k buckets, at the group's busiest bucket
  const k = Math.max(1, Math.ceil(n / (2 * p1.width)));
  const xg = (g: number): number => xi(Math.min(n, g * k));
  const reqG = maxPerGroup(t.requests, inGap, k);
  const ipsG = maxPerGroup(t.distinctIps, inGap, k);
  const thin = n > p1.width ? ' thin' : '';
  const req = stepPoints(reqG.values, reqG.inGap, xg, ya.scale);
  body.push(el('path', { class: 'a-req', d: areaPath(req, p1.y + p1.height) }), el('path', { class: `s-req${thin}`, d: linePath(req) }));
  if (hasIps) {
    const ips = stepPoints(ipsG.values, ipsG.inGap, xg, yb.scale);
    body.push(el('path', { class: 'a-ip', d: areaPath(ips, p2.y + p2.height) }), el('path', { class: `s-ip${thin}`, d: linePath(ips) }));
  } else {
    body.push(el('text', { class: 'small muted', x: p2.x + 8, y: p2.y + 16 }, `distinct IPs are not counted for buckets under 1 min`));
  }

  // legend
  const ly = p2.y + p2.height + 60;
  const items: Markup[] = [];
  let lx = LEFT;
  const swatch = (cls: string, label: string, line: boolean): void => {
    items.push(line
      ? el('line', { class: cls, x1: lx, y1: ly - 4, x2: lx + 18, y2: ly - 4 })
      : el('rect', { class: cls, x: lx, y: ly - 10, width: 14, height: 10 }));
    items.push(el('text', { class: 'small', x: lx + 22, y: ly }, label));
    lx += 22 + label.length * 6.6 + 18;
  };
  swatch('s-req', 'requests', true);
  if (hasIps) swatch('s-ip', 'distinct IPs (HyperLogLog estimate)', true);
  for (const v of ['attack', 'flash_crowd', 'crawl', 'unclear'] as const) {
    if (input.bursts.some((b) => b.verdict === v)) swatch(`v-${v} shade`, `burst: ${verdictWords(v)}`, false);
  }
  if (gaps.length > 0) swatch('gap', 'no data', false);
  body.push(group(items));

  const desc =
    `Requests per ${per} from ${utcLabel(fromMs)} to ${utcLabel(toMs)}; ${input.bursts.length} burst(s) shaded: ` +
    input.bursts.map((b) => `#${b.burstId} ${verdictWords(b.verdict)} ${utcSecondsLabel(b.startMs)} – ${utcSecondsLabel(b.endMs)}`).join('; ') + '.';
  return svgDocument({ width: W, height: ly + 14, title, desc, body });
}
