/**
 * Words of `alf analyze` around the pack: the default pack directory name, the
 * name inputs go by inside the pack, and the burst lines of the stderr summary.
 */
import { basename } from 'node:path';
import type { AnalysisResult } from '@alf/core';
import { isoSeconds, sortBursts } from '@alf/report';
import { terminalSafe } from './terminal-text.ts';

/** Bursts listed on stderr (all are in bursts.csv). */
export const SUMMARY_BURSTS = 10;

/**
 * The name an input goes by inside the pack (summary.md, rejects.csv): its file
 * name (never the directory, so the pack does not depend on the working
 * directory; `stdin` for standard input) with the start of its SHA-256, which
 * tells apart two servers' `access.log`. manifest.json maps it to the full path
 * and SHA-256 (its `inputs`, same order).
 */
export function packInputName(sha256: string, name: string): string {
  const file = name === '-' ? 'stdin' : basename(name);
  return `${file} (sha256:${sha256.slice(0, 16)})`;
}

function compactTime(ms: number): string {
  return (isoSeconds(ms) ?? 'unknown').replace(/[-:]/g, '');
}

/** A file or directory name made of safe characters only. */
export function safeName(text: string, maxChars = 80): string {
  const s = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, maxChars);
  return s === '' ? 'input' : s;
}

/**
 * Default pack directory: `alf-<first input>[-and-N-more]-<first record>-<last record>`,
 * e.g. `alf-access.log.2018-12-15-20181215T101831Z-20181216T101442Z`.
 */
export function defaultPackName(inputNames: readonly string[], firstMs: number | null, lastMs: number | null): string {
  const first = inputNames[0];
  const base = first === undefined || first === '-' ? 'stdin' : basename(first).replace(/\.(gz|gzip)$/i, '');
  const more = inputNames.length > 1 ? `-and-${inputNames.length - 1}-more` : '';
  const range = firstMs !== null && lastMs !== null ? `-${compactTime(firstMs)}-${compactTime(lastMs)}` : '-no-records';
  return `alf-${safeName(base)}${more}${range}`;
}

const n = (x: number): string => x.toLocaleString('en-US');

/** Burst lines for stderr: id, window (UTC), requests, attackers, top attacker, verdict. */
export function burstLines(result: AnalysisResult): string[] {
  const bursts = sortBursts(result.bursts);
  if (bursts.length === 0) return ['bursts: none found'];
  const verdicts = new Map<string, number>();
  for (const b of bursts) verdicts.set(b.verdict, (verdicts.get(b.verdict) ?? 0) + 1);
  const out = [`bursts: ${bursts.length} (${[...verdicts].map(([v, c]) => `${c} ${v}`).join(', ')})`];
  // The top attacker is the first of attackers.csv: most excess requests.
  const top = new Map<number, { ip: string; requests: number; excess: number }>();
  for (const a of result.attackers) {
    const t = top.get(a.burstId);
    if (!t || a.excessRequests > t.excess || (a.excessRequests === t.excess && a.ip < t.ip)) top.set(a.burstId, { ip: a.ip, requests: a.requests, excess: a.excessRequests });
  }
  for (const b of bursts.slice(0, SUMMARY_BURSTS)) {
    const t = top.get(b.burstId);
    const who = t ? `top ${terminalSafe(t.ip, 60)} (${n(t.requests)} requests)` : 'no attributed IP';
    out.push(`  #${b.burstId} ${isoSeconds(b.startMs)} – ${isoSeconds(b.endMs)}  ${n(b.requests)} requests, ${n(b.attackers)} attacker${b.attackers === 1 ? '' : 's'}, ${who}  ${b.verdict}`);
  }
  if (bursts.length > SUMMARY_BURSTS) out.push(`  … and ${n(bursts.length - SUMMARY_BURSTS)} more in bursts.csv`);
  return out;
}
