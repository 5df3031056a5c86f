// Runs the benchmark suites on the built package (npm run bench builds first)
// and prints the comparison: lookup and sync cost vs N for both modes, beside
// the real kernel (../shared/reference/kernel-costs.md).
//   npm run bench                   quick profile, within 3 minutes on 2 cores
//   npm run bench -- --full         sweep to 100k services
//   npm run bench -- lookup         only suites whose name contains the filter
//   npm run bench -- --json FILE    results there (default bench/results/<profile>-latest.json)
//   npm run bench -- --no-docs      do not regenerate docs/benchmarks.md and the charts
//   BENCH_TIME_MS=50 npm run bench  shorter sampling per task
// Timings are medians of tinybench samples; work counts are exact and
// machine-independent. Nothing here is part of the test run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, arch, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cpuCalibrationNs } from './calibration.js';
import { createSuiteContext, parseBenchArgs, ProgressLine, timeTask, USAGE } from './context.js';
import type { BenchArgs } from './context.js';
import { comparisonTables, suiteTable, targetsTable } from './report/comparison.js';
import { generateDocs, REPO_ROOT } from './report/generate.js';
import { buildResultsFile } from './report/results.js';
import type { ResultsFile, RunEnvironment, RunFailure, SuiteInfo } from './report/results.js';
import { renderTextTable } from './report/table.js';
import { evaluateTargets } from './report/targets.js';
import type { BenchRecord, Suite } from './types.js';

/** Makes `globalThis.gc` available (heap records are taken after a forced GC) when node was not started with --expose-gc. */
function exposeGc(): void {
  if (typeof globalThis.gc === 'function') return;
  setFlagsFromString('--expose-gc');
  globalThis.gc = runInNewContext('gc') as NonNullable<typeof globalThis.gc>;
}

/** Where and on what this run happens. */
export function runEnvironment(): RunEnvironment {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string };
  const cs = cpus();
  return {
    lbsimVersion: pkg.version ?? 'unknown',
    nodeVersion: process.version,
    cpu: { model: (cs[0]?.model ?? 'unknown').trim(), count: Math.max(1, cs.length) },
    os: { platform: platform(), release: release(), arch: arch() },
    heapLimitBytes: getHeapStatistics().heap_size_limit,
  };
}

/** The default results path of a run: `<profile>-latest.json`, or `<profile>-filtered-latest.json` for a filtered run. */
export function defaultJsonPath(args: BenchArgs): string {
  const stem = args.filters.length > 0 ? `${args.profile}-filtered-latest` : `${args.profile}-latest`;
  return join(REPO_ROOT, 'bench', 'results', `${stem}.json`);
}

/** Issue 5 §2: `npm run bench` finishes within 3 minutes on 2 cores. */
const QUICK_BUDGET_MS = 180_000;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs `suites` as `argv` asks, prints the tables and the comparison, writes
 * the results file and (for complete runs, unless --no-docs) regenerates
 * the docs. Returns the process exit code: 1 when a suite or task failed.
 */
