import { Heap } from 'mnemonist';
import { Decision, type PacketClassifier, type Verdict } from '../classify/decision.js';
import { WorkCounts, type WorkCountsSnapshot } from '../classify/work.js';
import { InvalidArgumentError } from '../errors.js';
import { formatIPv4, type IPv4 } from '../net/ipv4.js';
import { Packet } from '../net/packet.js';
import type { Port } from '../net/port.js';
import { Protocol } from '../net/protocol.js';
import { TcpFlag } from '../net/tcp-flags.js';
import { SimClock } from '../sim/clock.js';
import { createRng, type Rng } from '../sim/rng.js';
import { expandChurn, type ChurnAction, type ChurnEvent, type EndpointOps } from './churn.js';
import { ClientPool, type ClientOptions } from './clients.js';
import { compileDuration, sampleExponential, type DurationSampler, type DurationSpec } from './distributions.js';

// ------------------------------------------------------------------ packet kinds

/**
 * The kinds of packet a workload sends, by role in the connection. Client
 * packets go client → service address; `*-reply` packets go backend →
 * the connection's source as the backend sees it: the client, or the
 * node's address when iptables mode masqueraded the connection (sent only
 * with {@link WorkloadOptions.replies}).
 *
 * | kind | direction | TCP flags |
 * |---|---|---|
 * | `SYN` | client | SYN (also its retransmissions) |
 * | `SYN_ACK` | reply | SYN,ACK |
 * | `ACK` | client | ACK (third packet of the handshake) |
 * | `DATA` / `DATA_REPLY` | client / reply | ACK,PSH |
 * | `FIN` / `FIN_REPLY` | client / reply | FIN,ACK |
 * | `FINAL_ACK` / `FINAL_ACK_REPLY` | client / reply | ACK (acknowledges the peer's FIN) |
 * | `RST` / `RST_REPLY` | client / reply | RST,ACK |
 * | `DATAGRAM` / `DATAGRAM_REPLY` | client / reply | none (UDP) |
 */
export const PacketKind = {
  SYN: 0,
  SYN_ACK: 1,
  ACK: 2,
  DATA: 3,
  DATA_REPLY: 4,
  FIN: 5,
  FIN_REPLY: 6,
  FINAL_ACK: 7,
  FINAL_ACK_REPLY: 8,
  RST: 9,
  RST_REPLY: 10,
  DATAGRAM: 11,
  DATAGRAM_REPLY: 12,
} as const;

/** A {@link PacketKind} value. */
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

/** Names of the {@link PacketKind}s, indexed by value (as they appear in results). */
export const PACKET_KIND_NAMES = [
  'syn',
  'syn-ack',
  'ack',
  'data',
  'data-reply',
  'fin',
  'fin-reply',
  'final-ack',
  'final-ack-reply',
  'rst',
  'rst-reply',
  'datagram',
  'datagram-reply',
] as const;

/** A name from {@link PACKET_KIND_NAMES}. */
export type PacketKindName = (typeof PACKET_KIND_NAMES)[number];

const { SYN, ACK, PSH, FIN, RST } = TcpFlag;

/** TCP flags of each packet kind (index = {@link PacketKind}). */
export const PACKET_KIND_FLAGS: readonly number[] = Object.freeze([
  SYN,
  SYN | ACK,
  ACK,
  ACK | PSH,
  ACK | PSH,
  FIN | ACK,
  FIN | ACK,
  ACK,
  ACK,
  RST | ACK,
  RST | ACK,
  0,
  0,
]);

/** Whether each packet kind travels backend → client (index = {@link PacketKind}). */
export const PACKET_KIND_IS_REPLY: readonly boolean[] = Object.freeze([
  false,
  true,
  false,
  false,
  true,
  false,
  true,
  false,
  true,
  false,
  true,
  false,
  true,
]);

const KIND_COUNT = PACKET_KIND_NAMES.length;

// IP + TCP header bytes as Linux sends them with the default options: a SYN
// or SYN-ACK carries MSS, SACK-permitted, timestamps and window scale
// (20 + 40), every later segment the 12-byte aligned timestamp option
// (20 + 32). UDP: 20 + 8.
const TCP_SYN_HEADERS = 60;
const TCP_HEADERS = 52;
const UDP_HEADERS = 28;
const MAX_PAYLOAD = 65535 - TCP_HEADERS;

/** `TCP_TIMEOUT_INIT`: the first SYN retransmission comes 1 s after the SYN (torvalds/linux include/net/tcp.h). */
export const TCP_TIMEOUT_INIT_MS = 1000;
/** `TCP_RTO_MAX`: retransmission timeouts double up to 120 s (torvalds/linux include/net/tcp.h). */
export const TCP_RTO_MAX_MS = 120_000;
/** `TCP_SYN_RETRIES`: Linux's default `net.ipv4.tcp_syn_retries` (torvalds/linux include/net/tcp.h). */
export const LINUX_TCP_SYN_RETRIES = 6;
/** `MAX_TCP_SYNCNT`: the largest `tcp_syn_retries` Linux accepts. */
const MAX_SYN_RETRIES = 127;

// ---------------------------------------------------------------------- options

/** Where connections go: a service address as clients see it. */
export interface WorkloadTarget {
  /** {@link Protocol.TCP} or {@link Protocol.UDP}. */
  readonly proto: number;
  /** Destination address (the VIP / ClusterIP). */
  readonly addr: IPv4;
  /** Destination port, 1..65535. */
  readonly port: Port;
  /** skb mark of client packets (for fwmark services). @defaultValue 0 */
  readonly mark?: number;
  /** Ingress interface number of client packets (iptables modes). @defaultValue 0 */
  readonly ifindex?: number;
  /** Whether client packets are sent by the host itself (OUTPUT path; iptables modes). @defaultValue false */
  readonly local?: boolean;
  /** Ingress interface number of reply packets. @defaultValue 0 */
  readonly replyIfindex?: number;
}

/**
 * How connections arrive.
 *
 * - `poisson` (open loop): arrivals form a Poisson process of
 *   `ratePerSecond`, independent of how the system copes. Inter-arrival gaps
 *   are exponential draws added up **exactly** (as floats); each arrival
 *   fires at the whole millisecond its exact time falls in (`floor`). So the
 *   number of arrivals in any window of whole milliseconds is exactly
 *   Poisson-distributed, and several arrivals can share one millisecond.
 *   Arrivals stop at {@link WorkloadOptions.endMs}.
 * - `closed` (like wrk): `concurrency` workers each keep one connection
 *   open; when it ends (completed, failed or disrupted) the worker waits
 *   `thinkTime` and opens the next one. So exactly `concurrency` connections
 *   are in flight except during think times. To keep simulated time moving
 *   when connections take no time at all (rtt 0, duration 0, or instant
 *   failures), a worker never starts two connections in the same
 *   millisecond: the next start is `max(end + think, previousStart + 1)`.
 *   All workers start at time 0; none starts at or after `endMs`.
 */
