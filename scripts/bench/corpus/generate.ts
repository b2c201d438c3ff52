/**
 * The synthetic combined-format corpus: deterministic for a seed, diurnal over
 * several days in a +0200 zone, heavy-tailed clients (~5% IPv6), an embedded
 * 15-minute flood at 50x baseline from two /24s, and a sprinkle of odd lines.
 * Lines are built as byte strings (chars ≤ 0xFF) and written as latin1 into
 * buffers of about `chunkBytes` each, so writers can batch big writes.
 */
import { AGENTS, AGENT_TABLE, buildSite, pathSamplers, queryFor, refererFor, SITE } from './vocab.ts';
import type { AgentClass, PathKind } from './vocab.ts';
import { FLOOD_PREFIXES, floodIps, ipv4ForId, ipv6ForId } from './clients.ts';
import { hash32, Prng, ZipfSampler } from './prng.ts';
import { oddLine, ODD_KINDS } from './odd-lines.ts';
import type { OddKind } from './odd-lines.ts';

/** Bump when the bytes for a given seed and options change (the bench regenerates stale corpora). */
export const CORPUS_VERSION = 1;

export interface CorpusOptions {
  readonly lines: number;
  readonly seed?: number;
  /** Size of the client pool (default lines / 20); every client in it appears once the background lines reach pool / 0.95. */
  readonly distinctIps?: number;
  readonly days?: number;
  readonly chunkBytes?: number;
}

export interface CorpusLabels {
  version: number;
  seed: number;
  lines: number;
  days: number;
  tzOffset: string;
  start: string;
  end: string;
  distinctIpPool: number;
  ipv6Lines: number;
  flood: {
    start: string;
    end: string;
    startMs: number;
    endMs: number;
    method: string;
    path: string;
    multiplier: number;
    prefixes: string[];
    ips: string[];
    lines: number;
  };
  odd: { total: number; byKind: Record<OddKind, number>; lines: Array<[number, OddKind]> };
}

export interface Corpus {
  readonly chunks: Generator<Buffer, void, undefined>;
  /** Complete once `chunks` is exhausted. */
  readonly labels: CorpusLabels;
}

