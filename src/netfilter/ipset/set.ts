import type { WorkCounts } from '../../classify/work.js';
import { OperationError, type ErrnoName } from '../../errors.js';

/**
 * One ipset: the kernel's set types that kube-proxy's IPVS mode programs,
 * with the kernel's membership rules (net/netfilter/ipset/ip_set_hash_gen.h,
 * ip_set_hash_{ip,ipport,net,ipportip,ipportnet}.c, ip_set_bitmap_port.c,
 * ip_set_bitmap_gen.h).
 *
 * Time: element timeouts run on the simulated clock in milliseconds, which is
 * the kernel's jiffies at HZ=1000 (`msecs_to_jiffies(timeout * 1000)` is then
 * exact). An element added at `t` with timeout `T` seconds expires when
 * `now > t + 1000 T` (`time_is_before_jiffies`), so it is still a member at
 * exactly `t + 1000 T`.
 *
 * Storage is lbsim's own hash (a bucket per mixed key, entries compared field
 * by field, as the kernel's hbucket arrays are): lookups count one
 * `hashProbes` per bucket looked into and one `chainSteps` per entry compared.
 *
 * @module
 */

/** The set types lbsim models. */
export type IpsetTypeName = 'hash:ip' | 'hash:ip,port' | 'hash:net' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** Feature bits of set types (IPSET_TYPE_* in include/uapi/linux/netfilter/ipset/ip_set.h). */
export const IpsetFeature = {
  IP: 1,
  PORT: 2,
  IP2: 8,
  NOMATCH: 128,
} as const;

/** What the kernel registers for a set type. */
export interface IpsetTypeInfo {
  readonly name: IpsetTypeName;
  /** Number of dimensions a `--match-set` needs at least (`set->type->dimension`). */
  readonly dimension: 1 | 2 | 3;
  /** Highest revision, as `ipset list` prints it (kernel 6.x). */
  readonly revision: number;
  /** {@link IpsetFeature} bits; `swap` needs equal features. */
  readonly features: number;
  /** Which dimension carries a CIDR prefix searched longest-first (0: none). */
  readonly netDim: 0 | 1 | 3;
  /** Bitmap type (no hash options). */
  readonly bitmap: boolean;
}

/** Registered types, by name. */
export const IPSET_TYPES: ReadonlyMap<IpsetTypeName, IpsetTypeInfo> = new Map<IpsetTypeName, IpsetTypeInfo>([
  ['hash:ip', { name: 'hash:ip', dimension: 1, revision: 6, features: IpsetFeature.IP, netDim: 0, bitmap: false }],
  [
    'hash:ip,port',
    { name: 'hash:ip,port', dimension: 2, revision: 7, features: IpsetFeature.IP | IpsetFeature.PORT, netDim: 0, bitmap: false },
  ],
  [
    'hash:net',
    { name: 'hash:net', dimension: 1, revision: 7, features: IpsetFeature.IP | IpsetFeature.NOMATCH, netDim: 1, bitmap: false },
  ],
  [
    'hash:ip,port,ip',
    {
      name: 'hash:ip,port,ip',
      dimension: 3,
      revision: 6,
      features: IpsetFeature.IP | IpsetFeature.PORT | IpsetFeature.IP2,
      netDim: 0,
      bitmap: false,
    },
  ],
  [
    'hash:ip,port,net',
    {
      name: 'hash:ip,port,net',
      dimension: 3,
      revision: 8,
      features: IpsetFeature.IP | IpsetFeature.PORT | IpsetFeature.IP2 | IpsetFeature.NOMATCH,
      netDim: 3,
      bitmap: false,
    },
  ],
  ['bitmap:port', { name: 'bitmap:port', dimension: 1, revision: 3, features: IpsetFeature.PORT, netDim: 0, bitmap: true }],
]);

/**
 * One element as typed values. Fields a type does not use are 0 (`cidr`,
 * `cidr2`: 32).
 *
 * - `hash:ip`: `ip`.
 * - `hash:ip,port`: `ip`, `proto`, `port`.
 * - `hash:net`: `ip` (network address) and `cidr` (1..32).
 * - `hash:ip,port,ip`: `ip`, `proto`, `port`, `ip2`.
 * - `hash:ip,port,net`: `ip`, `proto`, `port`, `ip2` (network) and `cidr2` (1..32).
 * - `bitmap:port`: `port`.
 *
 * For ICMP the port is the kernel's pseudo port `(type << 8) | code`; for
 * protocols without ports it is 0.
 */