export type ArrivalSpec =
  | { readonly kind: 'poisson'; readonly ratePerSecond: number }
  | { readonly kind: 'closed'; readonly concurrency: number; readonly thinkTime?: DurationSpec };

/**
 * How a TCP connection closes, at `established + duration`:
 *
 * - `client-fin`: client FIN,ACK; server FIN,ACK (reply); one RTT later the
 *   client's final ACK.
 * - `server-fin`: server FIN,ACK (reply); one RTT later the client's FIN,ACK
 *   and the server's final ACK (reply).
 * - `client-rst`: client RST,ACK (an abortive close, as `SO_LINGER` 0).
 * - `server-rst`: server RST,ACK (reply). Without replies the classifier sees
 *   nothing of this close.
 */
export type CloseKind = 'client-fin' | 'server-fin' | 'client-rst' | 'server-rst';

/** A weighted mix of close kinds (weights ≥ 0, at least one > 0), drawn per connection. */
export type CloseMix = { readonly [K in CloseKind]?: number };

/** Options of a {@link WorkloadDriver}. Times are in ms after the driver's start (the clock's time at construction). */
export interface WorkloadOptions {
  /** Seed of every random choice of the workload. @defaultValue 0 */
  readonly seed?: number | string;
  /**
   * The simulated clock to advance. It must be the one the classifier's
   * timers run on.
   * @defaultValue the classifier's `clock` property when it is a {@link SimClock} (as `Ipvs`'s is), else a new clock
   */
  readonly clock?: SimClock;
  /** New connections start only before this time (ms after the start). */
  readonly endMs: number;
  /**
   * Whether {@link WorkloadDriver.run} lets connections open at `endMs`
   * finish (their packets keep coming after `endMs`), or stops at `endMs`
   * and reports them as in flight.
   * @defaultValue true
   */
  readonly drain?: boolean;
  /** The service address(es); with several, each connection picks one uniformly. */
  readonly target: WorkloadTarget | readonly WorkloadTarget[];
  /** The client hosts. @defaultValue one client at 192.168.0.0 */
  readonly clients?: ClientOptions;
  /** How connections arrive. */
  readonly arrivals: ArrivalSpec;
  /**
   * How long a connection stays established: from the handshake's last ACK
   * to the close for TCP; from the first datagram to the socket's close for UDP.
   * @defaultValue `{ kind: 'exponential', meanMs: 1000 }`
   */
  readonly connectionDuration?: DurationSpec;
  /**
   * Client data packets (ACK,PSH; UDP datagrams) per second while the
   * connection is established. Packet `k` (from 0) goes at
   * `established + floor(k · 1000 / rate)` ms while that is before the
   * close, so the rate is exact on average and several packets may share a
   * millisecond above 1000/s. A UDP flow always sends its first datagram.
   * 0 sends none (beyond that first datagram).
   * @defaultValue 10
   */
  readonly dataRatePerSecond?: number;
  /**
   * Whether the backend's replies (SYN-ACK, one response per data packet,
   * FIN/RST from the server, final ACK) are pushed through the classifier,
   * addressed from the backend the first packet's {@link Decision} named.
   * NAT modes route replies through the balancer; with direct routing the
   * balancer never sees them.
   * @defaultValue false
   */
  readonly replies?: boolean;
  /**
   * Round-trip time between client and balancer, integer ms. The balancer is
   * taken to sit next to the backends: a reply leaves right after the
   * packet it answers, and the client's next packet of the exchange arrives
   * one RTT later (handshake ACK, the second half of a close).
   * @defaultValue 1
   */
  readonly rttMs?: number;
  /** How TCP connections close. @defaultValue `'client-fin'` */
  readonly close?: CloseKind | CloseMix;
  /**
   * SYN retransmissions before `connect()` gives up when the first SYN is
   * dropped (`net.ipv4.tcp_syn_retries`; Linux's default is
   * {@link LINUX_TCP_SYN_RETRIES}). Retransmissions come after 1 s, 2 s,
   * 4 s, … (`TCP_TIMEOUT_INIT` doubling up to `TCP_RTO_MAX`), and the
   * connection fails one more timeout after the last one. A rejected SYN
   * (ICMP port unreachable, RST) fails at once, as the kernel's
   * `tcp_v4_err` aborts a connecting socket on a hard error.
   * @defaultValue 0 (a dropped SYN fails the connection, after 1 s)
   */
  readonly synRetries?: number;
  /** Payload bytes of each client data packet / datagram. @defaultValue 100 */
  readonly requestBytes?: number;
  /** Payload bytes of each reply data packet / datagram. @defaultValue 1000 */
  readonly responseBytes?: number;
  /** Callbacks that apply endpoint churn to the mode under test (required when `churn` is not empty). */
  readonly endpoints?: EndpointOps;
  /**
   * Churn on the same timeline. Actions at a time run before any packet of
   * that millisecond; actions after `endMs` are not run.
   * @defaultValue none
   */
  readonly churn?: readonly ChurnEvent[];
  /**
   * Called after every packet is classified, with a reused record (copy
   * what you keep). For tests and traces; it costs one call per packet.
   */
  readonly onPacket?: (trace: PacketTrace) => void;
  /**
   * Called when a connection ends (or fails to start), with a reused record
   * (copy what you keep).
   */
  readonly onConnectionEnd?: (trace: ConnectionTrace) => void;
}

/**
 * One classified packet, as passed to {@link WorkloadOptions.onPacket}. The
 * driver reuses this record, its packet and its decision for every packet.
 */
export class PacketTrace {
  /** Packet kind. */
  kind: PacketKind = PacketKind.SYN;
  /** Serial number of the connection (0, 1, 2, … in order of start). */
  connection = 0;
  /** Client number (index into the client pool). */
  client = 0;
  /** Absolute clock time (ms). */
  timeMs = 0;
  /** The packet as sent. */
  packet: Packet;
  /** The classifier's decision. */
  decision: Decision;

  /**
   * @param packet - the driver's reusable packet
   * @param decision - the driver's reusable decision
   */
  constructor(packet: Packet, decision: Decision) {
    this.packet = packet;
    this.decision = decision;
  }

