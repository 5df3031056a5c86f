/**
 * The iptables argument-list parser: one command line (`-A CHAIN -p tcp
 * --dport 80 -j ACCEPT`, `-N CHAIN`, `-P INPUT DROP`, ...) to a
 * {@link TableCommand}. It mirrors `do_parse` of iptables 1.8.9
 * (`iptables/xshared.c`): getopt_long option matching (unique prefixes,
 * `--opt=value`), `!` inversion, `-m` loading with option precedence for the
 * most recently loaded extension, implicit loading of the protocol match on
 * the first unknown option after `-p`, and the checks iptables (and, for a
 * few, the kernel) applies to the result.
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import type {
  AddrMatch,
  Counters,
  IfaceMatch,
  MatchSpec,
  RuleSpec,
  StandardVerdict,
  TableCommand,
  TableName,
  TargetSpec,
} from '../../netfilter/ast.js';
import {
  MATCHES,
  TARGETS,
  TARGET_HOOKS,
  TARGET_TABLE,
  UNSUPPORTED_MATCHES,
  UNSUPPORTED_TARGETS,
  type ExtensionDef,
  type OptCall,
  type OptSpec,
  type RuleContext,
} from './extensions.js';
import { inetAton, maskOfPrefix, numericToIpaddr, strtouiExact, utf8Length, type IptablesToken } from './lex.js';
import { implicitProtoModule, parseProtocolName } from './protocols.js';
import { BUILTIN_CHAINS, MAX_CHAIN_NAME } from '../../netfilter/ast.js';

export { BUILTIN_CHAINS };

/** Built-in chains of each table, in hook order (`iptables-save` prints them first, in this order). */
/** Whether `name` is a table lbsim models. */
export function isTableName(name: string): name is TableName {
  return BUILTIN_CHAINS.has(name as TableName);
}


const STANDARD_VERDICTS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'QUEUE', 'RETURN']);

/** How a line is being parsed. */
export interface ArgParseContext {
  /** `module.function` for error messages. */
  readonly fn: string;
  /** The whole input line (ParseError.input). */
  readonly input: string;
  /** 1-based line number. */
  readonly line: number;
  /** `restore`: a line of an iptables-restore table block; `command`: an `iptables` command line. */
  readonly mode: 'restore' | 'command';
  /** The table of the restore block (restore mode) or the default table (command mode). */
  readonly table: TableName;
  /** Counters from a `[p:b]` prefix (restore mode with counters), applied like `--set-counters`. */
  readonly prefixCounters: Counters | null;
}

/** Result of parsing one argument list. */
export type ParsedArgs =
  | { readonly ignored: true }
  | { readonly ignored: false; readonly table: TableName; readonly command: TableCommand };

type Owner = { readonly type: 'generic' } | { readonly type: 'match'; readonly name: string } | { readonly type: 'target' };

interface TableEntry {
  readonly name: string;
  readonly hasArg: 0 | 1 | 2;
  readonly owner: Owner;
  /** Identity of the option within its owner (getopt's `val`). */
  readonly id: string;
  readonly spec: OptSpec | null;
}

/** iptables 1.8.9 `original_opts` (iptables/iptables.c): long name, has_arg, short letter. */
const GENERIC_OPTS: readonly (readonly [string, 0 | 1 | 2, string])[] = [
  ['append', 1, 'A'],
  ['delete', 1, 'D'],
  ['check', 1, 'C'],
  ['insert', 1, 'I'],
  ['replace', 1, 'R'],
  ['list', 2, 'L'],
  ['list-rules', 2, 'S'],
  ['flush', 2, 'F'],
  ['zero', 2, 'Z'],
  ['new-chain', 1, 'N'],
  ['delete-chain', 2, 'X'],
  ['rename-chain', 1, 'E'],
  ['policy', 1, 'P'],
  ['source', 1, 's'],
  ['destination', 1, 'd'],
  ['src', 1, 's'],
  ['dst', 1, 'd'],
  ['protocol', 1, 'p'],
  ['in-interface', 1, 'i'],
  ['jump', 1, 'j'],
  ['table', 1, 't'],
  ['match', 1, 'm'],
  ['numeric', 0, 'n'],
  ['out-interface', 1, 'o'],
  ['verbose', 0, 'v'],
  ['wait', 2, 'w'],
  ['wait-interval', 2, 'W'],
  ['exact', 0, 'x'],
  ['fragments', 0, 'f'],
  ['version', 0, 'V'],
  ['help', 2, 'h'],
  ['line-numbers', 0, '0'],
  ['modprobe', 1, 'M'],
  ['set-counters', 1, 'c'],
  ['goto', 1, 'g'],
  ['ipv4', 0, '4'],
  ['ipv6', 0, '6'],
];

