import { InvalidArgumentError } from '../errors.js';
import type { Rng } from '../sim/rng.js';

/**
 * A length of simulated time in milliseconds, drawn once per use
 * (per connection for durations, per gap for think times):
 *
 * - a number: that many ms every time (an integer ≥ 0);
 * - `{ kind: 'fixed', ms }`: the same;
 * - `{ kind: 'exponential', meanMs }`: exponentially distributed with that
 *   mean, **rounded to the nearest ms** (so 0 ms occurs with probability
 *   `1 − e^(−0.5/meanMs)`);
 * - `{ kind: 'uniform', minMs, maxMs }`: an integer uniformly in
 *   `[minMs, maxMs]`;
 * - a function of the workload's random stream: its result is rounded to the
 *   nearest ms and must be finite and ≥ 0. Use only the `rng` it is given for
 *   randomness, or runs stop being reproducible.
 */
export type DurationSpec =
  | number
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | ((rng: Rng) => number);

/** A compiled {@link DurationSpec}: returns integer milliseconds ≥ 0. */
export type DurationSampler = (rng: Rng) => number;

/**
 * An exponentially distributed number with the given mean, by inversion of
 * one `rng.next()` draw: `−ln(1 − u) · mean` (`1 − u` is in (0, 1], so the
 * logarithm is finite).
 */
export function sampleExponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng.next()) * mean;
}

/**
 * Turns a {@link DurationSpec} into a sampler, validating it.
 *
 * @param where - `module.Class.method` for messages
 * @param name - option name for messages
 * @throws {InvalidArgumentError} for negative, non-integer or non-finite parameters
 */
export function compileDuration(where: string, name: string, spec: DurationSpec): DurationSampler {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`lbsim/${where}: ${name} ${what}`);
  };
  if (typeof spec === 'number') {
    if (!Number.isSafeInteger(spec) || spec < 0) bad(`must be an integer number of ms >= 0 (got ${spec})`);
    return () => spec;
  }
  if (typeof spec === 'function') {
    return (rng) => {
      const v = spec(rng);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        bad(`function returned ${String(v)}; it must return a finite number of ms >= 0`);
      }
      return Math.round(v);
    };
  }
  switch (spec.kind) {
    case 'fixed': {
      const ms = spec.ms;
      if (!Number.isSafeInteger(ms) || ms < 0) bad(`.ms must be an integer >= 0 (got ${ms})`);
      return () => ms;
    }
    case 'exponential': {
      const mean = spec.meanMs;
      if (!(Number.isFinite(mean) && mean > 0)) bad(`.meanMs must be a finite number > 0 (got ${mean})`);
      return (rng) => Math.round(sampleExponential(rng, mean));
    }
    case 'uniform': {
      const { minMs, maxMs } = spec;
      if (!Number.isSafeInteger(minMs) || !Number.isSafeInteger(maxMs) || minMs < 0 || maxMs < minMs) {
        bad(`needs integers 0 <= minMs <= maxMs (got ${minMs}..${maxMs})`);
      }
      const span = maxMs - minMs + 1;
      if (span > 0x100000000) bad(`range is wider than 2^32 ms`);
      return span === 1 ? () => minMs : (rng) => minMs + rng.below(span);
    }
    default:
      return bad(`has an unknown kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}
