import { InvalidArgumentError } from '../errors.js';
import type { Netfilter } from '../netfilter/engine.js';
import type { RestoreDocument } from '../netfilter/ast.js';
import type { RestoreOptions, Ruleset } from '../netfilter/ruleset.js';
import type { SimClock, TimerOwner } from '../sim/clock.js';
import { isServiceChainName } from './chain-names.js';
import type { Cluster, ClusterChanges } from './cluster.js';
import { KernelCostModel } from './cost-model.js';
import type { KernelCost } from './cost-model.js';
import { assembleIptablesRules, IptablesRulesCache, KubeChain, planIptablesRules } from './iptables-rules.js';
import type { IptablesRules, IptablesRulesOptions, JumpRule } from './iptables-rules.js';
import { restoreBlocks, RestoreLayout } from './restore-layout.js';
import type { KubeProxyConfiguration, Node } from './objects.js';
import { kubeProxyRestoreBytes } from './restore-text.js';

/**
 * How kube-proxy schedules and performs syncs, on the simulated clock:
 *
 * - {@link BoundedFrequencyRunner}: kubernetes/kubernetes
 *   `pkg/util/async/bounded_frequency_runner.go` — runs at most once per
 *   minInterval with a token bucket of `burst` runs, and at least once per
 *   maxInterval.
 * - {@link IptablesSyncer}: `syncProxyRules` of `pkg/proxy/iptables/proxier.go`
 *   (~v1.31+): full or partial (`MinimizeIPTablesRestore`) restores applied
 *   to a netfilter {@link Ruleset} with `--noflush --counters`, stale-chain
 *   deletion, and the rule-count bookkeeping of its metrics.
 *
 * Every sync returns a {@link SyncReport}.
 *
 * @module
 */

/** `proxyutil.FullSyncPeriod`: a partial-sync proxier still does a full sync this often (1 hour). */
export const FULL_SYNC_PERIOD_MS = 3_600_000;

/** Why a sync ran: start, a queued request, the runner's timer, a direct call, or the canary monitor (tables flushed). */
export type SyncTrigger = 'startup' | 'requested' | 'timer' | 'manual' | 'canary';

/** `kubeProxyCanaryChain`, watched by `iptables.Monitor` in the mangle, nat and filter tables. */
export const CANARY_CHAIN = 'KUBE-PROXY-CANARY';

/** The tables `iptables.Monitor` puts the canary in; the first one is polled. */
export const CANARY_TABLES: readonly ('mangle' | 'nat' | 'filter')[] = ['mangle', 'nat', 'filter'];

/** The IPVS operations of a sync, as ipvsadm/netlink calls. */
export interface IpvsOperationCounts {
  /** `GetVirtualServer` (one per syncService and one per syncEndpoint). */
  readonly getVirtualServer: number;
  /** `GetVirtualServers` (once per sync, for the cleanup). */
  readonly getVirtualServers: number;
  /** `GetRealServers` (per syncEndpoint and per graceful-delete attempt). */
  readonly getRealServers: number;
  readonly addVirtualServer: number;
  readonly updateVirtualServer: number;
  readonly deleteVirtualServer: number;
  readonly addRealServer: number;
  /** `UpdateRealServer` (`ipvsadm -e`): weight 0 for graceful deletion, weight 1 on the first sync. */
  readonly updateRealServer: number;
  readonly deleteRealServer: number;
  /** Sum of the get operations. */
  readonly reads: number;
  /** Sum of the add/update/delete operations. */
  readonly writes: number;
}

/** What an IPVS-mode sync did besides iptables. */
export interface IpvsSyncCounts {
  readonly operations: IpvsOperationCounts;
  /**
   * ipset calls: `create -exist` per set, `list` per set, `add`/`del` per changed entry.
   * `failed` counts the adds and deletes the set refused (e.g. `HASH_FULL` once a set holds
   * `maxelem` 65536 entries): kube-proxy logs them and goes on (pkg/proxy/ipvs/ipset.go
   * syncIPSetEntries), and so does lbsim.
   */
  readonly ipset: { readonly create: number; readonly list: number; readonly add: number; readonly del: number; readonly failed: number };
  /** `EnsureAddressBind` calls for kube-ipvs0 and addresses unbound at the end. */
  readonly addressesBound: number;
  readonly addressesUnbound: number;
  /** Virtual and real servers after the sync. */
  readonly virtualServers: number;
  readonly realServers: number;
  /** Real servers waiting in the graceful-termination list after the sync. */
  readonly terminating: number;
}