  /** The kind's name. */
  get kindName(): PacketKindName {
    return PACKET_KIND_NAMES[this.kind];
  }
}

/** How a connection ended. See {@link ConnectionStats} for the meaning of each. */
export type ConnectionOutcome = 'completed' | 'failed' | 'disrupted' | 'port-exhausted';

/**
 * One finished connection, as passed to {@link WorkloadOptions.onConnectionEnd}.
 * The driver reuses this record.
 */
export class ConnectionTrace {
  /** Serial number of the connection (0, 1, 2, … in order of start). */
  connection = 0;
  /** Client number. */
  client = 0;
  /** Client address. */
  clientAddr: IPv4 = 0;
  /** Source port it used (-1 when it got none). */
  sport = -1;
  /** Protocol. */
  proto = 0;
  /** Destination address (the target's). */
  daddr: IPv4 = 0;
  /** Destination port. */
  dport: Port = 0;
  /** How it ended. */
  outcome: ConnectionOutcome = 'completed';
  /** For `failed`: the first packet's last verdict; otherwise `null`. */
  failedVerdict: Verdict | null = null;
  /** Absolute clock time of its start (first SYN or datagram). */
  startMs = 0;
  /** Absolute clock time of its end. */
  endMs = 0;
  /** Whether a backend was named for it. */
  hasBackend = false;
  /** The backend's address (when `hasBackend`). */
  backendAddr: IPv4 = 0;
  /** The backend's port (when `hasBackend`). */
  backendPort: Port = 0;
  /** SYN retransmissions it sent. */
  synRetransmits = 0;
}

// ---------------------------------------------------------------------- results

/** Packets by verdict. */
export interface VerdictCounts {
  /** Sent on to a backend. */
  readonly forwarded: number;
  /** Passed on untouched by the balancer. */
  readonly accepted: number;
  /** Silently discarded. */
  readonly dropped: number;
  /** Discarded with an error back to the sender. */
  readonly rejected: number;
}

/** One packet kind's share of the traffic. */
export interface PacketKindStats {
  /** The kind. */
  readonly kind: PacketKindName;
  /** Packets of this kind. */
  readonly packets: number;
  /** Their verdicts. */
  readonly verdicts: VerdictCounts;
  /** Their summed {@link Decision.work}. */
  readonly work: WorkCountsSnapshot;
}

/** What happened at one backend. */
export interface BackendStats {
  /** Address, dotted quad. */
  readonly addr: string;
  /** Port. */
  readonly port: Port;
  /** Workload connections whose first packet was forwarded here. */
  readonly connections: number;
  /** Of those, how many the classifier reported as new (a scheduling decision rather than a reused entry). */
  readonly newConnections: number;
  /** Forwarded packets (both directions) whose decision named this backend. */
  readonly packets: number;
}

/** Connection outcomes. `attempted = portExhausted + failed + completed + disrupted + inFlight`. */
export interface ConnectionStats {
  /** Connections the workload tried to open. */
  readonly attempted: number;
  /** Ran their whole packet sequence with every packet forwarded (or accepted). */
  readonly completed: number;
  /** Their first packet (after any SYN retransmissions) was not forwarded. */
  readonly failed: number;
  /** Failures by the first packet's final verdict. */
  readonly failedByVerdict: { readonly accepted: number; readonly dropped: number; readonly rejected: number };
  /** Got going, then a later packet was dropped or rejected; the client gave up on it there. */
  readonly disrupted: number;
  /** `connect()` found no free ephemeral port (`EADDRNOTAVAIL`); nothing was sent. */
  readonly portExhausted: number;
  /** Open when the result was taken. */
  readonly inFlight: number;
  /** Most connections open at once. */
  readonly maxInFlight: number;
  /** SYN retransmissions sent. */
  readonly synRetransmits: number;
  /** Longest time from a connection's first SYN to the SYN that got through (ms). */
  readonly maxConnectDelayMs: number;
}

/** Everything a run measured; plain data, `JSON.stringify`-stable for a given seed and configuration. */
export interface WorkloadResult {
  /** The classifier's mode. */
  readonly mode: string;
  /** Absolute clock time the driver started at. */
  readonly startMs: number;
  /** Absolute clock time when the result was taken. */
  readonly clockMs: number;
  /** Connection outcomes. */
  readonly connections: ConnectionStats;
  /** Packet totals. */
  readonly packets: {
    /** Packets classified. */
    readonly total: number;
    /** By verdict. */
    readonly verdicts: VerdictCounts;
    /** By decision reason, sorted by reason. */
    readonly reasons: readonly { readonly reason: string; readonly count: number }[];
    /** Summed {@link Decision.work} of every packet. */
    readonly work: WorkCountsSnapshot;
    /** Per packet kind, in {@link PacketKind} order (every kind listed). */
    readonly byKind: readonly PacketKindStats[];
  };
  /** Per backend, sorted by address then port. */
  readonly backends: readonly BackendStats[];
  /** Churn actions run and dropped (scheduled after `endMs`). */
  readonly churn: { readonly executed: number; readonly skipped: number };
}

// ----------------------------------------------------------------- internals

const V_FORWARDED = 0;
const V_ACCEPTED = 1;
const V_DROPPED = 2;
const V_REJECTED = 3;

function verdictCode(v: Verdict): number {
  switch (v) {
    case 'forwarded':
      return V_FORWARDED;
    case 'accepted':
      return V_ACCEPTED;
    case 'dropped':
      return V_DROPPED;
    case 'rejected':
      return V_REJECTED;
  }
}

const EV_FLOW = 0;
const EV_ARRIVAL = 1;
const EV_CHURN = 2;

// Flow steps.
const S_START = 0;
const S_SYN = 1;
const S_SYN_TIMEOUT = 2;
const S_ACK = 3;
const S_DATA = 4;
const S_CLOSE = 5;
const S_CLOSE2 = 6;
const S_DGRAM = 7;
const S_UDP_END = 8;

const C_CLIENT_FIN = 0;
const C_SERVER_FIN = 1;
const C_CLIENT_RST = 2;
const C_SERVER_RST = 3;
const CLOSE_KINDS: readonly CloseKind[] = ['client-fin', 'server-fin', 'client-rst', 'server-rst'];

// Outcomes.
const O_COMPLETED = 0;
const O_FAILED = 1;
const O_DISRUPTED = 2;
const O_NO_PORT = 3;
const OUTCOME_NAMES: readonly ConnectionOutcome[] = ['completed', 'failed', 'disrupted', 'port-exhausted'];
const VERDICT_NAMES: readonly Verdict[] = ['forwarded', 'accepted', 'dropped', 'rejected'];

