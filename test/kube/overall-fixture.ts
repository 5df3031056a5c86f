// The Services and EndpointSlices of upstream TestOverallIPTablesRules (pkg/proxy/iptables/proxier_test.go).
import { clusterOf, ep, port, sliceManifest, svcManifest } from './helpers.js';

/** The services and slices of TestOverallIPTablesRules. */
export function overallCluster(): ReturnType<typeof clusterOf> {
  const p80 = [port('p80', 80)];
  return clusterOf(
    [
      svcManifest('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] }),
      svcManifest(
        'ns2',
        'svc2',
        {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Local',
          clusterIP: '172.30.0.42',
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3001 }],
          externalIPs: ['192.168.99.22'],
          healthCheckNodePort: 30000,
        },
        { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
      ),
      svcManifest('ns3', 'svc3', {
        type: 'NodePort',
        clusterIP: '172.30.0.43',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3003 }],
      }),
      svcManifest('ns4', 'svc4', {
        type: 'NodePort',
        clusterIP: '172.30.0.44',
        externalIPs: ['192.168.99.33'],
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
      }),
      svcManifest(
        'ns5',
        'svc5',
        {
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Cluster',
          clusterIP: '172.30.0.45',
          ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 3002 }],
          // extra whitespace: kube-proxy trims it (backward compatibility)
          loadBalancerSourceRanges: [' 203.0.113.0/25'],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        },
        { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
      ),
      svcManifest('ns6', 'svc6', {
        type: 'ClusterIP',
        clusterIP: '172.30.0.46',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', targetPort: 80 }],
      }),
    ],
    [
      sliceManifest('ns1', 'svc1', 1, [ep('10.180.0.1')], p80),
      // no nodeName: non-local, so ns2's Local policy has no endpoints here
      sliceManifest('ns2', 'svc2', 1, [ep('10.180.0.2')], p80),
      sliceManifest('ns3', 'svc3', 1, [ep('10.180.0.3')], p80),
      sliceManifest('ns4', 'svc4', 1, [ep('10.180.0.4'), ep('10.180.0.5', { nodeName: 'test-node' })], p80),
      sliceManifest('ns5', 'svc5', 1, [ep('10.180.0.3')], p80),
    ],
  );
}

