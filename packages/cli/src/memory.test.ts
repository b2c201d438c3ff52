import { afterEach, describe, expect, it } from 'vitest';
import { envCount } from './memory.ts';

const NAME = 'ALF_TEST_ENV_COUNT';

describe('envCount', () => {
  afterEach(() => {
    delete process.env[NAME];
  });

  it('gives the fallback when the variable is unset or empty (Number("") would be 0)', () => {
    delete process.env[NAME];
    expect(envCount(NAME, 100)).toBe(100);
    process.env[NAME] = '';
    expect(envCount(NAME, 100)).toBe(100);
    process.env[NAME] = '   ';
    expect(envCount(NAME, 100)).toBe(100);
  });

  it('reads a whole number, 0 included', () => {
    process.env[NAME] = '0';
    expect(envCount(NAME, 100)).toBe(0);
    process.env[NAME] = ' 42 ';
    expect(envCount(NAME, 100)).toBe(42);
  });

  it('gives the fallback for anything else', () => {
    for (const v of ['-1', '1.5', 'abc', '1e3', '0x10']) {
      process.env[NAME] = v;
      expect(envCount(NAME, 7)).toBe(7);
    }
  });
});
