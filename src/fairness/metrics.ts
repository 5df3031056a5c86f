/**
 * Fairness metrics for load-balancing property tests: how evenly a scheduler
 * spread work over its real servers, whether the spread matches the weights,
 * and how many keys moved when the server set changed.
 *
 * Everything here is a pure function over plain numbers (or arrays of keys)
 * with no dependency on the simulator, so the same metrics judge lbsim, a
 * model, or numbers read from a real `ipvsadm -Ln --stats`.
 *
 * Inputs are checked eagerly; a bad argument throws an
 * {@link InvalidArgumentError} whose message starts with
 * `lbsim/fairness.<function>: `.
 *
 * @module
 */

import { InvalidArgumentError } from '../errors.js';

function fail(fn: string, message: string): never {
  throw new InvalidArgumentError(`lbsim/fairness.${fn}: ${message}`);
}

/** Refuses empty arrays and entries that are not finite numbers ≥ 0. */
function checkNonNegative(fn: string, name: string, values: readonly number[]): void {
  if (values.length === 0) fail(fn, `${name} must not be empty`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Number.isFinite(v) && v >= 0)) fail(fn, `${name}[${i}] must be a finite number ≥ 0 (got ${v})`);
  }
}

function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

function sumOf(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
}

/**
 * Jain's fairness index `(Σx)² / (n · Σx²)`.
 *
 * It is 1 when every entry is equal and `1/n` when a single entry holds
 * everything; in general it is the fraction of entries that are treated
 * fairly (`k` equal non-zero entries and `n − k` zeros give `k/n`). It is
 * scale-invariant: multiplying every count by a constant does not change it.
 *
 * Edge cases:
 * - all counts zero → 1 (nothing was handed out, so nobody was favoured);
 * - a single count → 1.
 *
 * Counts need not be integers (rates and byte counts work too). The values
 * are divided by their maximum before squaring, so huge counts neither
 * overflow nor lose the result; the result is clamped to `[1/n, 1]`, the
 * range the Cauchy–Schwarz inequality guarantees, to absorb rounding.
 *
 * @param counts - work per server (connections, packets, bytes...)
 * @returns a number in `[1/n, 1]`
 * @throws {InvalidArgumentError} when `counts` is empty or holds a negative,
 *   NaN or infinite value
 */
export function jainIndex(counts: readonly number[]): number {
  checkNonNegative('jainIndex', 'counts', counts);
  return jainUnchecked(counts);
}

function jainUnchecked(counts: readonly number[]): number {
  const n = counts.length;
  const max = maxOf(counts);
  if (max === 0) return 1;
  let sum = 0;
  let sumSq = 0;
  for (const x of counts) {
    const y = x / max;
    sum += y;
    sumSq += y * y;
  }
  const j = (sum * sum) / (n * sumSq);
  return Math.min(1, Math.max(1 / n, j));
}

/**
 * Coefficient of variation: the **population** standard deviation divided by
 * the mean, `sqrt(Σ(x − μ)² / n) / μ`.
 *
 * The population form (divide by `n`, not `n − 1`) is used because the counts
 * are the whole population of servers, not a sample of them; it also keeps
 * the identity `jainIndex(x) = 1 / (1 + cv²)` exact. For
 * `[2, 4, 4, 4, 5, 5, 7, 9]` it is `2 / 5 = 0.4` (the sample form would give
 * `sqrt(32/7) / 5 ≈ 0.4276`).
 *
 * Edge cases: all counts zero → 0 (no dispersion); a single count → 0.
 * Scale-invariant; the values are divided by their maximum first so huge
 * counts do not overflow.
 *
 * @param counts - work per server
 * @returns a number in `[0, sqrt(n − 1)]`
 * @throws {InvalidArgumentError} when `counts` is empty or holds a negative,
 *   NaN or infinite value
 */
export function coefficientOfVariation(counts: readonly number[]): number {
  checkNonNegative('coefficientOfVariation', 'counts', counts);
  return covUnchecked(counts);
}

function covUnchecked(counts: readonly number[]): number {
  const n = counts.length;
  const max = maxOf(counts);
  if (max === 0) return 0;
  let sum = 0;
  for (const x of counts) sum += x / max;
  const mean = sum / n;
  // Two passes: subtracting the mean first avoids the cancellation of Σx² − nμ².
  let ss = 0;
  for (const x of counts) {
    const d = x / max - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n) / mean;
}

