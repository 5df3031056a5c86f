// The speed and memory targets of issue 5 §3, as data: each says what it
// measures, its threshold, and how it is evaluated from one run's records.
// A target is "met" when value ≤ threshold, "not met" otherwise, and "not
// measured" when the run has no record it needs (e.g. 100k services in the
// quick profile).
import type { BenchRecord } from '../types.js';
import { formatBytes, formatCount, formatNs, formatQuantity, formatRatio, formatSeconds } from './format.js';
import { simulatedNsPerRule } from './kernel.js';
import { nsOf, pick, select, servicesOf } from './records.js';
import type { TargetResult } from './results.js';

/** What an evaluation found: a value, or why there is none. */
export type Evaluation = { readonly value: number; readonly detail: string } | { readonly value: null; readonly detail: string };

/** One target. */
export interface Target {
  readonly id: string;
  readonly description: string;
  /** value ≤ threshold is "met". */
  readonly threshold: number;
  readonly unit: 'ns' | 'ns/rule' | 's' | 'ratio' | 'bytes';
  /** How `value` is derived, in words (for the docs). */
  readonly evaluation: string;
  evaluate(records: readonly BenchRecord[]): Evaluation;
}

const notMeasured = (detail: string): Evaluation => ({ value: null, detail });

/** The largest ns/op over every N of a metric's N-sweep, and where it occurred. */
function worstOverN(records: readonly BenchRecord[], mode: 'ipvs' | 'iptables', metric: string): Evaluation {
  const ns = servicesOf(records, { mode, metric, unit: 'ns/op' });
  let worst: { n: number; v: number } | undefined;
  for (const n of ns) {
    const v = nsOf(records, { mode, metric, services: n });
    if (v !== undefined && (worst === undefined || v > worst.v)) worst = { n, v };
  }
  if (worst === undefined) return notMeasured(`no ${mode} ${metric} timing in this run`);
  const range = ns.length > 1 ? `N = ${formatCount(ns[0]!)}…${formatCount(ns[ns.length - 1]!)}` : `N = ${formatCount(ns[0]!)}`;
  return { value: worst.v, detail: `worst over ${range}: ${formatNs(worst.v)} at N = ${formatCount(worst.n)}` };
}

/** ns(hi)/ns(lo) of a metric's N-sweep; not measured unless both N were run (the detail then gives the partial range). */
function flatness(records: readonly BenchRecord[], mode: 'ipvs' | 'iptables', metric: string, lo: number, hi: number): Evaluation {
  const a = nsOf(records, { mode, metric, services: lo });
  const b = nsOf(records, { mode, metric, services: hi });
  if (a !== undefined && b !== undefined) {
    return { value: b / a, detail: `${formatNs(b)} at N = ${formatCount(hi)} / ${formatNs(a)} at N = ${formatCount(lo)}` };
  }
  const ns = servicesOf(records, { mode, metric, unit: 'ns/op' });
  if (ns.length >= 2) {
    const n0 = ns[0]!;
    const n1 = ns[ns.length - 1]!;
    const v0 = nsOf(records, { mode, metric, services: n0 })!;
    const v1 = nsOf(records, { mode, metric, services: n1 })!;
    return notMeasured(`N = ${formatCount(hi)} not in this run; over N = ${formatCount(n0)}…${formatCount(n1)} the ratio is ${formatRatio(v1 / v0)}`);
  }
  return notMeasured(`needs ${mode} ${metric} at N = ${formatCount(lo)} and ${formatCount(hi)}`);
}

/** A sync timing at exactly `services`, in seconds. */
function syncAt(records: readonly BenchRecord[], mode: 'ipvs' | 'iptables', metric: string, services: number): Evaluation {
  const ns = nsOf(records, { mode, metric, services });
  if (ns === undefined) {
    const have = servicesOf(records, { mode, metric, unit: 'ns/op' });
    const also = have.length > 0 ? ` (measured at N = ${have.map(formatCount).join(', ')})` : '';
    return notMeasured(`no ${mode} ${metric} at N = ${formatCount(services)} in this run${also}`);
  }
  return { value: ns / 1e9, detail: `${formatSeconds(ns / 1e9)} at N = ${formatCount(services)}` };
}

/** 4 GB, read as 2^32 bytes. */
export const HEAP_LIMIT_TARGET_BYTES = 2 ** 32;

