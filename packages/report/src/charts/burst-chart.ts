/**
 * charts/burst-<id>.svg: the timeline zoomed on one burst (window ± a
 * margin), as requests per second averaged over each timeline bucket, with
 * the burst's baseline rate as a dashed line, the excess above it inside the
 * window shaded, and the busiest single second (bursts.csv `peak_rps`) as a
 * dotted line. Drawn from core's `burstSeries` (1/10/60 s steps) when the
 * caller has it, else from the timeline's buckets: `AnalysisResult` carries
 * per-second counts only as `peakRps`.
 */
import type { Burst, BurstSeries, TimelineSeries } from '@alf/core';
import { formatCount, formatDuration } from '../summary-md.ts';
import { timeAxis, valueAxis, type Panel } from './axes.ts';
import { bucketName, groupedFixed, linearScale, utcSecondsLabel } from './scale.ts';
import { el, group, linePath, svgDocument, type Markup } from './svg.ts';
import { areaPath, stepPoints, verdictWords } from './timeline-chart.ts';

export interface BurstChartInput {
  readonly timeline: TimelineSeries;
  readonly burst: Burst;
  /**
   * Finer counts around this burst (core `burstSeries`, 1/10/60 s steps); when
   * absent the zoom is drawn from the timeline's buckets.
   */
  readonly fine?: BurstSeries | undefined;
  /** The other bursts of the analysis: those inside the zoom are drawn as bands too. */
  readonly others?: readonly Burst[] | undefined;
}

const W = 960;
const LEFT = 78;
const RIGHT = 24;

/** Bucket index range [from, to) shown for a burst: its window plus max(¾ of its duration, 10 buckets) each side. */
export function zoomRange(t: TimelineSeries, b: Burst): [number, number] {
  const bucketMs = t.bucketS * 1000;
  const marginMs = Math.max(0.75 * (b.endMs + 1000 - b.startMs), 10 * bucketMs);
  const from = Math.max(0, Math.floor((b.startMs - marginMs - t.startMs) / bucketMs));
  const to = Math.min(t.requests.length, Math.ceil((b.endMs + 1000 + marginMs - t.startMs) / bucketMs));
  return [from, Math.max(from, to)];
}

