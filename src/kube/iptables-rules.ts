import { InvalidArgumentError } from '../errors.js';
import { cidrContains, formatIPv4, parseCidr } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import { CtStateBit, AddrTypeBit } from '../netfilter/ast.js';
import type {
  AddrMatch,
  BuiltinChainName,
  ChainDeclaration,
  MatchSpec,
  RecentMatch,
  RestoreDocument,
  RuleSpec,
  SavedChain,
  SavedRule,
  SavedTable,
  TableCommand,
  TargetSpec,
} from '../netfilter/ast.js';
import { shuffleInPlace } from '../sim/rng.js';
import type { Rng } from '../sim/rng.js';
import { portProtoHash } from './chain-names.js';
import { categorizeEndpoints } from './cluster.js';
import type { Cluster, Endpoint, ServicePortInfo } from './cluster.js';
import type { KubeProxyConfiguration, L4Protocol, Node } from './objects.js';

/**
 * kube-proxy's iptables mode as data: what one full `syncProxyRules`
 * (kubernetes/kubernetes `pkg/proxy/iptables/proxier.go`, ~v1.31+, with the
 * nfacct counters) writes with `iptables-restore --noflush --counters`, plus
 * the jump rules it ensures in the built-in chains, as {@link SavedTable}s of
 * the netfilter AST. Rule order, matches, comments, probabilities and targets
 * follow the Go code line by line; the expected output of upstream
 * `TestOverallIPTablesRules` (`pkg/proxy/iptables/proxier_test.go`) is
 * reproduced by the tests.
 *
 * @module
 */

/** Chains kube-proxy owns at the top level (proxier.go constants). */
export const KubeChain = {
  SERVICES: 'KUBE-SERVICES',
  EXTERNAL_SERVICES: 'KUBE-EXTERNAL-SERVICES',
  NODEPORTS: 'KUBE-NODEPORTS',
  POSTROUTING: 'KUBE-POSTROUTING',
  MARK_MASQ: 'KUBE-MARK-MASQ',
  FORWARD: 'KUBE-FORWARD',
  PROXY_FIREWALL: 'KUBE-PROXY-FIREWALL',
  PROXY_CANARY: 'KUBE-PROXY-CANARY',
  FIREWALL: 'KUBE-FIREWALL',
} as const;

/** `largeClusterEndpointsThreshold`: above this many endpoints, SVC→SEP and SEP rules lose their comments. */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** nfacct counter names (pkg/proxy/metrics). */
export const NFACCT_CT_STATE_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
/** nfacct counter of accepted localhost NodePort packets. */
export const NFACCT_LOCALHOST_NODEPORTS_ACCEPTED = 'localhost_nps_accepted_pkts';

const NODEPORTS_TAIL_COMMENT = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
const LOOPBACK_NET: Cidr = parseCidr('127.0.0.0/8');
const LOOPBACK_IP: IPv4 = 0x7f000001;
const PROTO_NUMBER: Readonly<Record<L4Protocol, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

/** Options of {@link generateIptablesRules}. */
export interface IptablesRulesOptions {
  /**
   * Order in which service ports are visited, which is the order of their
   * rules in KUBE-SERVICES, KUBE-NODEPORTS and the filter chains. kube-proxy
   * ranges over a Go map, so the real order is unspecified and changes every
   * sync: `random` models that with a seeded shuffle from `rng` (one per
   * call); `sorted` visits them by ServicePortName string, then protocol.
   * @defaultValue 'sorted'
   */
  readonly servicesOrder?: 'sorted' | 'random';
  /** Required for `servicesOrder: 'random'`. */
  readonly rng?: Rng;
  /** iptables supports `--random-fully` (iptables ≥ 1.6.2): MASQUERADE gets it. @defaultValue true */
  readonly randomFully?: boolean;
  /** nfacct is available: the INVALID drop and the localhost NodePort rules count packets. @defaultValue true */
  readonly nfacct?: boolean;
  /**
   * Chain order of the returned tables: `sorted` is legacy `iptables-save`
   * (built-ins, then user chains by byte order of their names, as
   * `Ruleset.toSaved` prints them); `restore` keeps the order in which
   * kube-proxy declares the chains in its restore input.
   * @defaultValue 'sorted'
   */
  readonly chainOrder?: 'sorted' | 'restore';
  /**
   * kubelet ran first and already put its `-j KUBE-FIREWALL` jumps at the
   * head of filter INPUT/OUTPUT (kube-proxy's EnsureRule then finds them and
   * prepends its own jumps before them). False models a node where
   * kube-proxy created them.
   * @defaultValue true
   */
  readonly kubeletFirst?: boolean;
  /**
   * The node's local IPv4 addresses, for `nodePortAddresses` CIDR matching.
   * @defaultValue 127.0.0.1 then the node's InternalIPs
   */
  readonly localAddresses?: readonly IPv4[];
}

/** What was written for one service port. */
export interface ServicePortRules {
  /** The service port's key (`ns/name:port/PROTOCOL`). */
  readonly key: string;
  /** `ns/name` of the Service (partial syncs are per Service). */
  readonly service: string;
  /** ServicePortName string used in comments. */
  readonly nameString: string;
  /** nat chains written for it (SVC/SVL/EXT/FW/SEP), in write order. */
  readonly natChains: readonly string[];
  /** nat rules written for it, including those in KUBE-SERVICES and KUBE-NODEPORTS. */
  readonly natRules: number;
  /** filter rules written for it. */
  readonly filterRules: number;
  readonly hasEndpoints: boolean;
}

/** A rule kube-proxy ensures (`EnsureRule(Prepend, …)`) in a built-in chain during full syncs. */
export interface JumpRule {
  readonly table: 'filter' | 'nat';
  readonly chain: BuiltinChainName;
  readonly rule: RuleSpec;
}

