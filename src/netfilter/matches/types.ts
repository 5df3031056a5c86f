import type { Rng } from '../../sim/rng.js';
import type { Host } from '../host.js';
import type { PacketState } from '../packet-state.js';

/** A compiled match: true when the packet matches. Allocation-free. */
export type MatchFn = (p: PacketState) => boolean;

/** What compiling a match may use. */
export interface MatchEnv {
  /** The host (addrtype, interfaces). */
  readonly host: Host;
  /** Seeded randomness (`statistic --mode random`). */
  readonly rng: Rng;
}
