/**
 * The harness every real-kernel test shares: run commands, create network
 * namespaces the test owns (and delete them), and find out — once, with a
 * message naming what is missing — whether root, `ip netns` and the
 * iptables back ends work here. Nothing is ever run in the host's own
 * namespace and no packet is sent.
 */

import { spawnSync } from 'node:child_process';
import type { IptablesBackend } from '../../../src/io/iptables/index.js';

/** The back ends iptables 1.8.9 ships. */
export const BACKENDS: readonly IptablesBackend[] = ['legacy', 'nft'];

const created = new Set<string>();
let nsCounter = 0;

/** The outcome of one command. */
export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` with `input` on stdin; never throws. */
export function run(cmd: string, args: readonly string[], input?: string): RunResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
}

/** Whether `bin` is on PATH. */
export function which(bin: string): boolean {
  return run('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/** Deletes a namespace this harness created. */
export function deleteNs(ns: string): void {
  run('ip', ['netns', 'del', ns]);
  created.delete(ns);
}

/** Creates a fresh namespace named after `prefix`, this process and a counter. */
export function newNs(prefix = 'lbsim'): string {
  const ns = `${prefix}-${process.pid}-${nsCounter++}`;
  const r = run('ip', ['netns', 'add', ns]);
  if (r.status !== 0) throw new Error(`ip netns add ${ns} failed: ${r.stderr}`);
  created.add(ns);
  return ns;
}

/** Deletes every namespace still alive (for afterAll). */
export function deleteAllNs(): void {
  for (const ns of [...created]) deleteNs(ns);
}

/** Runs `cmd args` inside `ns`. */
export function inNs(ns: string, cmd: string, args: readonly string[], input?: string): RunResult {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

/** Runs `sh -c script` inside `ns`, throwing with stderr when it fails. */
export function shInNs(ns: string, script: string): void {
  const r = inNs(ns, 'sh', ['-c', script]);
  if (r.status !== 0) throw new Error(`"${script}" failed in ${ns}: ${r.stderr}`);
}

/** What is missing to run real-kernel tests at all, or null. */
function missingBase(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!which('ip')) return 'the ip command (iproute2) is missing';
  let ns: string;
  try {
    ns = newNs('lbsim-probe');
  } catch (e) {
    return `network namespaces do not work here (${String(e)})`;
  }
  deleteNs(ns);
  return null;
}

function missingBackend(base: string | null, backend: IptablesBackend): string | null {
  if (base !== null) return base;
  for (const b of [`iptables-${backend}-restore`, `iptables-${backend}-save`, `iptables-${backend}`]) {
    if (!which(b)) return `${b} is not installed`;
  }
  const ns = newNs('lbsim-probe');
  try {
    const r = inNs(ns, `iptables-${backend}-restore`, [], '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
    return r.status === 0 ? null : `iptables-${backend}-restore does not work in a namespace: ${r.stderr.trim()}`;
  } finally {
    deleteNs(ns);
  }
}

let probed: Map<IptablesBackend, string | null> | null = null;

/** Why real-kernel tests with `backend` cannot run here, or null when they can (probed once per process). */
export function backendMissing(backend: IptablesBackend): string | null {
  if (probed === null) {
    const base = missingBase();
    probed = new Map(BACKENDS.map((b) => [b, missingBackend(base, b)]));
  }
  return probed.get(backend) ?? null;
}

/** Why `ipset`/`nfacct` setup lines cannot run here, or null. */
export function toolsMissing(setup: readonly string[]): string | null {
  if (setup.some((l) => l.startsWith('ipset')) && !which('ipset')) return 'ipset is not installed (apt-get install ipset)';
  if (setup.some((l) => l.startsWith('nfacct')) && !which('nfacct')) return 'nfacct is not installed (apt-get install nfacct)';
  return null;
}

/** `iptables-save -t T` for each table in `ns`, `#` lines removed, in the order given. */
export function kernelSave(ns: string, backend: IptablesBackend, tables: readonly string[], counters = false): string {
  let out = '';
  for (const t of tables) {
    const s = inNs(ns, `iptables-${backend}-save`, [...(counters ? ['-c'] : []), '-t', t]);
    if (s.status !== 0) throw new Error(`iptables-${backend}-save -t ${t} failed: ${s.stderr}`);
    out += s.stdout
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => `${l}\n`)
      .join('');
  }
  return out;
}
