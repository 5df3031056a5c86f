import type { WorkCounts } from '../classify/work.js';
import type { Packet } from '../net/packet.js';
import type { Rng } from '../sim/rng.js';
import type { Dest } from './dest.js';
import type { VirtualService } from './service.js';

/**
 * What a scheduler may read from the engine that hosts it.
 */
export interface SchedulerContext {
  /** Seeded randomness (twos). Never use `Math.random`. */
  readonly rng: Rng;
  /** Current simulated time in ms. */
  now(): number;
  /** `net.ipv4.vs.lblc_expiration` in ms (default 24 h). */
  lblcExpirationMs(): number;
  /** `net.ipv4.vs.lblcr_expiration` in ms (default 24 h). */
  lblcrExpirationMs(): number;
}

/**
 * A scheduler bound to one virtual service: the kernel's `struct
 * ip_vs_scheduler` hooks, with `sched_data` kept inside the instance.
 *
 * The engine calls the hooks at the same moments as
 * torvalds/linux `net/netfilter/ipvs/ip_vs_ctl.c`: {@link Scheduler.addDest}
 * after the new dest was inserted at the head of `svc.dests`,
 * {@link Scheduler.delDest} after it was unlinked, {@link Scheduler.updDest}
 * after an edit (`ipvsadm -e`).
 */
export interface Scheduler {
  /** Scheduler name (`rr`, `wlc`, ...). */
  readonly name: string;
  /** `init_service`: called once when the service gets this scheduler (dests may already exist). */
  initService(svc: VirtualService): void;
  /** `done_service`: called when the service is deleted or switches scheduler. */
  doneService(svc: VirtualService): void;
  /** `add_dest`: `dest` is now `svc.dests[0]`. */
  addDest(svc: VirtualService, dest: Dest): void;
  /** `del_dest`: `dest` was at `index` in `svc.dests` and has been removed. */
  delDest(svc: VirtualService, dest: Dest, index: number): void;
  /** `upd_dest`: weight/thresholds/forwarding of `dest` changed. */
  updDest(svc: VirtualService, dest: Dest): void;
  /**
   * `schedule`: choose a dest for a new connection, or `null` ("no destination available").
   * Adds the dests it examined to `work.destsExamined`.
   */
  schedule(svc: VirtualService, pkt: Packet, work: WorkCounts): Dest | null;
  /** Optional periodic work (lblc/lblcr cache expiry) at simulated time `now`. */
  runTimers?(now: number): void;
}

/** Creates per-service scheduler instances; register one with {@link SchedulerRegistry.register}. */
export interface SchedulerFactory {
  /** Name used with `-s` (lower case, ≤ 15 characters like `IP_VS_SCHEDNAME_MAXLEN`). */
  readonly name: string;
  /** A new instance for one service. */
  create(ctx: SchedulerContext): Scheduler;
}
