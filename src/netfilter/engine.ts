import { Decision, type PacketClassifier } from '../classify/decision.js';
import type { WorkCounts } from '../classify/work.js';
import type { Packet } from '../net/packet.js';
import { SimClock } from '../sim/clock.js';
import { createRng, type Rng } from '../sim/rng.js';
import type { BuiltinChainName, TableName } from './ast.js';
import { CtStateBit } from './ast.js';
import { compileTable, type CompiledChain, type CompiledRule, type CompiledTable } from './compile.js';
import { Conntrack, type ConntrackOptions } from '../conntrack/conntrack.js';
import { IPS } from '../conntrack/constants.js';
import { createConntrackPort } from '../conntrack/port.js';
import type { ConntrackPort } from './conntrack-port.js';
import { StatefulMatches } from './stateful.js';
import { Host, type HostOptions } from './host.js';
import type { MatchEnv } from './matches/types.js';
import { PacketState } from './packet-state.js';
import { Ruleset, type RestoreOptions } from './ruleset.js';
import { parseRestore } from '../io/iptables/restore.js';
import { printSave, type PrintSaveOptions } from '../io/iptables/save.js';
import { parseIptablesCommand } from '../io/iptables/command.js';
import { traverse, V, type TargetRunner, type TraceEntry } from './traverse.js';

/** A line the `LOG` target would write to the kernel log. */
export interface LogRecord {
  /** Simulated time in ms. */
  readonly time: number;
  readonly prefix: string;
  readonly table: TableName;
  readonly saddr: number;
  readonly daddr: number;
  readonly proto: number;
  readonly sport: number;
  readonly dport: number;
}

/** Options of a {@link Netfilter} engine. */
export interface NetfilterOptions {
  /** Seed for every random draw (statistic, NAT port choice). Ignored when `rng` is given. @defaultValue 0 */
  seed?: number | string;
  /** Random source. */
  rng?: Rng;
  /** Simulated clock (share it with other engines). @defaultValue a new clock */
  clock?: SimClock;
  /** The host: interfaces, local addresses, routes. */
  host?: Host | HostOptions;
  /**
   * Connection tracking: a port over a {@link Conntrack} table, or options for a new table on this
   * engine's clock. @defaultValue a table with the kernel's defaults
   */
  conntrack?: ConntrackPort | Omit<ConntrackOptions, 'clock' | 'rng'>;
  /** Evaluators of `recent`, `set`, `limit` and `nfacct` matches. @defaultValue a new {@link StatefulMatches} on the clock */
  stateful?: StatefulMatches;
  /** Receives `LOG` target records; by default they are kept in {@link Netfilter.log} (last 1000). */
  onLog?: (r: LogRecord) => void;
}

/** A traced packet: the decision and every rule it met, in order. */
export interface TraceResult {
  readonly decision: Decision;
  readonly steps: readonly TraceEntry[];
}

type Stage = TableName | 'conntrack' | 'confirm';

// Hook priorities of IPv4 (include/uapi/linux/netfilter_ipv4.h): raw −300,
// conntrack −200, mangle −150, nat DST −100, filter 0, security 50, nat SRC 100,
// confirm last.
const STAGES: ReadonlyMap<BuiltinChainName, readonly Stage[]> = new Map<BuiltinChainName, readonly Stage[]>([
  ['PREROUTING', ['raw', 'conntrack', 'mangle', 'nat']],
  ['INPUT', ['mangle', 'filter', 'security', 'nat', 'confirm']],
  ['FORWARD', ['mangle', 'filter', 'security']],
  ['OUTPUT', ['raw', 'conntrack', 'mangle', 'nat', 'filter', 'security']],
  ['POSTROUTING', ['mangle', 'nat', 'confirm']],
]);

const LOOPBACK = 1;

/**
 * The iptables/netfilter engine: a host's tables walked rule by rule at each
 * hook, with conntrack deciding which packets see the nat table (only the
 * first of each connection) and replaying NAT for the rest.
 *
 * Packets arrive on an interface (`pkt.ifindex`, 0 = the host's default) or
 * are sent by the host (`pkt.local`). Verdicts: `accepted` (delivered to a
 * local socket), `forwarded` (routed out of the host, possibly rewritten),
 * `dropped`, `rejected`.
 */
