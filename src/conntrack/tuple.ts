import type { IPv4 } from '../net/ipv4.js';
import { formatIPv4 } from '../net/ipv4.js';
import { Protocol } from '../net/protocol.js';

/**
 * A conntrack tuple (`struct nf_conntrack_tuple`, IPv4 only) as plain numbers.
 *
 * - TCP, UDP, SCTP: `sport`/`dport` are the ports.
 * - ICMP: `sport` is the echo identifier (`src.u.icmp.id`) and `dport` packs
 *   `(type << 8) | code` (`dst.u.icmp.type`, `dst.u.icmp.code`); see {@link icmpTupleType}.
 * - Other protocols (the generic tracker): both ports are 0.
 *
 * It is a mutable record so lookups can reuse one instance.
 */
export class ConntrackTuple {
  /** IP protocol number. */
  proto: number;
  /** Source address. */
  src: IPv4;
  /** Source port, or the ICMP identifier. */
  sport: number;
  /** Destination address. */
  dst: IPv4;
  /** Destination port, or ICMP `(type << 8) | code`. */
  dport: number;

  /**
   * @param proto - protocol number
   * @param src - source address
   * @param sport - source port / ICMP id
   * @param dst - destination address
   * @param dport - destination port / ICMP type and code
   */
  constructor(proto = 0, src: IPv4 = 0, sport = 0, dst: IPv4 = 0, dport = 0) {
    this.proto = proto;
    this.src = src;
    this.sport = sport;
    this.dst = dst;
    this.dport = dport;
  }

  /** Overwrites every field; returns `this`. */
  set(proto: number, src: IPv4, sport: number, dst: IPv4, dport: number): this {
    this.proto = proto;
    this.src = src;
    this.sport = sport;
    this.dst = dst;
    this.dport = dport;
    return this;
  }

  /** Copies another tuple into this one. */
  copyFrom(t: ConntrackTuple): this {
    return this.set(t.proto, t.src, t.sport, t.dst, t.dport);
  }

  /** A new tuple with the same fields. */
  clone(): ConntrackTuple {
    return new ConntrackTuple(this.proto, this.src, this.sport, this.dst, this.dport);
  }

  /** `nf_ct_tuple_equal`. */
  equals(t: ConntrackTuple): boolean {
    return (
      this.src === t.src && this.dst === t.dst && this.sport === t.sport && this.dport === t.dport && this.proto === t.proto
    );
  }

  /** Whether the tuple has these fields. */
  is(proto: number, src: IPv4, sport: number, dst: IPv4, dport: number): boolean {
    return this.src === src && this.dst === dst && this.sport === sport && this.dport === dport && this.proto === proto;
  }

  /** `src=… dst=… sport=… dport=…` as `print_tuple` prints it (nf_conntrack_standalone.c), without the trailing space. */
  toString(): string {
    return formatTupleFields(this);
  }
}

/** `print_tuple` of nf_conntrack_standalone.c for IPv4, without the trailing space. */
export function formatTupleFields(t: ConntrackTuple): string {
  const addrs = `src=${formatIPv4(t.src)} dst=${formatIPv4(t.dst)}`;
  switch (t.proto) {
    case Protocol.ICMP:
      return `${addrs} type=${icmpTupleType(t)} code=${icmpTupleCode(t)} id=${t.sport}`;
    case Protocol.TCP:
    case Protocol.UDP:
    case Protocol.SCTP:
    case 136: // UDPLITE
      return `${addrs} sport=${t.sport} dport=${t.dport}`;
    default:
      return addrs;
  }
}

/** ICMP type of a tuple (`dst.u.icmp.type`). */
export function icmpTupleType(t: ConntrackTuple): number {
  return t.dport >>> 8;
}

/** ICMP code of a tuple (`dst.u.icmp.code`). */
export function icmpTupleCode(t: ConntrackTuple): number {
  return t.dport & 0xff;
}

/**
 * `invmap[]` of nf_conntrack_proto_icmp.c: the reply type of each ICMP query
 * type plus one, 0 where a type has no inverse.
 */
const ICMP_INVMAP: Uint8Array = (() => {
  const a = new Uint8Array(19);
  a[8] = 0 + 1; // ECHO -> ECHOREPLY
  a[0] = 8 + 1; // ECHOREPLY -> ECHO
  a[13] = 14 + 1; // TIMESTAMP -> TIMESTAMPREPLY
  a[14] = 13 + 1;
  a[15] = 16 + 1; // INFO_REQUEST -> INFO_REPLY
  a[16] = 15 + 1;
  a[17] = 18 + 1; // ADDRESS -> ADDRESSREPLY
  a[18] = 17 + 1;
  return a;
})();

/**
 * The ICMP type of the reply to `type` (`nf_conntrack_invert_icmp_tuple`), or
 * -1 when the type has no inverse (and so no conntrack entry can be made).
 */
export function icmpInverseType(type: number): number {
  if (type >= ICMP_INVMAP.length) return -1;
  const v = ICMP_INVMAP[type]!;
  return v === 0 ? -1 : v - 1;
}

/**
 * `nf_ct_invert_tuple`: writes the inverse of `orig` into `out` (which may be
 * `orig` itself). For ICMP the type is mapped with {@link icmpInverseType} and
 * the id and code are kept. Returns false (and leaves `out` unspecified) when
 * an ICMP type has no inverse.
 */
export function invertTuple(out: ConntrackTuple, orig: ConntrackTuple): boolean {
  const proto = orig.proto;
  const src = orig.src;
  const dst = orig.dst;
  if (proto === Protocol.ICMP) {
    const inv = icmpInverseType(orig.dport >>> 8);
    if (inv < 0) return false;
    out.set(proto, dst, orig.sport, src, (inv << 8) | (orig.dport & 0xff));
    return true;
  }
  const sport = orig.sport;
  out.set(proto, dst, orig.dport, src, sport);
  return true;
}
