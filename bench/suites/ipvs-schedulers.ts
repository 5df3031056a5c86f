// ns per scheduling decision for each of the 14 kernel schedulers, on one
// service with 10 real servers of mixed weights.
import type { Bench } from 'tinybench';
import { lbsim } from '../imports.js';
import type { Suite } from '../run.js';

const BATCH = 1000;

export const ipvsSchedulers: Suite = {
  name: 'ipvs-schedulers',
  batch: BATCH,
  register(bench: Bench, _profile, record): void {
    const { Ipvs, Protocol, Packet, Decision, TcpFlag, BUILTIN_SCHEDULERS } = lbsim;
    for (const factory of BUILTIN_SCHEDULERS) {
      const ipvs = new Ipvs({ seed: 7, sysctl: { runEstimation: false } });
      const key = { proto: Protocol.TCP, addr: 0x0a600001, port: 80 };
      const svc = ipvs.addService(key, { scheduler: factory.name });
      for (let e = 0; e < 10; e++) ipvs.addDest(key, 0x0af40000 + e, 8080, { weight: 1 + (e % 4) });
      const pkt = new Packet();
      const d = new Decision();
      let i = 0;
      bench.add(factory.name, () => {
        for (let b = 0; b < BATCH; b++) {
          i++;
          pkt.set(Protocol.TCP, (0xc0a80000 + (i & 0xffff)) >>> 0, 1024 + (i >>> 16), key.addr, 80, TcpFlag.SYN);
          svc.scheduler.schedule(svc, pkt, d.work);
        }
      });
      d.work.reset();
      pkt.set(Protocol.TCP, 0xc0a80001, 1024, key.addr, 80, TcpFlag.SYN);
      svc.scheduler.schedule(svc, pkt, d.work);
      record(factory.name, 'dests-examined/pick', d.work.destsExamined);
    }
  },
};
