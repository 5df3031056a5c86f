import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { InvalidArgumentError, ParseError } from '../../src/errors.js';
import {
  chiSquare,
  clientPopulationArb,
  createZipfSampler,
  indexInto,
  ipvsOperationArb,
  ipvsOperationsArb,
  realServerSetArb,
  realServerSpecArb,
  tally,
  zipfWeights,
} from '../../src/fairness/index.js';
import type { IpvsOperation, IpvsOperationKind, RealServerSpec } from '../../src/fairness/index.js';
import { cidrContains, parseCidr, parseIPv4 } from '../../src/net/ipv4.js';
import { createRng } from '../../src/sim/rng.js';

/** Asserts `fn` throws an InvalidArgumentError whose message starts with `prefix`. */
function expectInvalid(fn: () => unknown, prefix: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as Error).message.startsWith(`${prefix}: `)).toBe(true);
}

/** The kernel's acceptance rule for a threshold pair (ip_vs_ctl.c, ipvs.md §7.1), restated independently. */
function expectValidThresholds(u: number, l: number): void {
  expect(Number.isInteger(u) && u >= 0 && u <= 65535).toBe(true);
  expect(Number.isInteger(l) && l >= 0).toBe(true);
  expect(l).toBeLessThanOrEqual(u);
  if (u === 0) expect(l).toBe(0);
}

function expectValidServer(s: RealServerSpec, cidr = '10.244.0.0/16'): void {
  expect(cidrContains(parseCidr(cidr), s.addr)).toBe(true);
  expect(Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535).toBe(true);
  expect(Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 65535).toBe(true);
  expectValidThresholds(s.uThreshold, s.lThreshold);
}

const SAMPLE = { numRuns: 2000, seed: 42 } as const;

describe('realServerSpecArb', () => {
  test.prop([realServerSpecArb()])('respects the default ranges and l ≤ u', (s) => {
    expectValidServer(s);
  });

  test.prop([
    realServerSpecArb({
      cidr: '192.0.2.0/30',
      minPort: 8080,
      maxPort: 8081,
      minWeight: 1,
      maxWeight: 10,
      maxThreshold: 5,
      thresholdProbability: 0.5,
    }),
  ])('respects custom ranges', (s) => {
    expect(s.addr).toBeGreaterThanOrEqual(parseIPv4('192.0.2.0'));
    expect(s.addr).toBeLessThanOrEqual(parseIPv4('192.0.2.3'));
    expect([8080, 8081]).toContain(s.port);
    expect(s.weight).toBeGreaterThanOrEqual(1);
    expect(s.weight).toBeLessThanOrEqual(10);
    expect(s.uThreshold).toBeLessThanOrEqual(5);
    expectValidThresholds(s.uThreshold, s.lThreshold);
  });

  it('generates the interesting cases often: weight 0, small weights, thresholds with and without l', () => {
    const sample = fc.sample(realServerSpecArb(), SAMPLE);
    expect(sample.some((s) => s.weight === 0)).toBe(true);
    expect(sample.some((s) => s.weight >= 1 && s.weight <= 10)).toBe(true);
    expect(sample.some((s) => s.weight > 1000)).toBe(true);
    expect(sample.some((s) => s.uThreshold === 0)).toBe(true);
    expect(sample.some((s) => s.uThreshold > 0 && s.lThreshold === 0)).toBe(true);
    expect(sample.some((s) => s.lThreshold > 0)).toBe(true);
  });

  it('honours thresholdProbability 0 and 1', () => {
    for (const s of fc.sample(realServerSpecArb({ thresholdProbability: 0 }), SAMPLE)) {
      expect([s.uThreshold, s.lThreshold]).toEqual([0, 0]);
    }
    for (const s of fc.sample(realServerSpecArb({ thresholdProbability: 1 }), SAMPLE)) {
      expect(s.uThreshold).toBeGreaterThanOrEqual(1);
    }
  });

  it('covers the whole uint32 space with /0', () => {
    const sample = fc.sample(realServerSpecArb({ cidr: '0.0.0.0/0' }), SAMPLE);
    for (const s of sample) expect(Number.isInteger(s.addr) && s.addr >= 0 && s.addr <= 0xffffffff).toBe(true);
    expect(sample.some((s) => s.addr > 0x7fffffff)).toBe(true);
  });

  it('accepts a parsed Cidr and an address pool', () => {
    const sample = fc.sample(realServerSpecArb({ cidr: parseCidr('10.0.0.0/8'), addressPoolSize: 3 }), SAMPLE);
    for (const s of sample) expect(s.addr - parseIPv4('10.0.0.0')).toBeLessThan(3);
  });

  it.each([
    [{ minWeight: 5, maxWeight: 4 }],
    [{ maxWeight: 70000 }],
    [{ minWeight: -1 }],
    [{ minWeight: 1.5 }],
    [{ minPort: 100, maxPort: 99 }],
    [{ thresholdProbability: 1.5 }],
    [{ thresholdProbability: Number.NaN }],
    [{ maxThreshold: 0 }],
    [{ addressPoolSize: 0 }],
  ])('refuses options %j', (opts) => {
    expectInvalid(() => realServerSpecArb(opts), 'lbsim/fairness.realServerSpecArb');
  });

  it('refuses a malformed CIDR with a ParseError', () => {
    expect(() => realServerSpecArb({ cidr: '10.244.0.0/33' })).toThrow(ParseError);
  });
});

