import { InvalidArgumentError, ParseError } from '../../errors.js';
import { createRng, type Rng } from '../../sim/rng.js';
import {
  ElementSyntaxError,
  elementCount,
  forEachValue,
  formatElement,
  parseElement,
  type ElementSpec,
} from './elements.js';
import {
  IPSET_MAX_COMMENT_SIZE,
  IPSET_MAX_TIMEOUT,
  IPSET_TYPES,
  IpSet,
  IpsetError,
  type IpsetConfig,
  type IpsetMember,
  type IpsetTypeInfo,
  type IpsetTypeName,
  type IpsetValue,
} from './set.js';

/**
 * The ipset state of one network namespace: named sets in the kernel's
 * index slots, with the `ipset` tool's commands (ip_set_core.c: create,
 * destroy, flush, rename, swap, add/del/test through the types' uadt) and
 * `ipset save` / `ipset restore` text.
 *
 * Differences from the real tool, on purpose:
 * - Every call is atomic: a failing range add/del or restore changes nothing
 *   (the kernel and the tool stop at the first failing element or line and
 *   keep what was done before it).
 * - `save` lists elements in insertion order (bitmap:port in port order);
 *   the kernel lists hash sets in bucket order, which depends on the random
 *   `initval`, so compare real output without regard to element order.
 * - `hashsize` stays as created; the kernel doubles it when a bucket
 *   overflows, which depends on the hash values.
 *
 * @module
 */

/** Something that knows the simulated time in ms ({@link SimClock} does). */
export interface NowSource {
  readonly now: number;
}

/** Options of {@link IpsetStore}. */
export interface IpsetStoreOptions {
  /** Simulated clock for element timeouts (default: time stays 0). */
  readonly clock?: NowSource;
  /** Randomness for `initval` of sets created without one (default `createRng('ipset')`). */
  readonly rng?: Rng;
}

/** `ipset create` options. Omitted values take the kernel's defaults. */
export interface IpsetCreateOptions {
  /** Only `inet` is modelled. */
  readonly family?: 'inet';
  /** Hash types: initial hash size (default 1024; below 64 becomes 64; rounded up to a power of two). */
  readonly hashsize?: number;
  /** Hash types: maximal number of elements (default 65536). */
  readonly maxelem?: number;
  /** Default element timeout in seconds (0..2147483); giving it enables per-element timeouts. */
  readonly timeout?: number;
  /** Elements may carry comments. */
  readonly comment?: boolean;
  /** Hash types: bucket size (default 12; clamped to 2..12 and made even, as the kernel does). */
  readonly bucketsize?: number;
  /** Hash types: jhash initval (default: drawn from the store's Rng). */
  readonly initval?: number;
  /** bitmap:port: the port range (mandatory). */
  readonly range?: { readonly from: number; readonly to: number };
}

/** Options of `add`. */
export interface IpsetAddOptions {
  /** Timeout in seconds for this element (0 = permanent); needs a set created with `timeout`. */
  readonly timeout?: number;
  /** Comment; needs a set created with `comment`. */
  readonly comment?: string;
  /** `nomatch` flag (hash:net, hash:ip,port,net). */
  readonly nomatch?: boolean;
  /** `-exist`: re-adding rewrites the element's timeout/comment/nomatch instead of failing. */
  readonly exist?: boolean;
}

/** What `ipset list` reports about a set. */
export interface IpsetInfo {
  readonly name: string;
  readonly type: IpsetTypeName;
  /** Type revision (`Revision:` line). */
  readonly revision: number;
  /** The header options as `ipset list`/`save` print them. */
  readonly header: string;
  readonly config: IpsetConfig;
  /** Rules referencing the set. */
  readonly references: number;
  /** `Number of entries` (elements not expired). */
  readonly entries: number;
  readonly members: readonly IpsetMember[];
}

interface Slot {
  name: string;
  set: IpSet;
  refs: number;
}

const MAX_NAME = 31;
/** Largest expansion of one ranged add/del lbsim performs. */
const MAX_EXPANSION = 1 << 20;

