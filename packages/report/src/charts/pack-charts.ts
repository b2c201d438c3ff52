/**
 * Renders every chart of the analysis pack (see chart-files.ts for names).
 * Deterministic: the same result gives the same bytes (no clock, locale,
 * time zone or random ids).
 */
import type { AnalysisResult, BurstSeries } from '@alf/core';
import { sortBursts } from '../pack-tables.ts';
import { asnBarChartSvg, countryBarChartSvg } from './bar-chart.ts';
import { burstChartSvg } from './burst-chart.ts';
import { TIMELINE_CHART_PATH, burstChartPaths } from './chart-files.ts';
import { timelineChartSvg } from './timeline-chart.ts';

/** core's default `minGapS`. */
export const DEFAULT_MIN_GAP_S = 1800;

export interface ChartFile {
  /** Pack-relative path, e.g. `charts/burst-1.svg`. */
  readonly path: string;
  readonly svg: string;
}

/**
 * One chart at a time (keeps memory flat for many bursts), in the order of
 * `analysisChartFiles`. `fine`: core `burstSeries` per burst, for per-second
 * (or 10 s) zooms; bursts without one are zoomed on the timeline's buckets.
 */
export function* analysisCharts(
  result: AnalysisResult, minGapS: number = DEFAULT_MIN_GAP_S, fine?: readonly BurstSeries[] | undefined,
): Generator<ChartFile> {
  const bursts = sortBursts(result.bursts);
  yield { path: TIMELINE_CHART_PATH, svg: timelineChartSvg({ timeline: result.timeline, bursts, minGapS }) };
  for (const b of bursts) {
    const p = burstChartPaths(b.burstId);
    yield { path: p.zoom, svg: burstChartSvg({ timeline: result.timeline, burst: b, others: bursts, fine: fine?.find((s) => s.burstId === b.burstId) }) };
    yield { path: p.asns, svg: asnBarChartSvg(b, result.asns) };
    yield { path: p.countries, svg: countryBarChartSvg(b, result.countries) };
  }
}
