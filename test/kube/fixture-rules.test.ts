// From `kubectl get svc,endpointslices -A -o yaml` (fixtures/cluster.yaml) to the rules kube-proxy writes on
// node-a. Expected lines written by hand from pkg/proxy/iptables/proxier.go.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { portProtoHash, servicePortEndpointChainName as sep } from '../../src/kube/chain-names.js';
import { Cluster } from '../../src/kube/cluster.js';
import { generateIptablesRules } from '../../src/kube/iptables-rules.js';
import { defaultKubeProxyConfiguration } from '../../src/kube/objects.js';
import { nodeFromObject } from '../../src/kube/validate.js';
import { parseCidr } from '../../src/net/ipv4.js';
import type { RuleSpec } from '../../src/netfilter/ast.js';
import { parseRuleLine, rulesOf } from './restore-lines.js';

const lines = (...ls: string[]): RuleSpec[] => ls.map((l) => parseRuleLine(l).rule);

describe('kubectl fixture on node-a', () => {
  const cluster = new Cluster();
  cluster.applyText(readFileSync(new URL('./fixtures/cluster.yaml', import.meta.url), 'utf8'));
  const node = nodeFromObject({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    spec: { podCIDR: '10.244.0.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: '192.168.49.2' }] },
  });
  const config = { ...defaultKubeProxyConfiguration(), clusterCIDR: parseCidr('10.244.0.0/16') };
  const r = generateIptablesRules(cluster, node, config);

  it('programs 9 service ports; ExternalName and headless services get nothing', () => {
    expect(r.services.map((s) => s.nameString)).toEqual([
      'default/kubernetes:https',
      'kube-system/kube-dns:dns',
      'kube-system/kube-dns:dns-tcp',
      'kube-system/kube-dns:metrics',
      'shop/api',
      'shop/frontend:http',
      'shop/metrics:prom',
      'shop/web:http',
      'telco/signalling:sigtran',
    ]);
    // endpointsMap entries of those ports, terminating ones included: kubernetes 1 + kube-dns 2×3 ports + api 2
    // + frontend 2 + metrics 0 + web 3+1 + signalling 1
    expect(r.totalEndpoints).toBe(16);
  });

  it('NodePort with ClientIP affinity: the terminating endpoint is left out while ready ones exist', () => {
    const h = portProtoHash('shop/web:http', 'tcp');
    const [a, b, c] = ['10.244.0.10:8080', '10.244.1.7:8080', '10.244.2.4:8080'].map((e) => sep('shop/web:http', 'tcp', e));
    expect(rulesOf(r.nat, `KUBE-SVC-${h}`)).toEqual(
      lines(
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http cluster IP" -m tcp -p tcp -d 10.96.12.34 --dport 80 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.0.10:8080" -m recent --name ${a} --rcheck --seconds 3600 --reap -j ${a}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.1.7:8080" -m recent --name ${b} --rcheck --seconds 3600 --reap -j ${b}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.2.4:8080" -m recent --name ${c} --rcheck --seconds 3600 --reap -j ${c}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.0.10:8080" -m statistic --mode random --probability 0.3333333333 -j ${a}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.1.7:8080" -m statistic --mode random --probability 0.5000000000 -j ${b}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/web:http -> 10.244.2.4:8080" -j ${c}`,
      ),
    );
    expect(rulesOf(r.nat, 'KUBE-NODEPORTS')).toContainEqual(
      parseRuleLine(`-A KUBE-NODEPORTS -m comment --comment shop/web:http -m tcp -p tcp -d 127.0.0.0/8 --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-${h}`).rule,
    );
  });

  it('LoadBalancer with Local policy, health check and source range', () => {
    const h = portProtoHash('shop/frontend:http', 'tcp');
    const local = sep('shop/frontend:http', 'tcp', '10.244.0.21:8080');
    expect(rulesOf(r.nat, `KUBE-FW-${h}`)).toEqual(
      lines(
        `-A KUBE-FW-${h} -m comment --comment "shop/frontend:http loadbalancer IP" -s 198.51.100.0/24 -j KUBE-EXT-${h}`,
        `-A KUBE-FW-${h} -m comment --comment "other traffic to shop/frontend:http will be dropped by KUBE-PROXY-FIREWALL"`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-EXT-${h}`)).toEqual(
      lines(
        `-A KUBE-EXT-${h} -m comment --comment "pod traffic for shop/frontend:http external destinations" -s 10.244.0.0/16 -j KUBE-SVC-${h}`,
        `-A KUBE-EXT-${h} -m comment --comment "masquerade LOCAL traffic for shop/frontend:http external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        `-A KUBE-EXT-${h} -m comment --comment "route LOCAL traffic for shop/frontend:http external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${h}`,
        `-A KUBE-EXT-${h} -j KUBE-SVL-${h}`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-SVL-${h}`)).toEqual(lines(`-A KUBE-SVL-${h} -m comment --comment "shop/frontend:http -> 10.244.0.21:8080" -j ${local}`));
    expect(rulesOf(r.filter, 'KUBE-PROXY-FIREWALL')).toEqual(
      lines(`-A KUBE-PROXY-FIREWALL -m comment --comment "shop/frontend:http traffic not accepted by KUBE-FW-${h}" -m tcp -p tcp -d 203.0.113.10 --dport 80 -j DROP`),
    );
    expect(rulesOf(r.filter, 'KUBE-NODEPORTS')).toEqual(
      lines('-A KUBE-NODEPORTS -m comment --comment "shop/frontend:http health check node port" -m tcp -p tcp --dport 32000 -j ACCEPT'),
    );
  });

  it('an unnamed port with internalTrafficPolicy Local and an externalIP: SVL for the cluster IP, SVC behind EXT', () => {
    const h = portProtoHash('shop/api', 'tcp');
    const [local, remote] = ['10.244.0.31:8443', '10.244.1.30:8443'].map((e) => sep('shop/api', 'tcp', e));
    expect(rulesOf(r.nat, 'KUBE-SERVICES').filter((x) => x.target?.kind === 'jump' && x.target.chain.endsWith(h))).toEqual(
      lines(
        `-A KUBE-SERVICES -m comment --comment "shop/api cluster IP" -m tcp -p tcp -d 10.96.40.1 --dport 8443 -j KUBE-SVL-${h}`,
        `-A KUBE-SERVICES -m comment --comment "shop/api external IP" -m tcp -p tcp -d 198.51.100.7 --dport 8443 -j KUBE-EXT-${h}`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-SVL-${h}`)).toEqual(
      lines(
        `-A KUBE-SVL-${h} -m comment --comment "shop/api cluster IP" -m tcp -p tcp -d 10.96.40.1 --dport 8443 ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
        `-A KUBE-SVL-${h} -m comment --comment "shop/api -> 10.244.0.31:8443" -j ${local}`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-SVC-${h}`)).toEqual(
      lines(
        `-A KUBE-SVC-${h} -m comment --comment "shop/api -> 10.244.0.31:8443" -m statistic --mode random --probability 0.5000000000 -j ${local}`,
        `-A KUBE-SVC-${h} -m comment --comment "shop/api -> 10.244.1.30:8443" -j ${remote}`,
      ),
    );
    expect(rulesOf(r.nat, `KUBE-EXT-${h}`)).toEqual(
      lines(`-A KUBE-EXT-${h} -m comment --comment "masquerade traffic for shop/api external destinations" -j KUBE-MARK-MASQ`, `-A KUBE-EXT-${h} -j KUBE-SVC-${h}`),
    );
  });

  it('a service whose slice is empty is rejected in filter', () => {
    expect(rulesOf(r.filter, 'KUBE-SERVICES')).toEqual(
      lines('-A KUBE-SERVICES -m comment --comment "shop/metrics:prom has no endpoints" -m tcp -p tcp -d 10.96.50.9 --dport 9100 -j REJECT'),
    );
  });
});
