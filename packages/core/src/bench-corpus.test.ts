/** The bench's synthetic corpus (written for speed runs, labelled flood included) through parser and core. */
import { parseLines } from '@alf/parser';
import { expect, test } from 'vitest';
import { createCorpus } from '../../../scripts/bench/corpus/generate.ts';
import { analyze } from './analysis.ts';
import { memoryGeo } from './test-geo.ts';

test('the bench corpus gives exactly its labelled flood, attributed to its 300 IPs and nothing else', () => {
  const corpus = createCorpus({ lines: 200_000 });
  const bytes = Buffer.concat([...corpus.chunks]);
  const { chunks } = parseLines(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const r = analyze(chunks.map((c) => c.records), memoryGeo());
  const flood = corpus.labels.flood;
  expect(r.bursts).toHaveLength(1);
  const b = r.bursts[0]!;
  expect(Math.abs(b.startMs - flood.startMs)).toBeLessThanOrEqual(2000);
  expect(Math.abs(b.endMs + 1000 - flood.endMs)).toBeLessThanOrEqual(2000);
  expect(b.verdict).toBe('attack');
  const labelled = new Set(flood.ips);
  expect(r.attackers.filter((a) => !labelled.has(a.ip))).toEqual([]);
  expect(r.attackers.length).toBeGreaterThan(0.9 * labelled.size);
});
