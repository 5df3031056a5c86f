// IPVS lookup cost as the number of services grows: the first packet of a
// connection (service lookup + scheduling + a new connection entry) and an
// established packet (connection-table lookup only).
//
// Each timed call runs BATCH packets, so timer overhead is amortised; the
// reported ns/op is per packet. New connections arrive one per simulated
// millisecond, so SYN_RECV entries (60 s) expire as fast as they are made:
// the table holds a steady ~60k entries, as a busy node would.
import type { Bench } from 'tinybench';
import { lbsim } from '../imports.js';
import type { Suite } from '../run.js';

export const BATCH = 1000;
const ENDPOINTS = 10;

function build(nServices: number, seed: number, connTabBits: number) {
  const { Ipvs, Protocol, ForwardMethod, Packet, Decision } = lbsim;
  const ipvs = new Ipvs({ seed, connTabBits, sysctl: { runEstimation: false } });
  const base = 0x0a600000; // 10.96.0.0/12, the default Service CIDR
  for (let s = 0; s < nServices; s++) {
    const key = { proto: Protocol.TCP, addr: (base + s) >>> 0, port: 80 };
    ipvs.addService(key, { scheduler: 'rr' });
    for (let e = 0; e < ENDPOINTS; e++) {
      ipvs.addDest(key, (0x0af40000 + s * ENDPOINTS + e) >>> 0, 8080, { fwd: ForwardMethod.MASQ });
    }
  }
  return { ipvs, pkt: new Packet(), d: new Decision(), base };
}

export const ipvsLookup: Suite = {
  name: 'ipvs-lookup',
  batch: BATCH,
  register(bench: Bench, profile, record): void {
    const sizes = profile === 'full' ? [100, 1000, 5000, 10_000, 30_000, 100_000] : [100, 1000, 10_000];
    const { Protocol, TcpFlag } = lbsim;
    for (const n of sizes) {
      const { ipvs, pkt, d, base } = build(n, 42, 16);
      let client = 0;
      const newConn = (): void => {
        client++;
        // a fresh client tuple per packet, to a service spread over the table
        pkt.set(Protocol.TCP, (0xc0a80000 + (client >>> 14)) >>> 0, 1024 + (client & 0x3fff), (base + ((client * 7919) % n)) >>> 0, 80, TcpFlag.SYN);
        ipvs.classify(pkt, d);
        ipvs.clock.advance(1);
      };
      bench.add(`new-conn N=${n}`, () => {
        for (let i = 0; i < BATCH; i++) newConn();
      });
      // Established: 1024 live connections, revisited round-robin.
      const est = build(n, 43, 12);
      for (let i = 0; i < 1024; i++) {
        est.pkt.set(Protocol.TCP, 0xc0a90000 + i, 1000 + i, (base + (i % n)) >>> 0, 80, TcpFlag.SYN);
        est.ipvs.classify(est.pkt, est.d);
      }
      let k = 0;
      bench.add(`established N=${n}`, () => {
        for (let i = 0; i < BATCH; i++) {
          k = (k + 1) & 1023;
          est.pkt.set(Protocol.TCP, 0xc0a90000 + k, 1000 + k, (base + (k % n)) >>> 0, 80, TcpFlag.ACK);
          est.ipvs.classify(est.pkt, est.d);
        }
      });
      // Work counts are deterministic: measure them once, outside the timed loop.
      newConn();
      record(`new-conn N=${n}`, 'hash-probes/packet', d.work.hashProbes);
      record(`new-conn N=${n}`, 'chain-steps/packet', d.work.chainSteps);
      record(`new-conn N=${n}`, 'dests-examined/packet', d.work.destsExamined);
      est.pkt.set(Protocol.TCP, 0xc0a90000 + 5, 1005, (base + (5 % n)) >>> 0, 80, TcpFlag.ACK);
      const w = est.ipvs.classify(est.pkt, est.d).work;
      record(`established N=${n}`, 'hash-probes/packet', w.hashProbes);
      record(`established N=${n}`, 'chain-steps/packet', w.chainSteps);
    }

    // The connection table with 1M entries (conn_tab_bits 20): an established
    // packet must cost the same as with a near-empty table.
    const big = build(100, 44, 20);
    const M = profile === 'full' ? 1_000_000 : 250_000;
    for (let i = 0; i < M; i++) {
      big.pkt.set(Protocol.TCP, (0xc0000000 + i) >>> 0, 1000 + (i & 0x7fff), (big.base + (i % 100)) >>> 0, 80, TcpFlag.SYN);
      big.ipvs.classify(big.pkt, big.d);
    }
    let j = 0;
    bench.add(`established conns=${M}`, () => {
      for (let i = 0; i < BATCH; i++) {
        j = (j + 7919) % M;
        big.pkt.set(Protocol.TCP, (0xc0000000 + j) >>> 0, 1000 + (j & 0x7fff), (big.base + (j % 100)) >>> 0, 80, TcpFlag.ACK);
        big.ipvs.classify(big.pkt, big.d);
      }
    });
    record(`established conns=${M}`, 'connections', big.ipvs.connectionCount);
    record(`established conns=${M}`, 'longest-chain', big.ipvs.longestConnChain());
  },
};
