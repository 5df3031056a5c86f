import type { IPv4 } from '../net/ipv4.js';

/**
 * The iptables ruleset as data: what `iptables-save` prints and
 * `iptables-restore` reads, parsed into typed values. The text side lives in
 * `src/io/iptables/`, evaluation in `src/netfilter/`. Every option keeps the
 * form the kernel stores (e.g. `statistic` probabilities as the kernel's
 * 31-bit fraction, `MARK` as xmark value/mask), so parse → print is exact.
 *
 * @module
 */

/** The iptables tables lbsim models, in `iptables-save`'s print order for legacy (raw, mangle, nat, filter). */
export type TableName = 'raw' | 'mangle' | 'nat' | 'filter' | 'security';

/** Built-in chain names. */
export type BuiltinChainName = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** Built-in verdicts usable as a policy or a `-j` target. */
export type StandardVerdict = 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE';

/** Packet and byte counters (`[packets:bytes]`). */
export interface Counters {
  packets: number;
  bytes: number;
}

/** `-s`/`-d` and conntrack address options: address and netmask. */
export interface AddrMatch {
  readonly addr: IPv4;
  /** Netmask as uint32 (contiguous for prefixes; iptables also accepts dotted masks). */
  readonly mask: IPv4;
  readonly invert: boolean;
}

/** `-i`/`-o`: an interface name, `+` at the end matches any suffix. */
export interface IfaceMatch {
  readonly name: string;
  readonly invert: boolean;
}

/** A port range `min:max` (`min === max` for a single port). */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/** A port range option with its `!`. */
export interface PortRangeMatch extends PortRange {
  readonly invert: boolean;
}

// ------------------------------------------------------------------ matches

/** `-m tcp` (xt_tcpudp). */
export interface TcpMatch {
  readonly module: 'tcp';
  readonly sport?: PortRangeMatch;
  readonly dport?: PortRangeMatch;
  /** `--tcp-flags mask comp` (`--syn` is `SYN,RST,ACK,FIN SYN`), flag bits as in {@link TcpFlag}. */
  readonly tcpFlags?: { readonly mask: number; readonly comp: number; readonly invert: boolean };
  /** `--tcp-option n`. */
  readonly tcpOption?: { readonly option: number; readonly invert: boolean };
}

/** `-m udp` (xt_tcpudp). */
export interface UdpMatch {
  readonly module: 'udp';
  readonly sport?: PortRangeMatch;
  readonly dport?: PortRangeMatch;
}

/** `-m sctp` (ports only). */
export interface SctpMatch {
  readonly module: 'sctp';
  readonly sport?: PortRangeMatch;
  readonly dport?: PortRangeMatch;
}

/** `-m icmp --icmp-type type[/code]`; type 255 = any, code -1 = any code of the type. */
export interface IcmpMatch {
  readonly module: 'icmp';
  readonly type: number;
  readonly codeMin: number;
  readonly codeMax: number;
  readonly invert: boolean;
}

/** `-m multiport --sports|--dports|--ports [!] list`. */
export interface MultiportMatch {
  readonly module: 'multiport';
  readonly kind: 'sports' | 'dports' | 'ports';
  readonly ports: readonly PortRange[];
  readonly invert: boolean;
}

/** `-m comment --comment text`. */
export interface CommentMatch {
  readonly module: 'comment';
  readonly comment: string;
}

/**
 * `-m statistic`. Random mode keeps the kernel's value: `probability` is the
 * 31-bit fraction `lround(p * 2^31)` (xt_statistic: matches when
 * `(get_random_u32() & 0x7fffffff) < probability`). Nth mode keeps `every`
 * and `packet` as the user wrote them (the kernel stores `every - 1`).
 */
export type StatisticMatch =
  | { readonly module: 'statistic'; readonly mode: 'random'; readonly probability: number; readonly invert: boolean }
  | {
      readonly module: 'statistic';
      readonly mode: 'nth';
      readonly every: number;
      readonly packet: number;
      readonly invert: boolean;
    };

/** `-m mark [!] --mark value[/mask]`. */
export interface MarkMatch {
  readonly module: 'mark';
  readonly value: number;
  readonly mask: number;
  readonly invert: boolean;
}

