import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import type { Dest } from './dest.js';
import { ServiceFlag } from './flags.js';
import type { Scheduler } from './scheduler.js';
import { IpvsStats } from './stats.js';

/**
 * A virtual service (`struct ip_vs_service`, torvalds/linux `include/net/ip_vs.h`).
 * Either ⟨protocol, address, port⟩ or a firewall mark (`fwmark` ≠ 0, then
 * `proto`, `addr`, `port` are 0).
 *
 * Only the IPVS engine mutates it; schedulers read `dests`, `flags`.
 */
export class VirtualService {
  /** Protocol number, or 0 for a fwmark service. */
  readonly proto: number;
  /** Virtual address, or 0 for a fwmark service. */
  readonly addr: IPv4;
  /** Virtual port (0 = all ports; persistent services only). */
  readonly port: Port;
  /** Firewall mark (0 = not a fwmark service). */
  readonly fwmark: number;
  /** {@link ServiceFlag} bits. */
  flags = 0;
  /** Persistence timeout in ms (meaningful with {@link ServiceFlag.PERSISTENT}). */
  timeoutMs = 0;
  /** Persistence netmask (`-M`), uint32. */
  netmask: IPv4 = 0xffffffff;
  /** The scheduler instance bound to this service. */
  scheduler: Scheduler;
  /**
   * Real servers in the kernel's list order: **newest first**
   * (`list_add_rcu` at the head in `__ip_vs_update_dest`). Every tie-break
   * in every scheduler follows this order.
   */
  readonly dests: Dest[] = [];
  /** Deleted dests that connections still reference (`dest_trash`). */
  readonly trash: Dest[] = [];
  /** Traffic counters for the whole service. */
  readonly stats: IpvsStats = new IpvsStats();
  /** Next service in the same hash bucket (the engine's chaining). */
  next: VirtualService | null = null;

  /**
   * @param proto - protocol (0 for fwmark)
   * @param addr - address (0 for fwmark)
   * @param port - port
   * @param fwmark - mark (0 for a normal service)
   * @param scheduler - scheduler instance (its `initService` is called by the engine)
   */
  constructor(proto: number, addr: IPv4, port: Port, fwmark: number, scheduler: Scheduler) {
    this.proto = proto;
    this.addr = addr;
    this.port = port;
    this.fwmark = fwmark;
    this.scheduler = scheduler;
  }

  /** Number of dests in service (`svc->num_dests`). */
  get numDests(): number {
    return this.dests.length;
  }

  /** Whether `-p` is set. */
  get persistent(): boolean {
    return (this.flags & ServiceFlag.PERSISTENT) !== 0;
  }

  /** The scheduler's name. */
  get schedulerName(): string {
    return this.scheduler.name;
  }
}
