// "Beside the kernel": the simulator's numbers set against
// ../shared/reference/kernel-costs.md (bench/kernel-costs.ts) and against
// lbsim's own model of kernel time (src/kube/cost-model.ts). Every ratio is
// simulated / kernel: below 1 the simulator is faster than the kernel was.
import { KernelCostModel } from '../../src/kube/cost-model.js';
import type { IptablesBackendName } from '../../src/kube/cost-model.js';
import { kernelPacketAt, kernelSyncAt } from '../kernel-costs.js';
import type { KernelBackend } from '../kernel-costs.js';
import type { BenchRecord } from '../types.js';
import { nsOf, servicesOfAny, workOf } from './records.js';

/** `a / b` when both exist and b ≠ 0, else undefined (a "–" cell). */
export function ratio(a: number | undefined, b: number | null | undefined): number | undefined {
  if (a === undefined || b === undefined || b === null || b === 0) return undefined;
  return a / b;
}

/** Simulated per-rule cost of walking KUBE-SERVICES at one N. */
export interface SimNsPerRule {
  readonly nsPerRule: number;
  /** Rules between the first and the last service's match: N − 1, or the difference of `rules/packet` work counts. */
  readonly rules: number;
  /** Where `rules` came from. */
  readonly basis: 'services' | 'rules/packet';
}

/**
 * Simulated ns per rule at `services`: (new-conn last − new-conn first) /
 * (N − 1), as kernel-costs.md computes its column. With `basis:
 * 'rules/packet'` the divisor is the difference of the two tasks'
 * `rules/packet` work counts instead (rules actually evaluated), when both
 * exist; otherwise it falls back to N − 1.
 */
export function simulatedNsPerRule(records: readonly BenchRecord[], services: number, basis: 'services' | 'rules/packet' = 'services'): SimNsPerRule | undefined {
  const q = { mode: 'iptables', metric: 'new-conn', services } as const;
  const first = nsOf(records, { ...q, position: 'first' });
  const last = nsOf(records, { ...q, position: 'last' });
  if (first === undefined || last === undefined || services < 2) return undefined;
  if (basis === 'rules/packet') {
    const rf = workOf(records, { ...q, position: 'first' }, 'rules/packet');
    const rl = workOf(records, { ...q, position: 'last' }, 'rules/packet');
    if (rf !== undefined && rl !== undefined && rl > rf) return { nsPerRule: (last - first) / (rl - rf), rules: rl - rf, basis: 'rules/packet' };
  }
  return { nsPerRule: (last - first) / (services - 1), rules: services - 1, basis: 'services' };
}

/** One row of the ns-per-rule comparison. */
export interface NsPerRuleRow {
  readonly services: number;
  readonly sim: number | undefined;
  readonly kernel: Readonly<Record<KernelBackend, number | undefined>>;
  /** sim / kernel per back end. */
  readonly ratio: Readonly<Record<KernelBackend, number | undefined>>;
}

/** Simulated vs kernel ns per KUBE-SERVICES rule, at every N the simulation measured first and last. */
export function nsPerRuleRows(records: readonly BenchRecord[]): NsPerRuleRow[] {
  const ns = servicesOfAny(records, [{ mode: 'iptables', metric: 'new-conn', position: 'last' }]);
  return ns.map((services) => {
    const sim = simulatedNsPerRule(records, services)?.nsPerRule;
    const legacy = kernelPacketAt('legacy', services)?.nsPerRule ?? undefined;
    const nft = kernelPacketAt('nft', services)?.nsPerRule ?? undefined;
    return { services, sim, kernel: { legacy, nft }, ratio: { legacy: ratio(sim, legacy), nft: ratio(sim, nft) } };
  });
}

/** Sync kinds compared with a real `iptables-restore`. */
export type SyncKind = 'full' | 'partial' | 'addOne';

/** The simulated metric each kernel sync column is set against. */
export const SYNC_METRIC: Readonly<Record<SyncKind, string>> = {
  full: 'full-restore-text',
  partial: 'partial-sync',
  addOne: 'add-service',
};

/** Unit of the suites' modeled kernel time of a sync (KernelCostModel), seconds. */
export const MODELED_KERNEL_UNIT = 'modeled-kernel-s';

