/**
 * The fast path of parseRestore (src/io/iptables/fastpath.ts) must be
 * invisible: for any input, parseRestore with it gives exactly what the
 * general tokenizer + argument parser give — the same document, or the same
 * ParseError (message, line, column, input). These properties compare the
 * two on generated inputs aimed at the shapes the fast path accepts and at
 * the edges where it must hand over (numbers with leading zeros, tabs,
 * quotes, escapes, repeated options, targets outside their table, ...).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { ParseError } from '../../../src/errors.js';
import { printSave } from '../../../src/io/iptables/index.js';
import { FastLineParser } from '../../../src/io/iptables/fastpath.js';
import { parseRestoreWith, type ParseRestoreOptions } from '../../../src/io/iptables/restore.js';
import { savedTableArb } from './arbitraries.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

type Outcome = { ok: true; doc: unknown } | { ok: false; error: { message: string; line: number; column: number; input: string } };

function outcome(text: string, options: ParseRestoreOptions, fast: boolean): Outcome {
  try {
    return { ok: true, doc: parseRestoreWith(text, options, fast) };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { ok: false, error: { message: e.message, line: e.line, column: e.column, input: e.input } };
  }
}

/** Both paths, with and without counters, give the same result. */
function same(text: string): void {
  for (const options of [{}, { counters: true }]) {
    expect(outcome(text, options, true)).toStrictEqual(outcome(text, options, false));
  }
}

// tokens around what the fast path reads, and near misses of each
const chainTok = fc.constantFrom(
  'KUBE-SEP-7FJLQVN5IJWMIAQV',
  'KUBE-SVC-UO7CFLZPBHFJFNHK',
  'KUBE-MARK-MASQ',
  'KUBE-SERVICES',
  'X',
  'A234567890123456789012345678',
  'A2345678901234567890123456789',
  '__proto__',
  'INPUT',
  'OUTPUT',
  'PREROUTING',
  'POSTROUTING',
  'FORWARD',
  'ACCEPT',
  'DROP',
  'RETURN',
  'QUEUE',
  'CONTINUE',
  'DNAT',
  'REJECT',
  'MARK',
  'TEE',
  '-X',
  '!X',
  'my.chain_1',
  'a\\b',
  'é',
  '"X"',
  '"X Y"',
  'X\t',
  'X\r',
);
const valueTok = fc.constantFrom(
  '10.0.0.1',
  '10.0.0.0/8',
  '10.0.0.1/32',
  '0.0.0.0/0',
  '1.2.3.4/0',
  '255.255.255.255',
  '256.1.1.1',
  '010.1.1.1',
  '10.1',
  '1.2.3.4/33',
  '1.2.3.4/08',
  '1.2.3.4/255.0.0.0',
  '1.2.3.4,5.6.7.8',
  '"10.0.0.1"',
  '10.0.0.1:8080',
  '10.0.0.1:0',
  '0.0.0.0:80',
  '10.0.0.1:65536',
  '10.0.0.1:080',
  '10.0.0.1-10.0.0.2',
  '10.0.0.1:80-90',
  '80',
  '0',
  '080',
  '0x50',
  '65535',
  '65536',
  '0:65535',
  '80:90',
  '90:80',
  ':80',
  '80:',
  'http',
  '0.5',
  '0.1000000000',
  '1',
  '1.',
  '.5',
  '1.5',
  '0.5e0',
  '-0.1',
  'random',
  'nth',
  'tcp',
  'udp',
  'sctp',
  'icmp',
  'TCP',
  '6',
  'all',
  'comment',
  'statistic',
  'multiport',
  'mark',
  '"scale/s0:p cluster IP"',
  '"a\\"b"',
  '""',
  '"a"b',
  'a"b"',
  '"unterminated',
  'eth0',
  '+',
  'eth+',
  'abcdefghijklmnop',
  'abcdefghijklmno',
  'x'.repeat(256),
  `"${'y'.repeat(300)}"`,
  'é',
);
const optTok = fc.constantFrom(
  '-s',
  '-d',
  '-p',
  '-i',
  '-o',
  '-m',
  '-j',
  '-g',
  '-f',
  '-c',
  '!',
  '--',
  '-A',
  '-I',
  '-N',
  '--dport',
  '--sport',
  '--dports',
  '--destination-port',
  '--dport=80',
  '--comment',
  '--mode',
  '--probability',
  '--every',
  '--packet',
  '--to-destination',
  '--to',
  '--random',
  '--reject-with',
  '--source',
  '--jump',
  '-sd',
);
const tokenArb = fc.oneof({ weight: 3, arbitrary: optTok }, { weight: 3, arbitrary: valueTok }, { weight: 1, arbitrary: chainTok });
const sepArb = fc.constantFrom(' ', ' ', ' ', '  ', '\t', ' \t');

