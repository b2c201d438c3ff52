/** The real logs of testdata/real through the real parser (sync entry) and both passes. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseLines } from '@alf/parser';
import { describe, expect, test } from 'vitest';
import { analyze } from './analysis.ts';
import type { AnalysisResult } from './types.ts';
import { memoryGeo } from './test-geo.ts';
import { REAL_DIR } from './test-real.ts';

function analyzeFile(rel: string): AnalysisResult {
  const buf = readFileSync(REAL_DIR + rel);
  const bytes = rel.endsWith('.gz') ? gunzipSync(buf) : buf;
  const { chunks, accounting } = parseLines(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  expect(accounting.parsed).toBeGreaterThan(1000);
  return analyze(chunks.map((c) => c.records), memoryGeo());
}

describe('real logs through @alf/parser', () => {
  test('secrepo 2018-12-15: one burst, 00:24:12 to 00:43:09 (-0800), attributed to 198.72.227.213', () => {
    const r = analyzeFile('secrepo/access.log.2018-12-15.gz');
    expect(r.bursts).toHaveLength(1);
    const b = r.bursts[0]!;
    expect(new Date(b.startMs).toISOString()).toBe('2018-12-16T08:24:12.000Z');
    expect(new Date(b.endMs).toISOString()).toBe('2018-12-16T08:43:09.000Z');
    expect(b.verdict).toBe('attack');
    expect(r.attackers.map((a) => a.ip)).toEqual(['198.72.227.213']);
    expect(r.attackers[0]!.requests).toBeGreaterThanOrEqual(4151);
    expect(r.statuses.find((s) => s.status === 404)!.requests).toBeGreaterThan(2700);
  });

  test.for([
    'secrepo/access.log.2021-10-22_to_2021-10-27.gz',
    'secrepo/access.log.2022-12-22.gz',
    'nielsbasjes-logparser/hackers-access.log.gz',
    'nasa-http/NASA_access_log_Aug95.first20000.log.gz',
    'elastic-examples/apache_logs.gz',
  ])('%s gives no burst', (rel) => {
    const r = analyzeFile(rel);
    expect(r.bursts).toEqual([]);
    expect(r.records).toBeGreaterThan(1000);
  });
});