/** The outcome of one sync. */
export interface SyncReport {
  readonly mode: 'iptables' | 'ipvs';
  /** Simulated time of the sync in ms. */
  readonly time: number;
  readonly trigger: SyncTrigger;
  /** iptables: full or partial restore; IPVS mode syncs everything every time (`full`). */
  readonly kind: 'full' | 'partial';
  readonly success: boolean;
  /** Why the sync failed (the restore's or the printer's error), or null. */
  readonly error: Error | null;
  /** Whether `iptables-restore` (or sizing its input) failed, as opposed to an earlier step. */
  readonly restoreFailed: boolean;
  /** `:CHAIN` lines in the restore input, per table (stale chains included). */
  readonly chainsWritten: { readonly filter: number; readonly nat: number };
  /** `-A` lines in the restore input, per table. */
  readonly rulesWritten: { readonly filter: number; readonly nat: number };
  /** Chains deleted with `-X` (stale service chains). */
  readonly chainsDeleted: number;
  /** `sync_proxy_rules_iptables_total{table}`: rules kube-proxy owns after the sync (written + skipped). */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  /** Services (ns/name) whose per-service chains were written (all of them in a full sync). */
  readonly servicesWritten: number;
  /** Services (ns/name) that changed since the previous sync. */
  readonly changedServices: number;
  /** Size of the restore input in bytes, or null when no printer is configured. */
  readonly restoreBytes: number | null;
  /** Separate `iptables` invocations (EnsureChain / EnsureRule) besides the restore. */
  readonly iptablesCommands: number;
  /** IPVS mode only. */
  readonly ipvs: IpvsSyncCounts | null;
  /** Whether large-cluster mode was on (> 1000 endpoints). */
  readonly largeClusterMode: boolean;
  /** `sync_proxy_rules_no_local_endpoints_total{traffic_policy}` after the sync. */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
  /** The modeled kernel cost of the sync (see `cost-model.ts`). */
  readonly kernelCost: KernelCost;
  /** How long lbsim took (performance.now), for information only: never compare it across machines. */
  readonly wallTimeMs: number;
}

/** Prints (or sizes) a restore document: the text kube-proxy pipes to `iptables-restore`. */
export type RestoreSizer = (doc: RestoreDocument) => number;

/** Applies a restore document; the default is `ruleset.restore(doc, options)`. Inject failures through it. */
export type RestoreApplier = (ruleset: Ruleset, doc: RestoreDocument, options: RestoreOptions) => void;

/**
 * Turns an injected printer (`doc → text`) into a {@link RestoreSizer}
 * counting UTF-8 bytes.
 */
export function sizerFromPrinter(print: (doc: RestoreDocument) => string): RestoreSizer {
  return (doc) => Buffer.byteLength(print(doc), 'utf8');
}

// ------------------------------------------------------------------ runner

type TokenBucket = { tokens: number; last: number };

/**
 * `BoundedFrequencyRunner` on the simulated clock. `fn` runs:
 * - on {@link BoundedFrequencyRunner.run} requests, at once if the token
 *   bucket (`minInterval`, `burst`; `flowcontrol.NewTokenBucketRateLimiter`,
 *   starting full) allows, otherwise at the next possible time
 *   (`minInterval` after the last run, measured start to start);
 * - when `maxInterval` passes without a run;
 * - after {@link BoundedFrequencyRunner.retryAfter}, no later than the
 *   requested interval.
 * Runs take no simulated time. Attach it to the clock (done by the
 * constructor): when time jumps over several deadlines in one advance, each
 * fires at the clock's time; step the clock through
 * {@link BoundedFrequencyRunner.nextRunAt} for exact timing.
 */
export class BoundedFrequencyRunner implements TimerOwner {
  /** Minimum interval between runs in ms (0 = no limit). */
  readonly minIntervalMs: number;
  /** Maximum interval between runs in ms. */
  readonly maxIntervalMs: number;
  /** Burst size of the token bucket. */
  readonly burst: number;
  readonly #clock: SimClock;
  readonly #fn: (reason: 'run' | 'timer') => void;
  /** Tokens scaled by minIntervalMs, so refills are exact integers. */
  readonly #bucket: TokenBucket;
  #timerAt: number | null = null;
  #lastRun = Number.NEGATIVE_INFINITY;
  #looping = false;
  #inFn = false;
  #retryAt: number | null = null;
  #pendingRun = false;
  #runs = 0;

