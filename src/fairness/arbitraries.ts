/**
 * fast-check arbitraries for load-balancing property tests: real servers,
 * client populations and sequences of IPVS operations, all as plain data
 * (numbers, strings, arrays, records) so they print themselves in a failure
 * report and do not depend on the engine. Applying them to an engine is the
 * caller's job; {@link indexInto} resolves the "any index, taken modulo the
 * current length" convention the operations use.
 *
 * Also: Zipf-skewed client choice ({@link zipfWeights},
 * {@link createZipfSampler}) driven by lbsim's seeded {@link Rng}.
 *
 * Option errors throw {@link InvalidArgumentError} (prefixed
 * `lbsim/fairness.<function>: `) when the arbitrary is built, not when it
 * is sampled; a malformed CIDR string throws `ParseError` (src/errors.ts).
 *
 * @module
 */

import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { InvalidArgumentError } from '../errors.js';
import { parseCidr, prefixMask } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import { TcpFlag } from '../net/tcp-flags.js';
import type { TcpFlags } from '../net/tcp-flags.js';
import type { Rng } from '../sim/rng.js';

function fail(fn: string, message: string): never {
  throw new InvalidArgumentError(`lbsim/fairness.${fn}: ${message}`);
}

function checkInt(fn: string, name: string, value: number, lo: number, hi: number): number {
  if (!(Number.isInteger(value) && value >= lo && value <= hi)) {
    fail(fn, `${name} must be an integer in [${lo}, ${hi}] (got ${value})`);
  }
  return value;
}

function checkOrder(fn: string, minName: string, min: number, maxName: string, max: number): void {
  if (min > max) fail(fn, `${minName} (${min}) must not exceed ${maxName} (${max})`);
}

// ---------------------------------------------------------------------------
// Addresses and ports
// ---------------------------------------------------------------------------

/** Where generated addresses come from. */
interface AddressSource {
  readonly first: IPv4;
  readonly count: number;
}

function resolveCidr(fn: string, cidr: string | Cidr): Cidr {
  if (typeof cidr === 'string') return parseCidr(cidr);
  checkInt(fn, 'cidr.prefixLength', cidr.prefixLength, 0, 32);
  checkInt(fn, 'cidr.address', cidr.address, 0, 0xffffffff);
  const mask = prefixMask(cidr.prefixLength);
  return { address: (cidr.address & mask) >>> 0, prefixLength: cidr.prefixLength, mask };
}

function addressSource(fn: string, cidr: string | Cidr, poolSize: number | undefined): AddressSource {
  const c = resolveCidr(fn, cidr);
  const hosts = 2 ** (32 - c.prefixLength);
  let count = hosts;
  if (poolSize !== undefined) count = Math.min(hosts, checkInt(fn, 'addressPoolSize', poolSize, 1, 2 ** 32));
  return { first: c.address, count };
}

function addressArb(src: AddressSource): Arbitrary<IPv4> {
  // fc.integer accepts the full uint32 range (min and max within safe integers).
  return fc.integer({ min: src.first, max: src.first + src.count - 1 });
}

// ---------------------------------------------------------------------------
// Real servers
// ---------------------------------------------------------------------------

/**
 * A real server as plain data: what `ipvsadm -a -t VIP:port -r addr:port -w
 * weight -x uThreshold -y lThreshold` would configure.
 */
export interface RealServerSpec {
  /** Address as uint32 (host order, `10.244.0.1` is `0x0af40001`). */
  readonly addr: IPv4;
  /** Port 0..65535. */
  readonly port: Port;
  /** Weight 0..65535; 0 = quiesced (ipvs.md §1.5). */
  readonly weight: number;
  /** Upper connection threshold 0..65535 (`-x`); 0 = none. */
  readonly uThreshold: number;
  /** Lower connection threshold 0..uThreshold (`-y`); 0 = none. */
  readonly lThreshold: number;
}

