import { expect, test } from 'vitest';
import { AlfError } from '@alf/parser';
test('workspace packages resolve to their sources', () => {
  expect(new AlfError('ALF_USAGE', 'x').code).toBe('ALF_USAGE');
});
