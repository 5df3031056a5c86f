import { InvalidArgumentError } from '../errors.js';
import { Cluster } from '../kube/cluster.js';
import { DEFAULT_CLIENT_IP_AFFINITY_SECONDS, defaultKubeProxyConfiguration, SERVICE_NAME_LABEL } from '../kube/objects.js';
import type {
  EndpointConditions,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  KubeProxyConfiguration,
  L4Protocol,
  Node,
  Service,
  ServicePort,
  ServiceType,
} from '../kube/objects.js';
import { formatCidr, formatIPv4, parseCidr, prefixMask } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import type { HostOptions } from '../netfilter/host.js';
import { createRng } from '../sim/rng.js';
import type { Rng } from '../sim/rng.js';

/**
 * Synthetic Kubernetes clusters for benchmarks and scale tests: N Services ×
 * E endpoints as typed kube objects (the shape the API server delivers to
 * kube-proxy), a {@link Cluster} holding them, the node a simulated
 * kube-proxy runs on, and the churn a benchmark needs (one endpoint
 * replaced, one Service added) — all deterministic for a seed, with
 * addresses that never collide.
 *
 * @module
 */

/** Fractions of the Services that get each feature; each in [0, 1]. */
export interface SyntheticServiceMix {
  /** Fraction of type NodePort. @defaultValue 0 */
  readonly nodePort?: number;
  /** Fraction of type LoadBalancer (with one VIP-mode ingress IP). `nodePort + loadBalancer` ≤ 1. @defaultValue 0 */
  readonly loadBalancer?: number;
  /** Fraction with `sessionAffinity: ClientIP` (timeout 10800 s). @defaultValue 0 */
  readonly sessionAffinity?: number;
  /** Fraction of the NodePort and LoadBalancer Services with `externalTrafficPolicy: Local`. @defaultValue 0 */
  readonly externalTrafficPolicyLocal?: number;
}

/** Options of {@link syntheticCluster}. */
export interface SyntheticClusterOptions {
  /** Number of Services N (an integer ≥ 0). */
  readonly services: number;
  /** Endpoints per Service E (an integer ≥ 0; one EndpointSlice holds at most 1000). @defaultValue 10 */
  readonly endpoints?: number;
  /** Seed of every choice (feature mix, address permutations). @defaultValue 1 */
  readonly seed?: number | string;
  /** Namespace of every object. @defaultValue `'bench'` */
  readonly namespace?: string;
  /** Service CIDR the ClusterIPs come from (`--service-cluster-ip-range`). @defaultValue `'10.96.0.0/12'` */
  readonly serviceCidr?: string | Cidr;
  /**
   * Pod CIDR (`--cluster-cidr`), split into one block per node (the nodes'
   * `podCIDR`s); it is also the proxy configuration's `clusterCIDR`.
   * Must not overlap the service CIDR. @defaultValue `'10.128.0.0/9'`
   */
  readonly podCidr?: string | Cidr;
  /** Nodes the pods run on; node 0 is the node kube-proxy runs on ({@link SyntheticCluster.node}). @defaultValue 64 */
  readonly nodes?: number;
  /** Block of the nodes' InternalIPs (node k gets the (k+10)-th address). @defaultValue `'192.168.0.0/16'` */
  readonly nodeCidr?: string | Cidr;
  /** Block of the LoadBalancer ingress IPs (Service i gets the (i+1)-th address). @defaultValue `'172.16.0.0/12'` */
  readonly loadBalancerCidr?: string | Cidr;
  /** The Services' port. @defaultValue 80 */
  readonly port?: number;
  /** The endpoints' (target) port. @defaultValue 8080 */
  readonly targetPort?: number;
  /** Port name. @defaultValue `'http'` */
  readonly portName?: string;
  /** Port protocol. @defaultValue `'TCP'` */
  readonly protocol?: L4Protocol;
  /** `--service-node-port-range` for NodePorts and health-check node ports. @defaultValue 30000..32767 */
  readonly nodePortRange?: { readonly min: number; readonly max: number };
  /** Feature mix. @defaultValue ClusterIP Services only, no affinity */
  readonly mix?: SyntheticServiceMix;
}

