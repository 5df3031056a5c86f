// Replay a node's `iptables-save` dump and follow one packet through it, rule
// by rule, like `-j TRACE`: where it goes, which endpoint it gets, and what
// the walk costs. Then the connection's second packet, which rides conntrack.
// Run: npx tsx docs/examples/trace-packet.ts
import { Decision, formatIPv4, Netfilter, Packet, parseIPv4, Protocol, TcpFlag } from 'lbsim';

// In real use: readFileSync('node.rules', 'utf8') from `iptables-save` on the node.
const dump = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-WEB - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j RETURN
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB
-A KUBE-SVC-WEB ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB -m comment --comment "shop/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A
-A KUBE-SVC-WEB -m comment --comment "shop/web:http -> 10.244.2.7:8080" -j KUBE-SEP-B
-A KUBE-SEP-A -s 10.244.1.5/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-A -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A KUBE-SEP-B -s 10.244.2.7/32 -m comment --comment "shop/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-B -p tcp -m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination 10.244.2.7:8080
COMMIT
`;

const nf = new Netfilter({
  seed: 7, // the statistic match draws from this seed: same seed, same endpoint
  host: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.10/24'] }, { name: 'cni0', addresses: ['10.244.0.1/24'] }] },
});
nf.restoreText(dump); // a malformed line throws a ParseError with line and column, and changes nothing

// A pod on this node (arriving on cni0) opens a connection to the ClusterIP.
const syn = new Packet(Protocol.TCP, parseIPv4('10.244.0.5'), 40000, parseIPv4('10.96.0.10'), 80, TcpFlag.SYN);
syn.ifindex = nf.host.ifindex('cni0');
const { decision, steps } = nf.trace(syn);
for (const s of steps) {
  if (s.matched && s.rule > 0) console.log(`${s.table} ${s.chain} #${s.rule} -> ${s.action}`);
}
console.log(decision.verdict, `${formatIPv4(decision.backendAddr)}:${decision.backendPort}`);
console.log('rules evaluated', decision.work.rulesEvaluated, 'chains entered', decision.work.chainsEntered);

// The backend answers (arriving from the other node on eth0): conntrack undoes the DNAT on the reply, so the
// pod sees the ClusterIP as the source. Then the pod's ACK: conntrack already holds the binding, nat is not
// walked again. (Sending the ACK before the SYN-ACK would be INVALID to TCP conntrack and go out un-NATed.)
const synAck = new Packet(Protocol.TCP, decision.backendAddr, decision.backendPort, syn.saddr, syn.sport, TcpFlag.SYN | TcpFlag.ACK);
synAck.ifindex = nf.host.ifindex('eth0');
const reply = nf.classify(synAck, new Decision());
console.log(reply.direction, reply.verdict, 'source seen by the pod', `${formatIPv4(reply.saddr)}:${reply.sport}`, 'rules evaluated', reply.work.rulesEvaluated);
syn.flags = TcpFlag.ACK;
const next = nf.classify(syn, new Decision());
console.log(next.direction, next.verdict, `${formatIPv4(next.backendAddr)}:${next.backendPort}`, 'rules evaluated', next.work.rulesEvaluated);

// Why: the pod's SYN enters on cni0 and walks raw, mangle and nat PREROUTING (only nat has rules here; empty
// built-in chains are entered and fall to their policy, so they are filtered out above). KUBE-SERVICES: the
// first rule (another ClusterIP) fails, the second jumps. KUBE-SVC-WEB: the masquerade rule fails (the source
// is inside 10.244.0.0/16), the 0.5 statistic draw fails for this seed, the last rule jumps. KUBE-SEP-B: the
// hairpin rule fails, DNAT. 1 + 2 + 3 + 2 = 8 rules. 10.244.2.7 is not local, so the packet is forwarded:
// mangle/filter/security FORWARD and mangle/nat POSTROUTING, 11 chains entered in all.

// Output:
// nat PREROUTING #1 -> jump:KUBE-SERVICES
// nat KUBE-SERVICES #2 -> jump:KUBE-SVC-WEB
// nat KUBE-SVC-WEB #3 -> jump:KUBE-SEP-B
// nat KUBE-SEP-B #2 -> DNAT
// forwarded 10.244.2.7:8080
// rules evaluated 8 chains entered 11
// reply forwarded source seen by the pod 10.96.0.10:80 rules evaluated 0
// original forwarded 10.244.2.7:8080 rules evaluated 0