/**
 * The busiest server's load relative to the mean, `max(x) / mean(x)`: 1 when
 * perfectly even, `n` when one server took everything. It answers "how much
 * more than its fair share did the hottest server get?".
 *
 * Edge case: all counts zero → 1.
 *
 * @param counts - work per server
 * @returns a number in `[1, n]`
 * @throws {InvalidArgumentError} when `counts` is empty or holds a negative,
 *   NaN or infinite value
 */
export function maxOverMean(counts: readonly number[]): number {
  checkNonNegative('maxOverMean', 'counts', counts);
  return maxOverMeanUnchecked(counts);
}

function maxOverMeanUnchecked(counts: readonly number[]): number {
  const n = counts.length;
  const max = maxOf(counts);
  if (max === 0) return 1;
  let sum = 0;
  for (const x of counts) sum += x / max;
  return Math.min(n, Math.max(1, n / sum));
}

/** Result of {@link chiSquare}. */
export interface ChiSquareResult {
  /** Pearson's statistic `Σ (observed − expected)² / expected`; `Infinity` when a zero-share category was observed. */
  readonly statistic: number;
  /** Number of categories with a positive expected share, minus one. */
  readonly degreesOfFreedom: number;
  /**
   * Probability of a statistic at least this large if the observations
   * really follow the expected shares: `Q(df/2, statistic/2)`. Small values
   * (say below 0.001) mean the spread does not match the shares.
   */
  readonly pValue: number;
}

/**
 * Pearson's chi-square goodness-of-fit test of observed counts against
 * expected shares.
 *
 * - Expected count of category `i` is `total · share[i] / Σshare`, where
 *   `total = Σobserved`. Shares need not sum to 1 (IPVS weights can be passed
 *   directly).
 * - A category with share 0 (a weight-0, quiesced server) must have observed
 *   0. If it does, it is left out entirely: it adds nothing to the statistic
 *   and does not count towards the degrees of freedom. If it does not, the
 *   observations are impossible under the shares: `statistic` is `Infinity`
 *   and `pValue` is 0.
 * - `degreesOfFreedom` = (categories with positive share) − 1. With a single
 *   such category the test is degenerate: `pValue` is 1 (or 0 when a
 *   zero-share category was observed).
 * - `pValue` = `Q(df/2, statistic/2)`, the upper regularized incomplete gamma
 *   function ({@link regularizedGammaQ}), i.e. the chi-square survival function.
 *
 * The chi-square distribution is the large-sample approximation of the
 * statistic; it is good when every expected count is at least about 5.
 * Observed counts need not be integers, but the test only means something
 * for counts of independent events.
 *
 * @param observed - observed count per category
 * @param expectedShares - expected share per category (same length), any positive scale
 * @throws {InvalidArgumentError} when the arrays are empty or differ in
 *   length, an entry is negative, NaN or infinite, every share is 0, or the
 *   observed counts sum to 0 (there is nothing to test)
 */
export function chiSquare(observed: readonly number[], expectedShares: readonly number[]): ChiSquareResult {
  checkChiSquareArgs('chiSquare', observed, expectedShares);
  return chiSquareUnchecked(observed, expectedShares);
}

function checkChiSquareArgs(fn: string, observed: readonly number[], expectedShares: readonly number[]): void {
  checkNonNegative(fn, 'observed', observed);
  checkNonNegative(fn, 'expectedShares', expectedShares);
  if (observed.length !== expectedShares.length) {
    fail(
      fn,
      `observed and expectedShares must have the same length (got ${observed.length} and ${expectedShares.length})`,
    );
  }
  if (sumOf(expectedShares) <= 0) fail(fn, 'at least one expected share must be positive');
  if (sumOf(observed) <= 0) fail(fn, 'observed counts sum to 0: there is nothing to test');
}

function chiSquareUnchecked(observed: readonly number[], expectedShares: readonly number[]): ChiSquareResult {
  const total = sumOf(observed);
  const shareSum = sumOf(expectedShares);
  let statistic = 0;
  let categories = 0;
  let impossible = false;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i]!;
    const share = expectedShares[i]!;
    if (share === 0) {
      if (o !== 0) impossible = true;
      continue;
    }
    categories++;
    const e = total * (share / shareSum);
    const d = o - e;
    statistic += (d * d) / e;
  }
  const degreesOfFreedom = categories - 1;
  if (impossible) return { statistic: Infinity, degreesOfFreedom, pValue: 0 };
  const pValue = degreesOfFreedom === 0 ? 1 : regularizedGammaQ(degreesOfFreedom / 2, statistic / 2);
  return { statistic, degreesOfFreedom, pValue };
}