describe('realServerSetArb', () => {
  test.prop([realServerSetArb()])('has unique (addr, port) pairs of valid servers', (set) => {
    expect(set.length).toBeGreaterThanOrEqual(1);
    expect(set.length).toBeLessThanOrEqual(10);
    const keys = new Set(set.map((s) => `${s.addr}:${s.port}`));
    expect(keys.size).toBe(set.length);
    for (const s of set) expectValidServer(s);
  });

  test.prop([realServerSetArb({ cidr: '10.0.0.0/30', minPort: 80, maxPort: 80, minLength: 2, maxLength: 4 })])(
    'stays unique when the space is tiny (4 addresses × 1 port)',
    (set) => {
      expect(set.length).toBeGreaterThanOrEqual(2);
      expect(set.length).toBeLessThanOrEqual(4);
      expect(new Set(set.map((s) => s.addr)).size).toBe(set.length);
    },
  );

  it('caps maxLength at the number of distinct pairs', () => {
    const sample = fc.sample(
      realServerSetArb({ cidr: '10.0.0.1/32', minPort: 80, maxPort: 82, maxLength: 50 }),
      { numRuns: 200, seed: 7 },
    );
    for (const set of sample) expect(set.length).toBeLessThanOrEqual(3);
    expect(sample.some((set) => set.length === 3)).toBe(true);
  });

  it('refuses a minLength the options cannot satisfy', () => {
    expectInvalid(
      () => realServerSetArb({ cidr: '10.0.0.1/32', minPort: 80, maxPort: 80, minLength: 2 }),
      'lbsim/fairness.realServerSetArb',
    );
    expectInvalid(() => realServerSetArb({ minLength: 5, maxLength: 4 }), 'lbsim/fairness.realServerSetArb');
  });
});

describe('clientPopulationArb', () => {
  test.prop([clientPopulationArb()])(
    'has unique tuples from 192.168.0.0/16 and the Linux default ephemeral ports',
    ({ clients }) => {
      expect(clients.length).toBeGreaterThanOrEqual(1);
      expect(clients.length).toBeLessThanOrEqual(64);
      expect(new Set(clients.map((c) => c.addr * 65536 + c.port)).size).toBe(clients.length);
      const net = parseCidr('192.168.0.0/16');
      for (const c of clients) {
        expect(cidrContains(net, c.addr)).toBe(true);
        // net.ipv4.ip_local_port_range defaults to "32768 60999".
        expect(c.port).toBeGreaterThanOrEqual(32768);
        expect(c.port).toBeLessThanOrEqual(60999);
      }
    },
  );

  test.prop([clientPopulationArb({ cidr: '10.1.0.0/16', addressPoolSize: 2, minLength: 5, maxLength: 20 })])(
    'shares addresses between clients when the pool is small',
    ({ clients }) => {
      expect(clients.length).toBeGreaterThanOrEqual(5);
      const first = parseIPv4('10.1.0.0');
      for (const c of clients) expect(c.addr === first || c.addr === first + 1).toBe(true);
      expect(new Set(clients.map((c) => c.addr * 65536 + c.port)).size).toBe(clients.length);
    },
  );

  it('refuses bad options', () => {
    expectInvalid(() => clientPopulationArb({ minPort: 70000 }), 'lbsim/fairness.clientPopulationArb');
    expectInvalid(
      () => clientPopulationArb({ cidr: '10.0.0.1/32', minPort: 1000, maxPort: 1001, minLength: 3 }),
      'lbsim/fairness.clientPopulationArb',
    );
  });
});

