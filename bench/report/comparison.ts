// The comparison `npm run bench` ends with and docs/benchmarks.md shows:
// lookup cost vs N for both modes side by side, sync cost vs N, memory, and
// the "beside the kernel" columns. Each function turns records into a
// {@link Table} of formatted strings; rendering is table.ts's business.
import type { BenchMode, BenchRecord } from '../types.js';
import { KERNEL_COSTS_SOURCE } from '../kernel-costs.js';
import { formatCount, formatNs, formatRatio, formatSeconds, formatValue } from './format.js';
import { firstPacketRows, MODEL_MEASURED_MAX_SERVICES, nsPerRuleRows, restoreRows } from './kernel.js';
import type { SyncKind } from './kernel.js';
import { NS_PER_OP, nsOf, select, servicesOfAny, valueOf, workOf } from './records.js';
import type { RecordQuery } from './records.js';
import type { TargetResult } from './results.js';
import { NONE } from './table.js';
import type { Table } from './table.js';
import { formatTargetValue } from './targets.js';

const MODE_LABEL: Readonly<Record<BenchMode, string>> = { ipvs: 'IPVS', iptables: 'iptables' };

/** A column of a vs-N table: a header and the query that fills it. */
export interface SeriesColumn {
  readonly header: string;
  readonly query: RecordQuery;
}

/** The lookup series, in the order the comparison prints them. */
export const LOOKUP_SERIES: readonly SeriesColumn[] = [
  { header: 'IPVS new-conn', query: { mode: 'ipvs', metric: 'new-conn' } },
  { header: 'IPVS established', query: { mode: 'ipvs', metric: 'established' } },
  { header: 'iptables new-conn first', query: { mode: 'iptables', metric: 'new-conn', position: 'first' } },
  { header: 'iptables new-conn median', query: { mode: 'iptables', metric: 'new-conn', position: 'median' } },
  { header: 'iptables new-conn last', query: { mode: 'iptables', metric: 'new-conn', position: 'last' } },
  { header: 'iptables established', query: { mode: 'iptables', metric: 'established' } },
];

/** Sync metrics in the order the comparison prints them (others follow alphabetically). */
export const SYNC_METRICS: readonly string[] = ['full-restore-text', 'full-apply', 'full-sync', 'partial-sync', 'add-service', 'endpoint-change'];

const MODES: readonly BenchMode[] = ['iptables', 'ipvs'];

/** Columns with at least one value, and the union of their N. */
function vsN(records: readonly BenchRecord[], series: readonly SeriesColumn[]): { cols: SeriesColumn[]; ns: number[] } {
  const cols = series.filter((c) => nsOf(records, c.query) !== undefined);
  return { cols, ns: servicesOfAny(records, cols.map((c) => ({ ...c.query, unit: NS_PER_OP }))) };
}

/** Lookup cost vs N, median ns per packet, both modes side by side. Undefined when the run has no lookup timings. */
export function lookupTable(records: readonly BenchRecord[]): Table | undefined {
  const { cols, ns } = vsN(records, LOOKUP_SERIES);
  if (cols.length === 0) return undefined;
  return {
    title: 'Lookup cost vs N (median per packet, simulator)',
    note: 'N services × endpoints each. new-conn: the first packet of a connection (service lookup, scheduling or the KUBE-SERVICES walk, a new conntrack/connection entry); established: a packet of a live connection. iptables first/median/last: the targeted service’s position in KUBE-SERVICES.',
    headers: ['N', ...cols.map((c) => c.header)],
    rows: ns.map((n) => [formatCount(n), ...cols.map((c) => fmtNs(nsOf(records, { ...c.query, services: n })))]),
  };
}

/** The work counts the comparison shows beside the lookup timings (every count is in the per-suite tables). */
export const LOOKUP_WORK: readonly { readonly header: string; readonly query: RecordQuery; readonly unit: string }[] = [
  { header: 'IPVS new-conn hash-probes', query: { mode: 'ipvs', metric: 'new-conn' }, unit: 'hash-probes/packet' },
  { header: 'IPVS new-conn chain-steps', query: { mode: 'ipvs', metric: 'new-conn' }, unit: 'chain-steps/packet' },
  { header: 'IPVS established chain-steps', query: { mode: 'ipvs', metric: 'established' }, unit: 'chain-steps/packet' },
  { header: 'iptables new-conn first rules', query: { mode: 'iptables', metric: 'new-conn', position: 'first' }, unit: 'rules/packet' },
  { header: 'iptables new-conn median rules', query: { mode: 'iptables', metric: 'new-conn', position: 'median' }, unit: 'rules/packet' },
  { header: 'iptables new-conn last rules', query: { mode: 'iptables', metric: 'new-conn', position: 'last' }, unit: 'rules/packet' },
  { header: 'iptables established rules', query: { mode: 'iptables', metric: 'established' }, unit: 'rules/packet' },
];

