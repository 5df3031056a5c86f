import { OperationError, ParseError } from '../errors.js';
import { utf8Length } from '../io/iptables/lex.js';
import { BUILTIN_CHAINS, MAX_CHAIN_NAME } from './ast.js';
import type {
  Counters,
  RestoreDocument,
  RestoreTableBlock,
  RuleSpec,
  SavedChain,
  SavedTable,
  StandardVerdict,
  TableCommand,
  TableName,
} from './ast.js';

export { BUILTIN_CHAINS, MAX_CHAIN_NAME };

/** Tables in the order `iptables-save` prints them. */
export const TABLE_ORDER: readonly TableName[] = ['raw', 'mangle', 'nat', 'filter', 'security'];

/** A rule-load check; throws (any Error) to refuse the rule, with the reason as message. */
export type RuleCheck = (table: TableName, rule: RuleSpec) => void;

/** A rule in a chain, with its counters (updated in place by the engine). */
export interface RuleState {
  readonly spec: RuleSpec;
  readonly counters: Counters;
}

/** A chain: built-in ones have a policy and policy counters. */
export interface ChainState {
  readonly name: string;
  readonly builtin: boolean;
  policy: StandardVerdict | null;
  readonly counters: Counters;
  rules: RuleState[];
}

/** One table's chains in creation order. */
export interface TableState {
  readonly name: TableName;
  readonly chains: Map<string, ChainState>;
}

/** Options of {@link Ruleset.restore}. */
export interface RestoreOptions {
  /** `--noflush`: keep chains the input does not declare. @defaultValue false */
  noflush?: boolean;
  /** `--counters`: take `[p:b]` counters from the input. @defaultValue false */
  counters?: boolean;
}

/** Options of {@link Ruleset.toSaved}. */
export interface SaveOrderOptions {
  /**
   * `sorted` (iptables-legacy: built-in chains, then user chains in byte order of their names) or `creation`
   * (creation order after the built-ins).
   * @defaultValue 'sorted'
   */
  chainOrder?: 'sorted' | 'creation';
}

const WHERE = 'lbsim/netfilter.Ruleset';

/**
 * Bookkeeping kept beside one table's chains (derived from them, never part
 * of the state): jump/goto reference counts per target chain and each
 * chain's depth in the jump graph. Both are optional caches: null means
 * "not known", and a transaction that needs them computes them.
 */
interface TableAux {
  /** Rules jumping (or going) to each chain, by target name; null until first needed. */
  refs: Map<string, number> | null;
}

/** Depth label not computed yet (a chain created or copied by the running transaction). */
const UNKNOWN = -2;
/** Depth label being computed (reaching it again means a loop). */
const BUSY = -1;
/** A loop through changed chains, or an unknown target: validate() decides and reports. */
const BAD = -3;
const NO_RULES: readonly RuleState[] = [];

/**
 * The chains the ruleset creates: {@link ChainState} plus the depth label
 * the commit checks use (0 without jumps, else more than every target's
 * label; finite because the committed graph has no loop).
 */
class Chain implements ChainState {
  readonly name: string;
  readonly builtin: boolean;
  policy: StandardVerdict | null;
  readonly counters: Counters;
  rules: RuleState[];
  // private: invisible to equality checks and JSON of chains
  #level: number = UNKNOWN;
  #setFree = true;
  #samePrefix = -1;
  #owner = 0;
  #fresh = false;
  #targets: (Chain | null | undefined)[] | null = null;

  constructor(name: string, builtin: boolean, policy: StandardVerdict | null, counters: Counters, rules: RuleState[]) {
    this.name = name;
    this.builtin = builtin;
    this.policy = policy;
    this.counters = counters;
    this.rules = rules;
  }

  /** @internal The depth label. */
  get level(): number {
    return this.#level;
  }

  set level(v: number) {
    this.#level = v;
  }

  /**
   * @internal True when no rule of the chain has a `set` match (false: there
   * may be one). Lets a restore skip looking into rules it re-appends
   * unchanged: only ipset references need checking again.
   */
  get setFree(): boolean {
    return this.#setFree;
  }

  set setFree(v: boolean) {
    this.#setFree = v;
  }

  /**
   * @internal Within a transaction: how many leading rules are the very rule
   * objects the chain had before it, at the same positions (-1: not known).
   * A chain rewritten with exactly its old rules (KUBE-SERVICES in a partial
   * sync) is then recognised without comparing them again at commit.
   */
  get samePrefix(): number {
    return this.#samePrefix;
  }

  set samePrefix(v: number) {
    this.#samePrefix = v;
  }

  /**
   * @internal The serial of the transaction that created this object (0:
   * none). The transaction's own copies are found by this tag without
   * looking the name up in its undo record again.
   */
  get owner(): number {
    return this.#owner;
  }

  set owner(v: number) {
    this.#owner = v;
  }

  /** @internal Created by its {@link Chain.owner} where no chain of that name existed before it (its undo entry is undefined). */
  get fresh(): boolean {
    return this.#fresh;
  }

  set fresh(v: boolean) {
    this.#fresh = v;
  }

  /**
   * @internal Within its owner transaction, while the chain was only
   * appended to: per rule, the jump/goto target chain the rule-load check
   * found when that chain was also the transaction's own (so still the one
   * in the table while nothing is deleted or renamed), null for a rule
   * without one, undefined when not known (look the name up). Null (the
   * array) when it does not cover the rules. Spares the commit check the
   * name lookups.
   */
  get targets(): (Chain | null | undefined)[] | null {
    return this.#targets;
  }

