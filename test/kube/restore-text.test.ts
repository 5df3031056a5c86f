// kubeProxyRestoreText against upstream: the expected restore input of TestOverallIPTablesRules
// (kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go), verbatim. Upstream compares after
// sortIPTablesRules, so the line multiset is what must match; with it, the byte count of lbsim's restore input
// is the byte count of kube-proxy's.
import { describe, expect, it } from 'vitest';
import { generateIptablesRules, probabilityFraction, probabilityString } from '../../src/kube/iptables-rules.js';
import { kubeProxyRestoreBytes, kubeProxyRestoreText, kubeProxyRuleLine, utf8ByteLength } from '../../src/kube/restore-text.js';
import { parseRuleLine } from './restore-lines.js';
import { fakeProxierConfig, TEST_NODE } from './helpers.js';
import { EXPECTED_FILTER, EXPECTED_NAT, overallCluster } from './overall-fixture.js';

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

describe('kube-proxy restore text', () => {
  // NewFakeProxier: no --random-fully, nfacct available (as in iptables-overall.test.ts)
  const rules = generateIptablesRules(overallCluster(), TEST_NODE, fakeProxierConfig(), { randomFully: false, nfacct: true, chainOrder: 'restore' });
  const text = kubeProxyRestoreText(rules.restore);

  it('writes exactly upstream\'s lines (the same multiset: upstream sorts before comparing)', () => {
    const want = [...lines(EXPECTED_FILTER), ...lines(EXPECTED_NAT)].sort();
    expect(lines(text).sort()).toEqual(want);
  });

  it('writes the filter block first, then nat, each closed by COMMIT', () => {
    const l = lines(text);
    expect(l[0]).toBe('*filter');
    expect(l.indexOf('*nat')).toBeGreaterThan(0);
    expect(l.filter((x) => x === 'COMMIT')).toHaveLength(2);
    expect(l.at(-1)).toBe('COMMIT');
  });

  it('counts bytes without building the text', () => {
    expect(kubeProxyRestoreBytes(rules.restore)).toBe(text.length);
    const upstreamBytes = (EXPECTED_FILTER + EXPECTED_NAT).trimStart().replace(/\n\n/g, '\n').length;
    expect(kubeProxyRestoreBytes(rules.restore)).toBe(upstreamBytes);
    expect(utf8ByteLength('aé€😀')).toBe(1 + 2 + 3 + 4);
  });

  it('round-trips through the upstream-line reader for every rule', () => {
    for (const cmd of rules.restore.blocks.flatMap((b) => b.commands)) {
      if (cmd.op !== 'append') continue;
      const line = kubeProxyRuleLine(cmd.chain, cmd.rule);
      expect(parseRuleLine(line)).toEqual({ chain: cmd.chain, rule: cmd.rule });
    }
  });

  it('prints the probability kube-proxy wrote, recovered from the kernel fraction', () => {
    for (const n of [2, 3, 7, 10, 999, 1000, 1001, 5000]) {
      const line = kubeProxyRuleLine('KUBE-SVC-X', {
        matches: [{ module: 'statistic', mode: 'random', probability: probabilityFraction(n), invert: false }],
        target: { kind: 'jump', chain: 'KUBE-SEP-Y' },
      });
      expect(line).toBe(`-A KUBE-SVC-X -m statistic --mode random --probability ${probabilityString(n)} -j KUBE-SEP-Y`);
    }
  });

  it('writes IPVS-mode shapes: protocol first, set matches, -s after the set, -X lines', () => {
    expect(
      kubeProxyRuleLine('KUBE-NODE-PORT', {
        proto: { proto: 6, invert: false },
        matches: [
          { module: 'comment', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
          { module: 'set', setName: 'KUBE-NODE-PORT-TCP', dirs: ['dst'], invert: false, returnNomatch: false },
        ],
        target: { kind: 'jump', chain: 'KUBE-MARK-MASQ' },
      }),
    ).toBe('-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ');
    expect(
      kubeProxyRuleLine('KUBE-SERVICES', {
        src: { addr: 0x0a000000, mask: 0xff000000, invert: true },
        matches: [
          { module: 'comment', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
          { module: 'set', setName: 'KUBE-CLUSTER-IP', dirs: ['dst', 'dst'], invert: false, returnNomatch: false },
        ],
        target: { kind: 'jump', chain: 'KUBE-MARK-MASQ' },
      }),
    ).toBe(
      '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    );
    expect(kubeProxyRestoreText({ blocks: [{ table: 'nat', line: 1, chains: [{ name: 'KUBE-SEP-OLD', policy: null, counters: null, line: 2 }], commands: [{ op: 'deleteChain', chain: 'KUBE-SEP-OLD', line: 3 }], commitLine: 4 }] })).toBe(
      '*nat\n:KUBE-SEP-OLD - [0:0]\n-X KUBE-SEP-OLD\nCOMMIT\n',
    );
  });

  it('refuses what kube-proxy never writes', () => {
    expect(() => kubeProxyRuleLine('X', { matches: [{ module: 'multiport', kind: 'dports', ports: [{ min: 1, max: 2 }], invert: false }], target: null })).toThrow(
      /lbsim\/kube.restoreText: match module multiport/,
    );
  });
});