/** Short options of IPT_OPTSTRING (1.8.9) and their has_arg. */
const SHORT_OPTS: ReadonlyMap<string, 0 | 1 | 2> = new Map<string, 0 | 1 | 2>([
  ['A', 1], ['C', 1], ['D', 1], ['E', 1], ['F', 2], ['I', 1], ['L', 2], ['M', 1], ['N', 1], ['P', 1], ['V', 0],
  ['X', 2], ['Z', 2], ['c', 1], ['d', 1], ['i', 1], ['j', 1], ['o', 1], ['p', 1], ['s', 1], ['t', 1], ['R', 1],
  ['S', 2], ['W', 2], ['4', 0], ['6', 0], ['f', 0], ['g', 1], ['h', 2], ['m', 1], ['n', 0], ['v', 0], ['w', 2],
  ['x', 0],
]);

const GENERIC_ENTRIES: readonly TableEntry[] = GENERIC_OPTS.map(([name, hasArg, id]) => ({
  name,
  hasArg,
  owner: { type: 'generic' },
  id,
  spec: null,
}));

/** Option names iptables reports for the generic flags (`ip46t_option_name`). */
const GENERIC_NAME: ReadonlyMap<string, string> = new Map([
  ['n', '-n'],
  ['s', '-s'],
  ['d', '-d'],
  ['p', '-p'],
  ['j', '-j'],
  ['v', '-v'],
  ['x', '-x'],
  ['i', '-i'],
  ['o', '-o'],
  ['0', '--line-numbers'],
  ['c', '-c'],
  ['f', '-f'],
]);

const COMMAND_LETTERS = 'ACDIRLSFZNXEP';

interface ExtInstance {
  readonly name: string;
  readonly def: ExtensionDef<unknown, unknown>;
  readonly state: unknown;
  readonly token: IptablesToken;
  /** option ids seen, with the name used */
  readonly seen: Map<string, string>;
}

/**
 * Parses one iptables argument list (already split into tokens).
 *
 * @throws {ParseError} with the line and the column of the offending token
 */
export function parseArgs(tokens: readonly IptablesToken[], ctx: ArgParseContext): ParsedArgs {
  return new ArgParser(tokens, ctx).run();
}

class ArgParser {
  private readonly tokens: readonly IptablesToken[];
  private readonly ctx: ArgParseContext;
  private i = 0;
  private invert = false;
  private invertToken: IptablesToken | null = null;

  private command: { letter: string; token: IptablesToken } | null = null;
  private chain: string | null = null;
  private chainToken: IptablesToken | null = null;
  private index: number | null = null;
  private newName: string | null = null;
  private policy: string | null = null;
  private policyToken: IptablesToken | null = null;
  private deleteNum = false;

  private readonly options = new Map<string, IptablesToken>();
  private src: { text: string; invert: boolean; token: IptablesToken } | null = null;
  private dst: { text: string; invert: boolean; token: IptablesToken } | null = null;
  private inIface: IfaceMatch | null = null;
  private outIface: IfaceMatch | null = null;
  private proto = 0;
  private protoInvert = false;
  private protoText: string | null = null;
  private protoUsed = false;
  private fragment: { invert: boolean } | null = null;
  private counters: Counters | null = null;
  private table: TableName;
  private ipv6Only = false;

  private readonly matches: ExtInstance[] = [];
  /** Extension option tables, most recently loaded first (xtables_options_xfrm order). */
  private readonly extTables: { owner: Owner; entries: TableEntry[] }[] = [];
  private target: { kind: 'ext'; inst: ExtInstance } | { kind: 'spec'; spec: TargetSpec; token: IptablesToken } | null = null;
  private targetToken: IptablesToken | null = null;
  private jumpName: string | null = null;

  constructor(tokens: readonly IptablesToken[], ctx: ArgParseContext) {
    this.tokens = tokens;
    this.ctx = ctx;
    this.table = ctx.table;
    if (ctx.prefixCounters !== null) {
      this.counters = ctx.prefixCounters;
      // iptables-restore passes the [p:b] prefix as --set-counters
      this.options.set('c', { text: '[counters]', column: 1, quoted: false });
    }
  }

  private fail(message: string, token?: IptablesToken | null): never {
    const col = token?.column ?? (this.tokens.length > 0 ? (this.tokens[this.tokens.length - 1] as IptablesToken).column : 1);
    throw new ParseError(`lbsim/${this.ctx.fn}: ${message}`, this.ctx.input, this.ctx.line, col);
  }

