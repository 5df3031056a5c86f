// The benchmark suites in run order (bench/run.ts runs them; see bench/types.ts for the contract).
import type { Suite } from '../types.js';
import { lookup } from './lookup.js';
import { memory } from './memory.js';
import { schedulers } from './schedulers.js';
import { sync } from './sync.js';

/**
 * Every suite, in the order `npm run bench` runs them: the lookup and sync
 * comparisons first (the point of the run), then memory and the schedulers.
 */
export const SUITES: readonly Suite[] = [lookup, sync, memory, schedulers];
