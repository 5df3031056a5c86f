import { formatIPv4 } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import { namespacedName } from './objects.js';
import type { EndpointSlice, L4Protocol, Node, Service, SessionAffinity } from './objects.js';
import { parseKubeObjects } from './parse.js';
import type { KubeObjects } from './parse.js';

/**
 * The cluster state kube-proxy keeps: Services and EndpointSlices by
 * namespace/name, the per-service-port view derived from them
 * (`svcPortMap` and `endpointsMap` of kubernetes/kubernetes `pkg/proxy`),
 * change tracking since the last sync (`ServiceChangeTracker`,
 * `EndpointsChangeTracker`) and endpoint categorisation
 * (`pkg/proxy/topology.go` CategorizeEndpoints).
 *
 * @module
 */

/**
 * Key of a service port in the maps of this module: `ns/name:portName/PROTOCOL`
 * (kube-proxy's `ServicePortName` includes the protocol: an EndpointSlice port
 * feeds a Service port only when both name and protocol match).
 */
export function servicePortKey(namespace: string, name: string, portName: string, protocol: L4Protocol): string {
  return `${namespace}/${name}:${portName}/${protocol}`;
}

/** `ServicePortName.String()` (pkg/proxy/types.go): `ns/name`, plus `:portName` when the port is named. */
export function servicePortNameString(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** One service port as kube-proxy's `BaseServicePortInfo` (pkg/proxy/serviceport.go) describes it. */
export interface ServicePortInfo {
  /** {@link servicePortKey}. */
  readonly key: string;
  /** `ns/name` of the Service. */
  readonly service: string;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  /** `ServicePortName.String()`: used in comments and chain-name hashes. */
  readonly nameString: string;
  readonly protocol: L4Protocol;
  readonly clusterIP: IPv4;
  readonly port: number;
  /** 0 when none. */
  readonly nodePort: number;
  readonly externalIPs: readonly IPv4[];
  /** IPv4 ingress IPs in VIP mode (`LoadBalancerVIPs`). */
  readonly loadBalancerVIPs: readonly IPv4[];
  readonly loadBalancerSourceRanges: readonly Cidr[];
  readonly sessionAffinity: SessionAffinity;
  /** `StickyMaxAgeSeconds` (0 without ClientIP affinity). */
  readonly stickyMaxAgeSeconds: number;
  /** Set only for LoadBalancer services with externalTrafficPolicy Local. */
  readonly healthCheckNodePort: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  /** `ExternallyAccessible`: a NodePort, a LoadBalancer VIP or an externalIP. */
  readonly externallyAccessible: boolean;
  /** `UsesClusterEndpoints`: internal policy Cluster, or externally accessible (for short-circuiting). */
  readonly usesClusterEndpoints: boolean;
  /** `UsesLocalEndpoints`: internal policy Local, or external policy Local and externally accessible. */
  readonly usesLocalEndpoints: boolean;
}

/**
 * `serviceToServiceMap` (pkg/proxy/servicechangetracker.go) + `newBaseServiceInfo`:
 * the service ports kube-proxy programs for a Service, in `spec.ports` order.
 * ExternalName and headless services (and services without an IPv4 cluster IP) have none.
 */
export function servicePortInfos(svc: Service): ServicePortInfo[] {
  if (svc.type === 'ExternalName' || svc.clusterIP === null) return []; // proxyutil.ShouldSkipService
  const clusterIP = svc.clusterIP;
  const externalPolicyLocal = svc.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
  const loadBalancerVIPs: IPv4[] = [];
  for (const ing of svc.loadBalancerIngress) {
    if (ing.ip !== null && ing.ipMode !== 'Proxy') loadBalancerVIPs.push(ing.ip); // proxyutil.IsVIPMode
  }
  const service = namespacedName(svc.namespace, svc.name);
  return svc.ports.map((p): ServicePortInfo => {
    const externallyAccessible = p.nodePort !== 0 || loadBalancerVIPs.length > 0 || svc.externalIPs.length > 0;
    return {
      key: servicePortKey(svc.namespace, svc.name, p.name, p.protocol),
      service,
      namespace: svc.namespace,
      name: svc.name,
      portName: p.name,
      nameString: servicePortNameString(svc.namespace, svc.name, p.name),
      protocol: p.protocol,
      clusterIP,
      port: p.port,
      nodePort: p.nodePort,
      externalIPs: svc.externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges: svc.loadBalancerSourceRanges,
      sessionAffinity: svc.sessionAffinity,
      stickyMaxAgeSeconds: svc.sessionAffinity === 'ClientIP' ? svc.sessionAffinityTimeoutSeconds : 0,
      healthCheckNodePort: svc.type === 'LoadBalancer' && externalPolicyLocal ? svc.healthCheckNodePort : 0,
      externalPolicyLocal,
      internalPolicyLocal,
      externallyAccessible,
      usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
      usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
    };
  });
}

/** One endpoint of a service port (`BaseEndpointInfo`, pkg/proxy/endpoint.go). */
export interface Endpoint {
  readonly ip: IPv4;
  /** Dotted-quad form of `ip`. */
  readonly ipString: string;
  readonly port: number;
  /** `ip:port` (`net.JoinHostPort`): the sort key and the SEP hash input. */
  readonly endpointString: string;
  /** `''` when the EndpointSlice does not say. */
  readonly nodeName: string;
  readonly zone: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** `IsLocal`: the endpoint's nodeName is this (non-empty) node name (pkg/proxy/endpointslicecache.go isLocal). */
export function isLocalEndpoint(ep: Endpoint, nodeName: string): boolean {
  return nodeName.length > 0 && ep.nodeName === nodeName;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `endpointInfoByServicePort` + `endpointsMapFromEndpointInfo`
 * (pkg/proxy/endpointslicecache.go): the endpoints of every service port that
 * the given slices (all of one Service) feed, deduplicated by `ip:port` (a
 * later duplicate replaces an earlier one only when it is local) and sorted by
 * the `ip:port` string, byte-wise ("10.0.0.10:80" before "10.0.0.2:80").
 * kube-proxy walks the slices in Go map order; lbsim walks them by name.
 */
export function endpointsFromSlices(
  namespace: string,
  serviceName: string,
  slices: readonly EndpointSlice[],
  nodeName = '',
): Map<string, Endpoint[]> {
  const bySP = new Map<string, Map<string, Endpoint>>();
  const ordered = [...slices].sort((a, b) => byteCompare(a.name, b.name));
  for (const slice of ordered) {
    // newEndpointSliceInfo sorts ports by number and endpoints by their joined addresses
    const ports = [...slice.ports].sort((a, b) => (a.port ?? 0) - (b.port ?? 0));
    const eps = slice.endpoints
      .map((e) => ({ e, k: e.addresses.map(formatIPv4).join(',') }))
      .sort((a, b) => byteCompare(a.k, b.k))
      .map((x) => x.e);
    for (const p of ports) {
      if (p.port === null || p.port === 0) continue; // "Ignoring invalid endpoint port"
      const key = servicePortKey(namespace, serviceName, p.name, p.protocol);
      let set = bySP.get(key);
      if (set === undefined) {
        set = new Map();
        bySP.set(key, set);
      }
      for (const e of eps) {
        const first = e.addresses[0];
        if (first === undefined) continue;
        const ipString = formatIPv4(first);
        const endpointString = `${ipString}:${p.port}`;
        const ep: Endpoint = {
          ip: first,
          ipString,
          port: p.port,
          endpointString,
          nodeName: e.nodeName ?? '',
          zone: e.zone ?? '',
          ready: e.conditions.ready,
          serving: e.conditions.serving,
          terminating: e.conditions.terminating,
        };
        if (!set.has(endpointString) || isLocalEndpoint(ep, nodeName)) set.set(endpointString, ep);
      }
    }
  }
  const out = new Map<string, Endpoint[]>();
  for (const [key, set] of bySP) {
    if (set.size === 0) continue;
    out.set(
      key,
      [...set.values()].sort((a, b) => byteCompare(a.endpointString, b.endpointString)),
    );
  }
  return out;
}

/** The result of {@link categorizeEndpoints}. */
export interface CategorizedEndpoints {
  /** Usable endpoints for the Cluster policy (empty when the port never uses it). */
  readonly clusterEndpoints: readonly Endpoint[];
  /** Usable local endpoints for the Local policy (empty when the port never uses it). */
  readonly localEndpoints: readonly Endpoint[];
  /** Union of the two: the endpoints that get a KUBE-SEP chain on this node. */
  readonly allReachableEndpoints: readonly Endpoint[];
  /** Whether the port has usable endpoints anywhere in the cluster (may be true with none reachable). */
  readonly hasAnyEndpoints: boolean;
}

/**
 * `CategorizeEndpoints` (pkg/proxy/topology.go) without topology hints:
 * cluster endpoints are the ready ones, or — when none is ready — the
 * serving-and-terminating ones; local endpoints are the local ready ones, or
 * the local serving-terminating ones when no local endpoint is ready
 * (decided independently of the cluster fallback). When the two lists must
 * be merged kube-proxy builds the union through a Go map (unspecified order);
 * lbsim sorts it by `ip:port`.
 *
 * @param endpoints - the port's endpoints, sorted by `ip:port`
 * @param svc - the service port
 * @param nodeName - this node's name (`IsLocal` compares against it)
 */
export function categorizeEndpoints(
  endpoints: readonly Endpoint[],
  svc: Pick<ServicePortInfo, 'usesClusterEndpoints' | 'usesLocalEndpoints'>,
  nodeName: string,
): CategorizedEndpoints {
  let clusterEndpoints: Endpoint[] = [];
  let hasAnyEndpoints = false;
  if (svc.usesClusterEndpoints) {
    clusterEndpoints = endpoints.filter((e) => e.ready);
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter((e) => e.serving && e.terminating);
    if (clusterEndpoints.length > 0) hasAnyEndpoints = true;
  }
  if (!svc.usesLocalEndpoints) {
    return { clusterEndpoints, localEndpoints: [], allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAnyEndpoints = true;
      if (isLocalEndpoint(e, nodeName)) hasLocalReady = true;
    } else if (e.serving && e.terminating) {
      hasAnyEndpoints = true;
      if (isLocalEndpoint(e, nodeName)) hasLocalServingTerminating = true;
    }
  }
  let localEndpoints: Endpoint[] = [];
  let useServingTerminating = false;
  if (hasLocalReady) localEndpoints = endpoints.filter((e) => isLocalEndpoint(e, nodeName) && e.ready);
  else if (hasLocalServingTerminating) {
    useServingTerminating = true;
    localEndpoints = endpoints.filter((e) => isLocalEndpoint(e, nodeName) && e.serving && e.terminating);
  }
  if (!svc.usesClusterEndpoints) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (!useServingTerminating) {
    // clusterEndpoints holds every ready endpoint, so it is a superset of localEndpoints
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  const merged = new Map<string, Endpoint>();
  for (const e of clusterEndpoints) merged.set(e.endpointString, e);
  for (const e of localEndpoints) merged.set(e.endpointString, e);
  const allReachableEndpoints = [...merged.values()].sort((a, b) => byteCompare(a.endpointString, b.endpointString));
  return { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints };
}

/** What changed since the last {@link Cluster.checkoutChanges}. */
export interface ClusterChanges {
  /** `ns/name` of Services whose service ports changed (`UpdateServiceMapResult.UpdatedServices`). */
  readonly serviceUpdates: ReadonlySet<string>;
  /** `ns/name` of Services whose EndpointSlices changed (`UpdateEndpointsMapResult.UpdatedServices`). */
  readonly endpointUpdates: ReadonlySet<string>;
  /** Union of the two: the Services whose chains a partial sync rewrites. */
  readonly services: ReadonlySet<string>;
  /** {@link servicePortKey}s whose port definition or endpoint list differs from the last checkout. */
  readonly servicePorts: ReadonlySet<string>;
}

interface Snapshot {
  readonly ports: ReadonlyMap<string, string>;
  readonly endpoints: ReadonlyMap<string, string>;
}

const EMPTY_SNAPSHOT: Snapshot = { ports: new Map(), endpoints: new Map() };

/** kube-proxy's view of an EndpointSlice (`endpointSliceInfo`): what a change must touch to count. */
function sliceInfoFingerprint(s: EndpointSlice | undefined): string {
  if (s === undefined) return '';
  const ports = [...s.ports].sort((a, b) => (a.port ?? 0) - (b.port ?? 0)).map((p) => [p.name, p.protocol, p.port]);
  const eps = s.endpoints
    .map((e) => [e.addresses.map(formatIPv4).join(','), e.nodeName, e.zone, e.conditions.ready, e.conditions.serving, e.conditions.terminating])
    .sort((a, b) => byteCompare(String(a[0]), String(b[0])));
  return JSON.stringify([s.serviceName, ports, eps]);
}

function endpointFingerprint(eps: readonly Endpoint[]): string {
  return JSON.stringify(eps.map((e) => [e.endpointString, e.nodeName, e.zone, e.ready, e.serving, e.terminating]));
}

/**
 * Services and EndpointSlices of a cluster, with kube-proxy's derived maps
 * and change tracking. Mutations are atomic: {@link applyText} parses
 * everything first and changes nothing when the text is invalid.
 */
export class Cluster {
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice>();
  /** `ns/serviceName` → slice keys. */
  readonly #slicesByService = new Map<string, Set<string>>();
  readonly #nodes = new Map<string, Node>();
  readonly #portInfoCache = new Map<string, readonly ServicePortInfo[]>();
  /** service → node name → endpoints per service port (the node only decides which duplicate `ip:port` wins). */
  readonly #endpointCache = new Map<string, Map<string, Map<string, Endpoint[]>>>();
  readonly #serviceDirty = new Set<string>();
  readonly #endpointDirty = new Set<string>();
  readonly #synced = new Map<string, Snapshot>();
  #portsVersion = 0;
  /** Services whose ports or endpoints may have changed, in order (see {@link Cluster.changedSince}). */
  #log: string[] = [];
  /** Sequence number of `#log[0]`. */
  #logStart = 0;

  /** Increments whenever a Service is added, replaced or deleted (the service ports may have changed). */
  get portsVersion(): number {
    return this.#portsVersion;
  }

  /** Sequence number of the next change (see {@link Cluster.changedSince}). */
  get changeSeq(): number {
    return this.#logStart + this.#log.length;
  }

  /**
   * Services (`ns/name`) whose service ports or endpoints may have changed
   * since `seq` (a {@link Cluster.changeSeq} read earlier), independently of
   * {@link Cluster.checkoutChanges}; null when that is too long ago to tell.
   */
  changedSince(seq: number): ReadonlySet<string> | null {
    if (seq < this.#logStart || seq > this.changeSeq) return null;
    const out = new Set<string>();
    for (let i = seq - this.#logStart; i < this.#log.length; i++) out.add(this.#log[i]!);
    return out;
  }

  #logChange(service: string): void {
    this.#log.push(service);
    if (this.#log.length > 4096 && this.#log.length > 2 * this.#services.size) {
      // forget: readers that far behind recompute everything
      this.#logStart += this.#log.length;
      this.#log = [];
    }
  }

  /** Services by `ns/name`. */
  get services(): ReadonlyMap<string, Service> {
    return this.#services;
  }

  /** EndpointSlices by `ns/sliceName`. */
  get endpointSlices(): ReadonlyMap<string, EndpointSlice> {
    return this.#slices;
  }

  /** Nodes by name. */
  get nodes(): ReadonlyMap<string, Node> {
    return this.#nodes;
  }

  /** Adds or replaces a Service (`OnServiceAdd` / `OnServiceUpdate`). */
  applyService(svc: Service): void {
    const key = namespacedName(svc.namespace, svc.name);
    this.#services.set(key, svc);
    this.#portInfoCache.delete(key);
    this.#serviceDirty.add(key);
    this.#portsVersion++;
    this.#logChange(key);
  }

  /** Removes a Service (`OnServiceDelete`); false when it did not exist. */
  deleteService(namespace: string, name: string): boolean {
    const key = namespacedName(namespace, name);
    if (!this.#services.delete(key)) return false;
    this.#portInfoCache.delete(key);
    this.#serviceDirty.add(key);
    this.#portsVersion++;
    this.#logChange(key);
    return true;
  }

  /**
   * Adds or replaces an EndpointSlice (`OnEndpointSliceAdd/Update`). A change
   * counts only when it touches what kube-proxy caches (ports, addresses,
   * conditions, nodeName, zone). A slice whose service-name label changed
   * moves to its new Service.
   */
  applyEndpointSlice(slice: EndpointSlice): void {
    const key = namespacedName(slice.namespace, slice.name);
    const old = this.#slices.get(key);
    if (sliceInfoFingerprint(old) === sliceInfoFingerprint(slice)) {
      this.#slices.set(key, slice);
      return;
    }
    if (old !== undefined) this.#unlinkSlice(key, old);
    this.#slices.set(key, slice);
    const svcKey = namespacedName(slice.namespace, slice.serviceName);
    let set = this.#slicesByService.get(svcKey);
    if (set === undefined) {
      set = new Set();
      this.#slicesByService.set(svcKey, set);
    }
    set.add(key);
    this.#endpointCache.delete(svcKey);
    this.#endpointDirty.add(svcKey);
    this.#logChange(svcKey);
  }

  /** Removes an EndpointSlice (`OnEndpointSliceDelete`); false when it did not exist. */
  deleteEndpointSlice(namespace: string, name: string): boolean {
    const key = namespacedName(namespace, name);
    const old = this.#slices.get(key);
    if (old === undefined) return false;
    this.#unlinkSlice(key, old);
    this.#slices.delete(key);
    return true;
  }

  #unlinkSlice(key: string, old: EndpointSlice): void {
    const svcKey = namespacedName(old.namespace, old.serviceName);
    const set = this.#slicesByService.get(svcKey);
    set?.delete(key);
    if (set !== undefined && set.size === 0) this.#slicesByService.delete(svcKey);
    this.#endpointCache.delete(svcKey);
    this.#endpointDirty.add(svcKey);
    this.#logChange(svcKey);
  }

  /** Adds or replaces a Node (kube-proxy only reads its own node). */
  applyNode(node: Node): void {
    this.#nodes.set(node.name, node);
  }

  /** Applies already-validated objects: Services, then EndpointSlices, then Nodes. */
  apply(objects: Pick<KubeObjects, 'services' | 'endpointSlices'> & Partial<Pick<KubeObjects, 'nodes'>>): void {
    for (const s of objects.services) this.applyService(s);
    for (const s of objects.endpointSlices) this.applyEndpointSlice(s);
    for (const n of objects.nodes ?? []) this.applyNode(n);
  }

  /**
   * Parses YAML/JSON (see {@link parseKubeObjects}) and applies the objects.
   * All-or-nothing: on any error the cluster is unchanged.
   *
   * @returns everything parsed (KubeProxyConfigurations are returned, not stored)
   * @throws {ParseError} on syntax errors
   * @throws {KubeValidationError} on invalid objects
   */
  applyText(text: string): KubeObjects {
    const objects = parseKubeObjects(text);
    this.apply(objects);
    return objects;
  }

  /** The service ports of one Service (`ns/name`), in `spec.ports` order. */
  servicePortsOf(service: string): readonly ServicePortInfo[] {
    let infos = this.#portInfoCache.get(service);
    if (infos === undefined) {
      const svc = this.#services.get(service);
      infos = svc === undefined ? [] : servicePortInfos(svc);
      this.#portInfoCache.set(service, infos);
    }
    return infos;
  }

  /** Every service port (`svcPortMap`), Services in insertion order. */
  servicePorts(): ServicePortInfo[] {
    const out: ServicePortInfo[] = [];
    for (const key of this.#services.keys()) out.push(...this.servicePortsOf(key));
    return out;
  }

  /**
   * The endpoints feeding each port of a Service (`endpointsMap` restricted
   * to it), keyed by {@link servicePortKey}. Ports of slices that no Service
   * port matches are included too, as in kube-proxy.
   *
   * @param service - `ns/name`
   * @param nodeName - this node's name (only affects which duplicate `ip:port` wins)
   */
  endpointsOf(service: string, nodeName = ''): ReadonlyMap<string, readonly Endpoint[]> {
    let byNode = this.#endpointCache.get(service);
    const cached = byNode?.get(nodeName);
    if (cached !== undefined) return cached;
    const keys = this.#slicesByService.get(service);
    const slices = keys === undefined ? [] : [...keys].map((k) => this.#slices.get(k)!);
    const slash = service.indexOf('/');
    const map = endpointsFromSlices(service.slice(0, slash), service.slice(slash + 1), slices, nodeName);
    if (byNode === undefined) {
      byNode = new Map();
      this.#endpointCache.set(service, byNode);
    }
    byNode.set(nodeName, map);
    return map;
  }

  /** The endpoints of one service port, sorted by `ip:port` (empty when none). */
  endpoints(port: ServicePortInfo, nodeName = ''): readonly Endpoint[] {
    return this.endpointsOf(port.service, nodeName).get(port.key) ?? [];
  }

  /**
   * Whether anything changed since the last {@link checkoutChanges}.
   *
   * @param nodeName - the node whose view of the endpoints is compared (see {@link checkoutChanges})
   */
  hasPendingChanges(nodeName = ''): boolean {
    const c = this.#computeChanges(false, nodeName);
    return c.services.size > 0;
  }

  /**
   * What changed since the last {@link checkoutChanges}, without consuming it.
   *
   * @param nodeName - the node whose view of the endpoints is compared (see {@link checkoutChanges})
   */
  pendingChanges(nodeName = ''): ClusterChanges {
    return this.#computeChanges(false, nodeName);
  }

  /**
   * What changed since the last call, and marks the current state as synced
   * (what `svcPortMap.Update` and `endpointsMap.Update` do at the start of a sync).
   * A Service edited and edited back in between does not count; an
   * EndpointSlice edited and edited back does (kube-proxy keeps it pending).
   *
   * @param nodeName - the node whose view of the endpoints is compared: kube-proxy's
   *   EndpointsChangeTracker is built with its hostname, and a local duplicate of an `ip:port`
   *   wins over a remote one (pkg/proxy/endpointslicecache.go); pass the same name every time
   */
  checkoutChanges(nodeName = ''): ClusterChanges {
    return this.#computeChanges(true, nodeName);
  }

  #snapshot(service: string, nodeName: string): Snapshot {
    const ports = new Map<string, string>();
    for (const p of this.servicePortsOf(service)) ports.set(p.key, JSON.stringify(p));
    const endpoints = new Map<string, string>();
    for (const [k, eps] of this.endpointsOf(service, nodeName)) endpoints.set(k, endpointFingerprint(eps));
    return { ports, endpoints };
  }

  #computeChanges(commit: boolean, nodeName: string): ClusterChanges {
    const serviceUpdates = new Set<string>();
    const endpointUpdates = new Set<string>(this.#endpointDirty);
    const servicePorts = new Set<string>();
    const touched = new Set<string>([...this.#serviceDirty, ...this.#endpointDirty]);
    const snapshots = new Map<string, Snapshot>();
    for (const svc of touched) {
      const before = this.#synced.get(svc) ?? EMPTY_SNAPSHOT;
      const now = this.#snapshot(svc, nodeName);
      snapshots.set(svc, now);
      let portsChanged = false;
      for (const k of new Set([...before.ports.keys(), ...now.ports.keys()])) {
        if (before.ports.get(k) !== now.ports.get(k)) {
          portsChanged = true;
          servicePorts.add(k);
        }
      }
      if (portsChanged && this.#serviceDirty.has(svc)) serviceUpdates.add(svc);
      for (const k of new Set([...before.endpoints.keys(), ...now.endpoints.keys()])) {
        if (before.endpoints.get(k) !== now.endpoints.get(k) && (now.ports.has(k) || before.ports.has(k))) servicePorts.add(k);
      }
    }
    if (commit) {
      for (const [svc, snap] of snapshots) {
        if (snap.ports.size === 0 && snap.endpoints.size === 0) this.#synced.delete(svc);
        else this.#synced.set(svc, snap);
      }
      this.#serviceDirty.clear();
      this.#endpointDirty.clear();
    }
    return { serviceUpdates, endpointUpdates, services: new Set([...serviceUpdates, ...endpointUpdates]), servicePorts };
  }
}