  run(): ParsedArgs {
    let afterDoubleDash = false;
    while (this.i < this.tokens.length) {
      const tok = this.tokens[this.i] as IptablesToken;
      const t = tok.text;
      this.i++;
      if (afterDoubleDash || t === '-' || !t.startsWith('-')) {
        if (!afterDoubleDash && t === '!') {
          if (this.invert) this.fail('multiple consecutive ! not allowed', tok);
          this.invert = true;
          this.invertToken = tok;
          continue;
        }
        this.fail(`bad argument "${t}"`, tok);
      }
      if (t === '--') {
        afterDoubleDash = true;
        continue;
      }
      if (t.startsWith('--')) this.longOption(tok);
      else this.shortOption(tok);
      if (this.ipv6Only) return { ignored: true };
    }
    return this.finish();
  }

  // ---------------------------------------------------------------- option dispatch

  private allEntries(): TableEntry[] {
    const all: TableEntry[] = [...GENERIC_ENTRIES];
    for (const t of this.extTables) all.push(...t.entries);
    return all;
  }

  /** glibc getopt_long matching: exact name first, else a prefix shared by options that are all the same option. */
  private resolve(name: string): TableEntry | 'unknown' | 'ambiguous' {
    const all = this.allEntries();
    const exact = all.find((e) => e.name === name);
    if (exact !== undefined) return exact;
    let found: TableEntry | null = null;
    let ambiguous = false;
    for (const e of all) {
      if (!e.name.startsWith(name)) continue;
      if (found === null) found = e;
      else if (found.hasArg !== e.hasArg || !sameOwner(found.owner, e.owner) || found.id !== e.id) ambiguous = true;
    }
    if (found === null) return 'unknown';
    return ambiguous ? 'ambiguous' : found;
  }

  private longOption(tok: IptablesToken): void {
    const body = tok.text.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inlineArg = eq < 0 ? null : body.slice(eq + 1);
    let entry = this.resolve(name);
    if (typeof entry === 'string' && this.loadImplicitProto(tok)) entry = this.resolve(name);
    if (entry === 'unknown' || entry === 'ambiguous') {
      const last = this.lastLoadedName();
      this.fail(
        `unknown option "--${name}"${entry === 'ambiguous' ? ' (ambiguous abbreviation)' : ''}${last !== null ? ` for module ${last}` : ''}`,
        tok,
      );
    }
    let arg: IptablesToken | null = null;
    if (entry.hasArg === 0 && inlineArg !== null) this.fail(`option "--${entry.name}" doesn't allow an argument`, tok);
    if (inlineArg !== null) arg = { text: inlineArg, column: tok.column + 3 + name.length, quoted: tok.quoted };
    else if (entry.hasArg === 1) arg = this.requiredArg(tok, `--${entry.name}`);
    if (entry.owner.type === 'generic') this.generic(entry.id, tok, arg, entry.hasArg === 2);
    else this.extOption(entry, tok, arg);
  }

  private shortOption(tok: IptablesToken): void {
    const letter = tok.text[1] as string;
    const hasArg = SHORT_OPTS.get(letter);
    if (hasArg === undefined) this.fail(`unknown option "${tok.text}"`, tok);
    if (tok.text.length > 2) {
      this.fail(`"${tok.text}": lbsim does not accept grouped short options or arguments attached to them; separate them with spaces`, tok);
    }
    let arg: IptablesToken | null = null;
    if (hasArg === 1) arg = this.requiredArg(tok, tok.text);
    this.generic(letter, tok, arg, hasArg === 2);
  }

  private requiredArg(tok: IptablesToken, shown: string): IptablesToken {
    const next = this.tokens[this.i];
    if (next === undefined) this.fail(`option "${shown}" requires an argument`, tok);
    this.i++;
    return next;
  }

  /** `xs_has_arg`: the next argument exists and does not start with `-` or `!`. */
  private optionalNext(): IptablesToken | null {
    const next = this.tokens[this.i];
    if (next === undefined || next.text.startsWith('-') || next.text.startsWith('!')) return null;
    this.i++;
    return next;
  }

  private lastLoadedName(): string | null {
    const first = this.extTables[0];
    if (first === undefined) return null;
    if (first.owner.type === 'match') return first.owner.name;
    if (this.target?.kind === 'ext') return this.target.inst.name;
    return null;
  }

  // ---------------------------------------------------------------- generic options

  private setOption(letter: string, tok: IptablesToken): void {
    const name = GENERIC_NAME.get(letter) ?? `-${letter}`;
    if (this.options.has(letter)) this.fail(`multiple ${name} flags not allowed`, tok);
    this.options.set(letter, tok);
    if (this.invert && !'sdpiof'.includes(letter)) this.fail(`cannot have ! before ${name}`, this.invertToken ?? tok);
  }

  private takeInvert(): boolean {
    const v = this.invert;
    this.invert = false;
    this.invertToken = null;
    return v;
  }

