import { Decision, type PacketClassifier } from '../classify/decision.js';
import { WorkCounts } from '../classify/work.js';
import { InvalidArgumentError, OperationError } from '../errors.js';
import { formatIPv4, type IPv4 } from '../net/ipv4.js';
import type { Packet } from '../net/packet.js';
import type { Port } from '../net/port.js';
import { Protocol, protocolName } from '../net/protocol.js';
import { TcpFlag } from '../net/tcp-flags.js';
import { SimClock, type TimerOwner } from '../sim/clock.js';
import { DeadlineHeap } from '../sim/deadline-heap.js';
import { createRng, type Rng } from '../sim/rng.js';
import { Conn, ConnFlag } from './conn.js';
import { CONN_TAB_BITS_DEFAULT, ConnTable } from './conn-table.js';
import { Dest } from './dest.js';
import { DestFlag, ForwardMethod, ServiceFlag } from './flags.js';
import { SchedulerRegistry } from './registry.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';
import { VirtualService } from './service.js';
import { FTP_PORT, ServiceTable } from './service-table.js';
import { estimatorTicks, IpvsStats } from './stats.js';
import { DEFAULT_IPVS_SYSCTL, type IpvsSysctl } from './sysctl.js';
import {
  DEFAULT_SCTP_TIMEOUT_S,
  DEFAULT_TCP_TIMEOUTS_S,
  DEFAULT_UDP_TIMEOUT_S,
  NEW_CONN_TIMEOUT_MS,
  nextTcpState,
  TCP_STATE_NAMES,
  TcpDirection,
  TcpState,
  TEMPLATE_RECHECK_MS,
} from './tcp-state.js';

/** Identifies a virtual service: ⟨protocol, address, port⟩ or a firewall mark. */
export type ServiceKey =
  | { readonly proto: number; readonly addr: IPv4; readonly port: Port; readonly fwmark?: undefined }
  | { readonly fwmark: number };

/** Options of a virtual service (`ipvsadm -A/-E`). */
export interface ServiceOptions {
  /** Scheduler name. @defaultValue `'wlc'` (ipvsadm's default) */
  scheduler?: string;
  /** `-p`: persistent service. @defaultValue false */
  persistent?: boolean;
  /** Persistence timeout in seconds. @defaultValue 360 (`IPVS_SVC_PERSISTENT_TIMEOUT`) */
  timeout?: number;
  /** `-M`: persistence netmask. @defaultValue 255.255.255.255 */
  netmask?: IPv4;
  /** Scheduler flags: {@link ServiceFlag.SCHED1} (sh/mh-fallback), SCHED2 (sh/mh-port), SCHED3. @defaultValue 0 */
  schedFlags?: number;
  /** `-o`: one-packet scheduling (UDP only). @defaultValue false */
  onePacket?: boolean;
}

/** Options of a real server (`ipvsadm -a/-e`). */
export interface DestOptions {
  /** Weight 0..65535. @defaultValue 1 */
  weight?: number;
  /** Forwarding method. @defaultValue {@link ForwardMethod.DROUTE} (ipvsadm's `-g`) */
  fwd?: ForwardMethod;
  /** Upper connection threshold 0..2^31−1 (0 = none). @defaultValue 0 */
  uThreshold?: number;
  /** Lower connection threshold 0..2^31−1 (0 = none). @defaultValue 0 */
  lThreshold?: number;
}

/** Timeouts settable with `ipvsadm --set`, in seconds. */
export interface IpvsTimeouts {
  /** TCP ESTABLISHED. */
  readonly tcp: number;
  /** TCP FIN_WAIT. */
  readonly tcpfin: number;
  /** UDP. */
  readonly udp: number;
}

/** Options of an {@link Ipvs} instance. */
export interface IpvsOptions {
  /** Seed for all randomness (hash secret, twos draws). Ignored when `rng` is given. @defaultValue 0 */
  seed?: number | string;
  /** Random source; takes precedence over `seed`. */
  rng?: Rng;
  /** Simulated clock to run on (shared with other engines). @defaultValue a new clock at 0 */
  clock?: SimClock;
  /** `ip_vs.conn_tab_bits`, 8..20. @defaultValue 12 */
  connTabBits?: number;
  /** Sysctl overrides. */
  sysctl?: Partial<IpvsSysctl>;
  /** Scheduler modules. @defaultValue the 14 built-ins */
  schedulers?: SchedulerRegistry;
  /** Addresses local to the director: dests on them forward as `Local`. */
  localAddresses?: Iterable<IPv4>;
}

const WHERE = 'lbsim/ipvs.Ipvs';
const MAX_WEIGHT = 65535;
/** Thresholds are u32 in the kernel; ipvsadm parses them as int, so INT_MAX is the largest it sends. */
const MAX_THRESHOLD = 0x7fffffff;
const ESTIMATOR_PERIOD_MS = 2000;
/** The ipvsadm default persistence timeout (`IPVS_SVC_PERSISTENT_TIMEOUT`, 6*60 s). */
export const DEFAULT_PERSISTENT_TIMEOUT_S = 360;

/**
 * An IPVS instance: one network namespace's virtual-service tables,
 * connection table, schedulers, timers and counters, behaving like
 * torvalds/linux `net/netfilter/ipvs/`.
 *
 * Configure it like `ipvsadm` does ({@link Ipvs.addService},
 * {@link Ipvs.addDest}, ...) and push packets through
 * {@link Ipvs.classify}. Every configuration method either succeeds or
 * throws and leaves the state unchanged.
 */
export class Ipvs implements PacketClassifier, TimerOwner {
  /** Mode name for the {@link PacketClassifier} interface. */
  readonly mode = 'ipvs';
  /** The simulated clock. */
  readonly clock: SimClock;
  /** The random source. */
  readonly rng: Rng;
  /** Sysctls; may be changed at any time, like `sysctl -w`. */
  readonly sysctl: IpvsSysctl;
  /** Scheduler modules. */
  readonly schedulers: SchedulerRegistry;
  /** Totals over all services (`ip_vs_stats`). */
  readonly totalStats: IpvsStats = new IpvsStats();
  /** Addresses local to the director. */
  readonly localAddresses: ReadonlySet<IPv4>;