/** Exhaustive over the union: fails to compile if a kind is added without a case. */
function checkOperation(op: IpvsOperation): IpvsOperationKind {
  switch (op.kind) {
    case 'addServer':
      expectValidServer(op.server);
      return op.kind;
    case 'removeServer':
      expect(Number.isSafeInteger(op.index) && op.index >= 0).toBe(true);
      return op.kind;
    case 'editServer':
      expect(Number.isSafeInteger(op.index) && op.index >= 0).toBe(true);
      expect(Number.isInteger(op.weight) && op.weight >= 0 && op.weight <= 65535).toBe(true);
      expectValidThresholds(op.uThreshold, op.lThreshold);
      return op.kind;
    case 'connect':
      expect(Number.isSafeInteger(op.client) && op.client >= 0).toBe(true);
      return op.kind;
    case 'packet':
      expect(Number.isSafeInteger(op.conn) && op.conn >= 0).toBe(true);
      expect(Number.isInteger(op.flags) && op.flags >= 0 && op.flags <= 0x3f).toBe(true);
      expect(typeof op.reply).toBe('boolean');
      return op.kind;
    case 'advanceClock':
      expect(Number.isInteger(op.ms) && op.ms >= 0 && op.ms <= 1_000_000).toBe(true);
      return op.kind;
    default: {
      const never: never = op;
      throw new Error(`unknown operation ${JSON.stringify(never)}`);
    }
  }
}

describe('ipvsOperationArb', () => {
  test.prop([ipvsOperationArb()])('produces well-formed operations', (op) => {
    checkOperation(op);
  });

  test.prop([ipvsOperationArb()])('is plain data: survives a JSON round trip unchanged', (op) => {
    expect(JSON.parse(JSON.stringify(op))).toEqual(op);
  });

  it('produces every kind with the default frequencies', () => {
    const kinds = new Set(fc.sample(ipvsOperationArb(), SAMPLE).map(checkOperation));
    expect([...kinds].sort()).toEqual(['addServer', 'advanceClock', 'connect', 'editServer', 'packet', 'removeServer']);
  });

  it('probes the IPVS timeouts (ipvs.md §3.3) with clock steps around them', () => {
    const steps = new Set(
      fc
        .sample(ipvsOperationArb({ frequencies: { addServer: 0, removeServer: 0, editServer: 0, connect: 0, packet: 0 } }), SAMPLE)
        .map((op) => (op.kind === 'advanceClock' ? op.ms : -1)),
    );
    expect(steps.has(-1)).toBe(false);
    expect(steps.has(900_000) || steps.has(899_999) || steps.has(900_001)).toBe(true);
    expect(steps.has(60_000) || steps.has(59_999) || steps.has(60_001)).toBe(true);
  });

  it('honours frequencies, replies: false and server options', () => {
    const ops = fc.sample(
      ipvsOperationArb({
        frequencies: { addServer: 1, removeServer: 0, editServer: 1, connect: 0, packet: 1, advanceClock: 0 },
        replies: false,
        server: { maxWeight: 3, thresholdProbability: 0 },
      }),
      SAMPLE,
    );
    for (const op of ops) {
      expect(['addServer', 'editServer', 'packet']).toContain(op.kind);
      if (op.kind === 'packet') expect(op.reply).toBe(false);
      if (op.kind === 'editServer') {
        expect(op.weight).toBeLessThanOrEqual(3);
        expect(op.uThreshold).toBe(0);
      }
      if (op.kind === 'addServer') expect(op.server.weight).toBeLessThanOrEqual(3);
    }
  });

  it('refuses all-zero and invalid frequencies', () => {
    expectInvalid(
      () =>
        ipvsOperationArb({
          frequencies: { addServer: 0, removeServer: 0, editServer: 0, connect: 0, packet: 0, advanceClock: 0 },
        }),
      'lbsim/fairness.ipvsOperationArb',
    );
    expectInvalid(() => ipvsOperationArb({ frequencies: { connect: 0.5 } }), 'lbsim/fairness.ipvsOperationArb');
    expectInvalid(() => ipvsOperationArb({ maxAdvanceMs: -1 }), 'lbsim/fairness.ipvsOperationArb');
  });
});

describe('ipvsOperationsArb', () => {
  test.prop([ipvsOperationsArb({ minLength: 3, maxLength: 8 })])('respects the length bounds', (ops) => {
    expect(ops.length).toBeGreaterThanOrEqual(3);
    expect(ops.length).toBeLessThanOrEqual(8);
    ops.forEach(checkOperation);
  });

  it('refuses inverted bounds', () => {
    expectInvalid(() => ipvsOperationsArb({ minLength: 3, maxLength: 2 }), 'lbsim/fairness.ipvsOperationsArb');
  });
});

describe('indexInto', () => {
  it('resolves indices modulo the length, -1 for an empty list', () => {
    expect(indexInto(7, 3)).toBe(1);
    expect(indexInto(2, 3)).toBe(2);
    expect(indexInto(5, 0)).toBe(-1);
    expectInvalid(() => indexInto(-1, 3), 'lbsim/fairness.indexInto');
    expectInvalid(() => indexInto(1, 1.5), 'lbsim/fairness.indexInto');
  });
});

