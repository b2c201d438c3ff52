import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
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

describe('heedPressure', () => {
  /** Calls heedPressure twice in a fresh process (the switch is process-wide and happens once) and returns its stderr. */
  function twice(pressureMb: string, ratio = 1): string {
    const script = `const ratio = ${ratio}; const m = await import(${JSON.stringify(new URL('./memory.ts', import.meta.url).href)}); globalThis.keep = new Array(200000).fill(0).map((_, i) => ({ i })); m.heedPressure(ratio); m.heedPressure(ratio);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ALF_TRACE: '1', ALF_HEAP_PRESSURE_MB: pressureMb }, encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stderr;
  }

  it('switches the growing factor once when the heap in use passes the mark with many distinct strings a row', () => {
    const lines = twice('1').split('\n').filter((l) => l.includes('growing factor now'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/heap \d+MB in use, 1\.00 distinct paths and agents a row: growing factor now 1\.25/);
  });

  it('leaves it alone under the mark, with few distinct strings a row, and when the mark is 0 (off)', () => {
    expect(twice('100000')).not.toMatch(/growing factor now/);
    expect(twice('1', 0.1)).not.toMatch(/growing factor now/);
    expect(twice('0')).not.toMatch(/growing factor now/);
  });
});
