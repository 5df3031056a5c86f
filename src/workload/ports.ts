import { InvalidArgumentError } from '../errors.js';
import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import type { Rng } from '../sim/rng.js';

/**
 * An inclusive port range, as `net.ipv4.ip_local_port_range` writes it
 * (`low high`).
 */
export interface PortRange {
  /** First port, 1..65535. */
  readonly low: Port;
  /** Last port, `low`..65535 (inclusive). */
  readonly high: Port;
}

/**
 * Linux's default `net.ipv4.ip_local_port_range`: 32768..60999
 * (torvalds/linux `Documentation/networking/ip-sysctl.rst`; the comment
 * `[32768, 60999] -> [32768, 61000[` in `__inet_hash_connect`,
 * `net/ipv4/inet_hashtables.c`).
 */
export const DEFAULT_LOCAL_PORT_RANGE: PortRange = Object.freeze({ low: 32768, high: 60999 });

/** Ports in use toward one destination, and that destination's perturbation slot. */
interface TcpDestination {
  /**
   * `table_perturb[index] + (port_offset >> 32)` as a uint32: the kernel
   * adds the two before `offset %= remaining`, so only their sum matters.
   */
  base: number;
  /** Source ports of open connections toward this destination. */
  readonly open: Set<Port>;
}

/**
 * Checks a port range.
 *
 * @param where - `module.Class.method` for the message
 * @throws {InvalidArgumentError} unless `1 ≤ low ≤ high ≤ 65535` (integers)
 */
export function checkPortRange(where: string, range: PortRange): PortRange {
  const { low, high } = range;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high) {
    throw new InvalidArgumentError(
      `lbsim/${where}: port range must be integers with 1 <= low <= high <= 65535 (got ${low}..${high})`,
    );
  }
  return { low, high };
}

/**
 * The ephemeral (source) ports of one client host, chosen the way Linux
 * picks them for `connect()` without a prior `bind()`.
 *
 * **TCP** mirrors `__inet_hash_connect` (torvalds/linux
 * `net/ipv4/inet_hashtables.c`, the RFC 6056 "double-hash" algorithm, in
 * its current form: a 2^16-entry perturbation table,
 * `CONFIG_INET_TABLE_PERTURB_ORDER` = 16, and a random increment):
 *
 * - `high` is made exclusive and the range size `remaining` is rounded down
 *   to even; `step` is 2 (the socket has no `IP_LOCAL_PORT_RANGE` option).
 *   A port wraps only at the real top, so with an odd-sized range each scan
 *   covers `remaining` ports and which port it misses depends on the start.
 * - The start is `offset = (table_perturb[index] + (port_offset >> 32)) %
 *   remaining`, made even, where `port_offset` is a keyed hash of
 *   (source address, destination address, destination port)
 *   (`inet_sk_port_offset` → `secure_ipv4_port_ephemeral`).
 * - Ports `low + offset`, `+2`, `+4`, … (wrapping) are tried; the first one
 *   that no open connection of this host toward the **same destination**
 *   uses is taken (`check_established` only refuses a duplicate 4-tuple, so
 *   a port may be shared across destinations). If the even pass finds
 *   nothing, the odd ports are scanned the same way; then `connect()` fails
 *   with `EADDRNOTAVAIL` ({@link EphemeralPorts.connectTcp} returns -1).
 * - After success `table_perturb[index] += max(i, random(0..7)·2) + 2`,
 *   where `i` is how far the scan went, so consecutive connections to one
 *   destination walk forward through the range with a little jitter.
 *
 * Simplifications (each documented, none changes which ports are legal):
 * - The secret hash and the random `table_perturb` start are one random
 *   uint32 per (host, destination), drawn from the `Rng` on first use. Two
 *   destinations that would share a perturbation slot in the kernel's
 *   65536-entry table (a 1-in-65536 chance per pair) get separate slots here.
 * - No ports are reserved (`ip_local_reserved_ports` is empty by default)
 *   and the host has no `bind()`-created sockets that would block a port.
 * - TIME_WAIT is ignored: a port is free again as soon as its connection is
 *   released. (The kernel would reuse a TIME_WAIT 4-tuple only under
 *   `tcp_tw_reuse` rules; the perturbation step makes immediate reuse of
 *   the same port rare anyway.)
 *
 * **UDP** (`udp_lib_get_port`, torvalds/linux `net/ipv4/udp.c`): the first
 * candidate is `low + reciprocal_scale(random, high − low + 1)`, as in the
 * kernel; a connected UDP socket's port must not be used by any other UDP
 * socket of the host (whatever its destination). The kernel then walks its
 * hash slots with an odd random stride; here the search is a plain
 * increasing scan with wrap-around, which agrees with the kernel whenever
 * the first candidate is free (the usual case) and only orders the
 * fallback candidates differently.
 */