export interface IpsetValue {
  readonly ip: number;
  readonly cidr: number;
  readonly proto: number;
  readonly port: number;
  readonly ip2: number;
  readonly cidr2: number;
}

/** A listed element: its value and extensions. */
export interface IpsetMember extends IpsetValue {
  /** `nomatch` flag (hash:net, hash:ip,port,net). */
  readonly nomatch: boolean;
  /** Remaining timeout in seconds as the kernel reports it (0 = permanent), or null in a set without timeouts. */
  readonly timeout: number | null;
  /** Comment, or null. */
  readonly comment: string | null;
}

/** Why an ipset operation was refused (the tool's message names it). */
export type IpsetErrorReason =
  | 'SET_EXISTS'
  | 'NO_SET'
  | 'ELEM_EXISTS'
  | 'ELEM_MISSING'
  | 'HASH_FULL'
  | 'OUT_OF_RANGE'
  | 'NULL_ELEMENT'
  | 'INVALID_CIDR'
  | 'NO_TIMEOUT'
  | 'NO_COMMENT'
  | 'NOMATCH_UNSUPPORTED'
  | 'TYPE_MISMATCH'
  | 'REFERENCED'
  | 'RENAME_REFERENCED'
  | 'NEW_NAME_EXISTS'
  | 'INVALID';

/** The ipset tool's messages for each reason (ipset 7.17, lib/errcode.c and the type modules). */
export const IPSET_MESSAGES: { readonly [K in IpsetErrorReason]: string } = {
  SET_EXISTS: 'Set cannot be created: set with the same name already exists',
  NO_SET: 'The set with the given name does not exist',
  ELEM_EXISTS: "Element cannot be added to the set: it's already added",
  ELEM_MISSING: "Element cannot be deleted from the set: it's not added",
  HASH_FULL: 'Hash is full, cannot add more elements',
  OUT_OF_RANGE: 'Element is out of the range of the set',
  NULL_ELEMENT: 'Null-valued element, cannot be stored in a hash type of set',
  INVALID_CIDR: 'The value of the CIDR parameter of the IP address is invalid',
  NO_TIMEOUT: 'Timeout cannot be used: set was created without timeout support',
  NO_COMMENT: 'Comment cannot be used: set was created without comment support',
  NOMATCH_UNSUPPORTED: 'The nomatch flag is not supported by the set type',
  TYPE_MISMATCH: 'The sets cannot be swapped: their type does not match',
  REFERENCED: 'Set cannot be destroyed: it is in use by a kernel component',
  RENAME_REFERENCED: 'Set cannot be renamed: it is in use by a kernel component',
  NEW_NAME_EXISTS: 'Set cannot be renamed: a set with the new name already exists',
  INVALID: 'Kernel error received: Invalid argument',
};

const ERRNO: { readonly [K in IpsetErrorReason]: ErrnoName } = {
  SET_EXISTS: 'EEXIST',
  NO_SET: 'ENOENT',
  ELEM_EXISTS: 'EEXIST',
  ELEM_MISSING: 'ENOENT',
  HASH_FULL: 'ERANGE',
  OUT_OF_RANGE: 'ERANGE',
  NULL_ELEMENT: 'EINVAL',
  INVALID_CIDR: 'EINVAL',
  NO_TIMEOUT: 'EINVAL',
  NO_COMMENT: 'EINVAL',
  NOMATCH_UNSUPPORTED: 'EINVAL',
  TYPE_MISMATCH: 'EINVAL',
  REFERENCED: 'EBUSY',
  RENAME_REFERENCED: 'EBUSY',
  NEW_NAME_EXISTS: 'EEXIST',
  INVALID: 'EINVAL',
};

/**
 * An ipset refusal. `reason` says which one; the message carries the tool's
 * text after the `lbsim/...` prefix.
 */
export class IpsetError extends OperationError {
  override name = 'IpsetError';
  /** What was refused. */
  readonly reason: IpsetErrorReason;
  /** 1-based line of an `ipset restore` input, or null. */
  readonly line: number | null;