  readonly #services = new ServiceTable();
  readonly #conns: ConnTable;
  readonly #expiry = new DeadlineHeap<Conn>();
  readonly #tcpTimeouts: number[];
  #udpTimeoutMs = DEFAULT_UDP_TIMEOUT_S * 1000;
  readonly #sctpTimeoutMs = DEFAULT_SCTP_TIMEOUT_S * 1000;
  #nextEstimation: number;
  readonly #timedSchedulers: Scheduler[] = [];
  /** Expired connection objects kept for reuse, so a steady connection churn does not feed the GC. */
  readonly #freeConns: Conn[] = [];
  readonly #schedCtx: SchedulerContext;
  readonly #scratch = new WorkCounts();
  /**
   * Counters the estimator must tick: those that changed since their last
   * tick or whose rates have not decayed to 0. Every other counter set is at
   * rest (a tick would leave it unchanged), so it is skipped. See {@link IpvsStats.estState}.
   */
  readonly #estQueue: IpvsStats[] = [];

  /** @param options - see {@link IpvsOptions} */
  constructor(options: IpvsOptions = {}) {
    this.rng = options.rng ?? createRng(options.seed ?? 0);
    this.clock = options.clock ?? new SimClock();
    this.sysctl = { ...DEFAULT_IPVS_SYSCTL, ...options.sysctl };
    this.schedulers = options.schedulers ?? new SchedulerRegistry();
    this.localAddresses = new Set(options.localAddresses ?? []);
    // ip_vs_conn_rnd is drawn once at module load (ip_vs_conn_init).
    this.#conns = new ConnTable(options.connTabBits ?? CONN_TAB_BITS_DEFAULT, this.rng.uint32());
    this.#tcpTimeouts = DEFAULT_TCP_TIMEOUTS_S.map((s) => s * 1000);
    this.#nextEstimation = this.clock.now + ESTIMATOR_PERIOD_MS;
    const sysctl = this.sysctl;
    const clock = this.clock;
    this.#schedCtx = {
      rng: this.rng,
      now: () => clock.now,
      lblcExpirationMs: () => sysctl.lblcExpiration * 1000,
      lblcrExpirationMs: () => sysctl.lblcrExpiration * 1000,
    };
    this.clock.attach(this);
  }

  // ---------------------------------------------------------------- services

  /** Connection table size (`size=` in `ipvsadm -L`). */
  get connTabSize(): number {
    return this.#conns.size;
  }

  /** `conn_tab_bits`. */
  get connTabBits(): number {
    return this.#conns.bits;
  }

  /** Number of virtual services. */
  get serviceCount(): number {
    return this.#services.count;
  }

  /** Number of hashed connection entries, templates included. */
  get connectionCount(): number {
    return this.#conns.count;
  }

  /** Services in kernel table order (what `ipvsadm -L --nosort` shows). */
  services(): IterableIterator<VirtualService> {
    return this.#services[Symbol.iterator]();
  }

  /** The service with this key, or undefined. */
  getService(key: ServiceKey): VirtualService | undefined {
    return this.#find(key) ?? undefined;
  }

  /**
   * Adds a virtual service (`ipvsadm -A`, `ip_vs_add_service`).
   *
   * @throws {InvalidArgumentError} for malformed keys or options
   * @throws {OperationError} `EEXIST` when it exists, `ENOENT` for an unknown scheduler
   */
  addService(key: ServiceKey, options: ServiceOptions = {}): VirtualService {
    const k = checkKey('addService', key);
    const opts = checkServiceOptions('addService', options, undefined);
    if (this.#find(k) !== null) {
      throw new OperationError('EEXIST', `${WHERE}.addService: service ${describeKey(k)} already exists`);
    }
    const factory = this.schedulers.get(opts.scheduler);
    if (factory === undefined) {
      throw new OperationError('ENOENT', `${WHERE}.addService: scheduler ${JSON.stringify(opts.scheduler)} not found`);
    }
    const sched = factory.create(this.#schedCtx);
    const svc =
      k.fwmark !== undefined
        ? new VirtualService(0, 0, 0, k.fwmark, sched)
        : new VirtualService(k.proto, k.addr, k.port, 0, sched);
    applyServiceOptions(svc, opts);
    sched.initService(svc);
    this.#services.insert(svc);
    if (sched.runTimers !== undefined) this.#timedSchedulers.push(sched);
    return svc;
  }

  /**
   * Edits a service (`ipvsadm -E`, `ip_vs_edit_service`): options not given
   * keep their values, except that — as with ipvsadm — the caller normally
   * passes the complete set. A scheduler change calls the old scheduler's
   * `done_service` and the new one's `init_service`.
   *
   * @throws {OperationError} `ESRCH` when the service does not exist, `ENOENT` for an unknown scheduler
   */
  editService(key: ServiceKey, options: ServiceOptions): VirtualService {
    const k = checkKey('editService', key);
    const svc = this.#find(k);
    if (svc === null) throw new OperationError('ESRCH', `${WHERE}.editService: no service ${describeKey(k)}`);
    const opts = checkServiceOptions('editService', options, svc);
    let newSched: Scheduler | null = null;
    if (opts.scheduler !== svc.scheduler.name) {
      const factory = this.schedulers.get(opts.scheduler);
      if (factory === undefined) {
        throw new OperationError('ENOENT', `${WHERE}.editService: scheduler ${JSON.stringify(opts.scheduler)} not found`);
      }
      newSched = factory.create(this.#schedCtx);
    }
    const old = svc.scheduler;
    if (newSched !== null) {
      old.doneService(svc);
      svc.scheduler = newSched;
      try {
        newSched.initService(svc);
      } catch (e) {
        // ip_vs_edit_service: "Try to restore the old_sched" — bind the old one again.
        svc.scheduler = old;
        old.initService(svc);
        throw e;
      }
      removeItem(this.#timedSchedulers, old);
      if (newSched.runTimers !== undefined) this.#timedSchedulers.push(newSched);
    }
    applyServiceOptions(svc, opts);
    return svc;
  }

  /**
   * Deletes a service (`ipvsadm -D`): its dests go to the trash while
   * connections still use them; packets of those connections are dropped.
   *
   * @throws {OperationError} `ESRCH` when the service does not exist
   */
  deleteService(key: ServiceKey): void {
    const k = checkKey('deleteService', key);
    const svc = this.#find(k);
    if (svc === null) throw new OperationError('ESRCH', `${WHERE}.deleteService: no service ${describeKey(k)}`);
    this.#removeService(svc);
  }

  /** Deletes every service (`ipvsadm -C`). */
  clear(): void {
    for (const svc of [...this.#services]) this.#removeService(svc);
  }

  #removeService(svc: VirtualService): void {
    this.#services.remove(svc);
    // __ip_vs_del_service: unlink every dest (to the trash), then unbind the scheduler.
    while (svc.dests.length > 0) {
      const d = svc.dests[0]!;
      this.#unlinkDest(svc, d, 0, false);
    }
    // The estimator walks the services in the table: a deleted service's
    // counters, and those of its dests (in its trash or not), are no longer estimated.
    detachStats(svc.stats);
    for (const d of svc.trash) detachStats(d.stats);
    svc.scheduler.doneService(svc);
    removeItem(this.#timedSchedulers, svc.scheduler);
  }

  // ------------------------------------------------------------------- dests

  /**
   * Adds a real server (`ipvsadm -a`, `ip_vs_add_dest`). It goes to the head
   * of the kernel list. A dest with the same address and port still in the
   * trash comes back with its counters, as `ip_vs_trash_get_dest` does.
   *
   * @throws {InvalidArgumentError} for out-of-range weight/thresholds
   * @throws {OperationError} `ESRCH` no service, `EEXIST` dest exists, `ERANGE` lower threshold above upper
   */
  addDest(key: ServiceKey, addr: IPv4, port: Port, options: DestOptions = {}): Dest {
    const k = checkKey('addDest', key);
    checkAddr('addDest', addr);
    checkPortArg('addDest', port);
    const svc = this.#find(k);
    if (svc === null) throw new OperationError('ESRCH', `${WHERE}.addDest: no service ${describeKey(k)}`);
    const opts = checkDestOptions('addDest', options, undefined);
    if (findDest(svc.dests, addr, port) !== null) {
      throw new OperationError(
        'EEXIST',
        `${WHERE}.addDest: real server ${formatIPv4(addr)}:${port} already exists in ${describeKey(k)}`,
      );
    }
    const trashIndex = svc.trash.findIndex((d) => d.addr === addr && d.port === port);
    const dest = trashIndex >= 0 ? svc.trash[trashIndex]! : new Dest(svc, addr, port);
    const saved = snapshotDest(dest);
    this.#updateDest(dest, opts, true);
    svc.dests.unshift(dest);
    try {
      svc.scheduler.addDest(svc, dest);
    } catch (e) {
      svc.dests.shift();
      restoreDest(dest, saved);
      try {
        svc.scheduler.delDest(svc, dest, 0);
      } catch {
        // The scheduler refused the add; its state is already consistent without the dest.
      }
      throw e;
    }
    if (trashIndex >= 0) svc.trash.splice(trashIndex, 1);
    return dest;
  }

  /**
   * Edits a real server (`ipvsadm -e`, `ip_vs_edit_dest`). Options not given
   * keep their values (ipvsadm itself always sends all of them).
   *
   * @throws {OperationError} `ESRCH` no service, `ENOENT` no such dest, `ERANGE` lower threshold above upper
   */
  editDest(key: ServiceKey, addr: IPv4, port: Port, options: DestOptions): Dest {
    const k = checkKey('editDest', key);
    const svc = this.#find(k);
    if (svc === null) throw new OperationError('ESRCH', `${WHERE}.editDest: no service ${describeKey(k)}`);
    const dest = findDest(svc.dests, addr, port);
    // ip_vs_edit_dest checks the thresholds (ERANGE) before looking the dest up (ENOENT).
    const opts = checkDestOptions('editDest', options, dest ?? undefined);
    if (dest === null) {
      throw new OperationError(
        'ENOENT',
        `${WHERE}.editDest: no real server ${formatIPv4(addr)}:${port} in ${describeKey(k)}`,
      );
    }
    this.#updateDest(dest, opts, false);
    svc.scheduler.updDest(svc, dest);
    return dest;
  }

  /**
   * Deletes a real server (`ipvsadm -d`): it leaves the list at once (no new
   * connections) and waits in the trash while connections reference it.
   *
   * @throws {OperationError} `ESRCH` no service, `ENOENT` no such dest
   */
  deleteDest(key: ServiceKey, addr: IPv4, port: Port): void {
    const k = checkKey('deleteDest', key);
    const svc = this.#find(k);
    if (svc === null) throw new OperationError('ESRCH', `${WHERE}.deleteDest: no service ${describeKey(k)}`);
    const index = svc.dests.findIndex((d) => d.addr === addr && d.port === port);
    if (index < 0) {
      throw new OperationError(
        'ENOENT',
        `${WHERE}.deleteDest: no real server ${formatIPv4(addr)}:${port} in ${describeKey(k)}`,
      );
    }
    this.#unlinkDest(svc, svc.dests[index]!, index, true);
  }

  // __ip_vs_update_dest (torvalds/linux net/netfilter/ipvs/ip_vs_ctl.c)
  #updateDest(dest: Dest, opts: Required<DestOptions>, add: boolean): void {
    dest.weight = opts.weight;
    if (add || opts.weight !== 0) dest.lastWeight = opts.weight;
    dest.fwd = this.localAddresses.has(dest.addr) ? ForwardMethod.LOCAL : opts.fwd;
    dest.flags |= DestFlag.AVAILABLE;
    if (opts.uThreshold === 0 || opts.uThreshold > dest.uThreshold) dest.flags &= ~DestFlag.OVERLOAD;
    dest.uThreshold = opts.uThreshold;
    dest.lThreshold = opts.lThreshold;
  }

  #unlinkDest(svc: VirtualService, dest: Dest, index: number, callSched: boolean): void {
    svc.dests.splice(index, 1);
    dest.flags &= ~DestFlag.AVAILABLE;
    if (callSched) svc.scheduler.delDest(svc, dest, index);
    if (dest.refs > 0) svc.trash.push(dest);
    else detachStats(dest.stats);
  }

  // ---------------------------------------------------------------- counters

  /**
   * `ipvsadm -Z`: zeroes the counters of one service (and its dests) or, with
   * no key, of everything including the totals.
   *
   * @throws {OperationError} `ESRCH` when the service does not exist
   */
  zero(key?: ServiceKey): void {
    if (key !== undefined) {
      const k = checkKey('zero', key);
      const svc = this.#find(k);
      if (svc === null) throw new OperationError('ESRCH', `${WHERE}.zero: no service ${describeKey(k)}`);
      zeroService(svc);
      return;
    }
    for (const svc of this.#services) zeroService(svc);
    this.totalStats.zeroCounters();
  }

  /** Current `--set` timeouts in seconds. */
  getTimeouts(): IpvsTimeouts {
    return {
      tcp: this.#tcpTimeouts[TcpState.ESTABLISHED]! / 1000,
      tcpfin: this.#tcpTimeouts[TcpState.FIN_WAIT]! / 1000,
      udp: this.#udpTimeoutMs / 1000,
    };
  }

  /**
   * `ipvsadm --set tcp tcpfin udp` (`ip_vs_set_timeout`): a 0 leaves that
   * timeout unchanged. Existing connections pick the new value up at their
   * next state transition.
   *
   * @throws {InvalidArgumentError} for negative or non-integer values
   */
  setTimeouts(t: Partial<IpvsTimeouts>): void {
    const tcp = t.tcp ?? 0;
    const tcpfin = t.tcpfin ?? 0;
    const udp = t.udp ?? 0;
    for (const [name, v] of [
      ['tcp', tcp],
      ['tcpfin', tcpfin],
      ['udp', udp],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 2147483) {
        throw new InvalidArgumentError(`${WHERE}.setTimeouts: ${name} must be an integer number of seconds >= 0 (got ${v})`);
      }
    }
    if (tcp !== 0) this.#tcpTimeouts[TcpState.ESTABLISHED] = tcp * 1000;
    if (tcpfin !== 0) this.#tcpTimeouts[TcpState.FIN_WAIT] = tcpfin * 1000;
    if (udp !== 0) this.#udpTimeoutMs = udp * 1000;
  }

  /** TCP timeout of a state in ms. */
  tcpTimeoutMs(state: number): number {
    return this.#tcpTimeouts[state] ?? 0;
  }

  // ------------------------------------------------------------- connections

  /** Connection entries (templates included) in table order, as `/proc/net/ip_vs_conn` lists them. */
  connections(): IterableIterator<Conn> {
    return this.#conns[Symbol.iterator]();
  }

  /** Length of the longest connection-table chain. */
  longestConnChain(): number {
    return this.#conns.longestChain();
  }

  /** State name of a connection as `ipvsadm -Lc` prints it (`ip_vs_state_name`). */
  stateName(c: Conn): string {
    // ip_vs_state_name: templates use the template states (IP_VS_CTPL_S_ASSURED is bit 0).
    if (c.isTemplate) return (c.state & 1) !== 0 ? 'ASSURED' : 'NONE';
    if (c.proto === Protocol.TCP) return TCP_STATE_NAMES[c.state] ?? 'ERR!';
    if (c.proto === Protocol.UDP) return 'UDP';
    if (c.proto === Protocol.SCTP) return 'ESTABLISHED';
    return 'NONE';
  }

  // ------------------------------------------------------------------ timers

  /** Runs connection expiry, scheduler timers and the rate estimator up to `now` (called by the clock). */
  runTimers(now: number): void {
    const timed = this.#timedSchedulers;
    if (now < this.#expiry.peekKey() && now < this.#nextEstimation && timed.length === 0) return;
    for (;;) {
      const c = this.#expiry.popDue(now);
      if (c === null) break;
      if (c.expires > now) {
        this.#expiry.schedule(c, c.expires);
        continue;
      }
      this.#expire(c, c.expires);
    }
    for (let i = 0; i < timed.length; i++) timed[i]!.runTimers!(now);
    if (now >= this.#nextEstimation) this.#runEstimator(now);
  }

  #runEstimator(now: number): void {
    const ticks = Math.floor((now - this.#nextEstimation) / ESTIMATOR_PERIOD_MS) + 1;
    this.#nextEstimation += ticks * ESTIMATOR_PERIOD_MS;
    if (!this.sysctl.runEstimation) return;
    // Ticks every counter set of the table (total, services, their dests and
    // trash) in effect: the ones not queued are at rest, where a tick is a no-op.
    const queue = this.#estQueue;
    let kept = 0;
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      if (s.estState === EST_DETACHED) continue;
      // The first tick takes in the traffic since the last one; later ticks in
      // the same jump see no new traffic and only decay.
      estimatorTicks(s, ticks);
      const e = s.est;
      if (e.cps === 0 && e.inpps === 0 && e.outpps === 0 && e.inbps === 0 && e.outbps === 0) s.estState = EST_IDLE;
      else queue[kept++] = s;
    }
    queue.length = kept;
  }

  // Queues a counter set that just changed for the estimator.
  #touched(s: IpvsStats): void {
    if (s.estState === EST_IDLE) this.#enqueue(s);
  }

  #enqueue(s: IpvsStats): void {
    s.estState = EST_QUEUED;
    this.#estQueue.push(s);
  }

  // ------------------------------------------------------------ packet path

  // The connection a packet that is not plainly established belongs to:
  // ip_vs_in's connection reuse (conn_reuse_mode, expire_nodest_conn) for a
  // SYN that hit an entry, then scheduling when there is no entry. Returns
  // null when `out` already holds the final verdict.
  #resolve(cp: Conn | null, pkt: Packet, out: Decision): Conn | null {
    const proto = pkt.proto;
    if (cp !== null) {
      let resched = false;
      let oldCt = false;
      const d = cp.dest;
      if (this.sysctl.expireNodestConn && d !== null && d.weight === 0) {
        resched = true;
        oldCt = this.#usesOldConntrack(cp);
      } else if (this.sysctl.connReuseMode !== 0 && this.#isNewConnExpected(cp)) {
        oldCt = this.#usesOldConntrack(cp);
        resched = cp.nControl === 0 ? true : !oldCt;
      }
      if (!resched) return cp;
      if (!oldCt) cp.flags &= ~ConnFlag.NFCT;
      if (cp.nControl === 0) this.#expire(cp, this.clock.now);
      if (oldCt) {
        out.verdict = 'dropped';
        out.reason = 'connection-reuse-drop';
        return null;
      }
    }
    const schedulable =
      proto === Protocol.TCP
        ? this.sysctl.sloppyTcp || ((pkt.flags & TcpFlag.SYN) !== 0 && (pkt.flags & TcpFlag.RST) === 0)
        : true;
    const svc = schedulable ? this.#services.find(proto, pkt.daddr, pkt.dport, pkt.mark, out.work) : null;
    if (svc === null) {
      this.#outbound(pkt, out, schedulable ? 'no-service' : 'not-syn');
      return null;
    }
    const scheduled = this.#schedule(svc, pkt, out);
    if (scheduled !== null) out.newConnection = true;
    return scheduled;
  }

  /**
   * Runs one packet through IPVS (`ip_vs_in` for client→virtual packets,
   * `ip_vs_out` for NAT replies) at the clock's current time.
   *
   * Verdicts: `forwarded` (to `backendAddr:backendPort`, with the
   * destination rewritten for NAT), `accepted` (not IPVS traffic: no
   * service, or a non-SYN TCP packet without a connection), `rejected` (no
   * real server available: the kernel answers ICMP port unreachable),
   * `dropped` (the connection's real server is gone, or a SYN that must be
   * rescheduled hit an entry with confirmed conntrack).
   */
  classify(pkt: Packet, out: Decision): Decision {
    out.begin(pkt);
    const proto = pkt.proto;
    let cp = this.#conns.lookupIn(proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport, out.work);
    // An established packet (an entry, and not a SYN that may reuse it) goes
    // straight on; everything else is resolved out of line, which keeps this
    // path small enough for the compiler to inline its callees.
    // (is_new_conn — TCP SYN, or SCTP INIT modelled as SYN — tested first: an
    // established packet then never reads cp.control)
    if (cp === null || ((pkt.flags & TcpFlag.SYN) !== 0 && (proto === Protocol.TCP || proto === Protocol.SCTP) && cp.control === null)) {
      cp = this.#resolve(cp, pkt, out);
      if (cp === null) return out;
    }

    const dest = cp.dest;
    if (dest !== null && !dest.available) {
      if (this.sysctl.expireNodestConn) this.#expire(cp, this.clock.now);
      out.verdict = 'dropped';
      out.reason = 'destination-unavailable';
      return out;
    }

    if (dest !== null) {
      // ip_vs_in_stats
      const len = pkt.length;
      const ds = cp.destStats!;
      const ss = cp.svcStats!;
      const ts = this.totalStats;
      ds.countIn(len);
      ss.countIn(len);
      ts.countIn(len);
      this.#touched(ds);
      this.#touched(ss);
      this.#touched(ts);
    }
    this.#setState(cp, TcpDirection.INPUT, pkt.flags);
    cp.inPkts++;

    out.verdict = 'forwarded';
    out.reason = out.newConnection ? 'new-connection' : 'established';
    out.hasBackend = true;
    out.backendAddr = cp.daddr;
    out.backendPort = cp.dport;
    if ((cp.flags & ConnFlag.FWD_MASK) === ForwardMethod.MASQ) {
      out.daddr = cp.daddr;
      out.dport = cp.dport;
    }
    this.#connPut(cp);
    return out;
  }

  // ip_vs_out / handle_response: a reply from a real server.
  #outbound(pkt: Packet, out: Decision, missReason: 'no-service' | 'not-syn'): Decision {
    const cp = this.#conns.lookupOut(pkt.proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport, out.work);
    if (cp === null) {
      out.reason = missReason;
      return out;
    }
    const dest = cp.dest;
    if (dest !== null && dest.available) {
      const len = pkt.length;
      const ds = cp.destStats!;
      const ss = cp.svcStats!;
      const ts = this.totalStats;
      ds.countOut(len);
      ss.countOut(len);
      ts.countOut(len);
      this.#touched(ds);
      this.#touched(ss);
      this.#touched(ts);
    }
    this.#setState(cp, TcpDirection.OUTPUT, pkt.flags);
    out.verdict = 'forwarded';
    out.reason = 'reply';
    out.direction = 'reply';
    out.hasBackend = true;
    out.backendAddr = cp.daddr;
    out.backendPort = cp.dport;
    if ((cp.flags & ConnFlag.FWD_MASK) === ForwardMethod.MASQ) {
      out.saddr = cp.vaddr;
      out.sport = cp.vport;
    }
    this.#connPut(cp);
    return out;
  }

  // ip_vs_schedule / ip_vs_sched_persist (torvalds/linux net/netfilter/ipvs/ip_vs_core.c)
  #schedule(svc: VirtualService, pkt: Packet, out: Decision): Conn | null {
    const work = out.work;
    const onePacket = (svc.flags & ServiceFlag.ONEPACKET) !== 0 && pkt.proto === Protocol.UDP ? ConnFlag.ONE_PACKET : 0;
    if (svc.persistent) return this.#schedulePersist(svc, pkt, out, onePacket);
    if (svc.fwmark === 0 && pkt.dport !== svc.port) return this.#leave(svc, pkt, out);
    const dest = svc.scheduler.schedule(svc, pkt, work);
    if (dest === null) return this.#leave(svc, pkt, out);
    const cp = this.#newConn(
      pkt.proto,
      pkt.saddr,
      pkt.sport,
      pkt.daddr,
      pkt.dport,
      dest.port !== 0 ? dest.port : pkt.dport,
      onePacket,
      dest,
      pkt.mark,
    );
    // (the estimator queue learns of these counter sets from the packet's own
    // counting in classify, which always follows and touches the same three)
    connStats(dest, svc, this.totalStats);
    return cp;
  }

  #schedulePersist(svc: VirtualService, pkt: Packet, out: Decision, onePacket: number): Conn | null {
    const work = out.work;
    const snet = (pkt.saddr & svc.netmask) >>> 0;
    let tproto = pkt.proto;
    let tvaddr = pkt.daddr;
    let tvport = 0;
    if (pkt.dport === svc.port) {
      if (svc.port !== FTP_PORT) tvport = pkt.dport;
    } else if (svc.fwmark !== 0) {
      tproto = Protocol.IP;
      tvaddr = svc.fwmark;
    }
    let ct = this.#conns.lookupTemplate(tproto, snet, tvaddr, tvport, work);
    let dest: Dest;
    if (ct === null || !this.#checkTemplate(ct)) {
      const picked = svc.scheduler.schedule(svc, pkt, work);
      if (picked === null) return this.#leave(svc, pkt, out);
      dest = picked;
      const tdport = pkt.dport === svc.port && svc.port !== FTP_PORT ? dest.port : 0;
      ct = this.#newConn(tproto, snet, 0, tvaddr, tvport, tdport, ConnFlag.TEMPLATE, dest, pkt.mark);
      ct.timeoutMs = svc.timeoutMs;
    } else {
      dest = ct.dest!;
    }
    let dport = pkt.dport;
    if (dport === svc.port && dest.port !== 0) dport = dest.port;
    const cp = this.#newConn(pkt.proto, pkt.saddr, pkt.sport, pkt.daddr, pkt.dport, dport, onePacket, dest, pkt.mark);
    // ip_vs_control_add, then ip_vs_conn_put(ct) re-arms the template.
    cp.control = ct;
    ct.nControl++;
    this.#connPut(ct);
    // (the estimator queue learns of these counter sets from the packet's own
    // counting in classify, which always follows and touches the same three)
    connStats(dest, svc, this.totalStats);
    return cp;
  }

  // ip_vs_check_template (torvalds/linux net/netfilter/ipvs/ip_vs_conn.c). OVERLOAD is not checked.
  #checkTemplate(ct: Conn): boolean {
    const d = ct.dest;
    if (d === null || !d.available || (this.sysctl.expireQuiescentTemplate && d.weight === 0)) {
      if (ct.vport !== 0xffff && this.#conns.remove(ct)) {
        ct.dport = 0xffff;
        ct.vport = 0xffff;
        ct.cport = 0;
        this.#conns.insert(ct);
      }
      return false;
    }
    return true;
  }

  // ip_vs_leave: no dest. The kernel answers ICMP port unreachable, except that
  // an FTP service passes packets for other ports on its VIP.
  #leave(svc: VirtualService, pkt: Packet, out: Decision): null {
    if (svc.port === FTP_PORT && pkt.dport !== FTP_PORT) {
      out.verdict = 'accepted';
      out.reason = 'no-service';
    } else {
      out.verdict = 'rejected';
      out.reason = 'no-destination';
    }
    return null;
  }

  // ip_vs_conn_new + ip_vs_bind_dest (torvalds/linux net/netfilter/ipvs/ip_vs_conn.c)
  #newConn(
    proto: number,
    caddr: IPv4,
    cport: Port,
    vaddr: IPv4,
    vport: Port,
    dport: Port,
    flags: number,
    dest: Dest,
    mark: number,
  ): Conn {
    let f = flags | dest.fwd | ConnFlag.INACTIVE;
    if (dest.fwd !== ForwardMethod.MASQ) f |= ConnFlag.NOOUTPUT;
    if (proto !== Protocol.UDP) f &= ~ConnFlag.ONE_PACKET;
    if (this.sysctl.conntrack && (f & ConnFlag.TEMPLATE) === 0) f |= ConnFlag.NFCT;
    const c = this.#freeConns.pop()?.reset(proto, caddr, cport, vaddr, vport, dest.addr, dport, f, dest, mark, NEW_CONN_TIMEOUT_MS) ??
      new Conn(proto, caddr, cport, vaddr, vport, dest.addr, dport, f, dest, mark, NEW_CONN_TIMEOUT_MS);
    if ((f & ConnFlag.TEMPLATE) !== 0) dest.persistConns++;
    else dest.inactConns++;
    dest.refs++;
    if (dest.uThreshold !== 0 && dest.activeConns + dest.inactConns >= dest.uThreshold) {
      dest.flags |= DestFlag.OVERLOAD;
    }
    // The timer is armed by the #connPut that always follows creation.
    c.expires = this.clock.now + NEW_CONN_TIMEOUT_MS;
    if ((f & ConnFlag.ONE_PACKET) === 0) this.#conns.insert(c);
    return c;
  }

  // ip_vs_conn_put: re-arm the timer, or expire a one-packet entry at once.
  #connPut(c: Conn): void {
    if ((c.flags & ConnFlag.ONE_PACKET) !== 0) {
      this.#expire(c, this.clock.now);
      return;
    }
    const deadline = this.clock.now + c.timeoutMs;
    c.expires = deadline;
    if (c.heapIndex < 0 || deadline < c.heapKey) this.#expiry.schedule(c, deadline);
  }

  // ip_vs_conn_expire
  #expire(c: Conn, now: number): void {
    if (c.nControl > 0) {
      // A template that still controls connections is re-armed for 60 s, and its
      // timeout stays 60 s from then on (cp->timeout = 60*HZ in expire_later).
      c.timeoutMs = TEMPLATE_RECHECK_MS;
      c.expires = now + TEMPLATE_RECHECK_MS;
      this.#expiry.schedule(c, c.expires);
      return;
    }
    this.#conns.remove(c);
    this.#expiry.remove(c);
    const ct = c.control;
    if (ct !== null) {
      ct.nControl--;
      c.control = null;
    }
    const dest = c.dest;
    if (dest === null) return;
    // ip_vs_unbind_dest
    if ((c.flags & ConnFlag.TEMPLATE) !== 0) dest.persistConns--;
    else if ((c.flags & ConnFlag.INACTIVE) !== 0) dest.inactConns--;
    else dest.activeConns--;
    const total = dest.activeConns + dest.inactConns;
    if (dest.lThreshold !== 0) {
      if (total < dest.lThreshold) dest.flags &= ~DestFlag.OVERLOAD;
    } else if (dest.uThreshold !== 0) {
      if (total * 4 < dest.uThreshold * 3) dest.flags &= ~DestFlag.OVERLOAD;
    } else {
      dest.flags &= ~DestFlag.OVERLOAD;
    }
    dest.refs--;
    if (dest.refs === 0 && !dest.available) {
      removeItem(dest.svc.trash, dest);
      detachStats(dest.stats);
    }
    // (destStats/svcStats are left for the next reset: they are only read while dest is set)
    c.dest = null;
    this.#freeConns.push(c);
  }

  // ip_vs_set_state → tcp/udp state_transition
  #setState(c: Conn, direction: number, flags: number): void {
    const proto = c.proto;
    if (proto === Protocol.TCP) {
      let dir = direction;
      if ((c.flags & ConnFlag.NOOUTPUT) !== 0) {
        if (dir === TcpDirection.OUTPUT) c.flags &= ~ConnFlag.NOOUTPUT;
        else dir = TcpDirection.INPUT_ONLY;
      }
      const next = nextTcpState(c.state, dir, flags, this.sysctl.secureTcp);
      if (next !== c.state) tcpTransition(c, next);
      c.timeoutMs = this.#tcpTimeouts[next]!;
    } else if (proto === Protocol.UDP) {
      c.timeoutMs = this.#udpTimeoutMs;
    } else if (proto === Protocol.SCTP) {
      c.timeoutMs = this.#sctpTimeoutMs;
    }
  }

  #isNewConnExpected(c: Conn): boolean {
    if (c.proto !== Protocol.TCP) return false;
    return (
      c.state === TcpState.TIME_WAIT ||
      c.state === TcpState.CLOSE ||
      ((this.sysctl.connReuseMode & 2) !== 0 &&
        c.state === TcpState.FIN_WAIT &&
        (c.flags & ConnFlag.NOOUTPUT) !== 0)
    );
  }

  // ip_vs_conn_uses_old_conntrack: lbsim treats every conntrack entry of a
  // connection that has seen a packet as confirmed.
  #usesOldConntrack(c: Conn): boolean {
    return (c.flags & ConnFlag.NFCT) !== 0;
  }

  #find(k: CheckedKey): VirtualService | null {
    const w = this.#scratch;
    if (k.fwmark !== undefined) return this.#services.findFwmark(k.fwmark, w);
    return this.#services.findExact(k.proto, k.addr, k.port, w);
  }

  /** Convenience: classify with a fresh {@link Decision}. Allocates; use {@link Ipvs.classify} in loops. */
  decide(pkt: Packet): Decision {
    return this.classify(pkt, new Decision());
  }
}