/** Named ipsets with the tool's commands. */
export class IpsetStore {
  #slots: (Slot | null)[] = [];
  #byName = new Map<string, Slot>();
  readonly #clock: NowSource;
  readonly #rng: Rng;

  /** @param options - clock and randomness */
  constructor(options: IpsetStoreOptions = {}) {
    this.#clock = options.clock ?? { now: 0 };
    this.#rng = options.rng ?? createRng('ipset');
  }

  /** Current simulated time in ms. */
  get now(): number {
    return this.#clock.now;
  }

  /** Whether a set exists. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Set names in index order (the order `save` prints). */
  names(): string[] {
    const out: string[] = [];
    for (const s of this.#slots) if (s !== null) out.push(s.name);
    return out;
  }

  /** The set behind a name, or undefined (what `matchSet` evaluates). */
  get(name: string): IpSet | undefined {
    return this.#byName.get(name)?.set;
  }

  /**
   * `ipset create NAME TYPE [options]`.
   *
   * @param exist - `-exist`: creating a set that exists with the same type and options is not an error
   * @throws {IpsetError} SET_EXISTS
   * @throws {InvalidArgumentError} for unknown types and out-of-range options
   */
  create(name: string, type: IpsetTypeName, options: IpsetCreateOptions = {}, exist = false): void {
    const where = 'IpsetStore.create';
    checkName(where, name);
    const info = IPSET_TYPES.get(type);
    if (info === undefined) throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: unknown set type ${JSON.stringify(type)}`);
    const clash = this.#byName.get(name);
    if (clash !== undefined && !exist) throw new IpsetError(where, 'SET_EXISTS');
    const config = makeConfig(where, info, options, clash === undefined ? this.#rng : null);
    if (clash !== undefined) {
      // ip_set_create(): -exist accepts only the same type and an equal set (same_set()).
      if (!sameSet(clash.set, info, config)) throw new IpsetError(where, 'SET_EXISTS');
      return;
    }
    const slot: Slot = { name, set: new IpSet(info, config), refs: 0 };
    let i = this.#slots.indexOf(null);
    if (i < 0) i = this.#slots.push(null) - 1;
    this.#slots[i] = slot;
    this.#byName.set(name, slot);
  }

  /**
   * `ipset destroy [NAME]`: without a name every set goes, unless one is referenced.
   *
   * @throws {IpsetError} NO_SET, REFERENCED
   */
  destroy(name?: string): void {
    const where = 'IpsetStore.destroy';
    if (name === undefined) {
      for (const s of this.#slots) if (s !== null && s.refs > 0) throw new IpsetError(where, 'REFERENCED');
      this.#slots = [];
      this.#byName.clear();
      return;
    }
    const slot = this.#slot(where, name);
    if (slot.refs > 0) throw new IpsetError(where, 'REFERENCED');
    this.#slots[this.#slots.indexOf(slot)] = null;
    this.#byName.delete(name);
  }

  /**
   * `ipset flush [NAME]`.
   *
   * @throws {IpsetError} NO_SET
   */
  flush(name?: string): void {
    if (name === undefined) {
      for (const s of this.#slots) s?.set.flush();
      return;
    }
    this.#slot('IpsetStore.flush', name).set.flush();
  }

  /**
   * `ipset rename FROM TO`.
   *
   * @throws {IpsetError} NO_SET, NEW_NAME_EXISTS, RENAME_REFERENCED
   */
  rename(from: string, to: string): void {
    const where = 'IpsetStore.rename';
    const slot = this.#slot(where, from);
    checkName(where, to);
    if (slot.refs > 0) throw new IpsetError(where, 'RENAME_REFERENCED');
    if (this.#byName.has(to)) throw new IpsetError(where, 'NEW_NAME_EXISTS');
    this.#byName.delete(from);
    slot.name = to;
    this.#byName.set(to, slot);
  }

  /**
   * `ipset swap A B`: the contents (type, options, elements) change names;
   * references stay with the names, so rules follow the name (ip_set_swap()).
   *
   * @throws {IpsetError} NO_SET, TYPE_MISMATCH (features must be equal)
   */
  swap(a: string, b: string): void {
    const where = 'IpsetStore.swap';
    const sa = this.#slot(where, a);
    const sb = this.#slot(where, b);
    if (sa.set.type.features !== sb.set.type.features) throw new IpsetError(where, 'TYPE_MISMATCH');
    const t = sa.set;
    sa.set = sb.set;
    sb.set = t;
  }

  /**
   * A rule referencing a set (xt_set checkentry): the set must exist, and
   * cannot be destroyed or renamed while referenced.
   *
   * @throws {IpsetError} NO_SET
   */
  reference(name: string): void {
    this.#slot('IpsetStore.reference', name).refs++;
  }

  /** Drops a reference taken with {@link IpsetStore.reference}. */
  release(name: string): void {
    const slot = this.#slot('IpsetStore.release', name);
    if (slot.refs === 0) throw new InvalidArgumentError(`lbsim/netfilter.ipset.IpsetStore.release: set ${name} is not referenced`);
    slot.refs--;
  }

  /**
   * `ipset add NAME ELEM [timeout N] [comment C] [nomatch]`. A string element
   * may be a range (`10.0.0.0/30`, `10.0.0.1-10.0.0.3`, `10.0.0.1,tcp:80-82`,
   * `30000-30010`) that expands into single elements; the whole add is
   * atomic.
   *
   * @throws {IpsetError} NO_SET, ELEM_EXISTS, HASH_FULL, OUT_OF_RANGE, NO_TIMEOUT, NO_COMMENT, NULL_ELEMENT
   * @throws {ParseError} for malformed element text
   */
  add(name: string, elem: string | IpsetValue, options: IpsetAddOptions = {}): void {
    const where = 'IpsetStore.add';
    const slot = this.#slot(where, name);
    const ext = checkExt(where, options);
    this.#apply(slot, where, elem, (set, v) => {
      set.add(v, ext, options.exist === true, this.#clock.now, where);
    });
  }

  /**
   * `ipset del NAME ELEM`; ranges as for {@link IpsetStore.add}.
   *
   * @param exist - `-exist`: deleting a missing element is not an error
   * @throws {IpsetError} NO_SET, ELEM_MISSING, OUT_OF_RANGE
   */
  del(name: string, elem: string | IpsetValue, exist = false): void {
    const where = 'IpsetStore.del';
    const slot = this.#slot(where, name);
    this.#apply(slot, where, elem, (set, v) => {
      set.del(v, exist, this.#clock.now, where);
    });
  }

  /**
   * `ipset test NAME ELEM [nomatch]`: whether the element is in the set.
   * For hash:net and hash:ip,port,net an address (no prefix) is searched
   * through every stored prefix, longest first; a `nomatch` element says no
   * unless `nomatch` is passed.
   *
   * @throws {IpsetError} NO_SET
   * @throws {ParseError} for malformed element text or a range
   */
  test(name: string, elem: string | IpsetValue, nomatch = false): boolean {
    const where = 'IpsetStore.test';
    const set = this.#slot(where, name).set;
    const now = this.#clock.now;
    if (typeof elem !== 'string') return set.testElement(normalize(set.type, elem, where), nomatch, now);
    const spec = parseElementText(set.type, elem, where);
    if (spec.isRange) {
      throw new ParseError(`lbsim/netfilter.ipset.${where}: Syntax error: ranges are not supported by test`, elem, 1, 1);
    }
    let hit = false;
    forEachValue(set.type, spec, (v) => {
      hit = set.testElement(v, nomatch, now);
    });
    return hit;
  }

  /**
   * `ipset list [NAME]`: sets in index order with their live members.
   *
   * @throws {IpsetError} NO_SET
   */
  list(name?: string): IpsetInfo[] {
    const slots = name === undefined ? this.#slots.filter((s): s is Slot => s !== null) : [this.#slot('IpsetStore.list', name)];
    const now = this.#clock.now;
    return slots.map((s) => ({
      name: s.name,
      type: s.set.type.name,
      revision: s.set.type.revision,
      header: formatHeader(s.set),
      config: s.set.config,
      references: s.refs,
      entries: s.set.liveCount(now),
      members: s.set.members(now),
    }));
  }

  /**
   * `ipset save [NAME]`: `create` lines with the options, then one `add` per
   * element with its remaining timeout, `nomatch` and comment.
   *
   * @throws {IpsetError} NO_SET
   */
  save(name?: string): string {
    let out = '';
    for (const info of this.list(name)) {
      const set = this.#byName.get(info.name)!.set;
      out += `create ${info.name} ${info.type} ${info.header}\n`;
      for (const m of info.members) out += `add ${info.name} ${formatMember(set.type, m)}\n`;
    }
    return out;
  }

  /**
   * `ipset restore`: runs `create`, `add`, `del`, `destroy`, `flush`,
   * `rename` and `swap` lines (also their one-letter forms `-N -A -D -X -F
   * -E -W`); blank lines and `#` comments are skipped. Atomic: on any error
   * nothing changes.
   *
   * @param exist - `-exist` for every line
   * @throws {ParseError} with line and column for malformed lines
   * @throws {IpsetError} with `line` for refused commands
   */
  restore(text: string, exist = false): void {
    const scratch = new IpsetStore({ clock: this.#clock, rng: this.#rng });
    scratch.#slots = this.#slots.map((s) => (s === null ? null : { name: s.name, set: s.set.clone(), refs: s.refs }));
    for (const s of scratch.#slots) if (s !== null) scratch.#byName.set(s.name, s);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      try {
        scratch.#restoreLine(line, i + 1, exist);
      } catch (err) {
        if (err instanceof IpsetError && err.line === null) throw new IpsetError('IpsetStore.restore', err.reason, i + 1);
        throw err;
      }
    }
    this.#slots = scratch.#slots;
    this.#byName = scratch.#byName;
  }

  // ---------------------------------------------------------------- internals

  #slot(where: string, name: string): Slot {
    const s = this.#byName.get(name);
    if (s === undefined) throw new IpsetError(where, 'NO_SET');
    return s;
  }

  #apply(slot: Slot, where: string, elem: string | IpsetValue, op: (set: IpSet, v: IpsetValue) => void): void {
    const type = slot.set.type;
    if (typeof elem !== 'string') {
      op(slot.set, normalize(type, elem, where));
      return;
    }
    const spec = parseElementText(type, elem, where);
    checkNull(type, spec, where);
    const n = elementCount(type, spec);
    if (n === 1) {
      forEachValue(type, spec, (v) => {
        op(slot.set, v);
      });
      return;
    }
    if (n > MAX_EXPANSION && !type.bitmap) {
      if (where === 'IpsetStore.add' && n > slot.set.config.maxelem) throw new IpsetError(where, 'HASH_FULL');
      throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: range of ${n} elements is larger than lbsim expands (${MAX_EXPANSION})`);
    }
    const copy = slot.set.clone();
    forEachValue(type, spec, (v) => {
      op(copy, v);
    });
    slot.set = copy;
  }

  #restoreLine(line: string, lineNo: number, exist: boolean): void {
    const toks = tokenize(line, lineNo);
    if (toks.length === 0) return;
    const fail = (msg: string, tok: Token | undefined): never => {
      throw new ParseError(`lbsim/netfilter.ipset.IpsetStore.restore: ${msg}`, line, lineNo, tok === undefined ? line.length + 1 : tok.col);
    };
    const cmd = toks[0]!;
    const arg = (i: number, what: string): Token => toks[i] ?? fail(`Missing ${what}`, undefined);
    const noMore = (from: number): void => {
      if (toks.length > from) fail(`Unknown argument: '${toks[from]!.text}'`, toks[from]);
    };
    switch (COMMANDS.get(cmd.text)) {
      case 'create': {
        const name = arg(1, 'set name');
        const typeTok = arg(2, 'set type');
        const info = IPSET_TYPES.get(typeTok.text as IpsetTypeName);
        if (info === undefined) fail(`Syntax error: Unknown settype ${typeTok.text}`, typeTok);
        const opts = parseCreateOptions(toks.slice(3), info!, fail);
        try {
          this.create(name.text, info!.name, opts, exist);
        } catch (err) {
          if (err instanceof InvalidArgumentError) fail(stripPrefix(err.message), name);
          throw err;
        }
        return;
      }
      case 'add':
      case 'del': {
        const name = arg(1, 'set name');
        const elemTok = arg(2, 'element');
        const slot = this.#byName.get(name.text);
        if (slot === undefined) throw new IpsetError('IpsetStore.restore', 'NO_SET', lineNo);
        try {
          parseElement(slot.set.type, elemTok.text);
        } catch (err) {
          if (err instanceof ElementSyntaxError) fail(err.message, { text: elemTok.text, col: elemTok.col + err.offset });
          throw err;
        }
        if (COMMANDS.get(cmd.text) === 'del') {
          noMore(3);
          this.del(name.text, elemTok.text, exist);
          return;
        }
        const ext = parseAddOptions(toks.slice(3), fail);
        this.add(name.text, elemTok.text, { ...ext, exist: exist || ext.exist === true });
        return;
      }
      case 'destroy':
      case 'flush': {
        noMore(2);
        const name = toks[1]?.text;
        if (COMMANDS.get(cmd.text) === 'destroy') this.destroy(name);
        else this.flush(name);
        return;
      }
      case 'rename':
      case 'swap': {
        const a = arg(1, 'set name');
        const b = arg(2, 'second set name');
        noMore(3);
        if (COMMANDS.get(cmd.text) === 'rename') {
          try {
            this.rename(a.text, b.text);
          } catch (err) {
            if (err instanceof InvalidArgumentError) fail(stripPrefix(err.message), b);
            throw err;
          }
        } else {
          this.swap(a.text, b.text);
        }
        return;
      }
      case undefined:
        fail(`Syntax error: unknown command ${cmd.text}`, cmd);
    }
  }
}

const COMMANDS: ReadonlyMap<string, 'create' | 'add' | 'del' | 'destroy' | 'flush' | 'rename' | 'swap'> = new Map([
  ['create', 'create'],
  ['-N', 'create'],
  ['add', 'add'],
  ['-A', 'add'],
  ['del', 'del'],
  ['-D', 'del'],
  ['destroy', 'destroy'],
  ['-X', 'destroy'],
  ['flush', 'flush'],
  ['-F', 'flush'],
  ['rename', 'rename'],
  ['-E', 'rename'],
  ['swap', 'swap'],
  ['-W', 'swap'],
] as const);

interface Token {
  readonly text: string;
  /** 1-based column. */
  readonly col: number;
  readonly quoted?: boolean;
}

function tokenize(line: string, lineNo: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#' && out.length === 0) return out;
    if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) {
        throw new ParseError('lbsim/netfilter.ipset.IpsetStore.restore: Syntax error: unterminated quoted string', line, lineNo, i + 1);
      }
      out.push({ text: line.slice(i + 1, end), col: i + 1, quoted: true });
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < n && line[i] !== ' ' && line[i] !== '\t') i++;
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

function stripPrefix(msg: string): string {
  const i = msg.indexOf(': ');
  return i >= 0 && msg.startsWith('lbsim/') ? msg.slice(i + 2) : msg;
}

function parseUint(text: string): number {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^[0-9]{1,10}$/.test(text) && Number(text) <= 0xffffffff) return Number(text);
  return -1;
}

type Fail = (msg: string, tok: Token | undefined) => never;

function parseCreateOptions(toks: readonly Token[], info: IpsetTypeInfo, fail: Fail): IpsetCreateOptions {
  const o: {
    family?: 'inet';
    hashsize?: number;
    maxelem?: number;
    timeout?: number;
    comment?: boolean;
    bucketsize?: number;
    initval?: number;
    range?: { from: number; to: number };
  } = {};
  const num = (i: number, max = 0xffffffff): number => {
    const t = toks[i];
    if (t === undefined) return fail(`Syntax error: option ${toks[i - 1]!.text} requires an argument`, undefined);
    const v = parseUint(t.text);
    if (v < 0) return fail(`Syntax error: '${t.text}' is invalid as number`, t);
    if (v > max) return fail(`Syntax error: '${t.text}' is out of range 0-${max}`, t);
    return v;
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const hashOnly = (): void => {
      if (info.bitmap) fail(`Syntax error: Unknown argument: '${t.text}'`, t);
    };
    switch (t.text) {
      case 'family': {
        hashOnly();
        const f = toks[++i];
        if (f?.text !== 'inet') fail(`Syntax error: family ${f?.text ?? ''} is not supported by lbsim (only inet)`, f ?? t);
        o.family = 'inet';
        break;
      }
      case '-4':
        hashOnly();
        o.family = 'inet';
        break;
      case 'hashsize':
        hashOnly();
        o.hashsize = num(++i);
        break;
      case 'maxelem':
        hashOnly();
        o.maxelem = num(++i);
        break;
      case 'bucketsize':
        hashOnly();
        o.bucketsize = num(++i, 255);
        break;
      case 'initval':
        hashOnly();
        o.initval = num(++i);
        break;
      case 'timeout':
        o.timeout = num(++i, IPSET_MAX_TIMEOUT);
        break;
      case 'comment':
        o.comment = true;
        break;
      case 'range': {
        if (!info.bitmap) fail(`Syntax error: Unknown argument: '${t.text}'`, t);
        const r = toks[++i];
        const m = r === undefined ? null : /^([0-9]{1,5})-([0-9]{1,5})$/.exec(r.text);
        if (m === null) return fail('Syntax error: range must be PORT-PORT', r ?? t);
        const a = Number(m[1]);
        const b = Number(m[2]);
        if (a > 65535 || b > 65535) fail(`Syntax error: '${r!.text}' is out of range 0-65535`, r);
        o.range = { from: a, to: b };
        break;
      }
      default:
        fail(`Syntax error: Unknown argument: '${t.text}' (lbsim models family, hashsize, maxelem, timeout, comment, bucketsize, initval, range)`, t);
    }
  }
  if (info.bitmap && o.range === undefined) fail("Syntax error: Missing mandatory option 'range'", undefined);
  return o;
}

function parseAddOptions(toks: readonly Token[], fail: Fail): IpsetAddOptions {
  const o: { timeout?: number; comment?: string; nomatch?: boolean; exist?: boolean } = {};
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    switch (t.text) {
      case 'timeout': {
        const v = toks[++i];
        const n = v === undefined ? -1 : parseUint(v.text);
        if (v === undefined) fail('Syntax error: option timeout requires an argument', undefined);
        if (n < 0) fail(`Syntax error: '${v.text}' is invalid as number`, v);
        if (n > IPSET_MAX_TIMEOUT) fail(`Syntax error: '${v.text}' is out of range 0-${IPSET_MAX_TIMEOUT}`, v);
        o.timeout = n;
        break;
      }
      case 'comment': {
        const v = toks[++i];
        if (v === undefined) fail('Syntax error: option comment requires an argument', undefined);
        o.comment = v.text;
        break;
      }
      case 'nomatch':
        o.nomatch = true;
        break;
      default:
        if (t.quoted !== true && (t.text === '-exist' || t.text === '-!')) {
          o.exist = true;
          break;
        }
        fail(`Syntax error: Unknown argument: '${t.text}'`, t);
    }
  }
  return o;
}

function checkName(where: string, name: string): void {
  if (name.length === 0 || name.length > MAX_NAME || /\s/.test(name)) {
    throw new InvalidArgumentError(
      `lbsim/netfilter.ipset.${where}: setname '${name}' must be 1..${MAX_NAME} characters without blanks`,
    );
  }
}

function checkExt(where: string, o: IpsetAddOptions): IpsetAddOptions {
  if (o.timeout !== undefined && !(Number.isInteger(o.timeout) && o.timeout >= 0 && o.timeout <= IPSET_MAX_TIMEOUT)) {
    throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: timeout must be an integer in [0, ${IPSET_MAX_TIMEOUT}] (got ${o.timeout})`);
  }
  if (o.comment?.includes('"') === true) {
    throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: a comment cannot contain a double quote`);
  }
  if (o.comment !== undefined && o.comment.length > IPSET_MAX_COMMENT_SIZE) {
    throw new InvalidArgumentError(
      `lbsim/netfilter.ipset.${where}: Syntax error: Comment is longer than the maximum allowed ${IPSET_MAX_COMMENT_SIZE} characters`,
    );
  }
  return o;
}

function parseElementText(type: IpsetTypeInfo, text: string, where: string): ElementSpec {
  try {
    return parseElement(type, text);
  } catch (err) {
    if (err instanceof ElementSyntaxError) {
      throw new ParseError(`lbsim/netfilter.ipset.${where}: ${err.message}`, text, 1, err.offset + 1);
    }
    throw err;
  }
}

/** The kernel's refusals of null elements (hash_ip4_uadt: IPSET_ERR_HASH_ELEM; hash:ip,port: EINVAL as observed). */
function checkNull(type: IpsetTypeInfo, spec: ElementSpec, where: string): void {
  if (type.name === 'hash:ip' && spec.ipFrom === 0) throw new IpsetError(where, 'NULL_ELEMENT');
  if (type.name === 'hash:ip,port' && spec.ipFrom === 0) throw new IpsetError(where, 'INVALID');
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** Validates a typed element and clears what its type does not use; refuses what the kernel refuses. */
function normalize(type: IpsetTypeInfo, v: IpsetValue, where: string): IpsetValue {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: invalid ${what} for ${type.name}: ${JSON.stringify(v)}`);
  };
  const port = (): number => (Number.isInteger(v.port) && v.port >= 0 && v.port <= 65535 ? v.port : bad('port'));
  switch (type.name) {
    case 'bitmap:port':
      return { ip: 0, cidr: 32, proto: 0, port: port(), ip2: 0, cidr2: 32 };
    case 'hash:ip':
      if (!isU32(v.ip)) bad('address');
      if (v.ip === 0) throw new IpsetError(where, 'NULL_ELEMENT');
      return { ip: v.ip, cidr: 32, proto: 0, port: 0, ip2: 0, cidr2: 32 };
    case 'hash:net': {
      if (!isU32(v.ip)) bad('address');
      if (!(Number.isInteger(v.cidr) && v.cidr >= 1 && v.cidr <= 32)) throw new IpsetError(where, 'INVALID_CIDR');
      const m = v.cidr === 32 ? 0xffffffff : (0xffffffff << (32 - v.cidr)) >>> 0;
      return { ip: (v.ip & m) >>> 0, cidr: v.cidr, proto: 0, port: 0, ip2: 0, cidr2: 32 };
    }
    default: {
      if (!isU32(v.ip)) bad('address');
      if (!(Number.isInteger(v.proto) && v.proto >= 1 && v.proto <= 255)) bad('protocol');
      let p = port();
      // hash_ipport*_uadt(): protocols without ports (except ICMP) store port 0.
      if (!(v.proto === 6 || v.proto === 17 || v.proto === 132 || v.proto === 136 || v.proto === 1)) p = 0;
      if (type.name === 'hash:ip,port') {
        if (v.ip === 0) throw new IpsetError(where, 'INVALID');
        return { ip: v.ip, cidr: 32, proto: v.proto, port: p, ip2: 0, cidr2: 32 };
      }
      if (!isU32(v.ip2)) bad('second address');
      if (type.name === 'hash:ip,port,ip') return { ip: v.ip, cidr: 32, proto: v.proto, port: p, ip2: v.ip2, cidr2: 32 };
      if (!(Number.isInteger(v.cidr2) && v.cidr2 >= 1 && v.cidr2 <= 32)) throw new IpsetError(where, 'INVALID_CIDR');
      const m = v.cidr2 === 32 ? 0xffffffff : (0xffffffff << (32 - v.cidr2)) >>> 0;
      return { ip: v.ip, cidr: 32, proto: v.proto, port: p, ip2: (v.ip2 & m) >>> 0, cidr2: v.cidr2 };
    }
  }
}

