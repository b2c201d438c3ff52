/**
 * Labelled evaluation corpus (issue 4 "Quality bar"): real background traffic
 * from testdata/real with injected, labelled events, and a scorer. Dev/test
 * only; `scripts/score-detection.ts` prints the scores, eval-corpus.test.ts
 * holds the bar.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseLines, type RecordBatch } from '@alf/parser';
import { analyze } from './analysis.ts';
import type { AnalysisResult, Verdict } from './types.ts';
import { toBatches, type TestRow } from './test-batch.ts';
import { memoryGeo, TEST_GEO_RULES, type GeoRule } from './test-geo.ts';
import { REAL_DIR } from './test-real.ts';
import { crawl, flashCrowd, flood, GOOGLEBOT_UA, ipRange } from './test-traffic.ts';

export interface LabelledEvent {
  readonly name: string;
  readonly startMs: number;
  /** Inclusive last second. */
  readonly endMs: number;
  readonly verdict: Verdict;
  /** IPs that should be attributed ([] when none is expected, e.g. a flash crowd). */
  readonly attackers: readonly string[];
  /** False for events whose members need not be listed (flash crowd): they count for neither precision nor recall. */
  readonly scoreAttackers: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly background: string;
  readonly events: readonly LabelledEvent[];
  readonly rows: readonly TestRow[];
}

export const CORPUS_GEO_RULES: readonly GeoRule[] = [
  ...TEST_GEO_RULES,
  { startsWith: '185.220.', asn: 16276, asOrg: 'OVH SAS', country: 'FR' },
];

const MIN = 60_000;
const HOUR = 3_600_000;

function backgroundBatches(rel: string): { batches: RecordBatch[]; firstMs: number; lastMs: number } {
  const buf = readFileSync(REAL_DIR + rel);
  const bytes = rel.endsWith('.gz') ? gunzipSync(buf) : buf;
  const { chunks } = parseLines(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const c of chunks) {
    for (let i = 0; i < c.records.length; i++) {
      const t = c.records.ts[i]!;
      if (t < firstMs) firstMs = t;
      if (t > lastMs) lastMs = t;
    }
  }
  return { batches: chunks.map((c) => c.records), firstMs, lastMs };
}

function event(name: string, rows: readonly TestRow[], verdict: Verdict, attackers: readonly string[], scoreAttackers = true): { ev: LabelledEvent; rows: readonly TestRow[] } {
  let s = Infinity;
  let e = -Infinity;
  for (const r of rows) {
    s = Math.min(s, r.ts);
    e = Math.max(e, r.ts);
  }
  return { ev: { name, startMs: Math.floor(s / 1000) * 1000, endMs: Math.floor(e / 1000) * 1000, verdict, attackers, scoreAttackers }, rows };
}

/** A scanner: one IP walking many paths, mostly 404. */
function scanner(startMs: number, durationS: number, rps: number, ip: string, seed: number): TestRow[] {
  const rows = flood({ startMs, durationS, rps, ips: [ip], seed, paths: ['/x'], ua: 'Mozilla/5.0 zgrab/0.x', status: 404 });
  return rows.map((r, i) => ({ ...r, path: `/${['wp-admin', 'admin', '.env', 'phpmyadmin', 'backup', 'cgi-bin', 'api', 'config'][i % 8]}/${i}.php` }));
}

export interface CorpusRun {
  readonly scenario: string;
  readonly background: string;
  readonly events: readonly LabelledEvent[];
  readonly result: AnalysisResult;
}