/** A Service of the synthetic cluster with its one EndpointSlice. */
export interface SyntheticService {
  /** The Service (`<namespace>/svc-<i>`). */
  readonly service: Service;
  /** Its EndpointSlice (`svc-<i>-0`), E ready endpoints on port `targetPort`. */
  readonly endpointSlice: EndpointSlice;
}

/** What {@link SyntheticCluster.typeCounts} counts. */
export interface SyntheticTypeCounts {
  /** Services of type ClusterIP. */
  readonly ClusterIP: number;
  /** Services of type NodePort. */
  readonly NodePort: number;
  /** Services of type LoadBalancer. */
  readonly LoadBalancer: number;
  /** Services with `sessionAffinity: ClientIP`. */
  readonly sessionAffinity: number;
  /** Services with `externalTrafficPolicy: Local`. */
  readonly externalLocal: number;
}

const WHERE = 'lbsim/workload.syntheticCluster';

/** Endpoint conditions of a running pod (shared by every endpoint). */
const READY: EndpointConditions = Object.freeze({ ready: true, serving: true, terminating: false });
const NO_LABELS: ReadonlyMap<string, string> = new Map();

/** murmur3's 32-bit finaliser: a bijective mix of a uint32. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/**
 * A seeded bijection of [0, m): `k ↦ (a·k + b) mod m` with `gcd(a, m) = 1`.
 * `a < 2^20` and `m ≤ 2^32` keep `a·k` below 2^53, so it is exact in doubles.
 */
class AffinePermutation {
  readonly m: number;
  readonly #a: number;
  readonly #b: number;

  constructor(m: number, rng: Rng) {
    this.m = m;
    if (m <= 1) {
      this.#a = 1;
      this.#b = 0;
      return;
    }
    const limit = Math.min(m, 1 << 20);
    let a = 1 + rng.below(limit - 1 > 0 ? limit - 1 : 1);
    while (gcd(a, m) !== 1) a = a + 1 >= limit ? 1 : a + 1;
    this.#a = a;
    this.#b = rng.below(Math.min(m, 0x100000000));
  }

