// generateIptablesRules: expected rules written by hand from pkg/proxy/iptables/proxier.go (syncProxyRules,
// writeServiceToEndpointRules) in kube-proxy's restore syntax, parsed by restore-lines.ts; rule-count formulas of
// kube-proxy.md §9; probabilities of §2.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  portProtoHash,
  servicePortEndpointChainName as sep,
} from '../../src/kube/chain-names.js';
import type { Cluster } from '../../src/kube/cluster.js';
import {
  formatFixedGo,
  generateIptablesRules,
  probabilityFraction,
  probabilityString,
} from '../../src/kube/iptables-rules.js';
import type { IptablesRulesOptions } from '../../src/kube/iptables-rules.js';
import { defaultKubeProxyConfiguration } from '../../src/kube/objects.js';
import type { KubeProxyConfiguration } from '../../src/kube/objects.js';
import { parseCidr } from '../../src/net/ipv4.js';
import type { RuleSpec } from '../../src/netfilter/ast.js';
import { createRng } from '../../src/sim/rng.js';
import { clusterOf, ep, fakeProxierConfig, port, sliceManifest, svcManifest, TEST_NODE } from './helpers.js';
import type { Json } from './helpers.js';
import { parseRuleLine, rulesOf } from './restore-lines.js';

const lines = (...ls: string[]): RuleSpec[] => ls.map((l) => parseRuleLine(l).rule);

/** Endpoints 10.180.<i/250>.<i%250+1>, optionally on test-node. */
function eps(n: number, local = 0): Json[] {
  return Array.from({ length: n }, (_, i) => ep(`10.180.${Math.floor(i / 250)}.${(i % 250) + 1}`, i < local ? { nodeName: 'test-node' } : { nodeName: 'node-x' }));
}

