/**
 * ovf — overflow connection scheduling, as torvalds/linux `net/netfilter/ipvs/ip_vs_ovf.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** Stateless ovf instance. */
class OvfScheduler implements Scheduler {
  readonly name = 'ovf';

  initService(): void {
    // ip_vs_ovf.c keeps no state.
  }

  doneService(): void {
    // ip_vs_ovf.c keeps no state.
  }

  addDest(): void {
    // ip_vs_ovf.c has no add_dest.
  }

  delDest(): void {
    // ip_vs_ovf.c has no del_dest.
  }

  updDest(): void {
    // ip_vs_ovf.c has no upd_dest.
  }

  /**
   * `ip_vs_ovf_schedule`: skip OVERLOAD, weight 0 and `activeconns > weight`;
   * of the rest the highest weight wins, ties keep the earlier dest. So a
   * dest takes new connections while it has at most `weight` active ones
   * (it can reach weight + 1). Only active connections count: UDP
   * connections never become active.
   */
  schedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
    const dests = svc.dests;
    const n = dests.length;
    let h: Dest | null = null;
    let hw = 0;
    for (let i = 0; i < n; i++) {
      const d = dests[i]!;
      work.destsExamined++;
      const w = d.weight;
      if (d.overloaded || d.activeConns > w || w === 0) continue;
      if (h === null || w > hw) {
        h = d;
        hw = w;
      }
    }
    return h;
  }
}

/** Factory for the `ovf` scheduler. */
export const ovfScheduler: SchedulerFactory = {
  name: 'ovf',
  create(): Scheduler {
    return new OvfScheduler();
  },
};