/** One sync kind at one N: simulated seconds, the kernel's, and the ratios. */
export interface RestoreCell {
  readonly sim: number | undefined;
  /** The suite's `modeled-kernel-s` record for the same task (lbsim's KernelCostModel), seconds. */
  readonly modeled: number | undefined;
  readonly kernel: Readonly<Record<KernelBackend, number | undefined>>;
  readonly ratio: Readonly<Record<KernelBackend, number | undefined>>;
}

/** One row of the restore comparison. */
export interface RestoreRow {
  readonly services: number;
  readonly cells: Readonly<Record<SyncKind, RestoreCell>>;
}

/**
 * Simulated iptables syncs (seconds) beside the real `iptables-restore`
 * at the same N: full restore from text vs "full", partial sync vs
 * "partial", one added service vs "+1 svc".
 */
export function restoreRows(records: readonly BenchRecord[]): RestoreRow[] {
  const kinds = Object.keys(SYNC_METRIC) as SyncKind[];
  const ns = servicesOfAny(
    records,
    kinds.map((k) => ({ mode: 'iptables', metric: SYNC_METRIC[k] }) as const),
  );
  return ns.map((services) => {
    const cell = (k: SyncKind): RestoreCell => {
      const q = { mode: 'iptables', metric: SYNC_METRIC[k], services } as const;
      const ns = nsOf(records, q);
      const sim = ns === undefined ? undefined : ns / 1e9;
      const modeled = workOf(records, q, MODELED_KERNEL_UNIT);
      const legacy = kernelSyncAt('legacy', services)?.[k];
      const nft = kernelSyncAt('nft', services)?.[k];
      return { sim, modeled, kernel: { legacy, nft }, ratio: { legacy: ratio(sim, legacy), nft: ratio(sim, nft) } };
    };
    return { services, cells: { full: cell('full'), partial: cell('partial'), addOne: cell('addOne') } };
  });
}

/** Largest N of kernel-costs.md's packet table: the model extrapolates beyond it. */
export const MODEL_MEASURED_MAX_SERVICES = 10_000;

/** One row of the first-packet comparison: simulated ns/packet and lbsim's kernel cost model. */
export interface FirstPacketRow {
  readonly services: number;
  readonly simFirst: number | undefined;
  readonly simLast: number | undefined;
  readonly simEstablished: number | undefined;
  readonly model: Readonly<Record<KernelBackend, { readonly first: number; readonly last: number; readonly established: number }>>;
  /** simLast / model last, per back end. */
  readonly ratioLast: Readonly<Record<KernelBackend, number | undefined>>;
  /** True when N is beyond the measured table (the model extrapolates). */
  readonly extrapolated: boolean;
}

/**
 * iptables new-connection cost, simulated (first and last service) beside
 * the kernel's modeled cost from {@link KernelCostModel} (interpolated in
 * kernel-costs.md's packet table; extrapolated past 10k services).
 */
export function firstPacketRows(records: readonly BenchRecord[]): FirstPacketRow[] {
  const models: Record<KernelBackend, KernelCostModel> = {
    legacy: new KernelCostModel({ backend: 'legacy' satisfies IptablesBackendName }),
    nft: new KernelCostModel({ backend: 'nft' satisfies IptablesBackendName }),
  };
  const ns = servicesOfAny(records, [
    { mode: 'iptables', metric: 'new-conn' },
    { mode: 'iptables', metric: 'established' },
  ]);
  return ns.map((services) => {
    const q = { mode: 'iptables', services } as const;
    const simFirst = nsOf(records, { ...q, metric: 'new-conn', position: 'first' });
    const simLast = nsOf(records, { ...q, metric: 'new-conn', position: 'last' });
    const simEstablished = nsOf(records, { ...q, metric: 'established' });
    const m = (b: KernelBackend): { first: number; last: number; established: number } => ({
      first: models[b].newConnectionNs(1, services),
      last: models[b].newConnectionNs(services, services),
      established: models[b].establishedNs(services),
    });
    const model = { legacy: m('legacy'), nft: m('nft') };
    return {
      services,
      simFirst,
      simLast,
      simEstablished,
      model,
      ratioLast: { legacy: ratio(simLast, model.legacy.last), nft: ratio(simLast, model.nft.last) },
      extrapolated: services > MODEL_MEASURED_MAX_SERVICES,
    };
  });
}
