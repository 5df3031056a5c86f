import type { ChainDeclaration, RestoreTableBlock, TableCommand } from '../netfilter/ast.js';
import type { ChainRule, IptablesRulesPlan, ServicePortFragment } from './iptables-rules.js';
import { kubeProxyAppendLineBytes, utf8ByteLength } from './restore-text.js';

/**
 * Lays an {@link IptablesRulesPlan} out as the restore input of one sync
 * (what `syncProxyRules` writes with its `LineBuffer`s), and sizes it in
 * bytes without printing it.
 *
 * kube-proxy rewrites every line of the top-level chains on every sync, so a
 * partial sync at 10k Services still carries 10k `-A KUBE-SERVICES` lines
 * (proxier.go writes `natRules` for every service port, `natChains` and the
 * per-service chains only for changed ones). Those command objects depend
 * only on the service port's fragment and the line number it starts at, so
 * {@link RestoreLayout} keeps them, flat and in order, from one sync to the
 * next, together with each position's line counts and byte sizes in typed
 * arrays: a sync where a few fragments changed visits those few and copies
 * the rest, never dereferencing the unchanged fragments (at 10k Services,
 * chasing them is what costs). The output is identical to laying the plan
 * out afresh (a new {@link RestoreLayout}).
 *
 * @module
 */

/** Bytes of `:NAME - [0:0]\n` (a user chain declared with zero counters). */
function declBytes(name: string): number {
  return utf8ByteLength(name) + 10;
}

/** Bytes of the `-A` lines of `rules` (each with its newline), or of those at `indices`. */
function linesBytes(rules: readonly ChainRule[], indices: readonly number[] | null): number {
  let n = 0;
  if (indices === null) for (const r of rules) n += kubeProxyAppendLineBytes(r.chain, r.spec) + 1;
  else for (const k of indices) n += kubeProxyAppendLineBytes(rules[k]!.chain, rules[k]!.spec) + 1;
  return n;
}

function zeroDecl(name: string, line: number): ChainDeclaration {
  return { name, policy: null, counters: { packets: 0, bytes: 0 }, line };
}

function append(r: ChainRule, line: number): TableCommand {
  return { op: 'append', chain: r.chain, rule: r.spec, counters: null, line };
}

const UNKNOWN = -1;

/** The restore input of one sync, its counts and (when asked for) its size. */
export interface RestoreBlocks {
  readonly filterBlock: RestoreTableBlock;
  readonly natBlock: RestoreTableBlock;
  /** `-A` lines per table. */
  readonly filterWritten: number;
  readonly natWritten: number;
  /**
   * Bytes of `kubeProxyRestoreText({ blocks: [filterBlock, natBlock] })` when asked for; null when not
   * asked for, or when a line cannot be printed (the printer then names the error).
   */
  readonly bytes: number | null;
}

/**
 * What one {@link IptablesSyncer} keeps between syncs to lay out its restore
 * input (see the module comment). Any sequence of plans laid out through one
 * instance gives exactly what fresh instances give.
 */
export class RestoreLayout {
  /** The fragments of the last layout, by position. */
  #frags: readonly ServicePortFragment[] = [];
  #svc: string[] = [];
  /** Per position: filter rules, nat rules, nat chains, KUBE-SERVICES/KUBE-NODEPORTS rules. */
  #filterLen = new Int32Array(0);
  #natLen = new Int32Array(0);
  #declLen = new Int32Array(0);
  /** Per position: the line before its first filter / nat rule when its commands in the flat arrays were made. */
  #filterBase = new Int32Array(0);
  #natBase = new Int32Array(0);
  /** Per position, in bytes (-1 unknown): its top-level rules' lines; its declarations and nat lines; its filter lines. */
  #topBytes = new Float64Array(0);
  #fullBytes = new Float64Array(0);
  #filterBytes = new Float64Array(0);
  /** Every position's top-level nat commands / filter commands, in order; position i's are at [off[i], off[i+1]). */
  #flatTop: TableCommand[] = [];
  #topOff = new Int32Array(1);
  #flatFilter: TableCommand[] = [];
  #filterOff = new Int32Array(1);
  /** Service (ns/name) → its positions; null until needed after the positions changed. */
  #index: Map<string, number[]> | null = null;
  /** Whether positions were scanned once since #index was dropped. */
  #scanned = false;
  /** Whether #flatTop and #topOff describe the current positions (up to the ones taken since). */
  #topValid = false;