/** Work counts per packet of the lookup timings ({@link LOOKUP_WORK}), vs N. */
export function lookupWorkTable(records: readonly BenchRecord[]): Table | undefined {
  const ns0 = servicesOfAny(records, LOOKUP_WORK.map((c) => ({ ...c.query, unit: NS_PER_OP })));
  const cols = LOOKUP_WORK.filter((c) => ns0.some((n) => workOf(records, { ...c.query, services: n }, c.unit) !== undefined));
  if (cols.length === 0) return undefined;
  const ns = servicesOfAny(records, cols.map((c) => ({ ...c.query, unit: NS_PER_OP })));
  return {
    title: 'Work per packet vs N (exact counts, machine-independent)',
    note: 'hash-probes: hash buckets looked into; chain-steps: entries compared on those buckets’ chains; rules: iptables rules evaluated. The per-suite tables list every count.',
    headers: ['N', ...cols.map((c) => c.header)],
    rows: ns.map((n) => [formatCount(n), ...cols.map((c) => fmtQty(workOf(records, { ...c.query, services: n }, c.unit)))]),
  };
}

/** The (mode, metric) sync series present in the run, iptables first, in {@link SYNC_METRICS} order. */
export function syncSeries(records: readonly BenchRecord[]): SeriesColumn[] {
  const present = new Set<string>();
  for (const r of records) {
    if (r.unit === NS_PER_OP && r.mode !== undefined && r.metric !== undefined && SYNC_METRICS.includes(r.metric)) present.add(`${r.mode} ${r.metric}`);
  }
  const out: SeriesColumn[] = [];
  for (const mode of MODES) {
    for (const metric of SYNC_METRICS) {
      if (present.has(`${mode} ${metric}`)) out.push({ header: `${MODE_LABEL[mode]} ${metric}`, query: { mode, metric } });
    }
  }
  return out;
}

/** Sync cost vs N: iptables full restore / apply / partial / add service beside IPVS changes. */
export function syncTable(records: readonly BenchRecord[]): Table | undefined {
  const { cols, ns } = vsN(records, syncSeries(records));
  if (cols.length === 0) return undefined;
  return {
    title: 'Sync cost vs N (median per sync, simulator)',
    note: 'full-restore-text: parse and apply the whole iptables-restore text into empty tables; full-apply: apply an already-parsed ruleset; full-sync: a kube-proxy full sync (rules generated and restored); partial-sync: kube-proxy’s sync after one endpoint change; add-service: one more Service; IPVS endpoint-change: the IPVS proxier’s update for one changed endpoint.',
    headers: ['N', ...cols.map((c) => c.header)],
    rows: ns.map((n) => [formatCount(n), ...cols.map((c) => fmtNs(nsOf(records, { ...c.query, services: n })))]),
  };
}

/** Units of the sync work table, in column order; other units follow alphabetically. */
export const SYNC_WORK_UNITS: readonly string[] = ['rules-written', 'chains-written', 'restore-lines', 'restore-bytes', 'ipvs-ops', 'ipvs-reads', 'modeled-kernel-s'];

/**
 * What each sync wrote (rules, bytes, IPVS operations) and the kernel time
 * lbsim's cost model gives it: the non-timing records of the sync tasks,
 * one row per N and sync series, one column per unit.
 */
