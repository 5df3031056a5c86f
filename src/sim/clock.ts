import { InvalidArgumentError } from '../errors.js';

/** Something with timers that must run when simulated time moves on. */
export interface TimerOwner {
  /** Runs every timer due at or before `now` (milliseconds). */
  runTimers(now: number): void;
}

/**
 * Simulated time in integer milliseconds since the start of the simulation.
 * Nothing in lbsim reads the wall clock: connection expiry, persistence,
 * rate estimation and `recent` all run on this clock, so results do not
 * depend on how fast the host is.
 */
export class SimClock {
  #now: number;
  readonly #owners: TimerOwner[] = [];

  /** @param start - initial time in ms (default 0) */
  constructor(start = 0) {
    checkTime('constructor', start);
    this.#now = start;
  }

  /** Current simulated time in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /** Current simulated time in whole seconds (rounded down). */
  get seconds(): number {
    return Math.floor(this.#now / 1000);
  }

  /**
   * Registers a timer owner; owners run in registration order whenever time advances.
   * Registering the same owner twice has no effect.
   */
  attach(owner: TimerOwner): void {
    if (!this.#owners.includes(owner)) this.#owners.push(owner);
  }

  /** Stops notifying an owner. */
  detach(owner: TimerOwner): void {
    const i = this.#owners.indexOf(owner);
    if (i >= 0) this.#owners.splice(i, 1);
  }

  /**
   * Moves time forward by `ms` and runs due timers.
   *
   * @throws {InvalidArgumentError} for negative or non-integer steps
   */
  advance(ms: number): void {
    if (!(ms >= 0 && Number.isSafeInteger(ms))) checkTime('advance', ms);
    const t = this.#now + ms;
    this.#now = t;
    const owners = this.#owners;
    for (let i = 0; i < owners.length; i++) owners[i]!.runTimers(t);
  }

  /**
   * Moves time forward to `t` and runs due timers. Time never goes back.
   *
   * @throws {InvalidArgumentError} when `t` is before now or not an integer
   */
  advanceTo(t: number): void {
    checkTime('advanceTo', t);
    if (t < this.#now) {
      throw new InvalidArgumentError(`lbsim/sim.SimClock.advanceTo: time cannot go back (now ${this.#now}, got ${t})`);
    }
    this.#now = t;
    const owners = this.#owners;
    for (let i = 0; i < owners.length; i++) owners[i]!.runTimers(t);
  }
}

function checkTime(method: string, t: number): void {
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new InvalidArgumentError(`lbsim/sim.SimClock.${method}: time must be a non-negative integer of ms (got ${t})`);
  }
}