// Lanczos approximation, g = 7, n = 9 (the coefficient set popularised by
// Numerical Recipes 3rd ed. §6.1 and Boost; relative error below 1e-15 for x > 0).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Natural logarithm of the gamma function, `ln Γ(x)`, for `x > 0`, by the
 * Lanczos approximation (g = 7, 9 terms; relative error about 1e-15), with
 * the reflection formula below 0.5. `logGamma(n + 1) = ln(n!)`.
 *
 * @param x - a finite number > 0
 * @throws {InvalidArgumentError} when `x` is not a finite number > 0
 */
export function logGamma(x: number): number {
  if (!(Number.isFinite(x) && x > 0)) fail('logGamma', `x must be a finite number > 0 (got ${x})`);
  return logGammaUnchecked(x);
}

function logGammaUnchecked(x: number): number {
  if (x < 0.5) {
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx); sin(πx) > 0 on (0, 0.5).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGammaUnchecked(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const GAMMA_EPS = 1e-15;
const GAMMA_FPMIN = 1e-300;

/** Iteration cap for the series and the continued fraction: both need O(√a) steps. */
function gammaMaxIterations(a: number): number {
  return 1000 + Math.ceil(100 * Math.sqrt(a));
}

/** ln of the common prefactor `e^(−x) x^a / Γ(a)`. */
function gammaLogPrefactor(a: number, x: number): number {
  return -x + a * Math.log(x) - logGammaUnchecked(a);
}

/** P(a, x) by its series; converges fast for x < a + 1 (Numerical Recipes `gser`). */
function gammaPSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  const max = gammaMaxIterations(a);
  for (let n = 0; n < max; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * GAMMA_EPS) break;
  }
  return sum * Math.exp(gammaLogPrefactor(a, x));
}

/** Q(a, x) by its continued fraction (modified Lentz); converges fast for x ≥ a + 1 (Numerical Recipes `gcf`). */
function gammaQContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / GAMMA_FPMIN;
  let d = 1 / b;
  let h = d;
  const max = gammaMaxIterations(a);
  for (let i = 1; i <= max; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < GAMMA_FPMIN) d = GAMMA_FPMIN;
    c = b + an / c;
    if (Math.abs(c) < GAMMA_FPMIN) c = GAMMA_FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < GAMMA_EPS) break;
  }
  return Math.exp(gammaLogPrefactor(a, x)) * h;
}

function checkGammaArgs(fn: string, a: number, x: number): void {
  if (!(Number.isFinite(a) && a > 0)) fail(fn, `a must be a finite number > 0 (got ${a})`);
  if (!(x >= 0)) fail(fn, `x must be a number ≥ 0 (got ${x})`);
}

/**
 * Upper regularized incomplete gamma function
 * `Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x)`.
 *
 * `Q(k/2, x/2)` is the probability that a chi-square variable with `k`
 * degrees of freedom exceeds `x`. Computed as in Numerical Recipes `gammq`:
 * the series for P when `x < a + 1` (then Q = 1 − P, which is never tiny
 * there), otherwise the continued fraction for Q directly, so small upper
 * tails keep their relative accuracy. `Q(a, 0) = 1`, `Q(a, ∞) = 0`.
 *
 * @param a - shape, a finite number > 0
 * @param x - a number ≥ 0 (`Infinity` allowed)
 * @throws {InvalidArgumentError} for `a ≤ 0`, non-finite `a`, negative or NaN `x`
 */
export function regularizedGammaQ(a: number, x: number): number {
  checkGammaArgs('regularizedGammaQ', a, x);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) return Math.min(1, Math.max(0, 1 - gammaPSeries(a, x)));
  return Math.min(1, Math.max(0, gammaQContinuedFraction(a, x)));
}

