/**
 * `--vhost`: keep only the records of some virtual hosts. A pattern is a host
 * name matched exactly, case-insensitively (`www.example.com`), or `*.` and a
 * suffix (`*.example.com` matches `a.example.com` and `a.b.example.com`, not
 * `example.com` itself: give both for both). The logged vhost is compared
 * without a `:port` suffix and a trailing dot (`example.com:80` is
 * `example.com`). Records without a vhost are dropped (and counted) when a
 * filter is set. A stateless step over a batch, matched once per distinct
 * vhost of the batch.
 */
import { AlfError } from '@alf/parser';
import type { RecordBatch } from '@alf/parser';
import { selectRows } from './select-rows.ts';

export interface VhostMatcher {
  /** The patterns, lowercased, in the order given, without duplicates. */
  readonly patterns: readonly string[];
  matches(vhost: string): boolean;
}

const NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const IP_LITERAL = /^(\[[0-9a-f:.]+\]|[0-9.]+)$/;

/** Host part of a logged vhost: lowercased, without `:port` and a trailing dot. */
export function vhostHost(vhost: string): string {
  let h = vhost.trim().toLowerCase();
  const m = /:\d{1,5}$/.exec(h);
  if (m && (h.indexOf(':') === m.index || h.startsWith('['))) h = h.slice(0, m.index);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** A matcher for `--vhost` patterns; throws AlfError('ALF_USAGE') on a pattern that is not a host name or `*.suffix`. */
export function vhostFilter(patterns: readonly string[]): VhostMatcher {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const names: string[] = [];
  for (const raw of patterns) {
    const p = raw.trim().toLowerCase().replace(/\.$/, '');
    const wild = p.startsWith('*.');
    const name = wild ? p.slice(2) : p;
    if (p.length > 253 || !(NAME.test(name) || (!wild && IP_LITERAL.test(name)))) {
      throw new AlfError('ALF_USAGE',
        `\`--vhost\` must be a host name (www.example.com) or \`*.\` and a domain (*.example.com), several separated by commas; got \`${raw.slice(0, 80)}\``,
        { option: 'vhost', given: raw.slice(0, 200) });
    }
    if (names.includes(p)) continue;
    names.push(p);
    if (wild) suffixes.push(`.${name}`);
    else exact.add(name);
  }
  return {
    patterns: names,
    matches(vhost: string): boolean {
      const h = vhostHost(vhost);
      if (exact.has(h)) return true;
      for (const s of suffixes) if (h.length > s.length && h.endsWith(s)) return true;
      return false;
    },
  };
}

/** What `filterByVhost` did to one batch. */
export interface VhostFiltered {
  readonly batch: RecordBatch;
  /** Rows left out: a vhost that matches no pattern. */
  readonly otherVhost: number;
  /** Rows left out: no vhost (the format has none, or `-`). */
  readonly withoutVhost: number;
}

/** The rows of `batch` whose vhost matches; a batch wholly kept is returned as it is. */
export function filterByVhost(batch: RecordBatch, matcher: VhostMatcher): VhostFiltered {
  const values = batch.vhost.values;
  // Per distinct vhost id: 0 unknown, 1 keep, 2 drop.
  const verdict = new Uint8Array(values.length);
  const keep = new Int32Array(batch.length);
  let n = 0;
  let otherVhost = 0;
  let withoutVhost = 0;
  for (let i = 0; i < batch.length; i++) {
    const id = batch.vhost.ids[i]!;
    if (id < 0) {
      withoutVhost++;
      continue;
    }
    let v = verdict[id]!;
    if (v === 0) verdict[id] = v = matcher.matches(values[id]!) ? 1 : 2;
    if (v === 1) keep[n++] = i;
    else otherVhost++;
  }
  if (n === batch.length) return { batch, otherVhost: 0, withoutVhost: 0 };
  return { batch: selectRows(batch, keep.subarray(0, n)), otherVhost, withoutVhost };
}