  at(k: number): number {
    return (this.#a * k + this.#b) % this.m;
  }
}

function resolveCidr(name: string, c: string | Cidr): Cidr {
  if (typeof c === 'string') return parseCidr(c);
  if (!Number.isInteger(c.prefixLength) || c.prefixLength < 0 || c.prefixLength > 32) {
    throw new InvalidArgumentError(`${WHERE}: ${name}.prefixLength must be an integer in [0, 32] (got ${c.prefixLength})`);
  }
  const mask = prefixMask(c.prefixLength);
  return { address: (c.address & mask) >>> 0, prefixLength: c.prefixLength, mask };
}

function checkFraction(name: string, v: number | undefined): number {
  const f = v ?? 0;
  if (!(f >= 0 && f <= 1)) throw new InvalidArgumentError(`${WHERE}: mix.${name} must be a number in [0, 1] (got ${f})`);
  return f;
}

function checkInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${WHERE}: ${name} must be an integer in [${min}, ${max}] (got ${v})`);
  }
  return v;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const m = a.prefixLength < b.prefixLength ? a.mask : b.mask;
  return ((a.address & m) >>> 0) === ((b.address & m) >>> 0);
}

/**
 * A synthetic cluster (see the module description). Build it with
 * {@link syntheticCluster}.
 *
 * Layout, all deterministic for a seed:
 * - Service `i` is `<namespace>/svc-<i>` with `i` zero-padded to 6 digits
 *   (more when N needs them), so kube-proxy's sorted service order
 *   (KUBE-SERVICES with `servicesOrder: 'sorted'`) is index order:
 *   Service `i` is the `i`-th service rule.
 * - One port (`http`, 80/TCP → 8080 by default), one EndpointSlice
 *   `svc-<i>-0` with E ready endpoints.
 * - ClusterIPs: a seeded permutation of the service CIDR without its
 *   network and broadcast addresses, so Services get distinct, scattered
 *   addresses (as the API server's random allocator gives), for any index
 *   below the CIDR's capacity.
 * - Pods: the pod CIDR is split into one power-of-two block per node; each
 *   block's first two addresses (network, the node's bridge) and last
 *   (broadcast) are never used. Pod `k` (endpoint `j` of Service `i` is pod
 *   `i·E + j`) is placed by a seeded permutation of all usable pod
 *   addresses, which also decides its node. Replacement pods
 *   ({@link SyntheticCluster.endpointChange}) are numbered down from the
 *   top of the pod space, so no two pods ever share an address while
 *   `N·E + changes` stays below the capacity.
 * - Feature mix: Service `i`'s type, affinity and traffic policy come from
 *   a seeded hash of `i`, so the fractions hold on average (binomially) and
 *   any index (including ones added later) gets the same features every time.
 *   NodePorts (and health-check node ports of LoadBalancer + Local) are
 *   allocated in index order from the node-port range.
 */
export class SyntheticCluster {
  /** The Services and EndpointSlices of indices [0, N), applied in index order. */
  readonly cluster: Cluster;
  /** Number of Services built into {@link SyntheticCluster.cluster}. */
  readonly size: number;
  /** Endpoints per Service. */
  readonly endpointsPerService: number;
  /** Namespace of every object. */
  readonly namespace: string;
  /** Service CIDR. */
  readonly serviceCidr: Cidr;
  /** Pod CIDR (the proxy configuration's `clusterCIDR`). */
  readonly podCidr: Cidr;
  /** Number of nodes. */
  readonly nodeCount: number;
  /** Prefix length of each node's pod block. */
  readonly nodePodPrefix: number;
  /** Service port. */
  readonly port: number;
  /** Endpoint port. */
  readonly targetPort: number;
  /** Port protocol. */
  readonly protocol: L4Protocol;
  /** Services of indices [0, N). */
  readonly services: readonly Service[];
  /** EndpointSlices of indices [0, N) as built (not as changed by {@link SyntheticCluster.endpointChange}). */
  readonly endpointSlices: readonly EndpointSlice[];
  /** The node kube-proxy runs on: node 0. */
  readonly node: Node;

  readonly #portName: string;
  readonly #nodeCidr: Cidr;
  readonly #lbCidr: Cidr;
  readonly #digits: number;
  readonly #seedHash: number;
  readonly #mix: Required<SyntheticServiceMix>;
  readonly #clusterIPs: AffinePermutation;
  readonly #pods: AffinePermutation;
  readonly #slotsPerNode: number;
  readonly #nodeNames: readonly string[];
  readonly #slicePorts: readonly EndpointSlicePort[];
  readonly #clusterIPPorts: readonly ServicePort[];
  readonly #nodePortMin: number;
  readonly #nodePortMax: number;
  #nextNodePort: number;
  #replacements = 0;
  /** Pods [0, this) are taken by Services' initial endpoints. */
  #podsInUse: number;
  readonly #extra = new Map<number, SyntheticService>();
  readonly #current = new Map<number, EndpointSlice>();
  readonly #changes = new Map<number, number>();

  /**
   * @param options - see {@link SyntheticClusterOptions}
   * @param progress - called every 10,000 Services while building
   * @throws {InvalidArgumentError} for bad options, overlapping CIDRs, or
   *   more Services, pods, nodes or node ports than the address plan holds
   */
  constructor(options: SyntheticClusterOptions, progress?: (built: number, total: number) => void) {
    const n = checkInt('services', options.services, 0, 0x7fffffff);
    const e = checkInt('endpoints', options.endpoints ?? 10, 0, 1000);
    const seed = options.seed ?? 1;
    this.size = n;
    this.endpointsPerService = e;
    this.namespace = options.namespace ?? 'bench';
    this.serviceCidr = resolveCidr('serviceCidr', options.serviceCidr ?? '10.96.0.0/12');
    this.podCidr = resolveCidr('podCidr', options.podCidr ?? '10.128.0.0/9');
    this.#nodeCidr = resolveCidr('nodeCidr', options.nodeCidr ?? '192.168.0.0/16');
    this.#lbCidr = resolveCidr('loadBalancerCidr', options.loadBalancerCidr ?? '172.16.0.0/12');
    const cidrs: [string, Cidr][] = [
      ['serviceCidr', this.serviceCidr],
      ['podCidr', this.podCidr],
      ['nodeCidr', this.#nodeCidr],
      ['loadBalancerCidr', this.#lbCidr],
    ];
    for (let a = 0; a < cidrs.length; a++) {
      for (let b = a + 1; b < cidrs.length; b++) {
        if (overlaps(cidrs[a]![1], cidrs[b]![1])) {
          throw new InvalidArgumentError(
            `${WHERE}: ${cidrs[a]![0]} ${formatCidr(cidrs[a]![1])} overlaps ${cidrs[b]![0]} ${formatCidr(cidrs[b]![1])}`,
          );
        }
      }
    }
    this.nodeCount = checkInt('nodes', options.nodes ?? 64, 1, 1 << 20);
    this.port = checkInt('port', options.port ?? 80, 1, 65535);
    this.targetPort = checkInt('targetPort', options.targetPort ?? 8080, 1, 65535);
    this.protocol = options.protocol ?? 'TCP';
    this.#portName = options.portName ?? 'http';
    const npr = options.nodePortRange ?? { min: 30000, max: 32767 };
    this.#nodePortMin = checkInt('nodePortRange.min', npr.min, 1, 65535);
    this.#nodePortMax = checkInt('nodePortRange.max', npr.max, this.#nodePortMin, 65535);
    this.#nextNodePort = this.#nodePortMin;
    const mix = options.mix ?? {};
    this.#mix = {
      nodePort: checkFraction('nodePort', mix.nodePort),
      loadBalancer: checkFraction('loadBalancer', mix.loadBalancer),
      sessionAffinity: checkFraction('sessionAffinity', mix.sessionAffinity),
      externalTrafficPolicyLocal: checkFraction('externalTrafficPolicyLocal', mix.externalTrafficPolicyLocal),
    };
    if (this.#mix.nodePort + this.#mix.loadBalancer > 1) {
      throw new InvalidArgumentError(`${WHERE}: mix.nodePort + mix.loadBalancer must be at most 1`);
    }

    // node blocks of the pod CIDR: the smallest power of two ≥ nodes
    const nodeBits = Math.ceil(Math.log2(this.nodeCount));
    this.nodePodPrefix = this.podCidr.prefixLength + nodeBits;
    if (this.nodePodPrefix > 30) {
      throw new InvalidArgumentError(`${WHERE}: podCidr ${formatCidr(this.podCidr)} is too small for ${this.nodeCount} nodes`);
    }
    this.#slotsPerNode = 2 ** (32 - this.nodePodPrefix) - 3;
    const nodeAddresses = 2 ** (32 - this.#nodeCidr.prefixLength) - 11;
    if (this.nodeCount > nodeAddresses) {
      throw new InvalidArgumentError(`${WHERE}: nodeCidr ${formatCidr(this.#nodeCidr)} holds fewer than ${this.nodeCount} nodes`);
    }

    const rng = createRng(seed);
    this.#seedHash = rng.uint32();
    const serviceSpace = 2 ** (32 - this.serviceCidr.prefixLength) - 2;
    if (n > serviceSpace) throw new InvalidArgumentError(`${WHERE}: serviceCidr ${formatCidr(this.serviceCidr)} holds fewer than ${n} Services`);
    this.#clusterIPs = new AffinePermutation(serviceSpace, rng);
    const podSpace = this.nodeCount * this.#slotsPerNode;
    if (n * e > podSpace) throw new InvalidArgumentError(`${WHERE}: podCidr ${formatCidr(this.podCidr)} holds fewer than ${n * e} pods`);
    this.#pods = new AffinePermutation(podSpace, rng);
    this.#podsInUse = n * e;
    this.#digits = Math.max(6, String(Math.max(0, n - 1)).length);

    const names: string[] = [];
    for (let k = 0; k < this.nodeCount; k++) names.push(`node-${k}`);
    this.#nodeNames = names;
    this.#slicePorts = [{ name: this.#portName, protocol: this.protocol, port: this.targetPort, appProtocol: null }];
    this.#clusterIPPorts = [this.#servicePort(0)];

    this.node = this.nodeObject(0);
    const cluster = new Cluster();
    const services: Service[] = [];
    const slices: EndpointSlice[] = [];
    for (let i = 0; i < n; i++) {
      const svc = this.#buildService(i);
      const slice = this.#buildSlice(i);
      services.push(svc);
      slices.push(slice);
      cluster.applyService(svc);
      cluster.applyEndpointSlice(slice);
      if (progress !== undefined && (i + 1) % 10_000 === 0) progress(i + 1, n);
    }
    this.cluster = cluster;
    this.services = services;
    this.endpointSlices = slices;
  }

