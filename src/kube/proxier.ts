import { InvalidArgumentError } from '../errors.js';
import type { Ipvs } from '../ipvs/ipvs.js';
import type { Netfilter } from '../netfilter/engine.js';
import type { SimClock, TimerOwner } from '../sim/clock.js';
import type { Cluster } from './cluster.js';
import type { KernelCostModel } from './cost-model.js';
import { IpvsModeSyncer, RS_CHECK_DELETE_INTERVAL_MS } from './ipvs-mode.js';
import type { IpvsModeSyncerOptions } from './ipvs-mode.js';
import { ProxierMetrics } from './metrics.js';
import { namespacedName } from './objects.js';
import type { EndpointSlice, KubeProxyConfiguration, Node, Service } from './objects.js';
import { parseKubeObjects } from './parse.js';
import type { KubeObjects } from './parse.js';
import { BoundedFrequencyRunner, FULL_SYNC_PERIOD_MS, IptablesSyncer } from './sync.js';
import type { IptablesSyncerOptions, RestoreApplier, RestoreSizer, SyncReport, SyncTrigger } from './sync.js';

/**
 * A simulated kube-proxy for one node: the cluster's Services and
 * EndpointSlices in, a netfilter engine (iptables mode) or an IPVS engine
 * plus its netfilter engine (IPVS mode) programmed, on the simulated clock,
 * with kube-proxy's sync scheduling (`BoundedFrequencyRunner`), its
 * metrics, and a report per sync.
 *
 * Feed changes through the `apply…`/`delete…` methods (they record what
 * kube-proxy's change trackers record and queue a sync, as the informer
 * handlers do), move time with {@link KubeProxier.advance} so periodic,
 * rate-limited and retry syncs and IPVS graceful-termination checks happen
 * at their exact simulated times, and read {@link KubeProxier.reports}.
 *
 * @module
 */

/** Options of {@link KubeProxier}. */
export interface KubeProxierOptions {
  /** The cluster state (its change tracking is consumed by the syncs). */
  readonly cluster: Cluster;
  /** This node: its name decides which endpoints are local, its first InternalIP is the node IP. */
  readonly node: Node;
  /** kube-proxy's configuration (mode, periods, masquerade bit, detect-local, IPVS scheduler, ...). */
  readonly config: KubeProxyConfiguration;
  /** The node's netfilter engine (iptables rules, ipsets, host addresses). Its clock is the proxier's. */
  readonly netfilter: Netfilter;
  /** IPVS mode: the node's IPVS engine (must share the netfilter engine's clock). */
  readonly ipvs?: Ipvs;
  /** Overrides `config.mode` (only `iptables` and `ipvs` are simulated). */
  readonly mode?: 'iptables' | 'ipvs';
  /** Modeled kernel cost. @defaultValue the kernel-costs.md calibration, legacy iptables */
  readonly costModel?: KernelCostModel;
  /** Sizes restore inputs; null: do not. @defaultValue kube-proxy's own restore text */
  readonly restoreSize?: RestoreSizer | null;
  /** Applies restores (inject failures here). @defaultValue `ruleset.restore` */
  readonly restore?: RestoreApplier;
  /** iptables-mode options (rule generation, partial restores, periodic full syncs). */
  readonly iptables?: Omit<IptablesSyncerOptions, 'costModel' | 'restoreSize' | 'restore'>;
  /** IPVS-mode options. */
  readonly ipvsMode?: Omit<IpvsModeSyncerOptions, 'costModel' | 'restoreSize' | 'restore'>;
  /** Sync reports kept in {@link KubeProxier.reports}. @defaultValue 1000 */
  readonly reportLimit?: number;
  /** Called after every sync. */
  readonly onSync?: (report: SyncReport) => void;
}

/** What one graceful-termination check of IPVS mode did. */
export interface GracefulCheckRecord {
  /** Simulated time in ms. */
  readonly time: number;
  /** Real servers still waiting when the check started. */
  readonly checked: number;
  /** Real servers deleted, by their `uniqueRealServerName` (`vs/rs`). */
  readonly deleted: readonly string[];
}

