import type { Cidr, IPv4 } from '../net/ipv4.js';

/**
 * Typed Kubernetes objects as kube-proxy sees them: a `v1` Service, a
 * `discovery.k8s.io/v1` EndpointSlice, a `v1` Node and a
 * `kubeproxy.config.k8s.io/v1alpha1` KubeProxyConfiguration. Values are the
 * API server's *defaulted* values (a missing `protocol` is `TCP`, a missing
 * `ready` condition is true, ...), so the objects read exactly like what a
 * watch delivers to kube-proxy. Build them with the converters of
 * `src/kube/validate.ts` or the parser of `src/kube/parse.ts`, which refuse
 * what the API server (or lbsim's IPv4-only model) refuses.
 *
 * @module
 */

/** `spec.type` of a Service. */
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

/** Transport protocols of Service and EndpointSlice ports. */
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

/** `externalTrafficPolicy` / `internalTrafficPolicy`. */
export type TrafficPolicy = 'Cluster' | 'Local';

/** `spec.sessionAffinity`. */
export type SessionAffinity = 'None' | 'ClientIP';

/** `DefaultClientIPServiceAffinitySeconds` (pkg/apis/core/types.go): 3 hours. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

/** `MaxClientIPServiceAffinitySeconds` (pkg/apis/core/types.go): 1 day. */
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

/** The `kubernetes.io/service-name` label that links an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One entry of `spec.ports`. */
export interface ServicePort {
  /** Port name; `''` for the single unnamed port. */
  readonly name: string;
  readonly protocol: L4Protocol;
  /** Service port 1..65535. */
  readonly port: number;
  /** `targetPort` (number or named port); informational for kube-proxy (endpoints carry the real port). */
  readonly targetPort: number | string;
  /** Node port, 0 when not allocated. */
  readonly nodePort: number;
  readonly appProtocol: string | null;
}

/** One entry of `status.loadBalancer.ingress`. */
export interface LoadBalancerIngress {
  /** The ingress IP, or null for hostname-only ingresses (kube-proxy ignores those). */
  readonly ip: IPv4 | null;
  readonly hostname: string | null;
  /** `ipMode`; null when unset (treated as `VIP`). kube-proxy programs only VIP-mode IPs. */
  readonly ipMode: 'VIP' | 'Proxy' | null;
}

/** A `v1` Service with the API defaults applied. */
export interface Service {
  readonly kind: 'Service';
  readonly namespace: string;
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly type: ServiceType;
  /** The IPv4 cluster IP; null when unset or `None` (kube-proxy skips such services). */
  readonly clusterIP: IPv4 | null;
  /** `clusterIP: None`. */
  readonly headless: boolean;
  readonly ports: readonly ServicePort[];
  readonly externalIPs: readonly IPv4[];
  readonly loadBalancerIngress: readonly LoadBalancerIngress[];
  /** Parsed `spec.loadBalancerSourceRanges` (surrounding whitespace is tolerated, as kube-proxy does). */
  readonly loadBalancerSourceRanges: readonly Cidr[];
  readonly sessionAffinity: SessionAffinity;
  /** `sessionAffinityConfig.clientIP.timeoutSeconds` (defaulted to 10800 for ClientIP); 0 for `None`. */
  readonly sessionAffinityTimeoutSeconds: number;
  /** Defaulted to `Cluster` for externally accessible services, null otherwise (the API leaves it unset). */
  readonly externalTrafficPolicy: TrafficPolicy | null;
  /** Defaulted to `Cluster` (null for ExternalName services). */
  readonly internalTrafficPolicy: TrafficPolicy | null;
  /** 0 when unset. */
  readonly healthCheckNodePort: number;
  /** `spec.externalName` of ExternalName services. */
  readonly externalName: string | null;
}

/**
 * Endpoint conditions as kube-proxy resolves unset ones (pkg/proxy/endpointslicecache.go):
 * nil ready = true, nil serving = true, nil terminating = false.
 */