export function syncWorkTable(records: readonly BenchRecord[]): Table | undefined {
  const series = syncSeries(records);
  const units = new Set<string>();
  for (const s of series) {
    for (const t of select(records, { ...s.query, unit: NS_PER_OP })) {
      for (const r of records) if (r.suite === t.suite && r.task === t.task && r.unit !== NS_PER_OP) units.add(r.unit);
    }
  }
  if (units.size === 0) return undefined;
  const rank = (u: string): number => {
    const k = SYNC_WORK_UNITS.indexOf(u);
    return k < 0 ? SYNC_WORK_UNITS.length : k;
  };
  const cols = [...units].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const rows: string[][] = [];
  for (const n of servicesOfAny(records, series.map((s) => ({ ...s.query, unit: NS_PER_OP })))) {
    for (const s of series) {
      const vals = cols.map((u) => workOf(records, { ...s.query, services: n }, u));
      if (vals.every((v) => v === undefined)) continue;
      rows.push([formatCount(n), s.header, ...vals.map((v, k) => fmtValue(v, cols[k]!))]);
    }
  }
  return {
    title: 'Work per sync vs N (exact counts)',
    note: 'modeled-kernel-s: the kernel time lbsim’s KernelCostModel gives the sync (src/kube/cost-model.ts, calibrated on kernel-costs.md), as recorded by the suite.',
    headers: ['N', 'sync', ...cols],
    align: ['left', 'left', ...cols.map(() => 'right' as const)],
    rows,
  };
}

/**
 * Heap vs N: records whose metric starts with `heap` (`heap`, `heap-cluster`, …), one row per N, mode and
 * metric, one column per unit (bytes, bytes/service, bytes/rule first).
 */