/** Options of {@link realServerSpecArb}. */
export interface RealServerSpecArbOptions {
  /**
   * Network the addresses are drawn from, as text or a parsed {@link Cidr}.
   * Every address of the block can come out, network and broadcast
   * addresses included (IPVS does not care).
   * @defaultValue `'10.244.0.0/16'` (the usual Kubernetes pod network)
   */
  readonly cidr?: string | Cidr;
  /**
   * Use only the first `addressPoolSize` addresses of the block, so that
   * collisions (same address, other port; or an `addServer` of a server that
   * exists) become likely.
   * @defaultValue the whole block
   */
  readonly addressPoolSize?: number;
  /** @defaultValue 1 */
  readonly minPort?: number;
  /** @defaultValue 65535 */
  readonly maxPort?: number;
  /** @defaultValue 0 (quiesced servers are generated, and often) */
  readonly minWeight?: number;
  /** @defaultValue 65535 */
  readonly maxWeight?: number;
  /**
   * Probability (0..1, resolution 1e-6) that a server gets thresholds
   * (`uThreshold ≥ 1`); otherwise both thresholds are 0.
   * @defaultValue 0.2
   */
  readonly thresholdProbability?: number;
  /**
   * Largest upper threshold, 1..65535.
   * @defaultValue 65535
   */
  readonly maxThreshold?: number;
}

interface ResolvedServerOptions {
  readonly addresses: AddressSource;
  readonly minPort: number;
  readonly maxPort: number;
  readonly minWeight: number;
  readonly maxWeight: number;
  readonly thresholdProbability: number;
  readonly maxThreshold: number;
}

/** Default network of generated real servers. */
const DEFAULT_SERVER_CIDR = '10.244.0.0/16';

function resolveServerOptions(fn: string, opts: RealServerSpecArbOptions): ResolvedServerOptions {
  const minPort = checkInt(fn, 'minPort', opts.minPort ?? 1, 0, 65535);
  const maxPort = checkInt(fn, 'maxPort', opts.maxPort ?? 65535, 0, 65535);
  checkOrder(fn, 'minPort', minPort, 'maxPort', maxPort);
  const minWeight = checkInt(fn, 'minWeight', opts.minWeight ?? 0, 0, 65535);
  const maxWeight = checkInt(fn, 'maxWeight', opts.maxWeight ?? 65535, 0, 65535);
  checkOrder(fn, 'minWeight', minWeight, 'maxWeight', maxWeight);
  const thresholdProbability = opts.thresholdProbability ?? 0.2;
  if (!(thresholdProbability >= 0 && thresholdProbability <= 1)) {
    fail(fn, `thresholdProbability must be a number in [0, 1] (got ${thresholdProbability})`);
  }
  const maxThreshold = checkInt(fn, 'maxThreshold', opts.maxThreshold ?? 65535, 1, 65535);
  const addresses = addressSource(fn, opts.cidr ?? DEFAULT_SERVER_CIDR, opts.addressPoolSize);
  return { addresses, minPort, maxPort, minWeight, maxWeight, thresholdProbability, maxThreshold };
}

/**
 * Weights in [min, max], with quiesced (0) and small everyday weights
 * (1..10) far more common than a uniform draw over 0..65535 would make them.
 */
function weightArb(min: number, max: number): Arbitrary<number> {
  const branches: { arbitrary: Arbitrary<number>; weight: number }[] = [];
  if (min === 0) branches.push({ arbitrary: fc.constant(0), weight: 1 });
  const smallLo = Math.max(min, 1);
  const smallHi = Math.min(max, 10);
  if (smallLo <= smallHi) branches.push({ arbitrary: fc.integer({ min: smallLo, max: smallHi }), weight: 3 });
  if (max >= 1) branches.push({ arbitrary: fc.integer({ min: Math.max(min, 1), max }), weight: 2 });
  if (branches.length === 1) return branches[0]!.arbitrary;
  return fc.oneof(...branches);
}

interface Thresholds {
  readonly u: number;
  readonly l: number;
}

/**
 * Threshold pairs the kernel accepts: `ip_vs_add_dest` and `ip_vs_edit_dest`
 * (torvalds/linux net/netfilter/ipvs/ip_vs_ctl.c) refuse
 * `l_threshold > u_threshold` with -ERANGE (ipvs.md §7.1), so `l ≤ u`, and
 * `u = 0` (no upper threshold) forces `l = 0`.
 */