type CheckedKey = { proto: number; addr: IPv4; port: Port; fwmark?: undefined } | { fwmark: number };

function removeItem<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

// set_tcp_state's move to a new state: the dest's active/inactive counts follow ESTABLISHED.
function tcpTransition(c: Conn, next: number): void {
  const dest = c.dest;
  if (dest !== null) {
    if ((c.flags & ConnFlag.INACTIVE) === 0 && next !== TcpState.ESTABLISHED) {
      dest.activeConns--;
      dest.inactConns++;
      c.flags |= ConnFlag.INACTIVE;
    } else if ((c.flags & ConnFlag.INACTIVE) !== 0 && next === TcpState.ESTABLISHED) {
      dest.activeConns++;
      dest.inactConns--;
      c.flags &= ~ConnFlag.INACTIVE;
    }
  }
  c.state = next;
}

const EST_IDLE = 0;
const EST_QUEUED = 1;
const EST_DETACHED = 2;

function detachStats(s: IpvsStats): void {
  s.estState = EST_DETACHED;
}

function connStats(dest: Dest, svc: VirtualService, total: IpvsStats): void {
  dest.stats.conns++;
  svc.stats.conns++;
  total.conns++;
}

function zeroService(svc: VirtualService): void {
  svc.stats.zeroCounters();
  for (const d of svc.dests) d.stats.zeroCounters();
}

