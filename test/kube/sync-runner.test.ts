// BoundedFrequencyRunner (kubernetes/kubernetes pkg/util/async/bounded_frequency_runner.go) on the simulated
// clock. Expected run times are derived by hand from the Go code:
// - tryRun: if limiter.TryAccept() → run, lastRun = now, timer.Reset(maxInterval); else
//   timer.Reset(min(timer.Remaining(), minInterval − (now − lastRun))).
// - the limiter is flowcontrol.NewTokenBucketRateLimiter(qps = 1/minInterval, burst), which starts full;
//   minInterval 0 uses nullLimiter (always accepts).
// - RetryAfter(d) makes the timer fire no later than now + d (doRetry after the run resets the timer).
import { describe, expect, it } from 'vitest';
import { BoundedFrequencyRunner } from '../../src/kube/sync.js';
import { SimClock } from '../../src/sim/clock.js';

function setup(min: number, max: number, burst: number): { clock: SimClock; runner: BoundedFrequencyRunner; runs: [number, string][] } {
  const clock = new SimClock();
  const runs: [number, string][] = [];
  const runner = new BoundedFrequencyRunner(clock, (reason) => runs.push([clock.now, reason]), min, max, burst);
  return { clock, runner, runs };
}

/** Advance to t, stopping at each timer deadline on the way. */
function stepTo(clock: SimClock, runner: BoundedFrequencyRunner, t: number): void {
  for (;;) {
    const next = runner.nextRunAt;
    if (next === null || next > t) break;
    clock.advanceTo(Math.max(next, clock.now));
  }
  clock.advanceTo(t);
}

describe('BoundedFrequencyRunner', () => {
  it('allows a burst of 2, then one run per minInterval, coalescing requests', () => {
    const { clock, runner, runs } = setup(1000, 10_000, 2);
    runner.loop();
    runner.run(); // t=0: tokens 2 → 1
    clock.advanceTo(100);
    runner.run(); // t=100: tokens 1.1 → 0.1
    clock.advanceTo(200);
    runner.run(); // denied: next possible at lastRun + 1000 = 1100
    clock.advanceTo(300);
    runner.run(); // coalesced into the same timer
    expect(runs).toEqual([
      [0, 'run'],
      [100, 'run'],
    ]);
    expect(runner.nextRunAt).toBe(1100);
    stepTo(clock, runner, 1100);
    expect(runs).toEqual([
      [0, 'run'],
      [100, 'run'],
      [1100, 'timer'],
    ]);
    // nothing else asked for: the next run is maxInterval after the last one
    expect(runner.nextRunAt).toBe(11_100);
    stepTo(clock, runner, 25_000);
    expect(runs.slice(3)).toEqual([
      [11_100, 'timer'],
      [21_100, 'timer'],
    ]);
  });

  it('refills one token per minInterval, up to the burst', () => {
    const { clock, runner, runs } = setup(1000, 60_000, 2);
    runner.loop();
    clock.advanceTo(5000); // bucket stays capped at 2 tokens
    for (let i = 0; i < 3; i++) runner.run();
    // two at 5000, the third waits for lastRun + 1000
    expect(runs.map((r) => r[0])).toEqual([5000, 5000]);
    stepTo(clock, runner, 6000);
    expect(runs.map((r) => r[0])).toEqual([5000, 5000, 6000]);
    // 1.5 s later: 1.5 tokens → one immediate run (0.5 left); the next waits for lastRun + minInterval = 8500
    clock.advanceTo(7500);
    runner.run();
    runner.run();
    expect(runs.map((r) => r[0])).toEqual([5000, 5000, 6000, 7500]);
    expect(runner.nextRunAt).toBe(8500);
  });

  it('runs every request at once without a minInterval (nullLimiter)', () => {
    const { runner, runs } = setup(0, 30_000, 2);
    runner.loop();
    for (let i = 0; i < 5; i++) runner.run();
    expect(runs).toHaveLength(5);
  });

  it('retries no later than RetryAfter asks', () => {
    const clock = new SimClock();
    const runs: number[] = [];
    let fail = true;
    const runner: BoundedFrequencyRunner = new BoundedFrequencyRunner(
      clock,
      () => {
        runs.push(clock.now);
        if (fail) {
          fail = false;
          runner.retryAfter(30_000); // as the iptables proxier does on failure: RetryAfter(syncPeriod)
        }
      },
      1000,
      3_600_000,
      2,
    );
    runner.loop();
    clock.advanceTo(2000);
    runner.run();
    expect(runner.nextRunAt).toBe(32_000);
    stepTo(clock, runner, 40_000);
    expect(runs).toEqual([2000, 32_000]);
    expect(runner.nextRunAt).toBe(32_000 + 3_600_000);
  });

  it('holds a request made before Loop and runs it when the loop starts', () => {
    const { runner, runs } = setup(1000, 10_000, 2);
    runner.run();
    expect(runs).toHaveLength(0);
    runner.loop();
    expect(runs).toEqual([[0, 'run']]);
  });

  it('refuses maxInterval < minInterval', () => {
    expect(() => setup(2000, 1000, 2)).toThrow(/lbsim\/kube.BoundedFrequencyRunner.constructor/);
  });
});
