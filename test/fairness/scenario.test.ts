import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  chiSquare,
  clientPopulationArb,
  ipvsOperationsArb,
  IpvsScenario,
  jainIndex,
  realServerSetArb,
  weightedShares,
} from '../../src/fairness/index.js';
import { Ipvs } from '../../src/ipvs/ipvs.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';

const key = { proto: Protocol.TCP, addr: parseIPv4('10.96.0.1'), port: 80 };

describe('IpvsScenario', () => {
  test.prop([
    fc.integer(),
    fc.constantFrom('rr', 'wrr', 'wlc', 'lc', 'sed', 'nq', 'mh', 'sh', 'twos'),
    clientPopulationArb({ minLength: 1, maxLength: 50 }),
    ipvsOperationsArb({ maxLength: 150 }),
  ])('any operation sequence keeps the engine consistent', (seed, scheduler, population, ops) => {
    const ipvs = new Ipvs({ seed });
    ipvs.addService(key, { scheduler });
    const sc = new IpvsScenario(ipvs, key, population);
    for (const outcome of sc.run(ops)) {
      if (outcome.kind === 'refused') expect(['EEXIST', 'ENOENT', 'ERANGE', 'EINVAL']).toContain(outcome.code);
    }
    const svc = ipvs.getService(key)!;
    const live = new Map<object, { active: number; inactive: number; persist: number }>();
    for (const c of ipvs.connections()) {
      if (c.dest === null) continue;
      const e = live.get(c.dest) ?? { active: 0, inactive: 0, persist: 0 };
      if (c.isTemplate) e.persist++;
      else if (c.inactive) e.inactive++;
      else e.active++;
      live.set(c.dest, e);
    }
    for (const d of [...svc.dests, ...svc.trash]) {
      const e = live.get(d) ?? { active: 0, inactive: 0, persist: 0 };
      expect([d.activeConns, d.inactConns, d.persistConns]).toEqual([e.active, e.inactive, e.persist]);
    }
  });

  it('refuses nothing silently: a duplicate server is reported as EEXIST', () => {
    const ipvs = new Ipvs();
    ipvs.addService(key);
    const sc = new IpvsScenario(ipvs, key, { clients: [] });
    const server = { addr: 1, port: 80, weight: 1, uThreshold: 0, lThreshold: 0 };
    expect(sc.apply({ kind: 'addServer', server })).toEqual({ kind: 'configured' });
    expect(sc.apply({ kind: 'addServer', server })).toEqual({ kind: 'refused', code: 'EEXIST' });
  });

  test.prop([fc.integer(), realServerSetArb({ minLength: 2, maxLength: 8, minWeight: 1, maxWeight: 10 })], { numRuns: 20 })(
    'wrr over a fixed set: picks follow the weights (chi-square p > 0.001) and Jain over weight-normalised picks is ~1',
    (seed, servers) => {
      const ipvs = new Ipvs({ seed });
      ipvs.addService(key, { scheduler: 'wrr' });
      const sc = new IpvsScenario(ipvs, key, { clients: Array.from({ length: 2000 }, (_, i) => ({ addr: 0xc0a80000 + i, port: 40000 })) });
      for (const s of servers) sc.apply({ kind: 'addServer', server: { ...s, uThreshold: 0, lThreshold: 0 } });
      for (let i = 0; i < 2000; i++) sc.apply({ kind: 'connect', client: i });
      const dests = sc.liveServers();
      const counts = sc.pickCounts(dests);
      const shares = weightedShares(dests.map((d) => d.weight));
      expect(chiSquare(counts, shares).pValue).toBeGreaterThan(0.001);
      expect(jainIndex(counts.map((c, i) => c / dests[i]!.weight))).toBeGreaterThan(0.99);
    },
  );
});