function findDest(dests: readonly Dest[], addr: IPv4, port: Port): Dest | null {
  for (const d of dests) if (d.addr === addr && d.port === port) return d;
  return null;
}

interface DestSnapshot {
  weight: number;
  lastWeight: number;
  fwd: ForwardMethod;
  flags: number;
  uThreshold: number;
  lThreshold: number;
}

function snapshotDest(d: Dest): DestSnapshot {
  return {
    weight: d.weight,
    lastWeight: d.lastWeight,
    fwd: d.fwd,
    flags: d.flags,
    uThreshold: d.uThreshold,
    lThreshold: d.lThreshold,
  };
}

function restoreDest(d: Dest, s: DestSnapshot): void {
  d.weight = s.weight;
  d.lastWeight = s.lastWeight;
  d.fwd = s.fwd;
  d.flags = s.flags;
  d.uThreshold = s.uThreshold;
  d.lThreshold = s.lThreshold;
}

/** A human-readable service key (`TCP 10.0.0.1:80`, `FWM 7`). */
export function describeKey(k: ServiceKey): string {
  if (k.fwmark !== undefined) return `FWM ${k.fwmark}`;
  return `${protocolName(k.proto)} ${formatIPv4(k.addr)}:${k.port}`;
}

function checkKey(method: string, key: ServiceKey): CheckedKey {
  if (key.fwmark !== undefined) {
    if (!Number.isInteger(key.fwmark) || key.fwmark < 1 || key.fwmark > 0xffffffff) {
      throw new InvalidArgumentError(`${WHERE}.${method}: fwmark must be an integer in [1, 4294967295] (got ${key.fwmark})`);
    }
    return { fwmark: key.fwmark };
  }
  const k = key as { proto: number; addr: IPv4; port: Port };
  if (k.proto !== Protocol.TCP && k.proto !== Protocol.UDP && k.proto !== Protocol.SCTP) {
    throw new InvalidArgumentError(`${WHERE}.${method}: protocol must be TCP (6), UDP (17) or SCTP (132) (got ${k.proto})`);
  }
  checkAddr(method, k.addr);
  checkPortArg(method, k.port);
  return { proto: k.proto, addr: k.addr, port: k.port };
}