function thresholdsArb(probability: number, maxThreshold: number): Arbitrary<Thresholds> {
  const none = fc.constant<Thresholds>({ u: 0, l: 0 });
  // Two draws ordered into (u, l): shrinks towards small values, and u ≥ 1 always.
  const set = fc
    .tuple(
      fc.integer({ min: 1, max: maxThreshold }),
      fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: maxThreshold }), weight: 2 }),
    )
    .map(([a, b]): Thresholds => (b <= a ? { u: a, l: b } : { u: b, l: a }));
  const scale = 1_000_000;
  const pSet = Math.round(probability * scale);
  if (pSet === 0) return none;
  if (pSet === scale) return set;
  return fc.oneof({ arbitrary: none, weight: scale - pSet }, { arbitrary: set, weight: pSet });
}

function serverArbFrom(o: ResolvedServerOptions): Arbitrary<RealServerSpec> {
  return fc
    .tuple(
      addressArb(o.addresses),
      fc.integer({ min: o.minPort, max: o.maxPort }),
      weightArb(o.minWeight, o.maxWeight),
      thresholdsArb(o.thresholdProbability, o.maxThreshold),
    )
    .map(
      ([addr, port, weight, t]): RealServerSpec => ({ addr, port, weight, uThreshold: t.u, lThreshold: t.l }),
    );
}

/**
 * One real server. Guarantees: `addr` inside the CIDR (and its pool), `port`
 * and `weight` within their ranges, `0 ≤ lThreshold ≤ uThreshold ≤ 65535`,
 * and `lThreshold = 0` whenever `uThreshold = 0` — the pairs the kernel
 * accepts (ipvs.md §7.1: `l_threshold > u_threshold` is refused with -ERANGE).
 * Weight 0 (quiesced) and small weights are generated often.
 *
 * @param opts - ranges; see {@link RealServerSpecArbOptions}
 * @throws {InvalidArgumentError} for out-of-range or inconsistent options
 * @throws {ParseError} for a malformed `cidr` string
 */
export function realServerSpecArb(opts: RealServerSpecArbOptions = {}): Arbitrary<RealServerSpec> {
  return serverArbFrom(resolveServerOptions('realServerSpecArb', opts));
}

/** Options of {@link realServerSetArb}. */
export interface RealServerSetArbOptions extends RealServerSpecArbOptions {
  /** @defaultValue 1 */
  readonly minLength?: number;
  /**
   * Capped at the number of distinct (addr, port) pairs the options allow.
   * @defaultValue 10
   */
  readonly maxLength?: number;
}

/** `addr · 65536 + port`: a unique number per (address, port) pair, below 2^48. */
function tupleKey(t: { readonly addr: IPv4; readonly port: Port }): number {
  return t.addr * 65536 + t.port;
}

/**
 * The real servers of one virtual service: an array of
 * {@link RealServerSpec} with unique (addr, port) pairs (the kernel refuses
 * a duplicate with -EEXIST), each satisfying {@link realServerSpecArb}'s
 * guarantees.
 *
 * @param opts - ranges and size; see {@link RealServerSetArbOptions}
 * @throws {InvalidArgumentError} for bad options, or when the CIDR/pool and
 *   port range hold fewer distinct pairs than `minLength`
 * @throws {ParseError} for a malformed `cidr` string
 */
export function realServerSetArb(opts: RealServerSetArbOptions = {}): Arbitrary<RealServerSpec[]> {
  const fn = 'realServerSetArb';
  const o = resolveServerOptions(fn, opts);
  const capacity = o.addresses.count * (o.maxPort - o.minPort + 1);
  const { minLength, maxLength } = resolveLength(fn, opts, 1, 10, capacity);
  return fc.uniqueArray(serverArbFrom(o), { selector: tupleKey, minLength, maxLength });
}

function resolveLength(
  fn: string,
  opts: { readonly minLength?: number; readonly maxLength?: number },
  defMin: number,
  defMax: number,
  capacity: number,
): { minLength: number; maxLength: number } {
  const minLength = checkInt(fn, 'minLength', opts.minLength ?? defMin, 0, 0x7fffffff);
  const maxLength = checkInt(fn, 'maxLength', opts.maxLength ?? Math.max(defMax, minLength), 0, 0x7fffffff);
  checkOrder(fn, 'minLength', minLength, 'maxLength', maxLength);
  if (minLength > capacity) {
    fail(fn, `minLength (${minLength}) exceeds the ${capacity} distinct (addr, port) pairs the options allow`);
  }
  return { minLength, maxLength: Math.min(maxLength, capacity) };
}

// ---------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------