  set targets(v: (Chain | null | undefined)[] | null) {
    this.#targets = v;
  }
}

/** Serial of the last transaction begun (any ruleset); tags the chain objects each one creates. */
let txSerial = 0;

/** Whether `c` (changed by the transaction) has exactly the rules `orig` had, by rule object. */
function sameAsOrig(orig: ChainState, c: ChainState): boolean {
  if (c instanceof Chain && c.samePrefix >= 0) return c.samePrefix === c.rules.length && c.rules.length === orig.rules.length;
  return sameRules(orig.rules, c.rules);
}

function isSetFree(c: ChainState | undefined): boolean {
  return c === undefined || (c instanceof Chain && c.setFree);
}

function levelOf(c: ChainState | undefined): number {
  return c instanceof Chain ? c.level : BAD;
}

/**
 * One atomic change of one table (an `iptables-restore` block or one
 * `iptables` command), applied in place with copy-on-write at chain
 * granularity and an undo record: a chain is copied the first time the
 * transaction changes it, so objects seen before the transaction are never
 * mutated, and rolling back puts the original chain objects back.
 */
interface Txn {
  /** Unique serial ({@link Chain.owner} of the chains this transaction created or copied). */
  readonly id: number;
  readonly t: TableState;
  readonly aux: TableAux;
  readonly where: string;
  /** Errors are ParseErrors naming the line (iptables-restore) rather than OperationErrors (iptables). */
  readonly restore: boolean;
  readonly useCounters: boolean;
  readonly check: RuleCheck | null;
  /** Chains changed, created or deleted: name → the chain before the transaction (undefined: did not exist). */
  readonly touched: Map<string, ChainState | undefined>;
  /** Names deleted during the transaction (nothing outside the transaction can refer to them). */
  readonly deleted: Set<string>;
  /**
   * The chain objects the transaction created or copied, in the order of
   * their `touched` entries: while nothing was deleted or renamed, exactly
   * the chains of the `touched` names.
   */
  readonly owned: Chain[];
  /** The original entries in map order, saved before the first change that moves entries (delete, rename). */
  order: [string, ChainState][] | null;
  /** `aux.refs` already counts this transaction's changes. */
  settled: boolean;
  /** Validate the whole table at commit (rename, or anything the incremental check cannot vouch for). */
  full: boolean;
  /** The last chain made writable, by name (consecutive commands mostly hit one chain). */
  lastName: string;
  lastChain: ChainState | null;
  /** The rules `lastChain` had before the transaction (empty for a new chain). */
  lastOrig: readonly RuleState[];
  /** No rule of `lastOrig` has a `set` match. */
  lastOrigSetFree: boolean;
  /** Chains deleted or renamed so far (a name may then stand for another chain, or none). */
  removals: number;
  /**
   * The last jump target the rule-load check found (consecutive rules often
   * jump to one chain, e.g. KUBE-MARK-MASQ), while `removals` is `tgRemovals`:
   * it exists and is not built-in, though it may have been copied since.
   */
  tgName: string;
  tgChain: ChainState | null;
  tgRemovals: number;
}

/**
 * The kernel-side state of iptables: tables, chains, rules, policies and
 * counters, changed only through atomic operations — a whole
 * `iptables-restore` table block (`COMMIT`) or one `iptables` command.
 * A failed operation leaves every table exactly as it was, and the error
 * names the offending line.
 *
 * Changes are applied in place with copy-on-write per chain (a chain the
 * operation does not touch is neither copied nor revisited), and the commit
 * checks (every jump resolves, no loop) are incremental: reference counts
 * and chain depths are kept beside the tables, so a block that rewrites a
 * few chains of a large table costs in proportion to those chains.
 */
export class Ruleset {
  readonly #tables = new Map<TableName, TableState>();
  readonly #aux = new Map<TableName, TableAux>();
  readonly #checkRule: RuleCheck | null;
  #version = 0;

  /** @param options - `checkRule`: extra rule-load checks (match modules' `checkentry`) */
  constructor(options: { checkRule?: RuleCheck } = {}) {
    for (const name of TABLE_ORDER) {
      const t = emptyTable(name);
      this.#tables.set(name, t);
      this.#aux.set(name, { refs: null });
    }
    this.#checkRule = options.checkRule ?? null;
  }

  /** Increments on every successful change; engines recompile when it moves. */
  get version(): number {
    return this.#version;
  }

  /** A table (read it, do not mutate it: use the methods). */
  table(name: TableName): TableState {
    return this.#tables.get(name)!;
  }

  /** A chain, or undefined. */
  chain(table: TableName, name: string): ChainState | undefined {
    return this.#tables.get(table)!.chains.get(name);
  }

  /**
   * Applies an `iptables-restore` document: each table block is atomic
   * (applied at its COMMIT, or not at all). Blocks before a failing one stay
   * applied, as with the real tool; the error carries the failing line.
   *
   * @throws {ParseError} naming the line of the first refused command
   */
  restore(doc: RestoreDocument, options: RestoreOptions = {}): void {
    for (const block of doc.blocks) {
      const tx = this.#begin(block.table, `${WHERE}.restore`, options.counters === true);
      try {
        applyBlock(tx, block, options);
        commit(tx, block.commitLine);
      } catch (e) {
        rollback(tx);
        throw e;
      }
      this.#version++;
    }
  }

