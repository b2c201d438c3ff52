/**
 * `--tz`: how wall-clock times without an offset become UTC. A fixed `±HH:MM`
 * or an IANA zone (via Intl, DST-correct; for a repeated hour the earlier
 * instant, for a skipped hour the offset before the change, like Temporal's
 * "compatible").
 */
import { AlfError } from './errors.ts';

export interface TimeZone {
  readonly id: string;
  /** Epoch ms of a wall-clock time given as if it were UTC. */
  localToUtc(localMs: number): number;
}

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;

function fixedZone(id: string, offsetMs: number): TimeZone {
  return { id, localToUtc: (ms: number): number => ms - offsetMs };
}

export const UTC_ZONE: TimeZone = fixedZone('UTC', 0);

function ianaZone(id: string): TimeZone {
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: id, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch (cause) {
    throw new AlfError('ALF_TZ_INVALID',
      `--tz must be an IANA zone (Europe/Berlin) or ±HH:MM; got \`${id}\``, { given: id }, { cause });
  }
  /** Offset (local - utc) in ms at a UTC instant. */
  const offsetAt = (utcMs: number): number => {
    const p = dtf.formatToParts(new Date(utcMs));
    const get = (t: string): number => Number(p.find((x) => x.type === t)?.value ?? 0);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return local - (utcMs - (utcMs % 1000 + 1000) % 1000);
  };
  const exact = (localMs: number): number => {
    const o1 = offsetAt(localMs - 43_200_000);
    const o2 = offsetAt(localMs + 43_200_000);
    if (o1 === o2) return localMs - o1;
    let best = NaN;
    for (const o of [o1, o2]) {
      const u = localMs - o;
      if (offsetAt(u) === o && !(u >= best)) best = u;
    }
    return Number.isNaN(best) ? localMs - Math.min(o1, o2) : best; // NaN: in a gap
  };
  // Transitions fall on quarter hours of wall-clock time, so one offset per slot.
  const SLOT = 900_000;
  const cache = new Map<number, number>();
  let lastKey = NaN;
  let lastOffset = 0;
  return {
    id,
    localToUtc(localMs: number): number {
      const key = Math.floor(localMs / SLOT);
      if (key !== lastKey) {
        let off = cache.get(key);
        if (off === undefined) {
          const start = key * SLOT;
          off = start - exact(start);
          if (cache.size > 100_000) cache.clear();
          cache.set(key, off);
        }
        lastKey = key;
        lastOffset = off;
      }
      return localMs - lastOffset;
    },
  };
}

/** Resolve `--tz`; undefined means UTC. Throws ALF_TZ_INVALID. */
export function resolveTimeZone(tz: string | undefined): TimeZone {
  if (tz === undefined || tz === '' || tz === 'UTC' || tz === 'Z') return UTC_ZONE;
  const m = FIXED.exec(tz);
  if (m) {
    const h = Number(m[2]);
    const mi = Number(m[3]);
    if (h > 18 || mi > 59) {
      throw new AlfError('ALF_TZ_INVALID', `--tz offset must be within ±18:00; got \`${tz}\``, { given: tz });
    }
    return fixedZone(tz, (m[1] === '-' ? -1 : 1) * (h * 3_600_000 + mi * 60_000));
  }
  return ianaZone(tz);
}