function one(spec: Json, n: number, local = 0, status?: Json): Cluster {
  return clusterOf(
    [svcManifest('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec }, status)],
    // 100 endpoints per slice, the EndpointSlice controller's default maxEndpointsPerSlice
    Array.from({ length: Math.ceil(n / 100) }, (_, k) => sliceManifest('ns1', 'svc1', k + 1, eps(n, local).slice(k * 100, k * 100 + 100), [port('p80', 80)])),
  );
}

const H = portProtoHash('ns1/svc1:p80', 'tcp');
const gen = (c: Cluster, config: KubeProxyConfiguration = fakeProxierConfig(), options: IptablesRulesOptions = {}) =>
  generateIptablesRules(c, TEST_NODE, config, { nfacct: false, ...options });

describe('probabilities (kube-proxy.md §2)', () => {
  /** Independent of formatFixedGo: round-half-even of 10^10/k on exact integers (no float ties occur for k ≤ 20). */
  const tenDecimals = (k: number): string => {
    const scale = 10n ** 10n;
    let q = scale / BigInt(k);
    const r2 = (scale % BigInt(k)) * 2n;
    if (r2 > BigInt(k) || (r2 === BigInt(k) && q % 2n === 1n)) q += 1n;
    return `0.${q.toString().padStart(10, '0')}`.replace(/^0\.10000000000$/, '1.0000000000');
  };

  it('formats 1/n with 10 decimals as Go %0.10f does', () => {
    expect(probabilityString(1)).toBe('1.0000000000');
    expect(probabilityString(2)).toBe('0.5000000000');
    expect(probabilityString(3)).toBe('0.3333333333');
    expect(probabilityString(6)).toBe('0.1666666667');
    expect(probabilityString(7)).toBe('0.1428571429');
    expect(probabilityString(20)).toBe('0.0500000000');
    // an exact binary tie: Go rounds half to even, JS toFixed rounds it up
    expect(probabilityString(2048)).toBe('0.0004882812');
    expect((1 / 2048).toFixed(10)).toBe('0.0004882813');
    expect(formatFixedGo(2.5, 0)).toBe('2');
    expect(formatFixedGo(3.5, 0)).toBe('4');
    expect(() => probabilityString(0)).toThrow(InvalidArgumentError);
  });

  it('stores lround(2^31 · strtod(text)) as the kernel does', () => {
    expect(probabilityFraction(2)).toBe(0x40000000);
    // 0.3333333333 · 2147483648 = 715827882.59…
    expect(probabilityFraction(3)).toBe(715827883);
    // 0.1666666667 · 2147483648 = 357913941.37…
    expect(probabilityFraction(6)).toBe(357913941);
  });

  for (let n = 1; n <= 20; n++) {
    it(`N = ${n}: rule i has 1/(N−i), the last one is unconditional`, () => {
      const svc = rulesOf(gen(one({}, n)).nat, `KUBE-SVC-${H}`);
      expect(svc).toHaveLength(1 + n); // masquerade + one per endpoint
      for (let i = 0; i < n; i++) {
        const stat = svc[1 + i]!.matches.find((m) => m.module === 'statistic');
        if (i === n - 1) expect(stat).toBeUndefined();
        else expect(stat).toEqual({ module: 'statistic', mode: 'random', probability: Math.round(Number(tenDecimals(n - i)) * 2 ** 31), invert: false });
      }
    });
  }
});

describe('rule counts (kube-proxy.md §9)', () => {
  const base = gen(clusterOf([], [])).ruleCounts;
  const extra = (c: Cluster, config?: KubeProxyConfiguration, options?: IptablesRulesOptions) => {
    const r = gen(c, config, options);
    return { nat: r.ruleCounts.nat - base.nat, filter: r.ruleCounts.filter - base.filter };
  };

  it('base: nat 5 (3 KUBE-POSTROUTING, 1 KUBE-MARK-MASQ, NodePort tail), filter 3 KUBE-FORWARD + 1 KUBE-FIREWALL', () => {
    expect(base).toEqual({ nat: 5, filter: 4 });
    const noLocalhost = gen(clusterOf([], []), fakeProxierConfig({ iptables: { ...defaultKubeProxyConfiguration().iptables, localhostNodePorts: false } }));
    expect(noLocalhost.ruleCounts).toEqual({ nat: 5, filter: 3 });
  });

  it('ClusterIP: 2 + 3N, with ClientIP affinity 2 + 4N, without a local detector 1 + 3N', () => {
    for (const n of [1, 2, 3, 10]) {
      expect(extra(one({}, n))).toEqual({ nat: 2 + 3 * n, filter: 0 });
      expect(extra(one({ sessionAffinity: 'ClientIP' }, n))).toEqual({ nat: 2 + 4 * n, filter: 0 });
      expect(extra(one({}, n), defaultKubeProxyConfiguration())).toEqual({ nat: 1 + 3 * n, filter: 0 });
    }
    expect(extra(one({}, 0))).toEqual({ nat: 0, filter: 1 });
  });

  it('reproduces the ClusterIP rows of TestNumberIptablesRules (nat totals 10, 13, 37, 55, 85, 325; filter 3/13 with 0 endpoints)', () => {
    const many = (svcs: number, n: number) =>
      clusterOf(
        Array.from({ length: svcs }, (_, i) => svcManifest('namespace', `svc${i}`, { clusterIP: `10.0.0.${1 + i}`, ports: [{ name: '8080', port: 80 + i }] })),
        n === 0 ? [] : Array.from({ length: svcs }, (_, i) => sliceManifest('namespace', `svc${i}`, 1, Array.from({ length: n }, (_, j) => ep(`172.16.0.${1 + j}`)), [port('8080', 8080)])),
      );
    const cfg = fakeProxierConfig({ iptables: { ...defaultKubeProxyConfiguration().iptables, localhostNodePorts: false } });
    const total = (s: number, n: number) => gen(many(s, n), cfg).ruleCounts;
    expect(total(1, 1).nat).toBe(10);
    expect(total(1, 2).nat).toBe(13);
    expect(total(1, 10).nat).toBe(37);
    expect(total(10, 1).nat).toBe(55);
    expect(total(10, 2).nat).toBe(85);
    expect(total(10, 10).nat).toBe(325);
    expect(total(1, 0)).toEqual({ nat: 5, filter: 4 });
    expect(total(10, 0)).toEqual({ nat: 5, filter: 13 });
  });

  const nodePort = (extraSpec: Json = {}): Json => ({ type: 'NodePort', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }], ...extraSpec });

  it('NodePort (Cluster policy): 5 + 3N; +1 with the nfacct localhost copy; 0 endpoints: 2 REJECTs', () => {
    for (const n of [1, 4]) {
      expect(extra(one(nodePort(), n))).toEqual({ nat: 5 + 3 * n, filter: 0 });
      expect(extra(one(nodePort(), n), undefined, { nfacct: true })).toEqual({ nat: 6 + 3 * n, filter: 0 });
    }
    expect(extra(one(nodePort(), 0))).toEqual({ nat: 0, filter: 2 });
  });

  const lbSpec = (extraSpec: Json = {}): Json => ({
    type: 'LoadBalancer',
    externalIPs: ['192.168.99.11'],
    loadBalancerSourceRanges: ['203.0.113.0/25'],
    ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }],
    ...extraSpec,
  });
  const lbStatus = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };

  it('LoadBalancer + externalIP + source range: 9 + 3N nat and 1 KUBE-PROXY-FIREWALL DROP; 0 endpoints: 4 REJECTs', () => {
    // 3 KUBE-SERVICES + 1 KUBE-NODEPORTS + 1 masquerade + 2 EXT + 2 FW, then N SVC + 2N SEP
    for (const n of [1, 2, 10]) expect(extra(one(lbSpec(), n, 0, lbStatus))).toEqual({ nat: 9 + 3 * n, filter: 1 });
    expect(extra(one(lbSpec(), 0, 0, lbStatus))).toEqual({ nat: 0, filter: 4 });
    // a source range containing the node IP (192.168.0.2) adds one FW rule per LB IP
    expect(extra(one(lbSpec({ loadBalancerSourceRanges: ['192.168.0.0/16'] }), 1, 0, lbStatus))).toEqual({ nat: 13, filter: 1 });
  });

  it('externalTrafficPolicy Local: 7 + 3N + L with L local endpoints; none local: 6 + 3N and a DROP', () => {
    const local = nodePort({ externalTrafficPolicy: 'Local' });
    // 1 KUBE-SERVICES + 1 NODEPORTS + 1 masquerade + EXT (pod, masq LOCAL, route LOCAL, → SVL) + N SVC + L SVL + 2N SEP
    expect(extra(one(local, 3, 1))).toEqual({ nat: 7 + 9 + 1, filter: 0 });
    expect(extra(one(local, 3, 2))).toEqual({ nat: 7 + 9 + 2, filter: 0 });
    expect(extra(one(local, 3, 0))).toEqual({ nat: 6 + 9, filter: 1 });
    // LoadBalancer with Local policy also gets the health check ACCEPT
    const lbLocal = { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'p80', port: 80, nodePort: 30080 }] };
    expect(extra(one(lbLocal, 2, 1, lbStatus))).toEqual({ nat: 8 + 6 + 1, filter: 1 });
    // no local endpoint: DROP for the LB IP and the NodePort, plus the ACCEPT
    expect(extra(one(lbLocal, 2, 0, lbStatus))).toEqual({ nat: 7 + 6, filter: 3 });
  });

  it('internalTrafficPolicy Local: 2 + 3L; no local endpoint: a DROP and no nat rules', () => {
    expect(extra(one({ internalTrafficPolicy: 'Local' }, 4, 2))).toEqual({ nat: 2 + 6, filter: 0 });
    expect(extra(one({ internalTrafficPolicy: 'Local' }, 4, 0))).toEqual({ nat: 0, filter: 1 });
    expect(gen(one({ internalTrafficPolicy: 'Local' }, 4, 0)).noLocalEndpoints).toEqual({ internal: 1, external: 0 });
  });

  it('ClusterIP with an external IP: 5 + 3N (one more KUBE-SERVICES rule, KUBE-EXT masquerade + jump); 0 endpoints: 2 REJECTs', () => {
    for (const n of [1, 3]) expect(extra(one({ externalIPs: ['192.168.99.11'] }, n))).toEqual({ nat: 5 + 3 * n, filter: 0 });
    // the ClusterIP REJECT in KUBE-SERVICES and the external IP REJECT in KUBE-EXTERNAL-SERVICES
    expect(extra(one({ externalIPs: ['192.168.99.11'] }, 0))).toEqual({ nat: 0, filter: 2 });
  });

  it('NodePort with ClientIP affinity: 5 + 4N (one --rcheck rule per endpoint; --set rides on the DNAT rule)', () => {
    for (const n of [1, 4]) expect(extra(one(nodePort({ sessionAffinity: 'ClientIP' }), n))).toEqual({ nat: 5 + 4 * n, filter: 0 });
  });

  it('UDP and SCTP services count like TCP: ClusterIP 2 + 3N, NodePort 5 + 3N', () => {
    for (const protocol of ['UDP', 'SCTP']) {
      const svc = (spec: Json, n: number) =>
        clusterOf(
          [svcManifest('ns1', 'svc1', { clusterIP: '172.30.0.41', ...spec, ports: [{ name: 'p', port: 53, protocol, ...(spec['type'] === 'NodePort' ? { nodePort: 30053 } : {}) }] })],
          [sliceManifest('ns1', 'svc1', 1, eps(n), [port('p', 53, protocol)])],
        );
      for (const n of [1, 3]) {
        expect(extra(svc({}, n))).toEqual({ nat: 2 + 3 * n, filter: 0 });
        expect(extra(svc({ type: 'NodePort' }, n))).toEqual({ nat: 5 + 3 * n, filter: 0 });
      }
    }
  });

  it('per-service counts add up to the table totals', () => {
    const c = clusterOf(
      [
        svcManifest('a', 'x', { clusterIP: '10.0.0.1', ports: [{ name: 'p', port: 80 }] }),
        svcManifest('a', 'y', { type: 'NodePort', clusterIP: '10.0.0.2', ports: [{ name: 'p', port: 80, nodePort: 30001 }] }),
      ],
      [sliceManifest('a', 'x', 1, eps(3), [port('p', 80)]), sliceManifest('a', 'y', 1, eps(2), [port('p', 80)])],
    );
    const r = gen(c);
    expect(r.services.reduce((s, x) => s + x.natRules, 0) + base.nat).toBe(r.ruleCounts.nat);
    expect(r.services.reduce((s, x) => s + x.filterRules, 0) + base.filter).toBe(r.ruleCounts.filter);
    expect(r.totalEndpoints).toBe(5);
  });
});

