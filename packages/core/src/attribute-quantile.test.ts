import fc from 'fast-check';
import { expect, test } from 'vitest';
import { quantileOfCounts } from './attribute.ts';

test('the heavy-visitor bar from a histogram of reference counts equals the nearest-rank quantile of the sorted counts', () => {
  const count = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 65_000, max: 70_000 }), fc.integer({ min: 1, max: 2 ** 32 - 1 }));
  fc.assert(fc.property(fc.array(count, { minLength: 1, maxLength: 400 }), fc.constantFrom(0.5, 0.9, 0.99, 1), (counts, q) => {
    const hist = new Uint32Array(65_536);
    const large: number[] = [];
    for (const c of counts) {
      if (c < 65_536) hist[c]!++;
      else large.push(c);
    }
    const sorted = [...counts].sort((a, b) => a - b);
    expect(quantileOfCounts(hist, large, counts.length, q)).toBe(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
  }), { numRuns: 500 });
});
