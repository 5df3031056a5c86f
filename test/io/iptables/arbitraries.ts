/**
 * fast-check arbitraries of iptables rulesets in lbsim's AST. Every value is
 * canonical (what lbsim's parser returns for the text lbsim prints, so
 * print → parse is the identity) and loadable by the real iptables-restore
 * 1.8.9 with both back ends (legacy and nft) in a namespace that has the
 * sets and nfacct objects of {@link CONFORMANCE_SETUP}: targets only where
 * the kernel allows them, protocol matches with their `-p`, acyclic jumps.
 * Shapes that the two back ends print differently (see the report in
 * `src/io/iptables/`) are not generated: `! -i +`, inverted 0.0.0.0/0, two
 * tcp matches in one rule, empty/inverted full port ranges, `-j QUEUE`; nor
 * `-m set` with `-m recent` in one rule (see matchesArb).
 */

import fc from 'fast-check';
import type {
  AddrMatch,
  BuiltinChainName,
  IfaceMatch,
  MatchSpec,
  NatRange,
  PortRange,
  PortRangeMatch,
  RuleSpec,
  SavedChain,
  SavedTable,
  TableName,
  TargetSpec,
} from '../../../src/netfilter/ast.js';
import { BUILTIN_CHAINS, REJECT_WITH, limitRateOf, saveChainOrder } from '../../../src/io/iptables/index.js';

/** Shell commands that create what the generated rules refer to (ipsets, nfacct objects). */
export const CONFORMANCE_SETUP: readonly string[] = [
  'ipset create lbsim-a hash:ip',
  'ipset create lbsim-b hash:ip,port',
  'ipset create lbsim-c hash:ip,port,ip',
  'nfacct add lbsim-acct1',
  'nfacct add lbsim-acct2',
];

const SETS = ['lbsim-a', 'lbsim-b', 'lbsim-c'] as const;

/** Where a rule lives: decides which targets and interface options are valid. */
export interface RuleContextArb {
  readonly table: TableName;
  readonly chain: string;
  /** Whether `chain` is a built-in chain. */
  readonly builtin: boolean;
  /** User chains this rule may jump/goto to (later in a fixed order: no loops). */
  readonly jumpable: readonly string[];
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 65535 });

/** Contiguous or not, never 0 (so no inverted 0.0.0.0/0, and non-inverted /0 is not printed at all). */
const maskArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 32 }).map((p) => (0xffffffff << (32 - p)) >>> 0) },
  { weight: 1, arbitrary: u32.filter((m) => m !== 0) },
);

const addrArb: fc.Arbitrary<AddrMatch> = fc
  .record({ addr: u32, mask: maskArb, invert: fc.boolean() })
  .map((a) => ({ addr: (a.addr & a.mask) >>> 0, mask: a.mask, invert: a.invert }));

const ifaceArb: fc.Arbitrary<IfaceMatch> = fc.record({
  name: fc.constantFrom('eth0', 'eth+', 'docker0', 'br-3f1c2a9d0e7b', 'lo', 'veth1234567890a', 'wg+'),
  invert: fc.boolean(),
});

/** A range min <= max that is not 0:65535. */
const rangeArb: fc.Arbitrary<PortRange> = fc
  .tuple(port, port)
  .map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }))
  .filter((r) => !(r.min === 0 && r.max === 65535));
const rangeMatchArb: fc.Arbitrary<PortRangeMatch> = fc
  .tuple(rangeArb, fc.boolean())
  .map(([r, invert]) => ({ ...r, invert }));

function optional<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(a, { nil: undefined });
}

/** `T` with its `X | undefined` properties made optional `X` (exactOptionalPropertyTypes). */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Copies only defined keys (exactOptionalPropertyTypes). */
function defined<T extends object>(o: T): Defined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

