/**
 * Micro-bench of core's per-record folds: pass 1 (`Analysis.add`: the
 * timeline), pass 2 (`Attribution.add`: exact per-IP window counts plus the
 * detail sample) and `ClientSet.add`, each timed alone over batches already
 * in memory, then over a synthetic stream of N distinct IPv4 clients (one
 * request each, plus a 50k-request attacker) whose batches are generated on the
 * fly (the generation time is measured on its own and subtracted).
 *
 *   node --conditions=alf-source --import tsx scripts/bench/core-fold.ts [--corpus .bench/corpus-1m.log] [--distinct 10m] [--repeat 3]
 *
 * Prints `name: value unit` lines: records/s and µs/record per fold (CPU time of
 * this process, user + system, so that other work on a shared machine disturbs
 * the figures less than wall time would), heap after each fold, the exact-count
 * tables' bytes, and peak RSS (the process's maxRSS).
 * Speed is only measured here, never in unit tests.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RecordBatch } from '@alf/parser';
import { parseStream } from '@alf/parser';
import { ClientSet, createAnalysis } from '@alf/core';
import { distinctIpBatches, type DistinctStream } from '../../packages/core/src/synthetic-batches.ts';
import { WindowCounts } from '../../packages/core/src/window-counts.ts';
import { attributeWindow } from '../../packages/core/src/attribute.ts';
import { parseCount } from '../gen-corpus.ts';
import { emit } from './protocol.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
/** CPU seconds used by this process so far. */
function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Best of `repeat` runs of fold(batches) over fresh state; returns seconds. */
function timeFold(name: string, records: number, repeat: number, fold: () => { bytes?: number }): void {
  let best = Infinity;
  let bytes: number | undefined;
  for (let r = 0; r < repeat; r++) {
    gc();
    const t0 = cpuS();
    bytes = fold().bytes;
    best = Math.min(best, cpuS() - t0);
  }
  gc();
  emit(`${name}.rate`, Math.round(records / best), 'records/s');
  emit(`${name}.per-record`, ((best * 1e6) / records).toFixed(3), 'µs');
  emit(`${name}.heap-after`, mb(process.memoryUsage().heapUsed), 'MB');
  if (bytes !== undefined) emit(`${name}.table-bytes`, mb(bytes), 'MB');
}

async function corpusBatches(file: string): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const c of parseStream(createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>, { format: 'combined' })) {
    if (c.records.length > 0) out.push(c.records);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { corpus: { type: 'string' }, distinct: { type: 'string', default: '10m' }, repeat: { type: 'string', default: '3' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write('core-fold.ts [--corpus FILE] [--distinct N (0: skip)] [--repeat N]\n');
    return;
  }
  const repeat = Math.max(1, Number(values.repeat));
  const corpus = values.corpus ?? join(ROOT, '.bench/corpus-1m.log');

  if (existsSync(corpus)) {
    const batches = await corpusBatches(corpus);
    const records = batches.reduce((a, b) => a + b.length, 0);
    emit('corpus', corpus);
    emit('corpus.records', records, 'records');
    const analysis = createAnalysis();
    timeFold('corpus.timeline', records, repeat, () => {
      const a = createAnalysis();
      for (const b of batches) a.add(b);
      return {};
    });
    for (const b of batches) analysis.add(b);
    emit('corpus.windows', analysis.windows().length);
    timeFold('corpus.attribution', records, repeat, () => {
      const at = analysis.attribution();
      for (const b of batches) at.add(b);
      return {};
    });
    timeFold('corpus.client-set', records, repeat, () => {
      const cs = new ClientSet();
      for (const b of batches) cs.add(b);
      return {};
    });
    batches.length = 0;
    gc();
  } else emit('corpus', `skipped: ${corpus} not found`);

  const distinct = values.distinct === '0' ? 0 : parseCount(values.distinct, '--distinct');
  if (distinct > 0) {
    const T = Date.UTC(2024, 2, 4);
    const MIN = 60_000;
    const H = 60 * MIN;
    const range = { insideFromMs: T + H, insideToMs: T + H + 10 * MIN, refBefore: [T, T + H] as const, refAfter: [T + H + 10 * MIN, T + 2 * H + 10 * MIN] as const };
    const stream: DistinctStream = {
      distinct, fromMs: T, toMs: T + 2 * H + 10 * MIN, attackerIp: '203.0.113.4', attackerRequests: 50_000,
      attackFromMs: range.insideFromMs, attackToMs: range.insideToMs,
    };
    const records = distinct + 50_000;
    emit('distinct.clients', distinct, 'IPs');
    let genS = Infinity;
    for (let r = 0; r < repeat; r++) {
      const t0 = cpuS();
      for (const b of distinctIpBatches(stream)) if (b.length < 0) throw new Error('unreachable');
      genS = Math.min(genS, cpuS() - t0);
    }
    emit('distinct.generate.seconds', genS.toFixed(2), 's');
    const net = (name: string, fold: (b: RecordBatch) => void, end: () => { bytes?: number }): void => {
      let best = Infinity;
      let bytes: number | undefined;
      for (let r = 0; r < repeat; r++) {
        gc();
        const t0 = cpuS();
        for (const b of distinctIpBatches(stream)) fold(b);
        bytes = end().bytes;
        best = Math.min(best, cpuS() - t0 - genS);
      }
      emit(`${name}.rate`, Math.round(records / best), 'records/s');
      emit(`${name}.per-record`, ((best * 1e6) / records).toFixed(3), 'µs');
      emit(`${name}.heap-after`, mb(process.memoryUsage().heapUsed), 'MB');
      if (bytes !== undefined) emit(`${name}.table-bytes`, mb(bytes), 'MB');
    };
    let a = createAnalysis();
    net('distinct.timeline', (b) => a.add(b), () => {
      const x = a;
      a = createAnalysis();
      return { bytes: x.snapshot().timeline.pages.length * 4096 * 28 };
    });
    const opts = { maxIpsPerWindow: 100_000, maxPathsPerIp: 16, maxUserAgentsPerIp: 4, maxRefererHosts: 10_000 };
    let wc = new WindowCounts([range], opts);
    let check = '';
    net('distinct.attribution', (b) => wc.add(b), () => {
      const att = attributeWindow(wc.windows[0]!, 10, 50_000);
      check = `${att.attackers.length} attacker(s): ${att.attackers.map((p) => `${p.stats.ip} ${p.stats.requests}`).join(', ')}; ${att.distinctIps} distinct inside`;
      const bytes = wc.tableBytes;
      wc = new WindowCounts([range], opts);
      return { bytes };
    });
    emit('distinct.attribution.result', check);
    let cs = new ClientSet();
    net('distinct.client-set', (b) => cs.add(b), () => {
      const n = cs.ipv4Count;
      cs = new ClientSet();
      return { bytes: n * 4 };
    });
  }
  emit('peak-rss', (process.resourceUsage().maxRSS / 1024).toFixed(1), 'MB');
}

await main(process.argv.slice(2));