  /** Forgets everything. */
  clear(): void {
    this.#frags = [];
    this.#svc = [];
    this.#resize(0);
    this.#flatTop = [];
    this.#flatFilter = [];
    this.#index = null;
  }

  #resize(n: number): void {
    this.#filterLen = new Int32Array(n);
    this.#natLen = new Int32Array(n);
    this.#declLen = new Int32Array(n);
    this.#filterBase = new Int32Array(n).fill(UNKNOWN);
    this.#natBase = new Int32Array(n).fill(UNKNOWN);
    this.#topBytes = new Float64Array(n).fill(UNKNOWN);
    this.#fullBytes = new Float64Array(n).fill(UNKNOWN);
    this.#filterBytes = new Float64Array(n).fill(UNKNOWN);
    this.#topOff = new Int32Array(n + 1);
    this.#filterOff = new Int32Array(n + 1);
    this.#topValid = false;
  }

  /** Records position i's fragment (its bytes and commands are made again when needed). */
  #take(i: number, f: ServicePortFragment): void {
    if (this.#svc[i] !== f.info.service) {
      this.#index = null;
      this.#scanned = false;
    }
    this.#svc[i] = f.info.service;
    this.#filterLen[i] = f.filter.length;
    this.#natLen[i] = f.nat.length;
    this.#declLen[i] = f.rules.natChains.length;
    this.#filterBase[i] = UNKNOWN;
    this.#natBase[i] = UNKNOWN;
    this.#topBytes[i] = UNKNOWN;
    this.#fullBytes[i] = UNKNOWN;
    this.#filterBytes[i] = UNKNOWN;
  }

  /** @internal Brings the per-position state to `fragments` (changed positions are taken again). */
  update(fragments: readonly ServicePortFragment[]): void {
    const n = fragments.length;
    const prev = this.#frags;
    if (prev.length !== n) {
      // Services added or removed: positions before and after them keep their counts and sizes
      const pn = prev.length;
      const m = Math.min(n, pn);
      let p = 0;
      while (p < m && prev[p] === fragments[p]) p++;
      let q = 0;
      while (q < m - p && prev[pn - 1 - q] === fragments[n - 1 - q]) q++;
      const svc = this.#svc;
      const kept = [this.#filterLen, this.#natLen, this.#declLen, this.#topBytes, this.#fullBytes, this.#filterBytes] as const;
      this.#resize(n);
      this.#svc = new Array<string>(n);
      const now = [this.#filterLen, this.#natLen, this.#declLen, this.#topBytes, this.#fullBytes, this.#filterBytes] as const;
      for (let k = 0; k < kept.length; k++) {
        const from = kept[k]!;
        const to = now[k]!;
        to.set(from.subarray(0, p), 0);
        to.set(from.subarray(pn - q, pn), n - q);
      }
      for (let i = 0; i < p; i++) this.#svc[i] = svc[i]!;
      for (let i = 0; i < q; i++) this.#svc[n - 1 - i] = svc[pn - 1 - i]!;
      this.#index = null;
      this.#scanned = false;
      for (let i = p; i < n - q; i++) this.#take(i, fragments[i]!);
    } else if (prev !== fragments) {
      for (let i = 0; i < n; i++) if (prev[i] !== fragments[i]) this.#take(i, fragments[i]!);
    }
    this.#frags = fragments;
  }

  /** Positions of each Service's ports. */
  #positions(): Map<string, number[]> {
    if (this.#index === null) {
      const index = new Map<string, number[]>();
      const svc = this.#svc;
      for (let i = 0; i < svc.length; i++) {
        const l = index.get(svc[i]!);
        if (l === undefined) index.set(svc[i]!, [i]);
        else l.push(i);
      }
      this.#index = index;
    }
    this.#scanned = false;
    return this.#index;
  }

  /**
   * @internal The flat arrays with position i's commands made for the line
   * bases given by the current lengths (from `filterBase0`/`natBase0`), remade
   * only where a position changed or moved.
   */
  layOut(filterBase0: number, natBase0: number): void {
    const frags = this.#frags;
    const n = frags.length;
    const fb = this.#filterBase;
    const nb = this.#natBase;
    const fl = this.#filterLen;
    const nl = this.#natLen;
    // top-level nat commands: patched in place while every position keeps its count, else rebuilt
    {
      const off = this.#topOff;
      let same = this.#topValid && off[n] === this.#flatTop.length;
      for (let i = 0; i < n && same; i++) {
        if (nb[i] === UNKNOWN && frags[i]!.natTop.length !== off[i + 1]! - off[i]!) same = false;
      }
      let base = natBase0;
      if (same) {
        const flat = this.#flatTop;
        for (let i = 0; i < n; i++) {
          if (nb[i] !== base) {
            const f = frags[i]!;
            const nat = f.nat;
            let o = off[i]!;
            for (const k of f.natTop) flat[o++] = append(nat[k]!, base + k + 1);
            nb[i] = base;
          }
          base += nl[i]!;
        }
      } else {
        const old = this.#flatTop;
        const valid = this.#topValid;
        const flat: TableCommand[] = [];
        for (let i = 0; i < n; i++) {
          const from = off[i]!;
          const to = off[i + 1]!;
          off[i] = flat.length;
          if (valid && nb[i] === base) {
            for (let k = from; k < to; k++) flat.push(old[k]!);
          } else {
            const f = frags[i]!;
            const nat = f.nat;
            for (const k of f.natTop) flat.push(append(nat[k]!, base + k + 1));
            nb[i] = base;
          }
          base += nl[i]!;
        }
        off[n] = flat.length;
        this.#flatTop = flat;
        this.#topValid = true;
      }
    }
    // filter commands (service ports without endpoints, firewalls): rebuilt whenever one of them changed
    {
      const off = this.#filterOff;
      let base = filterBase0;
      let dirty = false;
      for (let i = 0; i < n; i++) {
        if (fl[i]! > 0 || off[i + 1] !== off[i]) {
          if (fb[i] !== base || off[i + 1]! - off[i]! !== fl[i]) {
            dirty = true;
            break;
          }
        }
        base += fl[i]!;
      }
      if (dirty || off[n] !== this.#flatFilter.length) {
        const old = this.#flatFilter;
        const flat: TableCommand[] = [];
        base = filterBase0;
        for (let i = 0; i < n; i++) {
          const from = off[i]!;
          const to = off[i + 1]!;
          off[i] = flat.length;
          const len = fl[i]!;
          if (len > 0) {
            if (fb[i] === base && to - from === len) for (let k = from; k < to; k++) flat.push(old[k]!);
            else {
              const rules = frags[i]!.filter;
              for (let k = 0; k < len; k++) flat.push(append(rules[k]!, base + k + 1));
            }
          }
          fb[i] = base;
          base += len;
        }
        off[n] = flat.length;
        this.#flatFilter = flat;
      }
    }
  }

  /** @internal */
  get state(): {
    frags: readonly ServicePortFragment[];
    filterLen: Int32Array;
    natLen: Int32Array;
    declLen: Int32Array;
    topBytes: Float64Array;
    fullBytes: Float64Array;
    filterBytes: Float64Array;
    flatTop: readonly TableCommand[];
    topOff: Int32Array;
    flatFilter: readonly TableCommand[];
  } {
    return {
      frags: this.#frags,
      filterLen: this.#filterLen,
      natLen: this.#natLen,
      declLen: this.#declLen,
      topBytes: this.#topBytes,
      fullBytes: this.#fullBytes,
      filterBytes: this.#filterBytes,
      flatTop: this.#flatTop,
      topOff: this.#topOff,
      flatFilter: this.#flatFilter,
    };
  }

  /** @internal Sorted positions of the Services in `services`. */
  positionsOf(services: ReadonlySet<string>): number[] {
    const out: number[] = [];
    if (services.size === 0) return out;
    if (this.#index === null && !this.#scanned) {
      // positions just moved (a Service added or removed): scan once, index if they stay
      this.#scanned = true;
      const svc = this.#svc;
      for (let i = 0; i < svc.length; i++) if (services.has(svc[i]!)) out.push(i);
      return out;
    }
    const index = this.#positions();
    for (const s of services) {
      const l = index.get(s);
      if (l !== undefined) for (const i of l) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }
}

/**
 * The restore input of one sync, laid out from a plan as kube-proxy writes
 * it: the filter table in full; in nat, the top-level chains in full and the
 * chains of the Services in `written` (all of them when null), then `:CHAIN`
 * and `-X CHAIN` for each stale chain (the `-X` lines go before the NodePort
 * tail rule, which kube-proxy writes last). Line numbers are those of the
 * full input (the stale lines continue after its COMMIT), whatever is left out.
 *
 * @param plan - the sync's rules
 * @param written - Services (ns/name) whose own chains are written; null: every one (a full sync)
 * @param stale - stale chains to declare and delete
 * @param layout - what the previous syncs laid out (reused where unchanged: the result is the same)
 * @param size - also compute the size in bytes of kube-proxy's text of the input
 * @param positions - the positions of the Services in `written`, in increasing order, when the caller knows
 *   them (the rules cache of a sorted plan does); by default the layout finds them
 */
export function restoreBlocks(
  plan: IptablesRulesPlan,
  written: ReadonlySet<string> | null,
  stale: readonly string[],
  layout: RestoreLayout,
  size: boolean,
  positions?: (services: ReadonlySet<string>) => readonly number[],
): RestoreBlocks {
  const fixed = plan.fixed;
  const fragments = plan.fragments;
  const n = fragments.length;
  layout.update(fragments);
  const { filterLen, natLen, declLen } = layout.state;
  let filterRules = 0;
  let natRules = 0;
  let natDecls = 0;
  for (let i = 0; i < n; i++) {
    filterRules += filterLen[i]!;
    natRules += natLen[i]!;
    natDecls += declLen[i]!;
  }
  // line numbers of the full input
  const filterStart = 1;
  const filterBase0 = filterStart + fixed.filterChains.length + fixed.filterHead.length;
  const filterCommit = filterBase0 + filterRules + fixed.filterTail.length + 1;
  const natStart = filterCommit + 1;
  const declBase0 = natStart + fixed.natChains.length;
  const natBase0 = declBase0 + natDecls + fixed.natHead.length;
  const natEnd = natBase0 + natRules;
  layout.layOut(filterBase0, natBase0);
  const st = layout.state;

  const writtenAt: readonly number[] | null = written === null ? null : positions !== undefined ? positions(written) : layout.positionsOf(written);

  // *filter: everything
  let line = filterStart;
  const filterChains: ChainDeclaration[] = fixed.filterChains.map((name) => zeroDecl(name, ++line));
  const filterCommands: TableCommand[] = [];
  for (const r of fixed.filterHead) filterCommands.push(append(r, ++line));
  for (const c of st.flatFilter) filterCommands.push(c);
  line += filterRules;
  for (const r of fixed.filterTail) filterCommands.push(append(r, ++line));
  const filterBlock: RestoreTableBlock = { table: 'filter', line: filterStart, chains: filterChains, commands: filterCommands, commitLine: ++line };

  // *nat: declarations, then rules
  const natChains: ChainDeclaration[] = [];
  line = natStart;
  for (const name of fixed.natChains) natChains.push(zeroDecl(name, ++line));
  let natCommands: TableCommand[] = [];
  let natWritten = fixed.natHead.length + fixed.natTail.length;
  if (writtenAt === null) {
    // everything: declarations and rules of every position, in order
    for (let i = 0; i < n; i++) for (const name of fragments[i]!.rules.natChains) natChains.push(zeroDecl(name, ++line));
    for (const r of fixed.natHead) natCommands.push(append(r, ++line));
    for (let i = 0; i < n; i++) for (const r of fragments[i]!.nat) natCommands.push(append(r, ++line));
    natWritten += natRules;
  } else {
    // declarations of the written positions (others skipped, their lines counted)
    let d = declBase0;
    let at = 0;
    for (const w of writtenAt) {
      for (; at < w; at++) d += declLen[at]!;
      for (const name of fragments[w]!.rules.natChains) natChains.push(zeroDecl(name, ++d));
      at = w + 1;
    }
    line = declBase0 + natDecls;
    for (const r of fixed.natHead) natCommands.push(append(r, ++line));
    // the flat top-level commands (copied at once), with written positions' whole nat rules in their place
    const flat = st.flatTop;
    const off = st.topOff;
    const head = natCommands.length;
    natCommands = natCommands.concat(flat);
    natWritten += flat.length;
    if (writtenAt.length > 0) {
      const bases: number[] = [];
      let base = natBase0;
      at = 0;
      for (const w of writtenAt) {
        for (; at < w; at++) base += natLen[at]!;
        bases.push(base);
      }
      // from the last, so earlier offsets stay valid
      for (let j = writtenAt.length - 1; j >= 0; j--) {
        const w = writtenAt[j]!;
        const b = bases[j]!;
        const nat = fragments[w]!.nat;
        const cmds: TableCommand[] = nat.map((r, k) => append(r, b + k + 1));
        const count = off[w + 1]! - off[w]!;
        natCommands.splice(head + off[w]!, count, ...cmds);
        natWritten += nat.length - count;
      }
    }
  }
  line = natEnd;
  const tail: TableCommand[] = [];
  for (const r of fixed.natTail) tail.push(append(r, ++line));
  let extra = ++line; // the full input's COMMIT
  for (const name of stale) natChains.push(zeroDecl(name, ++extra));
  for (const name of stale) natCommands.push({ op: 'deleteChain', chain: name, line: ++extra });
  for (const c of tail) natCommands.push(c);
  const natBlock: RestoreTableBlock = { table: 'nat', line: natStart, chains: natChains, commands: natCommands, commitLine: extra + 1 };

  let bytes: number | null = null;
  if (size) {
    try {
      bytes = sizeOf(plan, writtenAt, stale, st);
    } catch {
      // a line that cannot be printed: leave the size (and the error) to the printer
      bytes = null;
    }
  }
  return { filterBlock, natBlock, filterWritten: filterCommands.length, natWritten, bytes };
}

/**
 * Bytes of kube-proxy's text of the input {@link restoreBlocks} lays out,
 * from the sizes kept per position (computed for the positions that lack them).
 *
 * @throws {InvalidArgumentError} for a line kube-proxy's printer refuses
 */
function sizeOf(
  plan: IptablesRulesPlan,
  writtenAt: readonly number[] | null,
  stale: readonly string[],
  st: { readonly filterLen: Int32Array; readonly topBytes: Float64Array; readonly fullBytes: Float64Array; readonly filterBytes: Float64Array },
): number {
  const { fixed, fragments } = plan;
  const { filterLen, topBytes, fullBytes, filterBytes } = st;
  const n = fragments.length;
  const fullAt = (i: number): number => {
    let b = fullBytes[i]!;
    if (b < 0) {
      const f = fragments[i]!;
      b = linesBytes(f.nat, null);
      for (const name of f.rules.natChains) b += declBytes(name);
      fullBytes[i] = b;
    }
    return b;
  };
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (filterLen[i]! > 0) {
      if (filterBytes[i]! < 0) filterBytes[i] = linesBytes(fragments[i]!.filter, null);
      bytes += filterBytes[i]!;
    }
    if (writtenAt === null) bytes += fullAt(i);
    else {
      if (topBytes[i]! < 0) topBytes[i] = linesBytes(fragments[i]!.nat, fragments[i]!.natTop);
      bytes += topBytes[i]!;
    }
  }
  if (writtenAt !== null) for (const w of writtenAt) bytes += fullAt(w) - topBytes[w]!;
  bytes += 8 + 7 + 5 + 7; // `*filter\n`, `COMMIT\n`, `*nat\n`, `COMMIT\n`
  for (const name of fixed.filterChains) bytes += declBytes(name);
  for (const name of fixed.natChains) bytes += declBytes(name);
  for (const name of stale) bytes += declBytes(name) + utf8ByteLength(name) + 4; // and `-X NAME\n`
  bytes += linesBytes(fixed.filterHead, null) + linesBytes(fixed.filterTail, null);
  bytes += linesBytes(fixed.natHead, null) + linesBytes(fixed.natTail, null);
  return bytes;
}