const tcpArb: fc.Arbitrary<MatchSpec> = fc
  .record({
    sport: optional(rangeMatchArb),
    dport: optional(rangeMatchArb),
    tcpFlags: optional(
      fc.record({ mask: fc.integer({ min: 1, max: 0x3f }), comp: fc.integer({ min: 0, max: 0x3f }), invert: fc.boolean() }),
    ),
    tcpOption: optional(fc.record({ option: fc.integer({ min: 1, max: 255 }), invert: fc.boolean() })),
  })
  .map((r) => defined({ module: 'tcp' as const, ...r }));

const udpArb: fc.Arbitrary<MatchSpec> = fc
  .record({ sport: optional(rangeMatchArb), dport: optional(rangeMatchArb) })
  .map((r) => defined({ module: 'udp' as const, ...r }));

const sctpArb: fc.Arbitrary<MatchSpec> = fc
  .record({ sport: optional(rangeMatchArb), dport: optional(rangeMatchArb) })
  .map((r) => defined({ module: 'sctp' as const, ...r }));

const icmpArb: fc.Arbitrary<MatchSpec> = fc.oneof(
  fc.record({ type: fc.integer({ min: 0, max: 254 }), invert: fc.boolean() }).map((r) => ({ module: 'icmp' as const, ...r, codeMin: 0, codeMax: 255 })),
  fc
    .record({ type: fc.integer({ min: 0, max: 254 }), code: fc.integer({ min: 0, max: 255 }), invert: fc.boolean() })
    .map((r) => ({ module: 'icmp' as const, type: r.type, codeMin: r.code, codeMax: r.code, invert: r.invert })),
  fc.boolean().map((invert) => ({ module: 'icmp' as const, type: 255, codeMin: 0, codeMax: 255, invert })),
);

const multiportArb: fc.Arbitrary<MatchSpec> = fc
  .record({
    kind: fc.constantFrom('sports' as const, 'dports' as const, 'ports' as const),
    ports: fc.array(
      fc.oneof(
        port.map((p) => ({ min: p, max: p })),
        fc.tuple(fc.integer({ min: 0, max: 65534 }), fc.integer({ min: 1, max: 1000 })).map(([a, d]) => ({ min: a, max: Math.min(65535, a + d) })),
      ),
      { minLength: 1, maxLength: 7 },
    ),
    invert: fc.boolean(),
  })
  .filter((m) => m.ports.reduce((n, p) => n + (p.min === p.max ? 1 : 2), 0) <= 15)
  .map((m) => ({ module: 'multiport' as const, ...m }));

/** Comment text: printable ASCII (quotes, backslashes, $…), some non-ASCII; at most 255 bytes. */
const commentArb: fc.Arbitrary<MatchSpec> = fc
  .array(fc.oneof(fc.constantFrom(...'abcXYZ019_-/:. "\'\\$`!#;*é→'.split('')), fc.integer({ min: 32, max: 126 }).map((c) => String.fromCharCode(c))), {
    maxLength: 60,
  })
  .map((cs) => ({ module: 'comment' as const, comment: cs.join('') }));

const statisticArb: fc.Arbitrary<MatchSpec> = fc.oneof(
  fc
    .record({ probability: fc.integer({ min: 0, max: 0x80000000 }), invert: fc.boolean() })
    .map((r) => ({ module: 'statistic' as const, mode: 'random' as const, ...r })),
  fc
    .record({ every: fc.integer({ min: 1, max: 100000 }), packetFrac: fc.double({ min: 0, max: 1, noNaN: true }), invert: fc.boolean() })
    .map((r) => ({
      module: 'statistic' as const,
      mode: 'nth' as const,
      every: r.every,
      packet: Math.min(r.every - 1, Math.floor(r.packetFrac * r.every)),
      invert: r.invert,
    })),
);

const markArb: fc.Arbitrary<MatchSpec> = fc.record({ value: u32, mask: u32, invert: fc.boolean() }).map((r) => ({ module: 'mark' as const, ...r }));

const ctAddrArb: fc.Arbitrary<AddrMatch> = fc
  .record({ addr: u32, prefix: fc.integer({ min: 0, max: 32 }), invert: fc.boolean() })
  .map((r) => ({ addr: r.addr, mask: r.prefix === 0 ? 0 : (0xffffffff << (32 - r.prefix)) >>> 0, invert: r.invert }));