  private setCommand(letter: string, tok: IptablesToken): void {
    if (this.invert) this.fail("unexpected '!' flag", this.invertToken ?? tok);
    if (this.command !== null) this.fail(`cannot use -${letter} with -${this.command.letter}`, tok);
    this.command = { letter, token: tok };
  }

  private generic(letter: string, tok: IptablesToken, arg: IptablesToken | null, optionalArg: boolean): void {
    if (COMMAND_LETTERS.includes(letter)) {
      this.commandOption(letter, tok, arg, optionalArg);
      return;
    }
    const a = arg as IptablesToken; // options with required arguments always have one here
    switch (letter) {
      case 'p': {
        this.setOption('p', tok);
        const inv = this.takeInvert();
        const lower = a.text.toLowerCase();
        const n = parseProtocolName(lower);
        if (n < 0) this.fail(`unknown protocol "${a.text}" specified`, a);
        if (n === 0 && inv) this.fail('rule would never match protocol', a);
        this.proto = n;
        this.protoInvert = inv;
        this.protoText = lower;
        return;
      }
      case 's':
      case 'd': {
        this.setOption(letter, tok);
        const v = { text: a.text, invert: this.takeInvert(), token: a };
        if (letter === 's') this.src = v;
        else this.dst = v;
        return;
      }
      case 'i':
      case 'o': {
        if (a.text === '') this.fail('empty interface is likely to be undesired', a);
        this.setOption(letter, tok);
        const inv = this.takeInvert();
        // IFNAMSIZ 16
        if (utf8Length(a.text) >= 16) this.fail(`interface name "${a.text}" must be shorter than IFNAMSIZ (15)`, a);
        const m = { name: a.text, invert: inv };
        if (letter === 'i') this.inIface = m;
        else this.outIface = m;
        return;
      }
      case 'f':
        this.setOption('f', tok);
        this.fragment = { invert: this.takeInvert() };
        return;
      case 'j':
      case 'g':
        this.jump(letter, tok, a);
        return;
      case 'm':
        if (this.invert) this.fail('unexpected ! flag before --match', this.invertToken ?? tok);
        this.loadMatch(a.text, a);
        return;
      case 'c': {
        this.setOption('c', tok);
        const comma = a.text.indexOf(',');
        let pText = a.text;
        let bTok: IptablesToken | null;
        if (comma >= 0) {
          pText = a.text.slice(0, comma);
          bTok = { text: a.text.slice(comma + 1), column: a.column + comma + 1, quoted: a.quoted };
        } else {
          bTok = this.optionalNext();
        }
        if (bTok === null) this.fail('-c requires packet and byte counter', tok);
        const packets = scanCounter(pText);
        if (packets < 0) this.fail('-c packet counter not numeric', a);
        const bytes = scanCounter(bTok.text);
        if (bytes < 0) this.fail('-c byte counter not numeric', bTok);
        this.counters = { packets, bytes };
        return;
      }
      case 't':
        if (this.invert) this.fail('unexpected ! flag before --table', this.invertToken ?? tok);
        if (this.ctx.mode === 'restore') this.fail('the -t option cannot be used in iptables-restore', tok);
        if (!isTableName(a.text)) this.fail(`unknown table "${a.text}"`, a);
        this.table = a.text;
        return;
      case 'v':
        if (this.invert) this.fail('cannot have ! before -v', this.invertToken ?? tok);
        return;
      case 'n':
      case 'x':
      case '0':
        this.setOption(letter, tok);
        return;
      case 'w':
      case 'W':
        if (this.ctx.mode === 'restore') this.fail(`you cannot use "-${letter}" from iptables-restore`, tok);
        if (optionalArg && arg === null) this.optionalNext();
        return;
      case 'M':
        return;
      case '4':
        return;
      case '6':
        if (this.ctx.mode === 'restore') {
          // iptables-restore skips lines meant for ip6tables-restore only
          this.ipv6Only = true;
          return;
        }
        this.fail('-6 (IPv6) is not valid for iptables', tok);
        return;
      case 'V':
      case 'h':
        this.fail(`${tok.text} (version/help) is not a rule command`, tok);
    }
    this.fail(`unknown option "${tok.text}"`, tok);
  }

