/**
 * ovf — overflow connection scheduling, as torvalds/linux `net/netfilter/ipvs/ip_vs_ovf.c`.
 *
 * @module
 */
import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';
import { statelessScheduler } from './stateless.js';

/**
 * `ip_vs_ovf_schedule`: skip OVERLOAD, weight 0 and `activeconns > weight`;
 * of the rest the highest weight wins, ties keep the earlier dest. So a
 * dest takes new connections while it has at most `weight` active ones
 * (it can reach weight + 1). Only active connections count: UDP
 * connections never become active.
 */
function ovfSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
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

/** Factory for the `ovf` scheduler. */
export const ovfScheduler: SchedulerFactory = statelessScheduler('ovf', ovfSchedule);