export function runCorpus(): CorpusRun[] {
  const geo = memoryGeo(CORPUS_GEO_RULES);
  const runs: CorpusRun[] = [];
  const run = (scenario: string, background: string, build: (t0: number, t1: number) => { ev: LabelledEvent; rows: readonly TestRow[] }[]): void => {
    const bg = backgroundBatches(background);
    const injected = build(bg.firstMs, bg.lastMs);
    const batches = [...bg.batches, ...toBatches(injected.flatMap((x) => x.rows), 50_000)];
    runs.push({ scenario, background, events: injected.map((x) => x.ev), result: analyze(batches, geo) });
  };

  run('quiet: NASA morning ramp', 'nasa-http/NASA_access_log_Aug95.first20000.log.gz', () => []);
  run('quiet: secrepo 2021 (5 days)', 'secrepo/access.log.2021-10-22_to_2021-10-27.gz', () => []);
  run('quiet: secrepo 2022', 'secrepo/access.log.2022-12-22.gz', () => []);
  run('quiet: home server under slow spam bots', 'nielsbasjes-logparser/hackers-access.log.gz', () => []);
  run('real: secrepo 2018-12-15 python-requests burst', 'secrepo/access.log.2018-12-15.gz', () => [
    { ev: { name: 'real single-IP burst', startMs: Date.UTC(2018, 11, 16, 8, 24, 12), endMs: Date.UTC(2018, 11, 16, 8, 43, 9), verdict: 'attack', attackers: ['198.72.227.213'], scoreAttackers: true }, rows: [] },
  ]);

  run('NASA + five events', 'nasa-http/NASA_access_log_Aug95.first20000.log.gz', (t0) => {
    const hostingFlood = [...ipRange('203.0.113', 10, 10), ...ipRange('198.51.100', 10, 20), ...ipRange('185.220.101', 10, 30)];
    const slow = ipRange('192.0.2', 4, 40);
    return [
      event('short spike from 5 hosting IPs', flood({ startMs: t0 + 1 * HOUR, durationS: 60, rps: 300, ips: ipRange('203.0.113', 5, 200), seed: 31 }), 'attack', ipRange('203.0.113', 5, 200)),
      event('flood from 3 hosting ASNs', flood({ startMs: t0 + 2.5 * HOUR, durationS: 600, rps: 50, ips: hostingFlood, seed: 32, paths: ['/cgi-bin/imagemap/countdown'] }), 'attack', hostingFlood),
      event('low-and-slow, 2 h', flood({ startMs: t0 + 4 * HOUR, durationS: 7200, rps: 1.2, ips: slow, seed: 33, paths: ['/login', '/wp-login.php'], ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' }), 'attack', slow),
      event('lone scanner', scanner(t0 + 7 * HOUR, 300, 10, '185.220.102.7', 34), 'attack', ['185.220.102.7']),
      event('flash crowd from a news link', flashCrowd({ startMs: t0 + 9 * HOUR, durationS: 1200, visitors: 3000, seed: 35, page: '/shuttle/missions/sts-70/news.html' }), 'flash_crowd', [], false),
    ];
  });

  run('secrepo 2021 + four events', 'secrepo/access.log.2021-10-22_to_2021-10-27.gz', (t0) => {
    const botnet = Array.from({ length: 2500 }, (_, i) => `${100 + (i % 60)}.${Math.floor(i / 60) % 250}.${(i * 13) % 250}.${(i % 250) + 1}`);
    const a = ipRange('192.0.2', 12, 100);
    const b = ipRange('198.51.100', 12, 100);
    const google = ipRange('66.249.66', 20, 1);
    const fake = ipRange('203.0.113', 15, 100);
    const chrome = (k: number): string => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${110 + (k % 6)}.0.0.0 Safari/537.36`;
    return [
      event('wide residential botnet, random query strings', flood({ startMs: t0 + 26 * HOUR, durationS: 900, rps: 60, ips: botnet, seed: 41, paths: ['/'], randomQuery: true, ua: chrome }), 'attack', botnet),
      event('verified Googlebot crawl', crawl({ startMs: t0 + 50 * HOUR, durationS: 3600, rps: 5, ips: google, seed: 42 }), 'crawl', google),
      event('overlapping attack A (/login, Hetzner)', flood({ startMs: t0 + 74 * HOUR, durationS: 600, rps: 40, ips: a, seed: 43, paths: ['/login'] }), 'attack', a),
      event('overlapping attack B (/search, Amazon)', flood({ startMs: t0 + 74 * HOUR + 5 * MIN, durationS: 600, rps: 40, ips: b, seed: 44, paths: ['/search'], ua: 'Go-http-client/1.1' }), 'attack', b),
      event('Googlebot spoofed from DigitalOcean', crawl({ startMs: t0 + 98 * HOUR, durationS: 1800, rps: 8, ips: fake, seed: 45, ua: GOOGLEBOT_UA }), 'attack', fake),
    ];
  });
  run('home server + three events', 'nielsbasjes-logparser/hackers-access.log.gz', (t0) => {
    const ovh = ipRange('185.220.103', 6, 10);
    const crowdRows = flashCrowd({ startMs: t0 + 50 * HOUR, durationS: 1800, visitors: 1500, seed: 61, page: '/blog/2015/10/logparser', referer: 'https://www.reddit.com/r/programming/' });
    return [
      event('POST flood on /join_form from OVH', flood({ startMs: t0 + 26 * HOUR, durationS: 900, rps: 12, ips: ovh, seed: 62, paths: ['/join_form'], ua: 'Mozilla/5.0 (Windows NT 6.1; rv:40.0) Gecko/20100101 Firefox/40.0' }), 'attack', ovh),
      event('flash crowd from reddit', crowdRows, 'flash_crowd', [], false),
      event('lone scanner, slow', scanner(t0 + 100 * HOUR, 1200, 1.5, '203.0.113.66', 63), 'attack', ['203.0.113.66']),
    ];
  });
  return runs;
}

export interface EventScore {
  readonly scenario: string;
  readonly event: string;
  readonly found: boolean;
  readonly expected: Verdict;
  readonly verdict: Verdict | null;
  readonly burstId: number | null;
  readonly startErrorS: number | null;
  readonly endErrorS: number | null;
  readonly truePositives: number;
  readonly labelled: number;
  readonly attributed: number;
}

export interface CorpusScore {
  readonly events: EventScore[];
  /** Bursts that match no labelled event: scenario → count. */
  readonly falseBursts: { scenario: string; burstId: number; startMs: number; verdict: Verdict }[];
  readonly precision: number;
  readonly recall: number;
  readonly verdictAccuracy: number;
}

export function scoreCorpus(runs: readonly CorpusRun[]): CorpusScore {
  const events: EventScore[] = [];
  const falseBursts: CorpusScore['falseBursts'] = [];
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const run of runs) {
    const used = new Set<number>();
    const labelledIps = new Set(run.events.filter((e) => e.scoreAttackers).flatMap((e) => e.attackers));
    const unscoredIps = new Set(run.events.filter((e) => !e.scoreAttackers).flatMap((e) => e.attackers));
    for (const ev of run.events) {
      // The burst overlapping the event most, preferring bursts whose attackers are the event's.
      let best: { id: number; overlap: number } | null = null;
      for (const b of run.result.bursts) {
        const ov = Math.min(b.endMs, ev.endMs) - Math.max(b.startMs, ev.startMs) + 1000;
        if (ov <= 0) continue;
        const mine = run.result.attackers.filter((a) => a.burstId === b.burstId && ev.attackers.includes(a.ip)).length;
        const score = ov / 1000 + mine * 1e6;
        if (best === null || score > best.overlap) best = { id: b.burstId, overlap: score };
      }
      const evDur = (ev.endMs - ev.startMs) / 1000 + 1;
      const b = best === null ? undefined : run.result.bursts.find((x) => x.burstId === best!.id);
      const found = b !== undefined && (best!.overlap >= 1e6 || best!.overlap >= 0.5 * evDur);
      if (found) used.add(b!.burstId);
      const attributed = found ? run.result.attackers.filter((a) => a.burstId === b!.burstId) : [];
      const hits = attributed.filter((a) => ev.attackers.includes(a.ip)).length;
      if (ev.scoreAttackers) {
        tp += hits;
        fn += ev.attackers.length - hits;
      }
      events.push({
        scenario: run.scenario, event: ev.name, found, expected: ev.verdict, verdict: found ? b!.verdict : null, burstId: found ? b!.burstId : null,
        startErrorS: found ? (b!.startMs - ev.startMs) / 1000 : null, endErrorS: found ? (b!.endMs - ev.endMs) / 1000 : null,
        truePositives: hits, labelled: ev.attackers.length, attributed: attributed.length,
      });
    }
    for (const a of run.result.attackers) if (!labelledIps.has(a.ip) && !unscoredIps.has(a.ip)) fp++;
    for (const b of run.result.bursts) {
      if (!used.has(b.burstId)) falseBursts.push({ scenario: run.scenario, burstId: b.burstId, startMs: b.startMs, verdict: b.verdict });
    }
  }
  const right = events.filter((e) => e.found && e.verdict === e.expected).length;
  return {
    events, falseBursts,
    precision: tp + fp > 0 ? tp / (tp + fp) : 1,
    recall: tp + fn > 0 ? tp / (tp + fn) : 1,
    verdictAccuracy: events.length > 0 ? right / events.length : 1,
  };
}
