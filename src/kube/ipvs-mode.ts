import { InvalidArgumentError, OperationError } from '../errors.js';
import { ServiceFlag, ForwardMethod } from '../ipvs/flags.js';
import type { Ipvs, ServiceKey, ServiceOptions } from '../ipvs/ipvs.js';
import type { VirtualService } from '../ipvs/service.js';
import { cidrContains, formatIPv4, parseCidr } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import { Protocol } from '../net/protocol.js';
import { shuffleInPlace } from '../sim/rng.js';
import type { Rng } from '../sim/rng.js';
import { AddrTypeBit, CtStateBit } from '../netfilter/ast.js';
import { formatElement } from '../netfilter/ipset/elements.js';
import { IPSET_TYPES, IpsetError, IpsetFeature } from '../netfilter/ipset/set.js';
import type { IpsetValue } from '../netfilter/ipset/set.js';
import type {
  AddrMatch,
  BuiltinChainName,
  ChainDeclaration,
  MatchSpec,
  RestoreDocument,
  RestoreTableBlock,
  RuleSpec,
  SetMatch,
  TableCommand,
  TargetSpec,
} from '../netfilter/ast.js';
import type { Netfilter } from '../netfilter/engine.js';
import { categorizeEndpoints, isLocalEndpoint } from './cluster.js';
import type { CategorizedEndpoints, Cluster, ClusterChanges, Endpoint, ServicePortInfo } from './cluster.js';
import { KernelCostModel } from './cost-model.js';
import type { JumpRule } from './iptables-rules.js';
import type { KubeProxyConfiguration, L4Protocol, Node } from './objects.js';
import { kubeProxyRestoreBytes } from './restore-text.js';
import { asError, ensureJumps } from './sync.js';
import type { IpvsOperationCounts, RestoreApplier, RestoreSizer, SyncReport, SyncTrigger } from './sync.js';

/**
 * kube-proxy's IPVS mode (kubernetes/kubernetes `pkg/proxy/ipvs/proxier.go`,
 * ~v1.30–1.32, `graceful_termination.go`, `ipset.go`) programming lbsim's
 * {@link Ipvs} engine and a {@link Netfilter} engine:
 *
 * - one virtual server per ClusterIP:port, externalIP:port, LB ingress
 *   IP:port and node IP × NodePort, scheduler from the configuration
 *   (default `rr`), persistent with the ClientIP affinity timeout, `mh`
 *   with the source-port flag; real servers weight 1, masquerade (the
 *   `Destination` kube-proxy sends has no forwarding flags, and 0 is
 *   `IP_VS_CONN_F_MASQ`);
 * - the service addresses bound to the dummy interface kube-ipvs0 (made
 *   local on the netfilter host);
 * - the ipsets of `ipsetInfo` and the fixed iptables rules of
 *   `writeIptablesRules`, restored with `--noflush` on every sync;
 * - graceful termination: a removed TCP real server gets weight 0 and is
 *   deleted once its active + inactive connections reach 0, checked every
 *   minute; UDP and SCTP real servers are deleted at once.
 *
 * A sync is a read-diff-write of the whole state, counted as the netlink
 * operations kube-proxy issues.
 *
 * Go map order: kube-proxy visits service ports and adds each virtual
 * server's new real servers in Go map order, which is unspecified and
 * differs from sync to sync. It decides where a virtual server sits in its
 * hash bucket (the kernel adds at the head) and the order of a service's
 * real servers (newest first), hence e.g. which real server `rr` picks
 * first. `order: 'sorted'` (the default) visits service ports by
 * ServicePortName then protocol and adds real servers in endpoint order
 * (`ip:port`); `order: 'random'` shuffles both with a seeded `rng` on every
 * sync, as the Go runtime would.
 *
 * Differences from kube-proxy, on purpose:
 * - ipset entries are added sorted (as the `sets.String.List()` of older
 *   kube-proxy does), whatever `order`; a set's order does not change what
 *   it matches.
 * - `-m physdev ! --physdev-is-in` (external-IP rules) is left out: lbsim has
 *   no bridges, so the match is always true.
 * - `KUBE-IPVS-OUT-FILTER` matches `-m ipvs --vaddr V --vproto P --vport N`;
 *   lbsim writes `-d V -p P --dport N` instead, which is the same test on
 *   the packet as lbsim's netfilter engine sees it (before IPVS rewrites it).
 *
 * @module
 */

/** The dummy interface kube-proxy binds service addresses to. */
export const DUMMY_DEVICE = 'kube-ipvs0';

/** `rsCheckDeleteInterval`: the graceful-termination list is re-checked every minute. */
export const RS_CHECK_DELETE_INTERVAL_MS = 60_000;

/** The iptables chains IPVS mode owns (`iptablesChains` in proxier.go). */
export const IpvsModeChain = {
  SERVICES: 'KUBE-SERVICES',
  PROXY_FIREWALL: 'KUBE-PROXY-FIREWALL',
  SOURCE_RANGES_FIREWALL: 'KUBE-SOURCE-RANGES-FIREWALL',
  POSTROUTING: 'KUBE-POSTROUTING',
  MARK_MASQ: 'KUBE-MARK-MASQ',
  NODE_PORT: 'KUBE-NODE-PORT',
  FORWARD: 'KUBE-FORWARD',
  LOAD_BALANCER: 'KUBE-LOAD-BALANCER',
  IPVS_FILTER: 'KUBE-IPVS-FILTER',
  IPVS_OUT_FILTER: 'KUBE-IPVS-OUT-FILTER',
} as const;

/** The ipset names of IPVS mode (pkg/proxy/ipvs/ipset.go). */
export const KubeIpset = {
  LOOP_BACK: 'KUBE-LOOP-BACK',
  CLUSTER_IP: 'KUBE-CLUSTER-IP',
  EXTERNAL_IP: 'KUBE-EXTERNAL-IP',
  EXTERNAL_IP_LOCAL: 'KUBE-EXTERNAL-IP-LOCAL',
  LOAD_BALANCER: 'KUBE-LOAD-BALANCER',
  LOAD_BALANCER_FW: 'KUBE-LOAD-BALANCER-FW',
  LOAD_BALANCER_LOCAL: 'KUBE-LOAD-BALANCER-LOCAL',
  LOAD_BALANCER_SOURCE_IP: 'KUBE-LOAD-BALANCER-SOURCE-IP',
  LOAD_BALANCER_SOURCE_CIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  NODE_PORT_TCP: 'KUBE-NODE-PORT-TCP',
  NODE_PORT_LOCAL_TCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  NODE_PORT_UDP: 'KUBE-NODE-PORT-UDP',
  NODE_PORT_LOCAL_UDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  NODE_PORT_SCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  NODE_PORT_LOCAL_SCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  HEALTH_CHECK_NODE_PORT: 'KUBE-HEALTH-CHECK-NODE-PORT',
  IPVS_IPS: 'KUBE-IPVS-IPS',
} as const;

/** The ipset types kube-proxy uses (`utilipset.Type`). */
export type KubeIpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** One ipset of IPVS mode. */
export interface KubeIpsetInfo {
  readonly name: string;
  readonly type: KubeIpsetType;
  /** The comment kube-proxy puts on the iptables rules matching the set. */
  readonly comment: string;
}