interface ResolvedTarget {
  readonly proto: number;
  readonly addr: IPv4;
  readonly port: Port;
  readonly mark: number;
  readonly ifindex: number;
  readonly local: boolean;
  readonly replyIfindex: number;
}

interface Timed {
  time: number;
  /** 0 for churn (runs first at equal times), 1 otherwise. */
  prio: number;
  /** Scheduling order, the final tie-break: equal times run first come, first served. */
  seq: number;
}

/** One connection (reused, and for closed loops bound to one worker). */
class Flow implements Timed {
  readonly ev = EV_FLOW;
  time = 0;
  prio = 1;
  seq = 0;
  step = S_START;
  readonly worker: number;
  serial = 0;
  client = 0;
  /** The client's address (copied here so the packet loop reads a field, not an array). */
  saddr: IPv4 = 0;
  target: ResolvedTarget;
  sport = -1;
  hasBackend = false;
  backendAddr: IPv4 = 0;
  backendPort: Port = 0;
  /**
   * Where the backend's replies go: the connection's source as it left the
   * balancer — the client, or the node's address when iptables mode
   * masqueraded it (kube-proxy's KUBE-MARK-MASQ); conntrack turns it back.
   */
  replyAddr: IPv4 = 0;
  replyPort: Port = 0;
  /** Tally of the backend (cached so that per-packet accounting needs no map lookup). */
  tally: BackendTally | null = null;
  tFirst = 0;
  tEst = 0;
  dur = 0;
  tClose = 0;
  k = 0;
  rto = 0;
  attempts = 0;
  close = C_CLIENT_FIN;

  constructor(worker: number, target: ResolvedTarget) {
    this.worker = worker;
    this.target = target;
  }
}

class Arrival implements Timed {
  readonly ev = EV_ARRIVAL;
  time = 0;
  prio = 1;
  seq = 0;
}

class ChurnItem implements Timed {
  readonly ev = EV_CHURN;
  time: number;
  prio = 0;
  seq = 0;
  readonly action: ChurnAction;

  constructor(time: number, action: ChurnAction) {
    this.time = time;
    this.action = action;
  }
}

type Scheduled = Flow | Arrival | ChurnItem;

class BackendTally {
  connections = 0;
  newConnections = 0;
  packets = 0;
  readonly addr: IPv4;
  readonly port: Port;

  constructor(addr: IPv4, port: Port) {
    this.addr = addr;
    this.port = port;
  }
}

const WHERE = 'lbsim/workload.WorkloadDriver';

function fail(method: string, message: string): never {
  throw new InvalidArgumentError(`${WHERE}.${method}: ${message}`);
}

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) fail('constructor', `${name} must be an integer in [${lo}, ${hi}] (got ${v})`);
  return v;
}

function resolveTarget(t: WorkloadTarget, i: number): ResolvedTarget {
  const name = `target[${i}]`;
  if (t.proto !== Protocol.TCP && t.proto !== Protocol.UDP) {
    fail('constructor', `${name}.proto must be TCP (6) or UDP (17) (got ${t.proto})`);
  }
  checkInt(`${name}.addr`, t.addr, 0, 0xffffffff);
  checkInt(`${name}.port`, t.port, 1, 65535);
  return {
    proto: t.proto,
    addr: t.addr,
    port: t.port,
    mark: checkInt(`${name}.mark`, t.mark ?? 0, 0, 0xffffffff),
    ifindex: checkInt(`${name}.ifindex`, t.ifindex ?? 0, 0, 0x7fffffff),
    local: t.local ?? false,
    replyIfindex: checkInt(`${name}.replyIfindex`, t.replyIfindex ?? 0, 0, 0x7fffffff),
  };
}

function isTargetList(t: WorkloadTarget | readonly WorkloadTarget[]): t is readonly WorkloadTarget[] {
  return Array.isArray(t);
}

function compareTimed(a: Timed, b: Timed): number {
  return a.time - b.time || a.prio - b.prio || a.seq - b.seq;
}

// ------------------------------------------------------------------- driver

/**
 * Drives any {@link PacketClassifier} with a generated workload on simulated
 * time: seeded clients with Linux-like ephemeral ports, Poisson or closed-loop
 * connection arrivals, TCP connections (handshake, data, FIN or RST close,
 * optional replies, SYN retransmission) and UDP flows, and endpoint churn,
 * all merged in time order in one min-heap of scheduled events. Before each
 * event the clock is advanced to its time (running the classifier's
 * timers), so connection-table expiry and the like happen as they would.
 *
 * The inner loop reuses one {@link Packet} and one {@link Decision}, and
 * connection records are pooled: beyond the heap's own array, a steady run
 * allocates nothing per packet.
 *
 * Deterministic: the same seed, configuration and classifier state give
 * byte-identical {@link WorkloadResult}s. Every random choice comes from
 * streams forked off `createRng(seed)` in a fixed order (arrivals, client
 * addresses, client choice, ports, targets, durations, think times, close
 * kinds), so changing one option does not reshuffle unrelated choices.
 *
 * ```ts
 * const ipvs = new Ipvs({ seed: 1 });
 * ipvs.addService(svc, { scheduler: 'rr' });
 * const eps = new IpvsEndpointAdapter(ipvs, svc);
 * for (const ep of backends) eps.addEndpoint(ep, 0);
 * const result = new WorkloadDriver(ipvs, {
 *   target: svc, endMs: 60_000, arrivals: { kind: 'poisson', ratePerSecond: 200 },
 *   clients: { count: 50 }, endpoints: eps,
 *   churn: [{ kind: 'rolling-update', atMs: 10_000, stepMs: 5_000, replacements }],
 * }).run();
 * ```
 */
export class WorkloadDriver {
  /** The classifier under test. */
  readonly classifier: PacketClassifier;
  /** The simulated clock. */
  readonly clock: SimClock;
  /** The client hosts. */
  readonly clients: ClientPool;
  /** Absolute clock time at construction; option times count from here. */
  readonly startMs: number;

