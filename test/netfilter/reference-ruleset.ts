// The Ruleset as it was before copy-on-write per chain and incremental commit checks (clone the whole table,
// validate the whole table at every commit): the reference the transactional Ruleset is compared against in
// ruleset-txn.test.ts. Test code only.
import { OperationError, ParseError } from '../../src/errors.js';
import { utf8Length } from '../../src/io/iptables/lex.js';
import { BUILTIN_CHAINS, MAX_CHAIN_NAME } from '../../src/netfilter/ast.js';
import type {
  Counters,
  RestoreDocument,
  RestoreTableBlock,
  RuleSpec,
  SavedChain,
  SavedTable,
  TableCommand,
  TableName,
} from '../../src/netfilter/ast.js';

// The state's shape is the engine's (only the algorithm is the old one).
import { TABLE_ORDER } from '../../src/netfilter/ruleset.js';
import type { ChainState, RestoreOptions, RuleCheck, RuleState, SaveOrderOptions, TableState } from '../../src/netfilter/ruleset.js';

const WHERE = 'lbsim/netfilter.Ruleset';

/**
 * The kernel-side state of iptables: tables, chains, rules, policies and
 * counters, changed only through atomic operations — a whole
 * `iptables-restore` table block (`COMMIT`) or one `iptables` command.
 * A failed operation leaves every table exactly as it was, and the error
 * names the offending line.
 */
export class ReferenceRuleset {
  readonly #tables = new Map<TableName, TableState>();
  readonly #checkRule: RuleCheck | null;
  #version = 0;

