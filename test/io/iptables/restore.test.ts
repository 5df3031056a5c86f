/**
 * iptables-restore files and iptables-save output. Expected texts and
 * errors are what iptables 1.8.9 did with the same input (captured in a
 * network namespace); divergences are named in the test titles.
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import type { SavedTable } from '../../../src/netfilter/ast.js';
import {
  formatSaveDate,
  parseRestore,
  parseRuleLine,
  printRuleSpec,
  printSave,
  restoreToSavedTables,
  saveString,
  tokenizeIptablesArgs,
} from '../../../src/io/iptables/index.js';

function parseError(f: () => unknown): ParseError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}

describe('tokenizeIptablesArgs (add_param_to_argv)', () => {
  const texts = (s: string): string[] => tokenizeIptablesArgs(s).map((t) => t.text);
  it('splits on spaces, tabs and newlines', () => {
    expect(texts('-A  INPUT\t-j ACCEPT\n')).toEqual(['-A', 'INPUT', '-j', 'ACCEPT']);
  });
  it('keeps separators inside double quotes and removes the quotes', () => {
    expect(texts('--comment "a b\tc"')).toEqual(['--comment', 'a b\tc']);
  });
  it('takes the character after a backslash literally inside quotes only', () => {
    expect(texts('"a\\"b\\\\c\\d"')).toEqual(['a"b\\cd']);
    expect(texts('a\\b')).toEqual(['a\\b']);
  });
  it('ends the argument at the closing quote', () => {
    expect(texts('"abc"def')).toEqual(['abc', 'def']);
    expect(texts('abc"def ghi"jkl')).toEqual(['abcdef ghi', 'jkl']);
  });
  it('keeps an empty quoted argument', () => {
    expect(texts('--comment ""')).toEqual(['--comment', '']);
  });
  it('treats single quotes as ordinary characters', () => {
    expect(texts("'a b'")).toEqual(["'a", "b'"]);
  });
  it('records 1-based columns and quoting', () => {
    expect(tokenizeIptablesArgs('-A  "X Y" z')).toEqual([
      { text: '-A', column: 1, quoted: false },
      { text: 'X Y', column: 5, quoted: true },
      { text: 'z', column: 11, quoted: false },
    ]);
  });
  it('refuses an unterminated quote (divergence: iptables takes the rest of the line, newline included)', () => {
    const e = parseError(() => tokenizeIptablesArgs('-m comment --comment "abc'));
    expect(e.column).toBe(22);
  });
  it('refuses arguments over 1023 bytes ("Parameter too long!")', () => {
    expect(() => tokenizeIptablesArgs('x'.repeat(1024))).toThrow(/parameter too long/);
    expect(tokenizeIptablesArgs('x'.repeat(1023))).toHaveLength(1);
  });
});

describe('saveString (xtables_save_string)', () => {
  it('prints [_-0-9a-zA-Z]+ bare and everything else quoted with \\" \\\\ \\\' escaped', () => {
    expect(saveString('Abc_-09')).toBe(' Abc_-09');
    expect(saveString('')).toBe(' ""');
    expect(saveString('a b')).toBe(' "a b"');
    expect(saveString('ns1/svc1:p80')).toBe(' "ns1/svc1:p80"');
    expect(saveString(`it's "x" \\`)).toBe(` "it\\'s \\"x\\" \\\\"`);
  });
});

const SIMPLE = `*filter
:INPUT DROP [11:22]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:b - [0:0]
:a - [0:0]
[3:4] -A INPUT -j a
-A a -s 10.0.0.1 -j RETURN
COMMIT
`;

describe('parseRestore', () => {
  it('reads tables, chain declarations, commands and their lines', () => {
    const doc = parseRestore(SIMPLE, { counters: true });
    expect(doc.blocks).toHaveLength(1);
    const b = doc.blocks[0];
    expect(b?.table).toBe('filter');
    expect(b?.line).toBe(1);
    expect(b?.commitLine).toBe(9);
    expect(b?.chains).toEqual([
      { name: 'INPUT', policy: 'DROP', counters: { packets: 11, bytes: 22 }, line: 2 },
      { name: 'FORWARD', policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, line: 3 },
      { name: 'OUTPUT', policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, line: 4 },
      { name: 'b', policy: null, counters: null, line: 5 },
      { name: 'a', policy: null, counters: null, line: 6 },
    ]);
    expect(b?.commands).toEqual([
      { op: 'append', chain: 'INPUT', rule: { matches: [], target: { kind: 'jump', chain: 'a' } }, counters: { packets: 3, bytes: 4 }, line: 7 },
      {
        op: 'append',
        chain: 'a',
        rule: { src: { addr: 0x0a000001, mask: 0xffffffff, invert: false }, matches: [], target: { kind: 'standard', verdict: 'RETURN' } },
        counters: null,
        line: 8,
      },
    ]);
  });

  it('ignores counters without the counters option, as iptables-restore does', () => {
    const b = parseRestore(SIMPLE).blocks[0];
    expect(b?.chains[0]?.counters).toBeNull();
    expect(b?.commands[0]).toMatchObject({ op: 'append', counters: null });
  });

  it('prints like iptables-save: builtins in hook order, user chains sorted byte-wise, user chain counters [0:0]', () => {
    // real iptables-save (both back ends) after restoring this with --counters
    const tables = restoreToSavedTables(parseRestore(SIMPLE, { counters: true }));
    expect(printSave(tables)).toBe(`*filter
:INPUT DROP [11:22]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:a - [0:0]
:b - [0:0]
-A INPUT -j a
-A a -s 10.0.0.1/32 -j RETURN
COMMIT
`);
    expect(printSave(tables, { counters: true })).toContain('[3:4] -A INPUT -j a\n[0:0] -A a -s 10.0.0.1/32 -j RETURN\n');
  });

  it('sorts user chains by bytes: digits < upper case < _ < lower case', () => {
    const t: SavedTable = {
      name: 'filter',
      chains: ['b', 'a', 'B', '_x', '1x', 'OUTPUT', 'INPUT'].map((name) => ({
        name,
        policy: name === 'INPUT' || name === 'OUTPUT' ? 'ACCEPT' : null,
        counters: { packets: 0, bytes: 0 },
        rules: [],
      })),
    };
    expect(printSave([t]).split('\n').slice(1, 8)).toEqual([':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':1x - [0:0]', ':B - [0:0]', ':_x - [0:0]', ':a - [0:0]', ':b - [0:0]']);
    expect(printSave([t], { sortChains: false }).split('\n')[1]).toBe(':b - [0:0]');
  });

  it('prints the comment header lines only when asked, with the given date', () => {
    const tables = restoreToSavedTables(parseRestore('*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'));
    const date = formatSaveDate(new Date(Date.UTC(2026, 10, 8, 2, 55, 1)));
    expect(date).toBe('Sun Nov  8 02:55:01 2026');
    expect(printSave(tables, { header: { date } })).toBe(
      `# Generated by iptables-save v1.8.9 on ${date}\n*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n# Completed on ${date}\n`,
    );
    expect(printSave(tables, { header: { date }, backend: 'nft' })).toMatch(/^# Generated by iptables-nft-save v1\.8\.9 \(nf_tables\) on /);
    expect(printSave([])).toBe('');
  });

  it('accepts comments, empty lines, leading blanks in rules, junk after the table name and chain counters', () => {
    const doc = parseRestore('# c\n\n*filter junk\n#x\n:INPUT\tDROP\t[1:2] junk\n  -A INPUT -j ACCEPT\nCOMMIT\n#end\n', { counters: true });
    expect(doc.blocks[0]?.chains[0]).toEqual({ name: 'INPUT', policy: 'DROP', counters: { packets: 1, bytes: 2 }, line: 5 });
    expect(doc.blocks[0]?.commands).toHaveLength(1);
  });

  it('reads several blocks, also of the same table', () => {
    const doc = parseRestore('*filter\nCOMMIT\n*filter\n-A INPUT -j DROP\nCOMMIT\n*nat\nCOMMIT\n');
    expect(doc.blocks.map((b) => b.table)).toEqual(['filter', 'filter', 'nat']);
  });

  it('accepts a last COMMIT without newline (as iptables-nft-restore; legacy refuses it)', () => {
    expect(parseRestore('*filter\nCOMMIT').blocks).toHaveLength(1);
  });

  it('reads every command', () => {
    const doc = parseRestore(
      '*filter\n-I INPUT -j ACCEPT\n-I INPUT 2 -j ACCEPT\n-I INPUT 0x2 -j ACCEPT\n-D INPUT 1\n-D INPUT -s 2.2.2.2\n-R INPUT 1 -j DROP\n-N NEWC\n-X\n-X NEWC\n-F\n-F INPUT\n-Z\n-Z INPUT\n-P INPUT DROP\n-P INPUT DROP -c 3 4\n-E MYC NEWNAME\n--new-chain LONGOPT\n--ne NN\nCOMMIT\n',
    );
    expect(doc.blocks[0]?.commands.map((c) => [c.op, 'chain' in c ? c.chain : null, 'index' in c ? c.index : null])).toEqual([
      ['insert', 'INPUT', 1],
      ['insert', 'INPUT', 2],
      ['insert', 'INPUT', 2],
      ['deleteNum', 'INPUT', 1],
      ['delete', 'INPUT', null],
      ['replace', 'INPUT', 1],
      ['newChain', 'NEWC', null],
      ['deleteChain', null, null],
      ['deleteChain', 'NEWC', null],
      ['flush', null, null],
      ['flush', 'INPUT', null],
      ['zero', null, null],
      ['zero', 'INPUT', null],
      ['policy', 'INPUT', null],
      ['policy', 'INPUT', null],
      ['rename', 'MYC', null],
      ['newChain', 'LONGOPT', null],
      ['newChain', 'NN', null],
    ]);
    expect(doc.blocks[0]?.commands[14]).toMatchObject({ policy: 'DROP', counters: { packets: 3, bytes: 4 } });
    expect(doc.blocks[0]?.commands[15]).toMatchObject({ newName: 'NEWNAME' });
  });

  it('skips -6 lines as iptables-restore does', () => {
    expect(parseRestore('*filter\n-A INPUT -6 -j ACCEPT\nCOMMIT\n').blocks[0]?.commands).toEqual([]);
  });

  it('handles chain names that are Object.prototype keys end to end', () => {
    const text = '*filter\n:__proto__ - [0:0]\n:constructor - [0:0]\n:hasOwnProperty - [0:0]\n-A __proto__ -j constructor\n-A constructor -g hasOwnProperty\n-A hasOwnProperty -j __proto__\nCOMMIT\n';
    const tables = restoreToSavedTables(parseRestore(text));
    expect(tables[0]?.chains.map((c) => c.name)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(printSave(tables)).toBe(text);
  });

  const errs: readonly (readonly [string, string, RegExp, number, number])[] = [
    ['missing COMMIT', '*filter\n-A INPUT -j ACCEPT\n', /COMMIT expected at line 3/, 3, 1],
    ['command outside a table', '-A INPUT -j ACCEPT\n', /command outside a table/, 1, 1],
    ['COMMIT outside a table', 'COMMIT\n', /COMMIT outside a table/, 1, 1],
    ['chain declaration outside a table', ':INPUT DROP\n', /chain declaration outside a table/, 1, 1],
    ['blank line before the table', '   \n*filter\nCOMMIT\n', /outside a table/, 1, 1],
    ['unknown table', '*foo\nCOMMIT\n', /unable to initialize table "foo"/, 1, 2],
    ['upper-case table', '*FILTER\nCOMMIT\n', /unable to initialize table "FILTER"/, 1, 2],
    ['missing table name', '*\nCOMMIT\n', /table name invalid/, 1, 2],
    ['table inside a table', '*filter\n*nat\nCOMMIT\n', /table "nat" started before COMMIT of table filter/, 2, 1],
    ['missing chain name', '*filter\n:\nCOMMIT\n', /chain name invalid/, 2, 2],
    ['missing policy', '*filter\n:INPUT\nCOMMIT\n', /policy invalid/, 2, 7],
    ['bad policy', '*filter\n:INPUT FOO [0:0]\nCOMMIT\n', /bad policy name/, 2, 8],
    ['RETURN as policy', '*filter\n:INPUT RETURN [0:0]\nCOMMIT\n', /bad policy name/, 2, 8],
    ['policy on a user chain', '*filter\n:MY ACCEPT [0:0]\nCOMMIT\n', /bad built-in chain name/, 2, 5],
    ['policy on another table\'s built-in', '*filter\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', /bad built-in chain name/, 2, 13],
    ['29-character chain', '*filter\n:12345678901234567890123456789 - [0:0]\nCOMMIT\n', /invalid chain name "12345678901234567890123456789" \(28 chars max\)/, 2, 2],
    ['chain named like a verdict', '*filter\n:ACCEPT - [0:0]\nCOMMIT\n', /may not clash with target name/, 2, 2],
    ['chain starting with ! (nft refuses, legacy accepts)', '*filter\n:!x - [0:0]\nCOMMIT\n', /not allowed to start with "!"/, 2, 2],
    ['whitespace-only line in a table', '*filter\n   \nCOMMIT\n', /no command specified/, 2, 1],
    ['trailing comment on a rule', '*filter\n-A INPUT -j ACCEPT # x\nCOMMIT\n', /bad argument "#"/, 2, 20],
    ['COMMIT with trailing text', '*filter\nCOMMIT foo\n', /bad argument "COMMIT"/, 2, 1],
    ['CR line ending', '*filter\n-A INPUT -j ACCEPT\r\nCOMMIT\n', /invalid target name/, 2, 13],
    ['rule counters without ]', '*filter\n[1:2\n-A INPUT\nCOMMIT\n', /need \]/, 2, 1],
    ['empty rule counters', '*filter\n[] -A INPUT\nCOMMIT\n', /need \]/, 2, 1],
    ['-t inside a restore file', '*filter\n-t nat -A INPUT -j ACCEPT\nCOMMIT\n', /-t option cannot be used/, 2, 1],
    ['unknown match module', '*filter\n-A INPUT -m foo\nCOMMIT\n', /unknown match module "foo"/, 2, 13],
    ['unknown option', '*filter\n-A INPUT -p tcp -m tcp --bar 1\nCOMMIT\n', /unknown option "--bar" for module tcp/, 2, 24],
    ['29-character -N', '*filter\n-N 12345678901234567890123456789\nCOMMIT\n', /too long \(must be under 29 chars\)/, 2, 4],
    ['-N of a target name', '*filter\n-N LOG\nCOMMIT\n', /may not clash with target name/, 2, 4],
    ['-N starting with -', '*filter\n-N -x\nCOMMIT\n', /not allowed to start with "-"/, 2, 4],
    ['-I rule 0', '*filter\n-I INPUT 0 -j ACCEPT\nCOMMIT\n', /invalid rule number "0"/, 2, 10],
    ['-D rule range', '*filter\n-D INPUT 1:2\nCOMMIT\n', /invalid rule number "1:2"/, 2, 10],
    ['-D number with a rule', '*filter\n-D INPUT 1 -s 1.1.1.1\nCOMMIT\n', /illegal option "-s" with this command/, 2, 12],
    ['-R without number', '*filter\n-R INPUT -j DROP\nCOMMIT\n', /-R requires a rule number/, 2, 1],
    ['-P without policy', '*filter\n-P INPUT\nCOMMIT\n', /-P requires a chain and a policy/, 2, 1],
    ['-P RETURN', '*filter\n-P INPUT RETURN\nCOMMIT\n', /bad policy name/, 2, 10],
    ['-E without new name', '*filter\n-E MYC\nCOMMIT\n', /-E requires old-chain-name and new-chain-name/, 2, 1],
    ['-F with a rule option', '*filter\n-F INPUT -j ACCEPT\nCOMMIT\n', /illegal option "-j" with this command/, 2, 10],
    ['extra argument', '*filter\n-X MYC extra\nCOMMIT\n', /bad argument "extra"/, 2, 8],
    ['-Z with rule number', '*filter\n-Z INPUT 1\nCOMMIT\n', /zeroing one rule/, 2, 1],
    ['-C', '*filter\n-C INPUT -j ACCEPT\nCOMMIT\n', /-C \(check\) is not supported/, 2, 1],
  ];
  for (const [name, text, msg, line, col] of errs) {
    it(`error: ${name}`, () => {
      const e = parseError(() => parseRestore(text));
      expect(e.message).toMatch(msg);
      expect(e.message.startsWith('lbsim/io.iptables.parseRestore: ')).toBe(true);
      expect([e.line, e.column]).toEqual([line, col]);
    });
  }

  it('error: bad counters with the counters option', () => {
    expect(parseError(() => parseRestore('*filter\n:INPUT DROP\nCOMMIT\n', { counters: true })).message).toMatch(/invalid policy counters for chain "INPUT"/);
    expect(parseError(() => parseRestore('*filter\n:INPUT DROP [x:2]\nCOMMIT\n', { counters: true })).message).toMatch(/invalid policy counters/);
    expect(parseError(() => parseRestore('*filter\n[a:b] -A INPUT\nCOMMIT\n', { counters: true })).message).toMatch(/-c packet counter not numeric/);
    // without it, as iptables-restore, they are not looked at
    expect(parseRestore('*filter\n:INPUT DROP [x:2]\n[a:b] -A INPUT\nCOMMIT\n').blocks[0]?.commands).toHaveLength(1);
  });

  it('error: counters on -N with the counters option (iptables-restore --counters passes them as -c)', () => {
    expect(parseError(() => parseRestore('*filter\n[1:2] -N FOO\nCOMMIT\n', { counters: true })).message).toMatch(/illegal option "-c" with this command/);
    expect(parseRestore('*filter\n[1:2] -N FOO\nCOMMIT\n').blocks[0]?.commands).toEqual([{ op: 'newChain', chain: 'FOO', line: 2 }]);
  });

  it('error: a rule counter prefix and -c together', () => {
    expect(parseError(() => parseRestore('*filter\n[1:2] -A INPUT -c 3 4\nCOMMIT\n', { counters: true })).message).toMatch(/multiple -c flags/);
  });
});

describe('back-end differences in printing', () => {
  it('"! -i +" is printed by nft only', () => {
    const r = parseRuleLine('-A FORWARD ! -i + -o eth0');
    expect(printRuleSpec(r.rule)).toBe(' -o eth0');
    expect(printRuleSpec(r.rule, { backend: 'nft' })).toBe(' ! -i + -o eth0');
  });
  it('nft prints an inverted tcp/udp port range touching 0 or 65535 as its complement', () => {
    // real iptables-nft-save output for these inputs
    const cases: readonly (readonly [string, string, string])[] = [
      ['-A INPUT -p udp ! --dport 0:32917', ' -p udp -m udp ! --dport 0:32917', ' -p udp -m udp --dport 32918:65535'],
      ['-A INPUT -p tcp ! --sport 1000:65535', ' -p tcp -m tcp ! --sport 1000:65535', ' -p tcp -m tcp --sport 0:999'],
      ['-A INPUT -p tcp ! --sport 1:65535', ' -p tcp -m tcp ! --sport 1:65535', ' -p tcp -m tcp --sport 0'],
      ['-A INPUT -p tcp ! --sport 5:6', ' -p tcp -m tcp ! --sport 5:6', ' -p tcp -m tcp ! --sport 5:6'],
      ['-A INPUT -p tcp ! --sport 0', ' -p tcp -m tcp ! --sport 0', ' -p tcp -m tcp ! --sport 0'],
    ];
    for (const [line, legacy, nft] of cases) {
      const r = parseRuleLine(line);
      expect(printRuleSpec(r.rule, { backend: 'nft' })).toBe(nft);
      expect(printRuleSpec(r.rule)).toBe(legacy);
    }
  });
});