  readonly #heap = new Heap<Scheduled>(compareTimed);
  readonly #pkt = new Packet();
  readonly #decision = new Decision();
  readonly #trace: PacketTrace;
  readonly #onPacket: ((trace: PacketTrace) => void) | null;
  readonly #onEnd: ((trace: ConnectionTrace) => void) | null;
  readonly #endTrace = new ConnectionTrace();
  readonly #targets: readonly ResolvedTarget[];
  readonly #endAbs: number;
  readonly #drain: boolean;
  readonly #replies: boolean;
  readonly #rtt: number;
  readonly #dataRate: number;
  readonly #synRetries: number;
  readonly #lengths: number[];
  readonly #duration: DurationSampler;
  readonly #think: DurationSampler | null;
  readonly #closeCum: number[];
  readonly #closeFixed: number;
  readonly #endpoints: EndpointOps | null;
  readonly #arrivalMeanMs: number;
  readonly #rngArrivals: Rng;
  readonly #rngTargets: Rng;
  readonly #rngDuration: Rng;
  readonly #rngThink: Rng;
  readonly #rngClose: Rng;
  readonly #free: Flow[] = [];
  #arrivalExact = 0;
  #seq = 0;
  #serial = 0;

  // tallies
  #attempted = 0;
  #completed = 0;
  #failed = 0;
  readonly #failedBy = [0, 0, 0, 0];
  #disrupted = 0;
  #portExhausted = 0;
  #inFlight = 0;
  #maxInFlight = 0;
  #synRetransmits = 0;
  #maxConnectDelay = 0;
  #packets = 0;
  readonly #verdicts = [0, 0, 0, 0];
  readonly #kindPackets: number[] = new Array<number>(KIND_COUNT).fill(0);
  readonly #kindVerdicts: number[] = new Array<number>(KIND_COUNT * 4).fill(0);
  readonly #kindWork: WorkCounts[] = [];
  readonly #work = new WorkCounts();
  readonly #reasons = new Map<string, number>();
  readonly #backends = new Map<number, BackendTally>();
  #churnExecuted = 0;
  readonly #churnSkipped: number;

