import { describe, expect, test } from 'vitest';
import { fetchLimit } from './build-state.ts';

describe('fetchLimit', () => {
  test('fetches every IP (2^32) when both sets fit', () => {
    expect(fetchLimit([[0, 3], [65535, 4]], [[7, 10]], 10, 20)).toBe(2 ** 32);
  });
  test('halves the hash limit until the inside and the reference IPs both fit', () => {
    // 10 IPs in each quarter of the hash space inside; 40 reference IPs in the lowest eighth.
    const inside = [[0, 10], [16384, 10], [32768, 10], [49152, 10]];
    expect(fetchLimit(inside, [], 20, 100)).toBe(2 ** 31);
    expect(fetchLimit(inside, [], 10, 100)).toBe(2 ** 30);
    expect(fetchLimit(inside, [[0, 40]], 40, 39)).toBe(2 ** 16);
  });
  test('stops at 2^16 (the top 16 bits are all it sees); the attribution\'s own cap applies after', () => {
    expect(fetchLimit([[0, 1000]], [], 10, 20)).toBe(2 ** 16);
  });
});
