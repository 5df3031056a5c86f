/**
 * `iptables-restore` input (and `iptables-save` output) parser, line by
 * line as iptables-restore 1.8.9 reads it (`iptables/iptables-restore.c`,
 * `iptables/xtables-restore.c`).
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import type {
  ChainDeclaration,
  Counters,
  RestoreDocument,
  RestoreTableBlock,
  StandardVerdict,
  TableCommand,
  TableName,
} from '../../netfilter/ast.js';
import { tokenizeIptablesArgs, utf8Length } from './lex.js';
import { MAX_CHAIN_NAME } from '../../netfilter/ast.js';
import { BUILTIN_CHAINS, isTableName, parseArgs } from './rule.js';
import { FastLineParser } from './fastpath.js';

/** Options of {@link parseRestore}. */
export interface ParseRestoreOptions {
  /**
   * Like `iptables-restore --counters`: chain declarations with a policy must
   * carry valid `[packets:bytes]`, and counters (chain ones and `[p:b]` rule
   * prefixes) are returned. Without it (the default) they are checked for
   * syntax only where iptables checks them and returned as null, because
   * iptables-restore ignores them.
   */
  readonly counters?: boolean;
}

const FN = 'io.iptables.parseRestore';

/** C `strtok(s, " \t\n")` words with their 0-based start index. */
function words(line: string, from: number): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  const re = /[^ \t\n]+/g;
  re.lastIndex = from;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push({ text: m[0], start: m.index });
  return out;
}

/** `sscanf(s, "[%llu:%llu]")` as iptables-restore reads chain counters. */
function scanBracketCounters(s: string): Counters | null {
  const m = /^\[\s*\+?(\d+):\s*\+?(\d+)\]/.exec(s);
  if (m === null) return null;
  return { packets: Number(m[1]), bytes: Number(m[2]) };
}

/** `sscanf("%llu")` of one rule counter (leading digits); -1 when none. */
function scanOne(s: string): number {
  const m = /^\s*\+?(\d+)/.exec(s);
  return m === null ? -1 : Number(m[1]);
}

/** C `strtok` over one string. */
class Strtok {
  private readonly s: string;
  private pos: number;
  constructor(s: string, start: number) {
    this.s = s;
    this.pos = start;
  }
  next(delims: string): string | null {
    let i = this.pos;
    while (i < this.s.length && delims.includes(this.s[i] as string)) i++;
    if (i >= this.s.length) {
      this.pos = i;
      return null;
    }
    let j = i;
    while (j < this.s.length && !delims.includes(this.s[j] as string)) j++;
    this.pos = j < this.s.length ? j + 1 : j;
    return this.s.slice(i, j);
  }
}

interface OpenBlock {
  table: TableName;
  line: number;
  chains: ChainDeclaration[];
  commands: TableCommand[];
}

/**
 * Parses an `iptables-restore` input into its table blocks. Accepted: `#`
 * comment lines (`#` in column 1), empty lines, `*table`, `:CHAIN POLICY
 * [p:b]`, rule/command lines (`-A`, `-I`, `-D`, `-R`, `-N`, `-X`, `-F`,
 * `-Z`, `-P`, `-E`, with an optional `[p:b]` prefix), `COMMIT`. Lines with
 * `-6` are skipped as iptables-restore skips them. Differences from
 * iptables-restore 1.8.9 legacy: a last `COMMIT` without a trailing newline
 * is accepted (iptables-nft-restore accepts it too), and an unterminated
 * quote is an error.
 *
 * @param text - the whole input
 * @param options - see {@link ParseRestoreOptions}
 * @throws {ParseError} with 1-based line and column of the fault: a command
 *   outside a table, an unknown table, a bad chain declaration, a bad rule,
 *   or a missing COMMIT (reported on the line after the last)
 */
export function parseRestore(text: string, options: ParseRestoreOptions = {}): RestoreDocument {
  return parseRestoreWith(text, options, true);
}

/**
 * {@link parseRestore} with the fast path (`./fastpath.ts`) on or off.
 * Both give the same document or the same error; tests compare them.
 *
 * @internal
 */
export function parseRestoreWith(text: string, options: ParseRestoreOptions, fast: boolean): RestoreDocument {
  const withCounters = options.counters === true;
  const blocks: RestoreTableBlock[] = [];
  let open: OpenBlock | null = null;
  const fp = fast ? new FastLineParser() : null;
  const n = text.length;
  // lines as text.split('\n') gives them, without the empty one after a final newline
  let lineNo = 0;
  let pos = 0;
  while (pos < n) {
    const nl = text.indexOf('\n', pos);
    const hasNewline = nl >= 0;
    const ls = pos;
    const le = hasNewline ? nl : n;
    pos = le + 1;
    lineNo++;
    if (le === ls) continue;
    const c0 = text.charCodeAt(ls);
    if (c0 === 35) continue; // '#'
    if (fp !== null && open !== null) {
      if (c0 === 45) {
        // '-'
        const cmd = fp.appendRule(text, ls, le, open.table, lineNo, null);
        if (cmd !== null) {
          open.commands.push(cmd);
          continue;
        }
      } else if (c0 === 58) {
        // ':'
        const decl = fp.chainDeclaration(text, ls, le, lineNo);
        if (decl !== null) {
          open.chains.push(decl);
          continue;
        }
      }
    }
    open = parseLine(text.slice(ls, le), lineNo, hasNewline, open, blocks, withCounters, fp);
  }
  if (open !== null) {
    throw new ParseError(`lbsim/${FN}: COMMIT expected at line ${lineNo + 1}`, '', lineNo + 1, 1);
  }
  return { blocks };
}

