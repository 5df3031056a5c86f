import { InvalidArgumentError } from '../errors.js';
import { createZipfSampler, type ZipfSampler } from '../fairness/arbitraries.js';
import { parseCidr, prefixMask, type Cidr, type IPv4 } from '../net/ipv4.js';
import type { Rng } from '../sim/rng.js';
import { DEFAULT_LOCAL_PORT_RANGE, EphemeralPorts, type PortRange, checkPortRange } from './ports.js';

/** How client addresses are laid out in their CIDR blocks. */
export type ClientAddressing = 'sequential' | 'random';

/** Options of a {@link ClientPool}. */
export interface ClientOptions {
  /** Number of client hosts, each with its own address and ephemeral ports. @defaultValue 1 */
  readonly count?: number;
  /**
   * Address blocks the clients live in, as text (`'10.1.0.0/16'`) or parsed
   * {@link Cidr}s. Every address of a block is usable, network and broadcast
   * addresses included (IPVS does not care). Blocks must not overlap.
   * @defaultValue `['192.168.0.0/16']`
   */
  readonly cidrs?: readonly (string | Cidr)[];
  /**
   * `'sequential'`: client `i` gets the `i`-th address of the blocks (taken
   * in order). `'random'`: `count` distinct addresses drawn uniformly from
   * the blocks with the workload's random stream.
   * @defaultValue `'sequential'`
   */
  readonly addressing?: ClientAddressing;
  /**
   * Zipf exponent of the client choice: each new connection comes from
   * client `k` with probability ∝ `1/(k+1)^s` ({@link createZipfSampler}).
   * 0 is uniform; about 1 makes a few clients dominate.
   * @defaultValue 0
   */
  readonly zipfExponent?: number;
  /**
   * The hosts' `net.ipv4.ip_local_port_range`.
   * @defaultValue {@link DEFAULT_LOCAL_PORT_RANGE} (32768..60999)
   */
  readonly portRange?: PortRange;
}

const WHERE = 'workload.ClientPool';

/**
 * The client hosts of a workload: their addresses, their ephemeral port
 * state ({@link EphemeralPorts}, one per host) and the seeded choice of which
 * client opens the next connection (uniform or Zipf-skewed).
 */
export class ClientPool {
  /** Client addresses; index = client number = Zipf rank. */
  readonly addresses: readonly IPv4[];
  /** Ephemeral ports of each client, same index as {@link ClientPool.addresses}. */
  readonly ports: readonly EphemeralPorts[];
  /** The Zipf exponent in use. */
  readonly zipfExponent: number;
  readonly #choice: Rng;
  readonly #zipf: ZipfSampler | null;

  /**
   * @param options - see {@link ClientOptions}
   * @param addressRng - stream for random addressing (used only at construction)
   * @param choiceRng - stream for the client choice
   * @param portRng - stream for the ephemeral-port algorithm
   * @throws {InvalidArgumentError} for bad options, overlapping blocks, or
   *   more clients than addresses
   * @throws {ParseError} for a malformed CIDR string
   */
  constructor(options: ClientOptions, addressRng: Rng, choiceRng: Rng, portRng: Rng) {
    const count = options.count ?? 1;
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new InvalidArgumentError(`lbsim/${WHERE}: count must be an integer >= 1 (got ${count})`);
    }
    const blocks = (options.cidrs ?? ['192.168.0.0/16']).map((c) => resolveCidr(c));
    if (blocks.length === 0) throw new InvalidArgumentError(`lbsim/${WHERE}: cidrs must not be empty`);
    for (let i = 0; i < blocks.length; i++) {
      for (let j = i + 1; j < blocks.length; j++) {
        const a = blocks[i]!;
        const b = blocks[j]!;
        const m = a.prefixLength < b.prefixLength ? a.mask : b.mask;
        if (((a.address & m) >>> 0) === ((b.address & m) >>> 0)) {
          throw new InvalidArgumentError(`lbsim/${WHERE}: client CIDR blocks ${i} and ${j} overlap`);
        }
      }
    }
    let total = 0;
    for (const b of blocks) total += 2 ** (32 - b.prefixLength);
    if (count > total) {
      throw new InvalidArgumentError(`lbsim/${WHERE}: ${count} clients do not fit in ${total} addresses`);
    }
    const addressing: string = options.addressing ?? 'sequential'; // checked: JavaScript callers can pass anything
    if (addressing !== 'sequential' && addressing !== 'random') {
      throw new InvalidArgumentError(`lbsim/${WHERE}: addressing must be 'sequential' or 'random'`);
    }
    const at = (index: number): IPv4 => {
      let i = index;
      for (const b of blocks) {
        const size = 2 ** (32 - b.prefixLength);
        if (i < size) return b.address + i;
        i -= size;
      }
      throw new InvalidArgumentError(`lbsim/${WHERE}: address index ${index} out of range`);
    };
    const addresses: IPv4[] = [];
    if (addressing === 'sequential') {
      for (let i = 0; i < count; i++) addresses.push(at(i));
    } else {
      // Floyd's sampling: `count` distinct indices in [0, total), uniformly.
      // below() takes bounds up to 2^32, and total ≤ 2^32 since blocks are disjoint.
      const chosen = new Set<number>();
      for (let j = total - count; j < total; j++) {
        const t = addressRng.below(j + 1);
        chosen.add(chosen.has(t) ? j : t);
      }
      for (const i of chosen) addresses.push(at(i));
    }
    const range = checkPortRange(WHERE, options.portRange ?? DEFAULT_LOCAL_PORT_RANGE);
    this.addresses = addresses;
    this.ports = addresses.map((a) => new EphemeralPorts(a, portRng, range));
    const s = options.zipfExponent ?? 0;
    if (!(Number.isFinite(s) && s >= 0)) {
      throw new InvalidArgumentError(`lbsim/${WHERE}: zipfExponent must be a finite number >= 0 (got ${s})`);
    }
    this.zipfExponent = s;
    this.#choice = choiceRng;
    this.#zipf = s === 0 || count === 1 ? null : createZipfSampler(choiceRng, count, s);
  }

  /** Number of clients. */
  get count(): number {
    return this.addresses.length;
  }

  /** The client that opens the next connection (one draw from the choice stream; none with one client). */
  next(): number {
    const n = this.addresses.length;
    if (n === 1) return 0;
    return this.#zipf !== null ? this.#zipf.next() : this.#choice.below(n);
  }
}

function resolveCidr(c: string | Cidr): Cidr {
  if (typeof c === 'string') return parseCidr(c);
  if (!Number.isInteger(c.prefixLength) || c.prefixLength < 0 || c.prefixLength > 32) {
    throw new InvalidArgumentError(`lbsim/${WHERE}: prefixLength must be an integer in [0, 32] (got ${c.prefixLength})`);
  }
  if (!Number.isInteger(c.address) || c.address < 0 || c.address > 0xffffffff) {
    throw new InvalidArgumentError(`lbsim/${WHERE}: address must be a uint32 (got ${c.address})`);
  }
  const mask = prefixMask(c.prefixLength);
  return { address: (c.address & mask) >>> 0, prefixLength: c.prefixLength, mask };
}
