// Test-only reader for the restore lines kube-proxy writes (and upstream tests expect), so expectations can be
// quoted verbatim from pkg/proxy/iptables/proxier_test.go. It knows exactly the options kube-proxy uses and is
// written independently of src/kube/iptables-rules.ts (it parses text; the generator builds from the model).
import { parseCidr } from '../../src/net/ipv4.js';
import { AddrTypeBit, CtStateBit } from '../../src/netfilter/ast.js';
import type { AddrMatch, MatchSpec, RuleSpec, SavedTable, TargetSpec } from '../../src/netfilter/ast.js';

function split(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (const ch of line) {
    if (ch === '"') {
      inQuote = !inQuote;
      has = true;
    } else if (ch === ' ' && !inQuote) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

const addr = (text: string, invert: boolean): AddrMatch => {
  const c = parseCidr(text);
  return { addr: c.address, mask: c.mask, invert };
};

const PROTO: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const CT: Record<string, number> = {
  INVALID: CtStateBit.INVALID,
  ESTABLISHED: CtStateBit.ESTABLISHED,
  RELATED: CtStateBit.RELATED,
  NEW: CtStateBit.NEW,
  DNAT: CtStateBit.DNAT,
};

/** Parses one `-A CHAIN …` line into its chain and rule. `probability` values become the kernel fraction. */
export function parseRuleLine(line: string): { chain: string; rule: RuleSpec } {
  const t = split(line.trim());
  if (t[0] !== '-A') throw new Error(`not an append: ${line}`);
  const chain = t[1]!;
  const rule: {
    src?: AddrMatch;
    dst?: AddrMatch;
    inIface?: { name: string; invert: boolean };
    proto?: { proto: number; invert: boolean };
    matches: MatchSpec[];
    target: TargetSpec | null;
  } = { matches: [], target: null };
  let i = 2;
  let invert = false;
  const next = (): string => t[i++]!;
  const current = (): MatchSpec => rule.matches[rule.matches.length - 1]!;
  const setCurrent = (m: MatchSpec): void => {
    rule.matches[rule.matches.length - 1] = m;
  };
  while (i < t.length) {
    const tok = next();
    if (tok === '!') {
      invert = true;
      continue;
    }
    switch (tok) {
      case '-s':
        rule.src = addr(next(), invert);
        break;
      case '-d':
        rule.dst = addr(next(), invert);
        break;
      case '-i':
        rule.inIface = { name: next(), invert };
        break;
      case '-p':
        rule.proto = { proto: PROTO[next()]!, invert };
        break;
      case '-m': {
        const mod = next();
        switch (mod) {
          case 'comment':
            rule.matches.push({ module: 'comment', comment: '' });
            break;
          case 'tcp':
          case 'udp':
          case 'sctp':
            rule.matches.push({ module: mod });
            break;
          case 'statistic':
            rule.matches.push({ module: 'statistic', mode: 'random', probability: -1, invert: false });
            break;
          case 'recent':
            rule.matches.push({
              module: 'recent',
              command: 'set',
              name: 'DEFAULT',
              side: 'source',
              seconds: 0,
              reap: false,
              hitcount: 0,
              rttl: false,
              mask: 0xffffffff,
              invert: false,
            });
            break;
          case 'addrtype':
            rule.matches.push({ module: 'addrtype', limitIfaceIn: false, limitIfaceOut: false });
            break;
          case 'conntrack':
            rule.matches.push({ module: 'conntrack' });
            break;
          case 'mark':
            rule.matches.push({ module: 'mark', value: 0, mask: 0, invert: false });
            break;
          case 'nfacct':
            rule.matches.push({ module: 'nfacct', name: '' });
            break;
          default:
            throw new Error(`module ${mod}`);
        }
        break;
      }
      case '--comment':
        setCurrent({ module: 'comment', comment: next() });
        break;
      case '--dport': {
        const p = Number(next());
        const m = current() as { module: 'tcp' | 'udp' | 'sctp' };
        setCurrent({ ...m, dport: { min: p, max: p, invert } });
        break;
      }
      case '--mode':
        next();
        break;
      case '--probability':
        setCurrent({ module: 'statistic', mode: 'random', probability: Math.round(Number(next()) * 0x80000000), invert: false });
        break;
      case '--name': {
        const m = current();
        if (m.module === 'recent') setCurrent({ ...m, name: next() });
        else throw new Error('--name');
        break;
      }
      case '--rcheck':
      case '--set': {
        const m = current();
        if (m.module === 'recent') setCurrent({ ...m, command: tok === '--set' ? 'set' : 'rcheck' });
        break;
      }
      case '--seconds': {
        const m = current();
        if (m.module === 'recent') setCurrent({ ...m, seconds: Number(next()) });
        break;
      }
      case '--reap': {
        const m = current();
        if (m.module === 'recent') setCurrent({ ...m, reap: true });
        break;
      }
      case '--dst-type':
      case '--src-type': {
        const m = current();
        const types = { types: AddrTypeBit[next() as 'LOCAL'], invert };
        if (m.module === 'addrtype') setCurrent(tok === '--dst-type' ? { ...m, dstType: types } : { ...m, srcType: types });
        break;
      }
      case '--ctstate': {
        const states = next()
          .split(',')
          .reduce((acc, s) => acc | CT[s]!, 0);
        setCurrent({ module: 'conntrack', ctstate: { states, invert } });
        break;
      }
      case '--mark': {
        const [v, m] = next().split('/');
        const value = Number(v);
        setCurrent({ module: 'mark', value, mask: m === undefined ? 0xffffffff : Number(m), invert });
        break;
      }
      case '--nfacct-name':
        setCurrent({ module: 'nfacct', name: next() });
        break;
      case '-j': {
        const target = next();
        if (target === 'ACCEPT' || target === 'DROP' || target === 'RETURN') rule.target = { kind: 'standard', verdict: target };
        else if (target === 'REJECT') rule.target = { kind: 'REJECT', rejectWith: 'icmp-port-unreachable' };
        else if (target === 'MASQUERADE') rule.target = { kind: 'MASQUERADE', ports: null, random: false, randomFully: false };
        else if (target === 'MARK') rule.target = { kind: 'MARK', value: 0, mask: 0 };
        else if (target === 'DNAT') rule.target = { kind: 'DNAT', range: null, random: false, persistent: false };
        else rule.target = { kind: 'jump', chain: target };
        break;
      }
      case '--random-fully':
        if (rule.target?.kind === 'MASQUERADE') rule.target = { ...rule.target, randomFully: true };
        break;
      case '--or-mark': {
        const v = Number(next());
        rule.target = { kind: 'MARK', value: v, mask: v };
        break;
      }
      case '--xor-mark': {
        const v = Number(next());
        rule.target = { kind: 'MARK', value: v, mask: 0 };
        break;
      }
      case '--to-destination': {
        const [ip, port] = next().split(':');
        const a = parseCidr(ip!).address;
        const p = Number(port);
        rule.target = { kind: 'DNAT', range: { minAddr: a, maxAddr: a, hasPorts: true, minPort: p, maxPort: p }, random: false, persistent: false };
        break;
      }
      default:
        throw new Error(`token ${tok} in ${line}`);
    }
    invert = false;
  }
  return { chain, rule };
}

/** Groups `-A` lines by chain (order kept within each chain); `:CHAIN` lines declare chains. */
export function parseRestoreBlock(text: string): { chains: string[]; rules: Map<string, RuleSpec[]> } {
  const chains: string[] = [];
  const rules = new Map<string, RuleSpec[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('*') || line === 'COMMIT') continue;
    if (line.startsWith(':')) {
      chains.push(line.slice(1).split(' ')[0]!);
      continue;
    }
    const { chain, rule } = parseRuleLine(line);
    let list = rules.get(chain);
    if (list === undefined) {
      list = [];
      rules.set(chain, list);
    }
    list.push(rule);
  }
  return { chains, rules };
}

/** The user chains of a saved table with their rules (built-ins and empty undeclared chains left out on request). */
export function userChains(table: SavedTable, omit: readonly string[] = []): Map<string, RuleSpec[]> {
  const out = new Map<string, RuleSpec[]>();
  for (const c of table.chains) {
    if (c.policy !== null || omit.includes(c.name)) continue;
    out.set(
      c.name,
      c.rules.map((r) => r.spec),
    );
  }
  return out;
}

/** A rule of a saved table by chain and index. */
export function ruleAt(table: SavedTable, chain: string, i: number): RuleSpec {
  const c = table.chains.find((x) => x.name === chain);
  if (c === undefined) throw new Error(`no chain ${chain}`);
  const r = c.rules[i];
  if (r === undefined) throw new Error(`no rule ${i} in ${chain}`);
  return r.spec;
}

/** The rules of a chain of a saved table. */
export function rulesOf(table: SavedTable, chain: string): RuleSpec[] {
  return table.chains.find((x) => x.name === chain)?.rules.map((r) => r.spec) ?? [];
}
