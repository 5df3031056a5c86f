import type { WorkCounts } from '../classify/work.js';
import type { Port } from '../net/port.js';
import type { CtView, PacketState } from './packet-state.js';

/** What the netfilter engine needs from connection tracking (implemented over `src/conntrack/`). */
export interface ConntrackPort {
  /**
   * `nf_conntrack_in`: finds or creates (unconfirmed) the entry of the
   * packet in `p`, and sets `p.ct`, `p.ctState` and `p.ctDir`. Returns
   * false when the packet must be dropped (table full).
   */
  track(p: PacketState, work: WorkCounts): boolean;
  /** Whether the packet's entry is not yet confirmed (its first packet: the nat table decides its bindings). */
  isNew(ct: CtView): boolean;
  /** Whether the NAT binding of this manip type (0 = SRC, 1 = DST) is set up (`nf_nat_initialized`). */
  natInitialized(ct: CtView, manip: 0 | 1): boolean;
  /**
   * `nf_nat_setup_info`: binds the entry's `manip` side to `addr:port`
   * (port 0 = keep). For SRC with `randomFully`/port ranges the port is
   * chosen to keep the reply tuple unique. A null binding is `addr`/`port` of
   * the packet itself.
   */
  setupNat(ct: CtView, manip: 0 | 1, addr: number, minPort: Port, maxPort: Port, randomFully: boolean): void;
  /** `nf_nat_packet`: rewrites `p`'s source (manip 0) or destination (manip 1) per the entry's bindings for `p.ctDir`. */
  applyNat(ct: CtView, manip: 0 | 1, p: PacketState): void;
  /** `__nf_conntrack_confirm`: returns false when the packet must be dropped (insertion clash). */
  confirm(ct: CtView, work: WorkCounts): boolean;
  /** `nf_nat_alloc_null_binding`: the binding the nat hook makes when no rule set one up. */
  allocNullBinding(ct: CtView, manip: 0 | 1): void;
  /** Frees the unconfirmed entry of a packet dropped before confirmation. */
  release(): void;
}
