/**
 * kube-proxy's generated rules against the real kernel: a proxier syncs a
 * realistic cluster (every Service type and policy, affinity, source ranges,
 * terminating endpoints, no-endpoint services, TCP/UDP/SCTP) and every
 * restore input it produced — the first full sync, then partial syncs after
 * an endpoint change, a deleted and an added Service — is fed, in order, to
 * the real `iptables-restore --noflush --counters` in a network namespace the
 * test creates, after the iptables commands kube-proxy runs itself (the
 * KUBE-PROXY-CANARY chains and EnsureRule(Prepend) of the jump rules).
 * After every step the real `iptables-save` must print exactly what lbsim's
 * simulated kernel prints: same chains, same rules, same order, same bytes.
 * Both back ends; a second cluster crosses 1000 endpoints (large-cluster
 * mode: no SEP comments, deferred chain cleanup). The IPVS-mode variant
 * creates the ipsets with the real `ipset restore` first.
 *
 * Needs root, `ip netns`, iptables 1.8.9 and nfacct/ipset; skips with a
 * message naming what is missing. Namespaces are deleted (finally + afterAll).
 */

import { afterAll, describe, expect, it } from 'vitest';
import { printSave } from '../../src/io/iptables/index.js';
import type { IptablesBackend } from '../../src/io/iptables/index.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { Cluster } from '../../src/kube/cluster.js';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import type { JumpRule } from '../../src/kube/iptables-rules.js';
import { IPVS_MODE_JUMP_RULES } from '../../src/kube/ipvs-mode.js';
import type { KubeProxyConfiguration } from '../../src/kube/objects.js';
import { KubeProxier } from '../../src/kube/proxier.js';
import { kubeProxyRestoreText, kubeProxyRuleLine } from '../../src/kube/restore-text.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import type { RestoreOptions } from '../../src/netfilter/ruleset.js';
import { SimClock } from '../../src/sim/clock.js';
import { BACKENDS, backendMissing, deleteAllNs, deleteNs, inNs, kernelSave, newNs, shInNs, toolsMissing, which } from '../io/iptables/netns.js';
import { ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import type { Json } from './helpers.js';
import { overallCluster } from './overall-fixture.js';
import { nodeNetfilter } from './proxier-helpers.js';

afterAll(deleteAllNs);

const LOCAL = { nodeName: 'test-node' };
const TERMINATING = { conditions: { ready: false, serving: true, terminating: true } };

/** Service i of the extra mix: one of eight shapes, each a feature kube-proxy writes differently. */
function extraService(i: number): { svc: Json; slices: Json[] } {
  const ns = `mix${i % 3}`;
  const name = `svc-${i}`;
  const clusterIP = `172.30.1.${i + 1}`;
  const ip = (j: number): string => `10.181.${i}.${j + 1}`;
  const web = [port('http', 8080)];
  switch (i % 8) {
    case 0:
      return {
        svc: svcManifest(ns, name, { clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0)), ep(ip(1)), ep(ip(2))], web)],
      };
    case 1: // DNS-like: two named ports, UDP and TCP, plus an unnamed-port style second service port
      return {
        svc: svcManifest(ns, name, {
          clusterIP,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0)), ep(ip(1), LOCAL)], [port('dns', 53, 'UDP'), port('dns-tcp', 53)])],
      };
    case 2:
      return {
        svc: svcManifest(ns, name, {
          type: 'NodePort',
          clusterIP,
          externalTrafficPolicy: 'Local',
          ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30100 + i }],
        }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0), LOCAL), ep(ip(1)), ep(ip(2))], web)],
      };
    case 3:
      return {
        svc: svcManifest(
          ns,
          name,
          {
            type: 'LoadBalancer',
            clusterIP,
            ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30100 + i }],
            loadBalancerSourceRanges: ['203.0.113.0/24', '198.51.100.0/25'],
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
          },
          { loadBalancer: { ingress: [{ ip: `5.6.${i}.1` }, { ip: `5.6.${i}.2` }] } },
        ),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0)), ep(ip(1))], web)],
      };
    case 4: // no endpoints at all: filter REJECT
      return { svc: svcManifest(ns, name, { clusterIP, externalIPs: [`192.168.99.${100 + i}`], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }), slices: [] };
    case 5:
      return {
        svc: svcManifest(ns, name, { clusterIP, internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0), LOCAL), ep(ip(1))], web)],
      };
    case 6: // only terminating-but-serving endpoints: kube-proxy falls back to them
      return {
        svc: svcManifest(ns, name, { clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0), TERMINATING), ep(ip(1), TERMINATING)], web)],
      };
    default:
      return {
        svc: svcManifest(ns, name, {
          type: 'NodePort',
          clusterIP,
          externalIPs: [`192.168.99.${100 + i}`],
          sessionAffinity: 'ClientIP',
          ports: [
            { name: 'sctp', port: 9000, protocol: 'SCTP', nodePort: 30100 + i },
            { name: 'udp', port: 9001, protocol: 'UDP', nodePort: 30200 + i },
          ],
        }),
        slices: [sliceManifest(ns, name, 1, [ep(ip(0)), ep(ip(1))], [port('sctp', 9000, 'SCTP'), port('udp', 9001, 'UDP')])],
      };
  }
}