/** Conntrack state bits as xt_conntrack/xt_state define them. */
export const CtStateBit: {
  readonly INVALID: 1;
  readonly ESTABLISHED: 2;
  readonly RELATED: 4;
  readonly NEW: 8;
  readonly UNTRACKED: 64;
  readonly SNAT: 256;
  readonly DNAT: 512;
} = {
  INVALID: 1,
  ESTABLISHED: 2,
  RELATED: 4,
  NEW: 8,
  UNTRACKED: 64,
  SNAT: 256,
  DNAT: 512,
} as const;

/** Conntrack status bits usable in `--ctstatus`. */
export const CtStatusBit: {
  readonly EXPECTED: 1;
  readonly SEEN_REPLY: 2;
  readonly ASSURED: 4;
  readonly CONFIRMED: 8;
} = {
  EXPECTED: 1,
  SEEN_REPLY: 2,
  ASSURED: 4,
  CONFIRMED: 8,
} as const;

/** `-m conntrack`. */
export interface ConntrackMatch {
  readonly module: 'conntrack';
  /** {@link CtStateBit} bits. */
  readonly ctstate?: { readonly states: number; readonly invert: boolean };
  readonly ctproto?: { readonly proto: number; readonly invert: boolean };
  readonly ctorigsrc?: AddrMatch;
  readonly ctorigdst?: AddrMatch;
  readonly ctreplsrc?: AddrMatch;
  readonly ctrepldst?: AddrMatch;
  readonly ctorigsrcport?: PortRangeMatch;
  readonly ctorigdstport?: PortRangeMatch;
  readonly ctreplsrcport?: PortRangeMatch;
  readonly ctrepldstport?: PortRangeMatch;
  /** {@link CtStatusBit} bits. */
  readonly ctstatus?: { readonly status: number; readonly invert: boolean };
  /** Remaining lifetime in seconds. */
  readonly ctexpire?: { readonly min: number; readonly max: number; readonly invert: boolean };
  readonly ctdir?: 'ORIGINAL' | 'REPLY';
}

/** `-m state [!] --state` (the older form of `--ctstate`). */
export interface StateMatch {
  readonly module: 'state';
  readonly states: number;
  readonly invert: boolean;
}

/** Address types of `-m addrtype` as bits (xt_addrtype `XT_ADDRTYPE_*`). */
export const AddrTypeBit: { readonly [K in AddrTypeName]: number } = {
  UNSPEC: 1 << 0,
  UNICAST: 1 << 1,
  LOCAL: 1 << 2,
  BROADCAST: 1 << 3,
  ANYCAST: 1 << 4,
  MULTICAST: 1 << 5,
  BLACKHOLE: 1 << 6,
  UNREACHABLE: 1 << 7,
  PROHIBIT: 1 << 8,
  THROW: 1 << 9,
  NAT: 1 << 10,
  XRESOLVE: 1 << 11,
};

/** Address type names of `-m addrtype`. */
export type AddrTypeName =
  | 'UNSPEC'
  | 'UNICAST'
  | 'LOCAL'
  | 'BROADCAST'
  | 'ANYCAST'
  | 'MULTICAST'
  | 'BLACKHOLE'
  | 'UNREACHABLE'
  | 'PROHIBIT'
  | 'THROW'
  | 'NAT'
  | 'XRESOLVE';

/** `-m addrtype`. */
export interface AddrtypeMatch {
  readonly module: 'addrtype';
  readonly srcType?: { readonly types: number; readonly invert: boolean };
  readonly dstType?: { readonly types: number; readonly invert: boolean };
  readonly limitIfaceIn: boolean;
  readonly limitIfaceOut: boolean;
}

/** `-m recent`. */
export interface RecentMatch {
  readonly module: 'recent';
  readonly command: 'set' | 'rcheck' | 'update' | 'remove';
  /** List name (default `DEFAULT`). */
  readonly name: string;
  /** `--rsource` (default) or `--rdest`. */
  readonly side: 'source' | 'dest';
  /** `--seconds` (0 = not given). */
  readonly seconds: number;
  readonly reap: boolean;
  /** `--hitcount` (0 = not given). */
  readonly hitcount: number;
  readonly rttl: boolean;
  /** `--mask` (default 255.255.255.255). */
  readonly mask: IPv4;
  readonly invert: boolean;
}

