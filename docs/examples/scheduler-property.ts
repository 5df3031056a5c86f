// Property-test a scheduler with the fairness kit: for any set of real
// servers with positive weights, wrr's picks follow the weights.
// Run: npx tsx docs/examples/scheduler-property.ts
import fc from 'fast-check';
import { chiSquare, Ipvs, IpvsScenario, parseIPv4, Protocol, realServerSetArb, weightedShares } from 'lbsim';

const key = { proto: Protocol.TCP, addr: parseIPv4('10.96.0.1'), port: 443 };

fc.assert(
  fc.property(fc.integer(), realServerSetArb({ minLength: 2, maxLength: 6, minWeight: 1, maxWeight: 8, thresholdProbability: 0 }), (seed, servers) => {
    const ipvs = new Ipvs({ seed });
    ipvs.addService(key, { scheduler: 'wrr' });
    const clients = Array.from({ length: 1200 }, (_, i) => ({ addr: 0xc0a80000 + i, port: 40000 }));
    const sc = new IpvsScenario(ipvs, key, { clients });
    for (const server of servers) sc.apply({ kind: 'addServer', server });
    for (let i = 0; i < clients.length; i++) sc.apply({ kind: 'connect', client: i });
    const dests = sc.liveServers();
    const { pValue } = chiSquare(sc.pickCounts(dests), weightedShares(dests.map((d) => d.weight)));
    return pValue > 0.001;
  }),
  { seed: 42, numRuns: 25 },
);
console.log('wrr follows the weights for 25 generated server sets');

// Output:
// wrr follows the weights for 25 generated server sets