/** One client socket: the source address and port of its connections. */
export interface ClientSpec {
  /** Source address as uint32. */
  readonly addr: IPv4;
  /** Source port. */
  readonly port: Port;
}

/** A set of clients with unique (addr, port) tuples. */
export interface ClientPopulation {
  /** The clients; no two share both address and port. */
  readonly clients: readonly ClientSpec[];
}

/** Options of {@link clientPopulationArb}. */
export interface ClientPopulationArbOptions {
  /**
   * Network the client addresses are drawn from.
   * @defaultValue `'192.168.0.0/16'`
   */
  readonly cidr?: string | Cidr;
  /**
   * Use only the first `addressPoolSize` addresses of the block, so several
   * clients share an address (what source hashing and persistence key on).
   * @defaultValue the whole block
   */
  readonly addressPoolSize?: number;
  /**
   * @defaultValue 32768, the start of Linux's default
   * `net.ipv4.ip_local_port_range` (32768 60999)
   */
  readonly minPort?: number;
  /** @defaultValue 60999, the end of Linux's default `net.ipv4.ip_local_port_range` */
  readonly maxPort?: number;
  /** @defaultValue 1 */
  readonly minLength?: number;
  /**
   * Capped at the number of distinct tuples the options allow.
   * @defaultValue 64
   */
  readonly maxLength?: number;
}

/** Start of Linux's default `net.ipv4.ip_local_port_range` (Documentation/networking/ip-sysctl.rst). */
const EPHEMERAL_PORT_MIN = 32768;
/** End of Linux's default `net.ipv4.ip_local_port_range`. */
const EPHEMERAL_PORT_MAX = 60999;

/**
 * A client population: unique (addr, port) source tuples, addresses from a
 * CIDR (default `192.168.0.0/16`), ports from the Linux default ephemeral
 * range 32768..60999 (`net.ipv4.ip_local_port_range`).
 *
 * @param opts - ranges and size; see {@link ClientPopulationArbOptions}
 * @throws {InvalidArgumentError} for bad options, or when fewer distinct
 *   tuples than `minLength` exist
 * @throws {ParseError} for a malformed `cidr` string
 */
export function clientPopulationArb(opts: ClientPopulationArbOptions = {}): Arbitrary<ClientPopulation> {
  const fn = 'clientPopulationArb';
  const minPort = checkInt(fn, 'minPort', opts.minPort ?? EPHEMERAL_PORT_MIN, 0, 65535);
  const maxPort = checkInt(fn, 'maxPort', opts.maxPort ?? EPHEMERAL_PORT_MAX, 0, 65535);
  checkOrder(fn, 'minPort', minPort, 'maxPort', maxPort);
  const addresses = addressSource(fn, opts.cidr ?? '192.168.0.0/16', opts.addressPoolSize);
  const capacity = addresses.count * (maxPort - minPort + 1);
  const { minLength, maxLength } = resolveLength(fn, opts, 1, 64, capacity);
  const client = fc
    .tuple(addressArb(addresses), fc.integer({ min: minPort, max: maxPort }))
    .map(([addr, port]): ClientSpec => ({ addr, port }));
  return fc
    .uniqueArray(client, { selector: tupleKey, minLength, maxLength })
    .map((clients): ClientPopulation => ({ clients }));
}

// ---------------------------------------------------------------------------
// IPVS operations
// ---------------------------------------------------------------------------

/** Add a real server (`ipvsadm -a`). It may duplicate an existing one: expect -EEXIST then. */
export interface AddServerOperation {
  readonly kind: 'addServer';
  /** The server to add. */
  readonly server: RealServerSpec;
}

/** Remove a real server (`ipvsadm -d`). */
export interface RemoveServerOperation {
  readonly kind: 'removeServer';
  /** Index into the current servers, taken modulo their number ({@link indexInto}); no-op when there are none. */
  readonly index: number;
}

/** Edit a real server (`ipvsadm -e`): new weight and thresholds (a valid pair, ipvs.md §7.1). */
export interface EditServerOperation {
  readonly kind: 'editServer';
  /** Index into the current servers, taken modulo their number; no-op when there are none. */
  readonly index: number;
  /** New weight 0..65535. */
  readonly weight: number;
  /** New upper threshold. */
  readonly uThreshold: number;
  /** New lower threshold, ≤ uThreshold, 0 when uThreshold is 0. */
  readonly lThreshold: number;
}

