/**
 * Scales and ticks: linear value scales with "nice" steps (1, 2, 5 × 10^k)
 * and UTC time ticks whose step is chosen for the span (seconds, minutes,
 * hours, days). Pure arithmetic on epoch milliseconds: no Date getters that
 * depend on the local time zone, no locale.
 */

/** Maps [d0, d1] linearly onto [r0, r1]. A zero-width domain maps to r0. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v: number): number => r0 + (v - d0) * k;
}

/** A tick step of 1, 2 or 5 × 10^k with at most about `count` steps up to `max`. */
export function niceStep(max: number, count: number): number {
  if (!(max > 0)) return 1;
  const raw = max / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

export interface ValueTicks {
  /** Top of the axis (a multiple of step ≥ max). */
  readonly top: number;
  readonly step: number;
  readonly ticks: readonly number[];
}

/** Ticks from 0 up to a nice top at or above `max` (1 when max ≤ 0). */
export function valueTicks(max: number, count = 5): ValueTicks {
  const step = niceStep(max > 0 ? max : 1, count);
  const top = Math.max(step, Math.ceil((max > 0 ? max : 1) / step - 1e-9) * step);
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step * 1e-9; i++) ticks.push(i * step);
  return { top, step, ticks };
}

/** Decimals needed to show multiples of `step` exactly (0 for steps ≥ 1). */
function stepDecimals(step: number): number {
  if (step >= 1) return 0;
  return Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

/** Fixed decimals, `,` thousands groups, no locale: `12345.6, 1` → `12,345.6`. */
export function groupedFixed(n: number, decimals: number): string {
  if (!Number.isFinite(n)) return '–';
  const s = Math.abs(n).toFixed(decimals);
  const [int = '0', frac] = s.split('.');
  const out = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac !== undefined ? '.' + frac : '');
  return n < 0 && /[1-9]/.test(s) ? '-' + out : out;
}

/** Tick label for a value axis with this step: `1,500`, `0.25`, `2k`-free (full digits). */
export function valueLabel(v: number, step: number): string {
  return groupedFixed(v, stepDecimals(step));
}

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
/** Candidate time steps, finest first; all divide a UTC day or are whole days. */
export const TIME_STEPS_MS: readonly number[] = [
  1 * S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S, 1 * M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M,
  1 * H, 2 * H, 3 * H, 6 * H, 12 * H, 1 * D, 2 * D, 7 * D, 14 * D, 28 * D, 56 * D, 112 * D, 364 * D,
];

export interface TimeTick {
  readonly ms: number;
  /** Time of day (`08:30`, `08:30:15`) or the date for day steps (`2018-12-16`). */
  readonly label: string;
  /** The date (`2018-12-16`) on the first tick and whenever the day changes; null otherwise. */
  readonly dateLabel: string | null;
}

export interface TimeTicks {
  readonly stepMs: number;
  readonly ticks: readonly TimeTick[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString(); // always UTC
}

/** `2018-12-16 08:30Z` (or `2018-12-16 08:30:15Z` when seconds are not zero). */
export function utcLabel(ms: number): string {
  const s = iso(Math.floor(ms / 1000) * 1000);
  const sec = s.slice(17, 19);
  return `${s.slice(0, 10)} ${s.slice(11, 16)}${sec === '00' ? '' : ':' + sec}Z`;
}

/** `2018-12-16 08:24:12Z`: always with seconds (burst windows). */
export function utcSecondsLabel(ms: number): string {
  const s = iso(Math.floor(ms / 1000) * 1000);
  return `${s.slice(0, 10)} ${s.slice(11, 19)}Z`;
}

/**
 * UTC ticks inside [fromMs, toMs]: the finest step from `TIME_STEPS_MS` that
 * gives at most `maxTicks` ticks, aligned to multiples of the step since the
 * epoch (so hours fall on the hour, days on UTC midnight).
 */
export function timeTicks(fromMs: number, toMs: number, maxTicks: number): TimeTicks {
  const span = Math.max(0, toMs - fromMs);
  let stepMs = TIME_STEPS_MS[TIME_STEPS_MS.length - 1]!;
  for (const s of TIME_STEPS_MS) {
    if (span / s <= maxTicks - 1) {
      stepMs = s;
      break;
    }
  }
  const ticks: TimeTick[] = [];
  let lastDate = '';
  for (let t = Math.ceil(fromMs / stepMs) * stepMs; t <= toMs; t += stepMs) {
    const s = iso(t);
    const date = s.slice(0, 10);
    const label = stepMs >= D ? date : stepMs >= M ? s.slice(11, 16) : s.slice(11, 19);
    ticks.push({ ms: t, label, dateLabel: stepMs < D && date !== lastDate ? date : null });
    lastDate = date;
  }
  return { stepMs, ticks };
}

/** `60` → `1 min`, `10` → `10 s`, `3600` → `1 h`, `86400` → `1 d`. */
export function bucketName(bucketS: number): string {
  if (bucketS % 86400 === 0) return `${bucketS / 86400} d`;
  if (bucketS % 3600 === 0) return `${bucketS / 3600} h`;
  if (bucketS % 60 === 0) return `${bucketS / 60} min`;
  return `${bucketS} s`;
}
