// nf_nat_inet_fn: the nat table is consulted only while a connection's
// binding is not set up. Over random flows and packets (both directions),
// no packet but a connection's first ever walks a nat rule.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { Netfilter } from '../../src/netfilter/engine.js';

const RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-X - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-B -p tcp -j DNAT --to-destination 10.244.2.7:8080
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A
-A KUBE-SVC-X -j KUBE-SEP-B
COMMIT
`;

const step = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), client: fc.nat(20) }),
  fc.record({ kind: fc.constant('client' as const), flow: fc.nat(), flags: fc.constantFrom(TcpFlag.ACK, TcpFlag.ACK | TcpFlag.PSH, TcpFlag.FIN | TcpFlag.ACK, TcpFlag.RST) }),
  fc.record({ kind: fc.constant('server' as const), flow: fc.nat(), flags: fc.constantFrom(TcpFlag.SYN | TcpFlag.ACK, TcpFlag.ACK, TcpFlag.FIN | TcpFlag.ACK) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 200_000 }) }),
);

test.prop([fc.integer(), fc.array(step, { maxLength: 80 })])('only a connection’s first packet walks the nat table', (seed, steps) => {
  const nf = new Netfilter({ seed, host: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.10/24'] }, { name: 'cni0', addresses: ['10.244.0.1/16'] }] } });
  nf.restoreText(RULES);
  const flows: { client: number; port: number; backend: number; bport: number }[] = [];
  let port = 30000;
  for (const s of steps) {
    if (s.kind === 'wait') {
      nf.clock.advance(s.ms);
      continue;
    }
    let p: Packet;
    if (s.kind === 'open') {
      p = new Packet(Protocol.TCP, parseIPv4('10.244.9.1') + s.client, ++port, parseIPv4('10.96.0.10'), 80, TcpFlag.SYN);
    } else {
      if (flows.length === 0) continue;
      const f = flows[s.flow % flows.length]!;
      p =
        s.kind === 'client'
          ? new Packet(Protocol.TCP, f.client, f.port, parseIPv4('10.96.0.10'), 80, s.flags)
          : new Packet(Protocol.TCP, f.backend, f.bport, f.client, f.port, s.flags);
    }
    p.ifindex = 3;
    const t = nf.trace(p);
    const natSteps = t.steps.filter((x) => x.table === 'nat').length;
    if (t.decision.newConnection) {
      if (s.kind === 'open' && t.decision.hasBackend) {
        flows.push({ client: p.saddr, port: p.sport, backend: t.decision.daddr, bport: t.decision.dport });
      }
    } else {
      expect(natSteps).toBe(0);
    }
  }
});
