/**
 * nq — never queue, as torvalds/linux `net/netfilter/ipvs/ip_vs_nq.c`.
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
 * `ip_vs_nq_schedule`: skip OVERLOAD and weight 0; the first dest with
 * `activeconns == 0` is returned at once; otherwise the sed rule
 * (overhead `activeconns + 1`, replace on `loh * w(dest) > doh * w(least)`,
 * ties keep the earlier dest).
 */
function nqSchedule(svc: VirtualService, _pkt: Packet, work: WorkCounts): Dest | null {
  const dests = svc.dests;
  const n = dests.length;
  let least: Dest | null = null;
  let loh = 0;
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    work.destsExamined++;
    if (d.overloaded || d.weight === 0) continue;
    // Return the server directly if it is idle.
    if (d.activeConns === 0) return d;
    const doh = d.activeConns + 1;
    if (least === null || loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** Factory for the `nq` scheduler. */
export const nqScheduler: SchedulerFactory = statelessScheduler('nq', nqSchedule);