/** One rule line: mostly `-A CHAIN` then options; sometimes a counters prefix, odd separators or a trailing blank. */
const ruleLineArb = fc
  .tuple(
    fc.constantFrom('', '', '', '[1:2] ', '[0:0]', '[x:y] '),
    fc.oneof({ weight: 5, arbitrary: fc.constant('-A') }, { weight: 1, arbitrary: optTok }),
    chainTok,
    fc.array(fc.tuple(sepArb, tokenArb), { maxLength: 12 }),
    fc.constantFrom('', '', ' ', '\t', '\r'),
  )
  .map(([prefix, cmd, chain, rest, tail]) => `${prefix}${cmd} ${chain}${rest.map(([s, t]) => s + t).join('')}${tail}`);

/** Rule lines in the kube-proxy shapes, with one token replaced. */
const KUBE_LINES = [
  '-A KUBE-SEP-7FJLQVN5IJWMIAQV -s 10.128.0.10 -j KUBE-MARK-MASQ',
  '-A KUBE-SEP-7FJLQVN5IJWMIAQV -m tcp -p tcp -j DNAT --to-destination 10.128.0.10:8080',
  '-A KUBE-SVC-UO7CFLZPBHFJFNHK -m statistic --mode random --probability 0.1000000000 -j KUBE-SEP-7FJLQVN5IJWMIAQV',
  '-A KUBE-SVC-UO7CFLZPBHFJFNHK -m comment --comment "scale/s0:p cluster IP" -m tcp -p tcp -d 172.30.0.0 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
  '-A KUBE-SERVICES -m comment --comment "scale/s0:p cluster IP" -m tcp -p tcp -d 172.30.0.0 --dport 80 -j KUBE-SVC-UO7CFLZPBHFJFNHK',
  '-A KUBE-SVC-UO7CFLZPBHFJFNHK -j KUBE-SEP-7FJLQVN5IJWMIAQV',
  '-A KUBE-EXT-X -m comment --comment "x" -i eth0 ! -o lo -p udp -m udp --sport 53 --dport 1000:2000 -g KUBE-SVC-X',
  '-A INPUT -p tcp -m tcp ! --dport 22 -j REJECT',
  '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80',
  '-A POSTROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80',
  '-A X -m statistic ! --probability 0.5 --mode random -j RETURN',
  '-A X -p tcp -m tcp --dport 0:65535 --sport 0:65535 -j ACCEPT',
  '-A X -p tcp -m tcp ! --dport 0:65535 -j ACCEPT',
  '-A X',
];
const mutatedKubeLineArb = fc
  .tuple(fc.constantFrom(...KUBE_LINES), fc.nat(), fc.oneof(tokenArb, fc.constant('')))
  .map(([line, at, tok]) => {
    const parts = line.split(' ');
    parts[at % parts.length] = tok;
    return parts.join(' ');
  });