function makeConfig(where: string, info: IpsetTypeInfo, o: IpsetCreateOptions, rng: Rng | null): IpsetConfig {
  const bad = (what: string, got: unknown): never => {
    throw new InvalidArgumentError(`lbsim/netfilter.ipset.${where}: ${what} (got ${JSON.stringify(got)})`);
  };
  if (o.family !== undefined && (o.family as string) !== 'inet') bad('only family inet is modelled', o.family);
  if (o.timeout !== undefined && !(Number.isInteger(o.timeout) && o.timeout >= 0 && o.timeout <= IPSET_MAX_TIMEOUT)) {
    bad(`timeout must be an integer in [0, ${IPSET_MAX_TIMEOUT}]`, o.timeout);
  }
  const timeout = o.timeout ?? null;
  const comment = o.comment === true;
  if (info.bitmap) {
    if (o.hashsize !== undefined || o.maxelem !== undefined || o.bucketsize !== undefined || o.initval !== undefined) {
      bad('bitmap:port takes no hash options', o);
    }
    const r = o.range ?? bad('bitmap:port needs a range', o.range);
    if (!(Number.isInteger(r.from) && Number.isInteger(r.to) && r.from >= 0 && r.to >= 0 && r.from <= 65535 && r.to <= 65535)) {
      bad('range ports must be integers in [0, 65535]', r);
    }
    // bitmap_port_create(): the ends are swapped when given in reverse.
    const firstPort = Math.min(r.from, r.to);
    const lastPort = Math.max(r.from, r.to);
    return { hashsize: 0, maxelem: 0, timeout, comment, bucketsize: 0, initval: 0, firstPort, lastPort };
  }
  if (o.range !== undefined) bad(`${info.name} takes no range`, o.range);
  let hashsize = o.hashsize ?? 1024;
  if (!isU32(hashsize)) bad('hashsize must be a uint32', hashsize);
  // IPSET_MIMINAL_HASHSIZE, then hbits = fls(hashsize - 1): the next power of two.
  if (hashsize < 64) hashsize = 64;
  if (hashsize > 0x80000000) bad('hashsize is larger than the kernel can allocate', hashsize);
  let size = 1;
  while (size < hashsize) size *= 2;
  const maxelem = o.maxelem ?? 65536;
  if (!isU32(maxelem)) bad('maxelem must be a uint32', maxelem);
  // IPSET_ATTR_BUCKETSIZE: below AHASH_INIT_SIZE (2) → 2, above AHASH_MAX_SIZE (12) → 12, odd → +1.
  let bucketsize = o.bucketsize ?? 12;
  if (!Number.isInteger(bucketsize) || bucketsize < 0) bad('bucketsize must be a non-negative integer', bucketsize);
  if (bucketsize < 2) bucketsize = 2;
  else if (bucketsize > 12) bucketsize = 12;
  else if (bucketsize % 2 === 1) bucketsize += 1;
  let initval = o.initval;
  if (initval === undefined) initval = rng === null ? 0 : rng.uint32();
  else if (!isU32(initval)) bad('initval must be a uint32', initval);
  return { hashsize: size, maxelem, timeout, comment, bucketsize, initval, firstPort: 0, lastPort: 0 };
}