export function memoryTable(records: readonly BenchRecord[]): Table | undefined {
  const heap = records.filter((r) => r.metric?.startsWith('heap') === true);
  if (heap.length === 0) return undefined;
  const units = [...new Set(heap.map((r) => r.unit))].sort(unitOrder);
  const keys: { services: number | undefined; mode: BenchMode | undefined; metric: string }[] = [];
  for (const r of heap) {
    if (!keys.some((k) => k.services === r.services && k.mode === r.mode && k.metric === r.metric)) keys.push({ services: r.services, mode: r.mode, metric: r.metric ?? '' });
  }
  const modeRank = (m: BenchMode | undefined): number => (m === undefined ? 2 : MODES.indexOf(m));
  keys.sort((a, b) => (a.services ?? 0) - (b.services ?? 0) || modeRank(a.mode) - modeRank(b.mode) || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
  return {
    title: 'Memory vs N (heap after forced GC)',
    headers: ['N', 'mode', 'metric', ...units],
    align: ['left', 'left', 'left'],
    rows: keys.map((k) => [
      k.services === undefined ? NONE : formatCount(k.services),
      k.mode === undefined ? NONE : MODE_LABEL[k.mode],
      k.metric,
      ...units.map((u) => fmtValue(heap.find((r) => r.services === k.services && r.mode === k.mode && r.metric === k.metric && r.unit === u)?.value, u)),
    ]),
  };
}

function unitOrder(a: string, b: string): number {
  const order = ['bytes', 'bytes/service', 'bytes/rule', 'bytes/real-server'];
  const rank = (u: string): number => {
    const k = order.indexOf(u);
    return k < 0 ? order.length : k;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** IPVS established cost vs live connections in the table (records that set `connections`). */
export function connectionsTable(records: readonly BenchRecord[]): Table | undefined {
  const rs = select(records, { mode: 'ipvs', metric: 'established', unit: NS_PER_OP }).filter((r) => r.connections !== undefined);
  if (rs.length === 0) return undefined;
  const sorted = [...rs].sort((a, b) => (a.connections ?? 0) - (b.connections ?? 0) || (a.services ?? 0) - (b.services ?? 0));
  return {
    title: 'IPVS established packet vs connections in the table',
    headers: ['connections', 'N', 'median', 'task'],
    align: ['left', 'right', 'right', 'left'],
    rows: sorted.map((r) => [formatCount(r.connections ?? 0), r.services === undefined ? NONE : formatCount(r.services), formatNs(r.value), r.task]),
  };
}

/** Widest scheduler pivot the comparison prints; wider ones are left to the per-suite tables. */
const SCHEDULER_MAX_COLUMNS = 12;

/**
 * Schedulers side by side: records that name a `scheduler`, one row per
 * scheduler, one column per (task name without the scheduler's name, unit)
 * — e.g. `pick` ns/op, `zipf jain`. Undefined when there are none, or when
 * the task names do not line up into at most 12 columns.
 */
export function schedulerTable(records: readonly BenchRecord[]): Table | undefined {
  const rs = records.filter((r) => r.scheduler !== undefined);
  if (rs.length === 0) return undefined;
  const scheds: string[] = [];
  const cols: { rest: string; unit: string }[] = [];
  const restOf = (r: BenchRecord): string => {
    const name = r.scheduler!;
    const rest = r.task
      .split(/\s+/)
      .filter((w) => w !== name && w !== `scheduler=${name}`)
      .join(' ');
    return rest === '' ? (r.metric ?? '') : rest;
  };
  for (const r of rs) {
    if (!scheds.includes(r.scheduler!)) scheds.push(r.scheduler!);
    const rest = restOf(r);
    if (!cols.some((c) => c.rest === rest && c.unit === r.unit)) cols.push({ rest, unit: r.unit });
  }
  if (cols.length > SCHEDULER_MAX_COLUMNS) return undefined;
  return {
    title: 'IPVS schedulers',
    headers: ['scheduler', ...cols.map((c) => (c.unit === NS_PER_OP ? `${c.rest} median` : `${c.rest} ${c.unit}`.trim()))],
    rows: scheds.map((name) => [
      name,
      ...cols.map((c) => fmtValue(rs.find((r) => r.scheduler === name && r.unit === c.unit && restOf(r) === c.rest)?.value, c.unit)),
    ]),
  };
}

// ---- beside the kernel -------------------------------------------------

/** Simulated vs kernel ns per KUBE-SERVICES rule. */
export function kernelNsPerRuleTable(records: readonly BenchRecord[]): Table | undefined {
  const rows = nsPerRuleRows(records);
  if (rows.length === 0) return undefined;
  return {
    title: 'Beside the kernel: ns per KUBE-SERVICES rule',
    note: `(new-conn last − new-conn first) / (N − 1), simulated and as measured on the kernel (${KERNEL_COSTS_SOURCE}). sim/kernel below 1: the simulator walks a rule faster than the kernel did. – : the reference has no row at this N; (noise): the last service measured faster than the first, so timing noise exceeds the walk at this N.`,
    headers: ['N', 'sim ns/rule', 'kernel legacy', 'sim/legacy', 'kernel nft', 'sim/nft'],
    rows: rows.map((r) => {
      // last faster than first: timing noise exceeds the walk at this N, so no ratio is meaningful
      const noise = r.sim !== undefined && r.sim <= 0;
      return [
        formatCount(r.services),
        r.sim === undefined ? NONE : `${r.sim.toFixed(2)}${noise ? ' (noise)' : ''}`,
        r.kernel.legacy === undefined ? NONE : String(r.kernel.legacy),
        noise ? NONE : fmtRatio(r.ratio.legacy),
        r.kernel.nft === undefined ? NONE : String(r.kernel.nft),
        noise ? NONE : fmtRatio(r.ratio.nft),
      ];
    }),
  };
}

const SYNC_LABEL: Readonly<Record<SyncKind, string>> = { full: 'full', partial: 'partial', addOne: '+1 svc' };

/** Simulated iptables syncs vs the real `iptables-restore` (legacy and nft) at the same N: one row per N and sync kind. */
export function kernelRestoreTable(records: readonly BenchRecord[]): Table | undefined {
  const rows = restoreRows(records);
  if (rows.length === 0) return undefined;
  const out: string[][] = [];
  for (const r of rows) {
    for (const k of ['full', 'partial', 'addOne'] as const) {
      const c = r.cells[k];
      if (c.sim === undefined) continue;
      out.push([formatCount(r.services), SYNC_LABEL[k], fmtS(c.sim), fmtS(c.kernel.legacy), fmtRatio(c.ratio.legacy), fmtS(c.kernel.nft), fmtRatio(c.ratio.nft), fmtS(c.modeled)]);
    }
  }
  const withModel = rows.some((r) => Object.values(r.cells).some((c) => c.modeled !== undefined));
  if (!withModel) for (const row of out) row.pop();
  return {
    title: 'Beside the kernel: rule sync vs real iptables-restore',
    note: 'full: simulated full restore from text vs iptables-restore into a fresh namespace; partial: simulated partial sync after one endpoint change vs a kube-proxy-style partial restore; +1 svc: one added service vs a --noflush restore of one more service. Kernel: wall time of iptables-restore (median of 3) at the same N; lbsim kernel model: the modeled kernel seconds the suite recorded for the same sync (KernelCostModel, legacy unless the suite says otherwise). – : the reference has no row at this N.',
    headers: ['N', 'sync', 'simulated', 'kernel legacy', 'sim/legacy', 'kernel nft', 'sim/nft', ...(withModel ? ['lbsim kernel model'] : [])],
    align: ['left', 'left'],
    rows: out,
  };
}

/** Simulated iptables first-packet costs vs lbsim's modeled kernel cost. */
export function kernelFirstPacketTable(records: readonly BenchRecord[]): Table | undefined {
  const rows = firstPacketRows(records);
  if (rows.length === 0) return undefined;
  const star = (r: { extrapolated: boolean }): string => (r.extrapolated ? '*' : '');
  return {
    title: 'Beside the kernel: first-packet cost, simulated vs modeled kernel',
    note: `Kernel columns: lbsim's KernelCostModel (src/kube/cost-model.ts), interpolated in the measured packet table of kernel-costs.md; * = extrapolated beyond N = ${formatCount(MODEL_MEASURED_MAX_SERVICES)} along the last measured segment. Kernel figures include the syscall and conntrack (about 1–1.5 µs fixed); the simulator's do not.`,
    headers: ['N', 'sim first', 'kernel first (legacy)', 'sim last', 'kernel last (legacy)', 'sim/legacy last', 'kernel last (nft)', 'sim/nft last', 'sim est', 'kernel est (legacy)'],
    rows: rows.map((r) => [
      formatCount(r.services),
      fmtNs(r.simFirst),
      formatNs(r.model.legacy.first) + star(r),
      fmtNs(r.simLast),
      formatNs(r.model.legacy.last) + star(r),
      fmtRatio(r.ratioLast.legacy),
      formatNs(r.model.nft.last) + star(r),
      fmtRatio(r.ratioLast.nft),
      fmtNs(r.simEstablished),
      formatNs(r.model.legacy.established) + star(r),
    ]),
  };
}

/** Targets met / not met / not measured. */
export function targetsTable(targets: readonly TargetResult[]): Table {
  return {
    title: 'Targets (issue 5 §3)',
    headers: ['target', 'status', 'value', 'threshold', 'how'],
    align: ['left', 'left', 'right', 'right', 'left'],
    rows: targets.map((t) => [
      t.description,
      t.status,
      t.value === null ? NONE : formatTargetValue(t.value, t.unit),
      `≤ ${formatTargetValue(t.threshold, t.unit)}`,
      t.detail,
    ]),
  };
}

/** The comparison, in print order: lookup, work, sync, sync work, memory, connections, schedulers, the kernel tables. */
export function comparisonTables(records: readonly BenchRecord[]): Table[] {
  return [
    lookupTable(records),
    lookupWorkTable(records),
    syncTable(records),
    syncWorkTable(records),
    memoryTable(records),
    connectionsTable(records),
    schedulerTable(records),
    kernelNsPerRuleTable(records),
    kernelRestoreTable(records),
    kernelFirstPacketTable(records),
  ].filter((t): t is Table => t !== undefined);
}

// ---- per-suite tables ----------------------------------------------------

/**
 * All records of one suite: one row per task (in record order), the
 * timing's median, ±rme and samples, then one column per other unit.
 */
export function suiteTable(suite: string, records: readonly BenchRecord[], title = suite): Table | undefined {
  const rs = records.filter((r) => r.suite === suite);
  if (rs.length === 0) return undefined;
  const tasks = [...new Set(rs.map((r) => r.task))];
  const hasTiming = rs.some((r) => r.unit === NS_PER_OP);
  const units = [...new Set(rs.filter((r) => r.unit !== NS_PER_OP).map((r) => r.unit))];
  const headers = ['task', ...(hasTiming ? ['median', '±rme', 'samples'] : []), ...units];
  return {
    title,
    headers,
    rows: tasks.map((task) => {
      const t = rs.find((r) => r.task === task && r.unit === NS_PER_OP);
      const row = [task];
      if (hasTiming) {
        row.push(t === undefined ? NONE : formatNs(t.value), t?.rme === undefined ? NONE : `${t.rme.toFixed(1)}%`, t?.samples === undefined ? NONE : String(t.samples));
      }
      for (const u of units) row.push(fmtValue(valueOf(rs, { task, unit: u }), u));
      return row;
    }),
  };
}

function fmtNs(v: number | undefined): string {
  return v === undefined ? NONE : formatNs(v);
}
function fmtS(v: number | undefined): string {
  return v === undefined ? NONE : formatSeconds(v);
}
function fmtRatio(v: number | undefined): string {
  return v === undefined ? NONE : formatRatio(v);
}
function fmtQty(v: number | undefined): string {
  return v === undefined ? NONE : formatValue(v, '');
}
function fmtValue(v: number | undefined, unit: string): string {
  return v === undefined ? NONE : formatValue(v, unit);
}
