/**
 * The corpus: realistic rulesets as their generators write them (`*.rules`)
 * and what the real iptables-legacy-save / iptables-nft-save 1.8.9 printed
 * after iptables-restore loaded them (`*.legacy.save`, `*.nft.save`,
 * captured once in a network namespace, `#` lines removed, tables in the
 * order of the `.rules` file). No root needed; kernel-conformance.test.ts
 * repeats the capture live when it can.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RuleSpec, SavedChain, SavedTable, TableCommand, TableName } from '../../../src/netfilter/ast.js';
import { BUILTIN_CHAINS, parseIptablesCommand, parseRestore, printSave, restoreToSavedTables, saveChainOrder } from '../../../src/io/iptables/index.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const names = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.rules'))
  .map((f) => f.slice(0, -'.rules'.length))
  .sort();
const read = (f: string): string => readFileSync(join(CORPUS, f), 'utf8');

describe('corpus', () => {
  it('has the five rulesets', () => {
    expect(names).toEqual(['docker', 'edge-chains', 'host-firewall', 'kube-proxy-iptables', 'kube-proxy-ipvs']);
  });
  for (const name of names) {
    describe(name, () => {
      const tables = restoreToSavedTables(parseRestore(read(`${name}.rules`)));
      it('prints exactly what iptables-legacy-save printed', () => {
        expect(printSave(tables)).toBe(read(`${name}.legacy.save`));
      });
      it('prints exactly what iptables-nft-save printed (backend nft)', () => {
        expect(printSave(tables, { backend: 'nft' })).toBe(read(`${name}.nft.save`));
      });
      it('reads the iptables-save output back to the same tables', () => {
        const back = restoreToSavedTables(parseRestore(read(`${name}.legacy.save`)));
        // the .rules files declare chains in their own order; iptables-save sorts them
        expect(back).toEqual(tables.map((t) => ({ name: t.name, chains: saveChainOrder(t.name, t.chains) })));
        expect(printSave(back)).toBe(read(`${name}.legacy.save`));
      });
    });
  }

  it('kube-proxy: statistic probabilities are stored as the kernel fraction and printed with 11 decimals', () => {
    const save = read('kube-proxy-iptables.legacy.save');
    expect(save).toContain('-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-MB57XNI2UZXGZFT5');
    expect(save).toContain('-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-TVWIR6ITZOYJ5ZYP');
    const tables = restoreToSavedTables(parseRestore(read('kube-proxy-iptables.rules')));
    const svc = tables.find((t) => t.name === 'nat')?.chains.find((c) => c.name === 'KUBE-SVC-7OWMLJBKZAZEWOVY');
    // lround(0x80000000 * 0.3333333333) = 715827883 and lround(0x80000000 * 0.5) = 1073741824
    expect(svc?.rules.map((r) => r.spec.matches.find((m) => m.module === 'statistic'))).toEqual([
      undefined,
      { module: 'statistic', mode: 'random', probability: 715827883, invert: false },
      { module: 'statistic', mode: 'random', probability: 1073741824, invert: false },
      undefined,
    ]);
  });
});

/** A minimal applier of -N/-P/-A/-I for the test below (the real engine lives in src/netfilter). */
function apply(commands: readonly { table: TableName; command: TableCommand }[]): SavedTable[] {
  const tables = new Map<TableName, Map<string, { policy: SavedChain['policy']; rules: RuleSpec[] }>>();
  const table = (t: TableName): Map<string, { policy: SavedChain['policy']; rules: RuleSpec[] }> => {
    let m = tables.get(t);
    if (m === undefined) {
      m = new Map((BUILTIN_CHAINS.get(t) ?? []).map((c) => [c, { policy: 'ACCEPT' as const, rules: [] }]));
      tables.set(t, m);
    }
    return m;
  };
  for (const { table: t, command: c } of commands) {
    const chains = table(t);
    const chain = (n: string): { policy: SavedChain['policy']; rules: RuleSpec[] } => {
      const ch = chains.get(n);
      if (ch === undefined) throw new Error(`no chain ${n}`);
      return ch;
    };
    if (c.op === 'newChain') chains.set(c.chain, { policy: null, rules: [] });
    else if (c.op === 'policy') chain(c.chain).policy = c.policy;
    else if (c.op === 'append') chain(c.chain).rules.push(c.rule);
    else if (c.op === 'insert') chain(c.chain).rules.splice(c.index - 1, 0, c.rule);
    else throw new Error(`unexpected ${c.op}`);
  }
  return [...tables].map(([name, chains]) => ({
    name,
    chains: [...chains].map(([n, ch]) => ({ name: n, policy: ch.policy, counters: { packets: 0, bytes: 0 }, rules: ch.rules.map((spec) => ({ spec, counters: { packets: 0, bytes: 0 } })) })),
  }));
}

describe('iptables commands (docker.sh) build the same tables as docker.rules', () => {
  it('prints byte-identical iptables-save output', () => {
    const commands = read('docker.sh')
      .split('\n')
      .map((line, i) => ({ line, n: i + 1 }))
      .filter(({ line }) => line.trim() !== '' && !line.startsWith('#'))
      .map(({ line, n }) => parseIptablesCommand(line, n));
    expect(printSave(apply(commands))).toBe(read('docker.legacy.save'));
  });
});
