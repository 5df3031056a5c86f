// The runner's timing loop must call every task only after its beforeEach: suites prepare each call's
// input there (a forced full sync, one endpoint change), and a call without it measures and records the
// wrong thing — tinybench by default calls a task once at add() to see whether it returns a promise.
import { describe, expect, it } from 'vitest';
import { timeTask } from '../../bench/context.js';

describe('timeTask', () => {
  it('runs beforeEach before every call of the task, for slow and fast tasks', async () => {
    for (const spinMs of [0, 3]) {
      let armed = false;
      let calls = 0;
      let unprepared = 0;
      let prepared = 0;
      const fn = (): void => {
        if (!armed) unprepared++;
        armed = false;
        calls++;
        const end = performance.now() + spinMs;
        while (performance.now() < end);
      };
      const outcome = await timeTask(
        { suite: 't', name: `spin ${spinMs}`, fn, options: { batch: 1, mode: 'iptables', metric: 'spin', timeMs: 1, minIterations: 3, beforeEach: () => { armed = true; prepared++; } } },
        { timeMs: 1, minIterations: 3 },
      );
      expect(outcome.ok, outcome.ok ? '' : outcome.error.message).toBe(true);
      expect(unprepared).toBe(0);
      expect(calls).toBe(prepared);
      expect(calls).toBeGreaterThanOrEqual(4);
    }
  });
});
