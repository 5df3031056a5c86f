// Lookup cost as the number of Services grows, both modes, through the rules
// and virtual servers kube-proxy itself writes: a synthetic cluster of N
// ClusterIP Services × 10 endpoints (lbsim's syntheticCluster) is synced by
// a KubeProxier in iptables mode and in IPVS mode, and packets go through
// the one classification interface, `classify(pkt, decision)`.
//
// iptables: the first packet of a new connection to the first, median and
// last Service in KUBE-SERVICES (kube-proxy's sorted order is the index
// order of the synthetic Services, so the position is known), and a packet
// of an established connection. IPVS: the first packet of a new connection
// (service lookup, scheduling, a new connection entry) and an established
// packet (connection table only), at every N and with 250k (quick) / 1M
// (full) connections in the table.
//
// Shaped like kernel-costs.md's measurement: ClusterIP Services, 10
// endpoints, packets sent by the node itself (OUTPUT path), every packet of
// the new-connection loop a new 5-tuple, the established packet one 5-tuple
// repeated. How it differs: kube-proxy's real rules are used, so each
// KUBE-SVC chain starts with the masquerade rule for off-cluster sources
// (`! -s clusterCIDR -d VIP -j KUBE-MARK-MASQ`: 32 rules per Service, not 31;
// the node's own address is off-cluster, so packets take that jump), the
// filter table's kube-proxy chains are walked too, and the protocol is TCP
// (the kernel measurement sent UDP). Fixed costs cancel in the per-rule
// figure, (last − first) / (N − 1), that the report compares.
//
// Timed calls run a batch of packets (ns/op is per packet) and allocate
// nothing. New-connection loops move the simulated clock after each batch
// so the connections they made expire (conntrack SYN_SENT 120 s, IPVS
// SYN_RECV 60 s): the tables stay small and steady. Established tasks run
// before the new-connection tasks of their size, while the clock stands.
import type { Decision } from '../../src/classify/decision.js';
import type { Packet } from '../../src/net/packet.js';
import { lbsim } from '../imports.js';
import type { RecordMeta, Suite, SuiteContext } from '../types.js';
import { averageWork, buildCluster, ENDPOINTS, label, recordWork, sizes, Stage, startNode } from './common.js';
import type { SimNode } from './common.js';

const POSITIONS = ['first', 'median', 'last'] as const;
type Position = (typeof POSITIONS)[number];

/** Packets per timed call of an iptables new-connection task: fewer when a packet walks a long chain. */
function iptablesBatch(n: number, position: Position): number {
  if (position === 'first' || n <= 1000) return 500;
  return n <= 10_000 ? 100 : 20;
}

const IPVS_BATCH = 1000;
/** Packets behind each recorded work count (a mean). */
const SAMPLE = 256;
const ESTABLISHED_BATCH = 1000;
/** Live connections the IPVS established task cycles through at each N. */
const IPVS_LIVE = 1024;

interface IptablesInput {
  readonly node: SimNode;
  /** ClusterIP of the Service at each position. */
  readonly vip: Readonly<Record<Position, number>>;
  readonly pkt: Packet;
  readonly flow: Packet;
  readonly d: Decision;
}

interface IpvsInput {
  readonly node: SimNode;
  /** ClusterIPs by Service index. */
  readonly vips: Uint32Array;
  /** First client address (pods on this node). */
  readonly clientBase: number;
  readonly pkt: Packet;
  readonly d: Decision;
}

function check(d: Decision, what: string): void {
  if (d.verdict !== 'forwarded' && d.verdict !== 'accepted') throw new Error(`bench lookup: ${what} was ${d.verdict} (${d.reason})`);
}