export interface EndpointConditions {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** One entry of an EndpointSlice's `endpoints`. */
export interface EndpointSliceEndpoint {
  /** At least one address; kube-proxy uses only the first. */
  readonly addresses: readonly IPv4[];
  readonly conditions: EndpointConditions;
  readonly nodeName: string | null;
  readonly zone: string | null;
  readonly hostname: string | null;
}

/** One entry of an EndpointSlice's `ports`. */
export interface EndpointSlicePort {
  /** Defaulted to `''`. */
  readonly name: string;
  /** Defaulted to `TCP`. */
  readonly protocol: L4Protocol;
  /** Null when unset (kube-proxy ignores such ports). */
  readonly port: number | null;
  readonly appProtocol: string | null;
}

/** A `discovery.k8s.io/v1` EndpointSlice of address type IPv4 (the only type lbsim models). */
export interface EndpointSlice {
  readonly kind: 'EndpointSlice';
  readonly namespace: string;
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  /** Value of the `kubernetes.io/service-name` label. */
  readonly serviceName: string;
  readonly addressType: 'IPv4';
  readonly endpoints: readonly EndpointSliceEndpoint[];
  readonly ports: readonly EndpointSlicePort[];
}

/** The parts of a `v1` Node kube-proxy uses. */
export interface Node {
  readonly kind: 'Node';
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  /** IPv4 `InternalIP` addresses in status order; the first is the node IP kube-proxy uses. */
  readonly internalIPs: readonly IPv4[];
  /** IPv4 `ExternalIP` addresses in status order. */
  readonly externalIPs: readonly IPv4[];
  /** The first IPv4 pod CIDR (`spec.podCIDRs`, else `spec.podCIDR`), or null. */
  readonly podCIDR: Cidr | null;
}

/** `mode` of KubeProxyConfiguration (blank means iptables on Linux). */
export type ProxyMode = 'iptables' | 'ipvs' | 'nftables';

/** `detectLocalMode` (blank means ClusterCIDR). */
export type LocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix';

/** An entry of `nodePortAddresses`: a CIDR or the `primary` keyword (the node's primary IP). */
export type NodePortAddress = { readonly kind: 'cidr'; readonly cidr: Cidr } | { readonly kind: 'primary' };

/** `iptables` section, durations in seconds. */
export interface KubeProxyIPTablesConfiguration {
  readonly masqueradeAll: boolean;
  /** Bit of the fwmark used to mark packets for SNAT (default 14 → `0x4000`). */
  readonly masqueradeBit: number;
  readonly syncPeriodSeconds: number;
  readonly minSyncPeriodSeconds: number;
  readonly localhostNodePorts: boolean;
}

/** `ipvs` section, durations in seconds (0 = leave the kernel value). */
export interface KubeProxyIPVSConfiguration {
  /** Effective scheduler name (blank means `rr`). */
  readonly scheduler: string;
  readonly syncPeriodSeconds: number;
  readonly minSyncPeriodSeconds: number;
  readonly strictARP: boolean;
  readonly tcpTimeoutSeconds: number;
  readonly tcpFinTimeoutSeconds: number;
  readonly udpTimeoutSeconds: number;
  readonly excludeCIDRs: readonly Cidr[];
}

/** A KubeProxyConfiguration with kube-proxy's defaults applied (only the fields lbsim uses). */
export interface KubeProxyConfiguration {
  readonly kind: 'KubeProxyConfiguration';
  readonly mode: ProxyMode;
  readonly clusterCIDR: Cidr | null;
  readonly iptables: KubeProxyIPTablesConfiguration;
  readonly ipvs: KubeProxyIPVSConfiguration;
  readonly detectLocalMode: LocalMode;
  readonly detectLocal: { readonly bridgeInterface: string; readonly interfaceNamePrefix: string };
  /** Empty = NodePorts on every local address. */
  readonly nodePortAddresses: readonly NodePortAddress[];
  /** `conntrack.tcpBeLiberal`: when set kube-proxy does not install the ctstate INVALID drop rule. */
  readonly conntrackTCPBeLiberal: boolean;
}

/** Any object lbsim reads. */
export type KubeObject = Service | EndpointSlice | Node | KubeProxyConfiguration;

/** `namespace/name`, the key of namespaced objects. */
export function namespacedName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * The defaults of `pkg/proxy/apis/config/v1alpha1/defaults.go` for the fields
 * lbsim models: iptables sync 30 s / min 1 s, masqueradeBit 14, ipvs sync
 * 30 s, localhostNodePorts true; blank mode = iptables and blank
 * detectLocalMode = ClusterCIDR (their effective meaning on Linux).
 */
export function defaultKubeProxyConfiguration(): KubeProxyConfiguration {
  return {
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clusterCIDR: null,
    iptables: {
      masqueradeAll: false,
      masqueradeBit: 14,
      syncPeriodSeconds: 30,
      minSyncPeriodSeconds: 1,
      localhostNodePorts: true,
    },
    ipvs: {
      scheduler: 'rr',
      syncPeriodSeconds: 30,
      minSyncPeriodSeconds: 0,
      strictARP: false,
      tcpTimeoutSeconds: 0,
      tcpFinTimeoutSeconds: 0,
      udpTimeoutSeconds: 0,
      excludeCIDRs: [],
    },
    detectLocalMode: 'ClusterCIDR',
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
    nodePortAddresses: [],
    conntrackTCPBeLiberal: false,
  };
}
