/**
 * Test-only: a labelled corpus for the ClickHouse tests, written as real log
 * files: the bench generator's day (background plus a flood from two /24s)
 * and a second file with a lone scanner and a cache-busting botnet of new IPs
 * (random query strings), so attribution by rate and by signature both run.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createCorpus } from '../../../../scripts/bench/corpus/generate.ts';
import { assetExpr, ipHash, ipHashExpr, pathAsset, queryRandom, randomQueryExpr, refClassExpr, refHostExpr, refererTraits, sqlString } from '@alf/core';
import type { Geo } from '@alf/geo';
import { parseInput } from '../parse-input.ts';
import { RowEncoder, TsvBuffer } from './tsv-rows.ts';

function clf(ms: number): string {
  const d = new Date(ms);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Writes `day.log` (bench corpus, `lines` lines, one day) and `events.log`; returns their paths. */
export async function writeTestCorpus(dir: string, lines = 200_000): Promise<string[]> {
  const day = join(dir, 'day.log');
  const out = createWriteStream(day);
  for (const chunk of createCorpus({ lines, days: 1, seed: 7 }).chunks) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'close');
  const events = join(dir, 'events.log');
  const rows: string[] = [];
  // A scanner: 3,000 requests in 5 minutes from one address, mostly 404.
  const scanAt = Date.UTC(2026, 2, 2, 4, 0, 0);
  for (let i = 0; i < 3000; i++) {
    rows.push(`185.220.102.7 - - [${clf(scanAt + i * 100)}] "GET /${['wp-admin', '.env', 'backup', 'cgi-bin'][i % 4]}/${i}.php HTTP/1.1" 404 153 "-" "Mozilla/5.0 zgrab/0.x"`);
  }
  // A cache-busting botnet: 60 new addresses, 40 requests each in 2 minutes, random query strings.
  const botAt = Date.UTC(2026, 2, 2, 18, 0, 0);
  let x = 12345;
  for (let b = 0; b < 60; b++) {
    for (let i = 0; i < 40; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      rows.push(`203.0.113.${b + 10} - - [${clf(botAt + ((b * 40 + i) * 50))}] "GET /?cb=${x.toString(16).padStart(8, '0')}a${i} HTTP/1.1" 200 5120 "https://news.example.com/x" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"`);
    }
  }
  const ev = createWriteStream(events);
  ev.end(`${rows.join('\n')}\n`);
  await once(ev, 'close');
  return [day, events];
}

/** Parses and enriches `file` as `alf load clickhouse` does and writes the TSV rows (for chdb's file()). */
export async function writeTsv(file: string, to: string, geo: Geo): Promise<number> {
  const out = createWriteStream(to, { flags: 'a' });
  const parse = parseInput(createReadStream(file), { maxLineBytes: 1 << 20, inputIndex: 0 });
  let rows = 0;
  const encoder = new RowEncoder(geo);
  for await (const chunk of parse.chunks) {
    const buf = new TsvBuffer();
    encoder.encode(chunk.records, file, 'test\t0\n', buf);
    rows += buf.rows;
    if (!out.write(buf.view())) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return rows;
}

/** Addresses, paths, query strings and referers, hostile ones included, for the SQL-vs-core trait checks. */
export const TRAIT_STRINGS: readonly string[] = ['1.2.3.4', '2001:db8::1', '', 'host.example', '/a/b.css', '/x.JS', '/index.html', `/${'a'.repeat(600)}.css`,
  'cb=1a2b3c4d', 'q=hello', 'v=deadbeef01', 'a=1&b=abc123', "it's", 'tab\there', 'back\\slash', 'new\nline', 'https://www.google.com/search?q=x',
  'https://news.ycombinator.com/item', 'http://t.co/x', 'android-app://x', '-', 'https://Example.COM:8080/p', 'ftp://[::1]/', `${'x'.repeat(700)}=abcdef12`,
  "'; DROP TABLE logs; --", '=HYPERLINK("x")'];

/** One row per TRAIT_STRINGS value: s, ip hash, asset, random query, referer class and host, computed in SQL. */
export function traitsSql(): string {
  const list = `[${TRAIT_STRINGS.map(sqlString).join(', ')}]`;
  return `SELECT s, ${ipHashExpr('s')} AS h, ${assetExpr('s')} AS a, ${randomQueryExpr('s')} AS r, ${refClassExpr('s')} AS c, ${refHostExpr('s')} AS host FROM (SELECT arrayJoin(${list}) AS s)`;
}

/** What core's functions give for `s` (the SQL hash covers the first 64 characters: addresses have at most 45). */
export function expectedTraits(s: string, sqlHash: number): { s: string; h: number; a: number; r: number; c: number; host: string } {
  const t = refererTraits(s);
  return { s, h: s.length <= 64 ? ipHash(s) : sqlHash, a: pathAsset(s), r: queryRandom(s), c: t.refClass, host: t.refHost };
}
