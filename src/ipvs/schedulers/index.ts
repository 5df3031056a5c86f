import type { SchedulerFactory } from '../scheduler.js';
import { dhScheduler } from './dh.js';
import { foScheduler } from './fo.js';
import { lblcScheduler } from './lblc.js';
import { lblcrScheduler } from './lblcr.js';
import { lcScheduler } from './lc.js';
import { mhScheduler } from './mh.js';
import { nqScheduler } from './nq.js';
import { ovfScheduler } from './ovf.js';
import { rrScheduler } from './rr.js';
import { sedScheduler } from './sed.js';
import { shScheduler } from './sh.js';
import { twosScheduler } from './twos.js';
import { wlcScheduler } from './wlc.js';
import { wrrScheduler } from './wrr.js';

export {
  dhScheduler,
  foScheduler,
  lblcScheduler,
  lblcrScheduler,
  lcScheduler,
  mhScheduler,
  nqScheduler,
  ovfScheduler,
  rrScheduler,
  sedScheduler,
  shScheduler,
  twosScheduler,
  wlcScheduler,
  wrrScheduler,
};

/** The 14 schedulers of torvalds/linux `net/netfilter/ipvs/`, in the order of the kernel's Kconfig. */
export const BUILTIN_SCHEDULERS: readonly SchedulerFactory[] = [
  rrScheduler,
  wrrScheduler,
  lcScheduler,
  wlcScheduler,
  foScheduler,
  ovfScheduler,
  lblcScheduler,
  lblcrScheduler,
  dhScheduler,
  shScheduler,
  mhScheduler,
  sedScheduler,
  nqScheduler,
  twosScheduler,
];