/**
 * A client opens a new flow to the virtual service: it sends the first
 * packet (a TCP SYN; the first datagram for UDP).
 */
export interface ConnectOperation {
  readonly kind: 'connect';
  /** Index into the client population, taken modulo its size. */
  readonly client: number;
}

/** A packet on an existing flow. */
export interface PacketOperation {
  readonly kind: 'packet';
  /** Index into the flows opened so far (in order of `connect`), taken modulo their number; no-op when none. */
  readonly conn: number;
  /** TCP flags ({@link TcpFlag} bits); ignored for UDP. */
  readonly flags: TcpFlags;
  /**
   * `false`: client → server (IPVS input direction). `true`: the real
   * server's reply (output direction); only NAT (masq) sees replies, so an
   * applier for DR/TUN skips these or treats them as no-ops.
   */
  readonly reply: boolean;
}

/** Simulated time moves on (connection expiry, persistence timeouts). */
export interface AdvanceClockOperation {
  readonly kind: 'advanceClock';
  /** Milliseconds, an integer ≥ 0. */
  readonly ms: number;
}

/**
 * One step of an IPVS scenario, as plain data (a discriminated union on
 * `kind`). Indices are arbitrary non-negative integers resolved modulo the
 * current length with {@link indexInto}, so every operation is valid in
 * every state and shrinking never produces a dangling index.
 */
export type IpvsOperation =
  | AddServerOperation
  | RemoveServerOperation
  | EditServerOperation
  | ConnectOperation
  | PacketOperation
  | AdvanceClockOperation;

/** The `kind` tags of {@link IpvsOperation}. */
export type IpvsOperationKind = IpvsOperation['kind'];

/**
 * Resolves an operation's index against a list of the given length: `index
 * mod length`, or -1 when the list is empty (the operation is a no-op).
 *
 * @param index - a non-negative integer from an {@link IpvsOperation}
 * @param length - current length of the list it indexes
 * @throws {InvalidArgumentError} when either is not a non-negative safe integer
 */
export function indexInto(index: number, length: number): number {
  if (!(Number.isSafeInteger(index) && index >= 0)) fail('indexInto', `index must be an integer ≥ 0 (got ${index})`);
  if (!(Number.isSafeInteger(length) && length >= 0)) {
    fail('indexInto', `length must be an integer ≥ 0 (got ${length})`);
  }
  return length === 0 ? -1 : index % length;
}

/** Relative frequency (a non-negative integer) of each operation kind; 0 disables a kind. */
export type IpvsOperationFrequencies = { readonly [K in IpvsOperationKind]?: number };

/** Options of {@link ipvsOperationArb}. */
export interface IpvsOperationArbOptions {
  /** Ranges of the servers `addServer` adds and of `editServer`'s weight and thresholds. */
  readonly server?: RealServerSpecArbOptions;
  /**
   * Relative frequencies; kinds left out keep their default.
   * @defaultValue `{ addServer: 2, removeServer: 1, editServer: 1, connect: 6, packet: 6, advanceClock: 2 }`
   */
  readonly frequencies?: IpvsOperationFrequencies;
  /**
   * Largest `advanceClock` step in ms.
   * @defaultValue 1_000_000 (beyond the 900 s TCP ESTABLISHED timeout, ipvs.md §3.3)
   */
  readonly maxAdvanceMs?: number;
  /**
   * Whether `packet` operations can be replies (`reply: true`).
   * @defaultValue true
   */
  readonly replies?: boolean;
}

const DEFAULT_FREQUENCIES: { readonly [K in IpvsOperationKind]: number } = {
  addServer: 2,
  removeServer: 1,
  editServer: 1,
  connect: 6,
  packet: 6,
  advanceClock: 2,
};

const OPERATION_KINDS: readonly IpvsOperationKind[] = [
  'addServer',
  'removeServer',
  'editServer',
  'connect',
  'packet',
  'advanceClock',
];

/**
 * Default IPVS timeouts in ms (ipvs.md §3.3, torvalds/linux
 * net/netfilter/ipvs/ip_vs_proto_tcp.c and ip_vs_proto_udp.c): NONE 2 s,
 * CLOSE 10 s, LAST_ACK 30 s, SYN_RECV/CLOSE_WAIT 60 s, FIN_WAIT/TIME_WAIT/
 * SYN_SENT 120 s, UDP 300 s, ESTABLISHED 900 s. Clock steps just below, at
 * and just above them probe the expiry boundaries.
 */
