/**
 * Options of `alf analyze`, checked once with zod: `--from`/`--to` time bounds
 * (ISO-8601 or relative to the data), `--sensitivity` and `--min-requests`
 * mapped onto core's `AnalysisOptions`.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { AnalysisOptions, ProxyMatcher, VhostMatcher } from '@alf/core';
import { resolveTimeZone } from '@alf/parser';
import { formatProblem } from './parse-input.ts';
import { byteSizeOption, formatOption, oneOf, ratioOption, tzOption, validateOptions } from './options.ts';
import { trustedProxyOption, vhostOption } from './record-scope.ts';

export const SENSITIVITIES = ['low', 'normal', 'high'] as const;

/** `--records`: which parsed records go into records.arrow (analyze-records.ts). */
export const RECORDS_MODES = ['bursts', 'all', 'none'] as const;
export type RecordsMode = (typeof RECORDS_MODES)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];

/**
 * Detection thresholds per `--sensitivity` (core defaults for `normal`):
 * `low` reports only large, clear bursts; `high` also small or slow ones (more false alarms).
 */
export const SENSITIVITY_OPTIONS: Readonly<Record<Sensitivity, AnalysisOptions>> = {
  low: { minRatio: 3, minZ: 8, minExcessRequests: 2000, minExcessRps: 0.5 },
  normal: {},
  high: { minRatio: 1.5, minZ: 3.5, minExcessRequests: 150, minExcessRps: 0.05 },
};

/** A time bound: absolute (epoch ms) or relative to the first (`+`) or last (`-`) record. */
export type TimeBound =
  | { readonly kind: 'absolute'; readonly ms: number; readonly given: string }
  | { readonly kind: 'relative'; readonly fromEnd: boolean; readonly offsetMs: number; readonly given: string };

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const RELATIVE = /^([+-])((?:\d+(?:s|m|h|d))+)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a `--from`/`--to` value; a string saying what is wrong when it is not one. */
export function parseTimeBound(flag: string, value: string, tz: string | undefined): TimeBound | string {
  const v = value.trim();
  const rel = RELATIVE.exec(v);
  if (rel) {
    let offsetMs = 0;
    for (const part of rel[2]!.matchAll(/(\d+)([smhd])/gi)) offsetMs += Number(part[1]) * UNIT_MS[part[2]!.toLowerCase()]!;
    return { kind: 'relative', fromEnd: rel[1] === '-', offsetMs, given: v };
  }
  const m = ISO.exec(v);
  const expected = `\`${flag}\` must be an ISO-8601 time (e.g. 2021-03-29T08:00Z, 2021-03-29T08:00:00+02:00, 2021-03-29) ` +
    `or a time relative to the data (+2h: two hours after the first record; -30m: 30 minutes before the last; units s m h d); got \`${value.slice(0, 80)}\``;
  if (!m) return expected;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  if (fields[1] < 1 || fields[1] > 12 || fields[2] < 1 || fields[2] > 31 || fields[3] > 23 || fields[4] > 59 || fields[5] > 60) return expected;
  const wall = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]) + Math.floor(Number(`0.${frac || '0'}`) * 1000);
  if (new Date(wall).getUTCDate() !== fields[2]) return expected;
  let ms: number;
  if (zone === undefined) {
    // No offset: the --tz zone (the one the log's local times are read in), else UTC.
    ms = resolveTimeZone(tz).localToUtc(wall);
  } else if (zone.toUpperCase() === 'Z') {
    ms = wall;
  } else {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    ms = wall - (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3_600_000 + Number(z[3]) * 60_000);
  }
  return { kind: 'absolute', ms, given: v };
}

/** Resolves a bound once the data's first and last record times are known. */
export function resolveBound(bound: TimeBound | undefined, firstMs: number | null, lastMs: number | null): number | null {
  if (bound === undefined) return null;
  if (bound.kind === 'absolute') return bound.ms;
  if (firstMs === null || lastMs === null) return null;
  return bound.fromEnd ? lastMs - bound.offsetMs : firstMs + bound.offsetMs;
}

const positiveInt = (flag: string): z.ZodType<number> => z.union([z.string(), z.number()]).transform((value, ctx) => {
  const n = Number(String(value).trim());
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: 'custom', message: `\`${flag}\` must be a whole number of requests, at least 1 (e.g. 200); got \`${String(value).slice(0, 60)}\`` });
    return z.NEVER;
  }
  return n;
});

/** `--workers N`: threads that parse (1: everything on the main thread). */
const workersOption: z.ZodType<number> = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const n = Number(String(value).trim());
  if (!Number.isSafeInteger(n) || n < 1 || n > 256) {
    ctx.addIssue({ code: 'custom', message: `\`--workers\` must be a whole number of threads from 1 to 256 (e.g. 2; 1 keeps everything on one thread); got \`${String(value).slice(0, 60)}\`` });
    return z.NEVER;
  }
  return n;
});

