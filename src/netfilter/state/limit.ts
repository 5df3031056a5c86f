import { InvalidArgumentError, OperationError } from '../../errors.js';
import type { LimitMatch } from '../ast.js';

/**
 * `-m limit` (net/netfilter/xt_limit.c, userspace extensions/libxt_limit.c):
 * a token bucket kept in the kernel's integer credits.
 *
 * - iptables turns `--limit N/unit` into `avg = XT_LIMIT_SCALE * secondsPerUnit / N`
 *   (integer division, XT_LIMIT_SCALE = 10000): the average interval in
 *   1/10000 s. `--limit-burst` is `burst` (default 5).
 * - The kernel converts with user2credits(): `user * HZ * CREDITS_PER_JIFFY /
 *   XT_LIMIT_SCALE`, dividing first when the product would overflow 32 bits.
 *   `cost = user2credits(avg)`, `credit_cap = user2credits(avg * burst)`
 *   (the product taken modulo 2^32, as the kernel's u32 multiply is), and
 *   the bucket starts full.
 * - Each packet adds `(jiffies - prev) * CREDITS_PER_JIFFY` credits (modulo
 *   2^32, credit being a u32), caps at `credit_cap`, and matches when at
 *   least `cost` credits are there, which it then spends.
 *
 * HZ defaults to 1000 (one jiffy per simulated millisecond; then
 * CREDITS_PER_JIFFY = 32); it can be set to another kernel value.
 *
 * @module
 */

/** XT_LIMIT_SCALE (include/uapi/linux/netfilter/xt_limit.h). */
export const XT_LIMIT_SCALE = 10000;

/** Seconds per `--limit` unit (libxt_limit.c parse_rate). */
const UNIT_SECONDS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;

/**
 * CREDITS_PER_JIFFY for a HZ: the largest power of two not above
 * MAX_CPJ = 0xFFFFFFFF / (HZ * 60 * 60 * 24), so that one day of credit fits 32 bits.
 */
export function creditsPerJiffy(hz: number): number {
  const maxCpj = Math.floor(0xffffffff / (hz * 86400));
  let p = 1;
  while (p * 2 <= maxCpj) p *= 2;
  return p;
}

/** user2credits() of xt_limit.c for a HZ. */
export function user2credits(user: number, hz: number): number {
  const cpj = creditsPerJiffy(hz);
  const u = user >>> 0;
  if (u > Math.floor(0xffffffff / (hz * cpj))) {
    // Divide first; the product is a u32.
    return Math.imul(Math.floor(u / XT_LIMIT_SCALE), hz * cpj) >>> 0;
  }
  return Math.floor((u * hz * cpj) / XT_LIMIT_SCALE);
}

/**
 * libxt_limit.c parse_rate(): the `avg` value iptables sends for `count/unit`.
 *
 * @throws {InvalidArgumentError} for a count of 0 or a rate that maps to 0 ("Rate too fast")
 */
export function limitAvg(count: number, unit: LimitMatch['unit']): number {
  if (!(Number.isInteger(count) && count >= 1 && count <= 0xffffffff)) {
    throw new InvalidArgumentError(`lbsim/netfilter.state.limitAvg: rate count must be a positive integer (got ${count})`);
  }
  const avg = Math.floor((XT_LIMIT_SCALE * UNIT_SECONDS[unit]) / count);
  if (avg === 0) throw new InvalidArgumentError(`lbsim/netfilter.state.limitAvg: Rate too fast "${count}/${unit}"`);
  return avg;
}

/** The kernel-side numbers of one limit rule. */
export interface LimitParams {
  /** `avg` from userspace (1/10000 s per packet). */
  readonly avg: number;
  readonly burst: number;
  /** Credits one match costs. */
  readonly cost: number;
  /** Most credits the bucket holds. */
  readonly creditCap: number;
  /** Credits added per jiffy. */
  readonly creditsPerJiffy: number;
  readonly hz: number;
}

/** One rule's bucket. */
export interface Limiter {
  /** The kernel-side parameters. */
  readonly params: LimitParams;
  /** Credits now in the bucket (as of the last packet). */
  readonly credit: number;
  /** limit_mt(): whether a packet at `nowMs` passes; spends `cost` when it does. Allocation-free. */
  match(nowMs: number): boolean;
}

class TokenBucket implements Limiter {
  readonly params: LimitParams;
  credit: number;
  #prev: number;
  readonly #hz: number;
  readonly #cost: number;
  readonly #cap: number;
  readonly #cpj: number;

  constructor(params: LimitParams, createdJiffies: number) {
    this.params = params;
    this.credit = params.creditCap;
    this.#prev = createdJiffies;
    this.#hz = params.hz;
    this.#cost = params.cost;
    this.#cap = params.creditCap;
    this.#cpj = params.creditsPerJiffy;
  }

  match(nowMs: number): boolean {
    const now = Math.floor((nowMs * this.#hz) / 1000);
    // (now - prev) * CREDITS_PER_JIFFY is added into a u32.
    const elapsed = (now - this.#prev) % 0x100000000;
    this.#prev = now;
    let credit = (this.credit + ((elapsed * this.#cpj) % 0x100000000)) % 0x100000000;
    if (credit > this.#cap) credit = this.#cap;
    if (credit >= this.#cost) {
      this.credit = credit - this.#cost;
      return true;
    }
    this.credit = credit;
    return false;
  }
}

/**
 * A rule with `-m limit` is loaded (limit_mt_check): computes cost and cap
 * and returns its bucket, full, with `prev` at the load time.
 *
 * @param spec - the match
 * @param createdAtMs - simulated time the rule was loaded (default 0)
 * @param hz - kernel HZ (default 1000)
 * @throws {OperationError} ERANGE when `burst` is 0 or `avg * burst` overflows ("Overflow, try lower")
 * @throws {InvalidArgumentError} for an invalid rate
 */
export function createLimiter(spec: LimitMatch, createdAtMs = 0, hz = 1000): Limiter {
  if (!(Number.isInteger(hz) && hz >= 1 && hz <= 1000)) {
    throw new InvalidArgumentError(`lbsim/netfilter.state.createLimiter: hz must be an integer in [1, 1000] (got ${hz})`);
  }
  if (!(Number.isInteger(spec.burst) && spec.burst >= 0 && spec.burst <= 0xffffffff)) {
    throw new InvalidArgumentError(`lbsim/netfilter.state.createLimiter: burst must be a uint32 (got ${spec.burst})`);
  }
  const avg = limitAvg(spec.count, spec.unit);
  const total = Math.imul(avg, spec.burst) >>> 0;
  if (spec.burst === 0 || user2credits(total, hz) < user2credits(avg, hz)) {
    throw new OperationError('ERANGE', `lbsim/netfilter.state.createLimiter: Overflow, try lower: ${avg}/${spec.burst}`);
  }
  const params: LimitParams = {
    avg,
    burst: spec.burst,
    cost: user2credits(avg, hz),
    creditCap: user2credits(total, hz),
    creditsPerJiffy: creditsPerJiffy(hz),
    hz,
  };
  return new TokenBucket(params, Math.floor((createdAtMs * hz) / 1000));
}
