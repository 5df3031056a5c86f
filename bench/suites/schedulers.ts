// The 14 IPVS schedulers: cost per scheduling decision, fairness of the
// spread under uniform and Zipf-skewed clients, and disruption when a real
// server goes away.
//
// - schedule: ns per `scheduler.schedule()` on one service with 10 real
//   servers of weights 1..4 (no connection is made, so connection-count
//   schedulers see idle servers); work: dests examined per pick.
// - fairness: a seeded workload (lbsim's workload driver: 1000 clients,
//   Poisson arrivals, exponential durations, replies through the balancer)
//   against one service with 10 equal-weight real servers; the connections
//   each server received give Jain's index, max/mean and the coefficient of
//   variation (src/fairness). Clients are chosen uniformly, or Zipf-skewed
//   (exponent 1: a few clients open most connections, which is what hurts
//   source-hashing schedulers).
// - disruption: 10,000 flows (distinct source address and port) are
//   scheduled, one of the 10 real servers is deleted, the same flows are
//   scheduled again; the fraction whose server changed. Removing 1 of 10
//   must move at least 1/10 (`ideal`). mh (Maglev) stays near it; sh and dh
//   rebuild their whole bucket table round-robin over the remaining servers
//   (ip_vs_sh_reassign / ip_vs_dh_reassign), so most flows move; schedulers
//   that do not look at the flow (rr, lc, sed, twos, ...) have no notion of a
//   flow's server, and their figure only says how their pick sequence shifted
//   (no connections are made, so lc-like schedulers keep picking one server).
// Everything but the ns/pick is a deterministic, seeded work count.
import type { Packet } from '../../src/net/packet.js';
import type { VirtualService } from '../../src/ipvs/service.js';
import type { WorkCounts } from '../../src/classify/work.js';
import { lbsim } from '../imports.js';
import type { Suite } from '../types.js';

const BATCH = 1000;
const SERVERS = 10;
const VIP = 0x0a600001; // 10.96.0.1
const BACKEND0 = 0x0a800010; // 10.128.0.16

export const schedulers: Suite = {
  name: 'schedulers',
  description: 'The 14 IPVS schedulers: ns per pick, fairness (Jain, max/mean, CoV) under uniform and Zipf-skewed clients, disruption after removing one server',
  run(ctx): void {
    const { Ipvs, Protocol, Packet, TcpFlag, ForwardMethod, BUILTIN_SCHEDULERS, WorkCounts, runWorkload, jainIndex, maxOverMean, coefficientOfVariation, disruption, idealDisruption } =
      lbsim;
    const key = { proto: Protocol.TCP, addr: VIP, port: 80 };
    const endMs = ctx.profile === 'full' ? 60_000 : 10_000;

    for (const factory of BUILTIN_SCHEDULERS) {
      const name = factory.name;
      ctx.progress(`scheduler ${name}`);

      // ---- ns per pick
      {
        const ipvs = new Ipvs({ seed: 7, sysctl: { runEstimation: false } });
        const svc = ipvs.addService(key, { scheduler: name });
        for (let e = 0; e < SERVERS; e++) ipvs.addDest(key, BACKEND0 + e, 8080, { weight: 1 + (e % 4), fwd: ForwardMethod.MASQ });
        const pkt = new Packet();
        const work = new WorkCounts();
        let i = 0;
        ctx.task(
          `${name} schedule`,
          () => {
            for (let b = 0; b < BATCH; b++) {
              i++;
              pkt.set(Protocol.TCP, (0xc0a80000 + (i & 0xffff)) >>> 0, 1024 + ((i >>> 16) & 0x7fff), VIP, 80, TcpFlag.SYN);
              svc.scheduler.schedule(svc, pkt, work);
            }
            work.reset();
          },
          { batch: BATCH, scheduler: name, metric: 'schedule', mode: 'ipvs' },
        );
        work.reset();
        for (let k = 0; k < 100; k++) {
          pkt.set(Protocol.TCP, (0xc0a90000 + k) >>> 0, 2000 + k, VIP, 80, TcpFlag.SYN);
          svc.scheduler.schedule(svc, pkt, work);
        }
        ctx.record(`${name} schedule`, 'dests-examined/pick', work.destsExamined / 100, { scheduler: name, metric: 'schedule', mode: 'ipvs' });
      }

      // ---- fairness under uniform and Zipf-skewed clients
      for (const [skew, zipfExponent] of [
        ['uniform', 0],
        ['zipf', 1],
      ] as const) {
        const ipvs = new Ipvs({ seed: 8, sysctl: { runEstimation: false } });
        ipvs.addService(key, { scheduler: name });
        const servers: number[] = [];
        for (let e = 0; e < SERVERS; e++) {
          ipvs.addDest(key, BACKEND0 + e, 8080, { weight: 1, fwd: ForwardMethod.MASQ });
          servers.push(BACKEND0 + e);
        }
        const result = runWorkload(ipvs, {
          seed: 9,
          endMs,
          target: key,
          clients: { count: 1000, cidrs: ['10.200.0.0/16'], zipfExponent },
          arrivals: { kind: 'poisson', ratePerSecond: 500 },
          connectionDuration: { kind: 'exponential', meanMs: 2000 },
          dataRatePerSecond: 1,
          replies: true,
        });
        const byAddr = new Map<string, number>();
        for (const b of result.backends) byAddr.set(b.addr, b.connections);
        const counts = servers.map((a) => byAddr.get(lbsim.formatIPv4(a)) ?? 0);
        const meta = { scheduler: name, metric: `fairness-${skew}`, mode: 'ipvs' } as const;
        const task = `${name} fairness ${skew}`;
        ctx.record(task, 'connections', result.connections.attempted, meta);
        ctx.record(task, 'jain', round4(jainIndex(counts)), meta);
        ctx.record(task, 'max/mean', round4(maxOverMean(counts)), meta);
        ctx.record(task, 'cov', round4(coefficientOfVariation(counts)), meta);
      }

      // ---- disruption after removing one server
      {
        const ipvs = new Ipvs({ seed: 10, sysctl: { runEstimation: false } });
        const svc = ipvs.addService(key, { scheduler: name });
        for (let e = 0; e < SERVERS; e++) ipvs.addDest(key, BACKEND0 + e, 8080, { weight: 1, fwd: ForwardMethod.MASQ });
        const FLOWS = 10_000;
        const pkt = new Packet();
        const work = new WorkCounts();
        const before = assign(svc, pkt, work, FLOWS, Protocol.TCP, TcpFlag.SYN);
        ipvs.deleteDest(key, BACKEND0 + 3, 8080);
        const after = assign(svc, pkt, work, FLOWS, Protocol.TCP, TcpFlag.SYN);
        const meta = { scheduler: name, metric: 'disruption', mode: 'ipvs' } as const;
        ctx.record(`${name} disruption`, 'moved', round4(disruption(before, after)), meta);
        ctx.record(`${name} disruption`, 'ideal', idealDisruption(SERVERS, SERVERS - 1), meta);
      }
    }
  },
};

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** The server (address, or -1 for none) each of `flows` flows is scheduled to. */
function assign(svc: VirtualService, pkt: Packet, work: WorkCounts, flows: number, proto: number, syn: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < flows; f++) {
    pkt.set(proto, (0x0ac80000 + f) >>> 0, 30_000 + (f % 30_000), VIP, 80, syn);
    out.push(svc.scheduler.schedule(svc, pkt, work)?.addr ?? -1);
  }
  return out;
}
