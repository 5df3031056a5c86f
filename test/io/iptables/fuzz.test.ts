/**
 * Robustness: whatever the text, the parsers return or throw a ParseError,
 * never anything else (no TypeError, no RangeError, no hang).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { ParseError } from '../../../src/errors.js';
import { parseIptablesCommand, parseRestore, parseRuleLine, printSave, restoreToSavedTables } from '../../../src/io/iptables/index.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const corpusLines = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.rules') || f.endsWith('.save') || f.endsWith('.sh'))
  .flatMap((f) => readFileSync(join(CORPUS, f), 'utf8').split('\n'))
  .filter((l) => l !== '');

function onlyParseErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(e.message).toMatch(/^lbsim\/io\.iptables\./);
  }
}

/** Everything a restore text goes through: parse, and when it parses as a save file, print. */
function exercise(text: string): void {
  onlyParseErrors(() => {
    const doc = parseRestore(text, { counters: true });
    try {
      printSave(restoreToSavedTables(doc));
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
  });
  onlyParseErrors(() => parseRestore(text));
}

const token = fc.oneof(
  fc.constantFrom(
    '-A', '-I', '-D', '-R', '-N', '-X', '-F', '-Z', '-P', '-E', '-s', '-d', '-i', '-o', '-p', '-f', '-j', '-g', '-m', '-c', '!', '--',
    'INPUT', 'KUBE-SVC-X', 'tcp', 'udp', 'icmp', 'all', 'ACCEPT', 'DROP', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE', 'LOG', 'MARK', 'CONNMARK', 'REJECT', 'CT',
    'comment', 'multiport', 'statistic', 'conntrack', 'state', 'addrtype', 'recent', 'set', 'nfacct', 'limit', 'mark',
    '--dport', '--sport', '--dports', '--comment', '--mode', '--probability', '--every', '--packet', '--ctstate', '--mark',
    '--to-destination', '--to-source', '--to-ports', '--set-xmark', '--or-mark', '--log-prefix', '--reject-with', '--name',
    '--rcheck', '--set', '--seconds', '--match-set', '--limit', '--tcp-flags', '--syn', '--icmp-type', '--src-type',
    '"', '""', '"a b"', '\\', '[1:2]', '10.0.0.1/8', '1.2.3.4-1.2.3.9:80-90', '0x4000/0x4000', '80:90', '0.5', 'src,dst',
  ),
  fc.string({ maxLength: 8 }),
);
const lineArb = fc.array(token, { maxLength: 12 }).map((ts) => ts.join(' '));
const fileArb = fc
  .tuple(fc.constantFrom('filter', 'nat', 'mangle', 'raw', 'bogus'), fc.array(fc.oneof(lineArb, fc.constantFrom(':INPUT DROP [1:2]', ':X - [0:0]', 'COMMIT', '#c', '')), { maxLength: 8 }), fc.boolean())
  .map(([t, lines, commit]) => `*${t}\n${lines.join('\n')}\n${commit ? 'COMMIT\n' : ''}`);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom('"', '\\', '!', ' ', ':', '/', ',', '-', '\t', '[', ']', '#', '0x', '\n'), fc.string({ maxLength: 4 })) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
const mutatedLineArb = fc.tuple(fc.constantFrom(...corpusLines), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([line, muts]) => {
  let s = line;
  for (const m of muts) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.len);
    else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else s = s.slice(0, at);
  }
  return s;
});

describe('fuzz: parsers only ever throw ParseError', () => {
  test.prop([fc.string({ maxLength: 300 })])('arbitrary strings', (s) => {
    exercise(s);
    onlyParseErrors(() => parseIptablesCommand(s));
    onlyParseErrors(() => parseRuleLine(s));
  });

  test.prop([fc.string({ unit: 'binary', maxLength: 200 })])('arbitrary unicode', (s) => {
    exercise(`*filter\n${s}\nCOMMIT\n`);
    onlyParseErrors(() => parseRuleLine(`-A INPUT ${s}`));
  });

  test.prop([fileArb])('plausible restore files', (text) => {
    exercise(text);
  });

  test.prop([lineArb])('plausible command lines', (line) => {
    onlyParseErrors(() => parseIptablesCommand(`iptables ${line}`));
    onlyParseErrors(() => parseRuleLine(line));
    exercise(`*filter\n${line}\nCOMMIT\n`);
  });

  test.prop([mutatedLineArb, fc.constantFrom('filter', 'nat', 'mangle', 'raw')])('mutated corpus lines', (line, table) => {
    exercise(`*${table}\n${line}\nCOMMIT\n`);
    onlyParseErrors(() => parseIptablesCommand(line));
  });

  test.prop([fc.stringMatching(/^(-A [A-Z]{1,6}( (!|-[spdiojgm]|--[a-z-]{2,14}) [-a-zA-Z0-9./:,!"]{0,12}){0,6})$/)])('regex-shaped rule lines', (line) => {
    exercise(`*nat\n${line}\nCOMMIT\n`);
  });
});
