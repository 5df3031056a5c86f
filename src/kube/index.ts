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
export { forEachRestoreLine, kubeProxyRestoreBytes, kubeProxyRestoreText, kubeProxyRuleLine, utf8ByteLength } from './restore-text.js';
export { KERNEL_COSTS_REFERENCE, KernelCostModel } from './cost-model.js';
export type { CalibrationShape, IptablesBackendName, KernelCost, KernelCostCalibration, KernelCostModelOptions, KernelWork, PacketCostRow, RestoreCostRow, RestoreKind } from './cost-model.js';
export { NETWORK_PROGRAMMING_BUCKETS, ProxierMetrics, SYNC_DURATION_BUCKETS } from './metrics.js';
export type { MetricsMode } from './metrics.js';
export { BoundedFrequencyRunner, CANARY_CHAIN, CANARY_TABLES, ensureJumps, FULL_SYNC_PERIOD_MS, IptablesSyncer, sizerFromPrinter } from './sync.js';
export type { IpvsOperationCounts, IpvsSyncCounts, IptablesSyncerOptions, RestoreApplier, RestoreSizer, SyncReport, SyncTrigger } from './sync.js';
export { DUMMY_DEVICE, IPVS_MODE_JUMP_RULES, IpvsModeChain, IpvsModeSyncer, KUBE_IPSETS, KubeIpset, RS_CHECK_DELETE_INTERVAL_MS, uniqueRealServerName, virtualServerString } from './ipvs-mode.js';
export type { IpvsModeSyncerOptions, KubeIpsetInfo, KubeIpsetType, TerminatingRealServer, VirtualServerSpec } from './ipvs-mode.js';
export { KubeProxier } from './proxier.js';
export type { GracefulCheckRecord, KubeProxierOptions } from './proxier.js';