export async function main(suites: readonly Suite[], argv: readonly string[]): Promise<number> {
  const args = parseBenchArgs(argv, process.env);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  exposeGc();
  const started = performance.now();
  const env = runEnvironment();
  const selected = suites.filter((s) => args.filters.length === 0 || args.filters.some((f) => s.name.includes(f)));
  if (selected.length === 0) {
    console.error(`no suite matches ${args.filters.join(', ')}; suites: ${suites.map((s) => s.name).join(', ')}`);
    return 1;
  }
  console.log(
    `lbsim ${env.lbsimVersion} benchmarks, ${args.profile} profile: ${selected.length} suite(s), ` +
      `${args.timing.timeMs} ms sampling per task; node ${env.nodeVersion}, ${env.cpu.count} × ${env.cpu.model}`,
  );
  const progress = new ProgressLine(process.stdout);
  const records: BenchRecord[] = [];
  const ran: SuiteInfo[] = [];
  const failures: RunFailure[] = [];
  const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  const isolate = args.profile === 'full' && selected.length > 1 && process.env[CHILD_ENV] === undefined;
  for (const suite of isolate ? selected : []) runSuiteInChild(suite, { records, ran, failures });
  for (const suite of isolate ? [] : selected) {
    console.log(`\n== ${suite.name}: ${suite.description}`);
    const suiteStart = performance.now();
    // while a task is being timed, the suite's progress messages (lazy input building) follow its name
    let current = '';
    const c = createSuiteContext(suite.name, args.profile, (m) => {
      progress.update(`  [${suite.name}] ${current}${m}`);
    });
    try {
      await suite.run(c.ctx);
    } catch (e) {
      progress.clear();
      console.error(`  suite ${suite.name} failed while building its tasks:`, e);
      failures.push({ suite: suite.name, task: null, error: firstLine(e) });
      continue;
    }
    const built = performance.now();
    const suiteRecords: BenchRecord[] = [];
    const calibration = (when: 'start' | 'end'): BenchRecord => ({
      suite: suite.name,
      task: `cpu calibration at ${when}`,
      unit: 'ns/iteration',
      value: Math.round(cpuCalibrationNs() * 1000) / 1000,
      metric: 'cpu-calibration',
    });
    const atStart = calibration('start');
    const n = c.tasks.length;
    for (let i = 0; i < n; i++) {
      const task = c.tasks[i]!;
      current = `task ${i + 1}/${n} ${task.name}: `;
      progress.update(`  [${suite.name}] task ${i + 1}/${n} ${task.name}`);
      const out = await timeTask(task, args.timing);
      if (out.ok) {
        suiteRecords.push(out.record);
      } else {
        progress.clear();
        console.error(`  task ${suite.name}/${task.name} failed:`, out.error);
        failures.push({ suite: suite.name, task: task.name, error: firstLine(out.error) });
      }
    }
    current = '';
    progress.clear();
    // timings first, then the suite's work counts, each in registration order, then the CPU probe
    const atEnd = calibration('end');
    suiteRecords.push(...c.records, atStart, atEnd);
    const drift = Math.max(atStart.value, atEnd.value) / Math.min(atStart.value, atEnd.value);
    if (drift > 1.3) {
      console.log(`  note: the CPU probe ran ${drift.toFixed(1)}× slower at one end of this suite than at the other (${atStart.value} vs ${atEnd.value} ns/iteration): this machine's speed changed while it ran, so compare its timings with care`);
    }
    records.push(...suiteRecords);
    ran.push({ name: suite.name, description: suite.description });
    const t = suiteTable(suite.name, suiteRecords, `${suite.name}: ${n} timed task(s), inputs ${seconds(built - suiteStart)}, timing ${seconds(performance.now() - built)}`);
    if (t !== undefined) console.log(renderTextTable(t));
    // let the suite's inputs go before the next suite builds its own
    c.tasks.length = 0;
    globalThis.gc?.();
  }

  const targets = evaluateTargets(records);
  const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
  const results = buildResultsFile(
    env,
    {
      date: new Date().toISOString(),
      profile: args.profile,
      settings: { timeMs: args.timing.timeMs, minIterations: args.timing.minIterations, filters: args.filters, wallSeconds },
      suites: ran,
      failures,
      records,
    },
    targets,
  );

  if (process.env[CHILD_ENV] === undefined) {
    console.log('\n================ comparison ================');
    for (const t of comparisonTables(records)) console.log(`\n${renderTextTable(t)}`);
    console.log(`\n${renderTextTable(targetsTable(targets))}`);
    const met = targets.filter((t) => t.status === 'met').length;
    const notMet = targets.filter((t) => t.status === 'not met').length;
    console.log(`\ntargets: ${met} met, ${notMet} not met, ${targets.length - met - notMet} not measured in this profile`);
  }

  const jsonPath = args.json ?? defaultJsonPath(args);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), jsonPath)}`);
  if (!args.docs) {
    console.log('docs not regenerated (--no-docs)');
  } else if (args.filters.length > 0) {
    console.log(`docs not regenerated for a filtered run; to use these numbers: npx tsx bench/report.ts ${relative(process.cwd(), jsonPath)}`);
  } else if (failures.length > 0) {
    console.log('docs not regenerated: some suites or tasks failed');
  } else {
    const { files } = await generateDocs(results);
    console.log(`regenerated ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  const total = performance.now() - started;
  console.log(`done in ${seconds(total)}${failures.length > 0 ? `, ${failures.length} failure(s)` : ''}`);
  if (args.profile === 'quick' && args.filters.length === 0 && total > QUICK_BUDGET_MS) {
    console.log(`note: the quick profile is meant to finish within ${QUICK_BUDGET_MS / 60_000} minutes on 2 cores; this run took ${seconds(total)}`);
  }
  return failures.length > 0 ? 1 : 0;
}

/** Set in the environment of a suite's own process (see {@link runSuiteInChild}). */
const CHILD_ENV = 'LBSIM_BENCH_CHILD';

/**
 * Runs one suite of a --full run in a process of its own and adds its
 * records, suite and failures to `into`. At 100k services a suite leaves
 * gigabytes of garbage and a fragmented heap behind; in one process the
 * memory suite that followed the sync suite once stalled for over half an
 * hour, and its heap figures would include what earlier suites left. A
 * process per suite starts each from a clean heap.
 */
function runSuiteInChild(suite: Suite, into: { records: BenchRecord[]; ran: SuiteInfo[]; failures: RunFailure[] }): void {
  const json = join(tmpdir(), `lbsim-bench-${process.pid}-${suite.name}.json`);
  const script = process.argv[1];
  if (script === undefined) throw new Error('bench: cannot tell which script to run for a suite process');
  // process.execArgv carries tsx's loader and --max-old-space-size
  const child = spawnSync(process.execPath, [...process.execArgv, script, '--full', '--no-docs', '--json', json, suite.name], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  let results: ResultsFile | null;
  try {
    results = JSON.parse(readFileSync(json, 'utf8')) as ResultsFile;
  } catch {
    results = null;
  } finally {
    rmSync(json, { force: true });
  }
  if (results === null) {
    const why = child.error?.message ?? (child.signal !== null ? `signal ${child.signal}` : `exit code ${String(child.status)}`);
    into.failures.push({ suite: suite.name, task: null, error: `the suite's process wrote no results (${why})` });
    return;
  }
  // the child's filter is the suite's name: keep only that suite (a name could contain another's)
  into.records.push(...results.records.filter((r) => r.suite === suite.name));
  into.ran.push(...results.suites.filter((x) => x.name === suite.name));
  into.failures.push(...results.failures.filter((f) => f.suite === suite.name));
}

/** True when this module is the process's entry point (not imported by a test or another script). */
function isEntry(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === import.meta.url;
}

if (isEntry()) {
  const { SUITES } = await import('./suites/index.js');
  process.exitCode = await main(SUITES, process.argv.slice(2));
}