/** Upstream's TestOverallIPTablesRules cluster plus `extra` services of the mix, and `bulk` ClusterIP services × 10 endpoints. */
function realisticCluster(extra: number, bulk = 0): Cluster {
  const c = overallCluster();
  for (let i = 0; i < extra; i++) {
    const { svc, slices } = extraService(i);
    c.applyService(serviceFromObject(svc));
    for (const s of slices) c.applyEndpointSlice(endpointSliceFromObject(s));
  }
  for (let i = 0; i < bulk; i++) {
    c.applyService(serviceFromObject(svcManifest('bulk', `b${i}`, { clusterIP: `172.30.${10 + (i >> 8)}.${i & 255}`, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] })));
    const eps = Array.from({ length: 10 }, (_, j) => ep(`10.${190 + (i >> 8)}.${i & 255}.${j + 1}`));
    c.applyEndpointSlice(endpointSliceFromObject(sliceManifest('bulk', `b${i}`, 1, eps, [port('p', 8080)])));
  }
  return c;
}

interface Captured {
  readonly text: string;
  readonly options: RestoreOptions;
}

/** A proxier whose every restore input is also kept as text. */
function capturingProxier(mode: 'iptables' | 'ipvs', cluster: Cluster, config: KubeProxyConfiguration) {
  const clock = new SimClock();
  const netfilter = nodeNetfilter(clock);
  const ipvs = mode === 'ipvs' ? new Ipvs({ clock, seed: 2 }) : null;
  const captured: Captured[] = [];
  const proxier = new KubeProxier({
    cluster,
    node: TEST_NODE,
    config: { ...config, mode },
    netfilter,
    ...(ipvs !== null ? { ipvs } : {}),
    restore: (ruleset, doc, options) => {
      captured.push({ text: kubeProxyRestoreText(doc), options });
      ruleset.restore(doc, options);
    },
  });
  return { proxier, netfilter, captured };
}

/** What kube-proxy does with plain iptables commands before its first restore: canary chains, then EnsureRule(Prepend) of each jump. */
function kernelPreamble(
  ns: string,
  backend: IptablesBackend,
  jumpRules: readonly JumpRule[],
  tables: readonly ('filter' | 'nat')[],
  hasChain: (t: 'filter' | 'nat', c: string) => boolean,
): void {
  const ipt = `iptables-${backend}`;
  for (const t of tables) if (hasChain(t, 'KUBE-PROXY-CANARY')) shInNs(ns, `${ipt} -t ${t} -N KUBE-PROXY-CANARY`);
  for (const j of jumpRules) {
    const target = j.rule.target;
    if (target?.kind === 'jump') shInNs(ns, `${ipt} -t ${j.table} -n -L ${target.chain} >/dev/null 2>&1 || ${ipt} -t ${j.table} -N ${target.chain}`);
    const args = kubeProxyRuleLine(j.chain, j.rule).replace(/^-A (\S+)/, '');
    shInNs(ns, `${ipt} -t ${j.table} -C ${j.chain}${args} 2>/dev/null || ${ipt} -t ${j.table} -I ${j.chain} 1${args}`);
  }
}

function restoreInKernel(ns: string, backend: IptablesBackend, c: Captured): void {
  const flags = [...(c.options.noflush === true ? ['--noflush'] : []), ...(c.options.counters === true ? ['--counters'] : [])];
  const r = inNs(ns, `iptables-${backend}-restore`, flags, c.text);
  if (r.status !== 0) throw new Error(`iptables-${backend}-restore ${flags.join(' ')} refused kube-proxy's restore input: ${r.stderr}`);
}

const NFACCT_SETUP = ['nfacct add ct_state_invalid_dropped_pkts', 'nfacct add localhost_nps_accepted_pkts'];

