import { InvalidArgumentError } from '../errors.js';
import { formatIPv4 } from '../net/ipv4.js';
import type { AddrMatch, MatchSpec, PortRangeMatch, RestoreDocument, RuleSpec, TableCommand, TargetSpec } from '../netfilter/ast.js';
import { CtStateBit } from '../netfilter/ast.js';
import { probabilityFraction, probabilityString, formatFixedGo } from './iptables-rules.js';
import { utf8Length } from '../io/iptables/lex.js';

/**
 * The `iptables-restore` input text kube-proxy writes, from the netfilter
 * AST: `*table`, `:CHAIN - [0:0]` lines, `-A` lines in kube-proxy's own
 * argument order (`-m comment --comment … -m tcp -p tcp -d … --dport … -j …`,
 * as `pkg/proxy/iptables/proxier.go` and `pkg/proxy/ipvs/proxier.go` build
 * them with `LineBuffer.Write`), `-X CHAIN` and `COMMIT`. This is the text
 * whose size kube-proxy pipes into `iptables-restore` on every sync, so it is
 * what lbsim counts as "bytes of restore text". It covers the match modules
 * and targets kube-proxy emits; anything else is refused.
 *
 * @module
 */

const WHERE = 'lbsim/kube.restoreText';

/** UTF-8 length of a string (what `len([]byte(s))` is in Go). */
export const utf8ByteLength: (s: string) => number = utf8Length;

/** kube-proxy quotes comments itself (`fmt.Sprintf(`"%s …"`)`); bare names such as `ns/svc:port` go unquoted. */
function quoteComment(text: string): string {
  return text === '' || /\s/.test(text) ? `"${text}"` : text;
}

const PROTO_NAMES = new Map<number, string>([
  [6, 'tcp'],
  [17, 'udp'],
  [132, 'sctp'],
  [1, 'icmp'],
]);

function protoName(p: number): string {
  return PROTO_NAMES.get(p) ?? String(p);
}

function addr(a: AddrMatch): string {
  if (a.mask === 0xffffffff) return formatIPv4(a.addr);
  let len = 0;
  let m = a.mask >>> 0;
  while (m & 0x80000000) {
    len++;
    m = (m << 1) >>> 0;
  }
  return m === 0 ? `${formatIPv4(a.addr)}/${len}` : `${formatIPv4(a.addr)}/${formatIPv4(a.mask)}`;
}

function pushAddr(out: string[], flag: string, a: AddrMatch | undefined): void {
  if (a === undefined) return;
  if (a.invert) out.push('!');
  out.push(flag, addr(a));
}