export class Netfilter implements PacketClassifier, TargetRunner {
  /** Mode name. */
  readonly mode = 'iptables';
  /** Tables, chains, rules and counters. */
  readonly ruleset: Ruleset;
  /** recent lists, ipsets, limit buckets, nfacct counters. */
  readonly stateful: StatefulMatches;
  /** The host. */
  readonly host: Host;
  /** Simulated clock. */
  readonly clock: SimClock;
  /** Random source. */
  readonly rng: Rng;
  /** Recent `LOG` records when no `onLog` was given. */
  readonly log: LogRecord[] = [];

  readonly #ct: ConntrackPort;
  readonly #env: MatchEnv;
  readonly #onLog: (r: LogRecord) => void;
  readonly #p = new PacketState();
  readonly #stack: CompiledChain[] = [];
  readonly #stackPos = new Int32Array(256);
  #compiled = new Map<TableName, CompiledTable>();
  #compiledVersion = -1;
  #trace: TraceEntry[] | null = null;
  #dropReason: 'table-full' | 'invalid' | null = null;

  /** @param options - see {@link NetfilterOptions} */
  constructor(options: NetfilterOptions = {}) {
    this.rng = options.rng ?? createRng(options.seed ?? 0);
    this.clock = options.clock ?? new SimClock();
    this.host = options.host instanceof Host ? options.host : new Host(options.host);
    const ct = options.conntrack;
    this.#ct =
      ct !== undefined && 'track' in ct
        ? ct
        : createConntrackPort(new Conntrack({ ...ct, clock: this.clock, rng: this.rng.fork() }));
    this.#env = { host: this.host, rng: this.rng };
    this.stateful = options.stateful ?? new StatefulMatches(this.clock);
    const stateful = this.stateful;
    this.ruleset = new Ruleset({
      checkRule: (_table, rule) => {
        stateful.checkRule(rule);
      },
    });
    this.#onLog =
      options.onLog ??
      ((r) => {
        this.log.push(r);
        if (this.log.length > 1000) this.log.shift();
      });
  }

  /** Classifies one packet (see the class description). */
  classify(pkt: Packet, out: Decision): Decision {
    out.begin(pkt);
    this.#ensureCompiled();
    const p = this.#p;
    p.proto = pkt.proto;
    p.saddr = pkt.saddr;
    p.sport = pkt.sport;
    p.daddr = pkt.daddr;
    p.dport = pkt.dport;
    p.flags = pkt.flags;
    p.length = pkt.length;
    p.mark = pkt.mark;
    p.now = this.clock.now;
    p.ct = null;
    p.ctState = 0;
    p.ctDir = 0;
    p.notrack = false;
    p.byPolicy = false;
    p.acceptedByRule = false;
    const work = out.work;
    p.work = work;
    const origDaddr = pkt.daddr;
    const origDport = pkt.dport;
    let v: number;
    let delivered: boolean;
    if (pkt.local) {
      p.inIf = 0;
      p.outIf = this.host.route(p.daddr);
      v = this.#hook('OUTPUT', p, work);
      if (v === V.ACCEPT) {
        p.outIf = this.host.route(p.daddr); // re-route after DNAT (ip_route_me_harder)
        v = this.#hook('POSTROUTING', p, work);
      }
      delivered = p.outIf === LOOPBACK;
      if (v === V.ACCEPT && delivered) {
        // Looped back through lo: PREROUTING (the entry is confirmed, so nat is not consulted) and INPUT.
        p.inIf = LOOPBACK;
        p.outIf = 0;
        v = this.#hook('PREROUTING', p, work);
        if (v === V.ACCEPT) v = this.#hook('INPUT', p, work);
      }
    } else {
      p.inIf = pkt.ifindex === 0 ? this.host.defaultIfindex : pkt.ifindex;
      p.outIf = 0;
      v = this.#hook('PREROUTING', p, work);
      delivered = this.host.isLocal(p.daddr);
      if (v === V.ACCEPT) {
        if (delivered) {
          v = this.#hook('INPUT', p, work);
        } else if (!this.host.ipForward) {
          v = V.DROP;
          p.byPolicy = false;
        } else {
          p.outIf = this.host.route(p.daddr);
          v = this.#hook('FORWARD', p, work);
          if (v === V.ACCEPT) v = this.#hook('POSTROUTING', p, work);
        }
      }
    }
    this.#finish(v, delivered, p, out, origDaddr, origDport);
    return out;
  }

  /**
   * `iptables-restore [--noflush] [--counters]` of a text: each table block is
   * atomic, and a refused line leaves its table unchanged.
   *
   * @throws {ParseError} with the line and column of the first refused line
   */
  restoreText(text: string, options: RestoreOptions = {}): void {
    this.ruleset.restore(parseRestore(text), options);
  }

