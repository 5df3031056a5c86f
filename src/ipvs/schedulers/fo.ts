/**
 * fo — weighted fail-over, as torvalds/linux `net/netfilter/ipvs/ip_vs_fo.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** Stateless fo instance. */
class FoScheduler implements Scheduler {
  readonly name = 'fo';

  initService(): void {
    // ip_vs_fo.c keeps no state.
  }

  doneService(): void {
    // ip_vs_fo.c keeps no state.
  }

  addDest(): void {
    // ip_vs_fo.c has no add_dest.
  }

  delDest(): void {
    // ip_vs_fo.c has no del_dest.
  }

  updDest(): void {
    // ip_vs_fo.c has no upd_dest.
  }

  /**
   * `ip_vs_fo_schedule`: the non-OVERLOAD dest with the highest weight; the
   * running maximum starts at 0, so weight 0 never wins, and strict `>`
   * keeps the earlier dest on equal weight. Connection counts are not read.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    const dests = svc.dests;
    const n = dests.length;
    let best: Dest | null = null;
    let hw = 0;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (!d.overloaded && d.weight > hw) {
        best = d;
        hw = d.weight;
      }
    }
    return best;
  }
}

/** Factory for the `fo` scheduler. */
export const foScheduler: SchedulerFactory = {
  name: 'fo',
  create(): Scheduler {
    return new FoScheduler();
  },
};
