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

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { SavedTable, TableName } from '../../../src/netfilter/ast.js';
import { parseRestore, printSave, restoreToSavedTables, type IptablesBackend } from '../../../src/io/iptables/index.js';
import { CONFORMANCE_SETUP, savedTableArb } from './arbitraries.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const BACKENDS: readonly IptablesBackend[] = ['legacy', 'nft'];
const created = new Set<string>();
let nsCounter = 0;

function run(cmd: string, args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
}

function which(bin: string): boolean {
  return run('sh', ['-c', `command -v ${bin}`]).status === 0;
}

function deleteNs(ns: string): void {
  run('ip', ['netns', 'del', ns]);
  created.delete(ns);
}

function newNs(): string {
  const ns = `lbsim-io-${process.pid}-${nsCounter++}`;
  const r = run('ip', ['netns', 'add', ns]);
  if (r.status !== 0) throw new Error(`ip netns add ${ns} failed: ${r.stderr}`);
  created.add(ns);
  return ns;
}

/** What is missing to run the conformance tests at all, or null. */
function missingBase(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!which('ip')) return 'the ip command (iproute2) is missing';
  let ns: string;
  try {
    ns = newNs();
  } catch (e) {
    return `network namespaces do not work here (${String(e)})`;
  }
  deleteNs(ns);
  return null;
}

/** What is missing for one back end, or null. */
function missingBackend(backend: IptablesBackend): string | null {
  for (const b of [`iptables-${backend}-restore`, `iptables-${backend}-save`]) if (!which(b)) return `${b} is not installed`;
  const ns = newNs();
  try {
    const r = run('ip', ['netns', 'exec', ns, `iptables-${backend}-restore`], '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
    return r.status === 0 ? null : `iptables-${backend}-restore does not work in a namespace: ${r.stderr.trim()}`;
  } finally {
    deleteNs(ns);
  }
}

const baseMissing = missingBase();
const backendMissing = new Map<IptablesBackend, string | null>(BACKENDS.map((b) => [b, baseMissing ?? missingBackend(b)]));
const toolsMissing = (setup: readonly string[]): string | null => {
  if (setup.some((l) => l.startsWith('ipset')) && !which('ipset')) return 'ipset is not installed (apt-get install ipset)';
  if (setup.some((l) => l.startsWith('nfacct')) && !which('nfacct')) return 'nfacct is not installed (apt-get install nfacct)';
  return null;
};

afterAll(() => {
  for (const ns of [...created]) deleteNs(ns);
});

/**
 * Loads `text` with the real iptables-restore and returns what the real
 * iptables-save prints for `tables` (in that order), `#` lines removed.
 */
function throughKernel(backend: IptablesBackend, text: string, setup: readonly string[], tables: readonly TableName[]): string {
  const ns = newNs();
  try {
    for (const cmd of setup) {
      const s = run('ip', ['netns', 'exec', ns, 'sh', '-c', cmd]);
      if (s.status !== 0) throw new Error(`setup "${cmd}" failed: ${s.stderr}`);
    }
    const r = run('ip', ['netns', 'exec', ns, `iptables-${backend}-restore`, '--counters'], text);
    if (r.status !== 0) throw new Error(`iptables-${backend}-restore refused lbsim's output: ${r.stderr}\n--- input ---\n${text}`);
    let out = '';
    for (const t of tables) {
      const s = run('ip', ['netns', 'exec', ns, `iptables-${backend}-save`, '-c', '-t', t]);
      if (s.status !== 0) throw new Error(`iptables-${backend}-save -t ${t} failed: ${s.stderr}`);
      out += s.stdout
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => `${l}\n`)
        .join('');
    }
    return out;
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
  const missing = backendMissing.get(backend) ?? null;
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