/** `-m set [!] --match-set name dir[,dir...]`. */
export interface SetMatch {
  readonly module: 'set';
  readonly setName: string;
  /** One entry per dimension: `src` or `dst`. */
  readonly dirs: readonly ('src' | 'dst')[];
  readonly invert: boolean;
  readonly returnNomatch: boolean;
}

/** `-m nfacct --nfacct-name name` (counts only). */
export interface NfacctMatch {
  readonly module: 'nfacct';
  readonly name: string;
}

/** `-m limit --limit n/unit --limit-burst b`. */
export interface LimitMatch {
  readonly module: 'limit';
  /** Average rate: `count` per `unit`. */
  readonly count: number;
  readonly unit: 'second' | 'minute' | 'hour' | 'day';
  readonly burst: number;
}

/** Any match module lbsim knows. Unknown modules are a parse error naming the module. */
export type MatchSpec =
  | TcpMatch
  | UdpMatch
  | SctpMatch
  | IcmpMatch
  | MultiportMatch
  | CommentMatch
  | StatisticMatch
  | MarkMatch
  | ConntrackMatch
  | StateMatch
  | AddrtypeMatch
  | RecentMatch
  | SetMatch
  | NfacctMatch
  | LimitMatch;

/** Match module names. */
export type MatchModuleName = MatchSpec['module'];

// ------------------------------------------------------------------ targets

/** An address/port range of NAT targets (`--to-destination 10.0.0.1-10.0.0.2:80-81`). */
export interface NatRange {
  readonly minAddr: IPv4;
  readonly maxAddr: IPv4;
  /** Whether ports were given. */
  readonly hasPorts: boolean;
  readonly minPort: number;
  readonly maxPort: number;
}

/** What a rule does when it matches. */
export type TargetSpec =
  | { readonly kind: 'standard'; readonly verdict: StandardVerdict }
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'goto'; readonly chain: string }
  | { readonly kind: 'REJECT'; readonly rejectWith: string }
  | { readonly kind: 'DNAT'; readonly range: NatRange | null; readonly random: boolean; readonly persistent: boolean }
  | {
      readonly kind: 'SNAT';
      readonly range: NatRange | null;
      readonly random: boolean;
      readonly randomFully: boolean;
      readonly persistent: boolean;
    }
  | {
      readonly kind: 'MASQUERADE';
      readonly ports: PortRange | null;
      readonly random: boolean;
      readonly randomFully: boolean;
    }
  | { readonly kind: 'REDIRECT'; readonly ports: PortRange | null; readonly random: boolean }
  /** `MARK`: every form is stored as xmark: `mark = (mark & ~mask) ^ value`. */
  | { readonly kind: 'MARK'; readonly value: number; readonly mask: number }
  | {
      readonly kind: 'CONNMARK';
      readonly mode: 'set' | 'save' | 'restore';
      /** set: ctmark = (ctmark & ~mask) ^ value. */
      readonly value: number;
      readonly mask: number;
      /** save/restore masks. */
      readonly nfmask: number;
      readonly ctmask: number;
    }
  | {
      readonly kind: 'LOG';
      readonly prefix: string | null;
      readonly level: number;
      /** `--log-tcp-sequence` etc. as the kernel's flag bits. */
      readonly flags: number;
    }
  | { readonly kind: 'NOTRACK' }
  | { readonly kind: 'CT'; readonly notrack: boolean; readonly zone: number | null };

/** Target kinds. */
export type TargetKind = TargetSpec['kind'];

// -------------------------------------------------------------------- rules