/** mtype_same_set() / bitmap_port_same_set() as ip_set_create() uses them for `-exist`. */
function sameSet(set: IpSet, info: IpsetTypeInfo, c: IpsetConfig): boolean {
  const a = set.config;
  if (set.type.name !== info.name || a.timeout !== c.timeout || a.comment !== c.comment) return false;
  if (info.bitmap) return a.firstPort === c.firstPort && a.lastPort === c.lastPort;
  return a.maxelem === c.maxelem;
}

function formatHeader(set: IpSet): string {
  const c = set.config;
  const ext = `${c.timeout === null ? '' : ` timeout ${c.timeout}`}${c.comment ? ' comment' : ''}`;
  if (set.type.bitmap) return `range ${c.firstPort}-${c.lastPort}${ext}`;
  const iv = c.initval.toString(16).padStart(8, '0');
  return `family inet hashsize ${c.hashsize} maxelem ${c.maxelem}${ext} bucketsize ${c.bucketsize} initval 0x${iv}`;
}

/** An element with its extensions as `ipset save` prints it (`… timeout 29 nomatch comment "x"`). */
export function formatMember(type: IpsetTypeInfo, m: IpsetMember): string {
  let s = formatElement(type, m);
  if (m.timeout !== null) s += ` timeout ${m.timeout}`;
  if (m.nomatch) s += ' nomatch';
  if (m.comment !== null) s += ` comment "${m.comment}"`;
  return s;
}
