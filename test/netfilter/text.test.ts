// The engine driven by text: iptables-restore input in, iptables-save out,
// iptables command lines, and packets through a real kube-proxy dump.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OperationError, ParseError } from '../../src/errors.js';
import { parseIPv4 } from '../../src/net/ipv4.js';
import { Packet } from '../../src/net/packet.js';
import { Protocol } from '../../src/net/protocol.js';
import { TcpFlag } from '../../src/net/tcp-flags.js';
import { Netfilter } from '../../src/netfilter/engine.js';

const corpus = join(import.meta.dirname, '..', 'io', 'iptables', 'corpus');
// Captured from the real iptables-legacy-save after loading kube-proxy-iptables.rules.
const dump = readFileSync(join(corpus, 'kube-proxy-iptables.legacy.save'), 'utf8');

function tableText(text: string, table: string): string {
  const start = text.indexOf(`*${table}\n`);
  return text.slice(start, text.indexOf('COMMIT\n', start) + 7);
}

describe('Netfilter text interface', () => {
  it('restores a real iptables-save dump and saves it back identically, table by table', () => {
    const nf = new Netfilter();
    nf.restoreText(dump);
    const out = nf.saveText();
    for (const t of ['mangle', 'filter', 'nat']) expect(tableText(out, t)).toBe(tableText(dump, t));
  });

  it('routes a packet to a ClusterIP of that dump through KUBE-SERVICES', () => {
    const nf = new Netfilter({ seed: 1, host: { interfaces: [{ name: 'eth0', addresses: ['192.168.0.10/24'] }] } });
    nf.restoreText(dump);
    const m = /-A KUBE-SERVICES -d (\d+\.\d+\.\d+\.\d+)\/32 -p tcp -m comment --comment "?[^"]*"? -m tcp --dport (\d+) -j KUBE-SVC-/.exec(dump);
    expect(m).not.toBeNull();
    const p = new Packet(Protocol.TCP, parseIPv4('10.244.0.9'), 40000, parseIPv4(m![1]!), Number(m![2]), TcpFlag.SYN);
    const t = nf.trace(p);
    expect(t.decision.hasBackend).toBe(true);
    expect(t.steps.some((s) => s.action?.startsWith('jump:KUBE-SEP-'))).toBe(true);
    expect(t.steps.filter((s) => s.rule > 0).length).toBe(t.decision.work.rulesEvaluated);
  });

  it('runs iptables command lines and refuses bad ones without changing anything', () => {
    const nf = new Netfilter();
    nf.exec('iptables -t filter -N __proto__');
    nf.exec('iptables -A INPUT -p tcp --dport 22 -j __proto__');
    nf.exec('iptables -A __proto__ -j ACCEPT');
    const before = nf.saveText();
    expect(before).toContain('-A INPUT -p tcp -m tcp --dport 22 -j __proto__');
    expect(() => nf.exec('iptables -X __proto__')).toThrow(OperationError);
    expect(() => nf.exec('iptables -A INPUT -m nosuchmodule -j DROP')).toThrow(ParseError);
    expect(nf.saveText()).toBe(before);
  });

  it('a failing restore names the line and leaves the table as it was', () => {
    const nf = new Netfilter();
    nf.restoreText(dump);
    const before = nf.saveText();
    const bad = '*nat\n:KUBE-NEW - [0:0]\n-A KUBE-NEW -j ACCEPT\n-A KUBE-NEW -j KUBE-MISSING\nCOMMIT\n';
    let err: unknown;
    try {
      nf.restoreText(bad, { noflush: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).line).toBe(4);
    expect(nf.saveText()).toBe(before);
  });
});
