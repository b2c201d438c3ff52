/**
 * abuse.csv: one row per (burst, ASN), a ready-to-send summary for the
 * network's abuse desk: how many of its addresses took part, how many
 * requests, when, and the blocklist prefixes that hold them.
 *
 * Same conventions as `pack-tables.ts`: csv-stringify, `\n` line ends, counts
 * as integers, ISO-8601 UTC seconds, every string cell neutralised (AS names
 * come from a database but are treated as hostile like everything else).
 * Rows: burst id ascending, most requests first, then ASN ascending (unknown
 * ASN last). Attackers without an ASN share one row with empty `asn`.
 * A prefix that holds attackers of two ASNs (aggregation does not follow
 * routing) is listed in both rows.
 */
import { stringify } from 'csv-stringify/sync';
import type { Attacker, Burst } from '@alf/core';
import { blocklistFiles, burstBlocklists, type Blocklist } from './blocklist.ts';
import { capLength, neutraliseCsvCell } from './escape.ts';
import { CSV_TEXT_MAX_CHARS, intNumber, isoSeconds, sortBursts } from './pack-tables.ts';
import type { AnalysisPackInput } from './types.ts';

export const ABUSE_CSV_NAME = 'abuse.csv';

export const ABUSE_COLUMNS: readonly string[] = [
  'burst_id', 'asn', 'as_org', 'attacker_ips', 'requests', 'first_seen', 'last_seen', 'window_start', 'window_end', 'prefixes',
];

/** One abuse.csv row before formatting. */
export interface AbuseRow {
  readonly burstId: number;
  readonly asn: number | null;
  readonly asOrg: string | null;
  readonly attackerIps: number;
  readonly requests: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** Blocklist prefixes holding this ASN's attackers, ascending as in the blocklist. */
  readonly prefixes: readonly string[];
}

/** Rows of abuse.csv, sorted (see the module comment). `blocklists` by burst id; a burst without one gets no prefixes. */
export function abuseRows(
  bursts: readonly Burst[], attackers: readonly Attacker[], blocklists: ReadonlyMap<number, Blocklist>,
): AbuseRow[] {
  const rows: AbuseRow[] = [];
  for (const b of sortBursts(bursts)) {
    const groups = new Map<number | null, Attacker[]>();
    for (const a of attackers) {
      if (a.burstId !== b.burstId) continue;
      const g = groups.get(a.asn);
      if (g) g.push(a);
      else groups.set(a.asn, [a]);
    }
    const bl = blocklists.get(b.burstId);
    const order = new Map<string, number>(bl?.prefixes.map((p, i) => [p.cidr, i]) ?? []);
    const burstRows: AbuseRow[] = [];
    for (const [asn, members] of groups) {
      // The organisation of the busiest member (ties: lowest IP text) names the row.
      const named = [...members].sort((x, y) => y.requests - x.requests || (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0));
      const prefixes = new Set<string>();
      for (const m of members) {
        const p = bl?.prefixOfIp.get(m.ip);
        if (p !== undefined) prefixes.add(p);
      }
      burstRows.push({
        burstId: b.burstId,
        asn,
        asOrg: named.find((m) => m.asOrg !== null)?.asOrg ?? null,
        attackerIps: new Set(members.map((m) => m.ip)).size,
        requests: members.reduce((s, m) => s + m.requests, 0),
        firstSeenMs: members.reduce((t, m) => Math.min(t, m.firstSeenMs), Infinity),
        lastSeenMs: members.reduce((t, m) => Math.max(t, m.lastSeenMs), -Infinity),
        windowStartMs: b.startMs,
        windowEndMs: b.endMs,
        prefixes: [...prefixes].sort((x, y) => order.get(x)! - order.get(y)!),
      });
    }
    burstRows.sort((x, y) => y.requests - x.requests || (x.asn === y.asn ? 0 : x.asn === null ? 1 : y.asn === null ? -1 : x.asn - y.asn));
    rows.push(...burstRows);
  }
  return rows;
}

function text(s: string | null): string | null {
  return s === null ? null : neutraliseCsvCell(capLength(s, CSV_TEXT_MAX_CHARS));
}

/** abuse.csv text (header always; one row per `abuseRows` row). */
export function abuseCsv(rows: readonly AbuseRow[]): string {
  const cells = [
    [...ABUSE_COLUMNS],
    ...rows.map((r) => [
      intNumber(r.burstId),
      r.asn === null ? null : intNumber(r.asn),
      text(r.asOrg),
      intNumber(r.attackerIps),
      intNumber(r.requests),
      isoSeconds(r.firstSeenMs),
      isoSeconds(r.lastSeenMs),
      isoSeconds(r.windowStartMs),
      isoSeconds(r.windowEndMs),
      text(r.prefixes.join(' ')),
    ]),
  ];
  return stringify(cells, { eof: true, record_delimiter: '\n' });
}

/**
 * The files `writeAnalysisPack` adds when the input has a client set: per burst
 * (by id) `blocklists/burst-<id>.txt`, `.nginx.conf`, `.nft`, `.ipset`, then
 * abuse.csv. None without a client set (no normal-client check is possible).
 */
export function blocklistAndAbuseFiles(input: AnalysisPackInput): Array<[name: string, content: string]> {
  const blocklists = burstBlocklists(input);
  if (!blocklists) return [];
  const out: Array<[string, string]> = [];
  for (const b of sortBursts(input.result.bursts)) out.push(...blocklistFiles(blocklists.get(b.burstId)!));
  out.push([ABUSE_CSV_NAME, abuseCsv(abuseRows(input.result.bursts, input.result.attackers, blocklists))]);
  return out;
}
