// The SVG charts of docs/benchmarks.md: cost vs N for both modes and sync
// cost vs N, drawn with vega-lite (compiled to a vega spec) and rendered
// headless with vega's View.toSVG() (renderer 'none'). Without a canvas
// package vega estimates text widths, so the same data gives the same bytes.
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { KERNEL_SYNC_SECONDS } from '../kernel-costs.js';
import type { BenchRecord } from '../types.js';
import { LOOKUP_SERIES, syncSeries } from './comparison.js';
import { firstPacketRows } from './kernel.js';
import { NS_PER_OP, nsOf, servicesOf } from './records.js';

/** One plotted point. */
export interface ChartPoint {
  /** Legend entry. */
  readonly series: string;
  /** `simulated` (solid) or a kernel source (dashed). */
  readonly source: string;
  readonly services: number;
  /** y value in the chart's unit (ns per packet, or seconds per sync). */
  readonly value: number;
}

const CHART_LOOKUP = ['IPVS new-conn', 'IPVS established', 'iptables new-conn last', 'iptables established'];

/** Points of the cost-vs-N chart: simulated lookup series and the modeled kernel first-packet cost (legacy). */
export function costVsNPoints(records: readonly BenchRecord[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const s of LOOKUP_SERIES) {
    if (!CHART_LOOKUP.includes(s.header)) continue;
    for (const n of servicesOf(records, { ...s.query, unit: NS_PER_OP })) {
      const v = nsOf(records, { ...s.query, services: n });
      if (v !== undefined && n > 0) out.push({ series: `${s.header} (sim)`, source: 'simulated', services: n, value: v });
    }
  }
  for (const r of firstPacketRows(records)) {
    if (r.services <= 0) continue;
    out.push({ series: 'kernel new-conn last (model, legacy)', source: 'kernel', services: r.services, value: r.model.legacy.last });
    out.push({ series: 'kernel new-conn first (model, legacy)', source: 'kernel', services: r.services, value: r.model.legacy.first });
  }
  return out;
}

/** Points of the sync-vs-N chart, in seconds: simulated sync series and the measured iptables-restore (legacy). */
export function syncVsNPoints(records: readonly BenchRecord[]): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const s of syncSeries(records)) {
    for (const n of servicesOf(records, { ...s.query, unit: NS_PER_OP })) {
      const v = nsOf(records, { ...s.query, services: n });
      if (v !== undefined && n > 0) out.push({ series: `${s.header} (sim)`, source: 'simulated', services: n, value: v / 1e9 });
    }
  }
  if (out.length === 0) return out;
  for (const row of KERNEL_SYNC_SECONDS.legacy) {
    if (row.services <= 0) continue;
    out.push({ series: 'kernel iptables-restore full (legacy)', source: 'kernel', services: row.services, value: row.full });
    out.push({ series: 'kernel iptables-restore partial (legacy)', source: 'kernel', services: row.services, value: row.partial });
    out.push({ series: 'kernel iptables-restore +1 svc (legacy)', source: 'kernel', services: row.services, value: row.addOne });
  }
  return out;
}

/** Colours of simulated series (vega's tableau10 without its grey). */
const SIM_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d'];
/** Colours of kernel series: greys, so the reference reads as a backdrop. */
const KERNEL_COLORS = ['#333333', '#777777', '#aaaaaa'];

/** One colour per series: simulated series from {@link SIM_COLORS}, kernel series from {@link KERNEL_COLORS}, in order. */
export function colorsFor(points: readonly ChartPoint[], series: readonly string[]): string[] {
  let sim = 0;
  let kernel = 0;
  return series.map((name) => {
    const isKernel = points.some((p) => p.series === name && p.source !== 'simulated');
    return isKernel ? KERNEL_COLORS[kernel++ % KERNEL_COLORS.length]! : SIM_COLORS[sim++ % SIM_COLORS.length]!;
  });
}

/** A log-log line chart of `points`, solid for simulated and dashed for kernel series. */
export function lineChartSpec(points: readonly ChartPoint[], title: string, yTitle: string): TopLevelSpec {
  const series = [...new Set(points.map((p) => p.series))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 620,
    height: 340,
    background: 'white',
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'services', type: 'quantitative', title: 'services (N), log scale', scale: { type: 'log' }, axis: { format: '~s' } },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { type: 'log' }, axis: { format: '~s' } },
      color: { field: 'series', type: 'nominal', title: null, sort: series, scale: { domain: series, range: colorsFor(points, series) }, legend: { orient: 'bottom', columns: 2, labelLimit: 420, columnPadding: 24 } },
      strokeDash: { field: 'source', type: 'nominal', title: null, sort: ['simulated', 'kernel'], legend: null, scale: { domain: ['simulated', 'kernel'], range: [[1, 0], [6, 4]] } },
      order: { field: 'services', type: 'quantitative' },
    },
    config: { font: 'sans-serif', title: { anchor: 'start', fontSize: 14 }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  };
}

/** Renders a vega-lite spec to SVG text, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.endsWith('\n') ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}

/** The charts a run can draw: file stem → SVG. The sync chart only when the run has sync timings. */
export async function renderCharts(records: readonly BenchRecord[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const cost = costVsNPoints(records);
  if (cost.length > 0) {
    out.set('bench-cost-vs-n', await renderSvg(lineChartSpec(cost, 'Lookup cost vs number of services', 'ns per packet (median), log scale')));
  }
  const sync = syncVsNPoints(records);
  if (sync.length > 0) {
    out.set('bench-sync-vs-n', await renderSvg(lineChartSpec(sync, 'Rule sync cost vs number of services', 'seconds per sync (median), log scale')));
  }
  return out;
}