const IPVS_TIMEOUTS_MS = [2_000, 10_000, 30_000, 60_000, 120_000, 300_000, 900_000] as const;

/** Flag sets real TCP traffic carries, and what a scenario needs to walk the state table. */
const COMMON_TCP_FLAGS: readonly TcpFlags[] = [
  TcpFlag.SYN,
  TcpFlag.SYN | TcpFlag.ACK,
  TcpFlag.ACK,
  TcpFlag.PSH | TcpFlag.ACK,
  TcpFlag.FIN | TcpFlag.ACK,
  TcpFlag.FIN,
  TcpFlag.RST,
  TcpFlag.RST | TcpFlag.ACK,
];

function tcpFlagsArb(): Arbitrary<TcpFlags> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...COMMON_TCP_FLAGS), weight: 4 },
    // Any combination of FIN SYN RST PSH ACK URG, the odd ones included.
    { arbitrary: fc.integer({ min: 0, max: 0x3f }), weight: 1 },
  );
}

function advanceArb(maxMs: number): Arbitrary<number> {
  const near: number[] = [];
  for (const t of IPVS_TIMEOUTS_MS) for (const v of [t - 1, t, t + 1]) if (v <= maxMs) near.push(v);
  const any = fc.integer({ min: 0, max: maxMs });
  if (near.length === 0) return any;
  return fc.oneof({ arbitrary: any, weight: 3 }, { arbitrary: fc.constantFrom(...near), weight: 1 });
}

/**
 * One {@link IpvsOperation}. `addServer` servers and `editServer` values
 * obey {@link realServerSpecArb}'s guarantees under `opts.server`; indices are
 * arbitrary non-negative integers (resolve with {@link indexInto}).
 *
 * @param opts - see {@link IpvsOperationArbOptions}
 * @throws {InvalidArgumentError} for bad options, or when every frequency is 0
 */
export function ipvsOperationArb(opts: IpvsOperationArbOptions = {}): Arbitrary<IpvsOperation> {
  return operationArbWith('ipvsOperationArb', opts);
}

function operationArbWith(fn: string, opts: IpvsOperationArbOptions): Arbitrary<IpvsOperation> {
  const server = resolveServerOptions(fn, opts.server ?? {});
  const maxAdvanceMs = checkInt(fn, 'maxAdvanceMs', opts.maxAdvanceMs ?? 1_000_000, 0, Number.MAX_SAFE_INTEGER);
  const replies = opts.replies ?? true;
  const index = fc.nat();
  const arbs: { readonly [K in IpvsOperationKind]: () => Arbitrary<IpvsOperation> } = {
    addServer: () => serverArbFrom(server).map((s): IpvsOperation => ({ kind: 'addServer', server: s })),
    removeServer: () => index.map((i): IpvsOperation => ({ kind: 'removeServer', index: i })),
    editServer: () =>
      fc
        .tuple(
          index,
          weightArb(server.minWeight, server.maxWeight),
          thresholdsArb(server.thresholdProbability, server.maxThreshold),
        )
        .map(
          ([i, weight, t]): IpvsOperation => ({
            kind: 'editServer',
            index: i,
            weight,
            uThreshold: t.u,
            lThreshold: t.l,
          }),
        ),
    connect: () => index.map((i): IpvsOperation => ({ kind: 'connect', client: i })),
    packet: () =>
      fc
        .tuple(index, tcpFlagsArb(), replies ? fc.boolean() : fc.constant(false))
        .map(([i, flags, reply]): IpvsOperation => ({ kind: 'packet', conn: i, flags, reply })),
    advanceClock: () => advanceArb(maxAdvanceMs).map((ms): IpvsOperation => ({ kind: 'advanceClock', ms })),
  };
  const branches: { arbitrary: Arbitrary<IpvsOperation>; weight: number }[] = [];
  for (const kind of OPERATION_KINDS) {
    const weight = checkInt(
      fn,
      `frequencies.${kind}`,
      opts.frequencies?.[kind] ?? DEFAULT_FREQUENCIES[kind],
      0,
      0x7fffffff,
    );
    if (weight > 0) branches.push({ arbitrary: arbs[kind](), weight });
  }
  if (branches.length === 0) fail(fn, 'at least one operation kind must have a positive frequency');
  return branches.length === 1 ? branches[0]!.arbitrary : fc.oneof(...branches);
}