function ports(r: PortRangeMatch): string {
  return r.min === r.max ? String(r.min) : `${r.min}:${r.max}`;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** Conntrack states in the order kube-proxy spells them (`RELATED,ESTABLISHED,DNAT`). */
const CT_ORDER: readonly [string, number][] = [
  ['INVALID', CtStateBit.INVALID],
  ['NEW', CtStateBit.NEW],
  ['RELATED', CtStateBit.RELATED],
  ['ESTABLISHED', CtStateBit.ESTABLISHED],
  ['UNTRACKED', CtStateBit.UNTRACKED],
  ['SNAT', CtStateBit.SNAT],
  ['DNAT', CtStateBit.DNAT],
];

function ctStates(bits: number): string {
  return CT_ORDER.filter(([, b]) => (bits & b) !== 0)
    .map(([n]) => n)
    .join(',');
}

/** The `--probability` text kube-proxy wrote for a stored fraction: `probabilityString(n)` for the n that gives it. */
function probabilityText(fraction: number): string {
  if (fraction > 0) {
    const guess = Math.round(0x80000000 / fraction);
    for (const n of [guess, guess - 1, guess + 1]) {
      if (n >= 1 && probabilityFraction(n) === fraction) return probabilityString(n);
    }
  }
  return formatFixedGo(fraction / 0x80000000, 10);
}

const ADDR_TYPE_NAMES: readonly [number, string][] = [
  [1 << 0, 'UNSPEC'],
  [1 << 1, 'UNICAST'],
  [1 << 2, 'LOCAL'],
  [1 << 3, 'BROADCAST'],
  [1 << 4, 'ANYCAST'],
  [1 << 5, 'MULTICAST'],
  [1 << 6, 'BLACKHOLE'],
  [1 << 7, 'UNREACHABLE'],
  [1 << 8, 'PROHIBIT'],
  [1 << 9, 'THROW'],
  [1 << 10, 'NAT'],
  [1 << 11, 'XRESOLVE'],
];

function addrTypes(bits: number): string {
  return ADDR_TYPE_NAMES.filter(([b]) => (bits & b) !== 0)
    .map(([, n]) => n)
    .join(',');
}

function isL4(m: MatchSpec): m is Extract<MatchSpec, { module: 'tcp' | 'udp' | 'sctp' }> {
  return m.module === 'tcp' || m.module === 'udp' || m.module === 'sctp';
}

function pushMatch(out: string[], m: MatchSpec): void {
  switch (m.module) {
    case 'comment':
      out.push('-m', 'comment', '--comment', quoteComment(m.comment));
      return;
    case 'statistic':
      if (m.mode !== 'random') break;
      out.push('-m', 'statistic', '--mode', 'random');
      if (m.invert) out.push('!');
      out.push('--probability', probabilityText(m.probability));
      return;
    case 'recent':
      // kube-proxy: `-m recent --name KUBE-SEP-… --rcheck --seconds 10800 --reap` / `… --set`
      out.push('-m', 'recent', '--name', m.name);
      if (m.side === 'dest') out.push('--rdest');
      if (m.invert) out.push('!');
      out.push(`--${m.command}`);
      if (m.seconds !== 0) out.push('--seconds', String(m.seconds));
      if (m.reap) out.push('--reap');
      if (m.hitcount !== 0) out.push('--hitcount', String(m.hitcount));
      if (m.rttl) out.push('--rttl');
      return;
    case 'mark':
      out.push('-m', 'mark');
      if (m.invert) out.push('!');
      out.push('--mark', m.mask === 0xffffffff ? hex(m.value) : `${hex(m.value)}/${hex(m.mask)}`);
      return;
    case 'conntrack':
      if (m.ctstate === undefined) break;
      out.push('-m', 'conntrack');
      if (m.ctstate.invert) out.push('!');
      out.push('--ctstate', ctStates(m.ctstate.states));
      return;
    case 'addrtype':
      out.push('-m', 'addrtype');
      if (m.srcType !== undefined) {
        if (m.srcType.invert) out.push('!');
        out.push('--src-type', addrTypes(m.srcType.types));
      }
      if (m.dstType !== undefined) {
        if (m.dstType.invert) out.push('!');
        out.push('--dst-type', addrTypes(m.dstType.types));
      }
      return;
    case 'nfacct':
      out.push('-m', 'nfacct', '--nfacct-name', m.name);
      return;
    case 'set':
      out.push('-m', 'set');
      if (m.invert) out.push('!');
      out.push('--match-set', m.setName, m.dirs.join(','));
      return;
    default:
      break;
  }
  throw new InvalidArgumentError(`${WHERE}: match module ${m.module} is not one kube-proxy writes`);
}

function pushTarget(out: string[], t: TargetSpec | null): void {
  if (t === null) return;
  switch (t.kind) {
    case 'standard':
      out.push('-j', t.verdict);
      return;
    case 'jump':
      out.push('-j', t.chain);
      return;
    case 'goto':
      out.push('-g', t.chain);
      return;
    case 'REJECT':
      out.push('-j', 'REJECT');
      if (t.rejectWith !== 'icmp-port-unreachable') out.push('--reject-with', t.rejectWith);
      return;
    case 'DNAT': {
      out.push('-j', 'DNAT');
      const r = t.range;
      if (r !== null) {
        let s = formatIPv4(r.minAddr);
        if (r.maxAddr !== r.minAddr) s += `-${formatIPv4(r.maxAddr)}`;
        if (r.hasPorts) s += r.minPort === r.maxPort ? `:${r.minPort}` : `:${r.minPort}-${r.maxPort}`;
        out.push('--to-destination', s);
      }
      return;
    }
    case 'MASQUERADE':
      out.push('-j', 'MASQUERADE');
      if (t.ports !== null) out.push('--to-ports', t.ports.min === t.ports.max ? String(t.ports.min) : `${t.ports.min}-${t.ports.max}`);
      if (t.random) out.push('--random');
      if (t.randomFully) out.push('--random-fully');
      return;
    case 'MARK':
      out.push('-j', 'MARK');
      // xt_MARK stores every form as xmark: --or-mark v = v/v, --xor-mark v = v/0
      if (t.mask === 0) out.push('--xor-mark', hex(t.value));
      else if (t.mask === t.value) out.push('--or-mark', hex(t.value));
      else out.push('--set-xmark', `${hex(t.value)}/${hex(t.mask)}`);
      return;
    default:
      throw new InvalidArgumentError(`${WHERE}: target ${t.kind} is not one kube-proxy writes`);
  }
}

/**
 * One `-A CHAIN …` line as kube-proxy writes it. The argument order follows
 * kube-proxy's `Write` calls: leading comments, the protocol module with
 * `-d` and `--dport`, then `-s`/`-i` (the local-traffic detector goes
 * after the port), other matches in order, the target. Rules without a
 * port match put `-d`/`-s` after the comment, or after the addrtype/set
 * matches when those are all there is (the NodePort tail rule). Byte
 * counts do not depend on this order.
 *
 * @throws {InvalidArgumentError} for matches or targets kube-proxy never writes
 */
export function kubeProxyRuleLine(chain: string, spec: RuleSpec): string {
  const out: string[] = ['-A', chain];
  const m = spec.matches;
  const l4Index = m.findIndex(isL4);
  if (spec.proto !== undefined && spec.proto.proto !== 0 && l4Index < 0) {
    if (spec.proto.invert) out.push('!');
    out.push('-p', protoName(spec.proto.proto));
  }
  let i = 0;
  while (i < m.length && m[i]!.module === 'comment') pushMatch(out, m[i++]!);
  const pushSrc = (): void => {
    pushAddr(out, '-s', spec.src);
    if (spec.inIface !== undefined) {
      if (spec.inIface.invert) out.push('!');
      out.push('-i', spec.inIface.name);
    }
    if (spec.outIface !== undefined) {
      if (spec.outIface.invert) out.push('!');
      out.push('-o', spec.outIface.name);
    }
  };
  if (l4Index < 0) {
    const rest = m.slice(i);
    const trailing = rest.length > 0 && rest.every((x) => x.module === 'addrtype' || x.module === 'set');
    if (!trailing) {
      pushAddr(out, '-d', spec.dst);
      pushSrc();
    }
    for (; i < m.length; i++) pushMatch(out, m[i]!);
    if (trailing) {
      pushAddr(out, '-d', spec.dst);
      pushSrc();
    }
  } else {
    for (; i < m.length; i++) {
      const x = m[i]!;
      if (!isL4(x)) {
        pushMatch(out, x);
        continue;
      }
      const p = spec.proto?.proto ?? (x.module === 'tcp' ? 6 : x.module === 'udp' ? 17 : 132);
      out.push('-m', x.module);
      if (spec.proto?.invert === true) out.push('!');
      out.push('-p', protoName(p));
      pushAddr(out, '-d', spec.dst);
      if (x.sport !== undefined) {
        if (x.sport.invert) out.push('!');
        out.push('--sport', ports(x.sport));
      }
      if (x.dport !== undefined) {
        if (x.dport.invert) out.push('!');
        out.push('--dport', ports(x.dport));
      }
      pushSrc();
    }
  }
  pushTarget(out, spec.target);
  return out.join(' ');
}

function commandLine(c: TableCommand): string {
  switch (c.op) {
    case 'append':
      return kubeProxyRuleLine(c.chain, c.rule);
    case 'deleteChain':
      return c.chain === null ? '-X' : `-X ${c.chain}`;
    case 'flush':
      return c.chain === null ? '-F' : `-F ${c.chain}`;
    case 'newChain':
      return `-N ${c.chain}`;
    default:
      throw new InvalidArgumentError(`${WHERE}: command ${c.op} is not one kube-proxy writes`);
  }
}

/**
 * Calls `line` for every line of a restore document, in order, without
 * building the whole text (a 10k-service table is tens of megabytes).
 */
export function forEachRestoreLine(doc: RestoreDocument, line: (text: string) => void): void {
  for (const b of doc.blocks) {
    line(`*${b.table}`);
    for (const c of b.chains) line(`:${c.name} ${c.policy ?? '-'} [${c.counters?.packets ?? 0}:${c.counters?.bytes ?? 0}]`);
    for (const c of b.commands) line(commandLine(c));
    line('COMMIT');
  }
}

/**
 * The whole `iptables-restore` input kube-proxy would write for `doc`, each
 * line ending in `\n`.
 *
 * @throws {InvalidArgumentError} for matches, targets or commands kube-proxy never writes
 */
export function kubeProxyRestoreText(doc: RestoreDocument): string {
  const lines: string[] = [];
  forEachRestoreLine(doc, (l) => lines.push(l));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Bytes of `-A <chain> …` minus the chain name's bytes, per rule spec (the
 * rest of the line does not depend on the chain). AST values are readonly,
 * and kube-proxy's rule cache reuses them between syncs.
 */
const LINE_BYTES = new WeakMap<RuleSpec, number>();

/**
 * Bytes of the `-A chain …` line {@link kubeProxyRuleLine} prints, without
 * its newline (the chain-independent part is remembered per rule spec).
 *
 * @throws {InvalidArgumentError} as {@link kubeProxyRuleLine}
 */
export function kubeProxyAppendLineBytes(chain: string, rule: RuleSpec): number {
  let n = LINE_BYTES.get(rule);
  if (n === undefined) {
    n = utf8ByteLength(kubeProxyRuleLine('', rule));
    LINE_BYTES.set(rule, n);
  }
  return n + utf8ByteLength(chain);
}

/**
 * The size in bytes of {@link kubeProxyRestoreText} without materialising it
 * (the `-A` lines are sized once per rule spec and remembered).
 *
 * @throws {InvalidArgumentError} as {@link kubeProxyRestoreText}
 */
export function kubeProxyRestoreBytes(doc: RestoreDocument): number {
  let n = 0;
  for (const b of doc.blocks) {
    n += utf8ByteLength(b.table) + 2; // `*table\n`
    for (const c of b.chains) n += utf8ByteLength(`:${c.name} ${c.policy ?? '-'} [${c.counters?.packets ?? 0}:${c.counters?.bytes ?? 0}]`) + 1;
    for (const c of b.commands) n += (c.op === 'append' ? kubeProxyAppendLineBytes(c.chain, c.rule) : utf8ByteLength(commandLine(c))) + 1;
    n += 7; // `COMMIT\n`
  }
  return n;
}
