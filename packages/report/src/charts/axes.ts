/**
 * Axes and panels shared by the time charts: a panel is a plot rectangle with
 * a value axis on the left (nice ticks, grid lines) and, optionally, a UTC
 * time axis below it.
 */
import { el, group, type Markup } from './svg.ts';
import { linearScale, timeTicks, valueLabel, valueTicks } from './scale.ts';

export interface Panel {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface ValueAxis {
  readonly scale: (v: number) => number;
  readonly top: number;
  readonly markup: Markup;
}

/** Grid lines and labels for values 0..max on the left of the panel, with a rotated axis title. */
export function valueAxis(p: Panel, max: number, title: string, tickCount = 4): ValueAxis {
  const t = valueTicks(max, tickCount);
  const scale = linearScale(0, t.top, p.y + p.height, p.y);
  const parts: Markup[] = [];
  for (const v of t.ticks) {
    const y = scale(v);
    parts.push(el('line', { class: 'grid', x1: p.x, y1: y, x2: p.x + p.width, y2: y }));
    parts.push(el('text', { class: 'small muted end', x: p.x - 6, y: y + 4 }, valueLabel(v, t.step)));
  }
  parts.push(el('line', { class: 'axis', x1: p.x, y1: p.y, x2: p.x, y2: p.y + p.height }));
  const cx = p.x - 52;
  const cy = p.y + p.height / 2;
  parts.push(el('text', { class: 'small muted mid', x: cx, y: cy, transform: `rotate(-90 ${cx} ${cy})` }, title));
  return { scale, top: t.top, markup: group(parts) };
}

/** UTC time ticks along the bottom of the panel; labels only when `labels` (the lowest panel). */
export function timeAxis(p: Panel, fromMs: number, toMs: number, labels: boolean, title = 'time (UTC)'): Markup {
  const x = linearScale(fromMs, toMs, p.x, p.x + p.width);
  const maxTicks = Math.max(2, Math.floor(p.width / 90));
  const { ticks } = timeTicks(fromMs, toMs, maxTicks);
  const bottom = p.y + p.height;
  const parts: Markup[] = [el('line', { class: 'axis', x1: p.x, y1: bottom, x2: p.x + p.width, y2: bottom })];
  for (const t of ticks) {
    const tx = x(t.ms);
    parts.push(el('line', { class: 'grid', x1: tx, y1: p.y, x2: tx, y2: bottom }));
    parts.push(el('line', { class: 'axis', x1: tx, y1: bottom, x2: tx, y2: bottom + 4 }));
    if (!labels) continue;
    parts.push(el('text', { class: 'small muted mid', x: tx, y: bottom + 16 }, t.label));
    if (t.dateLabel !== null) parts.push(el('text', { class: 'small muted mid', x: tx, y: bottom + 30 }, t.dateLabel));
  }
  if (labels) parts.push(el('text', { class: 'small muted end', x: p.x + p.width, y: bottom + 46 }, title));
  return group(parts);
}