  private commandOption(letter: string, tok: IptablesToken, arg: IptablesToken | null, optionalArg: boolean): void {
    this.setCommand(letter, tok);
    const chainArg = (): IptablesToken | null => {
      if (arg !== null) return arg;
      return optionalArg ? this.optionalNext() : null;
    };
    switch (letter) {
      case 'A':
        this.setChain(arg as IptablesToken);
        return;
      case 'C':
        this.fail('-C (check) is not supported by lbsim', tok);
        return;
      case 'L':
      case 'S':
        this.fail(`-${letter} (list) is not supported by lbsim`, tok);
        return;
      case 'D': {
        this.setChain(arg as IptablesToken);
        const n = this.optionalNext();
        if (n !== null) {
          // parse_rule_range without rule ranges: a decimal number >= 1
          if (!/^[+-]?\d+$/.test(n.text) || Number(n.text) <= 0 || Number(n.text) > 2147483647) {
            this.fail(`invalid rule number "${n.text}"`, n);
          }
          this.index = Number(n.text);
          this.deleteNum = true;
        }
        return;
      }
      case 'I': {
        this.setChain(arg as IptablesToken);
        const n = this.optionalNext();
        this.index = n === null ? 1 : this.ruleNumber(n);
        return;
      }
      case 'R': {
        this.setChain(arg as IptablesToken);
        const n = this.optionalNext();
        if (n === null) this.fail('-R requires a rule number', tok);
        this.index = this.ruleNumber(n);
        return;
      }
      case 'F':
      case 'X':
      case 'Z': {
        const c = chainArg();
        if (c !== null) this.setChain(c);
        if (letter === 'Z' && this.optionalNext() !== null) this.fail('zeroing one rule (-Z chain rulenum) is not supported by lbsim', tok);
        return;
      }
      case 'N': {
        const c = arg as IptablesToken;
        this.assertValidChainName(c);
        this.setChain(c);
        return;
      }
      case 'E': {
        this.setChain(arg as IptablesToken);
        const n = this.optionalNext();
        if (n === null) this.fail('-E requires old-chain-name and new-chain-name', tok);
        // iptables 1.8.9 does not check the new name (a 29-character name is accepted)
        this.newName = n.text;
        return;
      }
      case 'P': {
        this.setChain(arg as IptablesToken);
        const p = this.optionalNext();
        if (p === null) this.fail('-P requires a chain and a policy', tok);
        this.policy = p.text;
        this.policyToken = p;
        return;
      }
    }
  }

  private setChain(tok: IptablesToken): void {
    this.chain = tok.text;
    this.chainToken = tok;
  }

  /** `parse_rulenumber`: base-0 number in [1, INT_MAX]. */
  private ruleNumber(tok: IptablesToken): number {
    const n = strtouiExact(tok.text, 1, 2147483647);
    if (n < 0) this.fail(`invalid rule number "${tok.text}"`, tok);
    return n;
  }

  /** `assert_valid_chain_name` (for -N). */
  private assertValidChainName(tok: IptablesToken): void {
    const name = tok.text;
    if (utf8Length(name) > MAX_CHAIN_NAME) {
      this.fail(`chain name "${name}" too long (must be under ${MAX_CHAIN_NAME + 1} chars)`, tok);
    }
    if (name.startsWith('-') || name.startsWith('!')) this.fail(`chain name not allowed to start with "${name[0] as string}"`, tok);
    if (STANDARD_VERDICTS.has(name) || TARGETS.has(name) || UNSUPPORTED_TARGETS.has(name)) {
      this.fail('chain name may not clash with target name', tok);
    }
    if (/\s/.test(name)) this.fail(`invalid chain name "${name}"`, tok);
  }

  // ---------------------------------------------------------------- jump / targets

  private jump(letter: 'j' | 'g', tok: IptablesToken, a: IptablesToken): void {
    if (this.options.has('j')) this.fail(`multiple -j flags not allowed`, tok);
    this.options.set('j', tok);
    if (this.invert) this.fail(`cannot have ! before -${letter}`, this.invertToken ?? tok);
    const name = a.text;
    if (letter === 'j' && name === 'CONTINUE') return;
    // xt_parse_target
    if (name.length < 1) this.fail('invalid target name (too short)', a);
    if (utf8Length(name) > MAX_CHAIN_NAME) this.fail(`invalid target name "${name}" (${MAX_CHAIN_NAME} chars max)`, a);
    if (/[\s]/.test(name)) this.fail(`invalid target name "${name}"`, a);
    this.targetToken = tok;
    this.jumpName = name;
    const isTarget = STANDARD_VERDICTS.has(name) || TARGETS.has(name) || UNSUPPORTED_TARGETS.has(name);
    if (letter === 'g') {
      if (isTarget) this.fail(`goto '${name}' is not a chain`, a);
      this.target = { kind: 'spec', spec: { kind: 'goto', chain: name }, token: tok };
      return;
    }
    if (STANDARD_VERDICTS.has(name)) {
      this.target = { kind: 'spec', spec: { kind: 'standard', verdict: name as StandardVerdict }, token: tok };
      return;
    }
    const d = TARGETS.get(name);
    if (d !== undefined) {
      const inst: ExtInstance = { name, def: d, state: d.init(), token: a, seen: new Map() };
      this.target = { kind: 'ext', inst };
      this.extTables.unshift({ owner: { type: 'target' }, entries: entriesOf(d, { type: 'target' }) });
      return;
    }
    if (UNSUPPORTED_TARGETS.has(name)) this.fail(`target ${name} is not supported by lbsim`, a);
    this.target = { kind: 'spec', spec: { kind: 'jump', chain: name }, token: tok };
  }

