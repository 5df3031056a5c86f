import { WorkCounts } from '../../src/classify/work.js';
import { Conntrack, type ConntrackOptions, type CtLookup } from '../../src/conntrack/conntrack.js';
import type { ConntrackEntry } from '../../src/conntrack/entry.js';
import { ipv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { SimClock } from '../../src/sim/clock.js';
import { createRng } from '../../src/sim/rng.js';

export const C = ipv4(10, 0, 0, 1); // client
export const C2 = ipv4(10, 0, 0, 2);
export const S = ipv4(10, 1, 0, 1); // server / VIP
export const B = ipv4(10, 2, 0, 1); // backend
export const N = ipv4(192, 168, 0, 1); // NAT address

export const SYN = TcpFlag.SYN;
export const SYNACK = TcpFlag.SYN | TcpFlag.ACK;
export const ACK = TcpFlag.ACK;
export const FINACK = TcpFlag.FIN | TcpFlag.ACK;
export const RST = TcpFlag.RST;
export const RSTACK = TcpFlag.RST | TcpFlag.ACK;

/** A table on a fresh clock. */
export function makeCt(opts: Partial<ConntrackOptions> = {}, seed: number | string = 1): { ct: Conntrack; clock: SimClock } {
  const clock = opts.clock ?? new SimClock();
  const ct = new Conntrack({ rng: createRng(seed), ...opts, clock });
  return { ct, clock };
}

export function tcp(src: number, sport: number, dst: number, dport: number, flags: number, length = 60): Packet {
  return new Packet(Protocol.TCP, src, sport, dst, dport, flags, length);
}

export function udp(src: number, sport: number, dst: number, dport: number, length = 100): Packet {
  return new Packet(Protocol.UDP, src, sport, dst, dport, 0, length);
}

/** ICMP per the engine's convention: type in dport, code in sport. */
export function icmp(src: number, dst: number, type: number, code = 0, length = 84): Packet {
  return new Packet(Protocol.ICMP, src, code, dst, type, 0, length);
}

/**
 * What the engine does with one packet when no rule interferes: conntrack
 * at the first hook, confirmation at the last. Returns the lookup (reused
 * object; read it before the next call).
 */
export function send(ct: Conntrack, pkt: Packet, work: WorkCounts = new WorkCounts()): CtLookup {
  const lk = ct.conntrackIn(pkt, work);
  if (lk.entry !== null && !lk.drop && !ct.confirm(lk.entry, work)) {
    throw new Error('confirm failed');
  }
  return lk;
}

/** The only entry of the table. */
export function only(ct: Conntrack): ConntrackEntry {
  const all = [...ct.entries()];
  if (all.length !== 1) throw new Error(`expected one entry, got ${all.length}`);
  return all[0]!;
}

/** Remaining lifetime in ms. */
export function left(ct: Conntrack, e: ConntrackEntry): number {
  return e.expires - ct.clock.now;
}