/** Structured rules in the fast path's grammar: mostly valid and coherent, with edge values in every slot. */
const inv = fc.constantFrom('', '', '', '', '! ');
/** Mostly `good`, sometimes an edge value. */
function pick(good: readonly string[], edge: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...edge) });
}
/** Present one time in three. */
function sometimes(a: fc.Arbitrary<string>): fc.Arbitrary<string | null> {
  return fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: a });
}
const addrVal = pick(
  ['10.0.0.1', '10.0.0.0/8', '172.30.0.0/16', '10.0.0.1/32', '0.0.0.0/0', '255.255.255.255', '0.0.0.0', '1.2.3.4/0'],
  ['010.1.1.1', '10.01.1.1', '10.1', '1.2.3.4/08', '1.2.3.4/0x8', '1.2.3.4/33', '1.2.3.4/255.0.0.0', '256.0.0.1', '1.2.3.4,5.6.7.8', '"1.2.3.4"'],
);
const portVal = pick(['80', '0', '65535', '1:1024', '0:65535', '0:80', '80:65535', '5:5'], ['90:80', '080', '0x50', '65536', 'http', ':80', '80:', '1:2:3']);
const ifaceVal = pick(['eth0', 'eth+', '+', 'lo', 'abcdefghijklmno'], ['abcdefghijklmnop', '""', '"a b"', 'e\u00e9']);
const commentVal = pick(
  ['x', '"scale/s0:p cluster IP"', '""', '"a b"', `"${'c'.repeat(255)}"`],
  [`"${'c'.repeat(256)}"`, `"${'c'.repeat(1100)}"`, '"tab\there"', '"\u00e9"', '"a\\"b"', 'a"b"', '"a"b'],
);
const probVal = pick(['0.5', '0.1000000000', '0.3333333333', '1', '0', '1.', '.5'], ['1.0000000001', '0.5e0', '0x0.8', '-0.5', '+0.5', '1..5', '.']);
const natVal = pick(['10.0.0.1:8080', '10.0.0.1', '10.0.0.1:0'], ['0.0.0.0:80', '0.0.0.0', '10.0.0.1:080', '10.0.0.1:65536', '010.0.0.1:80', '10.0.0.1-10.0.0.2', '10.0.0.1:80-81', ':80', '10.0.0.1:http']);
const chainVal = pick(['KUBE-SEP-7FJLQVN5IJWMIAQV', 'KUBE-MARK-MASQ', 'X'], ['INPUT', 'OUTPUT', 'PREROUTING', 'CONTINUE', 'MARK', 'TEE', 'A2345678901234567890123456789', '"X"', 'X\tY']);
const targetVal = fc.oneof(
  fc.tuple(fc.constantFrom('', '', '', '', '! '), fc.constantFrom('-j', '-j', '-g'), chainVal).map(([i, j, c]) => `${i}${j} ${c}`),
  fc.constantFrom('-j ACCEPT', '-j DROP', '-j RETURN', '-j QUEUE', '-j REJECT', '-j REJECT --reject-with tcp-reset', '-j DNAT', '-j DNAT --random'),
  natVal.map((v) => `-j DNAT --to-destination ${v}`),
);
const componentsArb = fc
  .constantFrom('tcp', 'tcp', 'tcp', 'udp', 'udp', 'sctp', 'icmp', 'TCP', '6', 'all')
  .chain((proto) =>
    fc.record({
      s: fc.option(fc.tuple(inv, addrVal).map(([i, v]) => `${i}-s ${v}`)),
      d: fc.option(fc.tuple(inv, addrVal).map(([i, v]) => `${i}-d ${v}`)),
      p: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', '', '', '', '! '), fc.constant(proto)).map(([i, v]) => `${i}-p ${v}`) }),
      i: sometimes(fc.tuple(inv, ifaceVal).map(([i, v]) => `${i}-i ${v}`)),
      o: sometimes(fc.tuple(inv, ifaceVal).map(([i, v]) => `${i}-o ${v}`)),
      comment: fc.option(commentVal.map((v) => `-m comment --comment ${v}`)),
      ports: fc.oneof(
        { weight: 1, arbitrary: fc.constant(null) },
        {
          weight: 2,
          arbitrary: fc
            .tuple(
              fc.constantFrom(proto, proto, proto, 'tcp', 'udp'),
              fc.option(fc.tuple(inv, portVal)),
              fc.option(fc.tuple(inv, portVal)),
              fc.constantFrom('', '', '', '', '', '', ' --dport 1', ' -m udp', ' -m tcp'),
            )
            .map(([m, d, sp, extra]) => `-m ${m}${d === null ? '' : ` ${d[0]}--dport ${d[1]}`}${sp === null ? '' : ` ${sp[0]}--sport ${sp[1]}`}${extra}`),
        },
      ),
      statistic: fc.option(
        fc
          .tuple(fc.constantFrom('random', 'random', 'random', 'random', 'nth'), inv, probVal, fc.constantFrom('', '', '', '', '', ' --mode random', ' --every 2'))
          .map(([m, i, p, extra]) => `-m statistic --mode ${m} ${i}--probability ${p}${extra}`),
      ),
      target: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 4, arbitrary: targetVal }),
      tail: fc.constantFrom(null, null, null, null, null, null, null, null, null, null, null, null, '!', '-s 1.2.3.4', '-j ACCEPT', '--', '-c 1 2', '-f'),
    }),
  )
  .chain((r) => {
    const present = Object.values(r).filter((v): v is string => v !== null);
    return fc.shuffledSubarray(present, { maxLength: Math.min(5, present.length) });
  });
const structuredRuleArb = fc
  .tuple(fc.constantFrom('KUBE-SEP-7FJLQVN5IJWMIAQV', 'X', 'X', 'X', 'X', 'INPUT', 'OUTPUT', 'PREROUTING', 'POSTROUTING', 'FORWARD'), componentsArb, fc.constantFrom(' ', ' ', ' ', ' ', ' ', ' ', '  ', '\t'))
  .map(([chain, parts, sep]) => ['-A', chain, ...parts].join(sep));

