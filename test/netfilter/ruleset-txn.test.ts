// The Ruleset applies each restore block / iptables command in place with copy-on-write per chain, keeps jump
// reference counts and chain depth labels beside the tables, checks only what a transaction changed at commit,
// and skips the load checks of a rule object the chain already held at that position. Differential test against
// the previous whole-table implementation (reference-ruleset.ts): over arbitrary sequences of blocks and commands
// — jumps and gotos between a few chains (so loops, dangling jumps, referenced deletes and renames happen), the
// same rule objects reused again and again, with and without --noflush and --counters — both accept or refuse
// the same operations with the same error (class, message, line), reach the same state, and a refused
// operation leaves the state exactly as it was (libiptc commits a table at once: TC_COMMIT, or nothing).
import { test, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Counters, RestoreDocument, RuleSpec, StandardVerdict, TableCommand, TargetSpec } from '../../src/netfilter/ast.js';
import { Ruleset } from '../../src/netfilter/ruleset.js';
import { ReferenceRuleset } from './reference-ruleset.js';

const USER = ['A', 'B', 'C', 'D'];
const ALL = [...USER, 'INPUT', 'FORWARD', 'OUTPUT', 'MISSING'];

const target: fc.Arbitrary<TargetSpec | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom<TargetSpec | null>(null, { kind: 'standard', verdict: 'ACCEPT' }, { kind: 'standard', verdict: 'RETURN' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom('jump' as const, 'jump' as const, 'goto' as const),
      chain: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...USER) }, fc.constantFrom('INPUT', 'MISSING')),
    }),
  },
);

// A fixed pool of rule objects, shared by every operation (identity matters to the fast paths).
const POOL: RuleSpec[] = fc.sample(
  fc.record({ matches: fc.constant([]), target }).map((r): RuleSpec => r),
  { numRuns: 24, seed: 7 },
);
const ruleArb = fc.constantFrom(...POOL);
const countersArb: fc.Arbitrary<Counters | null> = fc.option(fc.record({ packets: fc.nat(9), bytes: fc.nat(999) }), { nil: null });
const chainArb = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...USER) }, fc.constantFrom(...ALL));
const line = fc.integer({ min: 1, max: 99 });

const command: fc.Arbitrary<TableCommand> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('append' as const), chain: chainArb, rule: ruleArb, counters: countersArb, line }) },
  fc.record({ op: fc.constant('insert' as const), chain: chainArb, index: fc.integer({ min: 1, max: 3 }), rule: ruleArb, counters: countersArb, line }),
  fc.record({ op: fc.constant('replace' as const), chain: chainArb, index: fc.integer({ min: 1, max: 3 }), rule: ruleArb, counters: countersArb, line }),
  fc.record({ op: fc.constant('delete' as const), chain: chainArb, rule: ruleArb, line }),
  fc.record({ op: fc.constant('deleteNum' as const), chain: chainArb, index: fc.integer({ min: 1, max: 3 }), line }),
  fc.record({ op: fc.constant('newChain' as const), chain: chainArb, line }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteChain' as const), chain: fc.option(chainArb, { nil: null }), line }) },
  fc.record({ op: fc.constant('flush' as const), chain: fc.option(chainArb, { nil: null }), line }),
  fc.record({ op: fc.constant('zero' as const), chain: fc.option(chainArb, { nil: null }), line }),
  fc.record({
    op: fc.constant('policy' as const),
    chain: chainArb,
    policy: fc.constantFrom<StandardVerdict>('ACCEPT', 'DROP', 'RETURN'),
    counters: countersArb,
    line,
  }),
  fc.record({ op: fc.constant('rename' as const), chain: chainArb, newName: fc.constantFrom(...USER, 'E'), line }),
);

type Step =
  | { kind: 'restore'; doc: RestoreDocument; noflush: boolean; counters: boolean; test: boolean }
  | { kind: 'apply'; command: TableCommand };

const decl = fc.record({
  name: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...USER) }, fc.constantFrom('E', 'INPUT')),
  policy: fc.option(fc.constantFrom<StandardVerdict>('ACCEPT', 'DROP'), { nil: null, freq: 4 }),
  counters: countersArb,
  line,
});

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('restore' as const),
      doc: fc
        .record({ chains: fc.uniqueArray(decl, { selector: (d) => d.name, maxLength: 4 }), commands: fc.array(command, { maxLength: 12 }) })
        .map(({ chains, commands }): RestoreDocument => ({ blocks: [{ table: 'filter', line: 1, chains, commands, commitLine: 100 }] })),
      noflush: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
      counters: fc.boolean(),
      test: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('apply' as const), command }) },
);

