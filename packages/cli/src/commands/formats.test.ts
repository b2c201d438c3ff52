import { describe, expect, test } from 'vitest';
import { listFormats } from '@alf/parser';
import { formatProblem } from '../parse-input.ts';
import { formatsText } from './formats.ts';

describe('alf formats', () => {
  test('lists every preset and explains pasting a format string', () => {
    const text = formatsText(undefined);
    for (const f of listFormats()) expect(text).toContain(`  ${f.id} `);
    expect(text).toMatch(/nginx .*log_format/);
    expect(text).toMatch(/Apache .*LogFormat/);
  });

  test('the pasted format strings it shows are accepted by --format', () => {
    const pasted = [...formatsText(undefined).matchAll(/--format '([^']+)'/g)].map((m) => m[1]!);
    expect(pasted).toHaveLength(2);
    for (const format of pasted) expect(formatProblem(format)).toBeUndefined();
  });

  test('a preset by name shows its format string and sample lines', () => {
    expect(formatsText('common')).toMatch(/Format string:\n {2}%h %l %u %t "%r" %>s %b\n/);
  });

  test('an unknown preset is a usage error with a suggestion', () => {
    expect(() => formatsText('comon')).toThrow(/no preset format `comon` \(did you mean `common`\?\)/);
  });
});
