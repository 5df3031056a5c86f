import seedrandom from 'seedrandom';
import { InvalidArgumentError } from '../errors.js';

/**
 * The single source of randomness in lbsim. Every random choice (twos'
 * draws, `statistic --mode random`, hash secrets, workload arrivals) comes
 * from an `Rng`, so one seed reproduces a whole simulation byte for byte.
 */
export interface Rng {
  /** A float uniformly distributed in [0, 1) with 53 bits of precision. */
  next(): number;
  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number;
  /** A uniformly distributed integer in [0, bound) for 1 ≤ bound ≤ 2^32 (no modulo bias). */
  below(bound: number): number;
  /** An opaque snapshot; {@link restoreRng} continues the exact same stream from it. */
  state(): RngState;
  /** A new independent generator seeded from this one's stream (for per-component streams). */
  fork(): Rng;
}

/**
 * Shuffles `items` in place with a Fisher–Yates shuffle drawn from `rng`
 * (every permutation equally likely) and returns it.
 */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** Serialisable state of an {@link Rng} (ARC4 key schedule of seedrandom). */
export interface RngState {
  /** ARC4 i index. */
  readonly i: number;
  /** ARC4 j index. */
  readonly j: number;
  /** ARC4 permutation. */
  readonly S: readonly number[];
}

type SeededPrng = seedrandom.PRNG & { state(): RngState };

class SeedRandomRng implements Rng {
  readonly #prng: SeededPrng;

  constructor(prng: SeededPrng) {
    this.#prng = prng;
  }

  next(): number {
    return this.#prng.double();
  }

  uint32(): number {
    return this.#prng.int32() >>> 0;
  }

  below(bound: number): number {
    if (!(bound >= 1 && bound <= 0x100000000) || !Number.isInteger(bound)) {
      throw new InvalidArgumentError(`lbsim/sim.Rng.below: bound must be an integer in [1, 2^32] (got ${bound})`);
    }
    if (bound === 0x100000000) return this.uint32();
    // Rejection sampling keeps the draw unbiased for bounds that do not divide 2^32.
    const limit = 0x100000000 - (0x100000000 % bound);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % bound;
    }
  }

  state(): RngState {
    const s = this.#prng.state();
    return { i: s.i, j: s.j, S: s.S.slice() };
  }

  fork(): Rng {
    return createRng(`fork:${this.uint32()}:${this.uint32()}`);
  }
}

/**
 * Creates a seeded generator. The same seed always gives the same stream.
 *
 * @param seed - any integer or string
 */
export function createRng(seed: number | string): Rng {
  return new SeedRandomRng(seedrandom(String(seed), { state: true }));
}

/** Continues a stream from a snapshot taken with {@link Rng.state}. */
export function restoreRng(state: RngState): Rng {
  return new SeedRandomRng(seedrandom('', { state: { i: state.i, j: state.j, S: state.S.slice() } }));
}
