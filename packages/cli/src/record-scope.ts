/**
 * `--vhost` and `--trusted-proxy` for `alf analyze` and `alf parse`: which
 * records count (vhost filter) and which address identifies their client
 * (X-Forwarded-For behind the user's own proxies). Both are stateless batch
 * steps from core, applied to every batch of every pass before `--from/--to`,
 * so all passes see the same records. The zod options live here too, shared
 * by both commands.
 */
import { z } from 'zod';
import { filterByVhost, resolveClients, trustedProxies, vhostFilter } from '@alf/core';
import type { ProxyMatcher, VhostMatcher } from '@alf/core';
import { isAlfError } from '@alf/parser';
import type { RecordBatch, StringColumn } from '@alf/parser';

/** Values of a repeatable, comma-separated option (command line or config file). */
function listOption<T>(flag: string, example: string, make: (values: string[]) => T): z.ZodType<T> {
  const item = z.string({ error: `\`${flag}\` needs a value, e.g. ${flag} ${example}` });
  return z.union([item, z.array(item)], { error: `\`${flag}\` needs a value, e.g. ${flag} ${example}` }).transform((value, ctx) => {
    const values = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) {
      ctx.addIssue({ code: 'custom', message: `\`${flag}\` needs a value, e.g. ${flag} ${example}` });
      return z.NEVER;
    }
    try {
      return make(values);
    } catch (error) {
      if (!isAlfError(error)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
      return z.NEVER;
    }
  });
}

/** `--trusted-proxy CIDR` (repeatable or comma-separated). */
export const trustedProxyOption: z.ZodType<ProxyMatcher> = listOption('--trusted-proxy', '10.0.0.0/8', trustedProxies);
/** `--vhost NAME` (repeatable or comma-separated; `*.example.com`). */
export const vhostOption: z.ZodType<VhostMatcher> = listOption('--vhost', 'www.example.com', vhostFilter);

/** Counts over the records a scope saw (one pass). */
export interface ScopeCounts {
  /** Records whose client was taken from X-Forwarded-For. */
  fromForwardedFor: number;
  /** Records from a trusted proxy without a usable X-Forwarded-For (client: a proxy address). */
  proxyKept: number;
  /** Records left out by --vhost: another vhost. */
  otherVhost: number;
  /** Records left out by --vhost: no vhost. */
  withoutVhost: number;
}

export interface RecordScope {
  /** True when --vhost or --trusted-proxy is set. */
  readonly active: boolean;
  readonly proxies: ProxyMatcher | undefined;
  readonly vhosts: VhostMatcher | undefined;
  /** The batch's records in scope, clients resolved; adds to `counts` when given. */
  apply(batch: RecordBatch, counts?: ScopeCounts): RecordBatch;
}

export const emptyScopeCounts = (): ScopeCounts => ({ fromForwardedFor: 0, proxyKept: 0, otherVhost: 0, withoutVhost: 0 });

/** Adds `b` into `a`. */
export function addScopeCounts(a: ScopeCounts, b: ScopeCounts): void {
  a.fromForwardedFor += b.fromForwardedFor;
  a.proxyKept += b.proxyKept;
  a.otherVhost += b.otherVhost;
  a.withoutVhost += b.withoutVhost;
}

export function createRecordScope(proxies: ProxyMatcher | undefined, vhosts: VhostMatcher | undefined): RecordScope {
  return {
    active: proxies !== undefined || vhosts !== undefined,
    proxies,
    vhosts,
    apply(batch: RecordBatch, counts?: ScopeCounts): RecordBatch {
      let b = batch;
      if (vhosts) {
        const f = filterByVhost(b, vhosts);
        b = f.batch;
        if (counts) {
          counts.otherVhost += f.otherVhost;
          counts.withoutVhost += f.withoutVhost;
        }
      }
      if (proxies) {
        const r = resolveClients(b, proxies);
        b = r.batch;
        if (counts) {
          counts.fromForwardedFor += r.fromForwardedFor;
          counts.proxyKept += r.proxyKept;
        }
      }
      return b;
    },
  };
}

/**
 * The string columns a pass that only folds the timeline needs parsed (the
 * timeline reads ts, ip, status and bytes, which are always parsed): the
 * scope's own columns. Skipping the others more than halves the parser's work.
 */
export function pass1Columns(proxies: boolean, vhosts: boolean): StringColumn[] {
  return [...(vhosts ? ['vhost' as const] : []), ...(proxies ? ['forwardedFor' as const] : [])];
}

const n = (x: number): string => x.toLocaleString('en-US');
const records = (x: number): string => `${n(x)} record${x === 1 ? '' : 's'}`;

/** One-line stderr summaries of what the scope did (nothing when inactive). */
export function scopeLines(scope: RecordScope, counts: ScopeCounts): string[] {
  const lines: string[] = [];
  if (scope.vhosts) {
    lines.push(`vhost ${scope.vhosts.patterns.join(', ')}: ${records(counts.otherVhost)} of other vhosts and ${n(counts.withoutVhost)} without a vhost left out`);
  }
  if (scope.proxies) {
    lines.push(`clients from X-Forwarded-For behind ${scope.proxies.cidrs.join(', ')}: ${records(counts.fromForwardedFor)} resolved, `
      + `${n(counts.proxyKept)} from a trusted proxy without a usable X-Forwarded-For kept as the proxy address`);
  }
  return lines;
}