describe('zipfWeights', () => {
  it('matches 1/k^s normalised, by hand', () => {
    // s = 1, n = 3: 1, 1/2, 1/3 sum to 11/6 → 6/11, 3/11, 2/11.
    const w = zipfWeights(3, 1);
    expect(w[0]).toBeCloseTo(6 / 11, 15);
    expect(w[1]).toBeCloseTo(3 / 11, 15);
    expect(w[2]).toBeCloseTo(2 / 11, 15);
    // s = 2, n = 2: 1, 1/4 → 4/5, 1/5.
    const v = zipfWeights(2, 2);
    expect(v[0]).toBeCloseTo(0.8, 15);
    expect(v[1]).toBeCloseTo(0.2, 15);
    expect(zipfWeights(4, 0)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(zipfWeights(1, 3)).toEqual([1]);
  });

  test.prop([fc.integer({ min: 1, max: 500 }), fc.double({ min: 0, max: 5, noNaN: true })])(
    'sums to 1 and never increases',
    (n, s) => {
      const w = zipfWeights(n, s);
      expect(w).toHaveLength(n);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (let k = 1; k < n; k++) expect(w[k]!).toBeLessThanOrEqual(w[k - 1]!);
    },
  );

  it('refuses bad n and s', () => {
    expectInvalid(() => zipfWeights(0, 1), 'lbsim/fairness.zipfWeights');
    expectInvalid(() => zipfWeights(2.5, 1), 'lbsim/fairness.zipfWeights');
    expectInvalid(() => zipfWeights(3, -1), 'lbsim/fairness.zipfWeights');
    expectInvalid(() => zipfWeights(3, Infinity), 'lbsim/fairness.zipfWeights');
    expectInvalid(() => createZipfSampler(createRng(1), 0, 1), 'lbsim/fairness.createZipfSampler');
  });
});

describe('createZipfSampler', () => {
  const ranks = (n: number): number[] => Array.from({ length: n }, (_, k) => k);

  function draw(seed: number, n: number, s: number, count: number): number[] {
    const sampler = createZipfSampler(createRng(seed), n, s);
    const picks: number[] = [];
    for (let i = 0; i < count; i++) picks.push(sampler.next());
    return tally(picks, ranks(n));
  }

  it.each([1, 2, 3])('sampled frequencies follow the weights (seed %i, chi-square)', (seed) => {
    const counts = draw(seed, 20, 1.2, 100_000);
    expect(chiSquare(counts, zipfWeights(20, 1.2)).pValue).toBeGreaterThan(0.001);
  });

  it('has the power to tell a different exponent apart', () => {
    const counts = draw(1, 20, 1.2, 100_000);
    expect(chiSquare(counts, zipfWeights(20, 1.1)).pValue).toBeLessThan(1e-9);
    expect(chiSquare(counts, zipfWeights(20, 0)).pValue).toBeLessThan(1e-9);
  });

  /**
   * Pools the tail ranks whose expected count is below 5 into one category (the usual
   * validity condition of the chi-square approximation), so rare ranks cannot blow up
   * the statistic.
   */
  function pooled(counts: readonly number[], weights: readonly number[], total: number): [number[], number[]] {
    let m = weights.length;
    while (m > 0 && weights[m - 1]! * total < 5) m--;
    const obs = counts.slice(0, m);
    const exp = weights.slice(0, m);
    let tailObs = 0;
    let tailExp = 0;
    for (let k = m; k < weights.length; k++) {
      tailObs += counts[k]!;
      tailExp += weights[k]!;
    }
    if (tailExp * total >= 5 || obs.length === 0) {
      obs.push(tailObs);
      exp.push(tailExp);
    } else {
      obs[obs.length - 1]! += tailObs;
      exp[exp.length - 1]! += tailExp;
    }
    return [obs, exp];
  }

  // A false failure needs p < 1e-9 for some seed: about 1e-7 per run of 100 seeds.
  test.prop([fc.integer(), fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 3, noNaN: true })])(
    'follows the weights for any seed, n and s',
    (seed, n, s) => {
      const total = 5_000;
      const [obs, exp] = pooled(draw(seed, n, s, total), zipfWeights(n, s), total);
      expect(chiSquare(obs, exp).pValue).toBeGreaterThan(1e-9);
    },
  );

  test.prop([fc.integer()])('is reproducible from the seed and stays in [0, n)', (seed) => {
    const a = createZipfSampler(createRng(seed), 7, 1);
    const b = createZipfSampler(createRng(seed), 7, 1);
    for (let i = 0; i < 200; i++) {
      const x = a.next();
      expect(b.next()).toBe(x);
      expect(x >= 0 && x < 7 && Number.isInteger(x)).toBe(true);
    }
  });

  it('always returns 0 when n = 1', () => {
    const z = createZipfSampler(createRng('one'), 1, 2);
    for (let i = 0; i < 50; i++) expect(z.next()).toBe(0);
    expect(z.weights).toEqual([1]);
  });
});
