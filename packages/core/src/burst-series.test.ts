import { describe, expect, test } from 'vitest';
import { burstSeries } from './burst-series.ts';
import { Timeline } from './timeline.ts';
import { toBatches } from './test-batch.ts';
import type { Burst } from './types.ts';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

function timeline(rows: { ms: number; n: number }[]): Timeline {
  const t = new Timeline();
  const flat = rows.flatMap((r) => Array.from({ length: r.n }, () => ({ ts: r.ms, ip: '192.0.2.1', status: 200, bytes: 10, path: '/', ua: 'x' })));
  for (const b of toBatches(flat, 1000)) t.add(b);
  return t;
}

function burst(startMs: number, endMs: number): Burst {
  return {
    burstId: 3, startMs, endMs, durationS: (endMs - startMs) / 1000 + 1, requests: 0, excessRequests: 0, peakRps: 0, baselineRps: 0,
    distinctIps: 0, attackers: 0, score: 0, scaleS: 10, verdict: 'attack', reasons: [], windowIndex: 0, attributedShare: 1,
  };
}

describe('burstSeries', () => {
  test('per second around a short burst, window ± 5 min, clipped to the span', () => {
    const t = timeline([{ ms: T0, n: 1 }, { ms: T0 + 3600_000, n: 5 }, { ms: T0 + 3601_000, n: 7 }, { ms: T0 + 7200_000, n: 1 }]);
    const s = burstSeries(t, burst(T0 + 3600_000, T0 + 3659_000));
    expect(s.stepS).toBe(1);
    expect(s.startMs).toBe(T0 + 3300_000);
    expect(s.requests.length).toBe(300 + 60 + 300);
    expect(s.requests[300]).toBe(5);
    expect(s.requests[301]).toBe(7);
    expect(s.requests.reduce((a, b) => a + b, 0)).toBe(12);
    const clipped = burstSeries(t, burst(T0, T0 + 59_000));
    expect(clipped.startMs).toBe(T0);
  });

  test('coarser steps for long bursts: 10 s, then 60 s', () => {
    const t = timeline([{ ms: T0, n: 1 }, { ms: T0 + 86_400_000, n: 1 }]);
    expect(burstSeries(t, burst(T0 + 3600_000, T0 + 3600_000 + 3599_000)).stepS).toBe(10);
    const long = burstSeries(t, burst(T0 + 3600_000, T0 + 3600_000 + 6 * 3600_000 - 1000));
    expect(long.stepS).toBe(60);
    expect(long.startMs % 60_000).toBe(0);
  });
});