const TZ_OFFSET_SEC = 2 * 3600;
const TZ_TEXT = '+0200';
/** 2026-03-02 00:00:00 +0200, a Monday. */
const START_SEC = Date.UTC(2026, 2, 1, 22, 0, 0) / 1000;
const FLOOD_SECONDS = 900;
const FLOOD_MULTIPLIER = 50;
const FLOOD_PATH = '/search';
const IPV6_SHARE = 0.05;
const ODD_SHARE = 0.001;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `02/Mar/2026:14:07:00 +0200` for a UTC epoch second. */
export function formatLocalTime(epochSec: number): string {
  const d = new Date((epochSec + TZ_OFFSET_SEC) * 1000);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${TZ_TEXT}`;
}

/** Relative request rate at a UTC second: low at 04:00 local, high at 16:00, weekends quieter. */
function diurnalWeight(sec: number): number {
  const local = sec + TZ_OFFSET_SEC;
  const hour = (local % 86400) / 3600;
  const day = Math.floor((local - (START_SEC + TZ_OFFSET_SEC)) / 86400) % 7;
  const wave = Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24), 1.3);
  return (0.15 + wave) * (day >= 5 ? 0.8 : 1);
}

const STATUS_TABLES: Record<PathKind, Array<[number, number]>> = {
  // [status, cumulative per mille]
  page: [[200, 880], [304, 920], [301, 950], [302, 960], [404, 990], [500, 995], [503, 1000]],
  asset: [[200, 600], [304, 950], [404, 980], [206, 1000]],
  api: [[200, 850], [201, 880], [204, 910], [400, 930], [401, 960], [403, 970], [404, 990], [500, 1000]],
  probe: [[404, 900], [403, 980], [301, 1000]],
  misc: [[200, 950], [304, 1000]],
};

function statusFor(kind: PathKind, u: number): number {
  const table = STATUS_TABLES[kind];
  const permille = u * 1000;
  for (const [status, upTo] of table) if (permille < upTo) return status;
  return 200;
}

const KIND_MIX: Record<AgentClass, Array<[PathKind, number]>> = {
  browser: [['page', 0.3], ['asset', 0.85], ['api', 0.98], ['misc', 1]],
  crawler: [['page', 0.85], ['misc', 0.97], ['asset', 1]],
  tool: [['api', 0.45], ['page', 0.65], ['probe', 0.95], ['misc', 1]],
  odd: [['probe', 0.5], ['page', 1]],
};

function kindFor(cls: AgentClass, u: number): PathKind {
  for (const [kind, upTo] of KIND_MIX[cls]) if (u < upTo) return kind;
  return 'page';
}

const FLOOD_AGENTS = [
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
];
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function createCorpus(opts: CorpusOptions): Corpus {
  const lines = Math.max(0, Math.floor(opts.lines));
  const seed = (opts.seed ?? 1) >>> 0;
  const days = Math.max(1, Math.floor(opts.days ?? 4));
  const pool = Math.max(16, Math.floor(opts.distinctIps ?? Math.min(2_000_000, Math.max(1000, lines / 20))));
  const spanSec = days * 86400;
  const floodDay = Math.min(2, days - 1);
  const floodStart = START_SEC + floodDay * 86400 + (14 * 60 + 7) * 60;
  const floodIpList = floodIps(150, seed);
  const labels: CorpusLabels = {
    version: CORPUS_VERSION,
    seed,
    lines,
    days,
    tzOffset: TZ_TEXT,
    start: new Date(START_SEC * 1000).toISOString(),
    end: new Date((START_SEC + spanSec) * 1000).toISOString(),
    distinctIpPool: pool,
    ipv6Lines: 0,
    flood: {
      start: new Date(floodStart * 1000).toISOString(),
      end: new Date((floodStart + FLOOD_SECONDS) * 1000).toISOString(),
      startMs: floodStart * 1000,
      endMs: (floodStart + FLOOD_SECONDS) * 1000,
      method: 'GET',
      path: FLOOD_PATH,
      multiplier: FLOOD_MULTIPLIER,
      prefixes: FLOOD_PREFIXES.map((p) => `${p}.0/24`),
      ips: floodIpList,
      lines: 0,
    },
    odd: { total: 0, byKind: Object.fromEntries(ODD_KINDS.map((k) => [k, 0])) as Record<OddKind, number>, lines: [] },
  };
  return { chunks: generateChunks(), labels };

  function* generateChunks(): Generator<Buffer, void, undefined> {
    // Rate per second: diurnal × per-minute noise, plus the flood on top.
    const noiseRng = new Prng(seed, 1);
    const base = new Float64Array(spanSec);
    const flood = new Float64Array(spanSec);
    let total = 0;
    let noise = 1;
    for (let s = 0; s < spanSec; s++) {
      if (s % 60 === 0) noise = Math.exp(0.12 * noiseRng.gauss());
      const sec = START_SEC + s;
      const w = diurnalWeight(sec);
      base[s] = w * noise;
      if (sec >= floodStart && sec < floodStart + FLOOD_SECONDS) flood[s] = (FLOOD_MULTIPLIER - 1) * w;
      total += (base[s] as number) + (flood[s] as number);
    }

    const rng = new Prng(seed, 2);
    const site = buildSite(new Prng(seed, 3));
    const samplers = pathSamplers(site);
    const v6Pool = Math.max(1, Math.round(pool * IPV6_SHARE));
    const v4Pool = Math.max(1, pool - v6Pool);
    const zipf4 = new ZipfSampler(v4Pool);
    const zipf6 = new ZipfSampler(v6Pool);
    // Share of background lines that walk the pool in order ("first visits"), so
    // every client in the pool appears once background lines reach pool / 0.95.
    let baseTotal = 0;
    for (let s = 0; s < spanSec; s++) baseTotal += base[s] as number;
    const sweepShare = Math.min(0.95, pool / Math.max(1, (lines * baseTotal) / total));
    let cursor4 = 0;
    let cursor6 = 0;
    const cacheSize = 1 << 18;
    const v4Cache: Array<string | undefined> = new Array(Math.min(v4Pool, cacheSize));
    const v6Cache: Array<string | undefined> = new Array(Math.min(v6Pool, cacheSize));
    const key = hash32(seed ^ 0x5bd1e995);

    // Each line goes straight into a buffer (no big string ropes to flatten: GC halves).
    const chunkBytes = Math.max(1024, opts.chunkBytes ?? 1 << 22);
    let out = Buffer.allocUnsafe(chunkBytes);
    let used = 0;
    let lineNo = 0;
    let cumulative = 0;
    for (let s = 0; s < spanSec && lineNo < lines; s++) {
      const b = base[s] as number;
      const f = flood[s] as number;
      cumulative += b + f;
      const upTo = s === spanSec - 1 ? lines : Math.min(lines, Math.round((lines * cumulative) / total));
      if (upTo <= lineNo) continue;
      const sec = START_SEC + s;
      const stamp = formatLocalTime(sec);
      const floodShare = f / (b + f);
      while (lineNo < upTo) {
        lineNo++;
        let line: string;
        if (floodShare > 0 && rng.float() < floodShare) {
          line = floodLine(stamp);
        } else if (rng.float() < ODD_SHARE) {
          const kind = ODD_KINDS[rng.int(ODD_KINDS.length)] as OddKind;
          line = oddLine(rng, kind, backgroundLine(stamp, sec), stamp);
          labels.odd.total++;
          labels.odd.byKind[kind]++;
          labels.odd.lines.push([lineNo, kind]);
        } else {
          // nginx writes a line when the request ends: a few lines carry an earlier second.
          line = backgroundLine(rng.int(40) === 0 ? formatLocalTime(sec - 1 - rng.int(5)) : stamp, sec);
        }
        if (used + line.length > chunkBytes) {
          if (used > 0) yield out.subarray(0, used);
          out = Buffer.allocUnsafe(Math.max(chunkBytes, line.length));
          used = 0;
        }
        used += out.write(line, used, 'latin1');
      }
    }
    if (used > 0) yield out.subarray(0, used);

    function clientIp(v6: boolean): { ip: string; id: number } {
      const sweep = rng.float() < sweepShare;
      if (v6) {
        const id = sweep ? cursor6++ % v6Pool : zipf6.sample(rng.float());
        const ip = id < v6Cache.length ? (v6Cache[id] ??= ipv6ForId(id, key)) : ipv6ForId(id, key);
        return { ip, id: id * 2 + 1 };
      }
      const id = sweep ? cursor4++ % v4Pool : zipf4.sample(rng.float());
      const ip = id < v4Cache.length ? (v4Cache[id] ??= ipv4ForId(id, key)) : ipv4ForId(id, key);
      return { ip, id: id * 2 };
    }

    function backgroundLine(stamp: string, sec: number): string {
      const v6 = rng.float() < IPV6_SHARE;
      if (v6) labels.ipv6Lines++;
      const client = clientIp(v6);
      // A client keeps its user agent.
      const agent = AGENTS[AGENT_TABLE.index(hash32(client.id ^ key) / 4294967296)] ?? AGENTS[0]!;
      const kind = kindFor(agent.cls, rng.float());
      const entry = site[kind][samplers[kind].sample(rng.float())] ?? site.page[0]!;
      const query = queryFor(rng, kind, entry.path);
      let method = 'GET';
      const mu = rng.float();
      if (kind === 'api' && (entry.path === '/graphql' || entry.path === '/api/v1/cart' || entry.path === '/api/v1/events')) method = mu < 0.6 ? 'POST' : mu < 0.63 ? 'OPTIONS' : 'GET';
      else if (entry.path === '/account/login' && mu < 0.3) method = 'POST';
      else if (agent.cls === 'tool' && mu < 0.06) method = 'HEAD';
      else if (kind === 'probe' && mu < 0.1) method = 'POST';
      const proto = agent.cls === 'browser' ? (mu < 0.6 ? 'HTTP/2.0' : 'HTTP/1.1') : agent.cls === 'tool' && mu > 0.9 ? 'HTTP/1.0' : 'HTTP/1.1';
      const status = statusFor(kind, rng.float());
      let bytes: string;
      if (method === 'HEAD' || status === 304 || status === 204) bytes = rng.int(4) === 0 ? '-' : '0';
      else if (status === 404) bytes = `${150 + rng.int(420)}`;
      else if (status === 301 || status === 302) bytes = `${162 + rng.int(8)}`;
      else if (status >= 500) bytes = `${490 + rng.int(120)}`;
      else if (status === 206) bytes = `${1 + rng.int(entry.size)}`;
      else bytes = `${Math.round(entry.size * (0.85 + 0.3 * rng.float()))}`;
      const referer = refererFor(rng, kind, agent.cls, site);
      const user = sec % 7 === 0 && rng.int(500) === 0 ? 'ops' : '-';
      return `${client.ip} - ${user} [${stamp}] "${method} ${entry.path}${query} ${proto}" ${status} ${bytes} "${referer}" "${agent.ua}"\n`;
    }

    function floodLine(stamp: string): string {
      const i = rng.int(floodIpList.length);
      const ip = floodIpList[i] as string;
      const ua = FLOOD_AGENTS[hash32(i ^ key) % FLOOD_AGENTS.length] as string;
      let q = '';
      const qLen = 6 + rng.int(5);
      for (let k = 0; k < qLen; k++) q += ALNUM[rng.int(ALNUM.length)];
      const u = rng.float();
      const status = u < 0.6 ? 200 : u < 0.85 ? 503 : 429;
      const bytes = status === 200 ? 16_000 + rng.int(6000) : status === 503 ? 197 : 169;
      const referer = rng.int(5) === 0 ? `${SITE}/` : '-';
      labels.flood.lines++;
      return `${ip} - - [${stamp}] "GET ${FLOOD_PATH}?q=${q} HTTP/1.1" ${status} ${bytes} "${referer}" "${ua}"\n`;
    }
  }
}