/**
 * Lower regularized incomplete gamma function `P(a, x) = γ(a, x) / Γ(a)`,
 * the chi-square CDF for `P(k/2, x/2)`. See {@link regularizedGammaQ}.
 *
 * @param a - shape, a finite number > 0
 * @param x - a number ≥ 0 (`Infinity` allowed)
 * @throws {InvalidArgumentError} for `a ≤ 0`, non-finite `a`, negative or NaN `x`
 */
export function regularizedGammaP(a: number, x: number): number {
  checkGammaArgs('regularizedGammaP', a, x);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  if (x < a + 1) return Math.min(1, Math.max(0, gammaPSeries(a, x)));
  return Math.min(1, Math.max(0, 1 - gammaQContinuedFraction(a, x)));
}

/**
 * Turns weights into expected shares that sum to 1: `w[i] / Σw`. A weighted
 * scheduler (wrr, wlc, ...) should hand out new connections in these
 * proportions; weight-0 servers get share 0 (ipvs.md §1.5: quiesced).
 *
 * @param weights - one weight per server (IPVS weights or any non-negative numbers)
 * @returns a new array of shares in `[0, 1]`
 * @throws {InvalidArgumentError} when `weights` is empty, holds a negative,
 *   NaN or infinite value, or sums to 0
 */
export function weightedShares(weights: readonly number[]): number[] {
  checkNonNegative('weightedShares', 'weights', weights);
  const sum = sumOf(weights);
  if (sum <= 0) fail('weightedShares', 'weights must not all be 0');
  return weights.map((w) => w / sum);
}

/** SameValueZero, the equality `Map` keys use (NaN equals NaN, +0 equals −0). */
function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Share of keys whose assignment changed. `before[i]` and `after[i]` are the
 * servers key `i` was mapped to before and after a change (a server added or
 * removed, a weight edited). Assignments are compared with SameValueZero, the
 * equality `Map` uses, so they can be server objects, addresses or names.
 *
 * Compare with {@link idealDisruption}: a consistent hash (mh, Maglev) stays
 * close to it; `key mod N` does not, and neither do the kernel's sh and dh,
 * which refill their whole 256-bucket table round-robin over the remaining
 * servers on every change (ip_vs_sh.c ip_vs_sh_reassign, ip_vs_dh.c
 * ip_vs_dh_reassign), so removing one of 10 servers moves about 90% of keys.
 *
 * @param before - assignment per key before the change
 * @param after - assignment per key after the change (same length)
 * @returns the fraction of keys that moved, in `[0, 1]`
 * @throws {InvalidArgumentError} when the arrays are empty or differ in length
 */
export function disruption<T>(before: readonly T[], after: readonly T[]): number {
  if (before.length === 0) fail('disruption', 'before must not be empty');
  if (before.length !== after.length) {
    fail('disruption', `before and after must have the same length (got ${before.length} and ${after.length})`);
  }
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (!sameValueZero(before[i], after[i])) moved++;
  return moved / before.length;
}

/**
 * The least share of keys that must move when the number of equally
 * weighted servers goes from `nBefore` to `nAfter`, if the load is to stay
 * balanced:
 *
 * `|nAfter − nBefore| / max(nBefore, nAfter)`
 *
 * - removing one of N servers: its `1/N` of the keys must move, nothing else
 *   has to;
 * - adding one server to N: the new server must receive its fair share
 *   `1/(N+1)`, and those keys necessarily come from somewhere else;
 * - removing or adding `k`: `k/N` and `k/(N+k)` by the same argument.
 *
 * Both 0 → 0. The formula only sees counts: replacing a server (one removed
 * and one added at once) is not modelled; call it for each step.
 *
 * @param nBefore - number of servers before the change, an integer ≥ 0
 * @param nAfter - number of servers after the change, an integer ≥ 0
 * @returns a fraction in `[0, 1]`
 * @throws {InvalidArgumentError} when a count is not a non-negative safe integer
 */
export function idealDisruption(nBefore: number, nAfter: number): number {
  if (!(Number.isSafeInteger(nBefore) && nBefore >= 0)) {
    fail('idealDisruption', `nBefore must be an integer ≥ 0 (got ${nBefore})`);
  }
  if (!(Number.isSafeInteger(nAfter) && nAfter >= 0)) {
    fail('idealDisruption', `nAfter must be an integer ≥ 0 (got ${nAfter})`);
  }
  const max = Math.max(nBefore, nAfter);
  return max === 0 ? 0 : Math.abs(nAfter - nBefore) / max;
}

