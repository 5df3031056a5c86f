import { InvalidArgumentError } from '../errors.js';
import { cidrContains, parseCidr, type Cidr, type IPv4 } from '../net/ipv4.js';
import { AddrTypeBit } from './ast.js';

/** A network interface of the simulated host. */
export interface HostInterface {
  /** Interface name (`eth0`, `lo`, `docker0`, ...), at most 15 characters (IFNAMSIZ − 1). */
  readonly name: string;
  /** Addresses with their prefix (`10.0.0.5/24`), local to the host. */
  readonly addresses: readonly Cidr[];
}

/** Options of a {@link Host}. */
export interface HostOptions {
  /**
   * Interfaces besides `lo` (which is always present with 127.0.0.1/8).
   * @defaultValue one interface `eth0` with 10.0.0.1/24
   */
  interfaces?: readonly { name: string; addresses: readonly string[] }[];
  /** Routes `{ dst: 'a.b.c.d/n', iface }`, longest prefix wins. Connected networks are added automatically. */
  routes?: readonly { dst: string; iface: string }[];
  /** Interface of the default route. @defaultValue the first non-loopback interface */
  defaultInterface?: string;
  /** `net.ipv4.ip_forward`. @defaultValue true (a Kubernetes node forwards) */
  ipForward?: boolean;
}

interface Route {
  readonly dst: Cidr;
  readonly ifindex: number;
}

/**
 * The simulated host: its interfaces and local addresses, used for the
 * routing decision (INPUT or FORWARD, output interface), `-i`/`-o` and
 * `-m addrtype`. Interfaces are numbered from 1 (`lo` is 1) in the order
 * given; packets name their ingress interface by this number.
 */
export class Host {
  /** Interfaces in ifindex order; index 0 is unused. */
  readonly interfaces: readonly (HostInterface | null)[];
  /** `net.ipv4.ip_forward`. */
  ipForward: boolean;
  /** ifindex of the default route. */
  readonly defaultIfindex: number;
  readonly #local = new Set<IPv4>();
  readonly #broadcast = new Set<IPv4>();
  readonly #routes: Route[];
  readonly #byName = new Map<string, number>();

  /** @param options - see {@link HostOptions} */
  constructor(options: HostOptions = {}) {
    const given = options.interfaces ?? [{ name: 'eth0', addresses: ['10.0.0.1/24'] }];
    const list: (HostInterface | null)[] = [null, { name: 'lo', addresses: [parseCidr('127.0.0.1/8')] }];
    for (const i of given) {
      if (!/^[^\s/:]{1,15}$/.test(i.name) || i.name === 'lo') {
        throw new InvalidArgumentError(`lbsim/netfilter.Host: invalid interface name ${JSON.stringify(i.name)}`);
      }
      list.push({ name: i.name, addresses: i.addresses.map((a) => parseCidrKeepHost(a)) });
    }
    this.interfaces = list;
    this.ipForward = options.ipForward ?? true;
    const routes: Route[] = [];
    list.forEach((iface, index) => {
      if (iface === null) return;
      if (this.#byName.has(iface.name)) {
        throw new InvalidArgumentError(`lbsim/netfilter.Host: duplicate interface ${iface.name}`);
      }
      this.#byName.set(iface.name, index);
      for (const a of iface.addresses) {
        this.#local.add(a.address);
        const net = parseCidr(`${formatNum(a.address)}/${a.prefixLength}`);
        routes.push({ dst: net, ifindex: index });
        if (a.prefixLength < 31) this.#broadcast.add((net.address | (~net.mask >>> 0)) >>> 0);
      }
    });
    for (const r of options.routes ?? []) {
      const ifindex = this.#byName.get(r.iface);
      if (ifindex === undefined) throw new InvalidArgumentError(`lbsim/netfilter.Host: route via unknown interface ${r.iface}`);
      routes.push({ dst: parseCidr(r.dst), ifindex });
    }
    routes.sort((a, b) => b.dst.prefixLength - a.dst.prefixLength);
    this.#routes = routes;
    const def = options.defaultInterface ?? list[2]?.name ?? 'lo';
    const defIndex = this.#byName.get(def);
    if (defIndex === undefined) throw new InvalidArgumentError(`lbsim/netfilter.Host: unknown default interface ${def}`);
    this.defaultIfindex = defIndex;
  }

  /** ifindex of an interface name, or -1. */
  ifindex(name: string): number {
    return this.#byName.get(name) ?? -1;
  }

  /** Interface name of an ifindex ('' for none). */
  ifname(ifindex: number): string {
    return this.interfaces[ifindex]?.name ?? '';
  }

  /** Whether `addr` is local to the host (127.0.0.0/8 always is; `RTN_LOCAL`). */
  isLocal(addr: IPv4): boolean {
    return addr >>> 24 === 127 || this.#local.has(addr);
  }

  /** Adds a local address (as `ip addr add` on kube-ipvs0 does for IPVS mode). */
  addLocalAddress(addr: IPv4): void {
    this.#local.add(addr);
  }

  /** Removes a local address added with {@link Host.addLocalAddress}. */
  removeLocalAddress(addr: IPv4): void {
    this.#local.delete(addr);
  }

  /** Output interface the routing table picks for `daddr` (`lo` for local addresses). */
  route(daddr: IPv4): number {
    if (this.isLocal(daddr)) return 1;
    for (const r of this.#routes) if (cidrContains(r.dst, daddr)) return r.ifindex;
    return this.defaultIfindex;
  }

  /**
   * Address type bits as `inet_addr_type` would classify them for
   * `-m addrtype` (xt_addrtype.c): LOCAL, BROADCAST, MULTICAST, UNSPEC or UNICAST.
   */
  addrType(addr: IPv4): number {
    if (addr === 0) return AddrTypeBit.UNSPEC;
    if (this.isLocal(addr)) return AddrTypeBit.LOCAL;
    if (addr === 0xffffffff || this.#broadcast.has(addr)) return AddrTypeBit.BROADCAST;
    if (addr >>> 28 === 0xe) return AddrTypeBit.MULTICAST;
    return AddrTypeBit.UNICAST;
  }
}

function parseCidrKeepHost(text: string): Cidr {
  const c = parseCidr(text);
  const slash = text.indexOf('/');
  const addrOnly = slash < 0 ? text : text.slice(0, slash);
  const full = parseCidr(addrOnly);
  return { address: full.address, prefixLength: c.prefixLength, mask: c.mask };
}

function formatNum(a: IPv4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