/** The zoomed burst chart as a standalone SVG document. */
export function burstChartSvg(input: BurstChartInput): string {
  const { timeline: t, burst: b } = input;
  const fine = input.fine !== undefined && input.fine.burstId === b.burstId && input.fine.requests.length > 0 ? input.fine : null;
  const stepS = fine ? fine.stepS : t.bucketS;
  const stepMs = stepS * 1000;
  const [from, to] = fine ? [0, fine.requests.length] : zoomRange(t, b);
  const counts = fine ? fine.requests : t.requests;
  const title = `Burst #${b.burstId} (${verdictWords(b.verdict)}): requests per second around the window (UTC)`;
  const body: Markup[] = [el('text', { class: 'title', x: LEFT, y: 22 }, title)];
  body.push(el('text', { class: 'small muted', x: LEFT, y: 40 },
    `window ${utcSecondsLabel(b.startMs)} – ${utcSecondsLabel(b.endMs)} (${formatDuration(b.durationS)}); ` +
    `${formatCount(b.requests)} requests, ${formatCount(b.excessRequests)} above baseline; ` +
    `baseline ${groupedFixed(b.baselineRps, 2)} req/s`));
  body.push(el('text', { class: 'small muted', x: LEFT, y: 56 }, stepS === 1
    ? 'Each step is one second.'
    : `Each step is the average over ${fine ? bucketName(stepS) : `one ${bucketName(stepS)} timeline bucket`}, so single seconds peak higher (dotted line).`));

  const fromMs = (fine ? fine.startMs : t.startMs) + from * stepMs;
  const toMs = (fine ? fine.startMs : t.startMs) + to * stepMs;
  const others = (input.others ?? []).filter((o) => o.burstId !== b.burstId && o.endMs + 1000 > fromMs && o.startMs < toMs);
  const sharing = others.filter((o) => o.endMs + 1000 > b.startMs && o.startMs < b.endMs + 1000);
  let top = 76;
  if (sharing.length > 0) {
    body.push(el('text', { class: 'small muted', x: LEFT, y: 72 },
      `Overlaps burst ${sharing.map((o) => `#${o.burstId}`).join(', ')}: the timeline cannot tell them apart, so the shaded excess is all traffic above the baseline.`));
    top += 16;
  }
  const n = to - from;
  const rate = new Float64Array(n);
  let max = Math.max(b.peakRps, b.baselineRps);
  for (let i = 0; i < n; i++) {
    rate[i] = counts[from + i]! / stepS;
    max = Math.max(max, rate[i]!);
  }
  const p: Panel = { x: LEFT, y: top, width: W - LEFT - RIGHT, height: 260 };
  const xt = linearScale(fromMs, Math.max(toMs, fromMs + 1000), p.x, p.x + p.width);
  const xi = (i: number): number => xt(fromMs + i * stepMs);
  const ya = valueAxis(p, max * 1.08, 'requests per second');
  body.push(ya.markup, timeAxis(p, fromMs, Math.max(toMs, fromMs + 1000), true));

  // other bursts in view, then this burst's window
  for (const o of others) {
    const ox0 = Math.max(p.x, xt(o.startMs));
    const ox1 = Math.min(p.x + p.width, Math.max(ox0 + 2, xt(o.endMs + 1000)));
    body.push(el('rect', { class: `v-${o.verdict} win`, x: ox0, y: p.y, width: ox1 - ox0, height: p.height }));
    body.push(el('line', { class: 'grid', x1: ox0, y1: p.y, x2: ox0, y2: p.y + p.height }));
    body.push(el('text', { class: 'small muted', x: ox0 + 4, y: p.y + 30 }, `#${o.burstId} ${verdictWords(o.verdict)}`));
  }
  const wx0 = Math.max(p.x, xt(b.startMs));
  const wx1 = Math.min(p.x + p.width, Math.max(wx0 + 2, xt(b.endMs + 1000)));
  const cls = `v-${b.verdict}`;
  body.push(el('rect', { class: `${cls} win`, x: wx0, y: p.y, width: wx1 - wx0, height: p.height }));
  for (const wx of [wx0, wx1]) body.push(el('line', { class: 'axis', x1: wx, y1: p.y, x2: wx, y2: p.y + p.height }));
  body.push(el('text', { class: 'small', x: wx0 + 4, y: p.y + 14 }, `#${b.burstId} ${verdictWords(b.verdict)}`));

  // excess: between the baseline and the step line, inside the window
  const by = ya.scale(b.baselineRps);
  const excess: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = rate[i]!;
    if (!(v > b.baselineRps)) continue;
    const x0 = Math.max(xi(i), wx0);
    const x1 = Math.min(xi(i + 1), wx1);
    if (x1 <= x0) continue;
    excess.push(linePath([[x0, by], [x0, ya.scale(v)], [x1, ya.scale(v)], [x1, by]]) + 'Z');
  }
  if (excess.length > 0) body.push(el('path', { class: 'excess', d: excess.join(' ') }));

  const pts = stepPoints(rate, new Uint8Array(n), xi, ya.scale);
  body.push(el('path', { class: 'a-req', d: areaPath(pts, p.y + p.height) }), el('path', { class: 's-req', d: linePath(pts) }));
  body.push(el('line', { class: 'base', x1: p.x, y1: by, x2: p.x + p.width, y2: by }));
  const py = ya.scale(b.peakRps);
  body.push(el('line', { class: 'peak', x1: p.x, y1: py, x2: p.x + p.width, y2: py }));
  body.push(el('text', { class: 'small end', x: p.x + p.width - 4, y: py - 4 }, `busiest second ${groupedFixed(b.peakRps, 2)} req/s`));
  body.push(el('text', { class: 'small end', x: p.x + p.width - 4, y: by - 4 }, `baseline ${groupedFixed(b.baselineRps, 2)} req/s`));

  // legend
  const ly = p.y + p.height + 62;
  const items: Markup[] = [];
  let lx = LEFT;
  const swatch = (c: string, label: string, line: boolean): void => {
    items.push(line
      ? el('line', { class: c, x1: lx, y1: ly - 4, x2: lx + 22, y2: ly - 4 })
      : el('rect', { class: c, x: lx, y: ly - 10, width: 14, height: 10 }));
    items.push(el('text', { class: 'small', x: lx + 26, y: ly }, label));
    lx += 26 + label.length * 6.6 + 18;
  };
  swatch('s-req', stepS === 1 ? 'requests/s' : `requests/s (${bucketName(stepS)} average)`, true);
  swatch('base', 'baseline', true);
  swatch('excess', 'excess over baseline', false);
  swatch('peak', 'busiest second', true);
  swatch(`${cls} shade`, 'burst window', false);
  body.push(group(items));

  const desc =
    `Burst ${b.burstId}, verdict ${verdictWords(b.verdict)}, from ${utcSecondsLabel(b.startMs)} to ${utcSecondsLabel(b.endMs)} (last second): ` +
    `${formatCount(b.requests)} requests, ${formatCount(b.excessRequests)} above a baseline of ${groupedFixed(b.baselineRps, 2)} req/s; ` +
    `busiest second ${groupedFixed(b.peakRps, 2)} req/s.`;
  return svgDocument({ width: W, height: ly + 14, title, desc, body });
}