const ctPortArb: fc.Arbitrary<PortRangeMatch> = fc
  .record({ a: port, b: port, invert: fc.boolean() })
  .map((r) => ({ min: Math.min(r.a, r.b), max: Math.max(r.a, r.b), invert: r.invert }));

const conntrackArb: fc.Arbitrary<MatchSpec> = fc
  .record(
    {
      ctstate: fc.record({ states: fc.integer({ min: 1, max: 0x3ff }).map((b) => b & 0x34f).filter((b) => b !== 0), invert: fc.boolean() }),
      ctproto: fc.record({ proto: fc.integer({ min: 1, max: 255 }), invert: fc.boolean() }),
      ctorigsrc: ctAddrArb,
      ctorigdst: ctAddrArb,
      ctreplsrc: ctAddrArb,
      ctrepldst: ctAddrArb,
      ctorigsrcport: ctPortArb,
      ctorigdstport: ctPortArb,
      ctreplsrcport: ctPortArb,
      ctrepldstport: ctPortArb,
      ctstatus: fc.record({ status: fc.integer({ min: 0, max: 15 }), invert: fc.boolean() }),
      ctexpire: fc.record({ a: u32, b: u32, invert: fc.boolean() }).map((r) => ({ min: Math.min(r.a, r.b), max: Math.max(r.a, r.b), invert: r.invert })),
      ctdir: fc.constantFrom('ORIGINAL' as const, 'REPLY' as const),
    },
    { requiredKeys: [] },
  )
  .filter((r) => Object.keys(r).length > 0)
  .map((r) => ({ module: 'conntrack' as const, ...r }));

const stateArb: fc.Arbitrary<MatchSpec> = fc
  .record({ states: fc.integer({ min: 1, max: 0x7f }).map((b) => b & 0x4f).filter((b) => b !== 0), invert: fc.boolean() })
  .map((r) => ({ module: 'state' as const, ...r }));

function addrtypeArb(ctx: RuleContextArb): fc.Arbitrary<MatchSpec> {
  const types = fc.record({ types: fc.integer({ min: 1, max: 0xfff }), invert: fc.boolean() });
  // --limit-iface-* are hook-checked: only in built-in chains where the kernel allows them
  const canIn = ctx.builtin && ctx.chain !== 'OUTPUT' && ctx.chain !== 'POSTROUTING';
  const canOut = ctx.builtin && ctx.chain !== 'PREROUTING' && ctx.chain !== 'INPUT';
  return fc
    .record({ srcType: optional(types), dstType: optional(types), limit: fc.constantFrom('none', 'in', 'out') })
    .filter((r) => r.srcType !== undefined || r.dstType !== undefined)
    .map((r) =>
      defined({
        module: 'addrtype' as const,
        srcType: r.srcType,
        dstType: r.dstType,
        limitIfaceIn: r.limit === 'in' && canIn,
        limitIfaceOut: r.limit === 'out' && canOut,
      }),
    );
}

const recentArb: fc.Arbitrary<MatchSpec> = fc
  .record({
    command: fc.constantFrom('set' as const, 'rcheck' as const, 'update' as const, 'remove' as const),
    name: fc.constantFrom('DEFAULT', 'SSH', 'KUBE-SEP-SXIVWICOYRO3J4NJ', 'MASKED'),
    side: fc.constantFrom('source' as const, 'dest' as const),
    seconds: fc.integer({ min: 1, max: 86400 }),
    useSeconds: fc.boolean(),
    reap: fc.boolean(),
    hitcount: fc.integer({ min: 0, max: 20 }),
    rttl: fc.boolean(),
    invert: fc.boolean(),
  })
  .map((r) => {
    const checks = r.command === 'rcheck' || r.command === 'update';
    const seconds = checks && r.useSeconds ? r.seconds : 0;
    return {
      module: 'recent' as const,
      command: r.command,
      name: r.name,
      side: r.side,
      seconds,
      reap: checks && seconds !== 0 && r.reap,
      hitcount: checks ? r.hitcount : 0,
      rttl: checks && r.rttl,
      // one mask per list name: the kernel's list is shared by all rules naming it
      mask: r.name === 'MASKED' ? 0xffffff00 : 0xffffffff,
      invert: r.invert,
    };
  });

