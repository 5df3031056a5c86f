/**
 * lc — least connection, as torvalds/linux `net/netfilter/ipvs/ip_vs_lc.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import { connOverhead, type Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** Stateless lc instance. */
class LcScheduler implements Scheduler {
  readonly name = 'lc';

  initService(): void {
    // ip_vs_lc.c keeps no state.
  }

  doneService(): void {
    // ip_vs_lc.c keeps no state.
  }

  addDest(): void {
    // ip_vs_lc.c has no add_dest.
  }

  delDest(): void {
    // ip_vs_lc.c has no del_dest.
  }

  updDest(): void {
    // ip_vs_lc.c has no upd_dest.
  }

  /**
   * `ip_vs_lc_schedule`: skip OVERLOAD and weight 0; the smallest
   * `(active << 8) + inactive` wins, strict `<` so the earlier dest in list
   * order keeps a tie. Weight is otherwise ignored.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    const dests = svc.dests;
    const n = dests.length;
    let least: Dest | null = null;
    let loh = 0;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      if (d.overloaded || d.weight === 0) continue;
      const doh = connOverhead(d);
      if (least === null || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  }
}

/** Factory for the `lc` scheduler. */
export const lcScheduler: SchedulerFactory = {
  name: 'lc',
  create(): Scheduler {
    return new LcScheduler();
  },
};
