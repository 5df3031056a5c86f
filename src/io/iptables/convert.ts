/**
 * Helpers between parsed text and saved tables.
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import type { RestoreDocument, RuleSpec, SavedChain, SavedRule, SavedTable, TableName } from '../../netfilter/ast.js';
import { tokenizeIptablesArgs } from './lex.js';
import { BUILTIN_CHAINS, parseArgs } from './rule.js';

/**
 * Parses one rule as written after `-A CHAIN` in a restore file or as
 * `iptables-save` prints it (`-A INPUT -p tcp --dport 22 -j ACCEPT`),
 * with restore quoting, for `table`.
 *
 * @returns the chain and the rule
 * @throws {ParseError} for anything but a valid `-A` line
 */
export function parseRuleLine(line: string, table: TableName = 'filter'): { chain: string; rule: RuleSpec } {
  const fn = 'io.iptables.parseRuleLine';
  const tokens = tokenizeIptablesArgs(line, fn);
  const parsed = parseArgs(tokens, { fn, input: line, line: 1, mode: 'restore', table, prefixCounters: null });
  if (parsed.ignored || parsed.command.op !== 'append') {
    throw new ParseError(`lbsim/${fn}: expected an -A (append) line`, line, 1, 1);
  }
  return { chain: parsed.command.chain, rule: parsed.command.rule };
}

/**
 * The tables an `iptables-save` output describes, read back from its
 * parsed form: each block must consist of chain declarations and `-A`
 * lines only (as iptables-save prints); a block's builtin chains missing
 * from the declarations are not added. Rule counters are the `[p:b]`
 * prefixes when the document was parsed with counters, else 0.
 *
 * @throws {ParseError} for commands other than `-A`, or an `-A` to an undeclared chain
 */
export function restoreToSavedTables(doc: RestoreDocument): SavedTable[] {
  const fn = 'io.iptables.restoreToSavedTables';
  return doc.blocks.map((b) => {
    const chains = new Map<string, { decl: (typeof b.chains)[number]; rules: SavedRule[] }>();
    for (const d of b.chains) chains.set(d.name, { decl: d, rules: [] });
    for (const c of b.commands) {
      if (c.op !== 'append') throw new ParseError(`lbsim/${fn}: only -A lines can be read as saved tables (got ${c.op})`, '', c.line, 1);
      const ch = chains.get(c.chain);
      if (ch === undefined) throw new ParseError(`lbsim/${fn}: -A to undeclared chain "${c.chain}"`, '', c.line, 1);
      ch.rules.push({ spec: c.rule, counters: c.counters ?? { packets: 0, bytes: 0 } });
    }
    const builtins = (BUILTIN_CHAINS.get(b.table) ?? []) as readonly string[];
    const saved: SavedChain[] = [...chains.values()].map(({ decl, rules }) => ({
      name: decl.name,
      policy: builtins.includes(decl.name) ? decl.policy : null,
      counters: decl.counters ?? { packets: 0, bytes: 0 },
      rules,
    }));
    return { name: b.table, chains: saved };
  });
}