/** The targets of issue 5 §3, in the order. */
export const TARGETS: readonly Target[] = [
  {
    id: 'iptables-ns-per-rule',
    description: 'iptables traversal ≤ 1.5 ns per rule evaluated',
    threshold: 1.5,
    unit: 'ns/rule',
    evaluation:
      '(new-conn to the last service − new-conn to the first) / rules between them, at the largest N with both; rules from the `rules/packet` work counts when recorded, else N − 1',
    evaluate(records) {
      const ns = servicesOf(records, { mode: 'iptables', metric: 'new-conn', position: 'last', unit: 'ns/op' });
      for (let i = ns.length - 1; i >= 0; i--) {
        const r = simulatedNsPerRule(records, ns[i]!, 'rules/packet');
        if (r !== undefined) {
          const basis = r.basis === 'rules/packet' ? 'rules/packet work counts' : 'N − 1';
          return { value: r.nsPerRule, detail: `at N = ${formatCount(ns[i]!)}: ${r.nsPerRule.toFixed(2)} ns over ${formatQuantity(r.rules)} rules (${basis})` };
        }
      }
      return notMeasured('needs iptables new-conn timings to the first and the last service at one N');
    },
  },
  {
    id: 'ipvs-new-conn',
    description: 'IPVS new connection ≤ 150 ns',
    threshold: 150,
    unit: 'ns',
    evaluation: 'worst median over every N measured',
    evaluate: (records) => worstOverN(records, 'ipvs', 'new-conn'),
  },
  {
    id: 'ipvs-established',
    description: 'IPVS established packet ≤ 60 ns',
    threshold: 60,
    unit: 'ns',
    evaluation: 'worst median over every N measured (the N-sweep, not the large-table task)',
    evaluate: (records) => worstOverN(records, 'ipvs', 'established'),
  },
  {
    id: 'ipvs-new-conn-flat',
    description: 'IPVS new connection flat from 100 to 100k services (ratio ≤ 1.5)',
    threshold: 1.5,
    unit: 'ratio',
    evaluation: 'ns(N = 100k) / ns(N = 100)',
    evaluate: (records) => flatness(records, 'ipvs', 'new-conn', 100, 100_000),
  },
  {
    id: 'ipvs-established-flat',
    description: 'IPVS established packet flat from 100 to 100k services (ratio ≤ 1.5)',
    threshold: 1.5,
    unit: 'ratio',
    evaluation: 'ns(N = 100k) / ns(N = 100)',
    evaluate: (records) => flatness(records, 'ipvs', 'established', 100, 100_000),
  },
  {
    id: 'ipvs-established-1m-conns',
    description: 'IPVS established packet flat with 1M connections in the table (ratio ≤ 1.5)',
    threshold: 1.5,
    unit: 'ratio',
    evaluation: 'ns with ≥ 1M live connections / ns of the same metric with the smallest table recorded',
    evaluate(records) {
      const all = select(records, { mode: 'ipvs', metric: 'established', unit: 'ns/op' });
      const big = all.filter((r) => (r.connections ?? 0) >= 1_000_000).sort((a, b) => (b.connections ?? 0) - (a.connections ?? 0))[0];
      const small = pick(records, { mode: 'ipvs', metric: 'established', unit: 'ns/op' });
      if (big === undefined || small === undefined || small === big) {
        const largest = all.filter((r) => r.connections !== undefined).sort((a, b) => (b.connections ?? 0) - (a.connections ?? 0))[0];
        const seen = largest === undefined ? '' : ` (largest table in this run: ${formatCount(largest.connections ?? 0)} connections, ${formatNs(largest.value)})`;
        return notMeasured(`needs an IPVS established timing with ≥ 1M connections${seen}`);
      }
      const conns = (r: BenchRecord): string => (r.connections === undefined ? 'the N-sweep table' : `${formatCount(r.connections)} connections`);
      return { value: big.value / small.value, detail: `${formatNs(big.value)} with ${conns(big)} / ${formatNs(small.value)} with ${conns(small)}` };
    },
  },
  {
    id: 'full-restore-text-10k',
    description: 'Full restore from text, 10k services × 10 endpoints (≈420k lines) ≤ 0.4 s',
    threshold: 0.4,
    unit: 's',
    evaluation: 'median of iptables full-restore-text at N = 10k',
    evaluate: (records) => syncAt(records, 'iptables', 'full-restore-text', 10_000),
  },
  {
    id: 'partial-sync-10k',
    description: 'Partial sync of one changed service at 10k services ≤ 5 ms',
    threshold: 0.005,
    unit: 's',
    evaluation: 'median of iptables partial-sync at N = 10k',
    evaluate: (records) => syncAt(records, 'iptables', 'partial-sync', 10_000),
  },
  {
    id: 'ipvs-endpoint-change',
    description: 'IPVS one-endpoint change ≤ 10 µs',
    threshold: 10_000,
    unit: 'ns',
    evaluation: 'worst median of IPVS endpoint-change over every N measured',
    evaluate: (records) => worstOverN(records, 'ipvs', 'endpoint-change'),
  },
  {
    id: 'heap-100k',
    description: '100k services × 10 endpoints in both modes within 4 GB of heap',
    threshold: HEAP_LIMIT_TARGET_BYTES,
    unit: 'bytes',
    evaluation: 'larger of the two modes’ `heap` records (unit bytes) at N = 100k; 4 GB read as 2^32 bytes',
    evaluate(records) {
      const ipvs = pick(records, { mode: 'ipvs', metric: 'heap', unit: 'bytes', services: 100_000 });
      const ipt = pick(records, { mode: 'iptables', metric: 'heap', unit: 'bytes', services: 100_000 });
      if (ipvs === undefined || ipt === undefined) {
        const missing = [ipvs === undefined ? 'ipvs' : '', ipt === undefined ? 'iptables' : ''].filter((s) => s !== '').join(' and ');
        return notMeasured(`no heap record at N = 100k for ${missing} in this run`);
      }
      return { value: Math.max(ipvs.value, ipt.value), detail: `ipvs ${formatBytes(ipvs.value)}, iptables ${formatBytes(ipt.value)}` };
    },
  },
];

/** Evaluates `targets` (default: {@link TARGETS}) against one run's records. */
export function evaluateTargets(records: readonly BenchRecord[], targets: readonly Target[] = TARGETS): TargetResult[] {
  return targets.map((t) => {
    const e = t.evaluate(records);
    const status = e.value === null ? 'not measured' : e.value <= t.threshold ? 'met' : 'not met';
    return { id: t.id, description: t.description, threshold: t.threshold, unit: t.unit, status, value: e.value, detail: e.detail };
  });
}

/** A target value or threshold in its unit, for tables. */
export function formatTargetValue(value: number, unit: string): string {
  switch (unit) {
    case 'ns':
      return formatNs(value);
    case 'ns/rule':
      return `${value.toFixed(2)} ns/rule`;
    case 's':
      return formatSeconds(value);
    case 'ratio':
      return formatRatio(value);
    case 'bytes':
      return formatBytes(value);
    default:
      return `${value} ${unit}`;
  }
}