function checkAddr(method: string, addr: number): void {
  if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff) {
    throw new InvalidArgumentError(`${WHERE}.${method}: address must be a uint32 (got ${addr})`);
  }
}

function checkPortArg(method: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`${WHERE}.${method}: port must be an integer in [0, 65535] (got ${port})`);
  }
}

interface CheckedServiceOptions {
  scheduler: string;
  persistent: boolean;
  timeoutMs: number;
  netmask: IPv4;
  schedFlags: number;
  onePacket: boolean;
}

function checkServiceOptions(
  method: string,
  o: ServiceOptions,
  current: VirtualService | undefined,
): CheckedServiceOptions {
  const scheduler = o.scheduler ?? current?.scheduler.name ?? 'wlc';
  if (typeof scheduler !== 'string' || scheduler.length === 0) {
    throw new InvalidArgumentError(`${WHERE}.${method}: scheduler must be a non-empty string`);
  }
  const persistent = o.persistent ?? current?.persistent ?? false;
  const timeout = o.timeout ?? (current !== undefined && current.timeoutMs > 0 ? current.timeoutMs / 1000 : DEFAULT_PERSISTENT_TIMEOUT_S);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2147483) {
    throw new InvalidArgumentError(`${WHERE}.${method}: persistence timeout must be an integer number of seconds >= 1 (got ${timeout})`);
  }
  const netmask = o.netmask ?? current?.netmask ?? 0xffffffff;
  checkAddr(method, netmask);
  const schedFlags = o.schedFlags ?? (current !== undefined ? current.flags & SCHED_FLAGS : 0);
  if (!Number.isInteger(schedFlags) || (schedFlags & ~SCHED_FLAGS) !== 0) {
    throw new InvalidArgumentError(`${WHERE}.${method}: schedFlags may only contain SCHED1|SCHED2|SCHED3 (got ${schedFlags})`);
  }
  const onePacket = o.onePacket ?? (current !== undefined && (current.flags & ServiceFlag.ONEPACKET) !== 0);
  return { scheduler, persistent, timeoutMs: timeout * 1000, netmask, schedFlags, onePacket };
}