const declArb = fc
  .tuple(chainTok, fc.constantFrom(' - [0:0]', ' -', ' ACCEPT [1:2]', ' DROP', ' - garbage', '\t- [0:0]', ' -x', '', '  -  [0:0]'))
  .map(([name, rest]) => `:${name}${rest}`);

const textArb = fc
  .tuple(
    fc.constantFrom('filter', 'nat', 'mangle', 'raw'),
    fc.array(fc.oneof({ weight: 4, arbitrary: ruleLineArb }, { weight: 4, arbitrary: mutatedKubeLineArb }, { weight: 2, arbitrary: declArb }, fc.constantFrom('', '#c', 'COMMIT', '*nat')), {
      maxLength: 10,
    }),
    fc.constantFrom('COMMIT\n', 'COMMIT', ''),
  )
  .map(([table, lines, end]) => `*${table}\n${lines.map((l) => `${l}\n`).join('')}${end}`);

describe('parseRestore fast path = general path', () => {
  test.prop([textArb])('generated restore texts: same document or same error', (text) => {
    same(text);
  });

  test.prop([fc.constantFrom('filter', 'nat', 'mangle', 'raw'), fc.array(structuredRuleArb, { minLength: 1, maxLength: 5 })], { numRuns: 1000 })(
    'structured rules with edge values',
    (table, lines) => {
      for (const line of lines) same(`*${table}\n:X - [0:0]\n${line}\nCOMMIT\n`);
    },
  );

  it('the structured generator exercises both the fast path and the hand-over', () => {
    const fp = new FastLineParser();
    let fast = 0;
    let valid = 0;
    const lines = fc.sample(structuredRuleArb, { numRuns: 2000, seed: 5 });
    for (const [k, line] of lines.entries()) {
      const text = `*nat\n:X - [0:0]\n${line}\nCOMMIT\n`;
      if (fp.appendRule(line, 0, line.length, 'nat', k + 1, null) !== null) fast++;
      if (outcome(text, {}, false).ok) valid++;
    }
    expect(fast).toBeGreaterThan(lines.length * 0.15);
    expect(valid).toBeGreaterThan(fast);
    expect(valid).toBeLessThan(lines.length * 0.9);
  });

  test.prop([fc.constantFrom('filter', 'nat', 'mangle', 'raw'), mutatedKubeLineArb])('kube-proxy-shaped lines with one token changed', (table, line) => {
    same(`*${table}\n:KUBE-SEP-7FJLQVN5IJWMIAQV - [0:0]\n${line}\nCOMMIT\n`);
  });

  test.prop([savedTableArb()])('iptables-save output of random tables', (table) => {
    same(printSave([table], { counters: true }));
    same(printSave([table]));
  });

  it('agrees on every corpus file', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.rules') || f.endsWith('.save'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) same(readFileSync(join(CORPUS, f), 'utf8'));
  });

  it('agrees on a kube-proxy text with many services (interning, declaration-order guesses)', () => {
    const lines = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
    const rules: string[] = [];
    for (let i = 0; i < 40; i++) {
      const svc = `KUBE-SVC-${String(i).padStart(16, 'S')}`;
      lines.push(`:${svc} - [0:0]`);
      rules.push(`-A KUBE-SERVICES -m comment --comment "ns/s${i}:p cluster IP" -m tcp -p tcp -d 172.30.0.${i} --dport 80 -j ${svc}`);
      rules.push(`-A ${svc} -m comment --comment "ns/s${i}:p cluster IP" -m tcp -p tcp -d 172.30.0.${i} --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ`);
      const n = (i % 4) + 1;
      for (let j = 0; j < n; j++) {
        const sep = `KUBE-SEP-${String(i * 10 + j).padStart(16, 'E')}`;
        lines.push(`:${sep} - [0:0]`);
        rules.push(
          j < n - 1
            ? `-A ${svc} -m statistic --mode random --probability ${(1 / (n - j)).toFixed(10)} -j ${sep}`
            : `-A ${svc} -j ${sep}`,
        );
      }
      for (let j = 0; j < n; j++) {
        const sep = `KUBE-SEP-${String(i * 10 + j).padStart(16, 'E')}`;
        rules.push(`-A ${sep} -s 10.128.${i}.${j} -j KUBE-MARK-MASQ`);
        rules.push(`-A ${sep} -m tcp -p tcp -j DNAT --to-destination 10.128.${i}.${j}:8080`);
      }
    }
    const text = [...lines, ...rules, '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000', 'COMMIT', ''].join('\n');
    same(text);
    // and the fast path really read it: the strings it returns are shared, not re-read per line
    const doc = parseRestoreWith(text, {}, true);
    const cmds = doc.blocks[0]?.commands ?? [];
    expect(cmds.length).toBe(rules.length + 1);
  });

  it('agrees on hand-picked edge lines', () => {
    const edges: [string, string][] = [
      ['nat', '-A X -p tcp -j DNAT --to-destination 0.0.0.0:80'],
      ['nat', '-A X -p tcp -j DNAT --to-destination 0.0.0.0'],
      ['nat', '-A X -j DNAT --to-destination 10.0.0.1:80'],
      ['nat', '-A X -j DNAT --to-destination 10.0.0.1:80 -p tcp'],
      ['nat', '! -p tcp -A X -j DNAT --to-destination 10.0.0.1:80'],
      ['nat', '-A X ! -p tcp -j DNAT --to-destination 10.0.0.1:80'],
      ['nat', '-A X -p icmp -j DNAT --to-destination 10.0.0.1:80'],
      ['nat', '-A INPUT -p tcp -j DNAT --to-destination 10.0.0.1:80'],
      ['nat', '-A X -j DNAT'],
      ['nat', '-A X -j DROP'],
      ['filter', '-A X -j DNAT --to-destination 10.0.0.1'],
      ['filter', '-A X -p tcp -m tcp --dport 90:80'],
      ['filter', '-A X -p udp -m udp --dport 90:80'],
      ['filter', '-A X -p tcp -m tcp --dport 80 -m tcp'],
      ['filter', '-A X -p tcp -m tcp -m tcp --dport 80'],
      ['filter', '-A X -m comment --comment a -m comment --comment b'],
      ['filter', '-A X -m comment -m comment --comment a'],
      ['filter', '-A X -m statistic -m statistic --mode random --probability 0.5'],
      ['filter', '-A X -p tcp -m tcp --dport 80 --dport 81'],
      ['filter', '-A X -p tcp -m tcp --dport 0:65535 --dport 81'],
      ['filter', '-A X -p tcp -m tcp ! --dport 0:65535'],
      ['filter', '-A X -p tcp -m udp --dport 80'],
      ['filter', '-A X -p tcp --dport 80'],
      ['filter', '-A X -p tcp -m tcp -m udp --dport 80'],
      ['filter', '-A X -m statistic --mode random'],
      ['filter', '-A X -m statistic --probability 0.5'],
      ['filter', '-A X -m statistic --mode random --probability 0.5 --probability 0.5'],
      ['filter', '-A OUTPUT -i eth0'],
      ['filter', '-A INPUT -o eth0'],
      ['filter', '-A X -i eth0 -i eth1'],
      ['filter', '-A X -s 1.2.3.4 -s 1.2.3.4'],
      ['filter', '-A X -j ACCEPT -j ACCEPT'],
      ['filter', '-A X -g ACCEPT'],
      ['filter', '-A X -j INPUT'],
      ['filter', '-A X -j CONTINUE'],
      ['filter', '-A X -j REJECT'],
      ['filter', '-A INPUT -j REJECT'],
      ['nat', '-A X -j REJECT'],
      ['filter', '-A X !'],
      ['filter', '-A X ! ! -s 1.2.3.4'],
      ['filter', '-A X ! -m comment --comment x'],
      ['filter', '-A X -m comment ! --comment x'],
      ['filter', `-A X -m comment --comment "${'c'.repeat(300)}"`],
      ['filter', `-A X -m comment --comment ${'c'.repeat(1024)}`],
      ['filter', `-A ${'C'.repeat(29)} -j ACCEPT`],
      ['filter', `-A X -j ${'C'.repeat(29)}`],
      ['filter', '-A X -i eth0\t-j ACCEPT'],
      ['filter', '-A X\t-j ACCEPT'],
      ['filter', '-A X -j ACCEPT\r'],
      ['filter', '-A X -m comment --comment "a\tb"'],
      ['filter', '-A X -m comment --comment "a"b'],
      ['filter', '-A X -m comment --comment a"b"'],
      ['filter', '-A X -m comment --comment "a\\"b"'],
    ];
    for (const [table, line] of edges) same(`*${table}\n:X - [0:0]\n${line}\nCOMMIT\n`);
  });

  it('agrees on repeated identical lines with counter prefixes and on lines without spaces', () => {
    same('*filter\n:X - [0:0]\n[1:1] -A X -j ACCEPT\n[1:1] -A X -j ACCEPT\n[2:2]  -A X -s 1.2.3.4 -j DROP\nCOMMIT\n');
    same('*filter\n:X - [0:0]\n-A\n-AX\n:Y\n-A X\n-A X -j\n-A X -p\nCOMMIT\n');
    same(`*filter\n${':C - [0:0]\n'.repeat(50)}${'-X\n'.repeat(50)}COMMIT`);
  });
});
