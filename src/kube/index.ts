/**
 * The Kubernetes side of lbsim: typed Services, EndpointSlices, Nodes and
 * KubeProxyConfigurations read from kubectl-style YAML/JSON, the cluster
 * model kube-proxy keeps (service ports, endpoints, change tracking,
 * endpoint categorisation), kube-proxy's chain names, and the iptables-mode
 * rules of a full sync as netfilter AST tables.
 *
 * @module
 */

export {
  defaultKubeProxyConfiguration,
  DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
  MAX_CLIENT_IP_AFFINITY_SECONDS,
  namespacedName,
  SERVICE_NAME_LABEL,
} from './objects.js';
export type {
  EndpointConditions,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  KubeObject,
  KubeProxyConfiguration,
  KubeProxyIPTablesConfiguration,
  KubeProxyIPVSConfiguration,
  L4Protocol,
  LoadBalancerIngress,
  LocalMode,
  Node,
  NodePortAddress,
  ProxyMode,
  Service,
  ServicePort,
  ServiceType,
  SessionAffinity,
  TrafficPolicy,
} from './objects.js';
export {
  endpointSliceFromObject,
  KubeValidationError,
  kubeObjectFromObject,
  kubeProxyConfigurationFromObject,
  nodeFromObject,
  parseGoDuration,
  serviceFromObject,
  SUPPORTED_KINDS,
} from './validate.js';
export type { FieldError, FieldErrorType } from './validate.js';
export { parseKubeObjects } from './parse.js';
export type { KubeObjects, SkippedObject } from './parse.js';
export {
  categorizeEndpoints,
  Cluster,
  endpointsFromSlices,
  isLocalEndpoint,
  servicePortInfos,
  servicePortKey,
  servicePortNameString,
} from './cluster.js';
export type { CategorizedEndpoints, ClusterChanges, Endpoint, ServicePortInfo } from './cluster.js';
export {
  base32Encode,
  isServiceChainName,
  portProtoHash,
  SERVICE_CHAIN_PREFIXES,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortEndpointChainName,
  servicePortPolicyClusterChain,
  servicePortPolicyLocalChainName,
} from './chain-names.js';
export {
  formatFixedGo,
  generateIptablesRules,
  KubeChain,
  LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
  NFACCT_CT_STATE_INVALID_DROPPED,
  NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
  probabilityFraction,
  probabilityString,
} from './iptables-rules.js';
export type { IptablesRules, IptablesRulesOptions, JumpRule, ServicePortRules } from './iptables-rules.js';