  /**
   * @param where - `Class.method` that refused
   * @param reason - why
   * @param line - restore line (the message then says `Error in line N:` as the tool does)
   */
  constructor(where: string, reason: IpsetErrorReason, line: number | null = null) {
    const at = line === null ? '' : `Error in line ${line}: `;
    super(ERRNO[reason], `lbsim/netfilter.ipset.${where}: ${at}${IPSET_MESSAGES[reason]}`);
    this.reason = reason;
    this.line = line;
  }
}

/** Largest element or set timeout in seconds (IPSET_MAX_TIMEOUT = (UINT_MAX >> 1) / MSEC_PER_SEC). */
export const IPSET_MAX_TIMEOUT = 2147483;

/** Largest comment the kernel stores (IPSET_MAX_COMMENT_SIZE). */
export const IPSET_MAX_COMMENT_SIZE = 255;

/** Netmask of each prefix length 0..32. */
const MASKS: readonly number[] = Array.from({ length: 33 }, (_, i) => (i === 0 ? 0 : (0xffffffff << (32 - i)) >>> 0));

/** Netmask of a prefix length (ip_set_netmask()). */
export function netmask(cidr: number): number {
  return MASKS[cidr]!;
}

/** One stored element. */
class Entry {
  ip: number;
  cidr: number;
  proto: number;
  port: number;
  ip2: number;
  cidr2: number;
  nomatch = false;
  /** Expiry in ms (last instant the element is alive), or -1 for permanent. */
  expires = -1;
  comment: string | null = null;

  constructor(v: IpsetValue) {
    this.ip = v.ip;
    this.cidr = v.cidr;
    this.proto = v.proto;
    this.port = v.port;
    this.ip2 = v.ip2;
    this.cidr2 = v.cidr2;
  }
}

function mix(ip: number, cidr: number, proto: number, port: number, ip2: number, cidr2: number): number {
  let h = Math.imul(ip ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ ((proto << 16) | port), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ ip2, 0x27d4eb2d);
  h ^= (cidr << 8) | cidr2;
  h ^= h >>> 15;
  return h & 0x3fffffff;
}

/** Options a set is created with, normalised as the kernel stores them. */
export interface IpsetConfig {
  /** `hashsize` after the kernel's rounding (power of two, at least 64); 0 for bitmap:port. */
  readonly hashsize: number;
  /** `maxelem` (hash types); 0 for bitmap:port. */
  readonly maxelem: number;
  /** Default timeout in seconds, or null for a set without timeout support. */
  readonly timeout: number | null;
  /** Whether elements may carry comments. */
  readonly comment: boolean;
  /** `bucketsize` (2..12, even). */
  readonly bucketsize: number;
  /** jhash initval (uint32). */
  readonly initval: number;
  /** bitmap:port range. */
  readonly firstPort: number;
  readonly lastPort: number;
}

/** Extensions given with an add. */
export interface IpsetAddExt {
  /** Timeout in seconds; undefined = the set's default. */
  readonly timeout?: number | undefined;
  readonly comment?: string | undefined;
  readonly nomatch?: boolean | undefined;
}

/** Set contents and the kernel's add/del/test on them. */
export class IpSet {
  /** The type. */
  readonly type: IpsetTypeInfo;
  /** Creation options. */
  readonly config: IpsetConfig;
  #buckets = new Map<number, Entry[]>();
  /** Hash types: elements in insertion order (the listing order lbsim uses). */
  #order = new Set<Entry>();
  /** bitmap:port: element per port - firstPort. */
  #bitmap: (Entry | undefined)[] = [];
  /** Stored elements, expired ones included until purged (the kernel's `elements`). */
  #size = 0;
  /** Elements per prefix length (the kernel's h->nets book-keeping). */
  readonly #netCounts = new Int32Array(33);
  /** Prefix lengths present, longest first. */
  #nets: number[] = [];

  /**
   * @param type - the set type
   * @param config - normalised options
   */
  constructor(type: IpsetTypeInfo, config: IpsetConfig) {
    this.type = type;
    this.config = config;
    if (type.bitmap) this.#bitmap = new Array<Entry | undefined>(config.lastPort - config.firstPort + 1).fill(undefined);
  }