/** The result of {@link generateIptablesRules}. */
export interface IptablesRules {
  /** `[filter, nat]`, the order of kube-proxy's restore input. */
  readonly tables: readonly SavedTable[];
  readonly filter: SavedTable;
  readonly nat: SavedTable;
  /** The `iptables-restore --noflush --counters` input kube-proxy writes (filter block, then nat). */
  readonly restore: RestoreDocument;
  /**
   * Jump rules in built-in chains, in the order they were prepended
   * (`EnsureRule(Prepend)`, so each chain lists them in reverse): kube-proxy's
   * `iptablesJumpChains` then its copies of kubelet's KUBE-FIREWALL jumps, or
   * those first when `kubeletFirst`.
   */
  readonly jumpRules: readonly JumpRule[];
  /** `sync_proxy_rules_iptables_total{table}` after a full sync: rules in the restore input. */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  /** Chain lines of the restore input (`numFilterChains`, `numNATChains` of the sync log line). */
  readonly chainCounts: { readonly filter: number; readonly nat: number };
  /** Per service port, in visiting order. */
  readonly services: readonly ServicePortRules[];
  /** Total endpoints over all service ports (the large-cluster test). */
  readonly totalEndpoints: number;
  readonly largeClusterMode: boolean;
  /** `sync_proxy_rules_no_local_endpoints_total{traffic_policy}`. */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

// ------------------------------------------------------------------ probabilities

/**
 * Go's `strconv.FormatFloat(x, 'f', digits, 64)` for a finite x ≥ 0: the
 * exact binary value rounded half-to-even (JS `toFixed` rounds exact ties up,
 * e.g. 1/2048 = 0.00048828125).
 */
export function formatFixedGo(x: number, digits: number): string {
  if (!(x >= 0) || !Number.isFinite(x)) {
    throw new InvalidArgumentError(`lbsim/kube.formatFixedGo: x must be a finite number >= 0 (got ${x})`);
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) q = (mant << BigInt(exp)) * scale;
  else {
    const num = mant * scale;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** `computeProbability(n)`: `fmt.Sprintf("%0.10f", 1.0/float64(n))`, the text kube-proxy writes. */
export function probabilityString(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`lbsim/kube.probabilityString: n must be an integer >= 1 (got ${n})`);
  return formatFixedGo(1 / n, 10);
}

/**
 * What the kernel stores for `--probability <probabilityString(n)>`: libxt_statistic
 * parses it with `lround(0x80000000 * strtod(text))` into a 31-bit fraction.
 */
export function probabilityFraction(n: number): number {
  let v = PROBABILITY_CACHE[n];
  if (v === undefined) {
    v = Math.round(Number(probabilityString(n)) * 0x80000000);
    if (n < PROBABILITY_CACHE_SIZE) PROBABILITY_CACHE[n] = v;
  }
  return v;
}

/** Like proxier.go's `precomputedProbabilities` (capacity 1001). */
const PROBABILITY_CACHE_SIZE = 1001;
const PROBABILITY_CACHE: number[] = [];

// ------------------------------------------------------------------ rule builders

/**
 * `portProtoHash` of a full hash input, memoised: chain names are a pure
 * function of their input and a sync hashes every endpoint again (proxier.go
 * caches them on its service and endpoint infos). Bounded: cleared when large.
 */
const HASH_MEMO = new Map<string, string>();
const HASH_MEMO_LIMIT = 1 << 20;

function memoHash(input: string): string {
  let h = HASH_MEMO.get(input);
  if (h === undefined) {
    h = portProtoHash(input, '');
    if (HASH_MEMO.size >= HASH_MEMO_LIMIT) HASH_MEMO.clear();
    HASH_MEMO.set(input, h);
  }
  return h;
}

const host = (a: IPv4, invert = false): AddrMatch => ({ addr: a, mask: 0xffffffff, invert });
const net = (c: Cidr, invert = false): AddrMatch => ({ addr: c.address, mask: c.mask, invert });
const comment = (text: string): MatchSpec => ({ module: 'comment', comment: text });
const jump = (chain: string): TargetSpec => ({ kind: 'jump', chain });
const ACCEPT: TargetSpec = { kind: 'standard', verdict: 'ACCEPT' };
const DROP: TargetSpec = { kind: 'standard', verdict: 'DROP' };
const RETURN: TargetSpec = { kind: 'standard', verdict: 'RETURN' };
const REJECT: TargetSpec = { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' };

// AST values are readonly, so rules share identical sub-objects instead of allocating one per rule.
const L4_MEMO = new Map<number, MatchSpec>();
const STATISTIC_MEMO: MatchSpec[] = [];
const JUMP_MARK_MASQ: TargetSpec = { kind: 'jump', chain: 'KUBE-MARK-MASQ' };

/** `-m tcp|udp|sctp [--dport p]` (the protocol match module kube-proxy loads with `-m <proto> -p <proto>`). */
function l4(protocol: L4Protocol, dport = 0): MatchSpec {
  const key = PROTO_NUMBER[protocol] * 65536 + dport;
  let m = L4_MEMO.get(key);
  if (m === undefined) {
    const ports = dport === 0 ? {} : { dport: { min: dport, max: dport, invert: false } };
    const made: MatchSpec =
      protocol === 'TCP' ? { module: 'tcp', ...ports } : protocol === 'UDP' ? { module: 'udp', ...ports } : { module: 'sctp', ...ports };
    L4_MEMO.set(key, made);
    m = made;
  }
  return m;
}

/** `-m statistic --mode random --probability <1/n>`. */
function statistic(n: number): MatchSpec {
  let m = STATISTIC_MEMO[n];
  if (m === undefined) {
    m = { module: 'statistic', mode: 'random', probability: probabilityFraction(n), invert: false };
    if (n < PROBABILITY_CACHE_SIZE) STATISTIC_MEMO[n] = m;
  }
  return m;
}

interface RuleParts {
  readonly src?: AddrMatch;
  readonly dst?: AddrMatch;
  readonly inIface?: { readonly name: string; readonly invert: boolean };
  readonly protocol?: L4Protocol;
  readonly matches: readonly MatchSpec[];
  readonly target: TargetSpec | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const PROTO_SPEC: Readonly<Record<L4Protocol, NonNullable<RuleSpec['proto']>>> = {
  TCP: { proto: PROTO_NUMBER.TCP, invert: false },
  UDP: { proto: PROTO_NUMBER.UDP, invert: false },
  SCTP: { proto: PROTO_NUMBER.SCTP, invert: false },
};

function mk(p: RuleParts): RuleSpec {
  const r: Mutable<RuleSpec> = { matches: p.matches, target: p.target };
  if (p.src !== undefined) r.src = p.src;
  if (p.dst !== undefined) r.dst = p.dst;
  if (p.inIface !== undefined) r.inIface = p.inIface;
  if (p.protocol !== undefined) r.proto = PROTO_SPEC[p.protocol];
  return r;
}

function recent(command: 'set' | 'rcheck', name: string, seconds: number, reap: boolean): RecentMatch {
  return { module: 'recent', command, name, side: 'source', seconds, reap, hitcount: 0, rttl: false, mask: 0xffffffff, invert: false };
}

/** `LocalTrafficDetector` (pkg/proxy/util/localdetector.go): how "from a local pod" is matched. */
type Detector =
  | { readonly kind: 'none' }
  | { readonly kind: 'cidr'; readonly cidr: Cidr }
  | { readonly kind: 'iface'; readonly name: string };

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

/** `IfLocal()` (invert false) / `IfNotLocal()` (invert true) as rule parts. */
function detect(d: Detector, invert: boolean): Pick<RuleParts, 'src' | 'inIface'> {
  if (d.kind === 'cidr') return { src: net(d.cidr, invert) };
  if (d.kind === 'iface') return { inIface: { name: d.name, invert } };
  return {};
}

// ------------------------------------------------------------------ generation

/**
 * One table of the restore input being built (proxier.go's chain and rule
 * LineBuffers): chain lines in declaration order, rules grouped by chain as
 * the saved table holds them, and the write order for the restore document.
 */
class TableBuffer {
  readonly chains: string[] = [];
  readonly byChain = new Map<string, SavedRule[]>();
  readonly logChain: string[] = [];
  readonly logRule: RuleSpec[] = [];
  #lastName = '';
  #last: SavedRule[] | null = null;

  /** Appends a rule (`-A chain …`). */
  add(chain: string, spec: RuleSpec): void {
    let list = this.#last;
    if (list === null || chain !== this.#lastName) {
      list = this.byChain.get(chain) ?? null;
      if (list === null) {
        list = [];
        this.byChain.set(chain, list);
      }
      this.#last = list;
      this.#lastName = chain;
    }
    list.push({ spec, counters: { packets: 0, bytes: 0 } });
    this.logChain.push(chain);
    this.logRule.push(spec);
  }

  get ruleCount(): number {
    return this.logRule.length;
  }
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function orderServices(ports: ServicePortInfo[], options: IptablesRulesOptions): ServicePortInfo[] {
  const order = options.servicesOrder ?? 'sorted';
  if (order === 'sorted') {
    return ports.sort((a, b) => byteCompare(a.nameString, b.nameString) || byteCompare(a.protocol, b.protocol));
  }
  const rng = options.rng;
  if (rng === undefined) {
    throw new InvalidArgumentError("lbsim/kube.generateIptablesRules: servicesOrder 'random' needs options.rng");
  }
  return shuffleInPlace(ports, rng);
}


/**
 * What one sync's rules depend on besides the service ports and their
 * endpoints: configuration, node, host capabilities, large-cluster mode.
 */
interface GenContext {
  readonly node: Node;
  readonly config: KubeProxyConfiguration;
  readonly options: IptablesRulesOptions;
  readonly nodeName: string;
  readonly nodeIP: IPv4 | null;
  readonly detector: Detector;
  readonly mark: number;
  readonly nfacct: boolean;
  readonly randomFully: boolean;
  readonly npaCidrs: readonly Cidr[];
  readonly matchAll: boolean;
  readonly localhostNodePorts: boolean;
  readonly largeClusterMode: boolean;
}

function genContext(node: Node, config: KubeProxyConfiguration, options: IptablesRulesOptions, largeClusterMode: boolean): GenContext {
  const nfacct = options.nfacct ?? true;
  const randomFully = options.randomFully ?? true;
  const mark = (1 << config.iptables.masqueradeBit) >>> 0;
  const detector = detectorFor(config, node);
  const nodeName = node.name;
  const nodeIP = node.internalIPs[0] ?? null;

  // NewNodePortAddresses / ContainsIPv4Loopback: localhost NodePorts need loopback among the NodePort addresses
  const npa = config.nodePortAddresses;
  const npaCidrs: Cidr[] = npa.flatMap((a) => {
    if (a.kind === 'cidr') return [a.cidr];
    return nodeIP === null ? [] : [parseCidr(`${formatIPv4(nodeIP)}/32`)];
  });
  const matchAll = npa.length === 0 || npaCidrs.some((c) => c.prefixLength === 0);
  // NodePortAddresses.ContainsIPv4Loopback: `cidr.IP.IsLoopback() || cidr.Contains(127.0.0.1)`
  const containsLoopback = npaCidrs.some((c) => cidrContains(LOOPBACK_NET, c.address) || cidrContains(c, LOOPBACK_IP));
  const localhostNodePorts = config.iptables.localhostNodePorts && (matchAll || containsLoopback);
  return { node, config, options, nodeName, nodeIP, detector, mark, nfacct, randomFully, npaCidrs, matchAll, localhostNodePorts, largeClusterMode };
}

/** Whether two contexts generate the same rules. */
function sameContext(a: GenContext, b: GenContext): boolean {
  return (
    a.node === b.node &&
    a.config === b.config &&
    a.largeClusterMode === b.largeClusterMode &&
    a.nfacct === b.nfacct &&
    a.randomFully === b.randomFully &&
    a.options.localAddresses === b.options.localAddresses
  );
}

/** A rule of the restore input: its chain and spec. */
export interface ChainRule {
  readonly chain: string;
  readonly spec: RuleSpec;
}

/**
 * Everything one service port contributes to a sync, in kube-proxy's write
 * order. A pure function of the service port, its endpoints and the sync's
 * context, so it is reused between syncs while those are unchanged.
 */
export interface ServicePortFragment {
  /** The service port it was generated for. */
  readonly info: ServicePortInfo;
  /** The endpoints it was generated from. */
  readonly endpoints: readonly Endpoint[];
  /** The summary reported for it. */
  readonly rules: ServicePortRules;
  /** nat rules in write order (KUBE-SERVICES/KUBE-NODEPORTS ones interleaved with its own chains'). */
  readonly nat: readonly ChainRule[];
  /** Indices into {@link ServicePortFragment.nat} of the rules in KUBE-SERVICES and KUBE-NODEPORTS. */
  readonly natTop: readonly number[];
  /** filter rules in write order. */
  readonly filter: readonly ChainRule[];
  /** Counted in `sync_proxy_rules_no_local_endpoints_total{traffic_policy="internal"}`. */
  readonly noLocalInternal: boolean;
  /** Counted in `sync_proxy_rules_no_local_endpoints_total{traffic_policy="external"}`. */
  readonly noLocalExternal: boolean;
}

function servicePortFragment(ctx: GenContext, svc: ServicePortInfo, eps: readonly Endpoint[]): ServicePortFragment {
  const { config, detector, nodeIP, nfacct, localhostNodePorts, largeClusterMode, nodeName } = ctx;
  const natRules: ChainRule[] = [];
  const natTop: number[] = [];
  const filterRules: ChainRule[] = [];
  const natChains: string[] = [];
  let noLocalInternal = false;
  let noLocalExternal = false;
  const nat = (chain: string, p: RuleParts): void => {
    if (chain === KubeChain.SERVICES || chain === KubeChain.NODEPORTS) natTop.push(natRules.length);
    natRules.push({ chain, spec: mk(p) });
  };
  const filter = (chain: string, p: RuleParts): void => {
    filterRules.push({ chain, spec: mk(p) });
  };
  const protocol = svc.protocol;
  const proto = protocol.toLowerCase();
  const spn = svc.nameString;
  // servicePortPolicyClusterChain & co. share portProtoHash(spn, proto)
  const hash = memoHash(spn + proto);
  const clusterPolicyChain = `KUBE-SVC-${hash}`;
  const localPolicyChain = `KUBE-SVL-${hash}`;
  const externalTrafficChain = `KUBE-EXT-${hash}`;
  const fwChain = `KUBE-FW-${hash}`;

  const cat = categorizeEndpoints(eps, svc, nodeName);
  const hasEndpoints = cat.hasAnyEndpoints;
  const usesClusterPolicyChain = cat.clusterEndpoints.length > 0 && svc.usesClusterEndpoints;
  const usesLocalPolicyChain = cat.localEndpoints.length > 0 && svc.usesLocalEndpoints;

  let internalTrafficChain = clusterPolicyChain;
  let hasInternalEndpoints = hasEndpoints;
  if (svc.internalPolicyLocal) {
    internalTrafficChain = localPolicyChain;
    if (cat.localEndpoints.length === 0) hasInternalEndpoints = false;
  }
  let externalPolicyChain = clusterPolicyChain;
  let hasExternalEndpoints = hasEndpoints;
  if (svc.externalPolicyLocal) {
    externalPolicyChain = localPolicyChain;
    if (cat.localEndpoints.length === 0) hasExternalEndpoints = false;
  }
  const usesExternalTrafficChain = hasEndpoints && svc.externallyAccessible;
  const usesFWChain = hasEndpoints && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

  let internalFilterTarget: TargetSpec = REJECT;
  let internalFilterComment = '';
  let externalFilterTarget: TargetSpec = REJECT;
  let externalFilterComment = '';
  if (!hasEndpoints) {
    internalFilterComment = `${spn} has no endpoints`;
    externalFilterComment = internalFilterComment;
  } else {
    if (!hasInternalEndpoints) {
      internalFilterTarget = DROP;
      internalFilterComment = `${spn} has no local endpoints`;
      noLocalInternal = true;
    }
    if (!hasExternalEndpoints) {
      externalFilterTarget = DROP;
      externalFilterComment = `${spn} has no local endpoints`;
      noLocalExternal = true;
    }
  }

  const dportParts = (dst: IPv4): RuleParts => ({ dst: host(dst), protocol, matches: [], target: null });
  const clusterIPDst = host(svc.clusterIP);
  const clusterIPMatches: readonly MatchSpec[] = [comment(`${spn} cluster IP`), l4(protocol, svc.port)];

  // Capture the clusterIP.
  if (hasInternalEndpoints) {
    nat(KubeChain.SERVICES, { dst: clusterIPDst, protocol, matches: clusterIPMatches, target: jump(internalTrafficChain) });
  } else {
    filter(KubeChain.SERVICES, {
      ...dportParts(svc.clusterIP),
      matches: [comment(internalFilterComment), l4(protocol, svc.port)],
      target: internalFilterTarget,
    });
  }

  // Capture externalIPs.
  for (const ip of svc.externalIPs) {
    if (hasEndpoints) {
      nat(KubeChain.SERVICES, {
        ...dportParts(ip),
        matches: [comment(`${spn} external IP`), l4(protocol, svc.port)],
        target: jump(externalTrafficChain),
      });
    }
    if (!hasExternalEndpoints) {
      filter(KubeChain.EXTERNAL_SERVICES, {
        ...dportParts(ip),
        matches: [comment(externalFilterComment), l4(protocol, svc.port)],
        target: externalFilterTarget,
      });
    }
  }

  // Capture load-balancer ingress.
  for (const ip of svc.loadBalancerVIPs) {
    if (hasEndpoints) {
      nat(KubeChain.SERVICES, {
        ...dportParts(ip),
        matches: [comment(`${spn} loadbalancer IP`), l4(protocol, svc.port)],
        target: jump(loadBalancerTrafficChain),
      });
    }
    if (usesFWChain) {
      filter(KubeChain.PROXY_FIREWALL, {
        ...dportParts(ip),
        matches: [comment(`${spn} traffic not accepted by ${fwChain}`), l4(protocol, svc.port)],
        target: DROP,
      });
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of svc.loadBalancerVIPs) {
      filter(KubeChain.EXTERNAL_SERVICES, {
        ...dportParts(ip),
        matches: [comment(externalFilterComment), l4(protocol, svc.port)],
        target: externalFilterTarget,
      });
    }
  }

  // Capture nodeports (not subject to loadBalancerSourceRanges).
  if (svc.nodePort !== 0) {
    if (hasEndpoints) {
      if (localhostNodePorts && nfacct) {
        nat(KubeChain.NODEPORTS, {
          dst: net(LOOPBACK_NET),
          protocol,
          matches: [comment(spn), l4(protocol, svc.nodePort), { module: 'nfacct', name: NFACCT_LOCALHOST_NODEPORTS_ACCEPTED }],
          target: jump(externalTrafficChain),
        });
      }
      nat(KubeChain.NODEPORTS, {
        protocol,
        matches: [comment(spn), l4(protocol, svc.nodePort)],
        target: jump(externalTrafficChain),
      });
    }
    if (!hasExternalEndpoints) {
      filter(KubeChain.EXTERNAL_SERVICES, {
        protocol,
        matches: [
          comment(externalFilterComment),
          { module: 'addrtype', dstType: { types: AddrTypeBit.LOCAL, invert: false }, limitIfaceIn: false, limitIfaceOut: false },
          l4(protocol, svc.nodePort),
        ],
        target: externalFilterTarget,
      });
    }
  }

  // Capture healthCheckNodePorts (always TCP).
  if (svc.healthCheckNodePort !== 0) {
    filter(KubeChain.NODEPORTS, {
      protocol: 'TCP',
      matches: [comment(`${spn} health check node port`), l4('TCP', svc.healthCheckNodePort)],
      target: ACCEPT,
    });
  }

  // --- per-service chains (a partial sync skips these for unchanged services) ---

  // Internal traffic: masquerade off-cluster traffic to the cluster IP.
  if (hasInternalEndpoints) {
    const base: RuleParts = { dst: clusterIPDst, protocol, matches: clusterIPMatches, target: JUMP_MARK_MASQ };
    if (config.iptables.masqueradeAll) nat(internalTrafficChain, base);
    else if (detector.kind !== 'none') nat(internalTrafficChain, { ...base, ...detect(detector, true) });
  }

  // External traffic.
  if (usesExternalTrafficChain) {
    natChains.push(externalTrafficChain);
    if (!svc.externalPolicyLocal) {
      nat(externalTrafficChain, {
        matches: [comment(`masquerade traffic for ${spn} external destinations`)],
        target: JUMP_MARK_MASQ,
      });
    } else {
      if (detector.kind !== 'none') {
        nat(externalTrafficChain, {
          ...detect(detector, false),
          matches: [comment(`pod traffic for ${spn} external destinations`)],
          target: jump(clusterPolicyChain),
        });
      }
      const srcLocal: MatchSpec = {
        module: 'addrtype',
        srcType: { types: AddrTypeBit.LOCAL, invert: false },
        limitIfaceIn: false,
        limitIfaceOut: false,
      };
      nat(externalTrafficChain, {
        matches: [comment(`masquerade LOCAL traffic for ${spn} external destinations`), srcLocal],
        target: JUMP_MARK_MASQ,
      });
      nat(externalTrafficChain, {
        matches: [comment(`route LOCAL traffic for ${spn} external destinations`), srcLocal],
        target: jump(clusterPolicyChain),
      });
    }
    if (hasExternalEndpoints) nat(externalTrafficChain, { matches: [], target: jump(externalPolicyChain) });
  }

  // Firewall chain for loadBalancerSourceRanges.
  if (usesFWChain) {
    natChains.push(fwChain);
    const fwComment = comment(`${spn} loadbalancer IP`);
    let allowFromNode = false;
    for (const c of svc.loadBalancerSourceRanges) {
      nat(fwChain, { src: net(c), matches: [fwComment], target: jump(externalTrafficChain) });
      if (nodeIP !== null && cidrContains(c, nodeIP)) allowFromNode = true;
    }
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs) {
        nat(fwChain, { src: host(ip), matches: [fwComment], target: jump(externalTrafficChain) });
      }
    }
    nat(fwChain, { matches: [comment(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`)], target: null });
  }

  const sepChain = (ep: Endpoint): string => `KUBE-SEP-${memoHash(spn + proto + ep.endpointString)}`;
  // appendServiceCommentLocked: no comments on SVC→SEP and SEP rules in large-cluster mode
  const epComment = (ep: Endpoint): MatchSpec[] => (largeClusterMode ? [] : [comment(`${spn} -> ${ep.endpointString}`)]);
  const writeServiceToEndpointRules = (chain: string, eps: readonly Endpoint[]): void => {
    if (svc.sessionAffinity === 'ClientIP') {
      for (const ep of eps) {
        const sep = sepChain(ep);
        const matches = epComment(ep);
        matches.push(recent('rcheck', sep, svc.stickyMaxAgeSeconds, true));
        nat(chain, { matches, target: jump(sep) });
      }
    }
    const n = eps.length;
    for (let i = 0; i < n; i++) {
      const ep = eps[i]!;
      const matches = epComment(ep);
      if (i < n - 1) matches.push(statistic(n - i));
      nat(chain, { matches, target: jump(sepChain(ep)) });
    }
  };

  if (usesClusterPolicyChain) {
    natChains.push(clusterPolicyChain);
    writeServiceToEndpointRules(clusterPolicyChain, cat.clusterEndpoints);
  }
  if (usesLocalPolicyChain) {
    natChains.push(localPolicyChain);
    writeServiceToEndpointRules(localPolicyChain, cat.localEndpoints);
  }

  // Per-endpoint chains.
  const sepComment: readonly MatchSpec[] = largeClusterMode ? [] : [comment(spn)];
  const sepDnatMatches: readonly MatchSpec[] = [...sepComment, l4(protocol)];
  for (const ep of cat.allReachableEndpoints) {
    const chain = sepChain(ep);
    natChains.push(chain);
    nat(chain, { src: host(ep.ip), matches: sepComment, target: JUMP_MARK_MASQ });
    const matches = svc.sessionAffinity === 'ClientIP' ? [...sepComment, recent('set', chain, 0, false), l4(protocol)] : sepDnatMatches;
    nat(chain, {
      protocol,
      matches,
      target: {
        kind: 'DNAT',
        range: { minAddr: ep.ip, maxAddr: ep.ip, hasPorts: true, minPort: ep.port, maxPort: ep.port },
        random: false,
        persistent: false,
      },
    });
  }

  return {
    info: svc,
    endpoints: eps,
    rules: {
      key: svc.key,
      service: svc.service,
      nameString: spn,
      natChains,
      natRules: natRules.length,
      filterRules: filterRules.length,
      hasEndpoints,
    },
    nat: natRules,
    natTop,
    filter: filterRules,
    noLocalInternal,
    noLocalExternal,
  };
}

/** Structural equality of AST values (plain objects, arrays, primitives). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) if (!Object.hasOwn(y, k) || !sameValue(x[k], y[k])) return false;
  return true;
}

/**
 * A regenerated fragment whose rules reuse the previous fragment's rule
 * objects where they are structurally the same (matched by chain and position
 * in the chain): unchanged rules keep their identity from sync to sync, which
 * is what the ruleset and the restore sizer recognise cheaply.
 */
function reuseRules(fresh: ServicePortFragment, old: ServicePortFragment): ServicePortFragment {
  const reuse = (now: readonly ChainRule[], before: readonly ChainRule[]): ChainRule[] => {
    const byChain = new Map<string, ChainRule[]>();
    for (const r of before) {
      let l = byChain.get(r.chain);
      if (l === undefined) {
        l = [];
        byChain.set(r.chain, l);
      }
      l.push(r);
    }
    const seen = new Map<string, number>();
    return now.map((r) => {
      const k = seen.get(r.chain) ?? 0;
      seen.set(r.chain, k + 1);
      const prev = byChain.get(r.chain)?.[k];
      return prev !== undefined && sameValue(prev.spec, r.spec) ? prev : r;
    });
  };
  return { ...fresh, nat: reuse(fresh.nat, old.nat), filter: reuse(fresh.filter, old.filter) };
}

/** The rules of a sync that do not belong to a service port. */
export interface FixedRules {
  /** filter chains declared, in order. */
  readonly filterChains: readonly string[];
  /** nat chains declared before the service ports' own. */
  readonly natChains: readonly string[];
  /** filter rules before the service ports' (KUBE-FIREWALL). */
  readonly filterHead: readonly ChainRule[];
  /** filter rules after them (KUBE-FORWARD). */
  readonly filterTail: readonly ChainRule[];
  /** nat rules before them (KUBE-POSTROUTING, KUBE-MARK-MASQ). */
  readonly natHead: readonly ChainRule[];
  /** nat rules after them (the NodePort tail call in KUBE-SERVICES). */
  readonly natTail: readonly ChainRule[];
}

function fixedRules(ctx: GenContext): FixedRules {
  const { config, mark, nfacct, randomFully, localhostNodePorts, matchAll, npaCidrs, node } = ctx;
  const filterChains: string[] = [KubeChain.SERVICES, KubeChain.EXTERNAL_SERVICES, KubeChain.FORWARD, KubeChain.NODEPORTS, KubeChain.PROXY_FIREWALL];
  const natChains: string[] = [KubeChain.SERVICES, KubeChain.NODEPORTS, KubeChain.POSTROUTING, KubeChain.MARK_MASQ];
  let natOut: ChainRule[] = [];
  let filterOut: ChainRule[] = [];
  const nat = (chain: string, p: RuleParts): void => {
    natOut.push({ chain, spec: mk(p) });
  };
  const filter = (chain: string, p: RuleParts): void => {
    filterOut.push({ chain, spec: mk(p) });
  };

  // KUBE-POSTROUTING and KUBE-MARK-MASQ
  nat(KubeChain.POSTROUTING, { matches: [{ module: 'mark', value: mark, mask: mark, invert: true }], target: RETURN });
  nat(KubeChain.POSTROUTING, { matches: [], target: { kind: 'MARK', value: mark, mask: 0 } });
  nat(KubeChain.POSTROUTING, {
    matches: [comment('kubernetes service traffic requiring SNAT')],
    target: { kind: 'MASQUERADE', ports: null, random: false, randomFully },
  });
  nat(KubeChain.MARK_MASQ, { matches: [], target: { kind: 'MARK', value: mark, mask: mark } });

  if (localhostNodePorts) {
    filterChains.push(KubeChain.FIREWALL);
    filter(KubeChain.FIREWALL, {
      dst: net(LOOPBACK_NET),
      src: net(LOOPBACK_NET, true),
      matches: [
        comment('block incoming localnet connections'),
        {
          module: 'conntrack',
          ctstate: { states: CtStateBit.RELATED | CtStateBit.ESTABLISHED | CtStateBit.DNAT, invert: true },
        },
      ],
      target: DROP,
    });
  }

  const natHead = natOut;
  const filterHead = filterOut;
  natOut = [];
  filterOut = [];

  // The NodePort tail call: after every service rule in KUBE-SERVICES.
  if (matchAll) {
    nat(KubeChain.SERVICES, {
      ...(localhostNodePorts ? {} : { dst: net(LOOPBACK_NET, true) }),
      matches: [
        comment(NODEPORTS_TAIL_COMMENT),
        { module: 'addrtype', dstType: { types: AddrTypeBit.LOCAL, invert: false }, limitIfaceIn: false, limitIfaceOut: false },
      ],
      target: jump(KubeChain.NODEPORTS),
    });
  } else {
    const locals = ctx.options.localAddresses ?? [LOOPBACK_IP, ...node.internalIPs];
    const seen = new Set<IPv4>();
    for (const ip of locals) {
      if (seen.has(ip) || !npaCidrs.some((c) => cidrContains(c, ip))) continue;
      seen.add(ip);
      if (cidrContains(LOOPBACK_NET, ip) && !localhostNodePorts) continue;
      nat(KubeChain.SERVICES, { dst: host(ip), matches: [comment(NODEPORTS_TAIL_COMMENT)], target: jump(KubeChain.NODEPORTS) });
    }
  }

  // KUBE-FORWARD.
  if (!config.conntrackTCPBeLiberal) {
    filter(KubeChain.FORWARD, {
      matches: [
        { module: 'conntrack', ctstate: { states: CtStateBit.INVALID, invert: false } },
        ...(nfacct ? [{ module: 'nfacct', name: NFACCT_CT_STATE_INVALID_DROPPED } as const] : []),
      ],
      target: DROP,
    });
  }
  filter(KubeChain.FORWARD, {
    matches: [comment('kubernetes forwarding rules'), { module: 'mark', value: mark, mask: mark, invert: false }],
    target: ACCEPT,
  });
  filter(KubeChain.FORWARD, {
    matches: [
      comment('kubernetes forwarding conntrack rule'),
      { module: 'conntrack', ctstate: { states: CtStateBit.RELATED | CtStateBit.ESTABLISHED, invert: false } },
    ],
    target: ACCEPT,
  });
  return { filterChains, natChains, filterHead, filterTail: filterOut, natHead, natTail: natOut };
}

/**
 * The rules of one sync, per service port, before they are laid out as
 * tables or a restore input: what {@link generateIptablesRules} returns
 * and what the sync engine writes (whole or in part) are both made from it.
 */
export interface IptablesRulesPlan {
  /** One fragment per service port, in visiting order. */
  readonly fragments: readonly ServicePortFragment[];
  /** The rules outside the service ports. */
  readonly fixed: FixedRules;
  /** Jump rules ensured in the built-in chains. */
  readonly jumpRules: readonly JumpRule[];
  /** Rules of a full restore input, per table. */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  /** Chains declared by a full restore input, per table. */
  readonly chainCounts: { readonly filter: number; readonly nat: number };
  /** Total endpoints over all service ports. */
  readonly totalEndpoints: number;
  readonly largeClusterMode: boolean;
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/**
 * Keeps each service port's generated rules between syncs and reuses them
 * while the service port, its endpoints (both compared by identity: the
 * {@link Cluster} hands out the same objects until they change) and the
 * sync's context are unchanged. What is generated is identical to a fresh
 * generation: a fragment is a pure function of those inputs.
 */
export class IptablesRulesCache {
  #ctx: GenContext | null = null;
  #fixed: FixedRules | null = null;
  #fragments = new Map<string, ServicePortFragment>();
  #sorted: ServicePortInfo[] | null = null;
  #sortedVersion = -1;
  #sortedCluster: Cluster | null = null;
  #jumps = new Map<boolean, readonly JumpRule[]>();
  #index: Map<string, number[]> | null = null;
  /** @internal The last plan made in sorted order, and what it was made from. */
  last: LastPlan | null = null;

  /** Fragments currently held. */
  get size(): number {
    return this.#fragments.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#ctx = null;
    this.#fixed = null;
    this.#fragments.clear();
    this.#sorted = null;
    this.#sortedCluster = null;
    this.#index = null;
    this.last = null;
  }

  /** @internal The service ports in sorted visiting order (re-sorted only when the cluster's ports changed). */
  sortedPorts(cluster: Cluster): readonly ServicePortInfo[] {
    if (this.#sorted === null || this.#sortedCluster !== cluster || this.#sortedVersion !== cluster.portsVersion) {
      this.#sorted = orderServices(cluster.servicePorts(), { servicesOrder: 'sorted' });
      this.#sortedCluster = cluster;
      this.#sortedVersion = cluster.portsVersion;
      this.#index = null;
    }
    return this.#sorted;
  }

  /** @internal Positions of a Service's ports in the sorted order. */
  indicesOf(service: string): readonly number[] {
    if (this.#index === null) {
      const index = new Map<string, number[]>();
      (this.#sorted ?? []).forEach((p, i) => {
        const l = index.get(p.service);
        if (l === undefined) index.set(p.service, [i]);
        else l.push(i);
      });
      this.#index = index;
    }
    return this.#index.get(service) ?? [];
  }

  /**
   * @internal Positions of the ports of `services` in the sorted order (that of the last sorted plan),
   * in increasing order.
   */
  positionsOf(services: ReadonlySet<string>): number[] {
    const out: number[] = [];
    for (const s of services) for (const i of this.indicesOf(s)) out.push(i);
    return out.length > 1 ? out.sort((a, b) => a - b) : out;
  }

  /** @internal The context to generate with: the previous one (and its fragments) when equivalent. */
  context(ctx: GenContext): { ctx: GenContext; fixed: FixedRules } {
    if (this.#ctx === null || this.#fixed === null || !sameContext(this.#ctx, ctx)) {
      this.#ctx = ctx;
      this.#fixed = fixedRules(ctx);
      this.#fragments.clear();
    }
    return { ctx: this.#ctx, fixed: this.#fixed };
  }

  /** @internal The fragment of a service port, regenerated when its inputs changed. */
  fragment(ctx: GenContext, svc: ServicePortInfo, eps: readonly Endpoint[]): ServicePortFragment {
    let f = this.#fragments.get(svc.key);
    if (f === undefined || f.info !== svc || f.endpoints !== eps) {
      const fresh = servicePortFragment(ctx, svc, eps);
      f = f === undefined ? fresh : reuseRules(fresh, f);
      this.#fragments.set(svc.key, f);
    }
    return f;
  }

  /** @internal Forgets service ports not in `ports` (every one of them has a fragment by now). */
  prune(ports: readonly ServicePortInfo[]): void {
    if (ports.length === this.#fragments.size) return;
    const live = new Set<string>();
    for (const p of ports) live.add(p.key);
    for (const k of [...this.#fragments.keys()]) if (!live.has(k)) this.#fragments.delete(k);
  }

  /** @internal */
  jumpRules(kubeletFirst: boolean): readonly JumpRule[] {
    let j = this.#jumps.get(kubeletFirst);
    if (j === undefined) {
      j = ensuredJumpRules(kubeletFirst);
      this.#jumps.set(kubeletFirst, j);
    }
    return j;
  }
}

/** What an incremental plan starts from. */
interface LastPlan {
  readonly cluster: Cluster;
  readonly nodeName: string;
  readonly ports: readonly ServicePortInfo[];
  readonly eps: readonly (readonly Endpoint[])[];
  readonly ctx: GenContext;
  /** `cluster.changeSeq` when it was made. */
  readonly seq: number;
  readonly plan: IptablesRulesPlan;
}

/**
 * The plan after changes to a few Services: the previous plan with only those
 * Services' ports looked up again (their endpoints, their fragments). Null
 * when that does not apply (other ports, another context, history lost).
 */
function planIncrementally(
  cluster: Cluster,
  node: Node,
  config: KubeProxyConfiguration,
  options: IptablesRulesOptions,
  cache: IptablesRulesCache,
  ports: readonly ServicePortInfo[],
): IptablesRulesPlan | null {
  const last = cache.last;
  if (last?.cluster !== cluster || last.ports !== ports || last.nodeName !== node.name) return null;
  const dirty = cluster.changedSince(last.seq);
  if (dirty === null) return null;
  const seq = cluster.changeSeq;
  const eps = last.eps.slice();
  let totalEndpoints = last.plan.totalEndpoints;
  const changed: number[] = [];
  for (const service of dirty) {
    for (const i of cache.indicesOf(service)) {
      const e = cluster.endpoints(ports[i]!, node.name);
      totalEndpoints += e.length - eps[i]!.length;
      eps[i] = e;
      changed.push(i);
    }
  }
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const { ctx, fixed } = cache.context(genContext(node, config, options, largeClusterMode));
  if (ctx !== last.ctx) return null;
  const prev = last.plan;
  const fragments = prev.fragments.slice();
  let natRules = prev.ruleCounts.nat;
  let filterRules = prev.ruleCounts.filter;
  let natChains = prev.chainCounts.nat;
  let noLocalInternal = prev.noLocalEndpoints.internal;
  let noLocalExternal = prev.noLocalEndpoints.external;
  for (const i of changed) {
    const old = fragments[i]!;
    const f = cache.fragment(ctx, ports[i]!, eps[i]!);
    fragments[i] = f;
    natRules += f.nat.length - old.nat.length;
    filterRules += f.filter.length - old.filter.length;
    natChains += f.rules.natChains.length - old.rules.natChains.length;
    noLocalInternal += Number(f.noLocalInternal) - Number(old.noLocalInternal);
    noLocalExternal += Number(f.noLocalExternal) - Number(old.noLocalExternal);
  }
  const plan: IptablesRulesPlan = {
    fragments,
    fixed,
    jumpRules: cache.jumpRules(options.kubeletFirst ?? true),
    ruleCounts: { filter: filterRules, nat: natRules },
    chainCounts: { filter: fixed.filterChains.length, nat: natChains },
    totalEndpoints,
    largeClusterMode,
    noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
  };
  cache.last = { cluster, nodeName: node.name, ports, eps, ctx, seq, plan };
  return plan;
}

/**
 * The rules of one full iptables-mode sync for `node`, per service port
 * (see {@link IptablesRulesPlan}).
 *
 * @param cache - reuses unchanged service ports' rules from earlier calls (same results)
 * @throws {InvalidArgumentError} for `servicesOrder: 'random'` without an rng
 */
export function planIptablesRules(
  cluster: Cluster,
  node: Node,
  config: KubeProxyConfiguration,
  options: IptablesRulesOptions = {},
  cache: IptablesRulesCache = new IptablesRulesCache(),
): IptablesRulesPlan {
  const nodeName = node.name;
  const sorted = (options.servicesOrder ?? 'sorted') === 'sorted';
  const ports: readonly ServicePortInfo[] = sorted ? cache.sortedPorts(cluster) : orderServices(cluster.servicePorts(), options);
  if (sorted) {
    const plan = planIncrementally(cluster, node, config, options, cache, ports);
    if (plan !== null) return plan;
  }
  const seq = cluster.changeSeq;
  const eps: (readonly Endpoint[])[] = new Array<readonly Endpoint[]>(ports.length);
  let totalEndpoints = 0;
  for (let i = 0; i < ports.length; i++) {
    const e = cluster.endpoints(ports[i]!, nodeName);
    eps[i] = e;
    totalEndpoints += e.length;
  }
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const { ctx, fixed } = cache.context(genContext(node, config, options, largeClusterMode));
  const fragments: ServicePortFragment[] = new Array<ServicePortFragment>(ports.length);
  let natRules = fixed.natHead.length + fixed.natTail.length;
  let filterRules = fixed.filterHead.length + fixed.filterTail.length;
  let natChains = fixed.natChains.length;
  let noLocalInternal = 0;
  let noLocalExternal = 0;
  for (let i = 0; i < ports.length; i++) {
    const f = cache.fragment(ctx, ports[i]!, eps[i]!);
    fragments[i] = f;
    natRules += f.nat.length;
    filterRules += f.filter.length;
    natChains += f.rules.natChains.length;
    if (f.noLocalInternal) noLocalInternal++;
    if (f.noLocalExternal) noLocalExternal++;
  }
  cache.prune(ports);
  const plan: IptablesRulesPlan = {
    fragments,
    fixed,
    jumpRules: cache.jumpRules(options.kubeletFirst ?? true),
    ruleCounts: { filter: filterRules, nat: natRules },
    chainCounts: { filter: fixed.filterChains.length, nat: natChains },
    totalEndpoints,
    largeClusterMode,
    noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
  };
  cache.last = sorted ? { cluster, nodeName, ports, eps, ctx, seq, plan } : null;
  return plan;
}

/**
 * The nat and filter rules of one full iptables-mode sync for `node`.
 *
 * @param cluster - Services and EndpointSlices
 * @param node - this node: name (endpoint locality), first InternalIP (the node IP), pod CIDR
 * @param config - kube-proxy configuration (masquerade bit/all, detect-local mode, cluster CIDR,
 *   localhostNodePorts, nodePortAddresses, conntrack tcpBeLiberal)
 * @param options - ordering and host capabilities
 * @throws {InvalidArgumentError} for `servicesOrder: 'random'` without an rng
 */
export function generateIptablesRules(
  cluster: Cluster,
  node: Node,
  config: KubeProxyConfiguration,
  options: IptablesRulesOptions = {},
): IptablesRules {
  return assembleIptablesRules(planIptablesRules(cluster, node, config, options), options.chainOrder ?? 'sorted');
}

/**
 * Lays a plan out as {@link IptablesRules} (tables, restore input, counts).
 *
 * @param order - chain order of the tables (see {@link IptablesRulesOptions.chainOrder})
 */
export function assembleIptablesRules(plan: IptablesRulesPlan, order: 'sorted' | 'restore'): IptablesRules {
  const natBuf = new TableBuffer();
  const filterBuf = new TableBuffer();
  const fixed = plan.fixed;
  filterBuf.chains.push(...fixed.filterChains);
  natBuf.chains.push(...fixed.natChains);
  for (const r of fixed.natHead) natBuf.add(r.chain, r.spec);
  for (const r of fixed.filterHead) filterBuf.add(r.chain, r.spec);
  const services: ServicePortRules[] = [];
  for (const f of plan.fragments) {
    for (const c of f.rules.natChains) natBuf.chains.push(c);
    for (const r of f.nat) natBuf.add(r.chain, r.spec);
    for (const r of f.filter) filterBuf.add(r.chain, r.spec);
    services.push(f.rules);
  }
  for (const r of fixed.natTail) natBuf.add(r.chain, r.spec);
  for (const r of fixed.filterTail) filterBuf.add(r.chain, r.spec);

  const jumpRules = plan.jumpRules;
  let tables: { filter: SavedTable; nat: SavedTable; both: readonly SavedTable[] } | null = null;
  const built = (): { filter: SavedTable; nat: SavedTable; both: readonly SavedTable[] } => {
    if (tables === null) {
      const filter = buildTable('filter', filterBuf, jumpRules, order);
      const nat = buildTable('nat', natBuf, jumpRules, order);
      tables = { filter, nat, both: [filter, nat] };
    }
    return tables;
  };
  let restore: RestoreDocument | null = null;
  return {
    // built on first access: large and not every caller needs them
    get tables(): readonly SavedTable[] {
      return built().both;
    },
    get filter(): SavedTable {
      return built().filter;
    },
    get nat(): SavedTable {
      return built().nat;
    },
    get restore(): RestoreDocument {
      restore ??= restoreDocument(filterBuf, natBuf);
      return restore;
    },
    jumpRules: [...jumpRules],
    ruleCounts: plan.ruleCounts,
    chainCounts: plan.chainCounts,
    services,
    totalEndpoints: plan.totalEndpoints,
    largeClusterMode: plan.largeClusterMode,
    noLocalEndpoints: plan.noLocalEndpoints,
  };
}

/** `iptablesJumpChains` then `iptablesKubeletJumpChains` (proxier.go), in order. */
const JUMPS: readonly {
  table: 'filter' | 'nat';
  dst: string;
  src: BuiltinChainName;
  comment: string;
  ctNew: boolean;
  kubelet: boolean;
}[] = [
  { table: 'filter', dst: KubeChain.EXTERNAL_SERVICES, src: 'INPUT', comment: 'kubernetes externally-visible service portals', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.EXTERNAL_SERVICES, src: 'FORWARD', comment: 'kubernetes externally-visible service portals', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.NODEPORTS, src: 'INPUT', comment: 'kubernetes health check service ports', ctNew: false, kubelet: false },
  { table: 'filter', dst: KubeChain.SERVICES, src: 'FORWARD', comment: 'kubernetes service portals', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.FORWARD, src: 'FORWARD', comment: 'kubernetes forwarding rules', ctNew: false, kubelet: false },
  { table: 'filter', dst: KubeChain.PROXY_FIREWALL, src: 'INPUT', comment: 'kubernetes load balancer firewall', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.PROXY_FIREWALL, src: 'OUTPUT', comment: 'kubernetes load balancer firewall', ctNew: true, kubelet: false },
  { table: 'filter', dst: KubeChain.PROXY_FIREWALL, src: 'FORWARD', comment: 'kubernetes load balancer firewall', ctNew: true, kubelet: false },
  { table: 'nat', dst: KubeChain.SERVICES, src: 'OUTPUT', comment: 'kubernetes service portals', ctNew: false, kubelet: false },
  { table: 'nat', dst: KubeChain.SERVICES, src: 'PREROUTING', comment: 'kubernetes service portals', ctNew: false, kubelet: false },
  { table: 'nat', dst: KubeChain.POSTROUTING, src: 'POSTROUTING', comment: 'kubernetes postrouting rules', ctNew: false, kubelet: false },
  { table: 'filter', dst: KubeChain.FIREWALL, src: 'INPUT', comment: '', ctNew: false, kubelet: true },
  { table: 'filter', dst: KubeChain.FIREWALL, src: 'OUTPUT', comment: '', ctNew: false, kubelet: true },
];

function ensuredJumpRules(kubeletFirst: boolean): JumpRule[] {
  const list = kubeletFirst ? [...JUMPS.filter((j) => j.kubelet), ...JUMPS.filter((j) => !j.kubelet)] : [...JUMPS];
  return list.map((j) => ({
    table: j.table,
    chain: j.src,
    rule: mk({
      matches: [
        ...(j.ctNew ? [{ module: 'conntrack', ctstate: { states: CtStateBit.NEW, invert: false } } as const] : []),
        ...(j.comment !== '' ? [comment(j.comment)] : []),
      ],
      target: jump(j.dst),
    }),
  }));
}

const BUILTINS: Readonly<Record<'filter' | 'nat', readonly BuiltinChainName[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

function buildTable(table: 'filter' | 'nat', buf: TableBuffer, jumps: readonly JumpRule[], order: 'sorted' | 'restore'): SavedTable {
  const chains: SavedChain[] = [];
  for (const name of BUILTINS[table]) {
    // EnsureRule(Prepend): each new jump goes to the head of the chain
    const mine = jumps.filter((j) => j.table === table && j.chain === name).reverse();
    chains.push({
      name,
      policy: 'ACCEPT',
      counters: { packets: 0, bytes: 0 },
      rules: mine.map((j) => ({ spec: j.rule, counters: { packets: 0, bytes: 0 } })),
    });
  }
  const users = [...buf.chains];
  // chains that exist without being in the restore input: the canary (iptables.Monitor) and the
  // EnsureChain'ed kubelet firewall chain when kube-proxy does not fill it
  for (const extra of [KubeChain.PROXY_CANARY, ...(table === 'filter' ? [KubeChain.FIREWALL] : [])]) {
    if (!users.includes(extra)) users.push(extra);
  }
  // chain names are ASCII, so the default code-unit sort is byte order
  if (order === 'sorted') users.sort();
  for (const name of users) {
    chains.push({ name, policy: null, counters: { packets: 0, bytes: 0 }, rules: buf.byChain.get(name) ?? [] });
  }
  return { name: table, chains };
}

function restoreDocument(filter: TableBuffer, nat: TableBuffer): RestoreDocument {
  let line = 0;
  const block = (table: 'filter' | 'nat', buf: TableBuffer) => {
    const start = ++line;
    const chains: ChainDeclaration[] = buf.chains.map((name) => ({ name, policy: null, counters: { packets: 0, bytes: 0 }, line: ++line }));
    const commands: TableCommand[] = buf.logRule.map((rule, i) => ({ op: 'append', chain: buf.logChain[i]!, rule, counters: null, line: ++line }));
    return { table, line: start, chains, commands, commitLine: ++line };
  };
  return { blocks: [block('filter', filter), block('nat', nat)] };
}
