// kube-proxy's IPVS mode ranges over Go maps: service ports in svcPortMap order and each virtual server's new
// real servers in newEndpoints.UnsortedList() order (pkg/proxy/ipvs/proxier.go syncProxyRules, syncEndpoint).
// The kernel adds a dest at the head of svc->destinations (ip_vs_ctl.c __ip_vs_update_dest: list_add_rcu), so a
// service lists its real servers newest first, and that list is what rr walks.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { Cluster } from '../../src/kube/cluster.js';
import { endpointSliceFromObject, serviceFromObject } from '../../src/kube/validate.js';
import { formatIPv4, parseIPv4 } from '../../src/net/ipv4.js';
import { Protocol } from '../../src/net/protocol.js';
import { createRng } from '../../src/sim/rng.js';
import { ep, port, sliceManifest, svcManifest } from './helpers.js';
import { testNode } from './proxier-helpers.js';

const ENDPOINTS = Array.from({ length: 8 }, (_, j) => `10.180.0.${j + 1}`);
const SERVICES = 6;

function cluster(): Cluster {
  const c = new Cluster();
  for (let i = 0; i < SERVICES; i++) {
    c.applyService(serviceFromObject(svcManifest('ns', `s${i}`, { clusterIP: `172.30.0.${i + 1}`, ports: [{ name: 'p', port: 80, protocol: 'TCP' }] })));
    c.applyEndpointSlice(endpointSliceFromObject(sliceManifest('ns', `s${i}`, 1, ENDPOINTS.map((ip) => ep(ip)), [port('p', 8080)])));
  }
  return c;
}

/** Each ClusterIP virtual server's real servers as the kernel lists them. */
function destOrders(order: 'sorted' | 'random', seed = 1): string[][] {
  const node = testNode('ipvs', cluster(), undefined, { ipvsMode: { order, rng: createRng(seed) } });
  expect(node.proxier.start().success).toBe(true);
  const out: string[][] = [];
  for (let i = 0; i < SERVICES; i++) {
    const svc = node.ipvs!.getService({ proto: Protocol.TCP, addr: parseIPv4(`172.30.0.${i + 1}`), port: 80 })!;
    out.push(svc.dests.map((d) => formatIPv4(d.addr)));
  }
  return out;
}

describe('IPVS mode: Go map order', () => {
  it("sorted: real servers are added in endpoint order, so the kernel lists them newest first", () => {
    for (const dests of destOrders('sorted')) expect(dests).toEqual([...ENDPOINTS].reverse());
  });

  it('random: every virtual server gets all its endpoints, in a seeded order that differs between services and seeds', () => {
    const a = destOrders('random', 7);
    for (const dests of a) expect([...dests].sort()).toEqual([...ENDPOINTS].sort());
    // same seed, same order: byte-identical simulations
    expect(destOrders('random', 7)).toEqual(a);
    // 8! orders: six services all in one order, or two seeds agreeing everywhere, would be a broken shuffle
    expect(new Set(a.map((d) => d.join())).size).toBeGreaterThan(1);
    expect(destOrders('random', 8)).not.toEqual(a);
    expect(a.some((d) => d.join() !== [...ENDPOINTS].reverse().join())).toBe(true);
  });

  it("random without an rng is refused", () => {
    expect(() => testNode('ipvs', cluster(), undefined, { ipvsMode: { order: 'random' } })).toThrow(InvalidArgumentError);
  });
});