  // ---------------------------------------------------------------- matches

  private loadMatch(name: string, tok: IptablesToken): ExtInstance {
    const d = MATCHES.get(name);
    if (d === undefined) {
      if (UNSUPPORTED_MATCHES.has(name)) this.fail(`match module "${name}" is not supported by lbsim`, tok);
      this.fail(`unknown match module "${name}"`, tok);
    }
    const inst: ExtInstance = { name, def: d, state: d.init(), token: tok, seen: new Map() };
    const owner: Owner = { type: 'match', name };
    // a clone of an already loaded match keeps the original's option table position
    if (!this.matches.some((m) => m.name === name)) this.extTables.unshift({ owner, entries: entriesOf(d, owner) });
    this.matches.push(inst);
    return inst;
  }

  /**
   * `load_proto`: on an unknown option, `-p NAME` loads the match named like
   * the protocol, once per rule. Returns whether a match was loaded.
   */
  private loadImplicitProto(tok: IptablesToken): boolean {
    if (this.protoText === null || this.protoUsed) return false;
    const name = implicitProtoModule(this.protoText);
    if (name === null) return false;
    if (!MATCHES.has(name)) {
      if (UNSUPPORTED_MATCHES.has(name)) {
        this.fail(`match module "${name}" (loaded implicitly by -p ${this.protoText} for "${tok.text}") is not supported by lbsim`, tok);
      }
      return false;
    }
    this.protoUsed = true;
    this.loadMatch(name, tok);
    return true;
  }

  private extOption(entry: TableEntry, tok: IptablesToken, arg: IptablesToken | null): void {
    let inst: ExtInstance;
    const owner = entry.owner;
    if (owner.type === 'target') {
      inst = (this.target as { kind: 'ext'; inst: ExtInstance }).inst;
    } else {
      const ownerName = owner.type === 'match' ? owner.name : '';
      // earlier instances of the same match are "completed": options go to the last one
      inst = [...this.matches].reverse().find((m) => m.name === ownerName) as ExtInstance;
    }
    const spec = entry.spec as OptSpec;
    const shown = `--${spec.name}`;
    const invTok = this.invertToken;
    const invert = this.takeInvert();
    if (spec.unsupported) this.fail(`option "${shown}" of ${inst.name} is not supported by lbsim`, tok);
    if (invert && spec.invert !== true) this.fail(`${inst.name}: option "${shown}" cannot be inverted`, invTok ?? tok);
    const prev = inst.seen.get(spec.id);
    if (prev !== undefined && spec.multi !== true) this.fail(`${inst.name}: option "${shown}" can only be used once`, tok);
    for (const x of spec.excl ?? []) {
      const other = inst.seen.get(x);
      if (other !== undefined) this.fail(`${inst.name}: option "${shown}" cannot be used together with "--${other}"`, tok);
    }
    inst.seen.set(spec.id, spec.name);
    const argTok = arg ?? tok;
    const call: OptCall = {
      spec,
      arg: arg?.text ?? '',
      invert,
      argToken: argTok,
      extra: () => {
        const next = this.tokens[this.i];
        if (next === undefined || next.text.startsWith('-') || next.text.startsWith('!')) this.fail(`${shown} requires two args`, tok);
        this.i++;
        return next;
      },
      fail: (message: string, token?: IptablesToken) => this.fail(`${inst.name}: ${message}`, token ?? argTok),
    };
    const rc: RuleContext = { proto: this.proto, protoInvert: this.protoInvert };
    inst.def.parse(inst.state, call, rc);
  }

  private finalExt(inst: ExtInstance): unknown {
    const specs = inst.def.options;
    for (const s of specs) {
      if (s.mandatory === true && !inst.seen.has(s.id)) this.fail(`${inst.name}: option "--${s.name}" must be specified`, inst.token);
    }
    for (const [id, used] of inst.seen) {
      const s = specs.find((x) => x.id === id) as OptSpec;
      for (const need of s.also ?? []) {
        if (!inst.seen.has(need)) {
          const needName = (specs.find((x) => x.id === need) as OptSpec).name;
          this.fail(`${inst.name}: option "--${used}" also requires "--${needName}"`, inst.token);
        }
      }
    }
    return inst.def.final(inst.state, (message) => this.fail(`${inst.name}: ${message}`, inst.token));
  }

  // ---------------------------------------------------------------- completion

