/**
 * `iptables …` command lines as found in shell scripts.
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import type { TableCommand, TableName } from '../../netfilter/ast.js';
import type { IptablesToken } from './lex.js';
import { parseArgs } from './rule.js';

const FN = 'io.iptables.parseIptablesCommand';

/**
 * Splits a command line into words the way a POSIX shell does for a simple
 * command without expansions: blanks separate words; single quotes keep
 * everything literal; inside double quotes a backslash escapes `"`, `\`,
 * `$` and `` ` ``; outside quotes a backslash escapes any character; an
 * unquoted `#` at the start of a word starts a comment. Parameter/command
 * expansion and operators (`$x`, `` `…` ``, `;`, `|`, `&`, `<`, `>`) are
 * refused: lbsim does not run a shell.
 *
 * @throws {ParseError} on unterminated quotes or unsupported shell syntax
 */
export function splitShellWords(line: string, fn = 'io.iptables.splitShellWords', lineNumber = 1): IptablesToken[] {
  const out: IptablesToken[] = [];
  let buf = '';
  // one mutable record: closures below update it
  const w = { inWord: false, quoted: false, start: 0 };
  const fail = (msg: string, i: number): never => {
    throw new ParseError(`lbsim/${fn}: ${msg}`, line, lineNumber, i + 1);
  };
  const begin = (i: number): void => {
    if (!w.inWord) {
      w.inWord = true;
      w.start = i;
    }
  };
  const end = (): void => {
    if (w.inWord) out.push({ text: buf, column: w.start + 1, quoted: w.quoted });
    buf = '';
    w.inWord = false;
    w.quoted = false;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      end();
      i++;
      continue;
    }
    if (c === '#' && !w.inWord) break;
    if (c === "'") {
      begin(i);
      w.quoted = true;
      const close = line.indexOf("'", i + 1);
      if (close < 0) fail('unterminated single quote', i);
      buf += line.slice(i + 1, close);
      i = close + 1;
      continue;
    }
    if (c === '"') {
      begin(i);
      w.quoted = true;
      let j = i + 1;
      for (;;) {
        if (j >= line.length) fail('unterminated double quote', i);
        const d = line[j] as string;
        if (d === '"') break;
        if (d === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1] as string)) {
          if (line[j + 1] !== '\n') buf += line[j + 1] as string;
          j += 2;
          continue;
        }
        if (d === '`' || (d === '$' && j + 1 < line.length && /[A-Za-z0-9_{(@*#?$!-]/.test(line[j + 1] as string))) {
          fail('shell expansions are not supported', j);
        }
        buf += d;
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === '\\') {
      begin(i);
      if (i + 1 < line.length) {
        if (line[i + 1] !== '\n') buf += line[i + 1] as string;
        i += 2;
      } else {
        i++;
      }
      continue;
    }
    if (';|&<>'.includes(c)) fail(`shell operator "${c}" is not supported`, i);
    if (c === '`' || (c === '$' && i + 1 < line.length && /[A-Za-z0-9_{(@*#?$!-]/.test(line[i + 1] as string))) {
      fail('shell expansions are not supported', i);
    }
    begin(i);
    buf += c;
    i++;
  }
  end();
  return out;
}

const PROGRAMS = /^(?:.*\/)?(?:iptables|iptables-legacy|iptables-nft)$/;

/**
 * Parses one `iptables` command line, e.g.
 * `iptables -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 -j KUBE-SVC-X`
 * (the leading `iptables`, `iptables-legacy`, `iptables-nft` or a path to
 * one is optional). Words are split as a shell would ({@link splitShellWords}).
 * The table is `filter` unless `-t` says otherwise. Besides the commands,
 * `-w`/`-W` (waiting), `-v` and `--modprobe` are accepted and ignored.
 *
 * @param line - the command line
 * @param lineNumber - line number to report in errors (for scripts)
 * @returns the table and the command
 * @throws {ParseError} with the column of the offending word
 */
export function parseIptablesCommand(line: string, lineNumber = 1): { table: TableName; command: TableCommand } {
  let words = splitShellWords(line, FN, lineNumber);
  const first = words[0];
  if (first !== undefined && PROGRAMS.test(first.text)) words = words.slice(1);
  if (words.length === 0) throw new ParseError(`lbsim/${FN}: no command specified`, line, lineNumber, 1);
  const parsed = parseArgs(words, { fn: FN, input: line, line: lineNumber, mode: 'command', table: 'filter', prefixCounters: null });
  if (parsed.ignored) throw new ParseError(`lbsim/${FN}: -6 (IPv6) is not valid for iptables`, line, lineNumber, 1);
  return { table: parsed.table, command: parsed.command };
}