  /**
   * @param clock - simulated clock (the runner attaches itself)
   * @param fn - the function to run; `reason` says whether a request or the timer started it
   * @param minIntervalMs - min time between runs (modulo bursts)
   * @param maxIntervalMs - max time between runs
   * @param burst - burst runs
   * @throws {InvalidArgumentError} when maxInterval < minInterval or burst < 1
   */
  constructor(clock: SimClock, fn: (reason: 'run' | 'timer') => void, minIntervalMs: number, maxIntervalMs: number, burst: number) {
    if (!(maxIntervalMs >= minIntervalMs) || minIntervalMs < 0) {
      throw new InvalidArgumentError(
        `lbsim/kube.BoundedFrequencyRunner.constructor: maxInterval (${maxIntervalMs} ms) must be >= minInterval (${minIntervalMs} ms) >= 0`,
      );
    }
    if (!Number.isInteger(burst) || burst < 1) {
      throw new InvalidArgumentError(`lbsim/kube.BoundedFrequencyRunner.constructor: burst must be an integer >= 1 (got ${burst})`);
    }
    this.#clock = clock;
    this.#fn = fn;
    this.minIntervalMs = minIntervalMs;
    this.maxIntervalMs = maxIntervalMs;
    this.burst = burst;
    this.#bucket = { tokens: burst * minIntervalMs, last: clock.now };
    clock.attach(this);
  }

  /** When the timer fires next (simulated ms), or null before {@link BoundedFrequencyRunner.loop}. */
  get nextRunAt(): number | null {
    return this.#timerAt;
  }

  /** Simulated time of the last run through the runner (not of direct calls). */
  get lastRun(): number {
    return this.#lastRun;
  }

  /** Runs so far. */
  get runs(): number {
    return this.#runs;
  }

  /** `Loop`: starts the periodic timer (`timer.Reset(maxInterval)`). */
  loop(): void {
    this.#looping = true;
    this.#timerAt = this.#clock.now + this.maxIntervalMs;
    this.#drainPending();
  }

  /** Stops the timer. */
  stop(): void {
    this.#looping = false;
    this.#timerAt = null;
    this.#clock.detach(this);
  }

  /** `Run`: run as soon as the rate limit allows (now, or at a scheduled time). */
  run(): void {
    // Go's run channel holds one request; Loop takes it once it is running and done with fn
    if (!this.#looping || this.#inFn) {
      this.#pendingRun = true;
      return;
    }
    this.#tryRun('run');
  }

