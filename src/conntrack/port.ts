import type { WorkCounts } from '../classify/work.js';
import { InvalidArgumentError } from '../errors.js';
import type { Port } from '../net/port.js';
import type { ConntrackPort } from '../netfilter/conntrack-port.js';
import type { CtView, PacketState } from '../netfilter/packet-state.js';
import type { Conntrack } from './conntrack.js';
import { ConntrackEntry } from './entry.js';

/** The netfilter engine's {@link ConntrackPort} plus the calls the kernel makes that the port does not name yet. */
export interface ConntrackPortExt extends ConntrackPort {
  /** The table behind the port. */
  readonly conntrack: Conntrack;
  /**
   * `nf_nat_alloc_null_binding`: the binding the nat hook makes when no rule
   * set one up. Prefer it to `setupNat(ct, manip, addr, port, port, false)`:
   * a null binding has no port range, so a clashing source port is
   * re-chosen as in the kernel.
   */
  allocNullBinding(ct: CtView, manip: 0 | 1): void;
  /** Frees the unconfirmed entry of a packet that was dropped before confirmation. */
  release(): void;
}

function entryOf(method: string, v: CtView): ConntrackEntry {
  if (v instanceof ConntrackEntry) return v;
  throw new InvalidArgumentError(`lbsim/conntrack.ConntrackPort.${method}: not an entry of this conntrack table`);
}

/**
 * Adapts a {@link Conntrack} to the netfilter engine's `ConntrackPort`.
 *
 * - `track` runs `nf_conntrack_in` ({@link Conntrack.conntrackIn}) and fills
 *   `p.ct` (null when INVALID), `p.ctState` and `p.ctDir`; it returns false
 *   when the table is full (the packet is dropped there, at allocation).
 * - `setupNat` maps to {@link Conntrack.setupNat}; ports 0 mean "no port range".
 * - `confirm` maps to {@link Conntrack.confirm}; false means insertion failed
 *   (clash or chain too long), not a full table.
 */
export function createConntrackPort(conntrack: Conntrack): ConntrackPortExt {
  return {
    conntrack,
    track(p: PacketState, work: WorkCounts): boolean {
      const lk = conntrack.conntrackIn(p, work);
      if (lk.drop) {
        p.ct = null;
        p.ctState = lk.stateBit;
        p.ctDir = 0;
        return false;
      }
      p.ct = lk.entry;
      p.ctState = lk.stateBit;
      p.ctDir = lk.dirIndex;
      return true;
    },
    isNew(ct: CtView): boolean {
      return !entryOf('isNew', ct).confirmed;
    },
    natInitialized(ct: CtView, manip: 0 | 1): boolean {
      return conntrack.natInitialized(entryOf('natInitialized', ct), manip === 0 ? 'src' : 'dst');
    },
    setupNat(ct: CtView, manip: 0 | 1, addr: number, minPort: Port, maxPort: Port, randomFully: boolean): void {
      conntrack.setupNat(entryOf('setupNat', ct), manip === 0 ? 'src' : 'dst', {
        minAddr: addr,
        maxAddr: addr,
        minPort,
        maxPort: minPort === 0 && maxPort === 0 ? 0 : maxPort,
        randomFully,
      });
    },
    applyNat(ct: CtView, manip: 0 | 1, p: PacketState): void {
      conntrack.applyNat(entryOf('applyNat', ct), p.ctDir === 1 ? 1 : 0, manip === 0 ? 'src' : 'dst', p);
    },
    confirm(ct: CtView, work: WorkCounts): boolean {
      return conntrack.confirm(entryOf('confirm', ct), work);
    },
    allocNullBinding(ct: CtView, manip: 0 | 1): void {
      conntrack.allocNullBinding(entryOf('allocNullBinding', ct), manip === 0 ? 'src' : 'dst');
    },
    release(): void {
      conntrack.release();
    },
  };
}