  /** `iptables-save [-c]`: the current tables as iptables 1.8.9 prints them. */
  saveText(options: PrintSaveOptions = {}): string {
    return printSave(this.ruleset.toSaved(), options);
  }

  /**
   * Runs one `iptables [-t table] -A/-I/-D/-R/-N/-X/-F/-Z/-P/-E ...` command line.
   *
   * @throws {ParseError} for malformed lines; `OperationError` when the kernel refuses the command
   */
  exec(line: string): void {
    const { table, command } = parseIptablesCommand(line);
    this.ruleset.apply(table, command);
  }

  /**
   * Classifies one packet and records every rule it met, like `-j TRACE`.
   * Slower than {@link Netfilter.classify}; the work counts are the same.
   */
  trace(pkt: Packet): TraceResult {
    const steps: TraceEntry[] = [];
    this.#trace = steps;
    try {
      const decision = this.classify(pkt, new Decision());
      return { decision, steps };
    } finally {
      this.#trace = null;
    }
  }

  /** @internal Runs an extension target (the {@link TargetRunner} interface). */
  run(rule: CompiledRule, p: PacketState, table: TableName): number {
    const t = rule.target!;
    switch (t.kind) {
      case 'REJECT':
        return V.REJECT;
      case 'DNAT':
      case 'REDIRECT': {
        const ct = p.ct;
        if (ct === null || !this.#ct.isNew(ct)) return V.ACCEPT;
        if (t.kind === 'DNAT') {
          const r = t.range;
          if (r === null) return V.ACCEPT;
          this.#ct.setupNat(ct, 1, r.minAddr, r.hasPorts ? r.minPort : 0, r.hasPorts ? r.maxPort : 0, t.random);
        } else {
          // REDIRECT: to the primary address of the incoming interface, or 127.0.0.1 for local packets.
          const iface = p.inIf === 0 ? null : this.host.interfaces[p.inIf];
          const to = iface?.addresses[0]?.address ?? 0x7f000001;
          this.#ct.setupNat(ct, 1, to, t.ports?.min ?? 0, t.ports?.max ?? 0, false);
        }
        return V.ACCEPT;
      }
      case 'SNAT':
      case 'MASQUERADE': {
        const ct = p.ct;
        if (ct === null || !this.#ct.isNew(ct)) return V.ACCEPT;
        if (t.kind === 'SNAT') {
          const r = t.range;
          if (r === null) return V.ACCEPT;
          // Current kernels treat --random and --random-fully alike for the port choice.
          this.#ct.setupNat(ct, 0, r.minAddr, r.hasPorts ? r.minPort : 0, r.hasPorts ? r.maxPort : 0, t.random || t.randomFully);
        } else {
          // masquerade_tg: the primary address of the output interface; none → drop.
          const addr = this.host.interfaces[p.outIf]?.addresses[0]?.address;
          if (addr === undefined) return V.DROP;
          this.#ct.setupNat(ct, 0, addr, t.ports?.min ?? 0, t.ports?.max ?? 0, t.random || t.randomFully);
        }
        return V.ACCEPT;
      }
      case 'MARK':
        p.mark = ((p.mark & ~t.mask) ^ t.value) >>> 0;
        return V.CONTINUE;
      case 'CONNMARK': {
        const ct = p.ct;
        if (ct === null) return V.CONTINUE;
        // xt_connmark.c connmark_tg_shift (no shifts)
        if (t.mode === 'set') ct.mark = ((ct.mark & ~t.mask) ^ t.value) >>> 0;
        else if (t.mode === 'save') ct.mark = ((ct.mark & ~t.ctmask) ^ (p.mark & t.nfmask)) >>> 0;
        else p.mark = ((p.mark & ~t.nfmask) ^ (ct.mark & t.ctmask)) >>> 0;
        return V.CONTINUE;
      }
      case 'LOG':
        this.#onLog({
          time: p.now,
          prefix: t.prefix ?? '',
          table,
          saddr: p.saddr,
          daddr: p.daddr,
          proto: p.proto,
          sport: p.sport,
          dport: p.dport,
        });
        return V.CONTINUE;
      case 'NOTRACK':
        p.notrack = true;
        return V.CONTINUE;
      case 'CT':
        if (t.notrack) p.notrack = true;
        return V.CONTINUE;
      default:
        return V.CONTINUE;
    }
  }