  /**
   * @param classifier - the mode under test
   * @param options - see {@link WorkloadOptions}
   * @throws {InvalidArgumentError} for invalid options
   * @throws {ParseError} for a malformed client CIDR
   */
  constructor(classifier: PacketClassifier, options: WorkloadOptions) {
    this.classifier = classifier;
    const own = (classifier as { clock?: unknown }).clock;
    this.clock = options.clock ?? (own instanceof SimClock ? own : new SimClock());
    this.startMs = this.clock.now;

    const root = createRng(options.seed ?? 0);
    this.#rngArrivals = root.fork();
    const rngAddresses = root.fork();
    const rngChoice = root.fork();
    const rngPorts = root.fork();
    this.#rngTargets = root.fork();
    this.#rngDuration = root.fork();
    this.#rngThink = root.fork();
    this.#rngClose = root.fork();

    const endMs = checkInt('endMs', options.endMs, 0, Number.MAX_SAFE_INTEGER - this.startMs);
    this.#endAbs = this.startMs + endMs;
    this.#drain = options.drain ?? true;
    const targets = isTargetList(options.target) ? options.target : [options.target];
    if (targets.length === 0) fail('constructor', 'target must name at least one service address');
    this.#targets = targets.map(resolveTarget);
    const seen = new Set<number>();
    for (const t of this.#targets) {
      const key = (t.proto === Protocol.TCP ? 0 : 2 ** 48) + t.addr * 65536 + t.port;
      if (seen.has(key)) fail('constructor', 'targets must be distinct (proto, addr, port) tuples');
      seen.add(key);
    }
    this.clients = new ClientPool(options.clients ?? {}, rngAddresses, rngChoice, rngPorts);
    this.#replies = options.replies ?? false;
    this.#rtt = checkInt('rttMs', options.rttMs ?? 1, 0, 2 ** 31);
    const rate = options.dataRatePerSecond ?? 10;
    if (!(Number.isFinite(rate) && rate >= 0)) fail('constructor', `dataRatePerSecond must be a finite number >= 0 (got ${rate})`);
    this.#dataRate = rate;
    this.#synRetries = checkInt('synRetries', options.synRetries ?? 0, 0, MAX_SYN_RETRIES);
    const req = checkInt('requestBytes', options.requestBytes ?? 100, 0, MAX_PAYLOAD);
    const resp = checkInt('responseBytes', options.responseBytes ?? 1000, 0, MAX_PAYLOAD);
    this.#lengths = [
      TCP_SYN_HEADERS,
      TCP_SYN_HEADERS,
      TCP_HEADERS,
      TCP_HEADERS + req,
      TCP_HEADERS + resp,
      TCP_HEADERS,
      TCP_HEADERS,
      TCP_HEADERS,
      TCP_HEADERS,
      TCP_HEADERS,
      TCP_HEADERS,
      UDP_HEADERS + req,
      UDP_HEADERS + resp,
    ];
    this.#duration = compileDuration(
      'workload.WorkloadDriver.constructor',
      'connectionDuration',
      options.connectionDuration ?? { kind: 'exponential', meanMs: 1000 },
    );
    const { cum, fixed } = resolveClose(options.close ?? 'client-fin');
    this.#closeCum = cum;
    this.#closeFixed = fixed;
    for (let k = 0; k < KIND_COUNT; k++) this.#kindWork.push(new WorkCounts());
    this.#trace = new PacketTrace(this.#pkt, this.#decision);
    this.#onPacket = options.onPacket ?? null;
    this.#onEnd = options.onConnectionEnd ?? null;

    // Arrivals.
    const arr = options.arrivals;
    this.#think = null;
    this.#arrivalMeanMs = 0;
    if (arr.kind === 'poisson') {
      const r = arr.ratePerSecond;
      if (!(Number.isFinite(r) && r > 0)) fail('constructor', `arrivals.ratePerSecond must be a finite number > 0 (got ${r})`);
      this.#arrivalMeanMs = 1000 / r;
      this.#scheduleArrival(new Arrival());
    } else if ((arr as { kind: string }).kind === 'closed') {
      const n = checkInt('arrivals.concurrency', arr.concurrency, 1, 0x7fffffff);
      this.#think = compileDuration('workload.WorkloadDriver.constructor', 'arrivals.thinkTime', arr.thinkTime ?? 0);
      if (this.startMs < this.#endAbs) {
        for (let w = 0; w < n; w++) {
          const f = new Flow(w, this.#targets[0]!);
          f.step = S_START;
          f.time = this.startMs;
          this.#push(f);
        }
      }
    } else {
      fail('constructor', `arrivals.kind must be 'poisson' or 'closed' (got ${JSON.stringify((arr as { kind: unknown }).kind)})`);
    }

    // Churn.
    const actions = expandChurn(options.churn ?? []);
    this.#endpoints = options.endpoints ?? null;
    let skipped = 0;
    for (const a of actions) {
      if (a.op !== 'call' && this.#endpoints === null) {
        fail('constructor', 'churn needs endpoints (EndpointOps callbacks) to apply it');
      }
      if (a.atMs > endMs) {
        skipped++;
        continue;
      }
      this.#push(new ChurnItem(this.startMs + a.atMs, a));
    }
    this.#churnSkipped = skipped;
  }

  /** Connections open now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Events waiting in the heap. */
  get pending(): number {
    return this.#heap.size;
  }

  /**
   * Runs the workload: all events up to `endMs`, then (with `drain`) until
   * the last open connection has finished. The clock ends at `endMs` or at
   * the last event, whichever is later.
   */
  run(): WorkloadResult {
    if (this.#drain) this.#runTo(Number.POSITIVE_INFINITY);
    else this.#runTo(this.#endAbs);
    if (this.clock.now < this.#endAbs) this.clock.advanceTo(this.#endAbs);
    return this.result();
  }

  /**
   * Runs every event due at or before `ms` after the start, then advances
   * the clock to that time. Lets tests and callers step through a workload
   * (then call {@link WorkloadDriver.result}).
   *
   * @throws {InvalidArgumentError} for a time before the clock's current time
   */
  runUntil(ms: number): void {
    const t = this.startMs + ms;
    if (!Number.isSafeInteger(t) || t < this.clock.now) {
      fail('runUntil', `time must be an integer ms not before the clock (now ${this.clock.now - this.startMs}, got ${ms})`);
    }
    this.#runTo(t);
    if (this.clock.now < t) this.clock.advanceTo(t);
  }

  #runTo(limit: number): void {
    const heap = this.#heap;
    const clock = this.clock;
    for (;;) {
      const ev = heap.peek();
      if (ev === undefined || ev.time > limit) return;
      heap.pop();
      // The clock only moves forward; if someone advanced it past this event, the event runs late, now.
      let now = clock.now;
      if (ev.time > now) {
        clock.advanceTo(ev.time);
        now = ev.time;
      }
      switch (ev.ev) {
        case EV_FLOW:
          this.#runFlow(ev, now);
          break;
        case EV_ARRIVAL:
          this.#start(this.#free.pop() ?? new Flow(-1, this.#targets[0]!), now);
          this.#scheduleArrival(ev);
          break;
        case EV_CHURN:
          this.#applyChurn(ev.action, now);
          break;
      }
    }
  }

  #push(ev: Scheduled): void {
    ev.seq = this.#seq++;
    this.#heap.push(ev);
  }

  #scheduleArrival(ev: Arrival): void {
    this.#arrivalExact += sampleExponential(this.#rngArrivals, this.#arrivalMeanMs);
    const t = this.startMs + Math.floor(this.#arrivalExact);
    if (t >= this.#endAbs) return;
    ev.time = t;
    this.#push(ev);
  }

  #applyChurn(a: ChurnAction, now: number): void {
    this.#churnExecuted++;
    const ops = this.#endpoints;
    switch (a.op) {
      case 'add':
        ops!.addEndpoint(a.endpoint!, now);
        break;
      case 'remove':
        ops!.removeEndpoint(a.endpoint!, now);
        break;
      case 'weight':
        ops!.setWeight(a.endpoint!, a.weight, now);
        break;
      case 'call':
        a.run!(now);
        break;
    }
  }

  // ------------------------------------------------------------ connections

  #start(f: Flow, now: number): void {
    f.serial = this.#serial++;
    this.#attempted++;
    const client = this.clients.next();
    const targets = this.#targets;
    const target = targets.length === 1 ? targets[0]! : targets[this.#rngTargets.below(targets.length)]!;
    f.client = client;
    f.saddr = this.clients.addresses[client]!;
    f.target = target;
    f.hasBackend = false;
    f.backendAddr = 0;
    f.backendPort = 0;
    f.replyAddr = 0;
    f.replyPort = 0;
    f.tally = null;
    f.tFirst = now;
    f.attempts = 0;
    const ports = this.clients.ports[client]!;
    const sport = target.proto === Protocol.TCP ? ports.connectTcp(target.addr, target.port) : ports.connectUdp();
    f.sport = sport;
    if (sport < 0) {
      this.#end(f, now, O_NO_PORT, 0);
      return;
    }
    this.#inFlight++;
    if (this.#inFlight > this.#maxInFlight) this.#maxInFlight = this.#inFlight;
    f.dur = this.#duration(this.#rngDuration);
    if (target.proto === Protocol.TCP) {
      f.close = this.#closeCum.length === 0 ? this.#closeFixed : this.#pickClose();
      f.step = S_SYN;
      f.rto = TCP_TIMEOUT_INIT_MS;
    } else {
      f.step = S_DGRAM;
      f.k = 0;
    }
    f.time = now;
    this.#runFlow(f, now);
  }

  #pickClose(): number {
    const cum = this.#closeCum;
    const u = this.#rngClose.next() * cum[cum.length - 1]!;
    for (let i = 0; i < cum.length - 1; i++) if (u < cum[i]!) return i;
    return cum.length - 1;
  }

  /** Runs a flow's steps due now; queues it for its next step or ends it. */
  #runFlow(f: Flow, now: number): void {
    for (;;) {
      if (!this.#step(f, now)) return;
      if (f.time > now) {
        this.#push(f);
        return;
      }
    }
  }

  /** Performs one step; returns false when the flow ended (then it is already recycled or requeued). */
  #step(f: Flow, now: number): boolean {
    const replies = this.#replies;
    switch (f.step) {
      case S_START:
        this.#start(f, now);
        return false;
      case S_SYN: {
        if (f.attempts > 0) this.#synRetransmits++;
        const v = this.#send(f, PacketKind.SYN, now);
        if (v === V_FORWARDED) {
          this.#connected(f, now);
          if (replies && f.hasBackend && this.#bad(this.#send(f, PacketKind.SYN_ACK, now))) return this.#end(f, now, O_DISRUPTED, 0);
          f.step = S_ACK;
          f.time = now + this.#rtt;
          return true;
        }
        if (v === V_DROPPED) {
          f.time = now + f.rto;
          f.rto = Math.min(f.rto * 2, TCP_RTO_MAX_MS);
          if (f.attempts < this.#synRetries) {
            f.attempts++;
            f.step = S_SYN;
          } else {
            f.step = S_SYN_TIMEOUT;
          }
          return true;
        }
        return this.#end(f, now, O_FAILED, v);
      }
      case S_SYN_TIMEOUT:
        return this.#end(f, now, O_FAILED, V_DROPPED);
      case S_ACK: {
        if (this.#bad(this.#send(f, PacketKind.ACK, now))) return this.#end(f, now, O_DISRUPTED, 0);
        f.tEst = now;
        f.tClose = now + f.dur;
        f.k = 0;
        this.#nextData(f);
        return true;
      }
      case S_DATA: {
        if (this.#bad(this.#send(f, PacketKind.DATA, now))) return this.#end(f, now, O_DISRUPTED, 0);
        if (replies && f.hasBackend && this.#bad(this.#send(f, PacketKind.DATA_REPLY, now))) {
          return this.#end(f, now, O_DISRUPTED, 0);
        }
        f.k++;
        this.#nextData(f);
        return true;
      }
      case S_CLOSE: {
        const reply = replies && f.hasBackend;
        switch (f.close) {
          case C_CLIENT_FIN:
            if (this.#bad(this.#send(f, PacketKind.FIN, now))) return this.#end(f, now, O_DISRUPTED, 0);
            if (reply && this.#bad(this.#send(f, PacketKind.FIN_REPLY, now))) return this.#end(f, now, O_DISRUPTED, 0);
            break;
          case C_SERVER_FIN:
            if (reply && this.#bad(this.#send(f, PacketKind.FIN_REPLY, now))) return this.#end(f, now, O_DISRUPTED, 0);
            break;
          case C_CLIENT_RST:
            return this.#end(f, now, this.#bad(this.#send(f, PacketKind.RST, now)) ? O_DISRUPTED : O_COMPLETED, 0);
          case C_SERVER_RST:
            if (reply && this.#bad(this.#send(f, PacketKind.RST_REPLY, now))) return this.#end(f, now, O_DISRUPTED, 0);
            return this.#end(f, now, O_COMPLETED, 0);
          default:
            return false;
        }
        f.step = S_CLOSE2;
        f.time = now + this.#rtt;
        return true;
      }
      case S_CLOSE2: {
        if (f.close === C_CLIENT_FIN) {
          return this.#end(f, now, this.#bad(this.#send(f, PacketKind.FINAL_ACK, now)) ? O_DISRUPTED : O_COMPLETED, 0);
        }
        if (this.#bad(this.#send(f, PacketKind.FIN, now))) return this.#end(f, now, O_DISRUPTED, 0);
        if (replies && f.hasBackend && this.#bad(this.#send(f, PacketKind.FINAL_ACK_REPLY, now))) {
          return this.#end(f, now, O_DISRUPTED, 0);
        }
        return this.#end(f, now, O_COMPLETED, 0);
      }
      case S_DGRAM: {
        const v = this.#send(f, PacketKind.DATAGRAM, now);
        if (f.k === 0) {
          if (v !== V_FORWARDED) return this.#end(f, now, O_FAILED, v);
          this.#connected(f, now);
          f.tClose = f.tFirst + f.dur;
        } else if (this.#bad(v)) {
          return this.#end(f, now, O_DISRUPTED, 0);
        }
        if (replies && f.hasBackend && this.#bad(this.#send(f, PacketKind.DATAGRAM_REPLY, now))) {
          return this.#end(f, now, O_DISRUPTED, 0);
        }
        f.k++;
        const t = this.#dataRate > 0 ? f.tFirst + Math.floor((f.k * 1000) / this.#dataRate) : Number.POSITIVE_INFINITY;
        if (t < f.tClose) {
          f.time = t;
        } else {
          f.step = S_UDP_END;
          f.time = f.tClose > now ? f.tClose : now;
        }
        return true;
      }
      case S_UDP_END:
        return this.#end(f, now, O_COMPLETED, 0);
      default:
        return false;
    }
  }

  #bad(v: number): boolean {
    return v === V_DROPPED || v === V_REJECTED;
  }

  /** Next data packet or, when none is due before the close, the close. */
  #nextData(f: Flow): void {
    const t = this.#dataRate > 0 ? f.tEst + Math.floor((f.k * 1000) / this.#dataRate) : Number.POSITIVE_INFINITY;
    if (t < f.tClose) {
      f.step = S_DATA;
      f.time = t;
    } else {
      f.step = S_CLOSE;
      f.time = f.tClose;
    }
  }

  /** The first packet got through: remember the backend, count the connection. */
  #connected(f: Flow, now: number): void {
    const d = this.#decision;
    f.hasBackend = d.hasBackend;
    if (d.hasBackend) {
      f.backendAddr = d.backendAddr;
      f.backendPort = d.backendPort;
      f.replyAddr = d.saddr;
      f.replyPort = d.sport;
      // #send already counted this packet on the backend's tally; remember it for the flow.
      const b = this.#backend(d.backendAddr, d.backendPort);
      f.tally = b;
      b.connections++;
      if (d.newConnection) b.newConnections++;
    }
    const delay = now - f.tFirst;
    if (delay > this.#maxConnectDelay) this.#maxConnectDelay = delay;
  }

  #backend(addr: IPv4, port: Port): BackendTally {
    const key = addr * 65536 + port;
    let b = this.#backends.get(key);
    if (b === undefined) {
      b = new BackendTally(addr, port);
      this.#backends.set(key, b);
    }
    return b;
  }

  /** Ends a flow: frees its port, counts the outcome, recycles it or starts the worker's next connection. Returns false. */
  #end(f: Flow, now: number, outcome: number, verdict: number): false {
    const target = f.target;
    const hook = this.#onEnd;
    if (hook !== null) {
      const tr = this.#endTrace;
      tr.connection = f.serial;
      tr.client = f.client;
      tr.clientAddr = f.saddr;
      tr.sport = f.sport;
      tr.proto = target.proto;
      tr.daddr = target.addr;
      tr.dport = target.port;
      tr.outcome = OUTCOME_NAMES[outcome]!;
      tr.failedVerdict = outcome === O_FAILED ? VERDICT_NAMES[verdict]! : null;
      tr.startMs = f.tFirst;
      tr.endMs = now;
      tr.hasBackend = f.hasBackend;
      tr.backendAddr = f.backendAddr;
      tr.backendPort = f.backendPort;
      tr.synRetransmits = f.attempts;
      hook(tr);
    }
    if (f.sport >= 0) {
      const ports = this.clients.ports[f.client]!;
      if (target.proto === Protocol.TCP) ports.releaseTcp(target.addr, target.port, f.sport);
      else ports.releaseUdp(f.sport);
      f.sport = -1;
      this.#inFlight--;
    }
    switch (outcome) {
      case O_COMPLETED:
        this.#completed++;
        break;
      case O_FAILED:
        this.#failed++;
        this.#failedBy[verdict] = this.#failedBy[verdict]! + 1;
        break;
      case O_DISRUPTED:
        this.#disrupted++;
        break;
      default:
        this.#portExhausted++;
        break;
    }
    if (f.worker < 0) {
      this.#free.push(f);
      return false;
    }
    // Closed loop: the worker's next connection, never in the millisecond its last one started.
    let next = now + this.#think!(this.#rngThink);
    if (next <= f.tFirst) next = f.tFirst + 1;
    if (next < this.#endAbs) {
      f.step = S_START;
      f.time = next;
      this.#push(f);
    }
    return false;
  }

  // ----------------------------------------------------------------- packets

  /** Builds, classifies and tallies one packet; returns the verdict code. */
  #send(f: Flow, kind: PacketKind, now: number): number {
    const pkt = this.#pkt;
    const t = f.target;
    // Plain field stores rather than pkt.set(...): an address above 2^30 passed as a call argument
    // is boxed into a fresh heap number, which would allocate on every packet.
    pkt.proto = t.proto;
    pkt.flags = PACKET_KIND_FLAGS[kind]!;
    pkt.length = this.#lengths[kind]!;
    if (PACKET_KIND_IS_REPLY[kind]!) {
      pkt.saddr = f.backendAddr;
      pkt.sport = f.backendPort;
      pkt.daddr = f.replyAddr;
      pkt.dport = f.replyPort;
      pkt.mark = 0;
      pkt.ifindex = t.replyIfindex;
      pkt.local = false;
    } else {
      pkt.saddr = f.saddr;
      pkt.sport = f.sport;
      pkt.daddr = t.addr;
      pkt.dport = t.port;
      pkt.mark = t.mark;
      pkt.ifindex = t.ifindex;
      pkt.local = t.local;
    }
    const d = this.classifier.classify(pkt, this.#decision);
    const v = verdictCode(d.verdict);
    this.#packets++;
    this.#verdicts[v] = this.#verdicts[v]! + 1;
    this.#kindPackets[kind] = this.#kindPackets[kind]! + 1;
    const kv = kind * 4 + v;
    this.#kindVerdicts[kv] = this.#kindVerdicts[kv]! + 1;
    this.#work.add(d.work);
    this.#kindWork[kind]!.add(d.work);
    const reasons = this.#reasons;
    reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
    if (v === V_FORWARDED && d.hasBackend) {
      // The flow's own backend is the usual case: its cached tally avoids a map lookup whose
      // addr·65536 + port key (beyond the small-integer range) would allocate.
      const cached = f.tally;
      if (cached !== null && cached.addr === d.backendAddr && cached.port === d.backendPort) cached.packets++;
      else this.#backend(d.backendAddr, d.backendPort).packets++;
    }
    const hook = this.#onPacket;
    if (hook !== null) {
      const tr = this.#trace;
      tr.kind = kind;
      tr.connection = f.serial;
      tr.client = f.client;
      tr.timeMs = now;
      hook(tr);
    }
    return v;
  }

  // ----------------------------------------------------------------- results

  /** A snapshot of everything measured so far (plain data; allocates). */
  result(): WorkloadResult {
    const verdicts = (at: readonly number[], i: number): VerdictCounts => ({
      forwarded: at[i + V_FORWARDED]!,
      accepted: at[i + V_ACCEPTED]!,
      dropped: at[i + V_DROPPED]!,
      rejected: at[i + V_REJECTED]!,
    });
    const byKind: PacketKindStats[] = [];
    for (let k = 0; k < KIND_COUNT; k++) {
      byKind.push({
        kind: PACKET_KIND_NAMES[k]!,
        packets: this.#kindPackets[k]!,
        verdicts: verdicts(this.#kindVerdicts, k * 4),
        work: this.#kindWork[k]!.toJSON(),
      });
    }
    const reasons = [...this.#reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
    const backends = [...this.#backends.values()]
      .sort((a, b) => a.addr - b.addr || a.port - b.port)
      .map((b) => ({
        addr: formatIPv4(b.addr),
        port: b.port,
        connections: b.connections,
        newConnections: b.newConnections,
        packets: b.packets,
      }));
    return {
      mode: this.classifier.mode,
      startMs: this.startMs,
      clockMs: this.clock.now,
      connections: {
        attempted: this.#attempted,
        completed: this.#completed,
        failed: this.#failed,
        failedByVerdict: {
          accepted: this.#failedBy[V_ACCEPTED]!,
          dropped: this.#failedBy[V_DROPPED]!,
          rejected: this.#failedBy[V_REJECTED]!,
        },
        disrupted: this.#disrupted,
        portExhausted: this.#portExhausted,
        inFlight: this.#inFlight,
        maxInFlight: this.#maxInFlight,
        synRetransmits: this.#synRetransmits,
        maxConnectDelayMs: this.#maxConnectDelay,
      },
      packets: {
        total: this.#packets,
        verdicts: verdicts(this.#verdicts, 0),
        reasons,
        work: this.#work.toJSON(),
        byKind,
      },
      backends,
      churn: { executed: this.#churnExecuted, skipped: this.#churnSkipped },
    };
  }
}

function resolveClose(close: CloseKind | CloseMix): { cum: number[]; fixed: number } {
  if (typeof close === 'string') {
    const i = CLOSE_KINDS.indexOf(close);
    if (i < 0) fail('constructor', `close must be one of ${CLOSE_KINDS.join(', ')} (got ${JSON.stringify(close)})`);
    return { cum: [], fixed: i };
  }
  for (const k of Object.keys(close)) {
    if (!(CLOSE_KINDS as readonly string[]).includes(k)) fail('constructor', `close mix has an unknown kind ${JSON.stringify(k)}`);
  }
  const cum: number[] = [];
  let acc = 0;
  let positive = 0;
  let only = 0;
  CLOSE_KINDS.forEach((k, i) => {
    const w = close[k] ?? 0;
    if (!(Number.isFinite(w) && w >= 0)) fail('constructor', `close mix weight of ${k} must be a finite number >= 0 (got ${w})`);
    if (w > 0) {
      positive++;
      only = i;
    }
    acc += w;
    cum.push(acc);
  });
  if (positive === 0) fail('constructor', 'close mix needs at least one weight > 0');
  // One kind: no draw per connection.
  if (positive === 1) return { cum: [], fixed: only };
  return { cum, fixed: 0 };
}

/**
 * Builds a {@link WorkloadDriver} and runs it to the end.
 *
 * @param classifier - the mode under test
 * @param options - see {@link WorkloadOptions}
 */
export function runWorkload(classifier: PacketClassifier, options: WorkloadOptions): WorkloadResult {
  return new WorkloadDriver(classifier, options).run();
}