  /**
   * Checks a document without applying it (`iptables-restore --test`).
   *
   * @throws {ParseError} as {@link Ruleset.restore} would
   */
  test(doc: RestoreDocument, options: RestoreOptions = {}): void {
    for (const block of doc.blocks) {
      const tx = this.#begin(block.table, `${WHERE}.restore`, options.counters === true);
      try {
        applyBlock(tx, block, options);
        check(tx, block.commitLine);
      } finally {
        rollback(tx);
      }
    }
  }

  /**
   * Runs one `iptables` command on a table, atomically.
   *
   * @throws {OperationError} with the kernel/libiptc errno when refused
   */
  apply(table: TableName, command: TableCommand): void {
    const tx = this.#begin(table, `${WHERE}.apply`, true);
    try {
      runCommand(tx, command);
      commit(tx, command.line);
    } catch (e) {
      rollback(tx);
      throw e;
    }
    this.#version++;
  }

  /** Zeroes every counter of every table (`iptables -Z` on all tables). */
  zeroAll(): void {
    for (const t of this.#tables.values()) for (const c of t.chains.values()) zeroChain(c);
  }

  /**
   * The state as `iptables-save` sees it: tables in save order (only those
   * that are not empty-and-default, like the legacy tool lists loaded tables),
   * chains in save order.
   */
  toSaved(options: SaveOrderOptions & { tables?: readonly TableName[] } = {}): SavedTable[] {
    const names = options.tables ?? TABLE_ORDER.filter((t) => t !== 'security' || !isPristine(this.#tables.get(t)!));
    return names.map((name) => {
      const t = this.#tables.get(name)!;
      const all = [...t.chains.values()];
      const builtins = all.filter((c) => c.builtin);
      let users = all.filter((c) => !c.builtin);
      if ((options.chainOrder ?? 'sorted') === 'sorted') users = [...users].sort((a, b) => byteCompare(a.name, b.name));
      return {
        name,
        chains: [...builtins, ...users].map(
          (c): SavedChain => ({
            name: c.name,
            policy: c.policy,
            counters: { ...c.counters },
            rules: c.rules.map((r) => ({ spec: r.spec, counters: { ...r.counters } })),
          }),
        ),
      };
    });
  }

  #begin(table: TableName, where: string, useCounters: boolean): Txn {
    return {
      id: ++txSerial,
      t: this.#tables.get(table)!,
      aux: this.#aux.get(table)!,
      where,
      restore: where.endsWith('.restore'),
      useCounters,
      check: this.#checkRule,
      touched: new Map(),
      deleted: new Set(),
      owned: [],
      order: null,
      settled: false,
      full: false,
      lastName: '',
      lastChain: null,
      lastOrig: NO_RULES,
      lastOrigSetFree: true,
      removals: 0,
      tgName: '',
      tgChain: null,
      tgRemovals: 0,
    };
  }
}

function applyBlock(tx: Txn, block: RestoreTableBlock, options: RestoreOptions): void {
  const t = tx.t;
  const where = tx.where;
  if (options.noflush !== true) {
    // iptables-restore without --noflush: flush every chain, delete every user chain.
    for (const name of [...t.chains.keys()]) flushChain(tx, name);
    settle(tx);
    saveOrder(tx);
    for (const [name, c] of [...t.chains]) {
      if (!c.builtin) deleteChainEntry(tx, name);
    }
  }
  for (const decl of block.chains) {
    const existing = t.chains.get(decl.name);
    if (decl.policy !== null) {
      if (existing === undefined || !existing.builtin) {
        throw new ParseError(`${where}: chain ${decl.name} is not a built-in chain of table ${block.table}, it cannot have a policy`, decl.name, decl.line, 1);
      }
      const w = writable(tx, decl.name)!;
      w.policy = decl.policy;
      setCounters(w.counters, options.counters === true ? decl.counters : null);
      continue;
    }
    checkChainName(decl.name, where, decl.line);
    if (existing !== undefined) {
      if (existing.builtin) {
        throw new ParseError(`${where}: built-in chain ${decl.name} declared without a policy`, decl.name, decl.line, 1);
      }
      // A declared chain that exists is flushed (iptables-restore --noflush).
      flushChain(tx, decl.name);
    } else {
      createChain(tx, decl.name);
    }
  }
  for (const cmd of block.commands) runCommand(tx, cmd);
}

// ------------------------------------------------------------------ transaction primitives

/** The chain, copied on the transaction's first change to it; undefined when it does not exist. */
function writable(tx: Txn, name: string): ChainState | undefined {
  if (tx.lastChain !== null && name === tx.lastName) return tx.lastChain;
  const c = tx.t.chains.get(name);
  if (c === undefined) return undefined;
  let w = c;
  let orig: ChainState | undefined;
  if (c instanceof Chain && c.owner === tx.id) {
    // already this transaction's (so in `touched`)
    orig = c.fresh ? undefined : tx.touched.get(name);
  } else if (!tx.touched.has(name)) {
    tx.touched.set(name, c);
    orig = c;
    const copy = new Chain(c.name, c.builtin, c.policy, { packets: c.counters.packets, bytes: c.counters.bytes }, c.rules.slice());
    copy.setFree = isSetFree(c);
    copy.samePrefix = c.rules.length;
    copy.owner = tx.id;
    tx.owned.push(copy);
    w = copy;
    tx.t.chains.set(name, w);
  } else {
    orig = tx.touched.get(name);
  }
  tx.lastName = name;
  tx.lastChain = w;
  tx.lastOrig = orig?.rules ?? NO_RULES;
  tx.lastOrigSetFree = isSetFree(orig);
  return w;
}

/** Empties a chain (as a declaration or `-F` does), without copying the rules it drops. */
function flushChain(tx: Txn, name: string): void {
  const c = tx.t.chains.get(name)!;
  if (!(c instanceof Chain && c.owner === tx.id) && !tx.touched.has(name)) {
    tx.touched.set(name, c);
    const w = new Chain(c.name, c.builtin, c.policy, { packets: c.counters.packets, bytes: c.counters.bytes }, []);
    w.samePrefix = 0;
    w.owner = tx.id;
    w.targets = [];
    tx.owned.push(w);
    tx.t.chains.set(name, w);
    if (tx.settled) countRefs(tx.aux.refs!, c.rules, -1);
    tx.lastName = name;
    tx.lastChain = w;
    tx.lastOrig = c.rules;
    tx.lastOrigSetFree = isSetFree(c);
    return;
  }
  if (tx.settled) countRefs(tx.aux.refs!, c.rules, -1);
  c.rules = [];
  if (c instanceof Chain) {
    c.setFree = true;
    c.samePrefix = 0;
    c.targets = c.owner === tx.id ? [] : null;
  }
}

function createChain(tx: Txn, name: string): void {
  let orig: ChainState | undefined;
  // the chain does not exist: it has an undo entry only if deleted by this transaction
  if (tx.deleted.size > 0 && tx.touched.has(name)) orig = tx.touched.get(name);
  else tx.touched.set(name, undefined);
  const c = new Chain(name, false, null, { packets: 0, bytes: 0 }, []);
  c.samePrefix = 0;
  c.owner = tx.id;
  c.fresh = orig === undefined;
  c.targets = [];
  tx.owned.push(c);
  tx.t.chains.set(name, c);
  tx.lastName = name;
  tx.lastChain = c;
  tx.lastOrig = orig?.rules ?? NO_RULES;
  tx.lastOrigSetFree = isSetFree(orig);
}

/** Removes a (checked, empty) chain from the table. */
function deleteChainEntry(tx: Txn, name: string): void {
  saveOrder(tx);
  if (!tx.touched.has(name)) tx.touched.set(name, tx.t.chains.get(name));
  tx.t.chains.delete(name);
  tx.deleted.add(name);
  tx.removals++;
  tx.lastChain = null;
}

/** Saves the original map order before an entry moves (a delete or a rename). */
function saveOrder(tx: Txn): void {
  if (tx.order !== null) return;
  const order: [string, ChainState][] = [];
  for (const [name, c] of tx.t.chains) {
    if (!tx.touched.has(name)) order.push([name, c]);
    else {
      const orig = tx.touched.get(name);
      if (orig !== undefined) order.push([name, orig]);
    }
  }
  // originals deleted before this point cannot exist: every delete saves the order first
  tx.order = order;
}

function countRefs(refs: Map<string, number>, rules: readonly RuleState[], delta: number): void {
  for (let i = 0; i < rules.length; i++) {
    const tg = rules[i]!.spec.target;
    if (tg !== null && (tg.kind === 'jump' || tg.kind === 'goto')) bump(refs, tg.chain, delta);
  }
}

function bump(refs: Map<string, number>, name: string, delta: number): void {
  const n = (refs.get(name) ?? 0) + delta;
  if (n === 0) refs.delete(name);
  else refs.set(name, n);
}

function refDelta(tx: Txn, rule: RuleSpec, delta: number): void {
  if (!tx.settled) return;
  const tg = rule.target;
  if (tg !== null && (tg.kind === 'jump' || tg.kind === 'goto')) bump(tx.aux.refs!, tg.chain, delta);
}

/** From now on `aux.refs` is exact for the transaction's current state (reference checks need it). */
function settle(tx: Txn): void {
  if (tx.settled) return;
  const aux = tx.aux;
  if (aux.refs === null) {
    const refs = new Map<string, number>();
    for (const c of tx.t.chains.values()) countRefs(refs, c.rules, 1);
    aux.refs = refs;
  } else {
    for (const [name, orig] of tx.touched) {
      if (orig !== undefined) countRefs(aux.refs, orig.rules, -1);
      const cur = tx.t.chains.get(name);
      if (cur !== undefined) countRefs(aux.refs, cur.rules, 1);
    }
  }
  tx.settled = true;
}

/** Brings `aux.refs` up to date at commit, cheaply when most rules kept their targets. */
function settleAtCommit(tx: Txn): void {
  if (tx.settled) return;
  const refs = tx.aux.refs;
  if (refs === null) return; // still unknown: computed when first needed
  for (const [name, orig] of tx.touched) {
    const cur = tx.t.chains.get(name);
    if (orig !== undefined && cur !== undefined && sameAsOrig(orig, cur)) continue;
    const before = orig?.rules ?? [];
    const after = cur?.rules ?? [];
    const n = Math.min(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const a = before[i]!.spec;
      const b = after[i]!.spec;
      if (a === b) continue;
      const ta = jumpTarget(a);
      const tb = jumpTarget(b);
      if (ta === tb) continue;
      if (ta !== null) bump(refs, ta, -1);
      if (tb !== null) bump(refs, tb, 1);
    }
    for (let i = n; i < before.length; i++) {
      const ta = jumpTarget(before[i]!.spec);
      if (ta !== null) bump(refs, ta, -1);
    }
    for (let i = n; i < after.length; i++) {
      const tb = jumpTarget(after[i]!.spec);
      if (tb !== null) bump(refs, tb, 1);
    }
  }
  tx.settled = true;
}

function sameRules(a: readonly RuleState[], b: readonly RuleState[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.spec !== b[i]!.spec) return false;
  return true;
}

function jumpTarget(rule: RuleSpec): string | null {
  const tg = rule.target;
  return tg !== null && (tg.kind === 'jump' || tg.kind === 'goto') ? tg.chain : null;
}

function rollback(tx: Txn): void {
  const t = tx.t;
  if (tx.settled) {
    const refs = tx.aux.refs!;
    for (const [name, orig] of tx.touched) {
      const cur = t.chains.get(name);
      if (cur !== undefined) countRefs(refs, cur.rules, -1);
      if (orig !== undefined) countRefs(refs, orig.rules, 1);
    }
  }
  if (tx.order !== null) {
    t.chains.clear();
    for (const [name, c] of tx.order) t.chains.set(name, c);
  } else {
    for (const [name, orig] of tx.touched) {
      if (orig === undefined) t.chains.delete(name);
      else t.chains.set(name, orig);
    }
  }
  tx.touched.clear();
  tx.lastChain = null;
}

/**
 * The checks libiptc makes at commit time (TC_COMMIT): every jump resolves,
 * and no chain loops back into itself. Returns the new chain depths.
 */
/**
 * The depth label of a chain changed by the transaction (computed into the
 * copy); unchanged chains keep theirs, which still bound their targets'
 * labels unless a changed target grew (checked by the caller).
 */
function chainLevel(t: TableState, c: Chain, useTargets: boolean): number {
  c.level = BUSY;
  let lv = 0;
  const rules = c.rules;
  let lastName = '';
  let last: Chain | undefined;
  // the targets the rule-load checks found (valid while no chain was deleted or renamed)
  const known = useTargets ? c.targets : null;
  const useKnown = known !== null && known.length === rules.length;
  for (let i = 0; i < rules.length; i++) {
    let tc: Chain | undefined;
    if (useKnown) {
      const k = known[i];
      if (k === null) continue;
      tc = k;
    }
    if (tc === undefined) {
      const tg = rules[i]!.spec.target;
      if (tg === null || (tg.kind !== 'jump' && tg.kind !== 'goto')) continue;
      const target = tg.chain;
      tc = last;
      if (target !== lastName || tc === undefined) {
        const found = t.chains.get(target);
        if (!(found instanceof Chain)) return BAD;
        tc = found;
        lastName = target;
        last = tc;
      }
    }
    let l = tc.level;
    if (l === UNKNOWN) {
      l = chainLevel(t, tc, useTargets);
      if (l === BAD) return BAD;
    } else if (l < 0) return BAD;
    if (l >= lv) lv = l + 1;
  }
  c.level = lv;
  return lv;
}

/**
 * The commit checks, incrementally: the depth labels of the changed chains
 * are recomputed (a loop through them shows as a chain reached while being
 * labelled); whatever this cannot vouch for goes to the whole-table
 * {@link validate}. Returns the labels for every chain when it came to that.
 */
function check(tx: Txn, line: number): Map<string, number> | null {
  settleAtCommit(tx);
  const t = tx.t;
  const aux = tx.aux;
  if (tx.full) return validate(t, tx.where, line);
  // a deleted chain must not be referred to (the -X checks ensure it; this is the backstop)
  if (tx.deleted.size > 0) {
    const refs = aux.refs!;
    for (const name of tx.deleted) if (!t.chains.has(name) && (refs.get(name) ?? 0) > 0) return validate(t, tx.where, line);
  }
  // Chains rewritten with exactly the rules they had (the same rule objects, as kube-proxy's
  // KUBE-SERVICES in a partial sync) keep their edges: they count as unchanged, label and all.
  // (Not after a delete: a chain of that name may have been recreated with another depth.)
  let same: Set<string> | null = null;
  let grown: string[] | null = null;
  if (tx.deleted.size === 0) {
    // every touched name holds its owned chain: walk those without looking names up
    const owned = tx.owned;
    for (let i = 0; i < owned.length; i++) {
      const c = owned[i]!;
      if (c.fresh || c.level !== UNKNOWN) continue;
      const orig = tx.touched.get(c.name)!;
      if (!sameAsOrig(orig, c)) continue;
      c.level = levelOf(orig);
      (same ??= new Set()).add(c.name);
    }
    for (let i = 0; i < owned.length; i++) {
      const c = owned[i]!;
      let lv = c.level;
      if (lv === UNKNOWN) lv = chainLevel(t, c, true);
      c.targets = null;
      if (lv < 0) return validate(t, tx.where, line);
      // an unchanged chain jumping here keeps a larger label unless this one grew
      if (!c.fresh && lv > levelOf(tx.touched.get(c.name))) (grown ??= []).push(c.name);
    }
  } else {
    for (const [name, orig] of tx.touched) {
      const c = t.chains.get(name);
      if (!(c instanceof Chain)) continue;
      let lv = c.level;
      if (lv === UNKNOWN) lv = chainLevel(t, c, false);
      if (lv < 0) return validate(t, tx.where, line);
      if (orig !== undefined && !tx.deleted.has(name) && lv > levelOf(orig)) (grown ??= []).push(name);
    }
  }
  if (grown !== null) {
    // does an unchanged chain refer to a chain that got deeper? (a loop could close through it)
    // A grown chain referred to by an unchanged chain: fine when the referrer's label is still larger;
    // a built-in chain (never a jump target, so never on a loop) just gets a larger label.
    const refs = aux.refs;
    if (refs !== null) {
      const fromChanged = new Map<string, number>();
      for (const g of grown) fromChanged.set(g, 0);
      for (const name of tx.touched.keys()) {
        const c = t.chains.get(name);
        if (c === undefined || same?.has(name) === true) continue;
        for (const r of c.rules) {
          const target = jumpTarget(r.spec);
          if (target !== null) {
            const n = fromChanged.get(target);
            if (n !== undefined) fromChanged.set(target, n + 1);
          }
        }
      }
      if (grown.every((g) => (refs.get(g) ?? 0) === fromChanged.get(g)!)) return null;
    }
    const targets = new Map<string, number>();
    for (const g of grown) targets.set(g, levelOf(t.chains.get(g)));
    const raise: [Chain, number][] = [];
    for (const [name, c] of t.chains) {
      if (tx.touched.has(name) && same?.has(name) !== true) continue;
      let need = -1;
      for (const r of c.rules) {
        const target = jumpTarget(r.spec);
        const lv = target === null ? undefined : targets.get(target);
        if (lv !== undefined && lv + 1 > need) need = lv + 1;
      }
      if (need < 0 || need <= levelOf(c)) continue;
      if (!c.builtin || !(c instanceof Chain)) return validate(t, tx.where, line);
      raise.push([c, need]);
    }
    for (const [c, lv] of raise) c.level = lv;
  }
  return null;
}

function commit(tx: Txn, line: number): void {
  const levels = check(tx, line);
  if (levels === null) return;
  // check() went to validate() before clearing every owned chain's targets: drop them (only this transaction reads them)
  for (const c of tx.owned) c.targets = null;
  for (const [name, c] of tx.t.chains) if (c instanceof Chain) c.level = levels.get(name)!;
}

// ------------------------------------------------------------------ commands

function emptyTable(name: TableName): TableState {
  const chains = new Map<string, ChainState>();
  for (const c of BUILTIN_CHAINS.get(name)!) {
    const chain = new Chain(c, true, 'ACCEPT', { packets: 0, bytes: 0 }, []);
    chain.level = 0;
    chains.set(c, chain);
  }
  return { name, chains };
}

function isPristine(t: TableState): boolean {
  for (const c of t.chains.values()) if (!c.builtin || c.rules.length > 0 || c.policy !== 'ACCEPT') return false;
  return true;
}

function zeroChain(c: ChainState): void {
  c.counters.packets = 0;
  c.counters.bytes = 0;
  for (const r of c.rules) {
    r.counters.packets = 0;
    r.counters.bytes = 0;
  }
}

/** `-Z` inside a transaction: fresh counter objects, so a rollback keeps the old values. */
function zeroWritable(c: ChainState): void {
  c.counters.packets = 0;
  c.counters.bytes = 0;
  c.rules = c.rules.map((r) => ({ spec: r.spec, counters: { packets: 0, bytes: 0 } }));
}

function setCounters(dst: Counters, src: Counters | null): void {
  dst.packets = src?.packets ?? 0;
  dst.bytes = src?.bytes ?? 0;
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(code: 'ENOENT' | 'EEXIST' | 'EINVAL' | 'EBUSY' | 'ERANGE', where: string, line: number, message: string, useParse: boolean): never {
  if (useParse) throw new ParseError(`${where}: ${message}`, '', line, 1);
  throw new OperationError(code, `${where}: ${message}`);
}

function checkChainName(name: string, where: string, line: number): void {
  if (name.length === 0 || (name.length > MAX_CHAIN_NAME >> 2 && utf8Length(name) > MAX_CHAIN_NAME)) {
    fail('EINVAL', where, line, `chain name ${JSON.stringify(name)} must be 1..${MAX_CHAIN_NAME} characters`, where.endsWith('.restore'));
  }
}

function getChain(tx: Txn, name: string, line: number): ChainState {
  const c = writable(tx, name);
  if (c === undefined) fail('ENOENT', tx.where, line, `no chain ${name} in table ${tx.t.name}`, tx.restore);
  return c;
}

function newRule(rule: RuleSpec, counters: Counters | null, useCounters: boolean): RuleState {
  return { spec: rule, counters: useCounters && counters !== null ? { packets: counters.packets, bytes: counters.bytes } : { packets: 0, bytes: 0 } };
}

function runCommand(tx: Txn, cmd: TableCommand): void {
  const { where, restore } = tx;
  const t = tx.t;
  const line = cmd.line;
  switch (cmd.op) {
    case 'append': {
      const rule = cmd.rule;
      const c = writable(tx, cmd.chain);
      // The very rule object this chain held at this position before the transaction, and no chain
      // was deleted since: it loaded then and its target is still there, so the checks would pass
      // again (ipset references are re-checked: sets live outside the ruleset; a rule from a chain
      // known to have no set match has none).
      const n = c === undefined ? -1 : c.rules.length;
      const before = tx.lastOrig;
      const same = n >= 0 && n < before.length && before[n]!.spec === rule && tx.deleted.size === 0;
      const sets = !(same && tx.lastOrigSetFree) && hasSetMatch(rule);
      const checked = !same || sets;
      const target = checked ? checkRule(tx, rule, line) : undefined;
      if (c === undefined) fail('ENOENT', where, line, `no chain ${cmd.chain} in table ${t.name}`, restore);
      if (c instanceof Chain) {
        if (sets) c.setFree = false;
        if (c.samePrefix === n && n < before.length && before[n]!.spec === rule) c.samePrefix = n + 1;
        const tl = c.targets;
        if (tl !== null) {
          if (checked && tl.length === n) tl.push(target instanceof Chain && target.owner === tx.id ? target : target === null ? null : undefined);
          else c.targets = null;
        }
      }
      c.rules.push(newRule(rule, cmd.counters, tx.useCounters));
      refDelta(tx, cmd.rule, 1);
      return;
    }
    case 'insert': {
      checkRule(tx, cmd.rule, line);
      const c = getChain(tx, cmd.chain, line);
      if (cmd.index < 1 || cmd.index > c.rules.length + 1) fail('ERANGE', where, line, `index of insertion too big (${cmd.index})`, restore);
      if (c instanceof Chain) {
        if (hasSetMatch(cmd.rule)) c.setFree = false;
        c.samePrefix = -1;
        c.targets = null;
      }
      c.rules.splice(cmd.index - 1, 0, newRule(cmd.rule, cmd.counters, tx.useCounters));
      refDelta(tx, cmd.rule, 1);
      return;
    }
    case 'replace': {
      checkRule(tx, cmd.rule, line);
      const c = getChain(tx, cmd.chain, line);
      if (cmd.index < 1 || cmd.index > c.rules.length) fail('ERANGE', where, line, `index of replacement too big (${cmd.index})`, restore);
      refDelta(tx, c.rules[cmd.index - 1]!.spec, -1);
      if (c instanceof Chain) {
        if (hasSetMatch(cmd.rule)) c.setFree = false;
        c.samePrefix = -1;
        c.targets = null;
      }
      c.rules[cmd.index - 1] = newRule(cmd.rule, cmd.counters, tx.useCounters);
      refDelta(tx, cmd.rule, 1);
      return;
    }
    case 'delete': {
      const c = getChain(tx, cmd.chain, line);
      const want = JSON.stringify(cmd.rule);
      const i = c.rules.findIndex((r) => JSON.stringify(r.spec) === want);
      if (i < 0) fail('ENOENT', where, line, 'Bad rule (does a matching rule exist in that chain?)', restore);
      refDelta(tx, c.rules[i]!.spec, -1);
      if (c instanceof Chain) {
        c.samePrefix = -1;
        c.targets = null;
      }
      c.rules.splice(i, 1);
      return;
    }
    case 'deleteNum': {
      const c = getChain(tx, cmd.chain, line);
      if (cmd.index < 1 || cmd.index > c.rules.length) fail('ERANGE', where, line, `index of deletion too big (${cmd.index})`, restore);
      refDelta(tx, c.rules[cmd.index - 1]!.spec, -1);
      if (c instanceof Chain) {
        c.samePrefix = -1;
        c.targets = null;
      }
      c.rules.splice(cmd.index - 1, 1);
      return;
    }
    case 'newChain':
      checkChainName(cmd.chain, where, line);
      if (t.chains.has(cmd.chain)) fail('EEXIST', where, line, `chain ${cmd.chain} already exists`, restore);
      createChain(tx, cmd.chain);
      return;
    case 'deleteChain': {
      settle(tx);
      const refs = tx.aux.refs!;
      if (cmd.chain === null) {
        for (const [n, c] of [...t.chains]) if (!c.builtin && c.rules.length === 0 && (refs.get(n) ?? 0) === 0) deleteChainEntry(tx, n);
        return;
      }
      const c = t.chains.get(cmd.chain);
      if (c === undefined) fail('ENOENT', where, line, `no chain ${cmd.chain} in table ${t.name}`, restore);
      if (c.builtin) fail('EINVAL', where, line, `cannot delete built-in chain ${c.name}`, restore);
      if (c.rules.length > 0) fail('EBUSY', where, line, `chain ${c.name} is not empty (Directory not empty)`, restore);
      if ((refs.get(c.name) ?? 0) > 0) fail('EBUSY', where, line, `chain ${c.name} is referenced (Too many links)`, restore);
      deleteChainEntry(tx, c.name);
      return;
    }
    case 'flush':
      if (cmd.chain === null) for (const name of [...t.chains.keys()]) flushChain(tx, name);
      else {
        if (!t.chains.has(cmd.chain)) fail('ENOENT', where, line, `no chain ${cmd.chain} in table ${t.name}`, restore);
        flushChain(tx, cmd.chain);
      }
      return;
    case 'zero':
      if (cmd.chain === null) for (const name of [...t.chains.keys()]) zeroWritable(writable(tx, name)!);
      else zeroWritable(getChain(tx, cmd.chain, line));
      return;
    case 'policy': {
      const c = getChain(tx, cmd.chain, line);
      if (!c.builtin) fail('EINVAL', where, line, `chain ${c.name} is not a built-in chain: it has no policy`, restore);
      if (cmd.policy === 'RETURN') fail('EINVAL', where, line, 'policy RETURN is not allowed', restore);
      c.policy = cmd.policy;
      if (tx.useCounters && cmd.counters !== null) setCounters(c.counters, cmd.counters);
      return;
    }
    case 'rename': {
      const c = getChain(tx, cmd.chain, line);
      if (c.builtin) fail('EINVAL', where, line, `cannot rename built-in chain ${c.name}`, restore);
      checkChainName(cmd.newName, where, line);
      if (t.chains.has(cmd.newName)) fail('EEXIST', where, line, `chain ${cmd.newName} already exists`, restore);
      settle(tx);
      saveOrder(tx);
      tx.full = true;
      const oldName = c.name;
      const renamed = new Chain(cmd.newName, false, c.policy, c.counters, c.rules);
      renamed.setFree = isSetFree(c);
      if (!tx.touched.has(cmd.newName)) tx.touched.set(cmd.newName, undefined);
      const entries = [...t.chains].map(([n, v]): [string, ChainState] => (n === oldName ? [cmd.newName, renamed] : [n, v]));
      t.chains.clear();
      for (const [n, v] of entries) t.chains.set(n, v);
      tx.deleted.add(oldName);
      tx.removals++;
      tx.lastChain = null;
      for (const name of [...t.chains.keys()]) {
        const other = t.chains.get(name)!;
        if (!other.rules.some((r) => jumpTarget(r.spec) === oldName)) continue;
        const w = writable(tx, name)!;
        if (w instanceof Chain) {
          w.samePrefix = -1;
          w.targets = null;
        }
        w.rules = w.rules.map((r) => {
          const tg = r.spec.target;
          if ((tg?.kind === 'jump' || tg?.kind === 'goto') && tg.chain === oldName) {
            return { spec: { ...r.spec, target: { kind: tg.kind, chain: cmd.newName } }, counters: r.counters };
          }
          return r;
        });
      }
      const refs = tx.aux.refs!;
      const n = refs.get(oldName) ?? 0;
      refs.delete(oldName);
      if (n > 0) refs.set(cmd.newName, n);
      return;
    }
  }
}

function hasSetMatch(rule: RuleSpec): boolean {
  const m = rule.matches;
  for (let i = 0; i < m.length; i++) if (m[i]!.module === 'set') return true;
  return false;
}

/**
 * The rule-load checks: match modules' checkentry, then the target (libiptc
 * and the kernel). Returns the jump/goto target chain (the object found
 * when it was last looked up: a copy made since by the transaction is not
 * seen, so only a chain the transaction owns is known to be the table's), or
 * null for a rule without one.
 */
function checkRule(tx: Txn, rule: RuleSpec, line: number): ChainState | null {
  const check = tx.check;
  if (check !== null) {
    try {
      check(tx.t.name, rule);
    } catch (e) {
      fail('EINVAL', tx.where, line, (e as Error).message, tx.restore);
    }
  }
  const tg = rule.target;
  if (tg === null) return null;
  const { where, restore } = tx;
  const t = tx.t;
  if (tg.kind === 'jump' || tg.kind === 'goto') {
    const name = tg.chain;
    if (tx.tgChain !== null && name === tx.tgName && tx.tgRemovals === tx.removals) return tx.tgChain;
    const c = t.chains.get(name);
    if (c === undefined) fail('ENOENT', where, line, `Couldn't load target \`${name}': No such file or directory`, restore);
    if (c.builtin) fail('EINVAL', where, line, `cannot jump to built-in chain ${name}`, restore);
    tx.tgName = name;
    tx.tgChain = c;
    tx.tgRemovals = tx.removals;
    return c;
  }
  const natOnly = tg.kind === 'DNAT' || tg.kind === 'SNAT' || tg.kind === 'MASQUERADE' || tg.kind === 'REDIRECT';
  if (natOnly && t.name !== 'nat') fail('EINVAL', where, line, `target ${tg.kind} is only valid in the nat table`, restore);
  const rawOnly = tg.kind === 'NOTRACK' || tg.kind === 'CT';
  if (rawOnly && t.name !== 'raw') fail('EINVAL', where, line, `target ${tg.kind} is only valid in the raw table`, restore);
  return null;
}

/**
 * The whole-table commit checks (TC_COMMIT): every jump resolves, and no
 * chain is reachable from itself (mark_source_chains: ELOOP). Returns every
 * chain's depth.
 */
function validate(t: TableState, where: string, line: number): Map<string, number> {
  const restore = where.endsWith('.restore');
  for (const c of t.chains.values()) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      if ((tg?.kind === 'jump' || tg?.kind === 'goto') && !t.chains.has(tg.chain)) {
        fail('ENOENT', where, line, `rule in chain ${c.name} jumps to a non-existent chain ${tg.chain}`, restore);
      }
    }
  }
  // A loop (chain reachable from itself) is refused by the kernel (mark_source_chains: ELOOP).
  const state = new Map<string, 0 | 1 | 2>();
  const levels = new Map<string, number>();
  const visit = (name: string): number => {
    const s = state.get(name) ?? 0;
    if (s === 2) return levels.get(name)!;
    if (s === 1) fail('EINVAL', where, line, `loop detected at chain ${name} (Too many levels of symbolic links)`, restore);
    state.set(name, 1);
    let lv = 0;
    for (const r of t.chains.get(name)!.rules) {
      const tg = r.spec.target;
      if (tg?.kind === 'jump' || tg?.kind === 'goto') lv = Math.max(lv, visit(tg.chain) + 1);
    }
    state.set(name, 2);
    levels.set(name, lv);
    return lv;
  };
  for (const name of t.chains.keys()) visit(name);
  return levels;
}