  private finish(): ParsedArgs {
    if (this.invert) this.fail('nothing appropriate following !', this.invertToken);
    if (this.command === null) this.fail('no command specified', this.tokens[0] ?? null);
    const letter = this.command.letter;
    const table = this.table;
    const target = this.target;

    if (table === 'nat' && (this.jumpName === 'DROP' || this.policy === 'DROP')) {
      this.fail('the "nat" table is not intended for filtering, the use of DROP is therefore inhibited', this.targetToken ?? this.policyToken);
    }

    const matches: MatchSpec[] = this.matches.map((m) => this.finalExt(m) as MatchSpec);
    const targetSpec: TargetSpec | null =
      target === null ? null : target.kind === 'spec' ? target.spec : (this.finalExt(target.inst) as TargetSpec);

    // generic_opt_check: which options each command accepts
    const ruleCmd = (letter === 'A' || letter === 'I' || letter === 'R' || letter === 'D') && !this.deleteNum;
    const counterCmd = letter === 'A' || letter === 'I' || letter === 'R' || letter === 'P';
    for (const [opt, tok] of this.options) {
      const ok = 'sdpjiof'.includes(opt) ? ruleCmd : opt === 'c' ? counterCmd : false;
      if (!ok) this.fail(`illegal option "${GENERIC_NAME.get(opt) ?? opt}" with this command`, tok);
    }
    if (!ruleCmd && this.matches.length > 0) this.fail('match options are only valid with -A, -I, -R and -D', this.matches[0]?.token);

    const chain = this.chain;
    if (chain !== null && utf8Length(chain) > MAX_CHAIN_NAME) {
      this.fail(`chain name "${chain}" too long (must be under ${MAX_CHAIN_NAME + 1} chars)`, this.chainToken);
    }
    const line = this.ctx.line;
    const done = (command: TableCommand): ParsedArgs => ({ ignored: false, table, command });

    switch (letter) {
      case 'N':
        return done({ op: 'newChain', chain: chain as string, line });
      case 'X':
        return done({ op: 'deleteChain', chain, line });
      case 'F':
        return done({ op: 'flush', chain, line });
      case 'Z':
        return done({ op: 'zero', chain, line });
      case 'E':
        return done({ op: 'rename', chain: chain as string, newName: this.newName as string, line });
      case 'P': {
        const builtins = BUILTIN_CHAINS.get(table) as readonly string[];
        if (!builtins.includes(chain as string)) this.fail(`can't set policy on "${chain as string}": bad built-in chain name`, this.chainToken);
        const pol = this.policy as string;
        // the kernel accepts only ACCEPT and DROP as a built-in chain's policy
        if (pol !== 'ACCEPT' && pol !== 'DROP') this.fail(`can't set policy "${pol}" on "${chain as string}": bad policy name`, this.policyToken);
        return done({ op: 'policy', chain: chain as string, policy: pol, counters: this.counters, line });
      }
    }
    if (letter === 'D' && this.deleteNum) return done({ op: 'deleteNum', chain: chain as string, index: this.index as number, line });

    const rule = this.buildRule(matches, targetSpec);
    this.kernelChecks(rule, chain as string);
    switch (letter) {
      case 'A':
        return done({ op: 'append', chain: chain as string, rule, counters: this.counters, line });
      case 'I':
        return done({ op: 'insert', chain: chain as string, index: this.index as number, rule, counters: this.counters, line });
      case 'R':
        return done({ op: 'replace', chain: chain as string, index: this.index as number, rule, counters: this.counters, line });
      default:
        return done({ op: 'delete', chain: chain as string, rule, line });
    }
  }

  private buildRule(matches: MatchSpec[], target: TargetSpec | null): RuleSpec {
    const chain = this.chain as string;
    // -o is invalid with incoming packets, -i with outgoing ones (checked on the chain name)
    if ((chain === 'PREROUTING' || chain === 'INPUT') && this.outIface !== null) this.fail(`can't use -o with ${chain}`, this.options.get('o'));
    if ((chain === 'POSTROUTING' || chain === 'OUTPUT') && this.inIface !== null) this.fail(`can't use -i with ${chain}`, this.options.get('i'));
    const src = this.src === null ? null : this.parseAddr(this.src);
    const dst = this.dst === null ? null : this.parseAddr(this.dst);
    const keepIface = (m: IfaceMatch | null): m is IfaceMatch => m !== null && (m.name !== '+' || m.invert);
    return {
      ...(src !== null && (src.mask !== 0 || src.invert) ? { src } : {}),
      ...(dst !== null && (dst.mask !== 0 || dst.invert) ? { dst } : {}),
      ...(keepIface(this.inIface) ? { inIface: this.inIface } : {}),
      ...(keepIface(this.outIface) ? { outIface: this.outIface } : {}),
      ...(this.proto !== 0 ? { proto: { proto: this.proto, invert: this.protoInvert } } : {}),
      ...(this.fragment !== null ? { fragment: this.fragment } : {}),
      matches,
      target,
    };
  }