function buildIptables(ctx: SuiteContext, n: number): IptablesInput {
  const { Decision, Packet, Protocol, TcpFlag } = lbsim;
  const sc = buildCluster(ctx, n);
  // restore bytes are not needed here; counting them costs a full text render
  const node = startNode(ctx, sc, 'iptables', { proxier: { restoreSize: null } });
  const nf = node.netfilter;
  const nodeIP = sc.nodeIP(0);
  const vip = { first: sc.clusterIP(0), median: sc.clusterIP(n >> 1), last: sc.clusterIP(n - 1) };
  const d = new Decision();
  const meta = (position: Position): RecordMeta => ({ mode: 'iptables', services: n, endpoints: ENDPOINTS, metric: 'new-conn', position });
  // work counts: the mean over SAMPLE new connections per position (each picks its endpoint by a seeded
  // `statistic --mode random` draw, so single packets differ by a few rules)
  const pkt = new Packet(Protocol.TCP, nodeIP, 1024, 0, 80, TcpFlag.SYN);
  pkt.local = true;
  for (const p of POSITIONS) {
    pkt.daddr = vip[p];
    const w = averageWork(SAMPLE, (i) => {
      pkt.sport = 1024 + i;
      nf.classify(pkt, d);
      check(d, `iptables new connection to the ${p} service`);
      if (!d.hasBackend) throw new Error(`bench lookup: no DNAT for the ${p} service`);
      return d.work;
    });
    recordWork(ctx, `iptables new-conn ${p} N=${label(n)}`, w, meta(p), ['rules', 'chains', 'probes', 'steps']);
    node.clock.advance(121_000);
  }
  // established: one connection to the last service, handshake done
  const flow = new Packet(Protocol.TCP, nodeIP, 50_000, vip.last, 80, TcpFlag.SYN);
  flow.local = true;
  nf.classify(flow, d);
  check(d, 'established SYN');
  const reply = new Packet(Protocol.TCP, d.daddr, d.dport, d.saddr, d.sport, TcpFlag.SYN | TcpFlag.ACK);
  reply.ifindex = nf.host.route(d.daddr);
  nf.classify(reply, d);
  check(d, 'established SYN-ACK');
  flow.flags = TcpFlag.ACK;
  nf.classify(flow, d);
  check(d, 'established ACK');
  recordWork(ctx, `iptables established N=${label(n)}`, d.work, { mode: 'iptables', services: n, endpoints: ENDPOINTS, metric: 'established' }, [
    'rules',
    'chains',
    'probes',
    'steps',
  ]);
  return { node, vip, pkt, flow, d };
}

function buildIpvs(ctx: SuiteContext, n: number, connTabBits: number): IpvsInput {
  const { Decision, Packet, Protocol, TcpFlag } = lbsim;
  const sc = buildCluster(ctx, n);
  const node = startNode(ctx, sc, 'ipvs', { connTabBits });
  const vips = new Uint32Array(n);
  for (let i = 0; i < n; i++) vips[i] = sc.clusterIP(i);
  // clients: pods on this node (its pod block, past the bridge address)
  const clientBase = sc.nodePodCidr(0).address + 16;
  return { node, vips, clientBase, pkt: new Packet(Protocol.TCP, clientBase, 1024, vips[0], 80, TcpFlag.SYN), d: new Decision() };
}

/** Opens `count` connections (SYN, then the client's ACK) from `src0 + i`; the i-th goes to `vips[i % vips.length]`. */
function openConnections(ctx: SuiteContext, input: IpvsInput, src0: number, count: number): void {
  const { Protocol, TcpFlag } = lbsim;
  const { pkt, d, vips } = input;
  const ipvs = input.node.ipvs!;
  for (let i = 0; i < count; i++) {
    const vip = vips[i % vips.length]!;
    pkt.set(Protocol.TCP, (src0 + i) >>> 0, 1024 + (i & 0x7fff), vip, 80, TcpFlag.SYN);
    ipvs.classify(pkt, d);
    if (d.verdict !== 'forwarded') throw new Error(`bench lookup: IPVS SYN ${i} was ${d.verdict}`);
    pkt.flags = TcpFlag.ACK;
    ipvs.classify(pkt, d);
    if ((i + 1) % 100_000 === 0) ctx.progress(`opening connections ${label(i + 1)}/${label(count)}`);
  }
}

