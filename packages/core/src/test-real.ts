/** Test-only: read a real log from testdata/real as rows. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseCombined, type TestRow } from './test-batch.ts';

export const REAL_DIR: string = fileURLToPath(new URL('../../../testdata/real/', import.meta.url));

export function realRows(relPath: string): TestRow[] {
  const buf = readFileSync(REAL_DIR + relPath);
  const text = (relPath.endsWith('.gz') ? gunzipSync(buf) : buf).toString('latin1');
  return parseCombined(text.split('\n'));
}
