// Heap cost of a simulated node, per mode: a synthetic cluster of N
// ClusterIP Services × 10 endpoints (kube-proxy's cluster model: Services,
// EndpointSlices and their derived maps) synced by a KubeProxier into the
// netfilter engine (iptables mode) or the IPVS engine plus its netfilter
// engine (IPVS mode), measured as V8 heap in use after forced collections,
// before and after the build. Each build is released before the next.
//
// Recorded per mode and N (metric `heap`): `bytes` (everything the build
// added), `bytes/service`, and `bytes/rule` (iptables: per rule kube-proxy
// owns) or `bytes/real-server` (IPVS: per real server); the cluster model
// alone as `heap-cluster`; typed-array memory (outside the V8 heap limit)
// as `array-buffer-bytes`.
//
// Needs `globalThis.gc` (node --expose-gc; bench/run.ts arranges it).
// Without it nothing is recorded.
import type { BenchMode, Suite, SuiteContext } from '../types.js';
import { buildCluster, collect, ENDPOINTS, label, sizes, startNode } from './common.js';

interface Usage {
  readonly heap: number;
  readonly arrayBuffers: number;
}

function usage(): Usage {
  collect();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

/** Builds one node, records its heap; everything it built is garbage when it returns. */
function measure(ctx: SuiteContext, n: number, mode: BenchMode): void {
  const meta = { mode, services: n, endpoints: ENDPOINTS, metric: 'heap' } as const;
  const task = `${mode} heap N=${label(n)}`;
  const before = usage();
  const sc = buildCluster(ctx, n);
  const cluster = usage();
  // the sync sizes kube-proxy's restore text (as kube-proxy writes it) but keeps none of it
  const node = startNode(ctx, sc, mode);
  ctx.progress(`${mode}: measuring the heap of ${label(n)} services`);
  const after = usage();
  const bytes = after.heap - before.heap;
  ctx.record(task, 'bytes', bytes, meta);
  ctx.record(task, 'bytes/service', Math.round(bytes / n), meta);
  if (mode === 'iptables') {
    const rules = node.first.ruleCounts.nat + node.first.ruleCounts.filter;
    ctx.record(task, 'rules', rules, meta);
    ctx.record(task, 'bytes/rule', Math.round(bytes / rules), meta);
  } else {
    const rs = node.first.ipvs!.realServers;
    ctx.record(task, 'real-servers', rs, meta);
    ctx.record(task, 'bytes/real-server', Math.round(bytes / rs), meta);
  }
  ctx.record(task, 'array-buffer-bytes', after.arrayBuffers - before.arrayBuffers, meta);
  ctx.record(`${mode} heap-cluster N=${label(n)}`, 'bytes', cluster.heap - before.heap, { ...meta, metric: 'heap-cluster' });
}

export const memory: Suite = {
  name: 'memory',
  description: 'Heap bytes per Service and per rule / real server of a simulated node with N Services × 10 endpoints, per mode (after forced GC)',
  run(ctx): void {
    if (!collect()) {
      ctx.progress('warning: globalThis.gc is not available (run node with --expose-gc): memory not measured');
      return;
    }
    for (const n of sizes(ctx.profile, [1000, 10_000], [1000, 10_000, 100_000])) {
      for (const mode of ['iptables', 'ipvs'] as const) {
        measure(ctx, n, mode);
        collect();
      }
    }
  },
};