/**
 * Counts how many times each key was picked, in the order of `keys`.
 * Keys are matched with `Map` semantics (SameValueZero; objects by
 * identity), so they can be `Dest` objects, addresses, names, or `null` for
 * "no server" if you list `null` among the keys.
 *
 * @example
 * ```ts
 * tally(['b', 'a', 'b'], ['a', 'b', 'c']); // [1, 2, 0]
 * ```
 *
 * @param picks - the picked keys, in any order
 * @param keys - the keys to count, each once; defines the order of the result
 * @returns one count per key
 * @throws {InvalidArgumentError} when `keys` repeats a key or a pick is not among `keys`
 */
export function tally<K>(picks: Iterable<K>, keys: readonly K[]): number[] {
  const index = new Map<K, number>();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (index.has(k)) fail('tally', `keys[${i}] repeats an earlier key (${String(k)})`);
    index.set(k, i);
  }
  const counts = new Array<number>(keys.length).fill(0);
  let n = 0;
  for (const p of picks) {
    const i = index.get(p);
    if (i === undefined) fail('tally', `pick #${n} (${String(p)}) is not one of the keys`);
    counts[i] = counts[i]! + 1;
    n++;
  }
  return counts;
}

/** Everything {@link fairnessReport} computes about one set of counts. */
export interface FairnessReport {
  /** Number of servers (entries in `counts`). */
  readonly n: number;
  /** Σcounts. */
  readonly total: number;
  /** Smallest count. */
  readonly min: number;
  /** Largest count. */
  readonly max: number;
  /** total / n. */
  readonly mean: number;
  /** {@link jainIndex} of the raw counts (equality, ignoring weights). */
  readonly jain: number;
  /** {@link coefficientOfVariation} of the raw counts. */
  readonly coefficientOfVariation: number;
  /** {@link maxOverMean} of the raw counts. */
  readonly maxOverMean: number;
  /** The expected shares used, normalised to sum to 1 (uniform when none were given). */
  readonly expectedShares: readonly number[];
  /**
   * Jain's index of `counts[i] / expectedShares[i]` over the servers with a
   * positive share: 1 when every server got exactly its weighted share.
   */
  readonly weightedJain: number;
  /**
   * Largest `counts[i] / (total · expectedShares[i])` over the servers with a
   * positive share: how far the most overloaded server is above its weighted
   * share (1 = exactly on it). `Infinity` when a zero-share server got work.
   */
  readonly maxOverExpected: number;
  /** {@link chiSquare} of the counts against the expected shares. */
  readonly chiSquare: ChiSquareResult;
}

/**
 * Every metric of this module for one set of counts, for assertions and for
 * printing when a property fails.
 *
 * @param counts - work per server
 * @param expectedShares - expected share per server (any positive scale, e.g.
 *   IPVS weights); uniform when omitted
 * @throws {InvalidArgumentError} as {@link chiSquare} does: empty or
 *   mismatched arrays, bad entries, all shares 0, or counts summing to 0
 */
export function fairnessReport(counts: readonly number[], expectedShares?: readonly number[]): FairnessReport {
  const shares = expectedShares ?? new Array<number>(counts.length).fill(1);
  checkChiSquareArgs('fairnessReport', counts, shares);
  const n = counts.length;
  const total = sumOf(counts);
  const shareSum = sumOf(shares);
  const normalised = shares.map((s) => s / shareSum);
  let min = Infinity;
  for (const x of counts) if (x < min) min = x;
  const perShare: number[] = [];
  let maxOverExpected = 0;
  for (let i = 0; i < n; i++) {
    const x = counts[i]!;
    const s = normalised[i]!;
    if (s === 0) {
      if (x !== 0) maxOverExpected = Infinity;
      continue;
    }
    const ratio = x / (total * s);
    perShare.push(ratio);
    if (ratio > maxOverExpected) maxOverExpected = ratio;
  }
  return {
    n,
    total,
    min,
    max: maxOf(counts),
    mean: total / n,
    jain: jainUnchecked(counts),
    coefficientOfVariation: covUnchecked(counts),
    maxOverMean: maxOverMeanUnchecked(counts),
    expectedShares: normalised,
    weightedJain: jainUnchecked(perShare),
    maxOverExpected,
    chiSquare: chiSquareUnchecked(counts, shares),
  };
}
