import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseIptablesCommand, printRule, splitShellWords } from '../../../src/io/iptables/index.js';

describe('splitShellWords', () => {
  const words = (s: string): string[] => splitShellWords(s).map((w) => w.text);
  it('splits like sh for simple commands', () => {
    expect(words(`iptables -A INPUT -m comment --comment 'a "b" c' -j ACCEPT`)).toEqual(['iptables', '-A', 'INPUT', '-m', 'comment', '--comment', 'a "b" c', '-j', 'ACCEPT']);
    expect(words('a "b \\" \\\\ \\x" c\\ d \'\'')).toEqual(['a', 'b " \\ \\x', 'c d', '']);
    expect(words('x # comment')).toEqual(['x']);
    expect(words('x#y')).toEqual(['x#y']);
  });
  it('refuses shell syntax it cannot run', () => {
    for (const s of ['echo $HOME', 'a; b', 'a | b', 'a && b', 'a > f', 'a `b`', '"$x"', "'unterminated", '"unterminated']) {
      expect(() => splitShellWords(s)).toThrow(ParseError);
    }
    expect(words('"$"')).toEqual(['$']);
  });
});

describe('parseIptablesCommand', () => {
  it('parses a command with a table, with or without the program name', () => {
    const a = parseIptablesCommand('iptables -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y');
    const b = parseIptablesCommand('-t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y');
    const c = parseIptablesCommand('/usr/sbin/iptables-legacy --table nat --append KUBE-SERVICES -d 10.96.0.1 -p tcp --dport 443 --jump KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    expect(a.table).toBe('nat');
    expect(a.command.op).toBe('append');
    if (a.command.op !== 'append') return;
    expect(printRule(a.command.chain, a.command.rule)).toBe('-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y');
  });
  it('defaults to the filter table and accepts -w, -W, -v', () => {
    const r = parseIptablesCommand("iptables -w 5 -W 1000 -v -I INPUT 3 -m comment --comment 'allow ssh' -p tcp --dport 22 -j ACCEPT");
    expect(r.table).toBe('filter');
    expect(r.command).toMatchObject({ op: 'insert', chain: 'INPUT', index: 3 });
  });
  it('parses every command', () => {
    expect(parseIptablesCommand('iptables -N DOCKER').command).toEqual({ op: 'newChain', chain: 'DOCKER', line: 1 });
    expect(parseIptablesCommand('iptables -t nat -X').command).toEqual({ op: 'deleteChain', chain: null, line: 1 });
    expect(parseIptablesCommand('iptables -F DOCKER').command).toEqual({ op: 'flush', chain: 'DOCKER', line: 1 });
    expect(parseIptablesCommand('iptables -Z').command).toEqual({ op: 'zero', chain: null, line: 1 });
    expect(parseIptablesCommand('iptables -P FORWARD DROP').command).toEqual({ op: 'policy', chain: 'FORWARD', policy: 'DROP', counters: null, line: 1 });
    expect(parseIptablesCommand('iptables -E OLD NEW').command).toEqual({ op: 'rename', chain: 'OLD', newName: 'NEW', line: 1 });
    expect(parseIptablesCommand('iptables -D INPUT 2').command).toEqual({ op: 'deleteNum', chain: 'INPUT', index: 2, line: 1 });
    expect(parseIptablesCommand('iptables -D INPUT -j ACCEPT').command).toMatchObject({ op: 'delete', chain: 'INPUT' });
    expect(parseIptablesCommand('iptables -R INPUT 1 -j DROP', 7).command).toMatchObject({ op: 'replace', index: 1, line: 7 });
  });
  it('reports errors with the column of the offending word', () => {
    const cases: readonly (readonly [string, RegExp, number])[] = [
      ['iptables -t foo -A INPUT', /unknown table "foo"/, 13],
      ['iptables -A INPUT -m foo', /unknown match module "foo"/, 22],
      ['iptables -A INPUT -p tcp --bar 1', /unknown option "--bar" for module/, 26],
      ['iptables -6 -A INPUT', /-6/, 10],
      ['iptables', /no command specified/, 1],
      ['iptables -N 12345678901234567890123456789', /too long/, 13],
      ['iptables -t nat -P PREROUTING DROP', /"nat" table is not intended for filtering/, 31],
    ];
    for (const [line, msg, col] of cases) {
      try {
        parseIptablesCommand(line);
        expect.unreachable(line);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        expect((e as ParseError).message).toMatch(msg);
        expect((e as ParseError).message.startsWith('lbsim/io.iptables.parseIptablesCommand: ')).toBe(true);
        expect((e as ParseError).column).toBe(col);
      }
    }
  });
});