describe('per-service rules written by hand from proxier.go', () => {
  it('ClientIP affinity: one --rcheck per endpoint before the probability rules; --set in each SEP', () => {
    const r = gen(one({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }, 3));
    const [s1, s2, s3] = ['10.180.0.1:80', '10.180.0.2:80', '10.180.0.3:80'].map((e) => sep('ns1/svc1:p80', 'tcp', e));
    expect(rulesOf(r.nat, `KUBE-SVC-${H}`)).toEqual(
      lines(
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name ${s1} --rcheck --seconds 600 --reap -j ${s1}`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m recent --name ${s2} --rcheck --seconds 600 --reap -j ${s2}`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -m recent --name ${s3} --rcheck --seconds 600 --reap -j ${s3}`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j ${s1}`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j ${s2}`,
        `-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j ${s3}`,
      ),
    );
    expect(rulesOf(r.nat, s2!)).toEqual(
      lines(
        `-A ${s2} -m comment --comment ns1/svc1:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ`,
        `-A ${s2} -m comment --comment ns1/svc1:p80 -m recent --name ${s2} --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80`,
      ),
    );
  });

  it('externalTrafficPolicy Local LoadBalancer with a local endpoint: EXT short-circuits, SVL holds the local one', () => {
    const r = gen(
      one({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ name: 'p80', port: 80, nodePort: 30080 }] }, 2, 1, {
        loadBalancer: { ingress: [{ ip: '1.2.3.4' }] },
      }),
    );
    const local = sep('ns1/svc1:p80', 'tcp', '10.180.0.1:80');
    const remote = sep('ns1/svc1:p80', 'tcp', '10.180.0.2:80');
    expect(rulesOf(r.nat, 'KUBE-SERVICES')).toEqual(
      lines(
        `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-${H}`,
        `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 loadbalancer IP" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j KUBE-EXT-${H}`,
        `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-EXT-${H}`)).toEqual(
      lines(
        `-A KUBE-EXT-${H} -m comment --comment "pod traffic for ns1/svc1:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-${H}`,
        `-A KUBE-EXT-${H} -m comment --comment "masquerade LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        `-A KUBE-EXT-${H} -m comment --comment "route LOCAL traffic for ns1/svc1:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${H}`,
        `-A KUBE-EXT-${H} -j KUBE-SVL-${H}`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-SVL-${H}`)).toEqual(lines(`-A KUBE-SVL-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j ${local}`));
    expect(rulesOf(r.nat, `KUBE-SVC-${H}`)).toHaveLength(3);
    expect(r.services[0]!.natChains).toEqual([`KUBE-EXT-${H}`, `KUBE-SVC-${H}`, `KUBE-SVL-${H}`, local, remote]);
    expect(rulesOf(r.filter, 'KUBE-NODEPORTS')).toEqual(
      lines('-A KUBE-NODEPORTS -m comment --comment "ns1/svc1:p80 health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT'),
    );
    expect(rulesOf(r.filter, 'KUBE-EXTERNAL-SERVICES')).toEqual([]);
  });

  it('internalTrafficPolicy Local: the cluster IP goes to KUBE-SVL, which masquerades; no KUBE-SVC', () => {
    const r = gen(one({ internalTrafficPolicy: 'Local' }, 3, 1));
    expect(rulesOf(r.nat, 'KUBE-SERVICES')[0]).toEqual(
      parseRuleLine(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVL-${H}`).rule,
    );
    expect(rulesOf(r.nat, `KUBE-SVL-${H}`)).toEqual(
      lines(
        `-A KUBE-SVL-${H} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`,
        `-A KUBE-SVL-${H} -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j ${sep('ns1/svc1:p80', 'tcp', '10.180.0.1:80')}`,
      ),
    );
    expect(r.nat.chains.some((c) => c.name === `KUBE-SVC-${H}`)).toBe(false);
    // with no local endpoint: DROP in filter KUBE-SERVICES
    const none = gen(one({ internalTrafficPolicy: 'Local' }, 3, 0));
    expect(rulesOf(none.filter, 'KUBE-SERVICES')).toEqual(
      lines('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no local endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j DROP'),
    );
  });

  it('no endpoints: REJECT the cluster IP, external IP, LB IP and NodePort; no nat chains (TestNoEndpointsReject)', () => {
    const r = gen(
      one(
        { type: 'LoadBalancer', externalIPs: ['192.168.99.11'], ports: [{ name: 'p80', port: 80, nodePort: 3001 }] },
        0,
        0,
        { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
      ),
    );
    expect(rulesOf(r.filter, 'KUBE-SERVICES')).toEqual(
      lines('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT'),
    );
    expect(rulesOf(r.filter, 'KUBE-EXTERNAL-SERVICES')).toEqual(
      lines(
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 192.168.99.11 --dport 80 -j REJECT',
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 1.2.3.4 --dport 80 -j REJECT',
        '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j REJECT',
      ),
    );
    expect(r.services[0]!.natChains).toEqual([]);
    expect(r.ruleCounts.nat).toBe(5);
  });

  it('UDP and SCTP ports load the matching protocol module', () => {
    const c = clusterOf(
      [
        svcManifest('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
        svcManifest('telco', 'stp', { clusterIP: '10.96.0.11', ports: [{ name: 'm3ua', port: 2905, protocol: 'SCTP' }] }),
      ],
      [
        sliceManifest('kube-system', 'kube-dns', 1, [ep('10.244.0.2')], [port('dns', 53, 'UDP')]),
        sliceManifest('telco', 'stp', 1, [ep('10.244.0.3')], [port('m3ua', 2905, 'SCTP')]),
      ],
    );
    const r = gen(c);
    const dnsSep = sep('kube-system/kube-dns:dns', 'udp', '10.244.0.2:53');
    expect(rulesOf(r.nat, dnsSep)[1]).toEqual(
      parseRuleLine(`-A ${dnsSep} -m comment --comment kube-system/kube-dns:dns -m udp -p udp -j DNAT --to-destination 10.244.0.2:53`).rule,
    );
    expect(rulesOf(r.nat, 'KUBE-SERVICES')).toContainEqual(
      parseRuleLine(`-A KUBE-SERVICES -m comment --comment "telco/stp:m3ua cluster IP" -m sctp -p sctp -d 10.96.0.11 --dport 2905 -j KUBE-SVC-${portProtoHash('telco/stp:m3ua', 'sctp')}`).rule,
    );
  });
});

describe('configuration and host options', () => {
  it('masqueradeAll drops the source match; no local detector drops the masquerade and pod-traffic rules', () => {
    const all = gen(one({}, 1), fakeProxierConfig({ iptables: { ...defaultKubeProxyConfiguration().iptables, masqueradeAll: true } }));
    expect(rulesOf(all.nat, `KUBE-SVC-${H}`)[0]).toEqual(
      parseRuleLine(`-A KUBE-SVC-${H} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ`).rule,
    );
    const local = one({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, nodePort: 30080 }] }, 1, 1);
    const none = gen(local, defaultKubeProxyConfiguration());
    expect(rulesOf(none.nat, `KUBE-SVC-${H}`)).toHaveLength(1);
    expect(rulesOf(none.nat, `KUBE-EXT-${H}`)).toHaveLength(3);
  });

  it('detect-local modes: NodeCIDR uses the node pod CIDR, BridgeInterface and InterfaceNamePrefix match -i', () => {
    const masq = (cfg: KubeProxyConfiguration) => rulesOf(gen(one({}, 1), cfg).nat, `KUBE-SVC-${H}`)[0]!;
    const d = defaultKubeProxyConfiguration();
    expect(masq({ ...d, detectLocalMode: 'NodeCIDR' }).src).toEqual({ addr: parseCidr('10.0.0.0/24').address, mask: 0xffffff00, invert: true });
    expect(masq({ ...d, detectLocalMode: 'BridgeInterface', detectLocal: { bridgeInterface: 'cni0', interfaceNamePrefix: '' } }).inIface).toEqual({ name: 'cni0', invert: true });
    expect(masq({ ...d, detectLocalMode: 'InterfaceNamePrefix', detectLocal: { bridgeInterface: '', interfaceNamePrefix: 'veth' } }).inIface).toEqual({ name: 'veth+', invert: true });
  });

  it('nodePortAddresses: one tail rule per matching node IP; loopback only with localhost NodePorts', () => {
    const tails = (cfg: KubeProxyConfiguration) => rulesOf(gen(one({}, 1), cfg).nat, 'KUBE-SERVICES').slice(1);
    const tail = (d: string) => parseRuleLine(`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -d ${d} -j KUBE-NODEPORTS`).rule;
    const cidr = (t: string) => ({ kind: 'cidr' as const, cidr: parseCidr(t) });
    expect(tails(fakeProxierConfig({ nodePortAddresses: [cidr('192.168.0.0/16')] }))).toEqual([tail('192.168.0.2')]);
    expect(tails(fakeProxierConfig({ nodePortAddresses: [cidr('127.0.0.0/8'), { kind: 'primary' }] }))).toEqual([tail('127.0.0.1'), tail('192.168.0.2')]);
    // without loopback in nodePortAddresses localhost NodePorts are off: no KUBE-FIREWALL rule
    const r = gen(one({}, 1), fakeProxierConfig({ nodePortAddresses: [cidr('192.168.0.0/16')] }));
    expect(rulesOf(r.filter, 'KUBE-FIREWALL')).toEqual([]);
    const off = fakeProxierConfig({ iptables: { ...defaultKubeProxyConfiguration().iptables, localhostNodePorts: false } });
    expect(tails(off)).toEqual(
      lines(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS',
      ),
    );
  });

  it('masquerade bit, --random-fully and tcp_be_liberal', () => {
    const r = generateIptablesRules(one({}, 1), TEST_NODE, fakeProxierConfig({ iptables: { ...defaultKubeProxyConfiguration().iptables, masqueradeBit: 0 }, conntrackTCPBeLiberal: true }));
    expect(rulesOf(r.nat, 'KUBE-MARK-MASQ')).toEqual(lines('-A KUBE-MARK-MASQ -j MARK --or-mark 0x1'));
    expect(rulesOf(r.nat, 'KUBE-POSTROUTING')).toEqual(
      lines(
        '-A KUBE-POSTROUTING -m mark ! --mark 0x1/0x1 -j RETURN',
        '-A KUBE-POSTROUTING -j MARK --xor-mark 0x1',
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ),
    );
    expect(rulesOf(r.filter, 'KUBE-FORWARD')).toEqual(
      lines(
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x1/0x1 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ),
    );
  });
});