const WHERE = 'lbsim/kube.KubeProxier';

/** A simulated kube-proxy (see the module description). */
export class KubeProxier implements TimerOwner {
  /** `iptables` or `ipvs`. */
  readonly mode: 'iptables' | 'ipvs';
  /** The cluster. */
  readonly cluster: Cluster;
  /** The simulated clock (the netfilter engine's). */
  readonly clock: SimClock;
  /** kube-proxy's metrics in a private registry. */
  readonly metrics: ProxierMetrics;
  /** The sync scheduler. */
  readonly runner: BoundedFrequencyRunner;
  /** iptables mode: the sync engine. */
  readonly iptables: IptablesSyncer | null;
  /** IPVS mode: the sync engine. */
  readonly ipvsMode: IpvsModeSyncer | null;
  /** The most recent sync reports, oldest first. */
  readonly reports: SyncReport[] = [];
  /** IPVS mode: graceful-termination checks that deleted something or had work, oldest first. */
  readonly gracefulChecks: GracefulCheckRecord[] = [];
  #node: Node;
  readonly #config: KubeProxyConfiguration;
  readonly #reportLimit: number;
  readonly #onSync: ((r: SyncReport) => void) | null;
  #started = false;
  #stopped = false;
  #nextGracefulCheck: number | null = null;
  #nextCanaryCheck: number | null = null;
  #lastReport: SyncReport | null = null;
  readonly #pendingServices = new Set<string>();
  readonly #pendingEndpoints = new Set<string>();
  #triggerTimes = new Map<string, number[]>();
  #batchDepth = 0;
  #batchRequested = false;

  /**
   * @param options - see {@link KubeProxierOptions}
   * @throws {InvalidArgumentError} for nftables mode, IPVS mode without an IPVS engine, or engines on different clocks
   */
  constructor(options: KubeProxierOptions) {
    const mode = options.mode ?? options.config.mode;
    if (mode !== 'iptables' && mode !== 'ipvs') {
      throw new InvalidArgumentError(`${WHERE}.constructor: proxy mode ${mode} is not simulated (iptables and ipvs are)`);
    }
    this.mode = mode;
    this.cluster = options.cluster;
    this.#node = options.node;
    this.#config = options.config;
    this.clock = options.netfilter.clock;
    this.#reportLimit = options.reportLimit ?? 1000;
    this.#onSync = options.onSync ?? null;
    const shared = {
      ...(options.costModel !== undefined ? { costModel: options.costModel } : {}),
      ...(options.restoreSize !== undefined ? { restoreSize: options.restoreSize } : {}),
      ...(options.restore !== undefined ? { restore: options.restore } : {}),
    };
    if (mode === 'ipvs') {
      const ipvs = options.ipvs;
      if (ipvs === undefined) throw new InvalidArgumentError(`${WHERE}.constructor: IPVS mode needs options.ipvs`);
      if (ipvs.clock !== this.clock) {
        throw new InvalidArgumentError(`${WHERE}.constructor: the IPVS and netfilter engines must share one SimClock`);
      }
      this.ipvsMode = new IpvsModeSyncer(options.cluster, options.node, options.config, options.netfilter, ipvs, {
        ...options.ipvsMode,
        ...shared,
      });
      this.iptables = null;
      this.metrics = new ProxierMetrics('ipvs', ipvs);
      const c = options.config.ipvs;
      // NewProxier: BoundedFrequencyRunner(minSyncPeriod, syncPeriod, burst 2)
      this.runner = new BoundedFrequencyRunner(this.clock, (r) => {
        this.#runnerSync(r);
      }, c.minSyncPeriodSeconds * 1000, c.syncPeriodSeconds * 1000, 2);
    } else {
      this.iptables = new IptablesSyncer(options.cluster, options.node, options.config, options.netfilter, { ...options.iptables, ...shared });
      this.ipvsMode = null;
      this.metrics = new ProxierMetrics('iptables');
      // NewProxier: BoundedFrequencyRunner(minSyncPeriod, time.Hour, burst 2)
      this.runner = new BoundedFrequencyRunner(
        this.clock,
        (r) => {
        this.#runnerSync(r);
      },
        options.config.iptables.minSyncPeriodSeconds * 1000,
        FULL_SYNC_PERIOD_MS,
        2,
      );
    }
    this.clock.attach(this);
  }