  /**
   * `xtables_ipparse_any` for `-s`/`-d`: `host[/mask]`, mask a base-0 prefix
   * length or a dotted mask; a /0 mask ignores the host; the host is an
   * iptables numeric address (`10.1` = 10.1.0.0) or, as getaddrinfo would
   * take it, an `inet_aton` form; the address is masked.
   */
  private parseAddr(v: { text: string; invert: boolean; token: IptablesToken }): AddrMatch {
    const text = v.text;
    if (text.includes(',')) this.fail(`lists of addresses ("${text}") make several rules in iptables; lbsim needs one rule per address`, v.token);
    const slash = text.lastIndexOf('/');
    let mask = 0xffffffff;
    let host = text;
    if (slash >= 0) {
      host = text.slice(0, slash);
      const m = text.slice(slash + 1);
      if (m.includes('.')) {
        const a = numericToIpaddr(m, true);
        if (a < 0) this.fail(`invalid mask "${m}" specified`, v.token);
        mask = a;
      } else {
        const bits = strtouiExact(m, 0, 32);
        if (bits < 0) this.fail(`invalid mask "${m}" specified`, v.token);
        mask = maskOfPrefix(bits);
      }
    }
    if (mask === 0) host = '0.0.0.0';
    let addr = numericToIpaddr(host, false);
    if (addr < 0) addr = inetAton(host);
    if (addr < 0) this.fail(`host/network "${host}" not found (lbsim resolves no host names)`, v.token);
    return { addr: (addr & mask) >>> 0, mask, invert: v.invert };
  }

  /** Checks the kernel applies when the rule is committed (they make iptables-restore fail). */
  private kernelChecks(rule: RuleSpec, chain: string): void {
    const table = this.table;
    const proto = rule.proto?.proto ?? 0;
    const protoInv = rule.proto?.invert ?? false;
    const needs: Partial<Record<string, number>> = { tcp: 6, udp: 17, sctp: 132, icmp: 1 };
    this.matches.forEach((inst, k) => {
      const want = needs[inst.name];
      if (want !== undefined && (proto !== want || protoInv)) {
        this.fail(`match ${inst.name} needs "-p ${inst.name}" (the kernel refuses it otherwise)`, inst.token);
      }
      const m = rule.matches[k];
      if (m?.module === 'addrtype') {
        if (m.limitIfaceIn && (chain === 'OUTPUT' || chain === 'POSTROUTING')) {
          this.fail('addrtype: input interface limitation not valid in POSTROUTING and OUTPUT', inst.token);
        }
        if (m.limitIfaceOut && (chain === 'PREROUTING' || chain === 'INPUT')) {
          this.fail('addrtype: output interface limitation not valid in PREROUTING and INPUT', inst.token);
        }
      }
    });
    const t = rule.target;
    if (t === null || this.jumpName === null) return;
    if ((t.kind === 'jump' || t.kind === 'goto') && (BUILTIN_CHAINS.get(table) as readonly string[]).includes(t.chain)) {
      // libiptc/nf_tables refuse a jump to a built-in chain
      this.fail(`cannot jump to built-in chain ${t.chain}`, this.targetToken);
    }
    const name = this.jumpName;
    const onlyTable = TARGET_TABLE.get(name);
    if (onlyTable !== undefined && onlyTable !== table) {
      this.fail(`target ${name} is only valid in table ${onlyTable} (the kernel refuses it in ${table})`, this.targetToken);
    }
    const hooks = TARGET_HOOKS.get(name);
    const builtins = BUILTIN_CHAINS.get(table) as readonly string[];
    if (hooks !== undefined && builtins.includes(chain) && !hooks.includes(chain)) {
      this.fail(`target ${name} is not valid in chain ${chain} (allowed: ${hooks.join(', ')})`, this.targetToken);
    }
    if (t.kind === 'REJECT' && t.rejectWith === 'tcp-reset' && (proto !== 6 || protoInv)) {
      this.fail('REJECT --reject-with tcp-reset needs "-p tcp" (the kernel refuses it otherwise)', this.targetToken);
    }
  }
}

function sameOwner(a: Owner, b: Owner): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'match' && b.type === 'match') return a.name === b.name;
  return true;
}

function entriesOf(d: ExtensionDef<unknown, unknown>, owner: Owner): TableEntry[] {
  return d.options.map((s) => ({ name: s.name, hasArg: s.arg ? 1 : 0, owner, id: s.id, spec: s }));
}

/** `sscanf("%llu")`: leading decimal digits (after an optional +). Returns -1 when none or negative. */
function scanCounter(text: string): number {
  const m = /^\s*\+?(\d+)/.exec(text);
  if (m === null) return -1;
  return Number(m[1]);
}