/** Options of {@link ipvsOperationsArb}. */
export interface IpvsOperationsArbOptions extends IpvsOperationArbOptions {
  /** @defaultValue 0 */
  readonly minLength?: number;
  /** @defaultValue 50 */
  readonly maxLength?: number;
}

/**
 * A sequence of {@link IpvsOperation}s (a scenario). Shrinking removes
 * operations and simplifies the remaining ones; every shrunk sequence is
 * still valid because indices are resolved modulo the current lengths.
 *
 * @param opts - see {@link IpvsOperationsArbOptions}
 * @throws {InvalidArgumentError} for bad options
 */
export function ipvsOperationsArb(opts: IpvsOperationsArbOptions = {}): Arbitrary<IpvsOperation[]> {
  const fn = 'ipvsOperationsArb';
  const { minLength, maxLength } = resolveLength(fn, opts, 0, 50, Infinity);
  return fc.array(operationArbWith(fn, opts), { minLength, maxLength });
}

// ---------------------------------------------------------------------------
// Zipf-skewed choice
// ---------------------------------------------------------------------------

function checkZipf(fn: string, n: number, s: number): void {
  if (!(Number.isInteger(n) && n >= 1 && n <= 0x7fffffff)) fail(fn, `n must be an integer in [1, 2147483647] (got ${n})`);
  if (!(Number.isFinite(s) && s >= 0)) fail(fn, `s must be a finite number ≥ 0 (got ${s})`);
}

/**
 * Zipf probabilities over `n` ranks: `p[k] ∝ 1 / (k + 1)^s` for
 * `k = 0 .. n − 1`, normalised to sum to 1. `s = 0` is uniform; `s ≈ 1` is
 * the classic "a few clients make most requests" skew. Use them as expected
 * shares of a chi-square test, or to weight clients.
 *
 * @param n - number of ranks, an integer in [1, 2^31 − 1]
 * @param s - exponent, a finite number ≥ 0
 * @returns `n` probabilities, non-increasing, summing to 1
 * @throws {InvalidArgumentError} for bad `n` or `s`
 */
export function zipfWeights(n: number, s: number): number[] {
  checkZipf('zipfWeights', n, s);
  return zipfUnchecked(n, s);
}

function zipfUnchecked(n: number, s: number): number[] {
  const w = new Array<number>(n);
  let sum = 0;
  // Summing from the smallest term up keeps the normalising sum accurate.
  for (let k = n - 1; k >= 0; k--) {
    const v = Math.pow(k + 1, -s);
    w[k] = v;
    sum += v;
  }
  for (let k = 0; k < n; k++) w[k] = w[k]! / sum;
  return w;
}

/** Draws Zipf-distributed ranks; see {@link createZipfSampler}. */
export interface ZipfSampler {
  /** Number of ranks. */
  readonly n: number;
  /** Exponent. */
  readonly s: number;
  /** The probabilities ranks are drawn with ({@link zipfWeights}`(n, s)`). */
  readonly weights: readonly number[];
  /** The next rank in `[0, n)`; rank 0 is the most likely. One `rng.next()` per call, no allocation. */
  next(): number;
}

/**
 * A seeded Zipf sampler: inverse-CDF lookup (binary search over the
 * cumulative {@link zipfWeights}) of one `rng.next()` per draw. The same
 * `Rng` state gives the same ranks. Map ranks to clients (e.g. the clients of
 * a {@link ClientPopulation}) to make a few clients dominate.
 *
 * @param rng - the source of randomness (from `createRng(seed)`)
 * @param n - number of ranks, an integer in [1, 2^31 − 1]
 * @param s - exponent, a finite number ≥ 0
 * @throws {InvalidArgumentError} for bad `n` or `s`
 */
export function createZipfSampler(rng: Rng, n: number, s: number): ZipfSampler {
  checkZipf('createZipfSampler', n, s);
  const weights = zipfUnchecked(n, s);
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    acc += weights[k]!;
    cdf[k] = acc;
  }
  // rng.next() < 1, so forcing the last bound to 1 guarantees a hit despite rounding.
  cdf[n - 1] = 1;
  return {
    n,
    s,
    weights,
    next(): number {
      const u = rng.next();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}