/** `ipsetInfo` (proxier.go), in its order, with the comments of ipset.go. */
export const KUBE_IPSETS: readonly KubeIpsetInfo[] = [
  { name: KubeIpset.LOOP_BACK, type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { name: KubeIpset.CLUSTER_IP, type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { name: KubeIpset.EXTERNAL_IP, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { name: KubeIpset.EXTERNAL_IP_LOCAL, type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { name: KubeIpset.LOAD_BALANCER, type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { name: KubeIpset.LOAD_BALANCER_FW, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { name: KubeIpset.LOAD_BALANCER_LOCAL, type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { name: KubeIpset.LOAD_BALANCER_SOURCE_IP, type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { name: KubeIpset.LOAD_BALANCER_SOURCE_CIDR, type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { name: KubeIpset.NODE_PORT_TCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { name: KubeIpset.NODE_PORT_LOCAL_TCP, type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { name: KubeIpset.NODE_PORT_UDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { name: KubeIpset.NODE_PORT_LOCAL_UDP, type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { name: KubeIpset.NODE_PORT_SCTP, type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  {
    name: KubeIpset.NODE_PORT_LOCAL_SCTP,
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  },
  { name: KubeIpset.HEALTH_CHECK_NODE_PORT, type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: KubeIpset.IPVS_IPS, type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

const COMMENT = new Map(KUBE_IPSETS.map((s) => [s.name, s.comment]));

/** `ipsetWithIptablesChain`: set → (table, from chain, target, match dirs, protocol). Order matters. */
const IPSET_JUMPS: readonly {
  readonly set: string;
  readonly table: 'nat' | 'filter';
  readonly from: string;
  readonly to: string;
  readonly dirs: readonly ('src' | 'dst')[];
  readonly proto: L4Protocol | null;
}[] = [
  { set: KubeIpset.LOOP_BACK, table: 'nat', from: IpvsModeChain.POSTROUTING, to: 'MASQUERADE', dirs: ['dst', 'dst', 'src'], proto: null },
  { set: KubeIpset.LOAD_BALANCER, table: 'nat', from: IpvsModeChain.SERVICES, to: IpvsModeChain.LOAD_BALANCER, dirs: ['dst', 'dst'], proto: null },
  { set: KubeIpset.LOAD_BALANCER_LOCAL, table: 'nat', from: IpvsModeChain.LOAD_BALANCER, to: 'RETURN', dirs: ['dst', 'dst'], proto: null },
  { set: KubeIpset.NODE_PORT_LOCAL_TCP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: 'RETURN', dirs: ['dst'], proto: 'TCP' },
  { set: KubeIpset.NODE_PORT_TCP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: IpvsModeChain.MARK_MASQ, dirs: ['dst'], proto: 'TCP' },
  { set: KubeIpset.NODE_PORT_LOCAL_UDP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: 'RETURN', dirs: ['dst'], proto: 'UDP' },
  { set: KubeIpset.NODE_PORT_UDP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: IpvsModeChain.MARK_MASQ, dirs: ['dst'], proto: 'UDP' },
  { set: KubeIpset.NODE_PORT_LOCAL_SCTP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: 'RETURN', dirs: ['dst', 'dst'], proto: 'SCTP' },
  { set: KubeIpset.NODE_PORT_SCTP, table: 'nat', from: IpvsModeChain.NODE_PORT, to: IpvsModeChain.MARK_MASQ, dirs: ['dst', 'dst'], proto: 'SCTP' },
  {
    set: KubeIpset.LOAD_BALANCER_FW,
    table: 'filter',
    from: IpvsModeChain.PROXY_FIREWALL,
    to: IpvsModeChain.SOURCE_RANGES_FIREWALL,
    dirs: ['dst', 'dst'],
    proto: null,
  },
  {
    set: KubeIpset.LOAD_BALANCER_SOURCE_CIDR,
    table: 'filter',
    from: IpvsModeChain.SOURCE_RANGES_FIREWALL,
    to: 'RETURN',
    dirs: ['dst', 'dst', 'src'],
    proto: null,
  },
  {
    set: KubeIpset.LOAD_BALANCER_SOURCE_IP,
    table: 'filter',
    from: IpvsModeChain.SOURCE_RANGES_FIREWALL,
    to: 'RETURN',
    dirs: ['dst', 'dst', 'src'],
    proto: null,
  },
];

/** `iptablesChains`: the chains every IPVS sync declares, per table, in order. */
const NAT_CHAINS = [IpvsModeChain.SERVICES, IpvsModeChain.POSTROUTING, IpvsModeChain.NODE_PORT, IpvsModeChain.LOAD_BALANCER, IpvsModeChain.MARK_MASQ];
const FILTER_CHAINS = [
  IpvsModeChain.FORWARD,
  IpvsModeChain.NODE_PORT,
  IpvsModeChain.PROXY_FIREWALL,
  IpvsModeChain.SOURCE_RANGES_FIREWALL,
  IpvsModeChain.IPVS_FILTER,
  IpvsModeChain.IPVS_OUT_FILTER,
];

/** `iptablesJumpChain` (EnsureRule(Prepend) every sync), in order. */
const JUMPS: readonly { table: 'nat' | 'filter'; from: BuiltinChainName; to: string; comment: string }[] = [
  { table: 'nat', from: 'OUTPUT', to: IpvsModeChain.SERVICES, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: IpvsModeChain.SERVICES, comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: IpvsModeChain.POSTROUTING, comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: IpvsModeChain.FORWARD, comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: IpvsModeChain.NODE_PORT, comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: IpvsModeChain.PROXY_FIREWALL, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: IpvsModeChain.PROXY_FIREWALL, comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: IpvsModeChain.IPVS_FILTER, comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: IpvsModeChain.IPVS_OUT_FILTER, comment: 'kubernetes ipvs access filter' },
];

/** The jump rules IPVS mode ensures in the built-in chains, in the order it ensures them. */
export const IPVS_MODE_JUMP_RULES: readonly JumpRule[] = JUMPS.map((j) => ({
  table: j.table,
  chain: j.from,
  rule: { matches: [{ module: 'comment', comment: j.comment }], target: { kind: 'jump', chain: j.to } },
}));

const PROTO_NUMBER: Readonly<Record<L4Protocol, number>> = { TCP: Protocol.TCP, UDP: Protocol.UDP, SCTP: Protocol.SCTP };
const LOOPBACK_NET: Cidr = parseCidr('127.0.0.0/8');

const comment = (text: string): MatchSpec => ({ module: 'comment', comment: text });
const set = (setName: string, dirs: readonly ('src' | 'dst')[]): SetMatch => ({ module: 'set', setName, dirs, invert: false, returnNomatch: false });
const jump = (chain: string): TargetSpec => ({ kind: 'jump', chain });
const verdict = (v: 'ACCEPT' | 'DROP' | 'RETURN'): TargetSpec => ({ kind: 'standard', verdict: v });
const net = (c: Cidr, invert = false): AddrMatch => ({ addr: c.address, mask: c.mask, invert });
const host = (a: IPv4): AddrMatch => ({ addr: a, mask: 0xffffffff, invert: false });

function targetOf(to: string): TargetSpec {
  if (to === 'RETURN' || to === 'ACCEPT' || to === 'DROP') return verdict(to);
  if (to === 'MASQUERADE') return { kind: 'MASQUERADE', ports: null, random: false, randomFully: false };
  return jump(to);
}

/** The real-server key kube-proxy uses: `<vs ip:port/PROTO>/<rs ip:port>` (`GetUniqueRSName`). */
export function uniqueRealServerName(vs: VirtualServerSpec, rsAddr: IPv4, rsPort: number): string {
  return `${virtualServerString(vs)}/${formatIPv4(rsAddr)}:${rsPort}`;
}

/** `VirtualServer.String()`: `ip:port/PROTOCOL`. */
export function virtualServerString(vs: Pick<VirtualServerSpec, 'addr' | 'port' | 'protocol'>): string {
  return `${formatIPv4(vs.addr)}:${vs.port}/${vs.protocol}`;
}

/** A virtual server as kube-proxy describes it (`utilipvs.VirtualServer`). */
export interface VirtualServerSpec {
  readonly addr: IPv4;
  readonly port: number;
  readonly protocol: L4Protocol;
  readonly scheduler: string;
  /** `FlagPersistent` (1) and `FlagSourceHash` (0x10, mh) bits. */
  readonly flags: number;
  /** Persistence timeout in seconds (0 without ClientIP affinity). */
  readonly timeout: number;
}

/** One entry of the graceful-termination list. */
export interface TerminatingRealServer {
  /** {@link uniqueRealServerName}. */
  readonly name: string;
  readonly vs: VirtualServerSpec;
  readonly addr: IPv4;
  readonly port: number;
  /** Simulated time it was put on the list. */
  readonly since: number;
}

/** Options of {@link IpvsModeSyncer}. */
export interface IpvsModeSyncerOptions {
  /** `iptables` supports `--random-fully` (MASQUERADE in KUBE-POSTROUTING). @defaultValue true */
  readonly randomFully?: boolean;
  /**
   * kube-proxy sets `conn_reuse_mode=0` only on kernels from 4.1 up to (not including) 5.9
   * (kubernetes/kubernetes#93297); newer kernels are left alone.
   * @defaultValue false (a kernel ≥ 5.9)
   */
  readonly setConnReuseModeZero?: boolean;
  /** Modeled kernel cost. @defaultValue the kernel-costs.md calibration */
  readonly costModel?: KernelCostModel;
  /** Sizes the iptables restore input; null: do not. @defaultValue kube-proxy's restore text */
  readonly restoreSize?: RestoreSizer | null;
  /** Applies the iptables restore (inject failures here). @defaultValue `ruleset.restore` */
  readonly restore?: RestoreApplier;
  /**
   * Order in which service ports are visited and a virtual server's new real
   * servers are added (Go map order in kube-proxy; see the module
   * description): `sorted`, or `random`, a seeded shuffle from `rng` on every sync.
   * @defaultValue 'sorted'
   */
  readonly order?: 'sorted' | 'random';
  /** Required for `order: 'random'`. */
  readonly rng?: Rng;
}

interface MutableOps {
  getVirtualServer: number;
  getVirtualServers: number;
  getRealServers: number;
  addVirtualServer: number;
  updateVirtualServer: number;
  deleteVirtualServer: number;
  addRealServer: number;
  updateRealServer: number;
  deleteRealServer: number;
}

function newOps(): MutableOps {
  return {
    getVirtualServer: 0,
    getVirtualServers: 0,
    getRealServers: 0,
    addVirtualServer: 0,
    updateVirtualServer: 0,
    deleteVirtualServer: 0,
    addRealServer: 0,
    updateRealServer: 0,
    deleteRealServer: 0,
  };
}

function freezeOps(o: MutableOps): IpvsOperationCounts {
  return {
    ...o,
    reads: o.getVirtualServer + o.getVirtualServers + o.getRealServers,
    writes: o.addVirtualServer + o.updateVirtualServer + o.deleteVirtualServer + o.addRealServer + o.updateRealServer + o.deleteRealServer,
  };
}

function keyOf(vs: Pick<VirtualServerSpec, 'addr' | 'port' | 'protocol'>): ServiceKey {
  return { proto: PROTO_NUMBER[vs.protocol], addr: vs.addr, port: vs.port };
}

const PROTO_OF = new Map<number, L4Protocol>([
  [Protocol.TCP, 'TCP'],
  [Protocol.UDP, 'UDP'],
  [Protocol.SCTP, 'SCTP'],
]);

/** The flags and timeout of an applied service as `toVirtualServer` reads them back (FlagHashed removed). */
function appliedFlags(svc: VirtualService): number {
  return svc.flags & ~ServiceFlag.HASHED;
}

function appliedTimeout(svc: VirtualService): number {
  // lbsim's engine keeps a default persistence timeout on non-persistent services; kube-proxy created them with 0
  return svc.persistent ? svc.timeoutMs / 1000 : 0;
}

/** A service port's cluster IP as text and its KUBE-CLUSTER-IP entry and {@link ipPortKey} (ServicePortInfo objects are immutable). */
const CLUSTER_IP_TEXT = new WeakMap<ServicePortInfo, { readonly ip: string; readonly entry: string; readonly key: number }>();

/** Up to this many real servers (or endpoints), syncEndpoint searches them linearly instead of through a map. */
const SMALL_DESTS = 32;

const PROTO_INDEX: Readonly<Record<L4Protocol, number>> = { TCP: 0, UDP: 1, SCTP: 2 };

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `LocalTrafficDetector`: how "from a local pod" is matched. */
type Detector = { readonly kind: 'none' } | { readonly kind: 'cidr'; readonly cidr: Cidr } | { readonly kind: 'iface'; readonly name: string };

function detectorFor(config: KubeProxyConfiguration, node: Node): Detector {
  switch (config.detectLocalMode) {
    case 'ClusterCIDR':
      return config.clusterCIDR === null ? { kind: 'none' } : { kind: 'cidr', cidr: config.clusterCIDR };
    case 'NodeCIDR':
      return node.podCIDR === null ? { kind: 'none' } : { kind: 'cidr', cidr: node.podCIDR };
    case 'BridgeInterface':
      return { kind: 'iface', name: config.detectLocal.bridgeInterface };
    case 'InterfaceNamePrefix':
      return { kind: 'iface', name: `${config.detectLocal.interfaceNamePrefix}+` };
  }
}

/** What IPVS mode derives from a service port's endpoints (see IpvsModeSyncer.#endpointInfo). */
interface EndpointInfo {
  readonly svc: ServicePortInfo;
  readonly node: string;
  readonly cat: CategorizedEndpoints;
  /** KUBE-LOOP-BACK entries `ip,proto:port,ip` of the local endpoints, in endpoint order. */
  readonly loopback: readonly string[];
}

/** The rules of one IPVS-mode restore, per table, in write order. */
interface RuleBuffer {
  readonly chains: string[];
  readonly rules: { chain: string; rule: RuleSpec }[];
}

/**
 * The IPVS-mode sync engine. Construct it once per node (it applies kube-proxy's
 * sysctls and `ipvsadm --set` timeouts then), call {@link IpvsModeSyncer.startup}
 * once, then {@link IpvsModeSyncer.sync} for every sync and
 * {@link IpvsModeSyncer.gracefulCheck} every {@link RS_CHECK_DELETE_INTERVAL_MS}.
 */
export class IpvsModeSyncer {
  /** The cluster. */
  readonly cluster: Cluster;
  /** The IPVS engine programmed. */
  readonly ipvs: Ipvs;
  /** The netfilter engine (ipsets, iptables rules, host addresses). */
  readonly netfilter: Netfilter;
  /** The modeled kernel cost. */
  readonly costModel: KernelCostModel;
  /** The effective scheduler (`rr` when the configuration leaves it blank). */
  readonly scheduler: string;
  #node: Node;
  readonly #config: KubeProxyConfiguration;
  readonly #randomFully: boolean;
  readonly #size: RestoreSizer | null;
  readonly #restore: RestoreApplier;
  readonly #detector: Detector;
  readonly #bound = new Set<IPv4>();
  readonly #terminating = new Map<string, TerminatingRealServer>();
  #initialSync = true;
  #restoredOnce = false;
  #lastChanges: ClusterChanges | null = null;
  #sorted: ServicePortInfo[] | null = null;
  #sortedVersion = -1;
  #sortedServices = 0;
  /** The rng of `order: 'random'`, null for sorted. */
  readonly #shuffle: Rng | null = null;
  readonly #categories = new WeakMap<readonly Endpoint[], EndpointInfo>();

  /**
   * Applies what `NewProxier` sets up: `vs/conntrack=1`,
   * `vs/expire_nodest_conn=1`, `vs/expire_quiescent_template=1`,
   * `ip_forward=1`, optionally `conn_reuse_mode=0`, and the configured
   * tcp/tcpfin/udp timeouts when any is non-zero.
   *
   * @throws {InvalidArgumentError} when the scheduler is not registered in the IPVS engine
   */
  constructor(cluster: Cluster, node: Node, config: KubeProxyConfiguration, netfilter: Netfilter, ipvs: Ipvs, options: IpvsModeSyncerOptions = {}) {
    this.cluster = cluster;
    this.#node = node;
    this.#config = config;
    this.netfilter = netfilter;
    this.ipvs = ipvs;
    this.scheduler = config.ipvs.scheduler === '' ? 'rr' : config.ipvs.scheduler;
    if (ipvs.schedulers.get(this.scheduler) === undefined) {
      // CanUseIPVSProxier: adding the dummy virtual server fails
      throw new InvalidArgumentError(`lbsim/kube.IpvsModeSyncer.constructor: IPVS scheduler ${JSON.stringify(this.scheduler)} is not available`);
    }
    if (options.order === 'random') {
      if (options.rng === undefined) throw new InvalidArgumentError("lbsim/kube.IpvsModeSyncer.constructor: order 'random' needs options.rng");
      this.#shuffle = options.rng;
    }
    this.costModel = options.costModel ?? new KernelCostModel();
    this.#randomFully = options.randomFully ?? true;
    this.#size = options.restoreSize === undefined ? kubeProxyRestoreBytes : options.restoreSize;
    this.#restore = options.restore ?? ((rs, doc, o) => {
      rs.restore(doc, o);
    });
    this.#detector = detectorFor(config, node);
    ipvs.sysctl.conntrack = true;
    ipvs.sysctl.expireNodestConn = true;
    ipvs.sysctl.expireQuiescentTemplate = true;
    if (options.setConnReuseModeZero === true) ipvs.sysctl.connReuseMode = 0;
    netfilter.host.ipForward = true;
    const t = config.ipvs;
    if (t.tcpTimeoutSeconds > 0 || t.tcpFinTimeoutSeconds > 0 || t.udpTimeoutSeconds > 0) {
      ipvs.setTimeouts({ tcp: t.tcpTimeoutSeconds, tcpfin: t.tcpFinTimeoutSeconds, udp: t.udpTimeoutSeconds });
    }
  }

  /** Addresses bound to kube-ipvs0. */
  get boundAddresses(): ReadonlySet<IPv4> {
    return this.#bound;
  }

  /** The graceful-termination list, in insertion order. */
  get terminating(): readonly TerminatingRealServer[] {
    return [...this.#terminating.values()];
  }

  /** What the last sync consumed from the cluster's change tracking. */
  get lastChanges(): ClusterChanges | null {
    return this.#lastChanges;
  }

  /** Replaces the node object (kube-proxy only uses its name and IP). */
  setNode(node: Node): void {
    this.#node = node;
  }

  /**
   * `GracefulTerminationManager.Run`: every real server already in IPVS
   * (leftovers of a previous kube-proxy) goes through graceful deletion.
   *
   * @returns the IPVS operations made
   */
  startup(now: number): IpvsOperationCounts {
    const ops = newOps();
    ops.getVirtualServers++;
    for (const svc of [...this.ipvs.services()]) {
      if (svc.fwmark !== 0) continue;
      const protocol = PROTO_OF.get(svc.proto);
      if (protocol === undefined) continue;
      ops.getRealServers++;
      const vs: VirtualServerSpec = {
        addr: svc.addr,
        port: svc.port,
        protocol,
        scheduler: svc.schedulerName,
        flags: appliedFlags(svc),
        timeout: appliedTimeout(svc),
      };
      for (const d of [...svc.dests]) this.#gracefulDelete(vs, d.addr, d.port, now, ops);
    }
    return freezeOps(ops);
  }

  /**
   * `tryDeleteRs`: retries every real server of the graceful-termination
   * list and deletes those without connections.
   *
   * @returns the names deleted and the operations made
   */
  gracefulCheck(): { readonly deleted: readonly string[]; readonly operations: IpvsOperationCounts } {
    const ops = newOps();
    const deleted: string[] = [];
    for (const item of [...this.#terminating.values()]) {
      if (this.#deleteRs(item.vs, item.addr, item.port, ops)) {
        this.#terminating.delete(item.name);
        deleted.push(item.name);
      }
    }
    return { deleted, operations: freezeOps(ops) };
  }

  // deleteRsFunc (graceful_termination.go): true when the real server is gone afterwards
  #deleteRs(vs: VirtualServerSpec, addr: IPv4, port: number, ops: MutableOps): boolean {
    ops.getRealServers++;
    const svc = this.ipvs.getService(keyOf(vs));
    if (svc === undefined) return false; // GetRealServers fails: the item stays
    const d = svc.dests.find((x) => x.addr === addr && x.port === port);
    if (d === undefined) return true; // "can't find the real server": dropped from the list
    // IsRsGracefulTerminationNeeded: not for UDP and SCTP
    if (vs.protocol === 'TCP' && d.activeConns + d.inactConns !== 0) return false;
    ops.deleteRealServer++;
    this.ipvs.deleteDest(keyOf(vs), addr, port);
    return true;
  }

  // GracefulDeleteRS
  #gracefulDelete(vs: VirtualServerSpec, addr: IPv4, port: number, now: number, ops: MutableOps): void {
    if (this.#deleteRs(vs, addr, port, ops)) return;
    ops.updateRealServer++;
    this.ipvs.editDest(keyOf(vs), addr, port, { weight: 0 });
    const name = uniqueRealServerName(vs, addr, port);
    if (!this.#terminating.has(name)) this.#terminating.set(name, { name, vs, addr, port, since: now });
  }

  /**
   * `CategorizeEndpoints` of a service port's endpoints `eps` (`cluster.endpoints(svc, nodeName)`) and
   * their KUBE-LOOP-BACK entries, remembered while they (the same array) and the node stay.
   */
  #endpointInfo(svc: ServicePortInfo, eps: readonly Endpoint[], nodeName: string): EndpointInfo {
    const hit = this.#categories.get(eps);
    if (hit?.svc === svc && hit.node === nodeName) return hit;
    const proto = svc.protocol.toLowerCase();
    const loopback: string[] = [];
    // hairpin: local endpoints (all of them, whatever their state)
    for (const ep of eps) if (isLocalEndpoint(ep, nodeName)) loopback.push(`${ep.ipString},${proto}:${ep.port},${ep.ipString}`);
    const info: EndpointInfo = { svc, node: nodeName, cat: categorizeEndpoints(eps, svc, nodeName), loopback };
    this.#categories.set(eps, info);
    return info;
  }

  /** The service ports by ServicePortName string then protocol (kube-proxy's map order, made stable); re-sorted when Services change. */
  #sortedPorts(): readonly ServicePortInfo[] {
    if (this.#sorted === null || this.#sortedVersion !== this.cluster.portsVersion) {
      this.#sorted = this.cluster.servicePorts().sort((a, b) => byteCompare(a.nameString, b.nameString) || byteCompare(a.protocol, b.protocol));
      this.#sortedVersion = this.cluster.portsVersion;
      this.#sortedServices = new Set(this.#sorted.map((p) => p.service)).size;
    }
    return this.#sorted;
  }

  /** The node's addresses for NodePort virtual servers (`nodeIPs` in syncProxyRules). */
  #nodeAddresses(): { all: IPv4[]; nodePort: IPv4[] } {
    const all: IPv4[] = [];
    const seen = new Set<IPv4>();
    for (const iface of this.netfilter.host.interfaces) {
      if (iface === null) continue;
      for (const a of iface.addresses) {
        // GetAllLocalAddressesExcept(kube-ipvs0), loopback excluded (isValidForSet)
        if (cidrContains(LOOPBACK_NET, a.address) || seen.has(a.address)) continue;
        seen.add(a.address);
        all.push(a.address);
      }
    }
    const npa = this.#config.nodePortAddresses;
    const nodeIP = this.#node.internalIPs[0] ?? null;
    const cidrs: Cidr[] = npa.flatMap((a) => (a.kind === 'cidr' ? [a.cidr] : nodeIP === null ? [] : [parseCidr(`${formatIPv4(nodeIP)}/32`)]));
    if (npa.length === 0 || cidrs.some((c) => c.prefixLength === 0)) return { all, nodePort: all };
    const nodePort: IPv4[] = [];
    for (const iface of this.netfilter.host.interfaces) {
      if (iface === null) continue;
      for (const a of iface.addresses) {
        if (cidrContains(LOOPBACK_NET, a.address) || nodePort.includes(a.address)) continue;
        if (cidrs.some((c) => cidrContains(c, a.address))) nodePort.push(a.address);
      }
    }
    return { all, nodePort };
  }

  /**
   * One `syncProxyRules` of IPVS mode at simulated time `now`.
   */
  sync(now: number, trigger: SyncTrigger = 'manual'): SyncReport {
    const t0 = performance.now();
    const ops = newOps();
    const ipsetOps = { create: 0, list: 0, add: 0, del: 0, failed: 0 };
    let iptablesCommands = 0;
    let addressesBound = 0;
    let addressesUnbound = 0;
    const changes = this.cluster.checkoutChanges(this.#node.name);
    this.#lastChanges = changes;
    const nodeName = this.#node.name;
    const nodeIP = this.#node.internalIPs[0] ?? null;
    const ruleset = this.netfilter.ruleset;
    const store = this.netfilter.stateful.ipsets;
    let error: Error | null = null;

    // createAndLinkKubeChain
    try {
      for (const [table, chains] of [
        ['nat', NAT_CHAINS],
        ['filter', FILTER_CHAINS],
      ] as const) {
        for (const c of chains) {
          iptablesCommands++;
          if (ruleset.chain(table, c) === undefined) {
            ruleset.apply(table, { op: 'newChain', chain: c, line: 1 });
            iptablesCommands++;
          }
        }
      }
      iptablesCommands += ensureJumps(ruleset, IPVS_MODE_JUMP_RULES);
    } catch (e) {
      error = asError(e);
    }

    // ensureIPSet + resetEntries
    // the entries of each set: by element key (see elementKey) for the types that have one, else as text
    const active = new Map<string, Map<number, string> | Set<string>>();
    for (const s of KUBE_IPSETS) {
      ipsetOps.create++;
      store.create(s.name, s.type, s.type === 'bitmap:port' ? { range: { from: 0, to: 65535 } } : { hashsize: 1024, maxelem: 65536 }, true);
      active.set(s.name, KEYED_TYPES.has(s.type) ? new Map() : new Set());
    }
    const entry = (setName: string, text: string): void => {
      (active.get(setName) as Set<string>).add(text);
    };
    const keyedEntry = (setName: string, key: number, text: string): void => {
      (active.get(setName) as Map<number, string>).set(key, text);
    };

    // the virtual servers synced (kube-proxy's activeIPVSServices by VirtualServer.String(); the engine
    // keeps one object per virtual server, and nothing deletes one before cleanLegacyService)
    const activeServices = new Set<VirtualService>();
    const activeBind = new Set<IPv4>();
    // addresses bound by this sync (before them, #bound is what was bound when it started: it only grows until the cleanup)
    const boundNow = new Set<IPv4>();
    const { all: nodeAddressList, nodePort: nodePortIPs } = this.#nodeAddresses();
    const nodeAddressSet = new Set(nodeAddressList);
    const noLocalInternal = new Set<string>();
    const noLocalExternal = new Set<string>();
    const outFilter: { ip: IPv4; protocol: L4Protocol; port: number }[] = [];

    const ports = this.#shuffle === null ? this.#sortedPorts() : shuffleInPlace(this.#sortedPorts().slice(), this.#shuffle);
    let hasNodePort = false;
    for (const p of ports) if (p.nodePort !== 0) hasNodePort = true;
    const nodeIPs = hasNodePort ? nodePortIPs : [];

    const vsFor = (svc: ServicePortInfo, addr: IPv4, port: number): VirtualServerSpec => {
      let flags = 0;
      let timeout = 0;
      if (svc.sessionAffinity === 'ClientIP') {
        flags |= ServiceFlag.PERSISTENT;
        timeout = svc.stickyMaxAgeSeconds;
      }
      if (this.scheduler === 'mh') flags |= ServiceFlag.SCHED2; // FlagSourceHash = 0x10
      return { addr, port, protocol: svc.protocol, scheduler: this.scheduler, flags, timeout };
    };

    // the virtual server as applied, or null when adding or editing it failed
    const syncService = (vs: VirtualServerSpec, bind: boolean): VirtualService | null => {
      const key = keyOf(vs);
      ops.getVirtualServer++;
      let applied = this.ipvs.getService(key);
      const opts = (): ServiceOptions => ({
        scheduler: vs.scheduler,
        persistent: (vs.flags & ServiceFlag.PERSISTENT) !== 0,
        schedFlags: vs.flags & (ServiceFlag.SCHED1 | ServiceFlag.SCHED2 | ServiceFlag.SCHED3),
        netmask: 0xffffffff,
        ...(vs.timeout > 0 ? { timeout: vs.timeout } : {}),
      });
      try {
        if (applied === undefined) {
          ops.addVirtualServer++;
          applied = this.ipvs.addService(key, opts());
        } else if (applied.schedulerName !== vs.scheduler || appliedFlags(applied) !== vs.flags || appliedTimeout(applied) !== vs.timeout) {
          ops.updateVirtualServer++;
          this.ipvs.editService(key, opts());
        }
      } catch {
        return null;
      }
      if (bind && (boundNow.has(vs.addr) || !this.#bound.has(vs.addr))) {
        // EnsureAddressBind
        addressesBound++;
        if (!this.#bound.has(vs.addr)) {
          this.#bound.add(vs.addr);
          boundNow.add(vs.addr);
          this.netfilter.host.addLocalAddress(vs.addr);
        }
      }
      return applied;
    };

    // The applied real servers as parallel arrays (a snapshot: the loops below add and delete while they
    // read) and which of them are wanted; scratch reused by every syncEndpoint of this sync. Small
    // services are searched linearly, large ones through a key → index map (numeric keys above 2^31 make
    // Map/Set lookups slow, and kube-proxy's maps here hold one service's real servers).
    const curAddr: number[] = [];
    const curPort: number[] = [];
    const curWeight: number[] = [];
    const curWanted: boolean[] = [];
    const curIndex = new Map<number, number>();
    const seen = new Set<number>();
    // `applied`: what syncService returned just before (GetVirtualServer reads the same virtual server)
    const syncEndpoint = (svc: ServicePortInfo, epInfo: EndpointInfo, onlyLocal: boolean, vs: VirtualServerSpec, applied: VirtualService): void => {
      const key = keyOf(vs);
      ops.getVirtualServer++;
      ops.getRealServers++;
      const dests = applied.dests;
      const nCur = dests.length;
      for (let i = 0; i < nCur; i++) {
        const d = dests[i]!;
        curAddr[i] = d.addr;
        curPort[i] = d.port;
        // weights are read only by the initial sync, which edits while it reads: hence the snapshot
        curWeight[i] = d.weight;
        curWanted[i] = false;
      }
      const bigCur = nCur > SMALL_DESTS;
      if (bigCur) {
        curIndex.clear();
        for (let i = 0; i < nCur; i++) curIndex.set(curAddr[i]! * 65536 + curPort[i]!, i);
      }
      const cat = epInfo.cat;
      let eps: readonly Endpoint[];
      if (onlyLocal) {
        if (cat.localEndpoints.length > 0) eps = cat.localEndpoints;
        else {
          // kubernetes/kubernetes#97081: fall back to cluster endpoints for local pods
          eps = cat.clusterEndpoints;
          if (cat.hasAnyEndpoints && svc.internalPolicyLocal) noLocalInternal.add(svc.service);
          if (cat.hasAnyEndpoints && svc.externalPolicyLocal) noLocalExternal.add(svc.service);
        }
      } else {
        eps = cat.clusterEndpoints;
      }
      if (this.#shuffle !== null) eps = shuffleInPlace(eps.slice(), this.#shuffle);
      const bigEps = eps.length > SMALL_DESTS;
      if (bigEps) seen.clear();
      for (let j = 0; j < eps.length; j++) {
        const ep = eps[j]!;
        // skip an ip:port already visited (the `wanted` set of the real-server diff)
        if (bigEps) {
          const k = ep.ip * 65536 + ep.port;
          if (seen.has(k)) continue;
          seen.add(k);
        } else {
          let dup = false;
          for (let q = 0; q < j; q++) {
            const o = eps[q]!;
            if (o.ip === ep.ip && o.port === ep.port) {
              dup = true;
              break;
            }
          }
          if (dup) continue;
        }
        let at = -1;
        if (bigCur) at = curIndex.get(ep.ip * 65536 + ep.port) ?? -1;
        else {
          for (let i = 0; i < nCur; i++) {
            if (curAddr[i] === ep.ip && curPort[i] === ep.port) {
              at = i;
              break;
            }
          }
        }
        if (at >= 0) {
          curWanted[at] = true;
          if (this.#initialSync) {
            for (let i = 0; i < nCur; i++) {
              if (curWeight[i] !== 1) {
                // kube-proxy passes the new endpoint, not the mismatching dest
                ops.updateRealServer++;
                this.ipvs.editDest(key, ep.ip, ep.port, { weight: 1 });
              }
            }
          }
          if (this.#terminating.size === 0) continue;
          const name = uniqueRealServerName(vs, ep.ip, ep.port);
          if (!this.#terminating.has(name)) continue;
          // MoveRSOutofGracefulDeleteList: delete now, then add again below
          ops.deleteRealServer++;
          this.ipvs.deleteDest(key, ep.ip, ep.port);
          this.#terminating.delete(name);
        }
        ops.addRealServer++;
        try {
          this.ipvs.addDest(key, ep.ip, ep.port, { weight: 1, fwd: ForwardMethod.MASQ });
        } catch (e) {
          if (!(e instanceof OperationError)) throw e;
        }
      }
      for (let i = 0; i < nCur; i++) {
        if (curWanted[i]!) continue;
        const addr = curAddr[i]!;
        const port = curPort[i]!;
        if (this.#terminating.size > 0 && this.#terminating.has(uniqueRealServerName(vs, addr, port))) continue;
        this.#gracefulDelete(vs, addr, port, now, ops);
      }
    };

    // KUBE-IPVS-IPS gets every bound address (a set: its order does not matter, the diff below sorts)
    const ipvsIps = active.get(KubeIpset.IPVS_IPS) as Map<number, string>;
    const bindText = (addr: IPv4, text: string | null): void => {
      if (activeBind.has(addr)) return;
      activeBind.add(addr);
      ipvsIps.set(addr >>> 0, text ?? formatIPv4(addr));
    };
    const lower = (p: L4Protocol): string => p.toLowerCase();
    for (const svc of ports) {
      const proto = lower(svc.protocol);
      const epInfo = this.#endpointInfo(svc, this.cluster.endpoints(svc, nodeName), nodeName);
      for (const e of epInfo.loopback) entry(KubeIpset.LOOP_BACK, e);
      // cluster IP
      let clusterText = CLUSTER_IP_TEXT.get(svc);
      if (clusterText === undefined) {
        const ip = formatIPv4(svc.clusterIP);
        clusterText = { ip, entry: `${ip},${proto}:${svc.port}`, key: ipPortKey(svc.clusterIP, svc.protocol, svc.port) };
        CLUSTER_IP_TEXT.set(svc, clusterText);
      }
      keyedEntry(KubeIpset.CLUSTER_IP, clusterText.key, clusterText.entry);
      const cvs = vsFor(svc, svc.clusterIP, svc.port);
      const capplied = syncService(cvs, true);
      if (capplied !== null) {
        activeServices.add(capplied);
        bindText(cvs.addr, clusterText.ip);
        syncEndpoint(svc, epInfo, svc.internalPolicyLocal, cvs, capplied);
      }
      // external IPs
      for (const ip of svc.externalIPs) {
        keyedEntry(
          svc.externalPolicyLocal ? KubeIpset.EXTERNAL_IP_LOCAL : KubeIpset.EXTERNAL_IP,
          ipPortKey(ip, svc.protocol, svc.port),
          `${formatIPv4(ip)},${proto}:${svc.port}`,
        );
        const vs = vsFor(svc, ip, svc.port);
        const shouldBind = !nodeAddressSet.has(ip);
        const applied = syncService(vs, shouldBind);
        if (applied !== null) {
          activeServices.add(applied);
          if (shouldBind) bindText(ip, null);
          syncEndpoint(svc, epInfo, svc.externalPolicyLocal, vs, applied);
        }
      }
      // load-balancer ingress
      for (const ip of svc.loadBalancerVIPs) {
        const e = `${formatIPv4(ip)},${proto}:${svc.port}`;
        const k = ipPortKey(ip, svc.protocol, svc.port);
        keyedEntry(KubeIpset.LOAD_BALANCER, k, e);
        if (svc.externalPolicyLocal) keyedEntry(KubeIpset.LOAD_BALANCER_LOCAL, k, e);
        if (svc.loadBalancerSourceRanges.length > 0) {
          keyedEntry(KubeIpset.LOAD_BALANCER_FW, k, e);
          let allowFromNode = false;
          for (const c of svc.loadBalancerSourceRanges) {
            const cidrText = c.prefixLength === 32 ? formatIPv4(c.address) : `${formatIPv4(c.address)}/${c.prefixLength}`;
            entry(KubeIpset.LOAD_BALANCER_SOURCE_CIDR, `${e},${cidrText}`);
            if (nodeIP !== null && cidrContains(c, nodeIP)) allowFromNode = true;
          }
          if (allowFromNode) entry(KubeIpset.LOAD_BALANCER_SOURCE_IP, `${e},${formatIPv4(ip)}`);
          else outFilter.push({ ip, protocol: svc.protocol, port: svc.port });
        }
        const vs = vsFor(svc, ip, svc.port);
        const shouldBind = !nodeAddressSet.has(ip);
        const applied = syncService(vs, shouldBind);
        if (applied !== null) {
          activeServices.add(applied);
          if (shouldBind) bindText(ip, null);
          syncEndpoint(svc, epInfo, svc.externalPolicyLocal, vs, applied);
        }
      }
      // node ports
      if (svc.nodePort !== 0 && nodeIPs.length > 0) {
        const local = svc.externalPolicyLocal;
        if (svc.protocol === 'SCTP') {
          for (const ip of nodeIPs) {
            const e = `${formatIPv4(ip)},sctp:${svc.nodePort}`;
            const k = ipPortKey(ip, 'SCTP', svc.nodePort);
            keyedEntry(KubeIpset.NODE_PORT_SCTP, k, e);
            if (local) keyedEntry(KubeIpset.NODE_PORT_LOCAL_SCTP, k, e);
          }
        } else {
          const tcp = svc.protocol === 'TCP';
          const text = String(svc.nodePort);
          keyedEntry(tcp ? KubeIpset.NODE_PORT_TCP : KubeIpset.NODE_PORT_UDP, svc.nodePort, text);
          if (local) keyedEntry(tcp ? KubeIpset.NODE_PORT_LOCAL_TCP : KubeIpset.NODE_PORT_LOCAL_UDP, svc.nodePort, text);
        }
        for (const ip of nodeIPs) {
          const vs = vsFor(svc, ip, svc.nodePort);
          const applied = syncService(vs, false);
          if (applied !== null) {
            activeServices.add(applied);
            syncEndpoint(svc, epInfo, local, vs, applied);
          }
        }
      }
      if (svc.healthCheckNodePort !== 0) keyedEntry(KubeIpset.HEALTH_CHECK_NODE_PORT, svc.healthCheckNodePort, String(svc.healthCheckNodePort));
    }

    // Whether `ipset add -exist` of `elem` is sure to be refused with HASH_FULL, the answer of the add
    // itself without its thrown error (tens of thousands per sync at 100k Services, most of the sync's
    // cost): a hash set without timeouts or nomatch elements at maxelem refuses every element it does
    // not hold (mtype_add, ip_set_hash_gen.h), and `test` parses the element as `add` does. Anything
    // else (a range, a parse error, a held element) is left to the add.
    const refusedAsFull = (name: string, elem: string): boolean => {
      const set = store.get(name);
      if (set === undefined || set.type.bitmap || set.config.timeout !== null || (set.type.features & IpsetFeature.NOMATCH) !== 0) return false;
      if (set.liveCount(store.now) < set.config.maxelem) return false;
      try {
        return !store.test(name, elem);
      } catch {
        return false;
      }
    };
    // syncIPSetEntries: list, delete stale, add new (sorted, as sets.String.List() is); a refused
    // add or delete (HASH_FULL past maxelem) is logged by kube-proxy, which goes on with the sync
    for (const s of KUBE_IPSETS) {
      ipsetOps.list++;
      const info = store.list(s.name)[0]!;
      const type = s.type;
      const wanted = active.get(s.name)!;
      const stale: string[] = [];
      const fresh: string[] = [];
      if (wanted instanceof Map) {
        // By element key: a listed element is wanted iff its key is (the key is one-to-one with the
        // text formatEntry prints and the entries above are written as), so only stale elements are formatted.
        let held = 0;
        for (const m of info.members) {
          const k = elementKey(type, m);
          if (k >= 0 && wanted.has(k)) held++;
          else stale.push(formatEntry(type, m));
        }
        if (held < wanted.size) {
          const heldKeys = new Set<number>();
          for (const m of info.members) heldKeys.add(elementKey(type, m));
          for (const [k, e] of wanted) if (!heldKeys.has(k)) fresh.push(e);
        }
      } else {
        const current = new Set<string>();
        for (const m of info.members) current.add(formatEntry(type, m));
        for (const e of current) if (!wanted.has(e)) stale.push(e);
        for (const e of wanted) if (!current.has(e)) fresh.push(e);
      }
      for (const e of stale.sort()) {
        ipsetOps.del++;
        try {
          store.del(s.name, e, true);
        } catch (err) {
          if (!(err instanceof IpsetError)) throw err;
          ipsetOps.failed++;
        }
      }
      fresh.sort();
      for (let i = 0; i < fresh.length; i++) {
        ipsetOps.add++;
        if (refusedAsFull(s.name, fresh[i]!)) {
          ipsetOps.failed++;
          continue;
        }
        try {
          store.add(s.name, fresh[i]!, { exist: true });
        } catch (err) {
          if (!(err instanceof IpsetError)) throw err;
          ipsetOps.failed++;
        }
      }
    }

    // writeIptablesRules + RestoreAll(--noflush --counters)
    const { doc, natRules, filterRules } = this.#iptablesRules(active, outFilter);
    let restoreBytes: number | null = null;
    let restoreRan = false;
    const restoreKind = this.#restoredOnce ? 'replace' : 'full';
    if (error === null) {
      try {
        restoreRan = true;
        if (this.#size !== null) restoreBytes = this.#size(doc);
        this.#restore(ruleset, doc, { noflush: true, counters: true });
      } catch (e) {
        error = asError(e);
      }
    }
    const success = error === null;
    if (success) {
      this.#restoredOnce = true;
      // remove superfluous addresses from kube-ipvs0
      for (const a of [...this.#bound]) {
        if (activeBind.has(a)) continue;
        addressesUnbound++;
        this.#bound.delete(a);
        this.netfilter.host.removeLocalAddress(a);
      }
      // cleanLegacyService
      ops.getVirtualServers++;
      for (const svc of [...this.ipvs.services()]) {
        if (svc.fwmark !== 0) continue;
        if (!PROTO_OF.has(svc.proto)) continue;
        if (this.#config.ipvs.excludeCIDRs.some((c) => cidrContains(c, svc.addr))) continue;
        if (activeServices.has(svc)) continue;
        ops.deleteVirtualServer++;
        this.ipvs.deleteService({ proto: svc.proto, addr: svc.addr, port: svc.port });
      }
    }
    this.#initialSync = false;

    let virtualServers = 0;
    let realServers = 0;
    for (const svc of this.ipvs.services()) {
      virtualServers++;
      realServers += svc.dests.length;
    }
    const frozen = freezeOps(ops);
    const ipsetTotal = ipsetOps.create + ipsetOps.list + ipsetOps.add + ipsetOps.del;
    const kernelCost = this.costModel.cost({
      restoreKind: restoreRan ? restoreKind : null,
      tableRules: natRules + filterRules,
      rulesWritten: natRules + filterRules,
      ipvsOperations: frozen.reads + frozen.writes,
      ipsetOperations: ipsetTotal,
      iptablesCommands,
    });
    return {
      mode: 'ipvs',
      time: now,
      trigger,
      kind: 'full',
      success,
      error,
      restoreFailed: restoreRan && !success,
      chainsWritten: { filter: FILTER_CHAINS.length, nat: NAT_CHAINS.length },
      rulesWritten: { filter: filterRules, nat: natRules },
      chainsDeleted: 0,
      ruleCounts: { filter: filterRules, nat: natRules },
      servicesWritten: this.#sortedServices,
      changedServices: changes.services.size,
      restoreBytes,
      iptablesCommands,
      ipvs: {
        operations: frozen,
        ipset: ipsetOps,
        addressesBound,
        addressesUnbound,
        virtualServers,
        realServers,
        terminating: this.#terminating.size,
      },
      largeClusterMode: false,
      noLocalEndpoints: { internal: noLocalInternal.size, external: noLocalExternal.size },
      kernelCost,
      wallTimeMs: performance.now() - t0,
    };
  }

  // writeIptablesRules (proxier.go) as a restore document: *nat then *filter, as kube-proxy concatenates them.
  #iptablesRules(
    active: ReadonlyMap<string, { readonly size: number }>,
    outFilter: readonly { ip: IPv4; protocol: L4Protocol; port: number }[],
  ): { doc: RestoreDocument; natRules: number; filterRules: number } {
    const nat: RuleBuffer = { chains: [...NAT_CHAINS], rules: [] };
    const filter: RuleBuffer = { chains: [...FILTER_CHAINS], rules: [] };
    const nonEmpty = (name: string): boolean => (active.get(name)?.size ?? 0) > 0;
    const mark = (1 << this.#config.iptables.masqueradeBit) >>> 0;
    const add = (buf: RuleBuffer, chain: string, rule: RuleSpec): void => {
      buf.rules.push({ chain, rule });
    };

    // Dismiss connects to localhost early in the service chain
    add(nat, IpvsModeChain.SERVICES, { src: net(LOOPBACK_NET), matches: [], target: verdict('RETURN') });
    for (const j of IPSET_JUMPS) {
      if (!nonEmpty(j.set)) continue;
      const rule: RuleSpec = {
        ...(j.proto !== null ? { proto: { proto: PROTO_NUMBER[j.proto], invert: false } } : {}),
        matches: [comment(COMMENT.get(j.set)!), set(j.set, j.dirs)],
        target: targetOf(j.to),
      };
      add(j.table === 'nat' ? nat : filter, j.from, rule);
    }
    if (nonEmpty(KubeIpset.CLUSTER_IP)) {
      const base = [comment(COMMENT.get(KubeIpset.CLUSTER_IP)!)];
      const d = this.#detector;
      if (this.#config.iptables.masqueradeAll) {
        add(nat, IpvsModeChain.SERVICES, { matches: [...base, set(KubeIpset.CLUSTER_IP, ['dst', 'dst'])], target: jump(IpvsModeChain.MARK_MASQ) });
      } else if (d.kind === 'cidr') {
        add(nat, IpvsModeChain.SERVICES, {
          src: net(d.cidr, true),
          matches: [...base, set(KubeIpset.CLUSTER_IP, ['dst', 'dst'])],
          target: jump(IpvsModeChain.MARK_MASQ),
        });
      } else if (d.kind === 'iface') {
        add(nat, IpvsModeChain.SERVICES, {
          inIface: { name: d.name, invert: true },
          matches: [...base, set(KubeIpset.CLUSTER_IP, ['dst', 'dst'])],
          target: jump(IpvsModeChain.MARK_MASQ),
        });
      } else {
        // no detector: masquerade OUTPUT traffic from a VIP to a service port
        add(nat, IpvsModeChain.SERVICES, { matches: [...base, set(KubeIpset.CLUSTER_IP, ['src', 'dst'])], target: jump(IpvsModeChain.MARK_MASQ) });
      }
    }
    const externalIPRules = (name: string): void => {
      const base: MatchSpec[] = [comment(COMMENT.get(name)!), set(name, ['dst', 'dst'])];
      // `-m physdev ! --physdev-is-in` left out: no bridges in lbsim
      add(nat, IpvsModeChain.SERVICES, {
        matches: [...base, { module: 'addrtype', srcType: { types: AddrTypeBit.LOCAL, invert: true }, limitIfaceIn: false, limitIfaceOut: false }],
        target: verdict('ACCEPT'),
      });
      add(nat, IpvsModeChain.SERVICES, {
        matches: [...base, { module: 'addrtype', dstType: { types: AddrTypeBit.LOCAL, invert: false }, limitIfaceIn: false, limitIfaceOut: false }],
        target: verdict('ACCEPT'),
      });
    };
    if (nonEmpty(KubeIpset.EXTERNAL_IP)) {
      add(nat, IpvsModeChain.SERVICES, {
        matches: [comment(COMMENT.get(KubeIpset.EXTERNAL_IP)!), set(KubeIpset.EXTERNAL_IP, ['dst', 'dst'])],
        target: jump(IpvsModeChain.MARK_MASQ),
      });
      externalIPRules(KubeIpset.EXTERNAL_IP);
    }
    if (nonEmpty(KubeIpset.EXTERNAL_IP_LOCAL)) externalIPRules(KubeIpset.EXTERNAL_IP_LOCAL);
    add(nat, IpvsModeChain.SERVICES, {
      matches: [{ module: 'addrtype', dstType: { types: AddrTypeBit.LOCAL, invert: false }, limitIfaceIn: false, limitIfaceOut: false }],
      target: jump(IpvsModeChain.NODE_PORT),
    });
    add(nat, IpvsModeChain.LOAD_BALANCER, { matches: [], target: jump(IpvsModeChain.MARK_MASQ) });
    add(filter, IpvsModeChain.SOURCE_RANGES_FIREWALL, { matches: [], target: verdict('DROP') });
    for (const e of outFilter) {
      // `-s V -m ipvs --vaddr V --vproto P --vport N -j DROP`, as lbsim's netfilter sees the packet (see module doc)
      add(filter, IpvsModeChain.IPVS_OUT_FILTER, {
        src: host(e.ip),
        dst: host(e.ip),
        proto: { proto: PROTO_NUMBER[e.protocol], invert: false },
        matches: [
          e.protocol === 'TCP'
            ? { module: 'tcp', dport: { min: e.port, max: e.port, invert: false } }
            : e.protocol === 'UDP'
              ? { module: 'udp', dport: { min: e.port, max: e.port, invert: false } }
              : { module: 'sctp', dport: { min: e.port, max: e.port, invert: false } },
        ],
        target: verdict('DROP'),
      });
    }
    // acceptIPVSTraffic: must be the last rules of KUBE-SERVICES
    for (const name of [KubeIpset.CLUSTER_IP, KubeIpset.LOAD_BALANCER]) {
      if (nonEmpty(name)) add(nat, IpvsModeChain.SERVICES, { matches: [set(name, ['dst', 'dst'])], target: verdict('ACCEPT') });
    }
    add(filter, IpvsModeChain.FORWARD, {
      matches: [comment('kubernetes forwarding rules'), { module: 'mark', value: mark, mask: mark, invert: false }],
      target: verdict('ACCEPT'),
    });
    add(filter, IpvsModeChain.FORWARD, {
      matches: [
        comment('kubernetes forwarding conntrack rule'),
        { module: 'conntrack', ctstate: { states: CtStateBit.RELATED | CtStateBit.ESTABLISHED, invert: false } },
      ],
      target: verdict('ACCEPT'),
    });
    add(filter, IpvsModeChain.NODE_PORT, {
      matches: [comment(COMMENT.get(KubeIpset.HEALTH_CHECK_NODE_PORT)!), set(KubeIpset.HEALTH_CHECK_NODE_PORT, ['dst'])],
      target: verdict('ACCEPT'),
    });
    for (const [name, dirs] of [
      [KubeIpset.LOAD_BALANCER, ['dst', 'dst']],
      [KubeIpset.CLUSTER_IP, ['dst', 'dst']],
      [KubeIpset.EXTERNAL_IP, ['dst', 'dst']],
      [KubeIpset.EXTERNAL_IP_LOCAL, ['dst', 'dst']],
      [KubeIpset.HEALTH_CHECK_NODE_PORT, ['dst']],
    ] as const) {
      add(filter, IpvsModeChain.IPVS_FILTER, { matches: [set(name, dirs)], target: verdict('RETURN') });
    }
    add(filter, IpvsModeChain.IPVS_FILTER, {
      matches: [{ module: 'conntrack', ctstate: { states: CtStateBit.NEW, invert: false } }, set(KubeIpset.IPVS_IPS, ['dst'])],
      target: { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' },
    });
    add(nat, IpvsModeChain.POSTROUTING, { matches: [{ module: 'mark', value: mark, mask: mark, invert: true }], target: verdict('RETURN') });
    add(nat, IpvsModeChain.POSTROUTING, { matches: [], target: { kind: 'MARK', value: mark, mask: 0 } });
    add(nat, IpvsModeChain.POSTROUTING, {
      matches: [comment('kubernetes service traffic requiring SNAT')],
      target: { kind: 'MASQUERADE', ports: null, random: false, randomFully: this.#randomFully },
    });
    add(nat, IpvsModeChain.MARK_MASQ, { matches: [], target: { kind: 'MARK', value: mark, mask: mark } });

    let line = 0;
    const block = (table: 'nat' | 'filter', buf: RuleBuffer): RestoreTableBlock => {
      const start = ++line;
      const chains: ChainDeclaration[] = buf.chains.map((name) => ({ name, policy: null, counters: { packets: 0, bytes: 0 }, line: ++line }));
      const commands: TableCommand[] = buf.rules.map((r) => ({ op: 'append', chain: r.chain, rule: r.rule, counters: null, line: ++line }));
      return { table, line: start, chains, commands, commitLine: ++line };
    };
    return { doc: { blocks: [block('nat', nat), block('filter', filter)] }, natRules: nat.rules.length, filterRules: filter.rules.length };
  }
}

/** The set types whose entries {@link elementKey} keys. */
const KEYED_TYPES: ReadonlySet<KubeIpsetType> = new Set<KubeIpsetType>(['hash:ip', 'hash:ip,port', 'bitmap:port']);

/** The key of a `hash:ip,port` entry `ip,proto:port` IPVS mode writes (TCP, UDP or SCTP). */
function ipPortKey(ip: IPv4, protocol: L4Protocol, port: number): number {
  return (ip >>> 0) * 0x40000 + PROTO_INDEX[protocol] * 0x10000 + port;
}

/**
 * A listed element of a {@link KEYED_TYPES} set as a number, one-to-one with the
 * text {@link formatEntry} prints for it: the address (hash:ip), the port
 * (bitmap:port), {@link ipPortKey} (hash:ip,port); -1 for a protocol IPVS mode
 * never writes (such an element is never wanted).
 */
function elementKey(type: KubeIpsetType, m: { ip: number; proto: number; port: number }): number {
  if (type === 'hash:ip') return m.ip >>> 0;
  if (type === 'bitmap:port') return m.port;
  const p = m.proto === Protocol.TCP ? 0 : m.proto === Protocol.UDP ? 1 : m.proto === Protocol.SCTP ? 2 : -1;
  return p < 0 ? -1 : (m.ip >>> 0) * 0x40000 + p * 0x10000 + m.port;
}

/** An element as `ipset list` prints it (the strings kube-proxy diffs against), any protocol included. */
function formatEntry(type: KubeIpsetType, m: IpsetValue): string {
  return formatElement(IPSET_TYPES.get(type)!, m);
}
