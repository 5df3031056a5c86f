// A fixed reference loop timed at the start and end of every suite. On a
// shared or throttled machine (a VM with CPU credits, a busy neighbour) the
// same code can run twice as fast in one process as in the next; this
// machine-speed probe, recorded beside the suite's timings, says whether a
// run's timings were taken at full speed and whether the speed drifted while
// the suite ran. It measures nothing of lbsim.

/** Loop iterations per timed call. */
const ITERATIONS = 1_000_000;
/** Timed calls; the median is reported. */
const CALLS = 15;

// An integer mix the optimiser cannot fold away (the result is returned and checked).
function referenceLoop(n: number, seed: number): number {
  let x = seed | 0;
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1_103_515_245) + i) | 0;
  return x;
}

/**
 * Median ns per iteration of the reference loop over {@link CALLS} calls,
 * after a warm-up that lets V8 optimise it. A fixed machine gives the same
 * value from run to run (to within a few percent); a larger value means the
 * CPU ran slower for everything timed around it.
 */
export function cpuCalibrationNs(): number {
  let sink = 0;
  for (let i = 0; i < 20; i++) sink ^= referenceLoop(ITERATIONS / 10, i);
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    sink ^= referenceLoop(ITERATIONS, i);
    times.push(performance.now() - t);
  }
  if (sink === 0x7fffffff) console.log('');
  times.sort((a, b) => a - b);
  return (times[CALLS >> 1]! * 1e6) / ITERATIONS;
}