describe('large-cluster mode', () => {
  it('above 1000 endpoints SVC→SEP and SEP rules lose their comments; KUBE-SERVICES and masquerade keep them', () => {
    const at = gen(one({}, 1000));
    expect(at.largeClusterMode).toBe(false);
    // the first endpoint by "ip:port" string order is 10.180.0.100:80
    expect(rulesOf(at.nat, `KUBE-SVC-${H}`)[1]!.matches[0]).toEqual({ module: 'comment', comment: 'ns1/svc1:p80 -> 10.180.0.100:80' });
    const over = gen(one({}, 1001));
    expect(over.largeClusterMode).toBe(true);
    expect(over.totalEndpoints).toBe(1001);
    const svc = rulesOf(over.nat, `KUBE-SVC-${H}`);
    expect(svc[0]!.matches[0]).toEqual({ module: 'comment', comment: 'ns1/svc1:p80 cluster IP' });
    expect(svc[1]!.matches.map((m) => m.module)).toEqual(['statistic']);
    expect(svc[1001]!.matches).toEqual([]);
    const s = sep('ns1/svc1:p80', 'tcp', '10.180.0.1:80');
    expect(rulesOf(over.nat, s)).toEqual(lines(`-A ${s} -s 10.180.0.1 -j KUBE-MARK-MASQ`, `-A ${s} -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80`));
    expect(rulesOf(over.nat, 'KUBE-SERVICES')[0]!.matches[0]).toEqual({ module: 'comment', comment: 'ns1/svc1:p80 cluster IP' });
  });
});