  /** A deep copy (restore and range operations work on copies to stay atomic). */
  clone(): IpSet {
    const c = new IpSet(this.type, this.config);
    if (this.type.bitmap) {
      for (let i = 0; i < this.#bitmap.length; i++) {
        const e = this.#bitmap[i];
        if (e !== undefined) c.#bitmap[i] = copyEntry(e);
      }
      c.#size = this.#size;
      return c;
    }
    for (const e of this.#order) c.#insert(copyEntry(e));
    return c;
  }

  /** Number of stored elements that have not expired at `now`. */
  liveCount(now: number): number {
    if (this.config.timeout === null) return this.#size;
    let n = 0;
    if (this.type.bitmap) {
      for (const e of this.#bitmap) if (e !== undefined && alive(e, now)) n++;
    } else {
      for (const e of this.#order) if (alive(e, now)) n++;
    }
    return n;
  }

  /** Removes every element (`ipset flush`). */
  flush(): void {
    this.#buckets.clear();
    this.#order.clear();
    if (this.type.bitmap) this.#bitmap.fill(undefined);
    this.#size = 0;
    this.#netCounts.fill(0);
    this.#nets = [];
  }

  /** Drops expired elements (the kernel's garbage collector; invisible to tests and listings). */
  purge(now: number): void {
    if (this.config.timeout === null) return;
    if (this.type.bitmap) {
      for (let i = 0; i < this.#bitmap.length; i++) {
        const e = this.#bitmap[i];
        if (e !== undefined && !alive(e, now)) {
          this.#bitmap[i] = undefined;
          this.#size--;
        }
      }
      return;
    }
    for (const e of this.#order) if (!alive(e, now)) this.#remove(e);
  }

  /**
   * Adds one normalised element (mtype_add / bitmap mtype_add).
   *
   * @throws {IpsetError} ELEM_EXISTS, HASH_FULL, OUT_OF_RANGE, NO_TIMEOUT, NO_COMMENT
   */
  add(v: IpsetValue, ext: IpsetAddExt, exist: boolean, now: number, where: string): void {
    const timeout = this.#elementTimeout(ext, where);
    const comment = this.#elementComment(ext, where);
    const nomatch = ext.nomatch === true;
    if (nomatch && (this.type.features & IpsetFeature.NOMATCH) === 0) throw new IpsetError(where, 'NOMATCH_UNSUPPORTED');
    let e: Entry | undefined;
    if (this.type.bitmap) {
      const id = this.#bitmapId(v.port, where);
      e = this.#bitmap[id];
      if (e === undefined) {
        e = new Entry(v);
        this.#bitmap[id] = e;
        this.#size++;
      } else if (alive(e, now) && !exist) {
        throw new IpsetError(where, 'ELEM_EXISTS');
      }
    } else {
      e = this.#find(v);
      if (e !== undefined) {
        // An equal element: -exist or an expired one only gets its extensions rewritten.
        if (alive(e, now) && !exist) throw new IpsetError(where, 'ELEM_EXISTS');
      } else {
        if (this.#size >= this.config.maxelem) {
          // The kernel runs the gc of the region before declaring the set full.
          this.purge(now);
          if (this.#size >= this.config.maxelem) {
            throw new IpsetError(where, 'HASH_FULL');
          }
        }
        e = new Entry(v);
        this.#insert(e);
      }
    }
    e.nomatch = nomatch;
    e.comment = comment;
    e.expires = timeout === 0 ? -1 : now + timeout * 1000;
  }

  /**
   * Deletes one normalised element (mtype_del): an expired element counts as not added.
   *
   * @throws {IpsetError} ELEM_MISSING, OUT_OF_RANGE
   */
  del(v: IpsetValue, exist: boolean, now: number, where: string): void {
    if (this.type.bitmap) {
      const id = this.#bitmapId(v.port, where);
      const e = this.#bitmap[id];
      if (e === undefined || !alive(e, now)) {
        if (exist) return;
        throw new IpsetError(where, 'ELEM_MISSING');
      }
      this.#bitmap[id] = undefined;
      this.#size--;
      return;
    }
    const e = this.#find(v);
    if (e === undefined || !alive(e, now)) {
      if (exist) return;
      throw new IpsetError(where, 'ELEM_MISSING');
    }
    this.#remove(e);
  }

  /**
   * `ipset test` of one element (ip_set_utest and the type's uadt): for the
   * prefix types a host prefix (`cidr` 32) searches every stored prefix
   * longest first; a shorter prefix is looked up exactly. A `nomatch`
   * element answers "not in set" unless `nomatch` is given with the test.
   */
  testElement(v: IpsetValue, nomatch: boolean, now: number): boolean {
    let r: number;
    if (this.type.bitmap) {
      const id = v.port - this.config.firstPort;
      if (id < 0 || v.port > this.config.lastPort) return false;
      const e = this.#bitmap[id];
      r = e !== undefined && alive(e, now) ? 1 : 0;
    } else {
      const netCidr = this.type.netDim === 1 ? v.cidr : v.cidr2;
      if (this.type.netDim !== 0 && netCidr === 32) {
        r = this.#testCidrs(v.ip, v.proto, v.port, v.ip2, now, null);
      } else {
        const e = this.#find(v);
        r = e !== undefined && alive(e, now) ? (e.nomatch ? -1 : 1) : 0;
      }
    }
    if (r < 0) return nomatch;
    return r > 0;
  }

  /**
   * The kernel-side test of a packet's values (the type's kadt + mtype_test):
   * 1 for a matching element, -1 for a `nomatch` element (-ENOTEMPTY), 0 for none.
   * Allocation-free.
   *
   * @param ip - dimension-1 address (or the address searched in hash:net)
   * @param proto - IP protocol (ip,port types)
   * @param port - port or ICMP pseudo port (ip,port types, bitmap:port)
   * @param ip2 - dimension-3 address (searched by prefix in hash:ip,port,net)
   * @param now - simulated time in ms
   * @param work - counts hash probes and chain steps, or null
   */
  kernelTest(ip: number, proto: number, port: number, ip2: number, now: number, work: WorkCounts | null): number {
    if (this.type.bitmap) {
      if (work !== null) work.hashProbes++;
      if (port < this.config.firstPort || port > this.config.lastPort) return 0;
      const e = this.#bitmap[port - this.config.firstPort];
      return e !== undefined && alive(e, now) ? 1 : 0;
    }
    if (this.type.netDim !== 0) return this.#testCidrs(ip, proto, port, ip2, now, work);
    if (work !== null) work.hashProbes++;
    const bucket = this.#buckets.get(mix(ip, 32, proto, port, ip2, 32));
    if (bucket === undefined) return 0;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i]!;
      if (work !== null) work.chainSteps++;
      if (e.ip === ip && e.proto === proto && e.port === port && e.ip2 === ip2 && alive(e, now)) return 1;
    }
    return 0;
  }

  /** Elements alive at `now`, in listing order (insertion order; ascending port for bitmap:port). */
  members(now: number): IpsetMember[] {
    const out: IpsetMember[] = [];
    const withTimeout = this.config.timeout !== null;
    const push = (e: Entry): void => {
      if (!alive(e, now)) return;
      out.push({
        ip: e.ip,
        cidr: e.cidr,
        proto: e.proto,
        port: e.port,
        ip2: e.ip2,
        cidr2: e.cidr2,
        nomatch: e.nomatch,
        timeout: withTimeout ? remaining(e, now) : null,
        comment: e.comment,
      });
    };
    if (this.type.bitmap) {
      for (const e of this.#bitmap) if (e !== undefined) push(e);
    } else {
      for (const e of this.#order) push(e);
    }
    return out;
  }

  // ---------------------------------------------------------------- internals

  #elementTimeout(ext: IpsetAddExt, where: string): number {
    if (ext.timeout === undefined) return this.config.timeout ?? 0;
    if (this.config.timeout === null) throw new IpsetError(where, 'NO_TIMEOUT');
    return ext.timeout;
  }

  #elementComment(ext: IpsetAddExt, where: string): string | null {
    if (ext.comment === undefined) return null;
    if (!this.config.comment) throw new IpsetError(where, 'NO_COMMENT');
    // ip_set_init_comment(): an empty comment stores none; longer ones are cut at IPSET_MAX_COMMENT_SIZE.
    if (ext.comment === '') return null;
    return ext.comment.length > IPSET_MAX_COMMENT_SIZE ? ext.comment.slice(0, IPSET_MAX_COMMENT_SIZE) : ext.comment;
  }

  #bitmapId(port: number, where: string): number {
    if (port < this.config.firstPort || port > this.config.lastPort) throw new IpsetError(where, 'OUT_OF_RANGE');
    return port - this.config.firstPort;
  }

  #find(v: IpsetValue): Entry | undefined {
    const bucket = this.#buckets.get(mix(v.ip, v.cidr, v.proto, v.port, v.ip2, v.cidr2));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i]!;
      if (e.ip === v.ip && e.cidr === v.cidr && e.proto === v.proto && e.port === v.port && e.ip2 === v.ip2 && e.cidr2 === v.cidr2) {
        return e;
      }
    }
    return undefined;
  }

  #insert(e: Entry): void {
    const k = mix(e.ip, e.cidr, e.proto, e.port, e.ip2, e.cidr2);
    const bucket = this.#buckets.get(k);
    if (bucket === undefined) this.#buckets.set(k, [e]);
    else bucket.push(e);
    this.#order.add(e);
    this.#size++;
    if (this.type.netDim !== 0) this.#addCidr(this.type.netDim === 1 ? e.cidr : e.cidr2);
  }

  #remove(e: Entry): void {
    const k = mix(e.ip, e.cidr, e.proto, e.port, e.ip2, e.cidr2);
    const bucket = this.#buckets.get(k);
    if (bucket !== undefined) {
      const i = bucket.indexOf(e);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.#buckets.delete(k);
    }
    this.#order.delete(e);
    this.#size--;
    if (this.type.netDim !== 0) this.#delCidr(this.type.netDim === 1 ? e.cidr : e.cidr2);
  }

  /** mtype_add_cidr(): keep the present prefixes sorted longest first. */
  #addCidr(cidr: number): void {
    if (this.#netCounts[cidr]!++ > 0) return;
    const nets = this.#nets;
    let i = 0;
    while (i < nets.length && nets[i]! > cidr) i++;
    nets.splice(i, 0, cidr);
  }

  #delCidr(cidr: number): void {
    if (--this.#netCounts[cidr]! > 0) return;
    const i = this.#nets.indexOf(cidr);
    if (i >= 0) this.#nets.splice(i, 1);
  }

  /**
   * mtype_test_cidrs(): try each stored prefix length, longest first; the
   * first equal live element decides (1, or -1 for nomatch).
   */
  #testCidrs(ip: number, proto: number, port: number, ip2: number, now: number, work: WorkCounts | null): number {
    const nets = this.#nets;
    const net1 = this.type.netDim === 1;
    for (let j = 0; j < nets.length; j++) {
      const c = nets[j]!;
      const m = MASKS[c]!;
      const a = net1 ? (ip & m) >>> 0 : ip;
      const b = net1 ? ip2 : (ip2 & m) >>> 0;
      const c1 = net1 ? c : 32;
      const c2 = net1 ? 32 : c;
      if (work !== null) work.hashProbes++;
      const bucket = this.#buckets.get(mix(a, c1, proto, port, b, c2));
      if (bucket === undefined) continue;
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i]!;
        if (work !== null) work.chainSteps++;
        if (e.ip !== a || e.cidr !== c1 || e.proto !== proto || e.port !== port || e.ip2 !== b || e.cidr2 !== c2) continue;
        if (!alive(e, now)) continue;
        return e.nomatch ? -1 : 1;
      }
    }
    return 0;
  }
}

function alive(e: Entry, now: number): boolean {
  return e.expires < 0 || now <= e.expires;
}

/** ip_set_timeout_get(): whole seconds left, and 1 rather than 0 (0 means permanent to userspace). */
function remaining(e: Entry, now: number): number {
  if (e.expires < 0) return 0;
  const t = Math.floor((e.expires - now) / 1000);
  return t === 0 ? 1 : t;
}

function copyEntry(e: Entry): Entry {
  const c = new Entry(e);
  c.nomatch = e.nomatch;
  c.expires = e.expires;
  c.comment = e.comment;
  return c;
}
