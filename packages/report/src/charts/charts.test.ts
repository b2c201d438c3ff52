import { describe, expect, test } from 'vitest';
import type { AnalysisResult, Burst, TimelineSeries } from '@alf/core';
import { loadPayloads } from '../../../../testdata/hostile/load-payloads.ts';
import { capLength, defang, escapeControls } from '../escape.ts';
import { testAnalysisResult } from '../test-analysis.ts';
import { asnBarChartSvg, countryBarChartSvg } from './bar-chart.ts';
import { zoomRange } from './burst-chart.ts';
import { analysisChartFiles } from './chart-files.ts';
import { analysisCharts } from './pack-charts.ts';
import { gapRuns, maxPerGroup, stepPoints, timelineChartSvg } from './timeline-chart.ts';
import { allElements, parseXmlStrict, type XmlElement } from './test-xml.ts';

const PAYLOADS = loadPayloads();
const HOSTILE = PAYLOADS.map((p) => p.text);
const GOLDEN_HOSTILE = ['<script>alert(1)</script>', '"><svg onload=alert(1)>', 'AS&amp;Co \u202eexe.txt', '\x1b[31mred\x1b[0m', ']]><!--'];

/** Elements allowed in alf's charts; anything else (script, foreignObject, image, use, a, …) is a failure. */
const ELEMENTS = new Set(['svg', 'title', 'desc', 'style', 'rect', 'line', 'path', 'text', 'g']);
const ATTRS = new Set([
  'xmlns', 'version', 'viewBox', 'width', 'height', 'role', 'aria-label', 'class', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'd', 'transform',
]);

function charts(result: AnalysisResult): Map<string, string> {
  return new Map([...analysisCharts(result)].map((c) => [c.path, c.svg]));
}