describe('KUBE-SERVICES order', () => {
  const many = clusterOf(
    Array.from({ length: 12 }, (_, i) => svcManifest('ns', `s${i}`, { clusterIP: `10.0.0.${i + 1}`, ports: [{ name: 'p', port: 80 }] })),
    Array.from({ length: 12 }, (_, i) => sliceManifest('ns', `s${i}`, 1, [ep(`10.1.0.${i + 1}`)], [port('p', 80)])),
  );
  const order = (o: IptablesRulesOptions) =>
    rulesOf(gen(many, undefined, o).nat, 'KUBE-SERVICES').map((r) => (r.matches[0]?.module === 'comment' ? r.matches[0].comment : '?'));

  it('sorted: by ServicePortName string; the NodePort tail rule last', () => {
    const o = order({ servicesOrder: 'sorted' });
    // byte order: "ns/s10:p" < "ns/s11:p" < "ns/s1:p" because '0' and '1' sort before ':'
    expect(o.slice(0, 5)).toEqual(['ns/s0:p cluster IP', 'ns/s10:p cluster IP', 'ns/s11:p cluster IP', 'ns/s1:p cluster IP', 'ns/s2:p cluster IP']);
    expect(o.at(-1)).toBe('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  });

  it('random: a seeded shuffle per call, reproducible from the seed, tail rule still last', () => {
    const a = order({ servicesOrder: 'random', rng: createRng(7) });
    const b = order({ servicesOrder: 'random', rng: createRng(7) });
    const c = order({ servicesOrder: 'random', rng: createRng(8) });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort()).toEqual([...order({})].sort());
    expect(a.at(-1)).toBe('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
    // two successive syncs with one rng: the order moves, as Go map iteration does
    const rng = createRng(1);
    expect(order({ servicesOrder: 'random', rng })).not.toEqual(order({ servicesOrder: 'random', rng }));
    expect(() => order({ servicesOrder: 'random' })).toThrow(InvalidArgumentError);
  });
});
