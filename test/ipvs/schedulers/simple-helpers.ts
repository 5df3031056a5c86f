// Small helpers shared by the rr/wrr/lc/wlc/sed/nq/fo/ovf/twos tests
// (harness.ts is not edited; these only build on it).
import { Dest } from '../../../src/ipvs/dest.js';
import { DestFlag } from '../../../src/ipvs/flags.js';
import type { Rng, RngState } from '../../../src/sim/rng.js';

/** Sets a dest's connection counters by hand (what the engine's bind/unbind would have produced). */
export function conns(d: Dest, active: number, inactive = 0): Dest {
  d.activeConns = active;
  d.inactConns = inactive;
  return d;
}

/** Sets or clears IP_VS_DEST_F_OVERLOAD directly (the engine sets it at bind time without calling the scheduler). */
export function overload(d: Dest, on = true): Dest {
  if (on) d.flags |= DestFlag.OVERLOAD;
  else d.flags &= ~DestFlag.OVERLOAD;
  return d;
}

/** Last octet of a dest's address as a string, '-' for null (same notation as Harness.picks). */
export function name(d: Dest | null): string {
  return d === null ? '-' : String(d.addr & 255);
}

/**
 * An Rng whose `below()` returns scripted values, so a test can choose the
 * kernel's random draws by hand. Records every bound it was asked for.
 */
export class ScriptedRng implements Rng {
  readonly bounds: number[] = [];
  readonly #values: number[];

  constructor(values: readonly number[] = []) {
    this.#values = [...values];
  }

  /** Queues more values for `below()`. */
  push(...values: number[]): void {
    this.#values.push(...values);
  }

  below(bound: number): number {
    this.bounds.push(bound);
    const v = this.#values.shift();
    if (v === undefined) throw new Error('ScriptedRng: no scripted value left');
    if (v < 0 || v >= bound) throw new Error(`ScriptedRng: scripted ${v} is outside [0, ${bound})`);
    return v;
  }

  next(): number {
    throw new Error('ScriptedRng.next is not scripted');
  }

  uint32(): number {
    throw new Error('ScriptedRng.uint32 is not scripted');
  }

  state(): RngState {
    throw new Error('ScriptedRng.state is not scripted');
  }

  fork(): Rng {
    throw new Error('ScriptedRng.fork is not scripted');
  }
}