  /** Whether {@link KubeProxier.start} ran. */
  get started(): boolean {
    return this.#started;
  }

  /** The last sync report, or null. */
  get lastReport(): SyncReport | null {
    return this.#lastReport;
  }

  /** IPVS mode: when the next graceful-termination check runs (simulated ms). */
  get nextGracefulCheck(): number | null {
    return this.#nextGracefulCheck;
  }

  /**
   * Services and EndpointSlices are synced (`OnServiceSynced` +
   * `OnEndpointSlicesSynced`): the first sync runs now (a full one), and
   * the runner's loop starts. IPVS mode first puts leftover real servers
   * through graceful deletion and starts the one-minute check.
   *
   * @returns the report of the first sync
   * @throws {InvalidArgumentError} when called twice
   */
  start(): SyncReport {
    if (this.#started) throw new InvalidArgumentError(`${WHERE}.start: already started`);
    const now = this.clock.now;
    this.metrics.lastQueuedTimestamp.set(now / 1000);
    if (this.ipvsMode !== null) {
      this.ipvsMode.startup(now);
      this.#gracefulCheck(now);
      this.#nextGracefulCheck = now + RS_CHECK_DELETE_INTERVAL_MS;
    }
    if (this.iptables !== null) {
      // NewProxier: go ipt.Monitor(KUBE-PROXY-CANARY, [mangle nat filter], forceSyncProxyRules, syncPeriod)
      this.iptables.ensureCanaries();
      this.#nextCanaryCheck = now + this.#config.iptables.syncPeriodSeconds * 1000;
    }
    this.runner.loop();
    this.#started = true;
    return this.#syncProxyRules('startup');
  }

  /** Stops the timers (the proxier no longer reacts to time). */
  stop(): void {
    this.#stopped = true;
    this.runner.stop();
    this.#nextGracefulCheck = null;
    this.#nextCanaryCheck = null;
    this.clock.detach(this);
  }

  /** `Sync()`: queue a sync through the rate-limited runner. */
  requestSync(): void {
    this.metrics.lastQueuedTimestamp.set(this.clock.now / 1000);
    if (this.#batchDepth > 0) {
      this.#batchRequested = true;
      return;
    }
    if (this.#started && !this.#stopped) this.runner.run();
  }

  /**
   * Applies several changes as one informer burst: sync requests made by
   * `fn` are held and queued once when it returns (kube-proxy's event
   * handlers usually deliver a burst faster than a sync runs).
   */
  batch<T>(fn: () => T): T {
    this.#batchDepth++;
    try {
      return fn();
    } finally {
      this.#batchDepth--;
      if (this.#batchDepth === 0 && this.#batchRequested) {
        this.#batchRequested = false;
        this.requestSync();
      }
    }
  }

  /**
   * Runs `syncProxyRules` now, bypassing the runner (as kube-proxy's own
   * startup and forced syncs do).
   *
   * @throws {InvalidArgumentError} before {@link KubeProxier.start}
   */
  syncNow(): SyncReport {
    if (!this.#started) throw new InvalidArgumentError(`${WHERE}.syncNow: not started (kube-proxy does not sync before the initial lists)`);
    return this.#syncProxyRules('manual');
  }

  /** `OnServiceAdd` / `OnServiceUpdate`. */
  applyService(svc: Service): void {
    this.cluster.applyService(svc);
    this.#serviceChanged(namespacedName(svc.namespace, svc.name));
  }

  /** `OnServiceDelete`. */
  deleteService(namespace: string, name: string): void {
    if (this.cluster.deleteService(namespace, name)) this.#serviceChanged(namespacedName(namespace, name));
  }

  /**
   * `OnEndpointSliceAdd` / `OnEndpointSliceUpdate`.
   *
   * @param triggerTime - the slice's `endpoints.kubernetes.io/last-change-trigger-time`
   *   in simulated ms (the start of `network_programming_duration_seconds`); defaults to now
   */
  applyEndpointSlice(slice: EndpointSlice, triggerTime: number = this.clock.now): void {
    this.cluster.applyEndpointSlice(slice);
    const svc = namespacedName(slice.namespace, slice.serviceName);
    let list = this.#triggerTimes.get(svc);
    if (list === undefined) {
      list = [];
      this.#triggerTimes.set(svc, list);
    }
    list.push(triggerTime);
    this.#endpointsChanged(svc);
  }

  /** `OnEndpointSliceDelete`. */
  deleteEndpointSlice(namespace: string, name: string): void {
    const old = this.cluster.endpointSlices.get(namespacedName(namespace, name));
    if (old === undefined) return;
    this.cluster.deleteEndpointSlice(namespace, name);
    this.#endpointsChanged(namespacedName(old.namespace, old.serviceName));
  }

  /**
   * `OnNodeAdd` / `OnNodeUpdate` for this node: a label change forces a full
   * sync in iptables mode and queues a sync. Other nodes are ignored.
   */
  applyNode(node: Node): void {
    if (node.name !== this.#node.name) return;
    const same = node.labels.size === this.#node.labels.size && [...node.labels].every(([k, v]) => this.#node.labels.get(k) === v);
    this.cluster.applyNode(node);
    this.#node = node;
    this.iptables?.setNode(node);
    this.ipvsMode?.setNode(node);
    if (same) return;
    this.iptables?.forceFullSync();
    this.requestSync();
  }

  /**
   * Parses kubectl-style YAML/JSON and applies every Service, EndpointSlice
   * and (this) Node through the methods above, as one {@link KubeProxier.batch}.
   *
   * @throws {ParseError} / {KubeValidationError} as `parseKubeObjects`; nothing is applied then
   */
  applyText(text: string, triggerTime: number = this.clock.now): KubeObjects {
    const objects = parseKubeObjects(text);
    this.batch(() => {
      for (const s of objects.services) this.applyService(s);
      for (const s of objects.endpointSlices) this.applyEndpointSlice(s, triggerTime);
      for (const n of objects.nodes) this.applyNode(n);
    });
    return objects;
  }

  /** When the next timer (runner, graceful check or canary check) fires, or null. */
  nextEventAt(): number | null {
    let next: number | null = null;
    for (const t of [this.runner.nextRunAt, this.#nextGracefulCheck, this.#nextCanaryCheck]) {
      if (t !== null && (next === null || t < next)) next = t;
    }
    return next;
  }

  /**
   * Moves the clock to `t`, stopping at every timer of this proxier on the
   * way so each sync and check runs at its exact simulated time (other
   * engines on the clock run their timers at each stop).
   *
   * @throws {InvalidArgumentError} when `t` is before now
   */
  advanceTo(t: number): void {
    if (t < this.clock.now) throw new InvalidArgumentError(`${WHERE}.advanceTo: time cannot go back (now ${this.clock.now}, got ${t})`);
    for (let guard = 0; guard < 10_000_000; guard++) {
      const next = this.nextEventAt();
      if (next === null || next > t) break;
      if (next > this.clock.now) this.clock.advanceTo(next);
      else {
        // due now (re-armed during a run at this instant)
        this.runner.runTimers(this.clock.now);
        this.runTimers(this.clock.now);
        const again = this.nextEventAt();
        if (again !== null && again <= this.clock.now) break;
      }
    }
    this.clock.advanceTo(t);
  }

  /** {@link KubeProxier.advanceTo} `now + ms`. */
  advance(ms: number): void {
    this.advanceTo(this.clock.now + ms);
  }

  /** @internal Graceful-termination and canary checks (called by the clock). */
  runTimers(now: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const at = this.#nextGracefulCheck;
      if (at === null || at > now) break;
      this.#gracefulCheck(now);
      this.#nextGracefulCheck = at + RS_CHECK_DELETE_INTERVAL_MS;
    }
    for (let guard = 0; guard < 100_000; guard++) {
      const at = this.#nextCanaryCheck;
      if (at === null || at > now || this.iptables === null) break;
      this.#nextCanaryCheck = at + this.#config.iptables.syncPeriodSeconds * 1000;
      if (!this.iptables.canaryPresent()) {
        // the tables were flushed: forceSyncProxyRules, then the monitor puts its canaries back
        this.iptables.forceFullSync();
        this.#syncProxyRules('canary');
        this.iptables.ensureCanaries();
      }
    }
  }

  /** The Prometheus text of this proxier's metrics. */
  metricsText(): Promise<string> {
    return this.metrics.metrics();
  }

  #gracefulCheck(now: number): void {
    const s = this.ipvsMode;
    if (s === null) return;
    const checked = s.terminating.length;
    if (checked === 0) return;
    const r = s.gracefulCheck();
    this.gracefulChecks.push({ time: now, checked, deleted: r.deleted });
    if (this.gracefulChecks.length > this.#reportLimit) this.gracefulChecks.shift();
  }

  #serviceChanged(key: string): void {
    this.metrics.serviceChangesTotal.inc();
    this.#pendingServices.add(key);
    this.metrics.serviceChangesPending.set(this.#pendingServices.size);
    this.requestSync();
  }

  #endpointsChanged(key: string): void {
    this.metrics.endpointChangesTotal.inc();
    this.#pendingEndpoints.add(key);
    this.metrics.endpointChangesPending.set(this.#pendingEndpoints.size);
    this.requestSync();
  }

  #runnerSync(reason: 'run' | 'timer'): void {
    this.#syncProxyRules(reason === 'run' ? 'requested' : 'timer');
  }

  #syncProxyRules(trigger: SyncTrigger): SyncReport {
    const now = this.clock.now;
    const triggers = this.#triggerTimes;
    this.#triggerTimes = new Map();
    this.#pendingServices.clear();
    this.#pendingEndpoints.clear();
    this.metrics.serviceChangesPending.set(0);
    this.metrics.endpointChangesPending.set(0);
    const report = this.iptables !== null ? this.iptables.sync(now, trigger) : this.ipvsMode!.sync(now, trigger);
    const m = this.metrics;
    const seconds = report.kernelCost.seconds;
    m.syncProxyRulesDuration.observe(seconds);
    if (this.mode === 'iptables') {
      if (report.kind === 'partial') m.syncPartialProxyRulesDuration!.observe(seconds);
      else m.syncFullProxyRulesDuration!.observe(seconds);
      m.iptablesRulesTotal!.set({ table: 'filter' }, report.ruleCounts.filter);
      m.iptablesRulesTotal!.set({ table: 'nat' }, report.ruleCounts.nat);
      m.iptablesRulesLast!.set({ table: 'filter' }, report.rulesWritten.filter);
      m.iptablesRulesLast!.set({ table: 'nat' }, report.rulesWritten.nat);
    }
    if (report.restoreFailed) m.iptablesRestoreFailures.inc();
    if (!report.success && this.mode === 'iptables') {
      if (report.kind === 'partial') m.iptablesPartialRestoreFailures!.inc();
      // the iptables proxier retries after syncPeriod (RetryAfter) and forces a full sync
      this.runner.retryAfter(this.#config.iptables.syncPeriodSeconds * 1000);
    }
    if (report.success) {
      const changed = (this.iptables ?? this.ipvsMode)!.lastChanges;
      for (const [svc, times] of triggers) {
        if (changed !== null && !changed.endpointUpdates.has(svc)) continue;
        for (const t of times) m.networkProgrammingDuration.observe((now - t) / 1000 + seconds);
      }
      m.noLocalEndpoints.set({ traffic_policy: 'internal' }, report.noLocalEndpoints.internal);
      m.noLocalEndpoints.set({ traffic_policy: 'external' }, report.noLocalEndpoints.external);
      m.lastTimestamp.set(now / 1000);
    }
    this.reports.push(report);
    if (this.reports.length > this.#reportLimit) this.reports.shift();
    this.#lastReport = report;
    this.#onSync?.(report);
    return report;
  }
}