function outcome(f: () => void): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const err = e as Error & { line?: number; code?: string };
    return `${err.constructor.name}|${err.message}|${String(err.line)}|${String(err.code)}`;
  }
}

function run(rs: Ruleset | ReferenceRuleset, s: Step): string {
  if (s.kind === 'apply') return outcome(() => rs.apply('filter', s.command));
  const o = { noflush: s.noflush, counters: s.counters };
  return outcome(() => (s.test ? rs.test(s.doc, o) : rs.restore(s.doc, o)));
}

const saved = (rs: Ruleset | ReferenceRuleset): string => JSON.stringify(rs.toSaved({ tables: ['filter'], chainOrder: 'creation' }));

describe('transactional Ruleset', () => {
  test.prop([fc.array(step, { minLength: 1, maxLength: 30 })], { numRuns: 600 })(
    'accepts and refuses exactly what the whole-table implementation does, and a refusal changes nothing',
    (steps) => {
      const rs = new Ruleset();
      let ref = new ReferenceRuleset();
      const done: Step[] = [];
      for (const s of steps) {
        const before = saved(rs);
        const got = run(rs, s);
        const want = run(ref, s);
        expect(got).toBe(want);
        if (got !== 'ok' || (s.kind === 'restore' && s.test)) {
          expect(saved(rs)).toBe(before);
          // the reference is not atomic for policy counters: rebuild it from the accepted steps
          ref = new ReferenceRuleset();
          for (const d of done) run(ref, d);
        } else {
          done.push(s);
        }
        expect(saved(rs)).toBe(saved(ref));
      }
    },
  );

  it('refuses a loop closed through a chain an unchanged chain jumps to (depth grew)', () => {
    const rs = new Ruleset();
    const jump = (chain: string): RuleSpec => ({ matches: [], target: { kind: 'jump', chain } });
    rs.restore({
      blocks: [
        {
          table: 'filter',
          line: 1,
          chains: ['A', 'B', 'C'].map((name) => ({ name, policy: null, counters: null, line: 2 })),
          commands: [
            { op: 'append', chain: 'A', rule: jump('B'), counters: null, line: 3 },
            { op: 'append', chain: 'C', rule: jump('A'), counters: null, line: 4 },
          ],
          commitLine: 5,
        },
      ],
    });
    // A (unchanged) -> B; B now -> C -> A: a loop through an edge of an untouched chain
    expect(() => rs.apply('filter', { op: 'append', chain: 'B', rule: jump('C'), counters: null, line: 9 })).toThrow(/loop/);
    expect(rs.chain('filter', 'B')!.rules).toHaveLength(0);
    rs.apply('filter', { op: 'append', chain: 'B', rule: { matches: [], target: { kind: 'standard', verdict: 'ACCEPT' } }, counters: null, line: 9 });
    expect(rs.chain('filter', 'B')!.rules).toHaveLength(1);
  });

  // The fast paths for a rule object a chain already held (skip the load checks; keep the chain's depth label)
  // must not survive a chain deletion: the target may be gone, or recreated with another depth.
  const jumpTo = (chain: string): RuleSpec => ({ matches: [], target: { kind: 'jump', chain } });
  const base = (p: RuleSpec): Ruleset => {
    const rs = new Ruleset();
    rs.restore({
      blocks: [
        {
          table: 'filter',
          line: 1,
          chains: ['S', 'X'].map((name) => ({ name, policy: null, counters: null, line: 2 })),
          commands: [{ op: 'append', chain: 'S', rule: p, counters: null, line: 3 }],
          commitLine: 4,
        },
      ],
    });
    return rs;
  };
  const block = (commands: TableCommand[]): RestoreDocument => ({
    blocks: [{ table: 'filter', line: 10, chains: [{ name: 'S', policy: null, counters: null, line: 11 }], commands, commitLine: 20 }],
  });

  it('re-checks a re-appended rule whose target was deleted in the same block', () => {
    const p = jumpTo('X');
    const rs = base(p);
    const before = JSON.stringify(rs.toSaved());
    // :S flushes S, so X is unreferenced and -X succeeds; the same rule object then jumps to nothing
    expect(() =>
      rs.restore(
        block([
          { op: 'deleteChain', chain: 'X', line: 12 },
          { op: 'append', chain: 'S', rule: p, counters: null, line: 13 },
        ]),
        { noflush: true },
      ),
    ).toThrow(/line 13|Couldn't load target `X'/);
    expect(JSON.stringify(rs.toSaved())).toBe(before);
  });

  it('finds a loop through a chain rewritten with its old rules after its target was recreated', () => {
    const p = jumpTo('X');
    const rs = base(p);
    // X is deleted and recreated jumping back to S; S gets its old rule object again: S -> X -> S
    expect(() =>
      rs.restore(
        block([
          { op: 'deleteChain', chain: 'X', line: 12 },
          { op: 'newChain', chain: 'X', line: 13 },
          { op: 'append', chain: 'X', rule: jumpTo('S'), counters: null, line: 14 },
          { op: 'append', chain: 'S', rule: p, counters: null, line: 15 },
        ]),
        { noflush: true },
      ),
    ).toThrow(/loop/);
    expect(rs.chain('filter', 'X')!.rules).toHaveLength(0);
  });
});

