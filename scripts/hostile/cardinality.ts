/**
 * Cardinality logs of issue 8, generated as a stream (never written whole):
 *
 *   urls   N background requests (default 10M) over 4 hours, every one with its own path and
 *          user agent, from a pool of 50,000 clients; plus a 20-minute burst of N/5 requests
 *          from 1,000 clients (198.18.0.0/22) of which half ask `/login` with agent
 *          `evil-bot/1.0`, the other half again with a path and agent of their own. So about
 *          1.1 N distinct paths and agents; the burst's top path and agent are known exactly.
 *   heavy  2^24 clients with one request each over 8 hours (spread over 128 /8 networks) and
 *          one client, 203.0.113.66, sending H requests (default 50M) inside the fourth hour.
 *
 * Lines are combined format, in time order, UTC. `expected(kind, n)` gives what the pack must
 * show. Used by `scripts/hostile/run.ts --only urls,heavy` (piped into `alf analyze -`); by hand:
 *
 *   node --conditions=alf-source --import tsx scripts/hostile/cardinality.ts urls [--lines 10m] | alf analyze - -o DIR
 *   node --conditions=alf-source --import tsx scripts/hostile/cardinality.ts heavy [--heavy 50m] [--singles 16777216] | alf analyze - -o DIR
 */
import { parseArgs } from 'node:util';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** 2026-03-02T00:00:00Z. */
const T0 = Date.UTC(2026, 2, 2);
const BATCH_BYTES = 1 << 20;

function clf(sec: number): string {
  const d = new Date(T0 + sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Collects lines into ~1 MiB buffers. */
class Batcher {
  private parts: string[] = [];
  private bytes = 0;
  add(line: string): Buffer | null {
    this.parts.push(line);
    this.bytes += line.length;
    return this.bytes >= BATCH_BYTES ? this.take() : null;
  }
  take(): Buffer | null {
    if (this.parts.length === 0) return null;
    const b = Buffer.from(this.parts.join(''), 'latin1');
    this.parts = [];
    this.bytes = 0;
    return b;
  }
}

/** Lines per second: `total` spread evenly over `seconds` (exact total). */
const share = (total: number, seconds: number, s: number): number => Math.floor(((s + 1) * total) / seconds) - Math.floor((s * total) / seconds);

export interface UrlsOptions { readonly lines: number }
export interface HeavyOptions { readonly singles: number; readonly heavy: number }

export const URLS_SPAN_S = 4 * 3600;
export const URLS_BURST = { fromS: 2 * 3600, seconds: 20 * 60 } as const;
export const HEAVY_SPAN_S = 8 * 3600;
export const HEAVY_WINDOW = { fromS: 3 * 3600, seconds: 3600 } as const;
export const HEAVY_IP = '203.0.113.66';

export function* urlsLog(o: UrlsOptions): Generator<Buffer> {
  const bg = o.lines;
  const burst = Math.floor(o.lines / 5);
  const out = new Batcher();
  let n = 0; // background counter: path and agent of its own
  let k = 0; // burst counter
  for (let s = 0; s < URLS_SPAN_S; s++) {
    const t = clf(s);
    const b = s >= URLS_BURST.fromS && s < URLS_BURST.fromS + URLS_BURST.seconds ? share(burst, URLS_BURST.seconds, s - URLS_BURST.fromS) : 0;
    const g = share(bg, URLS_SPAN_S, s);
    for (let i = 0; i < g + b; i++) {
      let line: string;
      if (i < g) {
        const c = (n * 7919) % 50_000;
        line = `10.${(c >> 16) + 20}.${(c >> 8) & 255}.${c & 255} - - [${t}] "GET /item/${n.toString(36)}?v=${n} HTTP/1.1" 200 512 "-" "agent-${n}/1.0 (x${n % 97})"\n`;
        n++;
      } else {
        const c = k % 1000;
        const ip = `198.18.${c >> 8}.${c & 255}`;
        line = k % 2 === 0
          ? `${ip} - - [${t}] "POST /login HTTP/1.1" 401 64 "-" "evil-bot/1.0"\n`
          : `${ip} - - [${t}] "GET /search/${k.toString(36)}?q=${k} HTTP/1.1" 200 128 "-" "burst-agent-${k}"\n`;
        k++;
      }
      const full = out.add(line);
      if (full !== null) yield full;
    }
  }
  const last = out.take();
  if (last !== null) yield last;
}

/** The i-th single-request client: 2^24 distinct addresses over 128 /8 networks (each /24 holds two). */
function single(i: number): string {
  const y = (Math.imul(i, 40503) + 12345) & 0xffffff; // odd multiplier mod 2^24: a bijection on [0, 2^24)
  return `${1 + (y >>> 17)}.${(y >>> 9) & 255}.${(y >>> 1) & 255}.${(y & 1) * 128 + 7}`;
}

export function* heavyLog(o: HeavyOptions): Generator<Buffer> {
  const out = new Batcher();
  let i = 0;
  for (let s = 0; s < HEAVY_SPAN_S; s++) {
    const t = clf(s);
    const g = share(o.singles, HEAVY_SPAN_S, s);
    const h = s >= HEAVY_WINDOW.fromS && s < HEAVY_WINDOW.fromS + HEAVY_WINDOW.seconds ? share(o.heavy, HEAVY_WINDOW.seconds, s - HEAVY_WINDOW.fromS) : 0;
    const heavyLine = `${HEAVY_IP} - - [${t}] "GET /api/v1/items HTTP/1.1" 200 256 "-" "flood/2.0"\n`;
    // singles and heavy lines interleaved within the second
    let a = 0;
    let c = 0;
    while (a < g || c < h) {
      if (a < g && (c >= h || a * h <= c * g)) {
        const full = out.add(`${single(i++)} - - [${t}] "GET / HTTP/1.1" 200 1024 "-" "Mozilla/5.0"\n`);
        a++;
        if (full !== null) yield full;
      } else {
        const full = out.add(heavyLine);
        c++;
        if (full !== null) yield full;
      }
    }
  }
  const last = out.take();
  if (last !== null) yield last;
}

function count(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s);
  if (!m) throw new Error(`not a count: ${s}`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'm' ? 1e6 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1));
}

export function urlsExpected(lines: number): { lines: number; loginRequests: number; distinctPaths: number } {
  const burst = Math.floor(lines / 5);
  return { lines: lines + burst, loginRequests: Math.ceil(burst / 2), distinctPaths: lines + Math.floor(burst / 2) + 1 };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { lines: { type: 'string', default: '10m' }, heavy: { type: 'string', default: '50m' }, singles: { type: 'string', default: String(2 ** 24) } },
    allowPositionals: true,
  });
  const kind = positionals[0];
  const gen = kind === 'urls' ? urlsLog({ lines: count(values.lines) })
    : kind === 'heavy' ? heavyLog({ singles: count(values.singles), heavy: count(values.heavy) })
    : null;
  if (gen === null) {
    console.error('usage: cardinality.ts urls [--lines 10m] | heavy [--heavy 50m] [--singles 16777216]');
    process.exit(2);
  }
  for (const b of gen) {
    if (!process.stdout.write(b)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
