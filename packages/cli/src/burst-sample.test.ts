/**
 * The evidence sample of a burst (BurstSample, analyze-records.ts) against a model that sorts
 * every record: the first and last lines, the first line of each time slice, and the first
 * lines of each top attacker, whatever the order the records come in and however they are
 * split into samples that are merged (as worker tasks are).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Burst } from '@alf/core';
import { BurstSample, EVIDENCE_SAMPLE } from './analyze-records.ts';
import type { Pick } from './analyze-records.ts';

const START = Date.UTC(2026, 2, 4, 12, 0, 0);
const END = START + 599_000; // last second of a 10-minute burst
const burst = { burstId: 1, startMs: START, endMs: END } as unknown as Burst;
const IPS = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.9', '203.0.113.5'];
const top = IPS.slice(0, 3).map((ip, i) => ({ ip, requests: 100 - i }));

interface Rec extends Pick {
  readonly ip: string | null;
}

const cmp = (a: Pick, b: Pick): number => a.ts - b.ts || a.input - b.input || a.line - b.line;
const key = (p: Pick): string => `${p.ts}/${p.input}/${p.line}/${p.byteOffset}`;

/** What the sample must show, from all records sorted. */
function model(recs: readonly Rec[]): string[][] {
  const sorted = [...recs].sort(cmp);
  const n = EVIDENCE_SAMPLE.spread;
  const slots: (Pick | null)[] = new Array<Pick | null>(n).fill(null);
  for (const r of sorted) {
    const k = Math.min(n - 1, Math.max(0, Math.floor(((r.ts - START) / (END + 1000 - START)) * n)));
    slots[k] ??= r;
  }
  return [
    sorted.slice(0, EVIDENCE_SAMPLE.first).map(key),
    slots.filter((p): p is Pick => p !== null).map(key),
    sorted.slice(-EVIDENCE_SAMPLE.last).map(key),
    ...top.map((a) => sorted.filter((r) => r.ip === a.ip).slice(0, EVIDENCE_SAMPLE.perAttacker).map(key)),
  ];
}

const records = fc.uniqueArray(
  fc.record({
    ts: fc.integer({ min: START, max: END + 999 }),
    input: fc.integer({ min: 0, max: 2 }),
    line: fc.integer({ min: 1, max: 5_000_000 }),
    ip: fc.option(fc.constantFrom(...IPS), { nil: null }),
  }),
  { selector: (r) => `${r.input}:${r.line}`, minLength: 0, maxLength: 400, size: 'max' },
).map((rs) => rs.map((r) => ({ ...r, byteOffset: r.line * 97 + r.input })));

describe('BurstSample', () => {
  test('equals the sorted model, for any order and any split into merged samples', () => {
    fc.assert(fc.property(records, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 400, maxLength: 400 }), (recs, split) => {
      const parts = [0, 1, 2, 3].map(() => new BurstSample(burst, top));
      recs.forEach((r, i) => parts[split[i]!]!.add(r.ts, r.input, r.line, r.byteOffset, r.ip));
      const whole = parts[0]!;
      for (const p of parts.slice(1)) whole.merge(structuredClone(p.parts()));
      expect(whole.records).toBe(recs.length);
      expect(whole.sections().map((s) => s.picks.map(key))).toEqual(model(recs));
    }), { numRuns: 300 });
  });

  test('in time order (as a log is read), 100,000 records: the last lines are the newest', () => {
    const recs: Rec[] = [];
    for (let i = 0; i < 100_000; i++) recs.push({ ts: START + Math.floor((i * 600_000) / 100_000), input: 0, line: i + 1, byteOffset: i * 120, ip: IPS[i % IPS.length]! });
    const s = new BurstSample(burst, top);
    for (const r of recs) s.add(r.ts, r.input, r.line, r.byteOffset, r.ip);
    const sections = s.sections().map((x) => x.picks.map(key));
    expect(sections).toEqual(model(recs));
    expect(sections[2]!.at(-1)).toBe(key(recs.at(-1)!));
  });
});