// A rule object re-appended at the position it held skips the load checks, except for `-m set` matches: the set
// may be gone since (ipsets live outside the ruleset). The ruleset remembers per chain whether it holds no set
// match at all; these pin down that the memory never hides a set match, however the rule got into the chain.
describe('re-appended set matches are checked again', () => {
  const plain: RuleSpec = { matches: [], target: { kind: 'standard', verdict: 'ACCEPT' } };
  const withSet: RuleSpec = {
    matches: [{ module: 'set', setName: 'S1', dirs: ['dst'], invert: false, returnNomatch: false }],
    target: { kind: 'standard', verdict: 'ACCEPT' },
  };
  const state = { setExists: true };
  const make = (): Ruleset =>
    new Ruleset({
      checkRule: (_t, r) => {
        if (!state.setExists && r.matches.some((m) => m.module === 'set')) throw new Error("Set S1 doesn't exist");
      },
    });
  const rewrite = (rules: readonly RuleSpec[]): RestoreDocument => ({
    blocks: [
      {
        table: 'filter',
        line: 1,
        chains: [{ name: 'S', policy: null, counters: null, line: 2 }],
        commands: rules.map((rule, i) => ({ op: 'append', chain: 'S', rule, counters: null, line: 3 + i })),
        commitLine: 3 + rules.length,
      },
    ],
  });
  const ways: [string, (rs: Ruleset) => void][] = [
    ['appended', (rs) => rs.restore(rewrite([plain, withSet]), { noflush: true })],
    [
      'inserted',
      (rs) => {
        rs.restore(rewrite([plain]), { noflush: true });
        rs.apply('filter', { op: 'insert', chain: 'S', index: 2, rule: withSet, counters: null, line: 1 });
      },
    ],
    [
      'replaced',
      (rs) => {
        rs.restore(rewrite([plain, plain]), { noflush: true });
        rs.apply('filter', { op: 'replace', chain: 'S', index: 2, rule: withSet, counters: null, line: 1 });
      },
    ],
    [
      'renamed with its chain',
      (rs) => {
        rs.apply('filter', { op: 'newChain', chain: 'T', line: 1 });
        rs.apply('filter', { op: 'append', chain: 'T', rule: plain, counters: null, line: 1 });
        rs.apply('filter', { op: 'append', chain: 'T', rule: withSet, counters: null, line: 1 });
        rs.apply('filter', { op: 'rename', chain: 'T', newName: 'S', line: 1 });
      },
    ],
  ];
  for (const [how, load] of ways) {
    it(`refuses a set match that was ${how}, once its set is gone`, () => {
      state.setExists = true;
      const rs = make();
      load(rs);
      // rewritten with the same rule objects while the set exists, twice (the memory carries over)
      rs.restore(rewrite([plain, withSet]), { noflush: true });
      rs.restore(rewrite([plain, withSet]), { noflush: true });
      const before = JSON.stringify(rs.toSaved());
      state.setExists = false;
      expect(() => rs.restore(rewrite([plain, withSet]), { noflush: true })).toThrow(/line 4.*|Set S1/);
      expect(JSON.stringify(rs.toSaved())).toBe(before);
      // a chain rewritten without it is set-free again, and re-appending its plain rule needs no set
      rs.restore(rewrite([plain]), { noflush: true });
      rs.restore(rewrite([plain]), { noflush: true });
      expect(rs.chain('filter', 'S')!.rules.map((r) => r.spec)).toEqual([plain]);
    });
  }
});