export const lookup: Suite = {
  name: 'lookup',
  description:
    "Per-packet cost vs number of Services (× 10 endpoints) through kube-proxy's own rules: iptables new connection to the first/median/last Service and established; IPVS new connection and established",
  run(ctx): void {
    const { Protocol, TcpFlag } = lbsim;
    const ns = sizes(ctx.profile, [100, 1000, 10_000], [100, 1000, 5000, 10_000, 30_000, 100_000]);
    const stage = new Stage<IptablesInput | IpvsInput>((key) => {
      const [mode, n] = key.split(':') as [string, string];
      if (mode === 'iptables') return buildIptables(ctx, Number(n));
      if (mode === 'ipvs') {
        const input = buildIpvs(ctx, Number(n), 12);
        const meta = { mode: 'ipvs', services: input.vips.length, endpoints: ENDPOINTS } as const;
        // work: the mean over SAMPLE new connections (the timed loop's pattern, other clients) and over
        // SAMPLE of the live connections
        const { pkt, d, vips, clientBase } = input;
        const ipvs = input.node.ipvs!;
        const w = averageWork(SAMPLE, (i) => {
          pkt.set(Protocol.TCP, (clientBase + 4096 + i) >>> 0, 4242, vips[(i * 7919) % vips.length]!, 80, TcpFlag.SYN);
          ipvs.classify(pkt, d);
          if (d.verdict !== 'forwarded' || !d.newConnection) throw new Error(`bench lookup: IPVS new connection was ${d.verdict}`);
          return d.work;
        });
        recordWork(ctx, `ipvs new-conn N=${label(vips.length)}`, w, { ...meta, metric: 'new-conn' }, ['probes', 'steps', 'dests']);
        input.node.clock.advance(61_000);
        openConnections(ctx, input, clientBase + 8192, IPVS_LIVE);
        const e = averageWork(SAMPLE, (i) => {
          pkt.set(Protocol.TCP, (clientBase + 8192 + i) >>> 0, 1024 + i, vips[i % vips.length]!, 80, TcpFlag.ACK);
          ipvs.classify(pkt, d);
          if (d.verdict !== 'forwarded' || d.newConnection) throw new Error('bench lookup: IPVS established packet did not hit its connection');
          return d.work;
        });
        recordWork(ctx, `ipvs established N=${label(vips.length)}`, e, { ...meta, metric: 'established' }, ['probes', 'steps']);
        return input;
      }
      // the big connection table: 100 Services, conn_tab_bits 20 (the module parameter a busy director sets;
      // kube-proxy leaves it at the kernel default 12)
      const m = Number(n);
      const input = buildIpvs(ctx, 100, 20);
      openConnections(ctx, input, 0xc0000000, m);
      const ipvs = input.node.ipvs!;
      const meta = { mode: 'ipvs', services: 100, endpoints: ENDPOINTS, metric: 'established', connections: m } as const;
      const task = `ipvs established conns=${label(m)}`;
      ctx.record(task, 'connections', ipvs.connectionCount, meta);
      ctx.record(task, 'longest-chain', ipvs.longestConnChain(), meta);
      const { pkt, d, vips } = input;
      const w = averageWork(SAMPLE, (i) => {
        const x = (i * 7919 * 13) % m;
        pkt.set(Protocol.TCP, (0xc0000000 + x) >>> 0, 1024 + (x & 0x7fff), vips[x % 100]!, 80, TcpFlag.ACK);
        ipvs.classify(pkt, d);
        if (d.verdict !== 'forwarded' || d.newConnection) throw new Error('bench lookup: big-table established packet did not hit its connection');
        return d.work;
      });
      recordWork(ctx, task, w, meta, ['probes', 'steps']);
      return input;
    });

    for (const n of ns) {
      // ---- IPVS
      {
        let ipvsIn: IpvsInput | null = null;
        const ipvsKey = `ipvs:${n}`;
        const ipvsReady = (): void => {
          ipvsIn = stage.get(ipvsKey) as IpvsInput;
        };
        let k = 0;
        ctx.task(
          `ipvs established N=${label(n)}`,
          () => {
            const { pkt, d, vips, node } = ipvsIn!;
            const ipvs = node.ipvs!;
            const src0 = ipvsIn!.clientBase + 8192;
            for (let i = 0; i < ESTABLISHED_BATCH; i++) {
              k = (k + 1) & (IPVS_LIVE - 1);
              pkt.set(Protocol.TCP, (src0 + k) >>> 0, 1024 + k, vips[k % vips.length]!, 80, TcpFlag.ACK);
              ipvs.classify(pkt, d);
            }
          },
          { batch: ESTABLISHED_BATCH, beforeEach: ipvsReady, mode: 'ipvs', services: n, endpoints: ENDPOINTS, metric: 'established' },
        );
        let c = 0;
        ctx.task(
          `ipvs new-conn N=${label(n)}`,
          () => {
            const { pkt, d, vips, node, clientBase } = ipvsIn!;
            const ipvs = node.ipvs!;
            const count = vips.length;
            for (let i = 0; i < IPVS_BATCH; i++) {
              c++;
              // a fresh 5-tuple per packet (4096 clients × 16k ports), Services visited in a scattered order
              pkt.set(Protocol.TCP, (clientBase + (c & 4095)) >>> 0, 1024 + ((c >>> 12) & 0x3fff), vips[(c * 7919) % count]!, 80, TcpFlag.SYN);
              ipvs.classify(pkt, d);
            }
            node.clock.advance(61_000); // SYN_RECV (60 s) entries of this batch expire before the next
          },
          { batch: IPVS_BATCH, beforeEach: ipvsReady, mode: 'ipvs', services: n, endpoints: ENDPOINTS, metric: 'new-conn' },
        );
      }

      // ---- iptables
      let ipt: IptablesInput | null = null;
      const iptKey = `iptables:${n}`;
      const iptReady = (): void => {
        ipt = stage.get(iptKey) as IptablesInput;
      };
      ctx.task(
        `iptables established N=${label(n)}`,
        () => {
          const { flow, d, node } = ipt!;
          const nf = node.netfilter;
          for (let i = 0; i < ESTABLISHED_BATCH; i++) nf.classify(flow, d);
        },
        { batch: ESTABLISHED_BATCH, beforeEach: iptReady, mode: 'iptables', services: n, endpoints: ENDPOINTS, metric: 'established' },
      );
      for (const position of POSITIONS) {
        const batch = iptablesBatch(n, position);
        let port = 0;
        ctx.task(
          `iptables new-conn ${position} N=${label(n)}`,
          () => {
            const { pkt, d, node, vip } = ipt!;
            const nf = node.netfilter;
            pkt.daddr = vip[position];
            for (let i = 0; i < batch; i++) {
              port = port >= 60_000 ? 0 : port + 1;
              pkt.sport = 1024 + port; // a new 5-tuple per packet
              nf.classify(pkt, d);
            }
            node.clock.advance(121_000); // SYN_SENT (120 s) entries of this batch expire before the next
          },
          { batch, beforeEach: iptReady, mode: 'iptables', services: n, endpoints: ENDPOINTS, metric: 'new-conn', position },
        );
      }
    }

    // IPVS established packet with a big connection table
    const m = ctx.profile === 'full' ? 1_000_000 : 250_000;
    let big: IpvsInput | null = null;
    let j = 0;
    ctx.task(
      `ipvs established conns=${label(m)}`,
      () => {
        const { pkt, d, vips, node } = big!;
        const ipvs = node.ipvs!;
        for (let i = 0; i < ESTABLISHED_BATCH; i++) {
          j = (j + 7919) % m; // scattered over the whole table
          pkt.set(Protocol.TCP, (0xc0000000 + j) >>> 0, 1024 + (j & 0x7fff), vips[j % 100]!, 80, TcpFlag.ACK);
          ipvs.classify(pkt, d);
        }
      },
      {
        batch: ESTABLISHED_BATCH,
        beforeEach: () => {
          big = stage.get(`conns:${m}`) as IpvsInput;
        },
        mode: 'ipvs',
        services: 100,
        endpoints: ENDPOINTS,
        metric: 'established',
        connections: m,
      },
    );
  },
};