function fail(msg: string, line: string, lineNo: number, col: number): never {
  throw new ParseError(`lbsim/${FN}: ${msg}`, line, lineNo, col);
}

/** One non-empty, non-comment line the general way; returns the open block after it. */
function parseLine(
  line: string,
  lineNo: number,
  hasNewline: boolean,
  open: OpenBlock | null,
  blocks: RestoreTableBlock[],
  withCounters: boolean,
  fp: FastLineParser | null,
): OpenBlock | null {
  if (open !== null && line === 'COMMIT') {
    blocks.push({ table: open.table, line: open.line, chains: open.chains, commands: open.commands, commitLine: lineNo });
    return null;
  }

  if (open === null) {
    if (!line.startsWith('*')) {
      const what = line.startsWith(':') ? 'chain declaration' : line === 'COMMIT' ? 'COMMIT' : 'command';
      fail(`${what} outside a table (expected "*table" first)`, line, lineNo, 1);
    }
    const w = words(line, 1)[0];
    if (w === undefined) return fail('table name invalid', line, lineNo, 2);
    if (!isTableName(w.text)) return fail(`unable to initialize table "${w.text}"`, line, lineNo, w.start + 1);
    return { table: w.text, line: lineNo, chains: [], commands: [] };
  }

  if (line.startsWith(':')) {
    open.chains.push(parseChainDeclaration(line, lineNo, open.table, withCounters, fail));
    return open;
  }

  if (line.startsWith('*')) {
    fail(`table "${line.slice(1)}" started before COMMIT of table ${open.table}`, line, lineNo, 1);
  }

  // a rule/command line, with an optional [packets:bytes] prefix
  let start = 0;
  let prefixCounters: Counters | null = null;
  if (line.startsWith('[')) {
    const close = line.indexOf(']');
    if (close < 0) fail('bad line: need ]', line, lineNo, 1);
    // tokenize_rule_counters: strtok(buffer + 1, ":") then strtok(NULL, "]") on the line with its newline
    const buffer = hasNewline ? `${line}\n` : line;
    const tk = new Strtok(buffer, 1);
    const pcnt = tk.next(':');
    if (pcnt === null) return fail('bad line: need :', line, lineNo, 1);
    const bcnt = tk.next(']');
    if (bcnt === null) return fail('bad line: need ]', line, lineNo, 1);
    if (withCounters) {
      const packets = scanOne(pcnt);
      if (packets < 0) fail('-c packet counter not numeric', line, lineNo, 2);
      const bytes = scanOne(bcnt);
      if (bytes < 0) fail('-c byte counter not numeric', line, lineNo, 2);
      prefixCounters = { packets, bytes };
    }
    start = close + 1;
    if (fp !== null) {
      const cmd = fp.appendRule(line, start, line.length, open.table, lineNo, prefixCounters);
      if (cmd !== null) {
        open.commands.push(cmd);
        return open;
      }
    }
  }
  const tokens = tokenizeIptablesArgs(line, FN, lineNo, start);
  const parsed = parseArgs(tokens, {
    fn: FN,
    input: line,
    line: lineNo,
    mode: 'restore',
    table: open.table,
    prefixCounters,
  });
  if (!parsed.ignored) open.commands.push(parsed.command);
  return open;
}

function parseChainDeclaration(
  line: string,
  lineNo: number,
  table: TableName,
  withCounters: boolean,
  fail: (msg: string, line: string, lineNo: number, col: number) => never,
): ChainDeclaration {
  const w = words(line, 1);
  const name = w[0];
  if (name === undefined) return fail('chain name invalid', line, lineNo, 2);
  if (utf8Length(name.text) > MAX_CHAIN_NAME) {
    fail(`invalid chain name "${name.text}" (${MAX_CHAIN_NAME} chars max)`, line, lineNo, name.start + 1);
  }
  // iptables-nft-restore (the Debian default) checks these like -N does; legacy accepts them
  if (name.text.startsWith('-') || name.text.startsWith('!')) {
    fail(`chain name not allowed to start with "${name.text[0] as string}"`, line, lineNo, name.start + 1);
  }
  if (['ACCEPT', 'DROP', 'QUEUE', 'RETURN'].includes(name.text)) fail('chain name may not clash with target name', line, lineNo, name.start + 1);
  const pol = w[1];
  if (pol === undefined) return fail('policy invalid', line, lineNo, line.length + 1);
  const builtins = BUILTIN_CHAINS.get(table) as readonly string[];
  let policy: StandardVerdict | null = null;
  let counters: Counters | null = null;
  if (pol.text !== '-') {
    const ctr = w[2];
    if (withCounters) {
      const c = ctr === undefined ? null : scanBracketCounters(ctr.text);
      if (c === null) fail(`invalid policy counters for chain "${name.text}"`, line, lineNo, (ctr?.start ?? line.length) + 1);
      counters = c;
    }
    if (!builtins.includes(name.text)) fail(`can't set policy "${pol.text}" on "${name.text}": bad built-in chain name`, line, lineNo, pol.start + 1);
    if (pol.text !== 'ACCEPT' && pol.text !== 'DROP') fail(`can't set policy "${pol.text}" on "${name.text}": bad policy name`, line, lineNo, pol.start + 1);
    policy = pol.text;
  }
  return { name: name.text, policy, counters, line: lineNo };
}