const setArb: fc.Arbitrary<MatchSpec> = fc
  .record({
    setName: fc.constantFrom(...SETS),
    dirs: fc.array(fc.constantFrom('src' as const, 'dst' as const), { minLength: 1, maxLength: 3 }),
    invert: fc.boolean(),
    returnNomatch: fc.boolean(),
  })
  .map((r) => ({ module: 'set' as const, ...r }));

const nfacctArb: fc.Arbitrary<MatchSpec> = fc.constantFrom('lbsim-acct1', 'lbsim-acct2').map((name) => ({ module: 'nfacct' as const, name }));

/** Rates whose kernel period times the burst fits the kernel's 32-bit overflow check. */
const limitArb: fc.Arbitrary<MatchSpec> = fc
  .record({
    count: fc.integer({ min: 1, max: 10000 }),
    unit: fc.constantFrom('second' as const, 'minute' as const, 'hour' as const),
    burst: fc.integer({ min: 1, max: 100 }),
  })
  .map((r) => {
    const mult = { second: 1, minute: 60, hour: 3600 }[r.unit];
    const period = Math.floor((10000 * mult) / r.count);
    return { period, burst: r.burst };
  })
  .filter((r) => r.period > 0 && r.period * r.burst <= 1_000_000_000)
  .map((r) => ({ module: 'limit' as const, ...limitRateOf(r.period), burst: r.burst }));

interface ProtoChoice {
  readonly proto?: { proto: number; invert: boolean };
}

const protoArb: fc.Arbitrary<ProtoChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 4, arbitrary: fc.constantFrom(6, 17, 1, 132).map((proto) => ({ proto: { proto, invert: false } })) },
  { weight: 1, arbitrary: fc.record({ proto: fc.constantFrom(6, 17, 47, 50, 200), invert: fc.boolean() }).map((proto) => ({ proto })) },
);

function matchesArb(ctx: RuleContextArb, proto: ProtoChoice['proto']): fc.Arbitrary<MatchSpec[]> {
  const p = proto && !proto.invert ? proto.proto : 0;
  const options: fc.Arbitrary<MatchSpec>[] = [commentArb, statisticArb, markArb, conntrackArb, stateArb, addrtypeArb(ctx), recentArb, setArb, nfacctArb, limitArb];
  const protoMatch = p === 6 ? tcpArb : p === 17 ? udpArb : p === 132 ? sctpArb : p === 1 ? icmpArb : null;
  if (p === 6 || p === 17 || p === 132) options.push(multiportArb);
  // -m set also has a (deprecated) --set option: after "-m recent … -m set …", a later
  // "-m recent --set" resolves to the set match, in iptables as in lbsim. Keep them apart.
  const others = fc
    .array(fc.oneof(...options), { maxLength: 3 })
    .filter((ms) => !(ms.some((m) => m.module === 'set') && ms.some((m) => m.module === 'recent')));
  if (protoMatch === null) return others;
  // at most one protocol match (nft merges several), anywhere in the list
  return fc.tuple(fc.option(protoMatch, { nil: null }), others, fc.nat()).map(([pm, rest, at]) => {
    if (pm === null) return rest;
    const i = at % (rest.length + 1);
    return [...rest.slice(0, i), pm, ...rest.slice(i)];
  });
}

const portsForProto = (proto: ProtoChoice['proto']): boolean => proto !== undefined && [6, 17, 132].includes(proto.proto) && !proto.invert;

