import { describe, expect, test } from 'vitest';
import { runCorpus, scoreCorpus } from './eval-corpus.ts';

describe('labelled evaluation corpus (real background + injected events)', () => {
  test('finds every event with the right verdict, no burst on quiet days, attacker precision and recall above 0.9', () => {
    const s = scoreCorpus(runCorpus());
    expect(s.events.filter((e) => !e.found).map((e) => e.event)).toEqual([]);
    expect(s.events.filter((e) => e.verdict !== e.expected).map((e) => `${e.event}: ${e.verdict}`)).toEqual([]);
    expect(s.falseBursts).toEqual([]);
    expect(s.precision).toBeGreaterThan(0.9);
    expect(s.recall).toBeGreaterThan(0.9);
    for (const e of s.events) {
      // Start and end within a minute (the low-and-slow attack's edges are Poisson-blurred).
      expect(Math.abs(e.startErrorS!)).toBeLessThanOrEqual(60);
      expect(Math.abs(e.endErrorS!)).toBeLessThanOrEqual(60);
    }
  });
});