  #ensureCompiled(): void {
    if (this.#compiledVersion === this.ruleset.version) return;
    const next = new Map<TableName, CompiledTable>();
    for (const name of ['raw', 'mangle', 'nat', 'filter', 'security'] as const) {
      next.set(name, compileTable(this.ruleset.table(name), this.host, this.#env, this.stateful));
    }
    this.stateful.commit();
    this.#compiled = next;
    this.#compiledVersion = this.ruleset.version;
  }

  #hook(hook: BuiltinChainName, p: PacketState, work: WorkCounts): number {
    p.hook = hook;
    const stages = STAGES.get(hook)!;
    for (const stage of stages) {
      let v: number;
      if (stage === 'conntrack') {
        if (p.notrack) {
          p.ctState = CtStateBit.UNTRACKED;
        } else if (p.ct === null && !this.#ct.track(p, work)) {
          // nf_conntrack: table full, dropping packet
          p.byPolicy = false;
          this.#dropReason = 'table-full';
          return V.DROP;
        }
        continue;
      }
      if (stage === 'confirm') {
        if (p.ct !== null && !this.#ct.confirm(p.ct, work)) {
          p.byPolicy = false;
          this.#dropReason = 'invalid';
          return V.DROP;
        }
        continue;
      }
      if (stage === 'nat') {
        v = this.#nat(hook, p, work);
      } else {
        const chain = this.#compiled.get(stage)!.get(hook);
        if (chain === undefined) continue;
        v = traverse(chain, p, work, this.#trace, this, this.#stack, this.#stackPos);
      }
      if (v !== V.ACCEPT) return v;
    }
    return V.ACCEPT;
  }


  // nf_nat_inet_fn: the nat table is walked only for a connection's first
  // packet while its binding for this manip type is not set up; afterwards the
  // stored binding is applied to every packet of the connection.
  #nat(hook: BuiltinChainName, p: PacketState, work: WorkCounts): number {
    const ct = p.ct;
    if (ct === null) return V.ACCEPT;
    const manip: 0 | 1 = hook === 'PREROUTING' || hook === 'OUTPUT' ? 1 : 0;
    if (this.#ct.isNew(ct) && !this.#ct.natInitialized(ct, manip)) {
      const chain = this.#compiled.get('nat')!.get(hook);
      if (chain !== undefined) {
        const v = traverse(chain, p, work, this.#trace, this, this.#stack, this.#stackPos);
        if (v !== V.ACCEPT) return v;
      }
      if (!this.#ct.natInitialized(ct, manip)) this.#ct.allocNullBinding(ct, manip);
    }
    this.#ct.applyNat(ct, manip, p);
    return V.ACCEPT;
  }

  #finish(v: number, delivered: boolean, p: PacketState, out: Decision, origDaddr: number, origDport: number): void {
    out.saddr = p.saddr;
    out.sport = p.sport;
    out.daddr = p.daddr;
    out.dport = p.dport;
    out.direction = p.ctDir === 1 ? 'reply' : 'original';
    out.newConnection = p.ct !== null && p.ctState === CtStateBit.NEW;
    const ct = p.ct;
    if (p.ctDir === 1) {
      // A reply's backend is where its connection was DNATed to (the reply tuple's source), as IPVS
      // reports the real server for a reply; un-masquerading its destination chooses nothing.
      if (ct !== null && (ct.status & IPS.DST_NAT) !== 0) {
        out.hasBackend = true;
        out.backendAddr = ct.replySrc;
        out.backendPort = ct.replySport;
      }
    } else if (p.daddr !== origDaddr || p.dport !== origDport) {
      out.hasBackend = true;
      out.backendAddr = p.daddr;
      out.backendPort = p.dport;
    }
    if (v === V.ACCEPT) {
      out.verdict = delivered ? 'accepted' : 'forwarded';
      out.reason = p.acceptedByRule ? 'rule' : 'policy';
    } else if (v === V.REJECT) {
      out.verdict = 'rejected';
      out.reason = 'rule';
    } else {
      out.verdict = 'dropped';
      out.reason = this.#dropReason ?? (p.byPolicy ? 'policy' : 'rule');
    }
    // A packet dropped before its entry was confirmed frees that entry.
    if (v !== V.ACCEPT && p.ct !== null && this.#ct.isNew(p.ct)) this.#ct.release();
    this.#dropReason = null;
  }
}