  /** Name of Service `i`: `svc-` and `i` zero-padded (see the class description). */
  serviceName(i: number): string {
    return `svc-${String(i).padStart(this.#digits, '0')}`;
  }

  /** ClusterIP of Service `i`. */
  clusterIP(i: number): IPv4 {
    checkInt('index', i, 0, this.#clusterIPs.m - 1);
    return (this.serviceCidr.address + 1 + this.#clusterIPs.at(i)) >>> 0;
  }

  /** Address of pod `k` (endpoint `j` of Service `i` is pod `i·E + j` until changed). */
  podIP(k: number): IPv4 {
    const p = this.#pods.at(k);
    const node = Math.floor(p / this.#slotsPerNode);
    const slot = p - node * this.#slotsPerNode;
    return (this.podCidr.address + node * 2 ** (32 - this.nodePodPrefix) + 2 + slot) >>> 0;
  }

  /** Node (index) pod `k` runs on. */
  podNode(k: number): number {
    return Math.floor(this.#pods.at(k) / this.#slotsPerNode);
  }

  /** InternalIP of node `k`. */
  nodeIP(k: number): IPv4 {
    return (this.#nodeCidr.address + 10 + k) >>> 0;
  }

  /** Pod CIDR block of node `k`. */
  nodePodCidr(k: number): Cidr {
    const size = 2 ** (32 - this.nodePodPrefix);
    return { address: (this.podCidr.address + k * size) >>> 0, prefixLength: this.nodePodPrefix, mask: prefixMask(this.nodePodPrefix) };
  }

  /** The `v1` Node of node `k`: name `node-<k>`, its InternalIP and its pod block. */
  nodeObject(k: number): Node {
    checkInt('node', k, 0, this.nodeCount - 1);
    return { kind: 'Node', name: `node-${k}`, labels: NO_LABELS, internalIPs: [this.nodeIP(k)], externalIPs: [], podCIDR: this.nodePodCidr(k) };
  }

  /**
   * The {@link HostOptions} of node 0 for a `Netfilter` engine: `eth0` with
   * the node IP in the node CIDR (the default route), `cni0` with the
   * first host address of the node's pod block (the bridge the pods hang
   * off).
   */
  hostOptions(): HostOptions {
    const block = this.nodePodCidr(0);
    return {
      interfaces: [
        { name: 'eth0', addresses: [`${formatIPv4(this.nodeIP(0))}/${this.#nodeCidr.prefixLength}`] },
        { name: 'cni0', addresses: [`${formatIPv4(block.address + 1)}/${block.prefixLength}`] },
      ],
      defaultInterface: 'eth0',
    };
  }

  /**
   * kube-proxy's configuration for node 0: the defaults, the given mode,
   * `clusterCIDR` = the pod CIDR (detect-local by cluster CIDR), masquerade
   * bit 14.
   *
   * @param mode - proxy mode
   * @param over - fields to override
   */
  proxyConfig(mode: 'iptables' | 'ipvs', over: Partial<KubeProxyConfiguration> = {}): KubeProxyConfiguration {
    return { ...defaultKubeProxyConfiguration(), mode, clusterCIDR: this.podCidr, ...over };
  }

  /** Service `i` and its EndpointSlice as built (for indices ≥ N: the same objects every call). */
  serviceAt(i: number): SyntheticService {
    if (i < this.size) return { service: this.services[i]!, endpointSlice: this.endpointSlices[i]! };
    return this.addService(i);
  }

  /**
   * A Service that is not in the cluster yet, with its EndpointSlice, for
   * an "add one Service" step: feed both to the proxier
   * (`applyService`, `applyEndpointSlice`). Repeated calls with the same
   * `i` return the same objects, so adding and deleting it again is the
   * same change every time.
   *
   * @param i - an index ≥ N (the cluster holds [0, N))
   * @throws {InvalidArgumentError} for an index in [0, N), or when the pod,
   *   service or node-port space is exhausted
   */
  addService(i: number): SyntheticService {
    checkInt('addService index', i, this.size, this.#clusterIPs.m - 1);
    let s = this.#extra.get(i);
    if (s === undefined) {
      if ((i + 1) * this.endpointsPerService > this.#pods.m - this.#replacements) {
        throw new InvalidArgumentError(`${WHERE}: no pod addresses left for Service ${i}`);
      }
      s = { service: this.#buildService(i), endpointSlice: this.#buildSlice(i) };
      this.#extra.set(i, s);
      this.#podsInUse = Math.max(this.#podsInUse, (i + 1) * this.endpointsPerService);
    }
    return s;
  }

  /**
   * Replaces one endpoint of Service `i` by a new pod (a new address, on
   * the node the permutation gives it): endpoint slot `c mod E` for the
   * `c`-th change of that Service. The result is the new EndpointSlice
   * (same name), which becomes the generator's current slice for `i`;
   * feed it to the proxier (`applyEndpointSlice`).
   *
   * @throws {InvalidArgumentError} when Service `i` has no endpoints or is
   *   unknown, or the pod space is exhausted
   */
  endpointChange(i: number): EndpointSlice {
    checkInt('endpointChange index', i, 0, this.#clusterIPs.m - 1);
    const base = this.#current.get(i) ?? this.serviceAt(i).endpointSlice;
    const e = base.endpoints.length;
    if (e === 0) throw new InvalidArgumentError(`${WHERE}.endpointChange: Service ${i} has no endpoints`);
    const c = this.#changes.get(i) ?? 0;
    const k = this.#pods.m - 1 - this.#replacements;
    if (k < this.#podsInUse) {
      throw new InvalidArgumentError(`${WHERE}.endpointChange: no pod addresses left`);
    }
    this.#replacements++;
    const endpoints = base.endpoints.slice();
    endpoints[c % e] = this.#endpoint(k);
    const slice: EndpointSlice = { ...base, endpoints };
    this.#changes.set(i, c + 1);
    this.#current.set(i, slice);
    return slice;
  }

  /**
   * Number of Services of the cluster (indices [0, N)) per type, with
   * ClientIP affinity (`sessionAffinity`) and with `externalTrafficPolicy:
   * Local` (`externalLocal`).
   */
  typeCounts(): SyntheticTypeCounts {
    let cip = 0;
    let np = 0;
    let lb = 0;
    let aff = 0;
    let local = 0;
    for (const s of this.services) {
      if (s.type === 'NodePort') np++;
      else if (s.type === 'LoadBalancer') lb++;
      else cip++;
      if (s.sessionAffinity === 'ClientIP') aff++;
      if (s.externalTrafficPolicy === 'Local') local++;
    }
    return { ClusterIP: cip, NodePort: np, LoadBalancer: lb, sessionAffinity: aff, externalLocal: local };
  }

  /** A uniform number in [0, 1) from (seed, i, salt). */
  #uniform(i: number, salt: number): number {
    const h = fmix32(this.#seedHash ^ fmix32(Math.imul(i, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77) ^ Math.floor(i / 0x100000000)));
    return h / 0x100000000;
  }

  #allocNodePort(): number {
    if (this.#nextNodePort > this.#nodePortMax) {
      throw new InvalidArgumentError(
        `${WHERE}: the node-port range ${this.#nodePortMin}-${this.#nodePortMax} is exhausted (widen nodePortRange or lower the NodePort/LoadBalancer mix)`,
      );
    }
    return this.#nextNodePort++;
  }

  #servicePort(nodePort: number): ServicePort {
    return { name: this.#portName, protocol: this.protocol, port: this.port, targetPort: this.targetPort, nodePort, appProtocol: null };
  }

  #buildService(i: number): Service {
    const u = this.#uniform(i, 0);
    const m = this.#mix;
    const type: ServiceType = u < m.nodePort ? 'NodePort' : u < m.nodePort + m.loadBalancer ? 'LoadBalancer' : 'ClusterIP';
    const external = type !== 'ClusterIP';
    const affinity = this.#uniform(i, 1) < m.sessionAffinity;
    const local = external && this.#uniform(i, 2) < m.externalTrafficPolicyLocal;
    const ports = external ? [this.#servicePort(this.#allocNodePort())] : this.#clusterIPPorts;
    let loadBalancerIngress: Service['loadBalancerIngress'] = [];
    let healthCheckNodePort = 0;
    if (type === 'LoadBalancer') {
      if (i >= 2 ** (32 - this.#lbCidr.prefixLength) - 2) {
        throw new InvalidArgumentError(`${WHERE}: loadBalancerCidr ${formatCidr(this.#lbCidr)} has no address for Service ${i}`);
      }
      loadBalancerIngress = [{ ip: (this.#lbCidr.address + 1 + i) >>> 0, hostname: null, ipMode: 'VIP' }];
      if (local) healthCheckNodePort = this.#allocNodePort();
    }
    return {
      kind: 'Service',
      namespace: this.namespace,
      name: this.serviceName(i),
      labels: NO_LABELS,
      type,
      clusterIP: this.clusterIP(i),
      headless: false,
      ports,
      externalIPs: [],
      loadBalancerIngress,
      loadBalancerSourceRanges: [],
      sessionAffinity: affinity ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: affinity ? DEFAULT_CLIENT_IP_AFFINITY_SECONDS : 0,
      externalTrafficPolicy: external ? (local ? 'Local' : 'Cluster') : null,
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort,
      externalName: null,
    };
  }

  #endpoint(k: number): EndpointSliceEndpoint {
    return { addresses: [this.podIP(k)], conditions: READY, nodeName: this.#nodeNames[this.podNode(k)]!, zone: null, hostname: null };
  }

  #buildSlice(i: number): EndpointSlice {
    const e = this.endpointsPerService;
    const endpoints: EndpointSliceEndpoint[] = [];
    for (let j = 0; j < e; j++) endpoints.push(this.#endpoint(i * e + j));
    const name = this.serviceName(i);
    return {
      kind: 'EndpointSlice',
      namespace: this.namespace,
      name: `${name}-0`,
      labels: new Map([[SERVICE_NAME_LABEL, name]]),
      serviceName: name,
      addressType: 'IPv4',
      endpoints,
      ports: this.#slicePorts,
    };
  }
}

/**
 * Builds a {@link SyntheticCluster}: N Services × E endpoints in a
 * {@link Cluster}, with the node and proxy configuration to run a
 * simulated kube-proxy on.
 *
 * @example
 * ```ts
 * const sc = syntheticCluster({ services: 1000, endpoints: 10, seed: 7 });
 * const clock = new SimClock();
 * const netfilter = new Netfilter({ clock, host: sc.hostOptions() });
 * const proxier = new KubeProxier({ cluster: sc.cluster, node: sc.node, config: sc.proxyConfig('iptables'), netfilter });
 * proxier.start();
 * ```
 *
 * @param options - see {@link SyntheticClusterOptions}
 * @param progress - called every 10,000 Services while building
 * @throws {InvalidArgumentError} see the {@link SyntheticCluster} constructor
 */
export function syntheticCluster(options: SyntheticClusterOptions, progress?: (built: number, total: number) => void): SyntheticCluster {
  return new SyntheticCluster(options, progress);
}
