import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { closest, didYouMean, editDistance } from './did-you-mean.ts';
import { byteSizeOption, formatOption, isValidTz, oneOf, ratioOption, tzOption, validateOptions } from './options.ts';

describe('did you mean', () => {
  test.for([
    ['ngnix', 'nginx'], ['combind', 'combined'], ['csvv', 'csv'], ['NDJSON', 'ndjson'],
  ])('suggests %s → %s', ([given, want]) => {
    expect(closest(given!, ['nginx', 'combined', 'common', 'csv', 'ndjson', 'arrow'])).toBe(want);
  });
  test('suggests nothing for a far-off value', () => {
    expect(closest('zzzzzz', ['nginx', 'csv'])).toBeUndefined();
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('option checks', () => {
  const schema = z.object({
    to: oneOf('--to', ['arrow', 'ndjson', 'csv']).optional(),
    format: formatOption((v) => (['nginx', 'combined'].includes(v) || v.includes('$') || v.includes('%') ? undefined
      : `\`--format\` must be one of nginx, combined; got \`${v}\`${didYouMean(v, ['nginx', 'combined'])}`)).optional(),
    tz: tzOption.optional(),
    size: byteSizeOption('--max-line-bytes', 256, 1024 ** 3).optional(),
    ratio: ratioOption('--max-reject-ratio').optional(),
  });

  test('a wrong value says what was expected, what was given, and suggests', () => {
    expect(() => validateOptions(schema, { format: 'ngnix' })).toThrow(
      /`--format` must be one of nginx, combined; got `ngnix` \(did you mean `nginx`\?\)\. Leave it out to detect/,
    );
    expect(() => validateOptions(schema, { to: 'jsonn', tz: 'Europe/Pari' })).toThrow(/got `jsonn`[\s\S]*`--tz`.*did you mean `Europe\/Paris`/);
  });

  test('every problem is reported at once, as ALF_USAGE', () => {
    try {
      validateOptions(schema, { to: 'x', size: '10', ratio: '2' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'ALF_USAGE' });
      expect((error as Error).message.split('\n')).toHaveLength(3);
    }
  });

  test('pasted format strings pass through to the parser', () => {
    expect(validateOptions(schema, { format: '$remote_addr [$time_local]' }).format).toBe('$remote_addr [$time_local]');
    expect(validateOptions(schema, { format: '%h %l %u %t "%r" %>s %b' }).format).toBe('%h %l %u %t "%r" %>s %b');
  });

  test('sizes, ratios and zones are read once', () => {
    expect(validateOptions(schema, { size: '4MiB', ratio: '5%', tz: '+05:30' })).toEqual({ size: 4 * 1024 ** 2, ratio: 0.05, tz: '+05:30' });
    expect(isValidTz('America/New_York')).toBe(true);
    expect(isValidTz('Mars/Olympus')).toBe(false);
  });

  test('an option given twice is named', () => {
    expect(() => validateOptions(schema, { to: ['csv', 'arrow'] })).toThrow(/`--to` was given more than once/);
  });
});
