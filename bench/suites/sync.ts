// Rule-sync cost as the number of Services grows: what kube-proxy's syncs
// cost the simulator, with what they write (rules, chains, bytes of restore
// text, IPVS netlink operations) and the modeled kernel cost of each.
//
// iptables mode, per N:
//   full-restore-text  parseRestore + Ruleset.restore of the full-sync restore text into a fresh engine
//                      (`iptables-restore --noflush --counters` of kube-proxy's whole input)
//   full-apply         Ruleset.restore of the same, already parsed, into a fresh engine
//   full-sync          a forced full syncProxyRules through the KubeProxier (generate, size, restore)
//   partial-sync       the sync after one endpoint of one Service changed (MinimizeIPTablesRestore)
//   add-service        the sync after one Service (with its endpoints) was added
// IPVS mode, per N:
//   partial-sync       the proxier sync after one endpoint change (IPVS mode's read-diff-write of every
//                      virtual server; named like iptables' so the two sit side by side)
//   add-service        the proxier sync after one added Service
//   endpoint-change    the IPVS engine alone: one real server replaced (delDest + addDest), what the
//                      kernel does for that change (the proxier's sync above wraps it)
//
// Endpoint changes alternate between two endpoint sets of the middle
// Service, so every timed sync sees a real change; the added Service is
// deleted again (and synced, untimed) before each timed add. Calls take from
// microseconds to seconds, so slow tasks ask for few timed calls.
import type { Ipvs, ServiceKey } from '../../src/ipvs/ipvs.js';
import type { SyncReport } from '../../src/kube/sync.js';
import type { RestoreDocument } from '../../src/netfilter/ast.js';
import type { Netfilter } from '../../src/netfilter/engine.js';
import type { EndpointSlice } from '../../src/kube/objects.js';
import { lbsim } from '../imports.js';
import type { BenchMode, RecordMeta, Suite, SuiteContext, TaskOptions } from '../types.js';
import { buildCluster, collect, ENDPOINTS, label, sizes, Stage, startNode } from './common.js';
import type { SimNode } from './common.js';

interface IptablesInput {
  readonly node: SimNode;
  /**
   * kube-proxy's full restore input; dropped (null) once the full-restore
   * tasks are done, so the syncs after them are not timed with hundreds of
   * MB of text and its parsed document alive (at 100k services every major
   * GC would walk them).
   */
  text: string | null;
  /** The same, parsed; dropped with `text`. */
  doc: RestoreDocument | null;
}

interface IpvsInput {
  readonly node: SimNode;
}

/** Few timed calls for slow tasks: at 5k+ services a call takes long enough that minIterations decide. */
function slow(n: number): Pick<TaskOptions, 'minIterations' | 'timeMs'> {
  return n >= 5000 ? { minIterations: 3, timeMs: 1 } : { minIterations: 3 };
}

/**
 * Incremental syncs take milliseconds up to 30k services, and the first few
 * after the full syncs run on colder code and meet their garbage: time more
 * of them so the median is a steady-state one.
 */
function incremental(n: number): Pick<TaskOptions, 'minIterations'> {
  return n < 100_000 ? { minIterations: 15 } : {};
}

/** A fresh engine for node 0 (small conntrack table: nothing is classified). */
function freshNetfilter(node: SimNode): Netfilter {
  return new lbsim.Netfilter({ seed: 11, host: node.sc.hostOptions(), conntrack: { buckets: 512 } });
}

/** What a sync wrote, recorded under `task`. */
function recordReport(ctx: SuiteContext, task: string, r: SyncReport, meta: RecordMeta): void {
  if (!r.success) throw new Error(`bench sync: ${task} failed`, { cause: r.error });
  ctx.record(task, 'rules-written', r.rulesWritten.filter + r.rulesWritten.nat, meta);
  ctx.record(task, 'chains-written', r.chainsWritten.filter + r.chainsWritten.nat, meta);
  if (r.restoreBytes !== null) ctx.record(task, 'restore-bytes', r.restoreBytes, meta);
  if (r.ipvs !== null) {
    ctx.record(task, 'ipvs-ops', r.ipvs.operations.writes, meta);
    ctx.record(task, 'ipvs-reads', r.ipvs.operations.reads, meta);
  }
  ctx.record(task, 'modeled-kernel-s', r.kernelCost.seconds, meta);
}

/**
 * Records the report of a task's first timed-or-warm-up call, from the
 * next `beforeEach` (untimed), and checks its kind.
 */
