import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import type { Dest } from './dest.js';
import type { IpvsStats } from './stats.js';

/**
 * Connection flag bits (`IP_VS_CONN_F_*`, torvalds/linux `include/uapi/linux/ip_vs.h`).
 * The low 3 bits hold the forwarding method.
 */
export const ConnFlag = {
  FWD_MASK: 0x0007,
  /** No output packet seen yet (non-NAT): TCP uses the INPUT-ONLY state table. */
  NOOUTPUT: 0x0080,
  /** Counted in inactconns rather than activeconns. */
  INACTIVE: 0x0100,
  /** A persistence template. */
  TEMPLATE: 0x1000,
  /** One-packet scheduling (UDP `-o`). */
  ONE_PACKET: 0x2000,
  /** Uses an nf_conntrack entry (sysctl `conntrack` = 1). */
  NFCT: 0x10000,
} as const;

/**
 * An IPVS connection entry (`struct ip_vs_conn`), one per connection for
 * both directions, or a persistence template. Created and owned by the
 * engine; read-only to everyone else. Entry objects are recycled once they
 * expire: read what you need while iterating `Ipvs.connections()` rather
 * than keeping the objects.
 */
export class Conn {
  // Field order is memory layout: the fields an established packet reads and
  // writes come first, so they share the object's first cache lines.
  /** {@link ConnFlag} bits plus the forwarding method. */
  flags: number = 0;
  /** Protocol state (TCP: {@link TcpState}; UDP/templates: 0). */
  state = 0;
  /** Protocol (`IPPROTO_IP` 0 for fwmark templates). */
  proto: number = 0;
  /** The real server, or null for bypass entries. */
  dest: Dest | null = null;
  /** `dest.stats`, meaningful while `dest` is set (a packet's counters without a load through the dest). @internal */
  destStats: IpvsStats | null = null;
  /** `dest.svc.stats`, meaningful while `dest` is set. @internal */
  svcStats: IpvsStats | null = null;
  /** Current timeout in ms (re-armed on every packet). */
  timeoutMs: number = 0;
  /** Simulated time (ms) at which the entry expires if nothing re-arms it. */
  expires = 0;
  /** The expiry heap's handle while queued, -1 when not queued. @internal */
  heapIndex = -1;
  /** Deadline the heap entry was queued with. @internal */
  heapKey = 0;
  /** Packets seen in the client→server direction. */
  inPkts = 0;
  /** Real server address. */
  daddr: IPv4 = 0;
  /** Real server port. */
  dport: Port = 0;
  /** The template controlling this connection, if any (`cp->control`). */
  control: Conn | null = null;
  /** Number of connections this template controls (`n_control`). */
  nControl = 0;
  /** Client address (for templates: the masked client network). */
  caddr: IPv4 = 0;
  /** Client port (0 for templates). */
  cport: Port = 0;
  /** Virtual address (for fwmark templates: the mark). */
  vaddr: IPv4 = 0;
  /** Virtual port. */
  vport: Port = 0;
  /** skb mark at creation (`fwmark`). */
  fwmark: number = 0;
  /** Slot of the entry's record in the connection table while hashed, -1 when not hashed. @internal */
  slot = -1;

  /** @internal — created only by the engine. */
  constructor(
    proto: number,
    caddr: IPv4,
    cport: Port,
    vaddr: IPv4,
    vport: Port,
    daddr: IPv4,
    dport: Port,
    flags: number,
    dest: Dest | null,
    fwmark: number,
    timeoutMs: number,
  ) {
    this.reset(proto, caddr, cport, vaddr, vport, daddr, dport, flags, dest, fwmark, timeoutMs);
  }

  /**
   * Re-initialises an expired entry for reuse (the engine recycles entry
   * objects, as the kernel recycles its slab objects).
   *
   * @internal
   */
  reset(
    proto: number,
    caddr: IPv4,
    cport: Port,
    vaddr: IPv4,
    vport: Port,
    daddr: IPv4,
    dport: Port,
    flags: number,
    dest: Dest | null,
    fwmark: number,
    timeoutMs: number,
  ): this {
    this.proto = proto;
    this.caddr = caddr;
    this.cport = cport;
    this.vaddr = vaddr;
    this.vport = vport;
    this.daddr = daddr;
    this.dport = dport;
    this.flags = flags;
    this.dest = dest;
    this.destStats = dest !== null ? dest.stats : null;
    this.svcStats = dest !== null ? dest.svc.stats : null;
    this.fwmark = fwmark;
    this.timeoutMs = timeoutMs;
    this.state = 0;
    this.expires = 0;
    this.control = null;
    this.nControl = 0;
    this.inPkts = 0;
    this.slot = -1;
    this.heapIndex = -1;
    this.heapKey = 0;
    return this;
  }

  /** Whether this entry is a persistence template. */
  get isTemplate(): boolean {
    return (this.flags & ConnFlag.TEMPLATE) !== 0;
  }

  /** Forwarding method bits. */
  get fwd(): number {
    return this.flags & ConnFlag.FWD_MASK;
  }

  /** Whether the connection counts in inactconns. */
  get inactive(): boolean {
    return (this.flags & ConnFlag.INACTIVE) !== 0;
  }
}