/** Checks one chart document; returns its root. */
function checkChart(name: string, svg: string): XmlElement {
  const root = parseXmlStrict(svg);
  expect(root.name, name).toBe('svg');
  expect(root.attrs.get('xmlns')).toBe('http://www.w3.org/2000/svg');
  expect(root.attrs.get('viewBox')).toMatch(/^0 0 \d+(\.\d+)? \d+(\.\d+)?$/);
  expect(root.attrs.get('width')).toMatch(/^\d/);
  expect(root.attrs.get('role')).toBe('img');
  expect(root.children[0]!.name).toBe('title');
  expect(root.attrs.get('aria-label')).toBe(root.children[0]!.text);
  for (const el of allElements(root)) {
    expect(ELEMENTS.has(el.name), `${name}: <${el.name}>`).toBe(true);
    for (const [k, v] of el.attrs) {
      expect(ATTRS.has(k), `${name}: <${el.name} ${k}>`).toBe(true);
      if (k !== 'xmlns') expect(v, `${name}: ${k}`).not.toMatch(/url\(|https?:|javascript:|data:/i);
    }
  }
  const style = allElements(root).filter((e) => e.name === 'style');
  expect(style).toHaveLength(1);
  expect(style[0]!.text).not.toMatch(/url\(|@import|@font-face|expression\(/i);
  expect(style[0]!.text).toContain('@media (prefers-color-scheme: dark)');
  const markup = svg.replace(/>[^<]*</g, '><'); // tags only: text nodes may show `onerror=` as escaped text
  expect(markup).not.toMatch(/<script|<foreignObject|\son[a-z]+\s*=|href|<!DOCTYPE|<!ENTITY/i);
  expect(svg.match(/https?:\/\/[^"\s]*/g)).toEqual(['http://www.w3.org/2000/svg']);
  expect(svg).not.toMatch(/NaN|Infinity|undefined|\de[+-]\d/);
  return root;
}

describe('charts of the analysis pack', () => {
  const result = testAnalysisResult(HOSTILE);

  test('one timeline, then zoom, ASN and country charts per burst, by burst id', () => {
    expect([...charts(result).keys()]).toEqual(analysisChartFiles(result));
    expect(analysisChartFiles(result)).toEqual([
      'charts/timeline.svg', 'charts/burst-1.svg', 'charts/burst-1-asns.svg', 'charts/burst-1-countries.svg',
      'charts/burst-2.svg', 'charts/burst-2-asns.svg', 'charts/burst-2-countries.svg',
    ]);
  });

  test('every chart is well-formed XML with only plain drawing elements: no script, handler, link, external URL or font', () => {
    for (const [name, svg] of charts(result)) checkChart(name, svg);
  });

  test.for(PAYLOADS)('payload line $line as AS organisation and country comes out as escaped text', (p) => {
    const r = testAnalysisResult([p.text]);
    const b = r.bursts.find((x) => x.burstId === 1)!;
    const b2 = r.bursts.find((x) => x.burstId === 2)!;
    for (const [name, svg] of [['asns', asnBarChartSvg(b, r.asns)], ['countries', countryBarChartSvg(b2, r.countries)]] as const) {
      const root = checkChart(name, svg);
      // the label reads as the payload with controls made visible and URLs defanged, capped: nothing else
      const visible = defang(escapeControls(capLength(p.text, 200)));
      // bar labels (class "end"), biggest first: AS64500 in burst 1; the only country of burst 2
      const label = allElements(root).filter((e) => e.name === 'text' && e.attrs.get('class') === 'end').map((e) => e.text)[0];
      expect(label, JSON.stringify(p.text)).toBeDefined();
      if (p.text.length > 0) {
        const shown = name === 'asns' ? label!.slice('AS64500 '.length) : label!;
        if (name === 'asns') expect(label!.startsWith('AS64500 ')).toBe(true);
        const prefix = shown.endsWith('…') ? shown.slice(0, -1) : shown;
        expect(visible.startsWith(prefix), `${JSON.stringify(shown)} vs ${JSON.stringify(visible)}`).toBe(true);
      }
      expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    }
  });

  test('charts are byte-identical across runs and time zones', () => {
    const before = process.env['TZ'];
    try {
      const a = charts(testAnalysisResult(HOSTILE));
      process.env['TZ'] = 'Asia/Kathmandu';
      const b = charts(testAnalysisResult(HOSTILE));
      process.env['TZ'] = 'America/St_Johns';
      const c = charts(testAnalysisResult(HOSTILE));
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });

  test('golden charts', async () => {
    for (const [name, svg] of charts(testAnalysisResult(GOLDEN_HOSTILE))) {
      await expect(svg).toMatchFileSnapshot(`__snapshots__/${name.slice('charts/'.length)}`);
    }
  });
});

function series(requests: number[], bucketS = 60, startMs = Date.UTC(2024, 0, 1)): TimelineSeries {
  const col = Float64Array.from(requests);
  return {
    bucketS, startMs, requests: col, distinctIps: col.map((v) => Math.min(v, 3)), s2xx: col, s3xx: col.map(() => 0),
    s4xx: col.map(() => 0), s5xx: col.map(() => 0), bytes: col.map((v) => v * 100),
  };
}

describe('timeline chart', () => {
  test('a run of empty buckets at least minGapS long is a gap; shorter runs are zero traffic', () => {
    const req = [5, 5, 0, 0, 5, ...new Array<number>(40).fill(0), 5, 5];
    expect(gapRuns(Float64Array.from(req), 60, 1800)).toEqual([[5, 45]]);
    const svg = timelineChartSvg({ timeline: series(req), bursts: [], minGapS: 1800 });
    checkChart('timeline', svg);
    expect(svg).toContain('no data');
    const line = /<path class="s-req" d="([^"]*)"/.exec(svg)![1]!;
    expect(line.match(/M/g)).toHaveLength(2); // the request line is lifted over the gap, not drawn across it
  });

  test('more buckets than pixels: groups keep their busiest bucket; a group is a gap only when all of it is', () => {
    const g = maxPerGroup(Float64Array.from([1, 9, 2, NaN, 0, 0, 3]), Uint8Array.from([0, 0, 0, 0, 1, 1, 1]), 2);
    expect([...g.values]).toEqual([9, 2, 0, 3]);
    expect([...g.inGap]).toEqual([0, 0, 1, 1]);
    const long = Float64Array.from({ length: 7200 }, (_, i) => (i === 4321 ? 500 : i % 3));
    const svg = timelineChartSvg({ timeline: series([...long]), bursts: [], minGapS: 1800 });
    checkChart('timeline', svg);
    expect(svg).toContain('steps: busiest of 5 buckets');
    expect(svg.length).toBeLessThan(200_000);
    expect(svg).toContain('busiest bucket 500 requests');
    expect(svg).toContain('>600<'); // the peak still sets the axis
  });

  test('runs of equal values are one segment; NaN lifts the pen', () => {
    const pts = stepPoints(Float64Array.from([2, 2, 2, NaN, 1]), new Uint8Array(5), (i) => i * 10, (v) => v);
    expect(pts).toEqual([[0, 2], [30, 2], null, [40, 1], [50, 1]]);
  });

  test('no timestamped records: a small chart that says so', () => {
    const svg = timelineChartSvg({ timeline: series([]), bursts: [], minGapS: 1800 });
    checkChart('timeline', svg);
    expect(svg).toContain('No timestamped records');
  });

  test('labels every burst by id and verdict; UTC on the time axis', () => {
    const svg = [...analysisCharts(testAnalysisResult(HOSTILE))][0]!.svg;
    expect(svg).toContain('>#1 attack<');
    expect(svg).toContain('>#2 flash crowd<');
    expect(svg).toContain('>time (UTC)<');
    expect(svg).toContain('>10:00<');
    expect(svg).toContain('>2021-03-29<');
  });
});

describe('burst chart', () => {
  const burst: Burst = {
    burstId: 7, startMs: Date.UTC(2024, 0, 1, 0, 30), endMs: Date.UTC(2024, 0, 1, 0, 39, 59), durationS: 600, requests: 6000,
    excessRequests: 5900, peakRps: 20, baselineRps: 0.2, distinctIps: 3, attackers: 1, score: 99, scaleS: 60, verdict: 'attack',
    reasons: [], windowIndex: 0, attributedShare: 1,
  };
  test('zooms on the window plus a margin of max(¾ duration, 10 buckets), inside the series', () => {
    const t = series(new Array<number>(120).fill(12));
    expect(zoomRange(t, burst)).toEqual([30 - 10, 40 + 10]);
    expect(zoomRange(t, { ...burst, startMs: Date.UTC(2024, 0, 1, 0, 2), endMs: Date.UTC(2024, 0, 1, 1, 59, 59) })).toEqual([0, 120]);
  });
  test('draws baseline, excess and busiest second; well-formed', () => {
    const req = new Array<number>(120).fill(12);
    for (let i = 30; i < 40; i++) req[i] = 600;
    const r = { ...testAnalysisResult(HOSTILE), timeline: series(req), bursts: [burst] };
    const svg = [...analysisCharts(r)].find((c) => c.path === 'charts/burst-7.svg')!.svg;
    checkChart('burst-7', svg);
    expect(svg).toContain('class="excess"');
    expect(svg).toContain('class="base"');
    expect(svg).toContain('>busiest second 20.00 req/s<');
    expect(svg).toContain('>baseline 0.20 req/s<');
  });
});

describe('burst chart from a finer series', () => {
  test('per-second steps when core gives a 1 s burstSeries', () => {
    const t0 = Date.UTC(2024, 0, 1, 0, 30);
    const b: Burst = {
      burstId: 4, startMs: t0, endMs: t0 + 59_000, durationS: 60, requests: 6000, excessRequests: 5900, peakRps: 130,
      baselineRps: 0.5, distinctIps: 3, attackers: 1, score: 99, scaleS: 10, verdict: 'attack', reasons: [], windowIndex: 0, attributedShare: 1,
    };
    const requests = Float64Array.from({ length: 660 }, (_, i) => (i >= 300 && i < 360 ? 100 + (i % 30) : i % 2));
    const fine = { burstId: 4, startMs: t0 - 300_000, stepS: 1, requests };
    const r = { ...testAnalysisResult(HOSTILE), timeline: series(new Array<number>(120).fill(30)), bursts: [b] };
    const svg = [...analysisCharts(r, 1800, [fine])].find((c) => c.path === 'charts/burst-4.svg')!.svg;
    checkChart('burst-4', svg);
    expect(svg).toContain('>Each step is one second.<');
    expect(svg).toContain('>requests/s<');
    expect(svg).toContain('>00:26<'); // starts 5 min before the window (2 min ticks)
    const coarse = [...analysisCharts(r)].find((c) => c.path === 'charts/burst-4.svg')!.svg;
    expect(coarse).toContain('average over one 1 min timeline bucket');
  });
});

describe('burst chart with a concurrent burst', () => {
  test('draws the other burst and says the shaded excess is shared', () => {
    const t0 = Date.UTC(2024, 0, 1, 0, 30);
    const b7: Burst = {
      burstId: 7, startMs: t0, endMs: t0 + 599_000, durationS: 600, requests: 6000, excessRequests: 5900, peakRps: 20,
      baselineRps: 0.2, distinctIps: 3, attackers: 1, score: 99, scaleS: 60, verdict: 'attack', reasons: [], windowIndex: 0, attributedShare: 1,
    };
    const b8: Burst = { ...b7, burstId: 8, startMs: t0 + 300_000, endMs: t0 + 899_000, verdict: 'crawl' };
    const r = { ...testAnalysisResult(HOSTILE), timeline: series(new Array<number>(120).fill(12)), bursts: [b8, b7] };
    const svg = [...analysisCharts(r)].find((c) => c.path === 'charts/burst-7.svg')!.svg;
    checkChart('burst-7', svg);
    expect(svg).toContain('>Overlaps burst #8: the timeline cannot tell them apart');
    expect(svg).toContain('>#8 crawl<');
    expect(svg).toContain('window 2024-01-01 00:30:00Z – 2024-01-01 00:39:59Z');
  });
});

describe('strict XML check', () => {
  test.for([
    ['<svg><text>a</svg>'], ['<svg a=1/>'], ['<svg a="1" a="2"/>'], ['<svg>&foo;</svg>'], ['<svg>a & b</svg>'], ['<svg a="<"/>'],
    ['<svg/><svg/>'], ['<svg>\u0001</svg>'], ['<svg><!-- a -- b --></svg>'], ['<!DOCTYPE svg><svg/>'], ['text<svg/>'],
  ] as const)('rejects %s', ([xml]) => {
    expect(() => parseXmlStrict(xml)).toThrow();
  });
  test('accepts entities and character references', () => {
    expect(parseXmlStrict('<?xml version="1.0" encoding="UTF-8"?>\n<svg a="&quot;&#10;"><t>&lt;&amp;&#x1F600;</t></svg>').children[0]!.text).toBe('<&\u{1F600}');
  });
});
