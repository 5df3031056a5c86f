/**
 * Traffic counters kept per real server, per service and in total
 * (torvalds/linux `include/net/ip_vs.h`, `struct ip_vs_kstats`), with the
 * zero point `ipvsadm -Z` sets (`kstats0`) and the rate estimates of
 * `net/netfilter/ipvs/ip_vs_est.c`.
 */
export class IpvsStats {
  /** New (non-template) connections. */
  conns = 0;
  /** Client→server packets. */
  inPkts = 0;
  /** Server→client packets seen by the director (NAT and local only). */
  outPkts = 0;
  /** Client→server bytes (L3 length). */
  inBytes = 0;
  /** Server→client bytes. */
  outBytes = 0;
  /**
   * The engine's estimator bookkeeping: 0 at rest (a tick would change
   * nothing), 1 queued for the next ticks, 2 no longer estimated (its dest or
   * service is gone). @internal
   */
  estState = 0;

  /** Counts one client→server packet of `len` bytes (`ip_vs_in_stats` for one counter set). @internal */
  countIn(len: number): void {
    this.inPkts++;
    this.inBytes += len;
  }

  /** Counts one server→client packet of `len` bytes (`ip_vs_out_stats` for one counter set). @internal */
  countOut(len: number): void {
    this.outPkts++;
    this.outBytes += len;
  }

  /** Values at the last zeroing (`kstats0`); reading subtracts them. */
  readonly zero: CounterSet = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  /** Rate estimator state, advanced every 2 s of simulated time. */
  readonly est: RateEstimate = newRateEstimate();

  /** The counters since the last {@link IpvsStats.zeroCounters} (what ipvsadm shows). */
  read(): CounterSet {
    return {
      conns: this.conns - this.zero.conns,
      inPkts: this.inPkts - this.zero.inPkts,
      outPkts: this.outPkts - this.zero.outPkts,
      inBytes: this.inBytes - this.zero.inBytes,
      outBytes: this.outBytes - this.zero.outBytes,
    };
  }

  /**
   * `ipvsadm -Z`: remembers the current values as the zero point and clears
   * the rate estimates (`ip_vs_zero_stats`). The raw counters keep counting so
   * the estimator's last samples stay consistent, as in the kernel.
   */
  zeroCounters(): void {
    const z = this.zero as MutableCounterSet;
    z.conns = this.conns;
    z.inPkts = this.inPkts;
    z.outPkts = this.outPkts;
    z.inBytes = this.inBytes;
    z.outBytes = this.outBytes;
    resetRateEstimate(this.est, this);
  }
}

/** A set of the five IPVS traffic counters. */
export interface CounterSet {
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

type MutableCounterSet = { -readonly [K in keyof CounterSet]: number };

/**
 * Smoothed rates, scaled like the kernel's `struct ip_vs_estimator`:
 * cps/inpps/outpps by 2^10, inbps/outbps by 2^5. Read them through
 * {@link readRates}.
 */
export interface RateEstimate {
  lastConns: number;
  lastInPkts: number;
  lastOutPkts: number;
  lastInBytes: number;
  lastOutBytes: number;
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

/** Unscaled rates as ipvsadm `--rate` prints them (per second, rounded like the kernel). */
export interface Rates {
  readonly cps: number;
  readonly inpps: number;
  readonly outpps: number;
  readonly inbps: number;
  readonly outbps: number;
}

function newRateEstimate(): RateEstimate {
  return {
    lastConns: 0,
    lastInPkts: 0,
    lastOutPkts: 0,
    lastInBytes: 0,
    lastOutBytes: 0,
    cps: 0,
    inpps: 0,
    outpps: 0,
    inbps: 0,
    outbps: 0,
  };
}

function resetRateEstimate(e: RateEstimate, s: IpvsStats): void {
  e.lastConns = s.conns;
  e.lastInPkts = s.inPkts;
  e.lastOutPkts = s.outPkts;
  e.lastInBytes = s.inBytes;
  e.lastOutBytes = s.outBytes;
  e.cps = 0;
  e.inpps = 0;
  e.outpps = 0;
  e.inbps = 0;
  e.outbps = 0;
}

/**
 * One 2-second estimator tick (torvalds/linux `net/netfilter/ipvs/ip_vs_est.c`,
 * `ip_vs_chain_estimation`/`estimation_timer`): the difference since the last
 * tick, scaled, is folded into the average with weight 1/4:
 * `rate = delta << 9` (i.e. per-second × 2^10 over a 2 s interval),
 * `avg += (rate - avg) >> 2`; bytes use `<< 4` (per-second × 2^5).
 */
export function estimatorTick(s: IpvsStats): void {
  const e = s.est;
  e.cps = smooth(e.cps, (s.conns - e.lastConns) * 512);
  e.lastConns = s.conns;
  e.inpps = smooth(e.inpps, (s.inPkts - e.lastInPkts) * 512);
  e.lastInPkts = s.inPkts;
  e.outpps = smooth(e.outpps, (s.outPkts - e.lastOutPkts) * 512);
  e.lastOutPkts = s.outPkts;
  e.inbps = smooth(e.inbps, (s.inBytes - e.lastInBytes) * 16);
  e.lastInBytes = s.inBytes;
  e.outbps = smooth(e.outbps, (s.outBytes - e.lastOutBytes) * 16);
  e.lastOutBytes = s.outBytes;
}

/**
 * `ticks` estimator ticks in a row with no traffic between them: the same
 * as calling {@link estimatorTick} `ticks` times, stopping once all five
 * rates are 0. After the first tick every delta is 0, so each later tick only
 * decays each rate (`avg += (0 - avg) >> 2`); a rate at 0 stays 0, so each is
 * decayed on its own until it reaches 0 or the ticks run out.
 */
export function estimatorTicks(s: IpvsStats, ticks: number): void {
  if (ticks <= 0) return;
  estimatorTick(s);
  const more = ticks - 1;
  if (more === 0) return;
  const e = s.est;
  e.cps = decay(e.cps, more);
  e.inpps = decay(e.inpps, more);
  e.outpps = decay(e.outpps, more);
  e.inbps = decay(e.inbps, more);
  e.outbps = decay(e.outbps, more);
}

// smooth(avg, 0) = avg + floor(-avg / 4) = floor(3 * avg / 4) for an integer
// avg; below 2^29 that is (avg * 3) >> 2 in int32 arithmetic.
function decay(avg: number, ticks: number): number {
  for (let i = 0; i < ticks && avg !== 0; i++) {
    avg = avg >= 0 && avg <= 0x1fffffff ? (avg * 3) >> 2 : smooth(avg, 0);
  }
  return avg;
}

// `avg += (rate - avg) >> 2` on signed 64-bit values: an arithmetic shift, so it floors.
function smooth(avg: number, rate: number): number {
  return avg + Math.floor((rate - avg) / 4);
}

/**
 * The rates as the kernel reports them (`ip_vs_read_estimator`):
 * `(cps + 0x1FF) >> 10` and `(bps + 0xF) >> 5`.
 */
export function readRates(s: IpvsStats): Rates {
  const e = s.est;
  return {
    cps: Math.floor((e.cps + 0x1ff) / 1024),
    inpps: Math.floor((e.inpps + 0x1ff) / 1024),
    outpps: Math.floor((e.outpps + 0x1ff) / 1024),
    inbps: Math.floor((e.inbps + 0xf) / 32),
    outbps: Math.floor((e.outbps + 0xf) / 32),
  };
}
