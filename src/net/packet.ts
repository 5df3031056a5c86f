import type { IPv4 } from './ipv4.js';
import type { Port } from './port.js';
import { Protocol } from './protocol.js';
import type { TcpFlags } from './tcp-flags.js';

/**
 * One IPv4 packet as the simulator sees it: the 5-tuple, TCP flags, length,
 * skb mark and ingress interface, all as small integers. It is a mutable
 * record on purpose: hot loops reuse one instance and overwrite its fields
 * instead of allocating a packet each time. Every field has an initializer
 * so V8 keeps numbers above 2^30 (most IPv4 addresses) in place instead of
 * boxing a new heap number on each write.
 */
export class Packet {
  /** IP protocol number ({@link Protocol}). */
  proto: number = 0;
  /** Source address. */
  saddr: IPv4 = 0;
  /** Source port (0 for protocols without ports). */
  sport: Port = 0;
  /** Destination address. */
  daddr: IPv4 = 0;
  /** Destination port. */
  dport: Port = 0;
  /** TCP flags ({@link TcpFlag} bits); ignored for other protocols. */
  flags: TcpFlags = 0;
  /** L3 length in bytes (IP header included), as the kernel's `skb->len`. */
  length: number = 0;
  /** The skb mark (`fwmark`). */
  mark: number = 0;
  /**
   * Ingress interface number on the simulated host (iptables engines; IPVS
   * ignores it). 0 means the host's default interface.
   */
  ifindex = 0;
  /** Whether the host itself sends the packet (OUTPUT path) rather than receiving it. */
  local = false;

  /**
   * @param proto - protocol number
   * @param saddr - source address
   * @param sport - source port
   * @param daddr - destination address
   * @param dport - destination port
   * @param flags - TCP flags
   * @param length - L3 length in bytes
   * @param mark - skb mark
   */
  constructor(
    proto: number = Protocol.TCP,
    saddr: IPv4 = 0,
    sport: Port = 0,
    daddr: IPv4 = 0,
    dport: Port = 0,
    flags: TcpFlags = 0,
    length = 60,
    mark = 0,
  ) {
    this.proto = proto;
    this.saddr = saddr;
    this.sport = sport;
    this.daddr = daddr;
    this.dport = dport;
    this.flags = flags;
    this.length = length;
    this.mark = mark;
  }

  /** Overwrites every field; returns `this` so callers can chain. */
  set(
    proto: number,
    saddr: IPv4,
    sport: Port,
    daddr: IPv4,
    dport: Port,
    flags: TcpFlags = 0,
    length = 60,
    mark = 0,
  ): this {
    this.proto = proto;
    this.saddr = saddr;
    this.sport = sport;
    this.daddr = daddr;
    this.dport = dport;
    this.flags = flags;
    this.length = length;
    this.mark = mark;
    return this;
  }

  /** Copies all fields from another packet. */
  copyFrom(other: Packet): this {
    this.ifindex = other.ifindex;
    this.local = other.local;
    return this.set(
      other.proto,
      other.saddr,
      other.sport,
      other.daddr,
      other.dport,
      other.flags,
      other.length,
      other.mark,
    );
  }

  /** A new packet with the same fields. */
  clone(): Packet {
    return new Packet().copyFrom(this);
  }
}