  /**
   * `RetryAfter`: make sure `fn` runs again no later than `intervalMs` from
   * now (the earliest request wins).
   */
  retryAfter(intervalMs: number): void {
    const at = this.#clock.now + intervalMs;
    if (this.#retryAt !== null && this.#retryAt < at) return;
    this.#retryAt = at;
    if (!this.#inFn) this.#doRetry();
  }

  /** @internal Fires the timer when due (called by the clock). */
  runTimers(now: number): void {
    // a run may re-arm the timer for `now` (nextPossible ≤ 0 cannot happen with the integer bucket)
    for (let guard = 0; guard < 1000; guard++) {
      if (this.#timerAt === null || this.#timerAt > now) return;
      this.#timerAt = null;
      this.#tryRun('timer');
    }
  }

  #tryAccept(now: number): boolean {
    if (this.minIntervalMs === 0) return true; // nullLimiter
    const b = this.#bucket;
    b.tokens = Math.min(this.burst * this.minIntervalMs, b.tokens + (now - b.last));
    b.last = now;
    if (b.tokens >= this.minIntervalMs) {
      b.tokens -= this.minIntervalMs;
      return true;
    }
    return false;
  }

  #tryRun(reason: 'run' | 'timer'): void {
    const now = this.#clock.now;
    if (this.#tryAccept(now)) {
      this.#inFn = true;
      try {
        this.#fn(reason);
      } finally {
        this.#inFn = false;
      }
      this.#runs++;
      this.#lastRun = now;
      this.#timerAt = now + this.maxIntervalMs;
      if (this.#retryAt !== null) this.#doRetry();
      this.#drainPending();
      return;
    }
    // It can't run right now: the next possible time, unless the timer fires sooner.
    const nextPossible = this.#lastRun + this.minIntervalMs;
    // the bucket may still be short of a token after minInterval when bursts drained it
    const tokenAt = this.#bucket.last + (this.minIntervalMs - this.#bucket.tokens);
    const at = Math.max(nextPossible, tokenAt, now);
    if (this.#timerAt === null || at < this.#timerAt) this.#timerAt = at;
  }

  #drainPending(): void {
    if (!this.#pendingRun || !this.#looping) return;
    this.#pendingRun = false;
    this.#tryRun('run');
  }

  #doRetry(): void {
    const at = this.#retryAt;
    this.#retryAt = null;
    if (at === null) return;
    if (this.#timerAt === null || at < this.#timerAt) this.#timerAt = at;
  }
}

// ------------------------------------------------------------------ iptables

/** Options of {@link IptablesSyncer}. */
export interface IptablesSyncerOptions {
  /** Passed to `generateIptablesRules` (service order, `--random-fully`, nfacct, kubelet-first). */
  readonly rules?: IptablesRulesOptions;
  /**
   * `MinimizeIPTablesRestore` (GA in 1.28, always on since): partial restores
   * between full syncs. False makes every sync a full one.
   * @defaultValue true
   */
  readonly minimizeRestore?: boolean;
  /**
   * The periodic full sync (`proxyutil.FullSyncPeriod`, 1 hour). `except-large-cluster` follows
   * kubernetes/kubernetes#138571, which stops it in large-cluster mode.
   * @defaultValue 'except-large-cluster'
   */
  readonly periodicFullSync?: 'always' | 'except-large-cluster' | 'never';
  /** Modeled kernel cost. @defaultValue the kernel-costs.md calibration, legacy back end */
  readonly costModel?: KernelCostModel;
  /**
   * Sizes the restore input (bytes). Throwing counts as a failed sync.
   * null: do not size it. @defaultValue kube-proxy's own restore text ({@link kubeProxyRestoreBytes})
   */
  readonly restoreSize?: RestoreSizer | null;
  /** Applies the restore (inject failures here). @defaultValue `ruleset.restore` */
  readonly restore?: RestoreApplier;
}

/** One chain-name set per table; the chains kube-proxy declares at the top of each sync. */
const TOP_LEVEL_NAT = new Set<string>([KubeChain.SERVICES, KubeChain.NODEPORTS, KubeChain.POSTROUTING, KubeChain.MARK_MASQ]);

/**
 * The iptables-mode sync engine: computes the rules from the cluster on
 * every sync and writes them into a netfilter engine's ruleset as
 * kube-proxy's `syncProxyRules` does. kube-proxy regenerates every service
 * in Go; lbsim keeps each service port's generated rules
 * ({@link IptablesRulesCache}) and regenerates only those whose Service,
 * endpoints or context changed — what is written is identical either way.
 *
 * - Full sync (at start, after a failure, after a node-label change, and
 *   hourly unless disabled): EnsureChain/EnsureRule for the jumps from the
 *   built-in chains, then a restore declaring every kube-proxy chain.
 * - Partial sync: the filter table and the top-level nat chains in full,
 *   per-service chains only for Services whose Service or EndpointSlices
 *   changed since the last sync.
 * - Stale service chains (present in nat, no longer generated) get a
 *   `:CHAIN` line and `-X CHAIN`, every sync, or once per syncPeriod in
 *   large-cluster mode.
 *
 * Everything goes through `Ruleset.restore(doc, { noflush: true, counters: true })`,
 * so a failing restore leaves the nat table as it was.
 */
export class IptablesSyncer {
  /** The cluster. */
  readonly cluster: Cluster;
  /** The netfilter engine whose ruleset is programmed. */
  readonly netfilter: Netfilter;
  /** The modeled kernel cost. */
  readonly costModel: KernelCostModel;
  #node: Node;
  readonly #config: KubeProxyConfiguration;
  readonly #rulesOptions: IptablesRulesOptions;
  readonly #minimize: boolean;
  readonly #periodic: 'always' | 'except-large-cluster' | 'never';
  readonly #size: RestoreSizer | null;
  readonly #restore: RestoreApplier;
  #needFullSync = true;
  #lastFullSync = Number.NEGATIVE_INFINITY;
  #lastCleanup = Number.NEGATIVE_INFINITY;
  #largeClusterMode = false;
  #restoredOnce = false;
  #lastRules: (() => IptablesRules) | null = null;
  readonly #cache = new IptablesRulesCache();
  readonly #layout = new RestoreLayout();
  /** Plans are in sorted order: the rules cache knows each Service's positions. */
  readonly #sorted: boolean;
  #lastChanges: ClusterChanges | null = null;

  /**
   * @param cluster - Services and EndpointSlices (its change tracking is consumed by each sync)
   * @param node - this node
   * @param config - kube-proxy configuration
   * @param netfilter - the engine to program
   * @param options - see {@link IptablesSyncerOptions}
   */
  constructor(cluster: Cluster, node: Node, config: KubeProxyConfiguration, netfilter: Netfilter, options: IptablesSyncerOptions = {}) {
    this.cluster = cluster;
    this.#node = node;
    this.#config = config;
    this.netfilter = netfilter;
    this.#rulesOptions = { ...options.rules, chainOrder: 'restore' };
    this.#sorted = (this.#rulesOptions.servicesOrder ?? 'sorted') === 'sorted';
    this.#minimize = options.minimizeRestore ?? true;
    this.#periodic = options.periodicFullSync ?? 'except-large-cluster';
    this.costModel = options.costModel ?? new KernelCostModel();
    this.#size = options.restoreSize === undefined ? kubeProxyRestoreBytes : options.restoreSize;
    this.#restore = options.restore ?? ((rs, doc, o) => {
      rs.restore(doc, o);
    });
  }

  /** Whether the next sync will be a full one (`needFullSync`). */
  get needFullSync(): boolean {
    return this.#needFullSync;
  }

  /** Large-cluster mode as of the last sync. */
  get largeClusterMode(): boolean {
    return this.#largeClusterMode;
  }

  /** The rules generated by the last sync (written or not). */
  get lastRules(): IptablesRules | null {
    return this.#lastRules === null ? null : this.#lastRules();
  }

  /** What the last sync consumed from the cluster's change tracking. */
  get lastChanges(): ClusterChanges | null {
    return this.#lastChanges;
  }

  /** Forces the next sync to be full (what a node-label change or the canary monitor does). */
  forceFullSync(): void {
    this.#needFullSync = true;
  }

  /** Replaces the node (labels, addresses); kube-proxy forces a full sync when its labels change. */
  setNode(node: Node): void {
    this.#node = node;
  }

  /**
   * `iptables.Monitor`'s `EnsureChain` of the canary in mangle, nat and filter.
   *
   * @returns the chains created
   */
  ensureCanaries(): number {
    let created = 0;
    for (const t of CANARY_TABLES) {
      if (this.netfilter.ruleset.chain(t, CANARY_CHAIN) === undefined) {
        this.netfilter.ruleset.apply(t, { op: 'newChain', chain: CANARY_CHAIN, line: 1 });
        created++;
      }
    }
    return created;
  }

  /** Whether the canary of the first monitored table (mangle) still exists. */
  canaryPresent(): boolean {
    return this.netfilter.ruleset.chain(CANARY_TABLES[0]!, CANARY_CHAIN) !== undefined;
  }

  /** Whether the next sync at `now` would be partial. */
  wouldBePartial(now: number): boolean {
    if (!this.#minimize || this.#needFullSync) return false;
    if (this.#periodic === 'never') return true;
    if (this.#periodic === 'except-large-cluster' && this.#largeClusterMode) return true;
    return now - this.#lastFullSync < FULL_SYNC_PERIOD_MS;
  }

  /**
   * One `syncProxyRules`.
   *
   * @param now - simulated time (ms)
   * @param trigger - recorded in the report
   */
  sync(now: number, trigger: SyncTrigger = 'manual'): SyncReport {
    const t0 = performance.now();
    const tryPartial = this.wouldBePartial(now);
    const changes = this.cluster.checkoutChanges(this.#node.name);
    this.#lastChanges = changes;
    const ruleset = this.netfilter.ruleset;
    let iptablesCommands = 0;
    let error: Error | null = null;

    const plan = planIptablesRules(this.cluster, this.#node, this.#config, this.#rulesOptions, this.#cache);
    let lazyRules: IptablesRules | null = null;
    this.#lastRules = () => (lazyRules ??= assembleIptablesRules(plan, 'restore'));
    if (!tryPartial) {
      try {
        iptablesCommands = ensureJumps(ruleset, plan.jumpRules);
      } catch (e) {
        error = asError(e);
      }
    }

    // partial: every changed Service counts, with or without service ports left (deleted)
    let servicesWritten = changes.services.size;
    if (!tryPartial) {
      const seen = new Set<string>();
      for (const f of plan.fragments) seen.add(f.info.service);
      servicesWritten = seen.size;
    }

    // stale chains: in the table, ours, no longer generated
    const cleanup = !plan.largeClusterMode || now - this.#lastCleanup > this.#config.iptables.syncPeriodSeconds * 1000;
    const stale: string[] = [];
    if (cleanup) {
      const active = new Set<string>(TOP_LEVEL_NAT);
      for (const f of plan.fragments) for (const c of f.rules.natChains) active.add(c);
      for (const name of ruleset.table('nat').chains.keys()) {
        if (!active.has(name) && isServiceChainName(name)) stale.push(name);
      }
      this.#lastCleanup = now;
    }

    // the default sizer's count comes with the layout (sized per fragment, kept between syncs)
    const sizeHere = this.#size === kubeProxyRestoreBytes;
    const { filterBlock, natBlock, natWritten, filterWritten, bytes } = restoreBlocks(
      plan,
      tryPartial ? changes.services : null,
      stale,
      this.#layout,
      sizeHere,
      this.#sorted ? (services) => this.#cache.positionsOf(services) : undefined,
    );
    const doc: RestoreDocument = { blocks: [filterBlock, natBlock] };
    const natChains = natBlock.chains;
    let restoreBytes: number | null = null;
    let restoreRan = false;
    if (error === null) {
      try {
        restoreRan = true;
        if (sizeHere && bytes !== null) restoreBytes = bytes;
        else if (this.#size !== null) restoreBytes = this.#size(doc);
        this.#restore(ruleset, doc, { noflush: true, counters: true });
      } catch (e) {
        error = asError(e);
      }
    }
    const success = error === null;
    const restoreKind = tryPartial ? 'partial' : this.#restoredOnce ? 'replace' : 'full';
    if (success) {
      this.#needFullSync = false;
      this.#restoredOnce = true;
      if (!tryPartial) this.#lastFullSync = now;
    } else {
      // the changes were consumed: only a full sync can repair the state
      this.#needFullSync = true;
    }
    this.#largeClusterMode = plan.largeClusterMode;
    const tableRules = plan.ruleCounts.nat + plan.ruleCounts.filter;
    const kernelCost = this.costModel.cost({
      restoreKind: restoreRan ? restoreKind : null,
      tableRules,
      rulesWritten: natWritten + filterWritten,
      ipvsOperations: 0,
      ipsetOperations: 0,
      iptablesCommands,
    });
    return {
      mode: 'iptables',
      time: now,
      trigger,
      kind: tryPartial ? 'partial' : 'full',
      success,
      error,
      restoreFailed: restoreRan && !success,
      chainsWritten: { filter: filterBlock.chains.length, nat: natChains.length },
      rulesWritten: { filter: filterWritten, nat: natWritten },
      chainsDeleted: stale.length,
      ruleCounts: { filter: plan.ruleCounts.filter, nat: plan.ruleCounts.nat },
      servicesWritten,
      changedServices: changes.services.size,
      restoreBytes,
      iptablesCommands,
      ipvs: null,
      largeClusterMode: plan.largeClusterMode,
      noLocalEndpoints: plan.noLocalEndpoints,
      kernelCost,
      wallTimeMs: performance.now() - t0,
    };
  }
}

/** An Error from anything thrown. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * `EnsureChain` + `EnsureRule(Prepend)` for jump rules: creates missing
 * target chains and inserts each missing rule at the head of its built-in
 * chain (`iptables -C`, then `-I chain 1`).
 *
 * @returns the `iptables` invocations made (one check per rule and chain, plus one per change)
 */
export function ensureJumps(ruleset: Ruleset, jumps: readonly JumpRule[]): number {
  let commands = 0;
  for (const j of jumps) {
    const target = j.rule.target;
    if (target?.kind === 'jump' && ruleset.chain(j.table, target.chain) === undefined) {
      ruleset.apply(j.table, { op: 'newChain', chain: target.chain, line: 1 });
      commands++;
    }
    commands++; // EnsureChain's check
    const chain = ruleset.chain(j.table, j.chain)!;
    const want = JSON.stringify(j.rule);
    commands++; // iptables -C
    if (!chain.rules.some((r) => JSON.stringify(r.spec) === want)) {
      ruleset.apply(j.table, { op: 'insert', chain: j.chain, index: 1, rule: j.rule, counters: null, line: 1 });
      commands++;
    }
  }
  return commands;
}
