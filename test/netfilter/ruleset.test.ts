import { describe, expect, it } from 'vitest';
import { OperationError, ParseError } from '../../src/errors.js';
import { Ruleset } from '../../src/netfilter/ruleset.js';
import type { TableCommand } from '../../src/netfilter/ast.js';
import { append, block, jump, rule, verdict } from './builders.js';

function saved(rs: Ruleset): string {
  return JSON.stringify(rs.toSaved());
}

describe('Ruleset', () => {
  it('starts with every built-in chain of every table, policy ACCEPT', () => {
    const rs = new Ruleset();
    expect([...rs.table('nat').chains.keys()]).toEqual(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
    expect([...rs.table('filter').chains.keys()]).toEqual(['INPUT', 'FORWARD', 'OUTPUT']);
    expect([...rs.table('raw').chains.keys()]).toEqual(['PREROUTING', 'OUTPUT']);
    expect(rs.chain('filter', 'INPUT')!.policy).toBe('ACCEPT');
  });

  it('restores a block: declared chains, policies, rules; user chains print sorted after built-ins', () => {
    const rs = new Ruleset();
    rs.restore(
      block('filter', [['INPUT', 'DROP'], 'ZED', 'ALPHA', '__proto__'], [
        append('INPUT', rule({}, jump('ZED'))),
        append('ZED', rule({}, jump('__proto__'))),
        append('__proto__', rule({}, verdict('ACCEPT'))),
      ]),
    );
    const t = rs.toSaved({ tables: ['filter'] })[0]!;
    expect(t.chains.map((c) => c.name)).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'ALPHA', 'ZED', '__proto__']);
    expect(t.chains[0]!.policy).toBe('DROP');
    expect(rs.chain('filter', '__proto__')!.rules).toHaveLength(1);
  });

  it('without --noflush a block replaces the whole table; with it, only the declared chains', () => {
    const rs = new Ruleset();
    rs.restore(block('nat', ['A', 'B'], [append('A', rule({}, verdict('ACCEPT'))), append('B', rule({}, verdict('ACCEPT')))]));
    rs.restore(block('nat', ['A'], [append('A', rule({}, verdict('RETURN')))]), { noflush: true });
    expect(rs.chain('nat', 'B')!.rules).toHaveLength(1);
    expect(rs.chain('nat', 'A')!.rules.map((r) => r.spec.target)).toEqual([verdict('RETURN')]);
    rs.restore(block('nat', ['A'], []));
    expect(rs.chain('nat', 'B')).toBeUndefined();
    expect(rs.chain('nat', 'A')!.rules).toHaveLength(0);
  });

  it('is atomic per COMMIT: a failing block changes nothing of its table and names the line', () => {
    const rs = new Ruleset();
    rs.restore(block('filter', ['KEEP'], [append('KEEP', rule({}, verdict('ACCEPT')))]));
    const before = saved(rs);
    const bad = block('filter', ['NEW'], [append('NEW', rule({}, verdict('ACCEPT'))), { op: 'append', chain: 'NEW', rule: rule({}, jump('MISSING')), counters: null, line: 42 }]);
    let err: unknown;
    try {
      rs.restore(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).line).toBe(42);
    expect((err as ParseError).message).toMatch(/MISSING/);
    expect(saved(rs)).toBe(before);
  });

  it('refuses deleting a referenced or non-empty chain, and built-in chains', () => {
    const rs = new Ruleset();
    rs.restore(block('filter', ['A', 'B'], [append('A', rule({}, jump('B')))]));
    const codeOf = (f: () => void): string => {
      try {
        f();
      } catch (e) {
        return (e as OperationError).code;
      }
      return 'none';
    };
    expect(codeOf(() => rs.apply('filter', { op: 'deleteChain', chain: 'B', line: 1 }))).toBe('EBUSY');
    expect(codeOf(() => rs.apply('filter', { op: 'deleteChain', chain: 'A', line: 1 }))).toBe('EBUSY');
    expect(codeOf(() => rs.apply('filter', { op: 'deleteChain', chain: 'INPUT', line: 1 }))).toBe('EINVAL');
    expect(codeOf(() => rs.apply('filter', { op: 'newChain', chain: 'A', line: 1 }))).toBe('EEXIST');
    expect(codeOf(() => rs.apply('filter', { op: 'newChain', chain: 'X'.repeat(29), line: 1 }))).toBe('EINVAL');
    expect(() => rs.apply('filter', { op: 'newChain', chain: 'X'.repeat(29), line: 1 })).toThrow(/1\.\.28 characters/);
    rs.apply('filter', { op: 'newChain', chain: 'X'.repeat(28), line: 1 });
    rs.apply('filter', { op: 'flush', chain: 'A', line: 1 });
    rs.apply('filter', { op: 'deleteChain', chain: 'B', line: 1 });
    expect(rs.chain('filter', 'B')).toBeUndefined();
  });

  it('refuses loops (the kernel returns ELOOP) and NAT targets outside the nat table', () => {
    const rs = new Ruleset();
    expect(() => rs.restore(block('filter', ['A', 'B'], [append('A', rule({}, jump('B'))), append('B', rule({}, jump('A')))]))).toThrow(/loop/);
    expect(() =>
      rs.restore(block('filter', [], [append('INPUT', rule({}, { kind: 'DNAT', range: null, random: false, persistent: false }))])),
    ).toThrow(/only valid in the nat table/);
  });

  it('finds loops and depths through chains created, copied, inserted into and replaced in the same block', () => {
    const rs = new Ruleset();
    rs.restore(block('filter', ['A', 'B', 'C'], [append('A', rule({}, jump('B'))), append('B', rule({}, jump('C')))]), { noflush: true });
    const before = saved(rs);
    // C's depth from the first block must bound A's: closing C -> A is a loop
    expect(() => rs.restore(block('filter', [], [append('C', rule({}, jump('A')))]), { noflush: true })).toThrow(/loop/);
    // a jump to a committed chain (looked up by name), then that chain changed in the same block
    expect(() => rs.restore(block('filter', ['D'], [append('D', rule({}, jump('A'))), append('C', rule({}, jump('D')))]), { noflush: true })).toThrow(/loop/);
    expect(() => rs.restore(block('filter', ['D'], [append('D', rule({}, jump('A'))), append('A', rule({}, jump('D')))]), { noflush: true })).toThrow(/loop/);
    // an insert or a replace after appends
    const ins: TableCommand = { op: 'insert', chain: 'Z', index: 1, rule: rule({}, jump('X')), counters: null, line: 5 };
    expect(() => rs.restore(block('filter', ['X', 'Y', 'Z'], [append('X', rule({}, jump('Y'))), append('Y', rule({}, jump('Z'))), ins]), { noflush: true })).toThrow(/loop/);
    const rep: TableCommand = { op: 'replace', chain: 'Y', index: 1, rule: rule({}, jump('X')), counters: null, line: 5 };
    expect(() => rs.restore(block('filter', ['X', 'Y'], [append('X', rule({}, jump('Y'))), append('Y', rule({}, verdict('RETURN'))), rep]), { noflush: true })).toThrow(/loop/);
    expect(saved(rs)).toBe(before);
    // a chain deleted and created again in the block: the jump resolves to the new one
    rs.restore(block('filter', ['E'], [append('E', rule({}, verdict('ACCEPT')))]), { noflush: true });
    rs.restore(
      block('filter', [], [
        { op: 'flush', chain: 'E', line: 1 },
        { op: 'deleteChain', chain: 'E', line: 2 },
        { op: 'newChain', chain: 'E', line: 3 },
        append('E', rule({}, jump('A'))),
        append('INPUT', rule({}, jump('E'))),
      ]),
      { noflush: true },
    );
    expect(() => rs.restore(block('filter', [], [append('C', rule({}, jump('E')))]), { noflush: true })).toThrow(/loop/);
  });

  it('inserts, replaces, deletes by number and by spec, renames and updates references', () => {
    const rs = new Ruleset();
    rs.restore(block('filter', ['OLD'], [append('INPUT', rule({}, jump('OLD')))]));
    rs.apply('filter', { op: 'insert', chain: 'OLD', index: 1, rule: rule({}, verdict('DROP')), counters: null, line: 1 });
    rs.apply('filter', { op: 'insert', chain: 'OLD', index: 1, rule: rule({}, verdict('ACCEPT')), counters: null, line: 1 });
    rs.apply('filter', { op: 'replace', chain: 'OLD', index: 2, rule: rule({}, verdict('RETURN')), counters: null, line: 1 });
    expect(rs.chain('filter', 'OLD')!.rules.map((r) => r.spec.target)).toEqual([verdict('ACCEPT'), verdict('RETURN')]);
    rs.apply('filter', { op: 'delete', chain: 'OLD', rule: rule({}, verdict('ACCEPT')), line: 1 });
    rs.apply('filter', { op: 'rename', chain: 'OLD', newName: 'NEW', line: 1 });
    expect(rs.chain('filter', 'INPUT')!.rules[0]!.spec.target).toEqual(jump('NEW'));
    expect(() => rs.apply('filter', { op: 'deleteNum', chain: 'NEW', index: 5, line: 1 })).toThrow(OperationError);
    rs.apply('filter', { op: 'deleteNum', chain: 'NEW', index: 1, line: 1 });
    expect(rs.chain('filter', 'NEW')!.rules).toHaveLength(0);
  });

  it('takes counters only with --counters', () => {
    const rs = new Ruleset();
    const doc = block('filter', [], [{ op: 'append', chain: 'INPUT', rule: rule({}, verdict('ACCEPT')), counters: { packets: 5, bytes: 300 }, line: 1 }]);
    rs.restore(doc);
    expect(rs.chain('filter', 'INPUT')!.rules[0]!.counters).toEqual({ packets: 0, bytes: 0 });
    rs.restore(doc, { counters: true });
    expect(rs.chain('filter', 'INPUT')!.rules[0]!.counters).toEqual({ packets: 5, bytes: 300 });
  });
});
