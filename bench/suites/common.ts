// Shared by the suites: the simulated node (a synthetic cluster programmed
// by a KubeProxier in either mode), per-profile sizes, and a one-at-a-time
// stage so only one size's inputs are alive while the runner times them.
//
// Inputs are built lazily, in the first `beforeEach` of the first task that
// needs them (untimed: tinybench runs beforeEach outside the timed call and
// before warm-up too), and dropped when a task of another size asks for its
// own. The runner times tasks in registration order, so each size is built
// once; work counts are recorded while building (the runner collects a
// suite's records after timing its tasks).
import type { Ipvs } from '../../src/ipvs/ipvs.js';
import type { KubeProxier, KubeProxierOptions } from '../../src/kube/proxier.js';
import type { SyncReport } from '../../src/kube/sync.js';
import type { Netfilter } from '../../src/netfilter/engine.js';
import type { SimClock } from '../../src/sim/clock.js';
import type { SyntheticCluster, SyntheticClusterOptions } from '../../src/workload/cluster.js';
import { lbsim } from '../imports.js';
import type { BenchMode, Profile, RecordMeta, SuiteContext } from '../types.js';

/** Endpoints per Service in every cost-vs-N suite (kernel-costs.md's E). */
export const ENDPOINTS = 10;

/** Services per size step: the N of "cost vs N". */
export function sizes(profile: Profile, quick: readonly number[], full: readonly number[]): readonly number[] {
  return profile === 'full' ? full : quick;
}

/** `1000` → `1k`, `100000` → `100k` (task names). */
export function label(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

/** A synthetic cluster of `n` ClusterIP Services × ENDPOINTS, with build progress. */
export function buildCluster(ctx: SuiteContext, n: number, extra: Partial<SyntheticClusterOptions> = {}): SyntheticCluster {
  ctx.progress(`building ${label(n)} services × ${ENDPOINTS} endpoints`);
  return lbsim.syntheticCluster({ services: n, endpoints: ENDPOINTS, seed: 1, ...extra }, (done, total) => {
    ctx.progress(`building services ${label(done)}/${label(total)}`);
  });
}

/** A started kube-proxy on node 0 of a synthetic cluster, with its engines. */
export interface SimNode {
  readonly mode: BenchMode;
  readonly sc: SyntheticCluster;
  readonly clock: SimClock;
  readonly netfilter: Netfilter;
  readonly ipvs: Ipvs | null;
  readonly proxier: KubeProxier;
  /** The startup (full) sync. */
  readonly first: SyncReport;
}

/** Options of {@link startNode}. */
export interface NodeOptions {
  /** IPVS `conn_tab_bits`. @defaultValue 12 (the kernel's default; kube-proxy does not set it) */
  readonly connTabBits?: number;
  /** Conntrack buckets of the netfilter engine. @defaultValue 65536 */
  readonly conntrackBuckets?: number;
  /** Passed to the proxier (e.g. `restoreSize: null` when the bytes are not wanted). */
  readonly proxier?: Partial<Omit<KubeProxierOptions, 'cluster' | 'node' | 'config' | 'netfilter' | 'ipvs'>>;
  /**
   * Stop the proxier's timers after the first sync, so moving the clock (to
   * expire connections) never triggers a sync; `syncNow()` still works and
   * `apply…` only records changes. @defaultValue true
   */
  readonly stop?: boolean;
}

/** Builds the engines for node 0 of `sc`, runs kube-proxy's startup sync, and (by default) stops its timers. */
export function startNode(ctx: SuiteContext, sc: SyntheticCluster, mode: BenchMode, options: NodeOptions = {}): SimNode {
  const { Ipvs, KubeProxier, Netfilter, SimClock } = lbsim;
  const clock = new SimClock();
  const netfilter = new Netfilter({
    clock,
    seed: 11,
    host: sc.hostOptions(),
    conntrack: { buckets: options.conntrackBuckets ?? 65536, max: 0 },
  });
  const ipvs = mode === 'ipvs' ? new Ipvs({ clock, seed: 12, connTabBits: options.connTabBits ?? 12, sysctl: { runEstimation: false } }) : null;
  const proxier = new KubeProxier({
    cluster: sc.cluster,
    node: sc.node,
    config: sc.proxyConfig(mode),
    netfilter,
    ...(ipvs !== null ? { ipvs } : {}),
    ...options.proxier,
  });
  ctx.progress(`${mode}: kube-proxy full sync of ${label(sc.size)} services`);
  const first = proxier.start();
  if (!first.success) throw new Error(`bench: the ${mode} startup sync failed`, { cause: first.error });
  if (options.stop ?? true) proxier.stop();
  return { mode, sc, clock, netfilter, ipvs, proxier, first };
}

/** Forces a collection when node runs with --expose-gc (the runner arranges it). */
export function collect(): boolean {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return false;
  gc();
  gc();
  return true;
}

/**
 * Keeps one input alive at a time: `get(key)` returns the input for `key`,
 * building it (after dropping the previous one) when the key changes.
 */
export class Stage<T> {
  readonly #build: (key: string) => T;
  #key: string | null = null;
  #value: T | null = null;

  /** @param build - makes the input for a key */
  constructor(build: (key: string) => T) {
    this.#build = build;
  }

  /** The input for `key`. */
  get(key: string): T {
    if (this.#key !== key || this.#value === null) {
      this.#value = null;
      this.#key = null;
      collect();
      this.#value = this.#build(key);
      this.#key = key;
    }
    return this.#value;
  }

  /** Drops the current input. */
  release(): void {
    this.#value = null;
    this.#key = null;
  }
}

/** Work counts as {@link WorkCounts} has them (a decision's, or an average). */
export interface Work {
  readonly rulesEvaluated: number;
  readonly chainsEntered: number;
  readonly hashProbes: number;
  readonly chainSteps: number;
  readonly destsExamined: number;
}

/**
 * The mean work per packet of `count` packets: `send(i)` classifies packet
 * `i` and returns its decision's work. Averages, because a packet's work
 * depends on seeded random draws (`statistic --mode random` in KUBE-SVC,
 * which hash chain a connection lands in); the mean over a fixed, seeded
 * packet sequence is still exactly reproducible.
 */
export function averageWork(count: number, send: (i: number) => Work): Work {
  let r = 0;
  let c = 0;
  let h = 0;
  let s = 0;
  let d = 0;
  for (let i = 0; i < count; i++) {
    const w = send(i);
    r += w.rulesEvaluated;
    c += w.chainsEntered;
    h += w.hashProbes;
    s += w.chainSteps;
    d += w.destsExamined;
  }
  const round = (x: number): number => Math.round((x / count) * 100) / 100;
  return { rulesEvaluated: round(r), chainsEntered: round(c), hashProbes: round(h), chainSteps: round(s), destsExamined: round(d) };
}

/** Records the per-packet work counts named in `which`. */
export function recordWork(ctx: SuiteContext, task: string, work: Work, meta: RecordMeta, which: readonly ('rules' | 'chains' | 'probes' | 'steps' | 'dests')[]): void {
  for (const w of which) {
    if (w === 'rules') ctx.record(task, 'rules/packet', work.rulesEvaluated, meta);
    else if (w === 'chains') ctx.record(task, 'chains/packet', work.chainsEntered, meta);
    else if (w === 'probes') ctx.record(task, 'hash-probes/packet', work.hashProbes, meta);
    else if (w === 'steps') ctx.record(task, 'chain-steps/packet', work.chainSteps, meta);
    else ctx.record(task, 'dests-examined/packet', work.destsExamined, meta);
  }
}
