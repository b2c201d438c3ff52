/**
 * IpCounts past its memory budget: the tables written out as sorted runs (count-runs.ts) must
 * give exactly the counts of the same requests kept in memory, whatever the split, the merge
 * order, the kind of merge (live, snapshot, owned or not) and the number of runs.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { IpCounts, ROLE_INSIDE, ROLE_REF, clientKey } from './ip-counts.ts';
import { RunIndex, RunWriter, compactRuns, mergeRuns, runPath } from './count-runs.ts';

const dir = mkdtempSync(join(tmpdir(), 'alf-count-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listed(c: IpCounts): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  c.forEach((inside, ref, kind, textOf) => out.push([textOf(), kind, inside, ref]));
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** A client text from a small number: IPv4, canonical IPv6, or a host name. */
function client(n: number): string {
  if (n % 11 === 0) return `host-${n % 40}.example`;
  if (n % 5 === 0) return `2001:db8:${(n >>> 8).toString(16)}::${(n & 0xff).toString(16)}`;
  return `10.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

describe('IpCounts with sorted runs', () => {
  test('runs are written past the budget and read back in key order with summed counts', () => {
    const a = new RunWriter(runPath(dir));
    a.put4(1, 1, 0);
    a.put4(7, 2, 5);
    a.put6(0, 0, 0, 9, 1, 1);
    const ra = a.finish();
    const b = new RunWriter(runPath(dir));
    b.put4(3, 0, 4);
    b.put4(7, 1, 1);
    b.put6(0, 0, 0, 2, 3, 0);
    b.put6(0, 0, 0, 9, 0, 2);
    const rb = b.finish();
    const seen: number[][] = [];
    mergeRuns([ra, rb], 4, (w, at, i, r) => seen.push([w[at]!, i, r]));
    mergeRuns([ra, rb], 6, (w, at, i, r) => seen.push([w[at + 3]!, i, r]));
    expect(seen).toEqual([[1, 1, 0], [3, 0, 4], [7, 3, 6], [2, 3, 0], [9, 1, 3]]);
    const one = compactRuns([ra, rb], dir);
    expect([one.n4, one.n6]).toEqual([3, 2]);
    const idx = new RunIndex(one);
    const out: [number, number] = [0, 0];
    expect([...idx.get(4, Uint32Array.of(7), out)]).toEqual([3, 6]);
    expect([...idx.get(4, Uint32Array.of(5), out)]).toEqual([0, 0]);
    expect([...idx.get(4, Uint32Array.of(0), out)]).toEqual([0, 0]);
    expect([...idx.get(6, Uint32Array.of(0, 0, 0, 9), out)]).toEqual([1, 3]);
    idx.close();
  });

  test('point lookups across index blocks (a run of 5,000 keys, every 256th in memory)', () => {
    const w = new RunWriter(runPath(dir));
    for (let k = 0; k < 5000; k++) w.put4(3 * k + 1, k, k + 1);
    const run = w.finish();
    const idx = new RunIndex(run);
    const out: [number, number] = [0, 0];
    for (let k = 0; k < 5000; k += 37) {
      expect([...idx.get(4, Uint32Array.of(3 * k + 1), out)]).toEqual([k, k + 1]);
      expect([...idx.get(4, Uint32Array.of(3 * k + 2), out)]).toEqual([0, 0]);
    }
    expect([...idx.get(4, Uint32Array.of(3 * 4999 + 1), out)]).toEqual([4999, 5000]);
    expect([...idx.get(4, Uint32Array.of(2 ** 32 - 1), out)]).toEqual([0, 0]);
    idx.close();
  });

  test('property: spilled, split and merged any way, the counts are those of one in-memory table', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.boolean(), fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 1500 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 1500 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 64, max: 4096 }),
        (ops, parts, how, budget) => {
          const spill = { dir, tableBytes: budget };
          const whole = new IpCounts();
          const pieces = [0, 1, 2, 3].map(() => new IpCounts(undefined, spill));
          ops.forEach(([n, inside, times], i) => {
            const key = clientKey(client(n));
            const role = inside ? ROLE_INSIDE : ROLE_REF;
            whole.add(key, role, times);
            const p = pieces[parts[i % parts.length]!]!;
            // The hot IPv4 path and the generic one, as WindowCounts uses them.
            if (key.kind === 4 && times === 1) p.addV4(key.w0, role);
            else p.add(key, role, times);
            if (i % 50 === 49) p.spillIfFull();
          });
          for (const p of pieces) p.spillIfFull();
          const into = new IpCounts(undefined, spill);
          pieces.forEach((p, k) => {
            const way = how[k]!;
            if (way === 0) into.merge(p);
            else if (way === 1) into.merge(p, true);
            else if (way === 2) into.mergeSnapshot(structuredClone(p.snapshot()));
            else into.mergeSnapshot(p.snapshot(), true);
          });
          expect(listed(into)).toEqual(listed(whole));
          expect(into.size).toBe(whole.size);
          for (const [n] of ops.slice(0, 40)) {
            const key = clientKey(client(n));
            expect([into.get(key, ROLE_INSIDE), into.get(key, ROLE_REF)]).toEqual([whole.get(key, ROLE_INSIDE), whole.get(key, ROLE_REF)]);
          }
          into.dropRuns();
        },
      ),
      { numRuns: 150 },
    );
  });

  test('counts past 65,535 and adds after a compaction stay exact', () => {
    const spill = { dir, tableBytes: 1024 };
    const c = new IpCounts(undefined, spill);
    const plain = new IpCounts();
    for (let i = 0; i < 70_000; i++) {
      c.addV4(0x0a000001, ROLE_INSIDE);
      plain.addV4(0x0a000001, ROLE_INSIDE);
    }
    for (let i = 0; i < 3000; i++) {
      c.addV4(0x0b000000 + i, ROLE_REF);
      plain.addV4(0x0b000000 + i, ROLE_REF);
      if (i % 100 === 0) c.spillIfFull();
    }
    c.add(clientKey('2001:db8::1'), ROLE_REF, 80_000);
    plain.add(clientKey('2001:db8::1'), ROLE_REF, 80_000);
    c.flush();
    expect(c.spilledBytes).toBeGreaterThan(0);
    expect(listed(c)).toEqual(listed(plain));
    // After the compaction of forEach: more adds in the tables, on top of the run.
    c.addV4(0x0a000001, ROLE_REF);
    plain.addV4(0x0a000001, ROLE_REF);
    const k = clientKey('10.0.0.1');
    expect([c.get(k, ROLE_INSIDE), c.get(k, ROLE_REF)]).toEqual([70_000, 1]);
    expect(listed(c)).toEqual(listed(plain));
    expect(c.size).toBe(plain.size);
  });

  test('owned runs are removed when merged into one; runs merged as not owned stay for their owner', () => {
    const sub = mkdtempSync(join(dir, 'own-'));
    const spill = { dir: sub, tableBytes: 256 };
    const a = new IpCounts(undefined, spill);
    for (let i = 0; i < 2000; i++) {
      a.addV4(i, ROLE_INSIDE);
      if (i % 64 === 63) a.spillIfFull();
    }
    a.flush();
    const files = readdirSync(sub).length;
    expect(files).toBeGreaterThan(1);
    const b = new IpCounts(undefined, spill);
    b.merge(a);
    expect(b.size).toBe(2000);
    // b merged a's runs into a new one without removing a's: a still reads them.
    expect(readdirSync(sub).length).toBe(files + 1);
    expect(a.size).toBe(2000);
    a.dropRuns();
    b.dropRuns();
    expect(readdirSync(sub)).toEqual([]);
  });

  test('a scratch directory that cannot be written gives an error naming it and what to do, not a stack trace', () => {
    const gone = join(dir, 'no-such-dir');
    const c = new IpCounts(undefined, { dir: gone, tableBytes: 64 });
    for (let i = 0; i < 100; i++) c.addV4(i, ROLE_REF);
    let caught: unknown;
    try {
      c.flush();
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'ALF_OUTPUT_UNWRITABLE' });
    expect(String((caught as Error).message)).toMatch(/count runs of pass 2 to .*no-such-dir: ENOENT.*TMPDIR/);
    // Nothing was lost: the tables still hold the counts.
    expect(c.get(clientKey('0.0.0.7'), ROLE_REF)).toBe(1);
  });

  test('a snapshot with runs does not merge into an accumulator without a spill directory', () => {
    const a = new IpCounts(undefined, { dir, tableBytes: 64 });
    for (let i = 0; i < 100; i++) a.addV4(i, ROLE_REF);
    a.flush();
    expect(() => new IpCounts().mergeSnapshot(a.snapshot())).toThrow(/spill directory/);
    a.dropRuns();
  });
});