class FirstReport {
  report: SyncReport | null = null;
  #done = false;
  readonly #ctx: SuiteContext;
  readonly #task: string;
  readonly #meta: RecordMeta;
  readonly #kind: SyncReport['kind'];

  constructor(ctx: SuiteContext, task: string, meta: RecordMeta, kind: SyncReport['kind']) {
    this.#ctx = ctx;
    this.#task = task;
    this.#meta = meta;
    this.#kind = kind;
  }

  flush(): void {
    const r = this.report;
    if (this.#done || r === null) return;
    if (r.kind !== this.#kind) throw new Error(`bench sync: ${this.#task} ran a ${r.kind} sync, expected ${this.#kind}`);
    recordReport(this.#ctx, this.#task, r, this.#meta);
    this.#done = true;
  }
}

export const sync: Suite = {
  name: 'sync',
  description:
    'Rule-sync cost vs number of Services (× 10 endpoints): iptables full restore from text, full apply, full/partial/add-one syncs through kube-proxy; IPVS-mode syncs and the IPVS engine edit for one endpoint',
  run(ctx): void {
    const { parseRestore, kubeProxyRestoreText, Protocol, ForwardMethod } = lbsim;
    const ns = sizes(ctx.profile, [100, 1000, 10_000], [100, 1000, 5000, 10_000, 30_000, 100_000]);
    const stage = new Stage<IptablesInput | IpvsInput>((key) => {
      const [mode, nText] = key.split(':') as [BenchMode, string];
      const n = Number(nText);
      const sc = buildCluster(ctx, n);
      const node = startNode(ctx, sc, mode);
      if (mode === 'ipvs') return { node };
      ctx.progress(`rendering the restore text of ${label(n)} services`);
      const text = kubeProxyRestoreText(node.proxier.iptables!.lastRules!.restore);
      const doc = parseRestore(text, { counters: true });
      const meta = { mode, services: n, endpoints: ENDPOINTS } as const;
      // the startup sync restored exactly this input into empty tables: its counts and modeled cost
      // (kernel-costs.md's "full") are the full restore's
      for (const metric of ['full-restore-text', 'full-apply'] as const) {
        const task = `iptables ${metric} N=${label(n)}`;
        recordReport(ctx, task, node.first, { ...meta, metric });
        if (metric === 'full-restore-text') ctx.record(task, 'restore-lines', text.split('\n').length - 1, { ...meta, metric });
      }
      return { node, text, doc };
    });

    for (const n of ns) {
      const N = label(n);
      // ------------------------------------------------------------ iptables
      let ipt: IptablesInput | null = null;
      const iptKey = `iptables:${n}`;
      let fresh: Netfilter | null = null;
      const meta = (mode: BenchMode, metric: string): TaskOptions => ({ batch: 1, mode, services: n, endpoints: ENDPOINTS, metric, ...slow(n) });
      const freshEngine = (): void => {
        ipt = stage.get(iptKey) as IptablesInput;
        fresh = null;
        fresh = freshNetfilter(ipt.node);
      };
      ctx.task(
        `iptables full-restore-text N=${N}`,
        () => {
          fresh!.ruleset.restore(parseRestore(ipt!.text!, { counters: true }), { noflush: true, counters: true });
        },
        { ...meta('iptables', 'full-restore-text'), beforeEach: freshEngine },
      );
      ctx.task(
        `iptables full-apply N=${N}`,
        () => {
          fresh!.ruleset.restore(ipt!.doc!, { noflush: true, counters: true });
        },
        { ...meta('iptables', 'full-apply'), beforeEach: freshEngine },
      );

      const full = new FirstReport(ctx, `iptables full-sync N=${N}`, { mode: 'iptables', services: n, endpoints: ENDPOINTS, metric: 'full-sync' }, 'full');
      ctx.task(
        `iptables full-sync N=${N}`,
        () => {
          full.report = ipt!.node.proxier.syncNow();
        },
        {
          ...meta('iptables', 'full-sync'),
          beforeEach: () => {
            fresh = null;
            ipt = stage.get(iptKey) as IptablesInput;
            if (ipt.doc !== null) {
              ipt.text = null;
              ipt.doc = null;
              collect();
            }
            full.flush();
            ipt.node.proxier.iptables!.forceFullSync();
          },
        },
      );
      syncTasks(ctx, 'iptables', n, () => (ipt = stage.get(iptKey) as IptablesInput).node, meta);

      // ------------------------------------------------------------ IPVS
      {
        const ipvsKey = `ipvs:${n}`;
        const ipvsNode = (): SimNode => stage.get(ipvsKey).node;
        syncTasks(ctx, 'ipvs', n, ipvsNode, meta);

        // the engine alone: replace one real server of the middle Service, back and forth
        const ENGINE_BATCH = 100;
        let engine: { ipvs: Ipvs; key: ServiceKey; a: number; b: number } | null = null;
        let flip = false;
        ctx.task(
          `ipvs engine endpoint-change N=${N}`,
          () => {
            const { ipvs, key, a, b } = engine!;
            for (let i = 0; i < ENGINE_BATCH; i++) {
              const out = flip ? b : a;
              const inn = flip ? a : b;
              flip = !flip;
              ipvs.deleteDest(key, out, 8080);
              ipvs.addDest(key, inn, 8080, { weight: 1, fwd: ForwardMethod.MASQ });
            }
          },
          {
            batch: ENGINE_BATCH,
            mode: 'ipvs',
            services: n,
            endpoints: ENDPOINTS,
            metric: 'endpoint-change',
            beforeEach: () => {
              if (engine !== null) return;
              const node = ipvsNode();
              const sc = node.sc;
              const i = n >> 1;
              const key: ServiceKey = { proto: Protocol.TCP, addr: sc.clusterIP(i), port: 80 };
              // a real server the service has now (earlier tasks changed its endpoints), and a pod address no
              // Service uses (the generator's next replacement pod)
              const a = node.ipvs!.getService(key)!.dests[0]!.addr;
              const b = sc.endpointChange(i).endpoints[0]!.addresses[0]!;
              engine = { ipvs: node.ipvs!, key, a, b };
              const task = `ipvs engine endpoint-change N=${N}`;
              ctx.record(task, 'ipvs-ops', 2, { mode: 'ipvs', services: n, endpoints: ENDPOINTS, metric: 'endpoint-change' });
            },
          },
        );
      }
    }
  },
};

/**
 * partial-sync (one endpoint changed) and add-service (one Service added)
 * through the proxier of `getNode()`.
 */
function syncTasks(ctx: SuiteContext, mode: BenchMode, n: number, getNode: () => SimNode, meta: (mode: BenchMode, metric: string) => TaskOptions): void {
  const N = label(n);
  let node: SimNode | null = null;
  // one endpoint of the middle Service, alternating between two endpoint sets
  let slices: readonly [EndpointSlice, EndpointSlice] | null = null;
  let flip = false;
  const partialName = `${mode} partial-sync N=${N}`;
  // IPVS mode always re-reads everything (a "full" read-diff-write); iptables writes one Service
  const partial = new FirstReport(ctx, partialName, { mode, services: n, endpoints: ENDPOINTS, metric: 'partial-sync' }, mode === 'ipvs' ? 'full' : 'partial');
  ctx.task(
    partialName,
    () => {
      partial.report = node!.proxier.syncNow();
    },
    {
      ...meta(mode, 'partial-sync'),
      ...incremental(n),
      beforeEach: () => {
        node = getNode();
        partial.flush();
        if (slices === null) {
          const i = n >> 1;
          slices = [node.sc.endpointChange(i), node.sc.endpointSlices[i]!];
        }
        node.proxier.applyEndpointSlice(slices[flip ? 1 : 0]);
        flip = !flip;
      },
    },
  );

  const addName = `${mode} add-service N=${N}`;
  const add = new FirstReport(ctx, addName, { mode, services: n, endpoints: ENDPOINTS, metric: 'add-service' }, mode === 'ipvs' ? 'full' : 'partial');
  let added = false;
  ctx.task(
    addName,
    () => {
      add.report = node!.proxier.syncNow();
      added = true;
    },
    {
      ...meta(mode, 'add-service'),
      ...incremental(n),
      beforeEach: () => {
        node = getNode();
        add.flush();
        const extra = node.sc.addService(n);
        const p = node.proxier;
        if (added) {
          // back to N Services, untimed
          p.deleteService(node.sc.namespace, extra.service.name);
          p.deleteEndpointSlice(node.sc.namespace, extra.endpointSlice.name);
          const r = p.syncNow();
          if (!r.success) throw new Error(`bench sync: ${addName}: deleting the added Service failed`, { cause: r.error });
          added = false;
        }
        p.applyService(extra.service);
        p.applyEndpointSlice(extra.endpointSlice);
      },
    },
  );
}