  /** @param options - `checkRule`: extra rule-load checks (match modules' `checkentry`) */
  constructor(options: { checkRule?: RuleCheck } = {}) {
    for (const name of TABLE_ORDER) this.#tables.set(name, emptyTable(name));
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
      const next = this.#applyBlock(block, options);
      this.#tables.set(block.table, next);
      this.#version++;
    }
  }

  /**
   * Checks a document without applying it (`iptables-restore --test`).
   *
   * @throws {ParseError} as {@link Ruleset.restore} would
   */
  test(doc: RestoreDocument, options: RestoreOptions = {}): void {
    for (const block of doc.blocks) this.#applyBlock(block, options);
  }

  /**
   * Runs one `iptables` command on a table, atomically.
   *
   * @throws {OperationError} with the kernel/libiptc errno when refused
   */
  apply(table: TableName, command: TableCommand): void {
    const next = cloneTable(this.#tables.get(table)!);
    runCommand(next, command, true, `${WHERE}.apply`, this.#checkRule);
    validate(next, `${WHERE}.apply`, command.line);
    this.#tables.set(table, next);
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

  #applyBlock(block: RestoreTableBlock, options: RestoreOptions): TableState {
    const where = `${WHERE}.restore`;
    const next = cloneTable(this.#tables.get(block.table)!);
    if (options.noflush !== true) {
      // iptables-restore without --noflush: flush every chain, delete every user chain.
      for (const c of next.chains.values()) c.rules = [];
      for (const [name, c] of next.chains) if (!c.builtin) next.chains.delete(name);
    }
    for (const decl of block.chains) {
      const existing = next.chains.get(decl.name);
      if (decl.policy !== null) {
        if (existing === undefined || !existing.builtin) {
          throw new ParseError(`${where}: chain ${decl.name} is not a built-in chain of table ${block.table}, it cannot have a policy`, decl.name, decl.line, 1);
        }
        existing.policy = decl.policy;
        setCounters(existing.counters, options.counters === true ? decl.counters : null);
        continue;
      }
      checkChainName(decl.name, where, decl.line);
      if (existing !== undefined) {
        if (existing.builtin) {
          throw new ParseError(`${where}: built-in chain ${decl.name} declared without a policy`, decl.name, decl.line, 1);
        }
        // A declared chain that exists is flushed (iptables-restore --noflush).
        existing.rules = [];
      } else {
        next.chains.set(decl.name, { name: decl.name, builtin: false, policy: null, counters: { packets: 0, bytes: 0 }, rules: [] });
      }
    }
    for (const cmd of block.commands) runCommand(next, cmd, options.counters === true, where, this.#checkRule);
    validate(next, where, block.commitLine);
    return next;
  }
}

function emptyTable(name: TableName): TableState {
  const chains = new Map<string, ChainState>();
  for (const c of BUILTIN_CHAINS.get(name)!) {
    chains.set(c, { name: c, builtin: true, policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, rules: [] });
  }
  return { name, chains };
}

function isPristine(t: TableState): boolean {
  for (const c of t.chains.values()) if (!c.builtin || c.rules.length > 0 || c.policy !== 'ACCEPT') return false;
  return true;
}

// Copy-on-write: chains and rule arrays are copied, rule objects (with their
// live counters) are shared until replaced.
function cloneTable(t: TableState): TableState {
  const chains = new Map<string, ChainState>();
  for (const [n, c] of t.chains) chains.set(n, { ...c, counters: c.counters, rules: [...c.rules] });
  return { name: t.name, chains };
}

function zeroChain(c: ChainState): void {
  c.counters.packets = 0;
  c.counters.bytes = 0;
  for (const r of c.rules) {
    r.counters.packets = 0;
    r.counters.bytes = 0;
  }
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
  if (name.length === 0 || utf8Length(name) > MAX_CHAIN_NAME) {
    fail('EINVAL', where, line, `chain name ${JSON.stringify(name)} must be 1..${MAX_CHAIN_NAME} characters`, where.endsWith('.restore'));
  }
}

function getChain(t: TableState, name: string, where: string, line: number, restore: boolean): ChainState {
  const c = t.chains.get(name);
  if (c === undefined) fail('ENOENT', where, line, `no chain ${name} in table ${t.name}`, restore);
  return c;
}

function newRule(rule: RuleSpec, counters: Counters | null, useCounters: boolean): RuleState {
  return { spec: rule, counters: useCounters && counters !== null ? { ...counters } : { packets: 0, bytes: 0 } };
}

function runCommand(t: TableState, cmd: TableCommand, useCounters: boolean, where: string, check: RuleCheck | null): void {
  const restore = where.endsWith('.restore');
  const line = cmd.line;
  if (check !== null && (cmd.op === 'append' || cmd.op === 'insert' || cmd.op === 'replace')) {
    try {
      check(t.name, cmd.rule);
    } catch (e) {
      fail('EINVAL', where, line, (e as Error).message, restore);
    }
  }
  switch (cmd.op) {
    case 'append':
      checkTarget(t, cmd.rule, where, line, restore);
      getChain(t, cmd.chain, where, line, restore).rules.push(newRule(cmd.rule, cmd.counters, useCounters));
      return;
    case 'insert': {
      checkTarget(t, cmd.rule, where, line, restore);
      const c = getChain(t, cmd.chain, where, line, restore);
      if (cmd.index < 1 || cmd.index > c.rules.length + 1) fail('ERANGE', where, line, `index of insertion too big (${cmd.index})`, restore);
      c.rules.splice(cmd.index - 1, 0, newRule(cmd.rule, cmd.counters, useCounters));
      return;
    }
    case 'replace': {
      checkTarget(t, cmd.rule, where, line, restore);
      const c = getChain(t, cmd.chain, where, line, restore);
      if (cmd.index < 1 || cmd.index > c.rules.length) fail('ERANGE', where, line, `index of replacement too big (${cmd.index})`, restore);
      c.rules[cmd.index - 1] = newRule(cmd.rule, cmd.counters, useCounters);
      return;
    }
    case 'delete': {
      const c = getChain(t, cmd.chain, where, line, restore);
      const want = JSON.stringify(cmd.rule);
      const i = c.rules.findIndex((r) => JSON.stringify(r.spec) === want);
      if (i < 0) fail('ENOENT', where, line, 'Bad rule (does a matching rule exist in that chain?)', restore);
      c.rules.splice(i, 1);
      return;
    }
    case 'deleteNum': {
      const c = getChain(t, cmd.chain, where, line, restore);
      if (cmd.index < 1 || cmd.index > c.rules.length) fail('ERANGE', where, line, `index of deletion too big (${cmd.index})`, restore);
      c.rules.splice(cmd.index - 1, 1);
      return;
    }
    case 'newChain':
      checkChainName(cmd.chain, where, line);
      if (t.chains.has(cmd.chain)) fail('EEXIST', where, line, `chain ${cmd.chain} already exists`, restore);
      t.chains.set(cmd.chain, { name: cmd.chain, builtin: false, policy: null, counters: { packets: 0, bytes: 0 }, rules: [] });
      return;
    case 'deleteChain': {
      if (cmd.chain === null) {
        for (const [n, c] of t.chains) if (!c.builtin && c.rules.length === 0 && references(t, n) === 0) t.chains.delete(n);
        return;
      }
      const c = getChain(t, cmd.chain, where, line, restore);
      if (c.builtin) fail('EINVAL', where, line, `cannot delete built-in chain ${c.name}`, restore);
      if (c.rules.length > 0) fail('EBUSY', where, line, `chain ${c.name} is not empty (Directory not empty)`, restore);
      if (references(t, c.name) > 0) fail('EBUSY', where, line, `chain ${c.name} is referenced (Too many links)`, restore);
      t.chains.delete(c.name);
      return;
    }
    case 'flush':
      if (cmd.chain === null) for (const c of t.chains.values()) c.rules = [];
      else getChain(t, cmd.chain, where, line, restore).rules = [];
      return;
    case 'zero':
      if (cmd.chain === null) for (const c of t.chains.values()) zeroChain(c);
      else zeroChain(getChain(t, cmd.chain, where, line, restore));
      return;
    case 'policy': {
      const c = getChain(t, cmd.chain, where, line, restore);
      if (!c.builtin) fail('EINVAL', where, line, `chain ${c.name} is not a built-in chain: it has no policy`, restore);
      if (cmd.policy === 'RETURN') fail('EINVAL', where, line, 'policy RETURN is not allowed', restore);
      c.policy = cmd.policy;
      if (useCounters && cmd.counters !== null) setCounters(c.counters, cmd.counters);
      return;
    }
    case 'rename': {
      const c = getChain(t, cmd.chain, where, line, restore);
      if (c.builtin) fail('EINVAL', where, line, `cannot rename built-in chain ${c.name}`, restore);
      checkChainName(cmd.newName, where, line);
      if (t.chains.has(cmd.newName)) fail('EEXIST', where, line, `chain ${cmd.newName} already exists`, restore);
      const renamed: ChainState = { ...c, name: cmd.newName };
      const entries = [...t.chains].map(([n, v]): [string, ChainState] => (n === c.name ? [cmd.newName, renamed] : [n, v]));
      t.chains.clear();
      for (const [n, v] of entries) t.chains.set(n, v);
      for (const other of t.chains.values()) {
        other.rules = other.rules.map((r) => {
          const tg = r.spec.target;
          if ((tg?.kind === 'jump' || tg?.kind === 'goto') && tg.chain === c.name) {
            return { spec: { ...r.spec, target: { kind: tg.kind, chain: cmd.newName } }, counters: r.counters };
          }
          return r;
        });
      }
      return;
    }
  }
}

function checkTarget(t: TableState, rule: RuleSpec, where: string, line: number, restore: boolean): void {
  const tg = rule.target;
  if (tg === null) return;
  if (tg.kind === 'jump' || tg.kind === 'goto') {
    const c = t.chains.get(tg.chain);
    if (c === undefined) fail('ENOENT', where, line, `Couldn't load target \`${tg.chain}': No such file or directory`, restore);
    if (c.builtin) fail('EINVAL', where, line, `cannot jump to built-in chain ${tg.chain}`, restore);
    return;
  }
  const natOnly = tg.kind === 'DNAT' || tg.kind === 'SNAT' || tg.kind === 'MASQUERADE' || tg.kind === 'REDIRECT';
  if (natOnly && t.name !== 'nat') fail('EINVAL', where, line, `target ${tg.kind} is only valid in the nat table`, restore);
  const rawOnly = tg.kind === 'NOTRACK' || tg.kind === 'CT';
  if (rawOnly && t.name !== 'raw') fail('EINVAL', where, line, `target ${tg.kind} is only valid in the raw table`, restore);
}

function references(t: TableState, name: string): number {
  let n = 0;
  for (const c of t.chains.values()) {
    for (const r of c.rules) {
      const tg = r.spec.target;
      if ((tg?.kind === 'jump' || tg?.kind === 'goto') && tg.chain === name) n++;
    }
  }
  return n;
}

// The checks libiptc makes at commit time (TC_COMMIT): every jump resolves,
// and no chain loops back into itself.
function validate(t: TableState, where: string, line: number): void {
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
  const visit = (name: string): void => {
    const s = state.get(name) ?? 0;
    if (s === 2) return;
    if (s === 1) fail('EINVAL', where, line, `loop detected at chain ${name} (Too many levels of symbolic links)`, restore);
    state.set(name, 1);
    for (const r of t.chains.get(name)!.rules) {
      const tg = r.spec.target;
      if (tg?.kind === 'jump' || tg?.kind === 'goto') visit(tg.chain);
    }
    state.set(name, 2);
  };
  for (const name of t.chains.keys()) visit(name);
}
