import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import { DestFlag, ForwardMethod } from './flags.js';
import { IpvsStats } from './stats.js';
import type { VirtualService } from './service.js';

/**
 * A real server (`struct ip_vs_dest`, torvalds/linux `include/net/ip_vs.h`).
 *
 * Schedulers read it; only the IPVS engine writes it. Fields are public
 * plain properties so scheduler loops read them without indirection.
 */
export class Dest {
  /** Real server address. */
  readonly addr: IPv4;
  /** Real server port. */
  readonly port: Port;
  /** The service this dest belongs to. */
  readonly svc: VirtualService;
  /** Weight 0..65535; 0 = quiesced (no new connections). */
  weight = 1;
  /** The last non-zero weight (`last_weight`); only mh reads it. */
  lastWeight = 1;
  /** Upper connection threshold (0 = none). */
  uThreshold = 0;
  /** Lower connection threshold (0 = none). */
  lThreshold = 0;
  /** {@link DestFlag} bits. */
  flags: number = DestFlag.AVAILABLE;
  /** Forwarding method. */
  fwd: ForwardMethod = ForwardMethod.DROUTE;
  /** TCP connections in ESTABLISHED. */
  activeConns = 0;
  /** Other connections (every UDP connection, TCP not established). */
  inactConns = 0;
  /** Persistence templates bound to this dest. */
  persistConns = 0;
  /** Traffic counters. */
  readonly stats: IpvsStats = new IpvsStats();
  /**
   * Connections and templates that still point at this dest (the kernel's
   * refcount beyond the list's own): a deleted dest stays in the trash until
   * this reaches 0.
   */
  refs = 0;

  /**
   * @param svc - owning service
   * @param addr - address
   * @param port - port
   */
  constructor(svc: VirtualService, addr: IPv4, port: Port) {
    this.svc = svc;
    this.addr = addr;
    this.port = port;
  }

  /** Whether the dest is in service (`IP_VS_DEST_F_AVAILABLE`). */
  get available(): boolean {
    return (this.flags & DestFlag.AVAILABLE) !== 0;
  }

  /** Whether the upper threshold was reached (`IP_VS_DEST_F_OVERLOAD`). */
  get overloaded(): boolean {
    return (this.flags & DestFlag.OVERLOAD) !== 0;
  }
}

/**
 * `ip_vs_dest_conn_overhead` (torvalds/linux `include/net/ip_vs.h`):
 * an active connection weighs 256 inactive ones.
 */
export function connOverhead(d: Dest): number {
  return d.activeConns * 256 + d.inactConns;
}