/** The whole scenario in iptables mode for one back end. */
function iptablesScenario(backend: IptablesBackend, cluster: Cluster): { steps: number; largeClusterMode: boolean } {
  const config = fakeProxierConfig();
  const { proxier, netfilter, captured } = capturingProxier('iptables', cluster, config);
  const TABLES = ['filter', 'nat'] as const;
  const ns = newNs('lbsim-kube');
  try {
    for (const cmd of NFACCT_SETUP) shInNs(ns, cmd);
    const first = proxier.start();
    expect(first).toMatchObject({ kind: 'full', success: true });
    kernelPreamble(ns, backend, generateIptablesRules(new Cluster(), TEST_NODE, config).jumpRules, TABLES, (t, c) => netfilter.ruleset.chain(t, c) !== undefined);
    let fed = 0;
    const check = (): void => {
      for (; fed < captured.length; fed++) restoreInKernel(ns, backend, captured[fed]!);
      expect(kernelSave(ns, backend, TABLES)).toBe(printSave(netfilter.ruleset.toSaved({ tables: TABLES }), { backend }));
    };
    check();

    // 1: replace one endpoint of svc-0 (partial sync; its old KUBE-SEP is deleted with -X)
    proxier.advance(2000);
    proxier.applyEndpointSlice(endpointSliceFromObject(sliceManifest('mix0', 'svc-0', 1, [ep('10.181.0.1'), ep('10.181.0.9'), ep('10.181.0.3')], [port('http', 8080)])));
    proxier.advance(2000);
    check();
    // 2: delete a LoadBalancer service with source ranges and affinity
    proxier.deleteService('mix0', 'svc-3');
    proxier.advance(2000);
    check();
    // 3: add a NodePort service with a Local policy
    const add = extraService(10);
    proxier.applyService(serviceFromObject({ ...add.svc, metadata: { namespace: 'late', name: 'added' } }));
    proxier.applyEndpointSlice(endpointSliceFromObject(sliceManifest('late', 'added', 1, [ep('10.182.0.1', LOCAL), ep('10.182.0.2')], [port('http', 8080)])));
    proxier.advance(2000);
    check();
    // 4: the next full sync (an hour later) over the state the partial syncs left
    proxier.advance(3_600_000);
    check();
    const kinds = proxier.reports.map((r) => r.kind);
    expect(kinds[0]).toBe('full');
    expect(kinds).toContain('partial');
    expect(proxier.reports.every((r) => r.success)).toBe(true);
    return { steps: captured.length, largeClusterMode: proxier.lastReport!.largeClusterMode };
  } finally {
    deleteNs(ns);
  }
}

const SETUP_TOOLS = [...NFACCT_SETUP, 'ipset create probe hash:ip'];

for (const backend of BACKENDS) {
  const missing = backendMissing(backend) ?? toolsMissing(SETUP_TOOLS);
  describe(`kube-proxy restore input in real iptables-${backend}${missing === null ? '' : ` (skipped: ${missing})`}`, () => {
    it.skipIf(missing !== null)('iptables mode: every sync of a realistic cluster is accepted and leaves the kernel equal to the simulation', () => {
      const { steps, largeClusterMode } = iptablesScenario(backend, realisticCluster(40));
      expect(largeClusterMode).toBe(false);
      // one full sync, three partial ones, one hourly full
      expect(steps).toBeGreaterThanOrEqual(5);
    }, 120_000);

    it.skipIf(missing !== null)('iptables mode, large-cluster mode (over 1000 endpoints)', () => {
      const { largeClusterMode } = iptablesScenario(backend, realisticCluster(16, 110));
      expect(largeClusterMode).toBe(true);
    }, 180_000);

    it.skipIf(missing !== null || !which('ipset'))('IPVS mode: the ipsets and the fixed rules load and match the simulation', () => {
      const config = fakeProxierConfig();
      const { proxier, netfilter, captured } = capturingProxier('ipvs', realisticCluster(40), config);
      const TABLES = ['filter', 'nat'] as const;
      const ns = newNs('lbsim-kube');
      try {
        const first = proxier.start();
        expect(first).toMatchObject({ success: true });
        // the sets exist before the rules that name them (kube-proxy's ipset syncs run first)
        const sets = netfilter.stateful.ipsets.save();
        const r = inNs(ns, 'ipset', ['restore'], sets);
        if (r.status !== 0) throw new Error(`ipset restore refused lbsim's sets: ${r.stderr}\n${sets}`);
        kernelPreamble(ns, backend, IPVS_MODE_JUMP_RULES, TABLES, (t, c) => netfilter.ruleset.chain(t, c) !== undefined);
        for (const c of captured) restoreInKernel(ns, backend, c);
        expect(kernelSave(ns, backend, TABLES)).toBe(printSave(netfilter.ruleset.toSaved({ tables: TABLES }), { backend }));
        const sorted = (text: string): string[] => text.split('\n').filter((l) => l !== '').sort();
        const kernelSets = inNs(ns, 'ipset', ['save']);
        expect(kernelSets.status).toBe(0);
        expect(sorted(kernelSets.stdout)).toEqual(sorted(sets));
      } finally {
        deleteNs(ns);
      }
    }, 120_000);
  });
}