const FORWARD_METHODS = Object.values(ForwardMethod);
const SCHED_FLAGS = ServiceFlag.SCHED1 | ServiceFlag.SCHED2 | ServiceFlag.SCHED3;

function applyServiceOptions(svc: VirtualService, o: CheckedServiceOptions): void {
  let flags = svc.flags & ServiceFlag.HASHED;
  if (o.persistent) flags |= ServiceFlag.PERSISTENT;
  if (o.onePacket) flags |= ServiceFlag.ONEPACKET;
  flags |= o.schedFlags;
  svc.flags = flags;
  svc.timeoutMs = o.timeoutMs;
  svc.netmask = o.netmask;
}

function checkDestOptions(method: string, o: DestOptions, current: Dest | undefined): Required<DestOptions> {
  const weight = o.weight ?? current?.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
    throw new InvalidArgumentError(`${WHERE}.${method}: weight must be an integer in [0, ${MAX_WEIGHT}] (got ${weight})`);
  }
  const fwd = o.fwd ?? (current !== undefined && current.fwd !== ForwardMethod.LOCAL ? current.fwd : ForwardMethod.DROUTE);
  // Checked at run time too: JavaScript callers can pass anything.
  if (!(FORWARD_METHODS as readonly number[]).includes(fwd)) {
    throw new InvalidArgumentError(`${WHERE}.${method}: unknown forwarding method ${String(fwd)}`);
  }
  const uThreshold = o.uThreshold ?? current?.uThreshold ?? 0;
  const lThreshold = o.lThreshold ?? current?.lThreshold ?? 0;
  for (const [name, v] of [
    ['upper threshold', uThreshold],
    ['lower threshold', lThreshold],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_THRESHOLD) {
      throw new InvalidArgumentError(`${WHERE}.${method}: ${name} must be an integer in [0, ${MAX_THRESHOLD}] (got ${v})`);
    }
  }
  if (lThreshold > uThreshold) {
    throw new OperationError(
      'ERANGE',
      `${WHERE}.${method}: lower threshold ${lThreshold} is above upper threshold ${uThreshold}`,
    );
  }
  return { weight, fwd, uThreshold, lThreshold };
}