/** One rule: the generic part (`-s -d -i -o -p -f`), the match modules in order, and the target. */
export interface RuleSpec {
  readonly src?: AddrMatch;
  readonly dst?: AddrMatch;
  readonly inIface?: IfaceMatch;
  readonly outIface?: IfaceMatch;
  /** `-p`: protocol number; 0 means `all` and is never printed. */
  readonly proto?: { readonly proto: number; readonly invert: boolean };
  /** `-f` / `! -f`. */
  readonly fragment?: { readonly invert: boolean };
  /** Match modules in the order they appear. */
  readonly matches: readonly MatchSpec[];
  /** The target, or null for a rule without `-j`/`-g` (it only counts). */
  readonly target: TargetSpec | null;
}

// ------------------------------------------------------- save/restore model

/** A rule with its counters, as `iptables-save -c` prints it. */
export interface SavedRule {
  readonly spec: RuleSpec;
  readonly counters: Counters;
}

/** A chain as `iptables-save` prints it: `:NAME POLICY [p:b]` (policy null = user chain, printed `-`). */
export interface SavedChain {
  readonly name: string;
  readonly policy: StandardVerdict | null;
  readonly counters: Counters;
  readonly rules: readonly SavedRule[];
}

/** A table as `iptables-save` prints it: chains in print order. */
export interface SavedTable {
  readonly name: TableName;
  readonly chains: readonly SavedChain[];
}

/** One command of an `iptables-restore` table block or of an `iptables` command line. `line` is 1-based. */
export type TableCommand =
  | { readonly op: 'append'; readonly chain: string; readonly rule: RuleSpec; readonly counters: Counters | null; readonly line: number }
  | {
      readonly op: 'insert';
      readonly chain: string;
      /** 1-based position (default 1). */
      readonly index: number;
      readonly rule: RuleSpec;
      readonly counters: Counters | null;
      readonly line: number;
    }
  | { readonly op: 'delete'; readonly chain: string; readonly rule: RuleSpec; readonly line: number }
  | { readonly op: 'deleteNum'; readonly chain: string; readonly index: number; readonly line: number }
  | {
      readonly op: 'replace';
      readonly chain: string;
      readonly index: number;
      readonly rule: RuleSpec;
      readonly counters: Counters | null;
      readonly line: number;
    }
  | { readonly op: 'newChain'; readonly chain: string; readonly line: number }
  /** `-X` without a chain deletes every empty user chain. */
  | { readonly op: 'deleteChain'; readonly chain: string | null; readonly line: number }
  /** `-F` without a chain flushes every chain of the table. */
  | { readonly op: 'flush'; readonly chain: string | null; readonly line: number }
  | { readonly op: 'zero'; readonly chain: string | null; readonly line: number }
  | {
      readonly op: 'policy';
      readonly chain: string;
      readonly policy: StandardVerdict;
      readonly counters: Counters | null;
      readonly line: number;
    }
  | { readonly op: 'rename'; readonly chain: string; readonly newName: string; readonly line: number };

/** A chain declaration `:NAME POLICY [p:b]` in a restore block. */
export interface ChainDeclaration {
  readonly name: string;
  /** null for `-` (a user chain). */
  readonly policy: StandardVerdict | null;
  readonly counters: Counters | null;
  readonly line: number;
}

/** One `*table … COMMIT` block of an `iptables-restore` input. */
export interface RestoreTableBlock {
  readonly table: TableName;
  readonly line: number;
  readonly chains: readonly ChainDeclaration[];
  readonly commands: readonly TableCommand[];
  readonly commitLine: number;
}

/** A parsed `iptables-restore` input (or `iptables-save` output). */
export interface RestoreDocument {
  readonly blocks: readonly RestoreTableBlock[];
}

/** Built-in chains of each table in hook order (`iptables-save` prints them in this order). */
export const BUILTIN_CHAINS: ReadonlyMap<TableName, readonly BuiltinChainName[]> = new Map<
  TableName,
  readonly BuiltinChainName[]
>([
  ['raw', ['PREROUTING', 'OUTPUT']],
  ['mangle', ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']],
  ['nat', ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']],
  ['filter', ['INPUT', 'FORWARD', 'OUTPUT']],
  ['security', ['INPUT', 'FORWARD', 'OUTPUT']],
]);

/** `XT_EXTENSION_MAXNAMELEN` − 1: the longest chain name iptables accepts, in UTF-8 bytes. */
export const MAX_CHAIN_NAME = 28;