function natRangeArb(withPorts: boolean): fc.Arbitrary<NatRange> {
  return fc
    .record({ a: u32.filter((x) => x !== 0), b: u32, span: fc.boolean(), ports: fc.boolean(), noAddr: fc.boolean(), p1: port, p2: port })
    .map((r) => {
      const hasPorts = withPorts && r.ports;
      const noAddr = hasPorts && r.noAddr;
      const minAddr = noAddr ? 0 : r.a;
      const maxAddr = noAddr ? 0 : r.span ? Math.max(r.a, r.b) : r.a;
      return {
        minAddr,
        maxAddr,
        hasPorts,
        minPort: hasPorts ? Math.min(r.p1, r.p2) : 0,
        maxPort: hasPorts ? Math.max(r.p1, r.p2) : 0,
      };
    });
}

function portRangeArb(): fc.Arbitrary<PortRange> {
  return fc.tuple(port, port).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) }));
}

function targetArb(ctx: RuleContextArb, proto: ProtoChoice['proto']): fc.Arbitrary<TargetSpec | null> {
  const t = ctx.table;
  const c = ctx.chain;
  const opts: fc.Arbitrary<TargetSpec | null>[] = [fc.constant(null)];
  const verdicts = t === 'nat' ? (['ACCEPT', 'RETURN'] as const) : (['ACCEPT', 'DROP', 'RETURN'] as const);
  opts.push(fc.constantFrom(...verdicts).map((verdict) => ({ kind: 'standard' as const, verdict })));
  if (ctx.jumpable.length > 0) {
    opts.push(
      fc.record({ kind: fc.constantFrom('jump' as const, 'goto' as const), chain: fc.constantFrom(...ctx.jumpable) }).map((r) => r as TargetSpec),
    );
  }
  const withPorts = portsForProto(proto);
  if (t === 'nat' && ctx.builtin) {
    if (c === 'PREROUTING' || c === 'OUTPUT') {
      opts.push(
        fc.record({ range: natRangeArb(withPorts), random: fc.boolean(), persistent: fc.boolean() }).map((r) => ({ kind: 'DNAT' as const, ...r })),
        fc.record({ ports: withPorts ? fc.option(portRangeArb(), { nil: null }) : fc.constant(null), random: fc.boolean() }).map((r) => ({ kind: 'REDIRECT' as const, ...r })),
      );
    }
    if (c === 'POSTROUTING' || c === 'INPUT') {
      opts.push(
        fc
          .record({ range: natRangeArb(withPorts), random: fc.boolean(), randomFully: fc.boolean(), persistent: fc.boolean() })
          .map((r) => ({ kind: 'SNAT' as const, ...r })),
      );
    }
    if (c === 'POSTROUTING') {
      opts.push(
        fc
          .record({ ports: withPorts ? fc.option(portRangeArb(), { nil: null }) : fc.constant(null), random: fc.boolean(), randomFully: fc.boolean() })
          .map((r) => ({ kind: 'MASQUERADE' as const, ...r })),
      );
    }
  }
  if (t === 'filter') {
    const tcpOk = proto !== undefined && proto.proto === 6 && !proto.invert;
    const types = REJECT_WITH.filter((w) => w !== 'tcp-reset' || tcpOk);
    opts.push(fc.constantFrom(...types).map((rejectWith) => ({ kind: 'REJECT' as const, rejectWith })));
  }
  if (t === 'raw') {
    opts.push(
      fc.constant({ kind: 'NOTRACK' as const }),
      fc.record({ notrack: fc.boolean(), zone: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: null }) }).map((r) => ({ kind: 'CT' as const, ...r })),
    );
  }
  if (t !== 'raw') {
    opts.push(
      fc.record({ value: u32, mask: u32 }).map((r) => ({ kind: 'MARK' as const, ...r })),
      fc.oneof(
        fc.record({ value: u32, mask: u32 }).map((r) => ({ kind: 'CONNMARK' as const, mode: 'set' as const, ...r, nfmask: 0, ctmask: 0 })),
        fc
          .record({ mode: fc.constantFrom('save' as const, 'restore' as const), nfmask: u32, ctmask: u32 })
          .map((r) => ({ kind: 'CONNMARK' as const, ...r, value: 0, mask: 0 })),
      ),
    );
  }
  opts.push(
    fc
      .record({
        prefix: fc.option(
          fc.stringMatching(/^[a-zA-Z0-9 :_'"\\.-]{1,29}$/),
          { nil: null },
        ),
        level: fc.integer({ min: 0, max: 7 }),
        flags: fc.subarray([0x01, 0x02, 0x04, 0x08, 0x20]).map((bits) => bits.reduce((a, b) => a | b, 0)),
      })
      .map((r) => ({ kind: 'LOG' as const, ...r })),
  );
  return fc.oneof(...opts);
}

/** One canonical rule valid in `ctx`. */
export function ruleSpecArb(ctx: RuleContextArb): fc.Arbitrary<RuleSpec> {
  const canIn = !ctx.builtin || (ctx.chain !== 'OUTPUT' && ctx.chain !== 'POSTROUTING');
  const canOut = !ctx.builtin || (ctx.chain !== 'PREROUTING' && ctx.chain !== 'INPUT');
  return protoArb.chain((pc) =>
    fc
      .record({
        src: optional(addrArb),
        dst: optional(addrArb),
        inIface: canIn ? optional(ifaceArb) : fc.constant(undefined),
        outIface: canOut ? optional(ifaceArb) : fc.constant(undefined),
        fragment: optional(fc.record({ invert: fc.boolean() })),
        matches: matchesArb(ctx, pc.proto),
        target: targetArb(ctx, pc.proto),
      })
      .map((r) => {
        const rule: RuleSpec = defined({
          src: r.src,
          dst: r.dst,
          inIface: r.inIface,
          outIface: r.outIface,
          proto: pc.proto,
          fragment: r.fragment,
          matches: r.matches,
          target: r.target,
        });
        return rule;
      }),
  );
}

const USER_CHAIN_POOL = ['__proto__', 'constructor', 'hasOwnProperty', 'KUBE-SVC-XPGD46QRK7WJZT7O', 'A234567890123456789012345678', 'my.chain_1', 'toString'];

const countersArb = fc.record({ packets: fc.integer({ min: 0, max: 1_000_000_000 }), bytes: fc.integer({ min: 0, max: 2 ** 40 }) });

/**
 * One table with its built-in chains (policies and counters), up to three
 * user chains and up to four rules per chain, chains in iptables-save order.
 */
export function savedTableArb(tableArb: fc.Arbitrary<TableName> = fc.constantFrom('filter', 'nat', 'mangle', 'raw')): fc.Arbitrary<SavedTable> {
  return tableArb.chain((table) =>
    fc.uniqueArray(fc.constantFrom(...USER_CHAIN_POOL), { maxLength: 3 }).chain((users) => {
      const builtins = BUILTIN_CHAINS.get(table) as readonly BuiltinChainName[];
      const chainArbs = [...builtins, ...users].map((name, i) => {
        const builtin = i < builtins.length;
        // built-in chains may jump to any user chain, user chain k only to later ones: no loops
        const jumpable = builtin ? users : users.slice(i - builtins.length + 1);
        const rules = fc.array(fc.record({ spec: ruleSpecArb({ table, chain: name, builtin, jumpable }), counters: countersArb }), {
          maxLength: 4,
        });
        const policy = builtin ? (table === 'nat' ? fc.constant('ACCEPT' as const) : fc.constantFrom('ACCEPT' as const, 'DROP' as const)) : fc.constant(null);
        return fc
          .record({ policy, counters: builtin ? countersArb : fc.constant({ packets: 0, bytes: 0 }), rules })
          .map((r): SavedChain => ({ name, policy: r.policy, counters: r.counters, rules: r.rules }));
      });
      return fc.tuple(...chainArbs).map((chains) => ({ name: table, chains: saveChainOrder(table, chains) }));
    }),
  );
}
