import type { WorkCounts } from '../../classify/work.js';
import type { Packet } from '../../net/packet.js';
import type { Dest } from '../dest.js';
import type { Scheduler, SchedulerFactory } from '../scheduler.js';
import type { VirtualService } from '../service.js';

/** A scheduling rule that reads only the dests' current state. */
export type StatelessPick = (svc: VirtualService, pkt: Packet, work: WorkCounts) => Dest | null;

function noop(): void {
  // The kernel module registers no such hook and keeps no sched_data.
}

/**
 * Builds the factory of a scheduler that keeps no state between picks (lc,
 * wlc, sed, nq, fo, ovf): their kernel modules register only `schedule`, so
 * every other hook is empty.
 *
 * @param name - scheduler name
 * @param pick - the `schedule` rule
 */
export function statelessScheduler(name: string, pick: StatelessPick): SchedulerFactory {
  const instance: Scheduler = {
    name,
    initService: noop,
    doneService: noop,
    addDest: noop,
    delDest: noop,
    updDest: noop,
    schedule: pick,
  };
  return { name, create: (): Scheduler => instance };
}
