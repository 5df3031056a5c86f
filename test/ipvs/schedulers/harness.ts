// A minimal stand-in for the IPVS engine's dest bookkeeping, so scheduler
// tests exercise the hooks exactly as torvalds/linux
// net/netfilter/ipvs/ip_vs_ctl.c calls them, without the rest of the engine.
import { WorkCounts } from '../../../src/classify/work.js';
import { Dest } from '../../../src/ipvs/dest.js';
import { DestFlag } from '../../../src/ipvs/flags.js';
import type { SchedulerContext, SchedulerFactory } from '../../../src/ipvs/scheduler.js';
import { VirtualService } from '../../../src/ipvs/service.js';
import { parseIPv4 } from '../../../src/net/ipv4.js';
import { Packet } from '../../../src/net/packet.js';
import { Protocol } from '../../../src/net/protocol.js';
import { createRng, type Rng } from '../../../src/sim/rng.js';

export interface Harness {
  readonly svc: VirtualService;
  readonly ctx: SchedulerContext & { time: number };
  readonly work: WorkCounts;
  /** __ip_vs_update_dest for a new dest: insert at the head, set last_weight, then add_dest. */
  add(addr: string, weight?: number, port?: number): Dest;
  /** __ip_vs_del_dest: unlink, then del_dest. */
  del(dest: Dest): void;
  /** ip_vs_edit_dest: new weight (last_weight kept when 0), then upd_dest. */
  setWeight(dest: Dest, weight: number): void;
  /** Schedules one packet; returns the chosen dest's address string or null. */
  pick(pkt?: Packet): Dest | null;
  /** Names of n successive picks (addresses' last octet as a string, or '-' for null). */
  picks(n: number, pkt?: Packet): string[];
}

export function harness(factory: SchedulerFactory, opts: { rng?: Rng; flags?: number; vip?: string } = {}): Harness {
  const ctx = {
    rng: opts.rng ?? createRng(1),
    time: 0,
    now(): number {
      return this.time;
    },
    lblcExpirationMs: () => 24 * 3600 * 1000,
    lblcrExpirationMs: () => 24 * 3600 * 1000,
  };
  const sched = factory.create(ctx);
  const svc = new VirtualService(Protocol.TCP, parseIPv4(opts.vip ?? '10.0.0.1'), 80, 0, sched);
  svc.flags = opts.flags ?? 0;
  sched.initService(svc);
  const work = new WorkCounts();
  const defaultPkt = new Packet(Protocol.TCP, parseIPv4('192.168.0.1'), 40000, svc.addr, 80, 0x02);
  const h: Harness = {
    svc,
    ctx,
    work,
    add(addr, weight = 1, port = 80) {
      const d = new Dest(svc, parseIPv4(addr), port);
      d.weight = weight;
      d.lastWeight = weight;
      d.flags = DestFlag.AVAILABLE;
      svc.dests.unshift(d);
      sched.addDest(svc, d);
      return d;
    },
    del(dest) {
      const i = svc.dests.indexOf(dest);
      if (i < 0) throw new Error('not a dest');
      svc.dests.splice(i, 1);
      dest.flags &= ~DestFlag.AVAILABLE;
      sched.delDest(svc, dest, i);
    },
    setWeight(dest, weight) {
      dest.weight = weight;
      if (weight !== 0) dest.lastWeight = weight;
      sched.updDest(svc, dest);
    },
    pick(pkt = defaultPkt) {
      return sched.schedule(svc, pkt, work);
    },
    picks(n, pkt = defaultPkt) {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const d = sched.schedule(svc, pkt, work);
        out.push(d === null ? '-' : String(d.addr & 255));
      }
      return out;
    },
  };
  return h;
}
