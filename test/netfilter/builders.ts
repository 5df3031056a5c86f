// Small builders for hand-written rulesets in tests (the text parser has its own tests).
import type { ChainDeclaration, MatchSpec, RestoreDocument, RuleSpec, StandardVerdict, TableCommand, TableName, TargetSpec } from '../../src/netfilter/ast.js';
import { parseCidr } from '../../src/net/ipv4.js';

export function rule(parts: Partial<RuleSpec> & { matches?: MatchSpec[] }, target: TargetSpec | null): RuleSpec {
  return { ...parts, matches: parts.matches ?? [], target };
}

export const jump = (chain: string): TargetSpec => ({ kind: 'jump', chain });
export const goto = (chain: string): TargetSpec => ({ kind: 'goto', chain });
export const verdict = (v: StandardVerdict): TargetSpec => ({ kind: 'standard', verdict: v });
export const dnat = (addr: number, port: number): TargetSpec => ({
  kind: 'DNAT',
  range: { minAddr: addr, maxAddr: addr, hasPorts: true, minPort: port, maxPort: port },
  random: false,
  persistent: false,
});

export function dst(cidr: string, invert = false): { addr: number; mask: number; invert: boolean } {
  const c = parseCidr(cidr);
  return { addr: c.address, mask: c.mask, invert };
}

let line = 0;
export function append(chain: string, r: RuleSpec): TableCommand {
  return { op: 'append', chain, rule: r, counters: null, line: ++line };
}

export function block(table: TableName, chains: (string | [string, StandardVerdict])[], commands: TableCommand[]): RestoreDocument {
  const decls: ChainDeclaration[] = chains.map((c) =>
    typeof c === 'string' ? { name: c, policy: null, counters: null, line: 1 } : { name: c[0], policy: c[1], counters: null, line: 1 },
  );
  return { blocks: [{ table, line: 1, chains: decls, commands, commitLine: 999 }] };
}
