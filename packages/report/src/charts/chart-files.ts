/**
 * Names of the chart files in the analysis pack. A pure function of the burst
 * ids, so summary.md links and the writer agree without rendering anything.
 */
import type { AnalysisResult } from '@alf/core';
import { sortBursts } from '../pack-tables.ts';

/** The whole-span timeline chart. */
export const TIMELINE_CHART_PATH = 'charts/timeline.svg';

/** The three charts of one burst: zoomed timeline, top ASNs, top countries. */
export function burstChartPaths(burstId: number): { readonly zoom: string; readonly asns: string; readonly countries: string } {
  return {
    zoom: `charts/burst-${burstId}.svg`,
    asns: `charts/burst-${burstId}-asns.svg`,
    countries: `charts/burst-${burstId}-countries.svg`,
  };
}

/** Every chart file of the pack, in writing order: the timeline, then per burst (by id) zoom, ASNs, countries. */
export function analysisChartFiles(result: AnalysisResult): string[] {
  const out = [TIMELINE_CHART_PATH];
  for (const b of sortBursts(result.bursts)) {
    const p = burstChartPaths(b.burstId);
    out.push(p.zoom, p.asns, p.countries);
  }
  return out;
}