const timeOption = (flag: string): z.ZodType<string> =>
  z.string({ error: (issue) => (Array.isArray(issue.input) ? `\`${flag}\` was given more than once; give it once` : `\`${flag}\` needs a value, e.g. ${flag} 2021-03-29T08:00Z or ${flag}=-30m`) });

function analyzeOptionsSchema() {
  return z.object({
    files: z.array(z.string()).default([]),
    format: formatOption(formatProblem).optional(),
    tz: tzOption.optional(),
    'asn-db': z.string({ error: '`--asn-db` needs one .mmdb file name' }).optional(),
    'geo-db': z.string({ error: '`--geo-db` needs one .mmdb file name' }).optional(),
    from: timeOption('--from').optional(),
    to: timeOption('--to').optional(),
    out: z.string({ error: '`--out` needs one directory name' }).optional(),
    force: z.boolean({ error: '`--force` takes no value' }).default(false),
    sensitivity: oneOf('--sensitivity', SENSITIVITIES).default('normal'),
    'min-requests': positiveInt('--min-requests').optional(),
    'max-line-bytes': byteSizeOption('--max-line-bytes', 256, 1024 ** 3).default(1024 ** 2),
    'max-decompressed-bytes': byteSizeOption('--max-decompressed-bytes', 1, 2 ** 50).optional(),
    'max-reject-ratio': ratioOption('--max-reject-ratio').default(0.01),
    quiet: z.boolean({ error: '`--quiet` takes no value' }).default(false),
    records: oneOf('--records', RECORDS_MODES).default('bursts'),
    'trusted-proxy': trustedProxyOption.optional(),
    vhost: vhostOption.optional(),
    workers: workersOption.optional(),
  }).transform((o, ctx) => {
    const bound = (flag: string, v: string | undefined): TimeBound | undefined => {
      if (v === undefined) return undefined;
      const b = parseTimeBound(flag, v, o.tz);
      if (typeof b === 'string') {
        ctx.addIssue({ code: 'custom', message: b, path: [flag.slice(2)] });
        return undefined;
      }
      return b;
    };
    const fromBound = bound('--from', o.from);
    const toBound = bound('--to', o.to);
    if (fromBound?.kind === 'absolute' && toBound?.kind === 'absolute' && fromBound.ms >= toBound.ms) {
      ctx.addIssue({ code: 'custom', message: `\`--from\` (${fromBound.given}) must be before \`--to\` (${toBound.given})`, path: ['from'] });
    }
    const analysis: AnalysisOptions = {
      ...SENSITIVITY_OPTIONS[o.sensitivity],
      ...(o['min-requests'] !== undefined ? { minExcessRequests: o['min-requests'] } : {}),
    };
    return { ...o, workers: o.workers ?? availableParallelism(), fromBound, toBound, analysis };
  });
}

/** Options of `alf analyze` after validation. */
export interface AnalyzeOptions {
  readonly files: string[];
  readonly format?: string | undefined;
  readonly tz?: string | undefined;
  readonly 'asn-db'?: string | undefined;
  readonly 'geo-db'?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly out?: string | undefined;
  readonly force: boolean;
  readonly sensitivity: Sensitivity;
  readonly 'min-requests'?: number | undefined;
  readonly 'max-line-bytes': number;
  /** `--max-decompressed-bytes`: stop reading an input after this many (decompressed) bytes; the pack is then `partial`. */
  readonly 'max-decompressed-bytes'?: number | undefined;
  readonly 'max-reject-ratio': number;
  readonly quiet: boolean;
  /** records.arrow: the records of the burst windows (default), every record, or no file. */
  readonly records: RecordsMode;
  /** `--trusted-proxy`: take the client from X-Forwarded-For behind these networks. */
  readonly 'trusted-proxy'?: ProxyMatcher | undefined;
  /** `--vhost`: only records of these virtual hosts. */
  readonly vhost?: VhostMatcher | undefined;
  /** `--workers`: parsing threads (default: the cores available); 1 = no worker threads. */
  readonly workers: number;
  readonly fromBound: TimeBound | undefined;
  readonly toBound: TimeBound | undefined;
  /** Core options from --sensitivity and --min-requests (only what differs from core's defaults). */
  readonly analysis: AnalysisOptions;
}

/** Checks raw (yargs) options; throws one ALF_USAGE error naming every problem. */
export function validateAnalyzeOptions(raw: unknown): AnalyzeOptions {
  return validateOptions(analyzeOptionsSchema(), raw);
}
