/**
 * Conformance with the real iptables 1.8.9: lbsim prints a ruleset, the real
 * `iptables-restore --counters` loads it into a network namespace created for
 * the test, the real `iptables-save -c` reads it back, and lbsim must parse
 * that output to the same document and print it byte for byte. Runs for the
 * corpus files and for seeded random rulesets, with both back ends (legacy
 * and nft). Needs root, `ip netns`, iptables-{legacy,nft}-restore/-save,
 * and `ipset`/`nfacct` for the files that use sets and accounting objects;
 * whatever is missing is skipped with a message naming it. Every namespace
 * is deleted (finally + afterAll). The host's own tables are never touched
 * and no packet is sent.
 */

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { SavedTable, TableName } from '../../../src/netfilter/ast.js';
import { parseRestore, printSave, restoreToSavedTables, type IptablesBackend } from '../../../src/io/iptables/index.js';
import { CONFORMANCE_SETUP, savedTableArb } from './arbitraries.js';
import { BACKENDS, backendMissing, deleteAllNs, deleteNs, inNs, kernelSave, newNs, toolsMissing } from './netns.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
afterAll(deleteAllNs);

/**
 * Loads `text` with the real iptables-restore and returns what the real
 * iptables-save prints for `tables` (in that order), `#` lines removed.
 */
function throughKernel(backend: IptablesBackend, text: string, setup: readonly string[], tables: readonly TableName[]): string {
  const ns = newNs('lbsim-io');
  try {
    for (const cmd of setup) {
      const s = inNs(ns, 'sh', ['-c', cmd]);
      if (s.status !== 0) throw new Error(`setup "${cmd}" failed: ${s.stderr}`);
    }
    const r = inNs(ns, `iptables-${backend}-restore`, ['--counters'], text);
    if (r.status !== 0) throw new Error(`iptables-${backend}-restore refused lbsim's output: ${r.stderr}\n--- input ---\n${text}`);
    return kernelSave(ns, backend, tables, true);
  } finally {
    deleteNs(ns);
  }
}

/** The whole check for one ruleset: lbsim text → kernel → iptables-save text → lbsim. */
function conform(backend: IptablesBackend, tables: readonly SavedTable[], setup: readonly string[]): void {
  const printed = printSave(tables, { counters: true, backend });
  const saved = throughKernel(
    backend,
    printed,
    setup,
    tables.map((t) => t.name),
  );
  expect(saved).toBe(printed);
  const reparsed = restoreToSavedTables(parseRestore(saved, { counters: true }));
  expect(reparsed).toEqual(restoreToSavedTables(parseRestore(printed, { counters: true })));
  expect(printSave(reparsed, { counters: true, backend })).toBe(saved);
}

const corpusNames = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((f) => f.endsWith('.rules'))
      .map((f) => f.slice(0, -'.rules'.length))
      .sort()
  : [];

const SEED = Number(process.env['FC_SEED'] ?? 20260128);

for (const backend of BACKENDS) {
  const missing = backendMissing(backend);
  describe(`real iptables-${backend} 1.8.9${missing === null ? '' : ` (skipped: ${missing})`}`, () => {
    for (const name of corpusNames) {
      const setupFile = join(CORPUS, `${name}.setup`);
      const setup = existsSync(setupFile) ? readFileSync(setupFile, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
      const skip = missing ?? toolsMissing(setup);
      it.skipIf(skip !== null)(`corpus ${name}${skip !== null && missing === null ? ` (skipped: ${skip})` : ''}`, () => {
        const tables = restoreToSavedTables(parseRestore(readFileSync(join(CORPUS, `${name}.rules`), 'utf8')));
        conform(backend, tables, setup);
      });
    }

    const skipRandom = missing ?? toolsMissing(CONFORMANCE_SETUP);
    it.skipIf(skipRandom !== null)(
      `30 random rulesets (seed ${SEED})${skipRandom !== null && missing === null ? ` (skipped: ${skipRandom})` : ''}`,
      () => {
        const samples = fc.sample(savedTableArb(), { seed: SEED, numRuns: 30 });
        for (const table of samples) conform(backend, [table], CONFORMANCE_SETUP);
      },
      60_000,
    );
  });
}
