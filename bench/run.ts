// Runs the benchmark suites on the built package (npm run bench builds first).
//   npm run bench                 quick profile, a few minutes on 2 cores
//   npm run bench -- --full       sweep to 100k services
//   npm run bench -- ipvs-lookup  only suites whose name contains the filter
//   npm run bench -- --json out.json
// Timings are medians-of-samples from tinybench; work counts are exact and
// machine-independent. Nothing here is part of the test run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Bench } from 'tinybench';
import { ipvsLookup } from './suites/ipvs-lookup.js';
import { ipvsSchedulers } from './suites/ipvs-schedulers.js';
import { iptablesLookup } from './suites/iptables-lookup.js';

export type Profile = 'quick' | 'full';

/** One result line: a timing or a deterministic work count. */
export interface BenchRecord {
  name: string;
  unit: string;
  value: number;
  rme?: number;
  samples?: number;
}

export interface Suite {
  name: string;
  /** Operations per timed call; ns/op divides by it. */
  batch: number;
  register(bench: Bench, profile: Profile, record: (task: string, unit: string, value: number) => void): void;
}

const SUITES: Suite[] = [ipvsLookup, ipvsSchedulers, iptablesLookup];

const args = process.argv.slice(2);
const profile: Profile = args.includes('--full') ? 'full' : 'quick';
const jsonIndex = args.indexOf('--json');
const jsonPath = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
const filters = args.filter((a, i) => !a.startsWith('--') && (jsonIndex < 0 || i !== jsonIndex + 1));
const timeMs = Number(process.env['BENCH_TIME_MS'] ?? (profile === 'full' ? 1000 : 300));

const records: BenchRecord[] = [];
for (const suite of SUITES) {
  if (filters.length > 0 && !filters.some((f) => suite.name.includes(f))) continue;
  const bench = new Bench({ name: suite.name, time: timeMs, warmupTime: 50 });
  const work: BenchRecord[] = [];
  process.stdout.write(`\n== ${suite.name} (${profile}) ==\nbuilding inputs...\n`);
  suite.register(bench, profile, (task, unit, value) => work.push({ name: `${suite.name}/${task}`, unit, value }));
  let done = 0;
  const total = bench.tasks.length;
  bench.addEventListener('cycle', () => {
    done++;
    process.stdout.write(`\r  ${done}/${total} tasks`);
  });
  await bench.run();
  process.stdout.write('\n');
  const rows: Record<string, string | number>[] = [];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`bench ${suite.name}/${task.name} failed`, { cause: r });
    const name = `${suite.name}/${task.name}`;
    const ns = (r.latency.p50 * 1e6) / suite.batch;
    records.push({ name, unit: 'ns/op', value: Math.round(ns * 10) / 10, rme: r.latency.rme, samples: r.latency.samplesCount });
    const row: Record<string, string | number> = { task: task.name, 'median ns/op': ns.toFixed(1), 'rme %': r.latency.rme.toFixed(1) };
    for (const w of work.filter((x) => x.name === name)) row[w.unit] = w.value;
    rows.push(row);
  }
  records.push(...work);
  console.table(rows);
}

if (jsonPath !== undefined) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ node: process.version, date: new Date().toISOString(), profile, records }, null, 2));
  console.log(`wrote ${jsonPath}`);
}