export class EphemeralPorts {
  /** The client host's address (for messages and keys). */
  readonly addr: IPv4;
  /** The port range. */
  readonly range: PortRange;
  readonly #rng: Rng;
  readonly #tcp = new Map<number, TcpDestination>();
  readonly #udp = new Set<Port>();
  #tcpOpen = 0;

  /**
   * @param addr - the host's address
   * @param rng - random source (perturbation starts, jitter, UDP starts)
   * @param range - `ip_local_port_range` @defaultValue {@link DEFAULT_LOCAL_PORT_RANGE}
   * @throws {InvalidArgumentError} for a bad range
   */
  constructor(addr: IPv4, rng: Rng, range: PortRange = DEFAULT_LOCAL_PORT_RANGE) {
    this.addr = addr;
    this.#rng = rng;
    this.range = checkPortRange('workload.EphemeralPorts.constructor', range);
  }

  /** Number of open TCP connections (all destinations). */
  get tcpOpen(): number {
    return this.#tcpOpen;
  }

  /** Number of open UDP sockets. */
  get udpOpen(): number {
    return this.#udp.size;
  }

  /**
   * Picks the source port for a TCP `connect()` to `daddr:dport` and marks it
   * in use, or returns -1 when every port is taken toward that destination
   * (`EADDRNOTAVAIL`).
   */
  connectTcp(daddr: IPv4, dport: Port): number {
    const dst = this.#destination(daddr, dport);
    const open = dst.open;
    const low = this.range.low;
    // __inet_hash_connect: high++ makes the range half-open; without
    // IP_LOCAL_PORT_RANGE step is 2 and remaining is rounded down to even.
    const high = this.range.high + 1;
    const step = 2;
    let remaining = high - low;
    if (remaining > 1) remaining &= ~1;
    let offset = dst.base % remaining;
    offset &= ~1;
    for (;;) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += step, port += step) {
        if (port >= high) port -= remaining;
        if (!open.has(port)) {
          // i = max_t(int, i, get_random_u32_below(8) * step);
          // table_perturb[index] += i + step;
          const jitter = this.#rng.below(8) * step;
          dst.base = (dst.base + (i > jitter ? i : jitter) + step) >>> 0;
          open.add(port);
          this.#tcpOpen++;
          return port;
        }
      }
      // Other parity: the first pass tried ports of low's parity.
      offset++;
      if ((offset & 1) !== 0 && remaining > 1) continue;
      return -1;
    }
  }

  /**
   * Frees a TCP source port toward `daddr:dport` (the connection closed).
   *
   * @throws {InvalidArgumentError} when the port is not in use toward that destination
   */
  releaseTcp(daddr: IPv4, dport: Port, sport: Port): void {
    const dst = this.#tcp.get(daddr * 65536 + dport);
    if (dst === undefined || !dst.open.delete(sport)) {
      throw new InvalidArgumentError(
        `lbsim/workload.EphemeralPorts.releaseTcp: port ${sport} is not in use toward ${daddr}:${dport}`,
      );
    }
    this.#tcpOpen--;
  }

  /** Whether `sport` is in use by an open TCP connection toward `daddr:dport`. */
  tcpInUse(daddr: IPv4, dport: Port, sport: Port): boolean {
    return this.#tcp.get(daddr * 65536 + dport)?.open.has(sport) ?? false;
  }

  /** Picks a source port for a connected UDP socket and marks it in use, or -1 when none is free. */
  connectUdp(): number {
    const { low, high } = this.range;
    const remaining = high - low + 1;
    // first = reciprocal_scale(rand, remaining) + low  ((u64)rand * remaining >> 32)
    let port = low + Math.floor((this.#rng.uint32() * remaining) / 4294967296);
    const used = this.#udp;
    for (let n = 0; n < remaining; n++) {
      if (!used.has(port)) {
        used.add(port);
        return port;
      }
      port = port === high ? low : port + 1;
    }
    return -1;
  }

  /**
   * Frees a UDP source port.
   *
   * @throws {InvalidArgumentError} when the port is not in use
   */
  releaseUdp(sport: Port): void {
    if (!this.#udp.delete(sport)) {
      throw new InvalidArgumentError(`lbsim/workload.EphemeralPorts.releaseUdp: port ${sport} is not in use`);
    }
  }

  /** Whether `sport` is in use by an open UDP socket. */
  udpInUse(sport: Port): boolean {
    return this.#udp.has(sport);
  }

  #destination(daddr: IPv4, dport: Port): TcpDestination {
    const key = daddr * 65536 + dport;
    let dst = this.#tcp.get(key);
    if (dst === undefined) {
      dst = { base: this.#rng.uint32(), open: new Set<Port>() };
      this.#tcp.set(key, dst);
    }
    return dst;
  }
}
