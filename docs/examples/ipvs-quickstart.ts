// Build one IPVS virtual service, send a connection through it, watch the
// counters and the simulated clock. Run: npx tsx docs/examples/ipvs-quickstart.ts
import { Decision, ForwardMethod, formatIPv4, Ipvs, Packet, parseIPv4, Protocol, TcpFlag } from 'lbsim';

const ipvs = new Ipvs({ seed: 1 }); // one seed → byte-identical runs
const svc = { proto: Protocol.TCP, addr: parseIPv4('10.96.0.10'), port: 80 };
ipvs.addService(svc, { scheduler: 'rr' });
for (const rip of ['10.244.1.5', '10.244.2.7']) {
  ipvs.addDest(svc, parseIPv4(rip), 8080, { fwd: ForwardMethod.MASQ });
}

const pkt = new Packet(Protocol.TCP, parseIPv4('10.244.9.9'), 40000, svc.addr, 80, TcpFlag.SYN);
const d = new Decision();
ipvs.classify(pkt, d);
console.log(d.verdict, d.reason, `${formatIPv4(d.backendAddr)}:${d.backendPort}`);
console.log('work', JSON.stringify(d.work.toJSON()));

// The newest real server is first in the kernel's list, so rr picked it.
const dest = ipvs.getService(svc)!.dests[0]!;
console.log('active/inactive', dest.activeConns, dest.inactConns);

pkt.flags = TcpFlag.ACK; // the client's ACK completes the handshake
ipvs.classify(pkt, d);
console.log('active/inactive', dest.activeConns, dest.inactConns);

ipvs.clock.advance(900_000); // ESTABLISHED lasts 900 s without traffic
console.log('connections left', ipvs.connectionCount);

// Output:
// forwarded new-connection 10.244.2.7:8080
// work {"rulesEvaluated":0,"chainsEntered":0,"hashProbes":2,"chainSteps":1,"destsExamined":1}
// active/inactive 0 1
// active/inactive 1 0
// connections left 0
