// iptables first-packet cost as services grow: kube-proxy-shaped nat rules
// (one KUBE-SERVICES rule per service, a KUBE-SVC chain of 10 statistic
// jumps, two rules per KUBE-SEP), as in kernel-costs.md's measurement. New
// connections to the first, median and last service show the linear walk of
// KUBE-SERVICES; established packets ride conntrack and walk no nat rules.
import type { Bench } from 'tinybench';
import type { RuleSpec, TableCommand } from '../../src/netfilter/ast.js';
import { lbsim } from '../imports.js';
import type { Suite } from '../run.js';

const BATCH = 200;
const E = 10;

function build(n: number) {
  const { Netfilter, Protocol } = lbsim;
  const nf = new Netfilter({ seed: 5, conntrack: { max: 0, buckets: 1 << 20 }, host: { interfaces: [{ name: 'eth0', addresses: ['10.0.0.1/16'] }, { name: 'cni0', addresses: ['10.244.0.1/16'] }] } });
  const tcp = { proto: Protocol.TCP, invert: false };
  let line = 0;
  const cmds: TableCommand[] = [];
  const add = (chain: string, rule: RuleSpec): void => {
    cmds.push({ op: 'append', chain, rule, counters: null, line: ++line });
  };
  const chains = ['KUBE-SERVICES', 'KUBE-MARK-MASQ'];
  add('PREROUTING', { matches: [], target: { kind: 'jump', chain: 'KUBE-SERVICES' } });
  add('OUTPUT', { matches: [], target: { kind: 'jump', chain: 'KUBE-SERVICES' } });
  add('KUBE-MARK-MASQ', { matches: [], target: { kind: 'MARK', value: 0x4000, mask: 0x4000 } });
  for (let s = 0; s < n; s++) {
    const svc = `KUBE-SVC-${s}`;
    chains.push(svc);
    add('KUBE-SERVICES', {
      dst: { addr: (0x0a600000 + s) >>> 0, mask: 0xffffffff, invert: false },
      proto: tcp,
      matches: [{ module: 'comment', comment: `ns/svc-${s}:http cluster IP` }, { module: 'tcp', dport: { min: 80, max: 80, invert: false } }],
      target: { kind: 'jump', chain: svc },
    });
    for (let e = 0; e < E; e++) {
      const sep = `KUBE-SEP-${s}-${e}`;
      chains.push(sep);
      const pod = (0x0af40000 + s * E + e) >>> 0;
      const last = e === E - 1;
      add(svc, {
        matches: last ? [] : [{ module: 'statistic', mode: 'random', probability: Math.round(2 ** 31 / (E - e)), invert: false }],
        target: { kind: 'jump', chain: sep },
      });
      add(sep, { src: { addr: pod, mask: 0xffffffff, invert: false }, matches: [], target: { kind: 'jump', chain: 'KUBE-MARK-MASQ' } });
      add(sep, {
        proto: tcp,
        matches: [],
        target: { kind: 'DNAT', range: { minAddr: pod, maxAddr: pod, hasPorts: true, minPort: 8080, maxPort: 8080 }, random: false, persistent: false },
      });
    }
  }
  nf.ruleset.restore({
    blocks: [{ table: 'nat', line: 0, commitLine: line + 1, chains: chains.map((name) => ({ name, policy: null, counters: null, line: 0 })), commands: cmds }],
  });
  return nf;
}

export const iptablesLookup: Suite = {
  name: 'iptables-lookup',
  batch: BATCH,
  register(bench: Bench, profile, record): void {
    const { Packet, Decision, Protocol, TcpFlag } = lbsim;
    const sizes = profile === 'full' ? [100, 1000, 5000, 10_000, 30_000] : [100, 1000, 5000];
    for (const n of sizes) {
      const nf = build(n);
      const pkt = new Packet();
      pkt.ifindex = 3;
      const d = new Decision();
      let port = 0;
      for (const [label, target] of [
        ['first', 0],
        ['median', n >> 1],
        ['last', n - 1],
      ] as const) {
        const vip = (0x0a600000 + target) >>> 0;
        const send = (): void => {
          port = (port + 1) & 0xffff;
          pkt.set(Protocol.TCP, (0x0af50000 + (port >>> 8)) >>> 0, 1024 + (port & 0xff) * 200 + (port >>> 14), vip, 80, TcpFlag.SYN);
          nf.classify(pkt, d);
        };
        bench.add(`new-conn ${label} N=${n}`, () => {
          for (let i = 0; i < BATCH; i++) send();
          nf.clock.advance(200_000); // let SYN_SENT entries (120 s) expire: a steady table
        });
        send();
        record(`new-conn ${label} N=${n}`, 'rules/packet', d.work.rulesEvaluated);
        record(`new-conn ${label} N=${n}`, 'chains/packet', d.work.chainsEntered);
      }
      // established: one flow to the last service, after its handshake
      const flow = new Packet(Protocol.TCP, 0x0af6_0001, 5555, (0x0a600000 + n - 1) >>> 0, 80, TcpFlag.SYN);
      flow.ifindex = 3;
      nf.classify(flow, d);
      const reply = new Packet(Protocol.TCP, d.daddr, 8080, 0x0af6_0001, 5555, TcpFlag.SYN | TcpFlag.ACK);
      reply.ifindex = 3;
      nf.classify(reply, d);
      flow.flags = TcpFlag.ACK;
      bench.add(`established N=${n}`, () => {
        for (let i = 0; i < BATCH; i++) nf.classify(flow, d);
      });
      nf.classify(flow, d);
      record(`established N=${n}`, 'rules/packet', d.work.rulesEvaluated);
      record(`established N=${n}`, 'hash-probes/packet', d.work.hashProbes);
    }
  },
};
