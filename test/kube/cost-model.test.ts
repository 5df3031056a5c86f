// The cost model against the rows of /work/shared/reference/kernel-costs.md. Expected values are read off the
// table and interpolated by hand; the shape is 8 + 31N rules for N services (4 + 11N chains).
import { describe, expect, it } from 'vitest';
import { KERNEL_COSTS_REFERENCE, KernelCostModel } from '../../src/kube/cost-model.js';
import type { KernelCostCalibration } from '../../src/kube/cost-model.js';

const rulesFor = (n: number): number => 8 + 31 * n;

describe('KernelCostModel', () => {
  const legacy = new KernelCostModel();
  const nft = new KernelCostModel({ backend: 'nft' });

  it('maps a table size to the calibration N', () => {
    expect(legacy.equivalentServices(rulesFor(1000))).toBe(1000);
    expect(legacy.equivalentServices(3)).toBe(0);
  });

  it('returns the measured rows exactly', () => {
    expect(legacy.restoreSeconds('full', rulesFor(1000), rulesFor(1000))).toBeCloseTo(0.368, 12);
    expect(legacy.restoreSeconds('replace', rulesFor(10000), rulesFor(10000))).toBeCloseTo(11.088, 12);
    expect(nft.restoreSeconds('full', rulesFor(5000), 0)).toBeCloseTo(4.123, 12);
    // a partial restore writing what the measured one wrote: KUBE-SERVICES (N+1 rules + tail) + 30 rules
    expect(legacy.restoreSeconds('partial', rulesFor(2000), 2000 + 1 + 31)).toBeCloseTo(0.38, 12);
  });

  it('interpolates linearly between rows', () => {
    // legacy full: 1000 → 0.368, 2000 → 0.570; at 1500: 0.469
    expect(legacy.restoreSeconds('full', rulesFor(1500), 0)).toBeCloseTo(0.469, 12);
    // legacy replace: 5000 → 3.426, 10000 → 11.088; at 7500: 7.257
    expect(legacy.restoreSeconds('replace', rulesFor(7500), 0)).toBeCloseTo(7.257, 12);
  });

  it('extrapolates past the last row along the last segment', () => {
    // legacy full: slope (7.812 − 2.548) / 5000 per service; at 20000: 7.812 + 10000 × slope = 18.34
    expect(legacy.restoreSeconds('full', rulesFor(20000), 0)).toBeCloseTo(18.34, 9);
  });

  it('moves a partial restore towards a replace as it writes more rules', () => {
    const n = 10000;
    const wPartial = n + 1 + 31;
    const wReplace = rulesFor(n);
    expect(legacy.restoreSeconds('partial', rulesFor(n), wPartial)).toBeCloseTo(2.212, 12);
    expect(legacy.restoreSeconds('partial', rulesFor(n), wReplace)).toBeCloseTo(11.088, 12);
    const mid = legacy.restoreSeconds('partial', rulesFor(n), (wPartial + wReplace) / 2);
    expect(mid).toBeCloseTo((2.212 + 11.088) / 2, 9);
    // never below the measured partial
    expect(legacy.restoreSeconds('partial', rulesFor(n), 10)).toBeCloseTo(2.212, 12);
  });

  it('models the first packet by its rule position in KUBE-SERVICES', () => {
    // legacy N=5000: first 3207 ns, last 30643 ns
    expect(legacy.newConnectionNs(1, 5000)).toBe(3207);
    expect(legacy.newConnectionNs(5000, 5000)).toBe(30643);
    expect(legacy.newConnectionNs(2500.5, 5000)).toBeCloseTo((3207 + 30643) / 2, 6);
    // established packets: 1394 ns at N=5000; the 7500 row has no measurement and is skipped
    expect(legacy.establishedNs(5000)).toBe(1394);
    expect(legacy.establishedNs(7500)).toBeCloseTo((1394 + 1436) / 2, 9);
  });

  it('adds per-operation costs from the calibration', () => {
    const custom: KernelCostCalibration = { ...KERNEL_COSTS_REFERENCE, ipvsOperationSeconds: 1e-5, ipsetOperationSeconds: 2e-5 };
    const m = new KernelCostModel({ calibration: custom });
    const c = m.cost({ restoreKind: 'replace', tableRules: rulesFor(0), rulesWritten: 8, ipvsOperations: 100, ipsetOperations: 10, iptablesCommands: 3 });
    expect(c.restoreSeconds).toBeCloseTo(0.003, 12);
    expect(c.ipvsSeconds).toBeCloseTo(1e-3, 12);
    expect(c.ipsetSeconds).toBeCloseTo(2e-4, 12);
    expect(c.iptablesCommandSeconds).toBe(0);
    expect(c.seconds).toBeCloseTo(0.003 + 1e-3 + 2e-4, 12);
    // the default calibration has no IPVS row: IPVS operations cost nothing
    expect(legacy.cost({ restoreKind: null, tableRules: 0, rulesWritten: 0, ipvsOperations: 1e6, ipsetOperations: 0, iptablesCommands: 0 }).seconds).toBe(0);
  });

  it('refuses unsorted calibrations', () => {
    const bad: KernelCostCalibration = {
      ...KERNEL_COSTS_REFERENCE,
      restore: { ...KERNEL_COSTS_REFERENCE.restore, legacy: [...KERNEL_COSTS_REFERENCE.restore.legacy].reverse() },
    };
    expect(() => new KernelCostModel({ calibration: bad })).toThrow(/lbsim\/kube.KernelCostModel.constructor/);
  });
});
