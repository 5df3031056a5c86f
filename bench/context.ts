// The runner's side of bench/types.ts: a SuiteContext that collects a
// suite's tasks and records, and the timing of those tasks with tinybench
// (one Bench per task, so each task can have its own sampling time and
// minimum number of calls). Also the command line and the progress line.
import { Bench } from 'tinybench';
import { InvalidArgumentError } from '../src/errors.js';
import type { BenchRecord, Profile, RecordMeta, SuiteContext, TaskOptions } from './types.js';

const WHERE = 'lbsim/bench.context';

/** A task registered by a suite, timed after the suite's `run` returns. */
export interface PendingTask {
  readonly suite: string;
  readonly name: string;
  readonly fn: () => void;
  readonly options: TaskOptions;
}

/** Defaults for tasks that do not set their own. */
export interface TimingSettings {
  /** Sampling time per task, ms. */
  readonly timeMs: number;
  /** Minimum timed calls per task. */
  readonly minIterations: number;
}

/** Default sampling per profile; BENCH_TIME_MS overrides `timeMs`. */
export const PROFILE_DEFAULTS: Readonly<Record<Profile, TimingSettings>> = {
  quick: { timeMs: 150, minIterations: 5 },
  full: { timeMs: 1000, minIterations: 10 },
};

/** The metadata fields of a record, copied only when set (exactOptionalPropertyTypes). */
export function metaOf(m: RecordMeta): RecordMeta {
  const out: { -readonly [K in keyof RecordMeta]: RecordMeta[K] } = {};
  if (m.mode !== undefined) out.mode = m.mode;
  if (m.services !== undefined) out.services = m.services;
  if (m.endpoints !== undefined) out.endpoints = m.endpoints;
  if (m.metric !== undefined) out.metric = m.metric;
  if (m.position !== undefined) out.position = m.position;
  if (m.scheduler !== undefined) out.scheduler = m.scheduler;
  if (m.connections !== undefined) out.connections = m.connections;
  return out;
}

/** A suite's context and what it collected. */
export interface CollectingContext {
  readonly ctx: SuiteContext;
  /** Tasks in registration order. */
  readonly tasks: PendingTask[];
  /** Records made with `ctx.record`, in call order. */
  readonly records: BenchRecord[];
}

/**
 * A {@link SuiteContext} for `suite` that collects tasks and records.
 *
 * @throws {InvalidArgumentError} (from the context's methods) for a duplicate task name, a batch that is not a positive integer, or a non-finite recorded value
 */
export function createSuiteContext(suite: string, profile: Profile, progress: (message: string) => void): CollectingContext {
  const tasks: PendingTask[] = [];
  const records: BenchRecord[] = [];
  const names = new Set<string>();
  const ctx: SuiteContext = {
    profile,
    task(name, fn, options) {
      if (names.has(name)) throw new InvalidArgumentError(`${WHERE}.SuiteContext.task: duplicate task name ${JSON.stringify(name)} in suite ${suite}`);
      if (!Number.isInteger(options.batch) || options.batch < 1) {
        throw new InvalidArgumentError(`${WHERE}.SuiteContext.task: batch must be a positive integer (got ${options.batch}) for ${suite}/${name}`);
      }
      if (options.minIterations !== undefined && (!Number.isInteger(options.minIterations) || options.minIterations < 1)) {
        throw new InvalidArgumentError(`${WHERE}.SuiteContext.task: minIterations must be a positive integer (got ${options.minIterations}) for ${suite}/${name}`);
      }
      names.add(name);
      tasks.push({ suite, name, fn, options });
    },
    record(task, unit, value, meta = {}) {
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${WHERE}.SuiteContext.record: value must be finite (got ${value}) for ${suite}/${task} [${unit}]`);
      if (unit === '' || unit === 'ns/op') throw new InvalidArgumentError(`${WHERE}.SuiteContext.record: unit must be a non-empty work or quantity unit, not ${JSON.stringify(unit)} (${suite}/${task})`);
      records.push({ suite, task, unit, value, ...metaOf(meta) });
    },
    progress,
  };
  return { ctx, tasks, records };
}

/** A task's timing, or why it has none. */
export type TaskOutcome = { readonly ok: true; readonly record: BenchRecord } | { readonly ok: false; readonly error: Error };

/** Rounds a ns/op value to what the measurement can carry: 0.1 ns below 1 µs, 4 significant digits above. */
export function roundNs(ns: number): number {
  if (ns < 1000) return Math.round(ns * 10) / 10;
  const scale = 10 ** (Math.floor(Math.log10(ns)) - 3);
  return Math.round(ns / scale) * scale;
}

/** Wall-clock budget of a task's timed phase, as a multiple of its sampling time (see {@link timeTask}). */
export const WALL_BUDGET_FACTOR = 3;

/**
 * Times one task with its own tinybench Bench and returns the median ns per
 * operation (p50 of the per-call latencies divided by the task's batch),
 * with tinybench's relative margin of error and the sample count.
 *
 * tinybench samples until the *timed* calls add up to the sampling time and
 * at least `minIterations` calls were made. A task whose untimed
 * `beforeEach` is much slower than its call would then run for far longer
 * than its budget, so sampling also stops once the timed phase has taken
 * {@link WALL_BUDGET_FACTOR} × the sampling time of wall clock — never
 * before `minIterations` calls. Warm-up is done here rather than by
 * tinybench (whose warm-up has the same time accounting): one call — a
 * suite's lazy input building in its first `beforeEach` happens there,
 * outside every budget — then calls for as long as the sampling time
 * (250 ms at most) of wall clock, `beforeEach` included. That long because
 * V8 optimises a hot function on a background thread: on a busy machine a
 * shorter warm-up left the first samples of a run on unoptimised code
 * (the first IPVS task measured up to 2× its steady cost).
 */
export async function timeTask(task: PendingTask, defaults: TimingSettings): Promise<TaskOutcome> {
  const o = task.options;
  const time = o.timeMs ?? defaults.timeMs;
  const minIterations = o.minIterations ?? defaults.minIterations;
  const bench = new Bench({
    name: `${task.suite}/${task.name}`,
    time,
    iterations: minIterations,
    warmup: false,
    throws: false,
  });
  const before = o.beforeEach;
  try {
    before?.();
    const f0 = performance.now();
    task.fn();
    const warmupMs = Math.min(250, time);
    const w0 = performance.now();
    // a call that alone outlasts the warm-up is warm enough: do not repeat a call of seconds
    while (w0 - f0 < warmupMs && performance.now() - w0 < warmupMs) {
      before?.();
      task.fn();
    }
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
  }
  const stop = new AbortController();
  let runCalls = 0;
  let runStart = 0;
  const beforeEach = (mode?: 'run' | 'warmup'): void => {
    if (mode === 'run') {
      if (runCalls === 0) runStart = performance.now();
      else if (runCalls >= minIterations && performance.now() - runStart > time * WALL_BUDGET_FACTOR) stop.abort();
      runCalls++;
    }
    if (before !== undefined) before();
  };
  // async: false — otherwise tinybench calls the task once at add() to see whether it returns a
  // promise, outside beforeEach, and a sync task would run without its prepared input
  bench.add(task.name, task.fn, { async: false, beforeEach, signal: stop.signal });
  await bench.run();
  const t = bench.tasks[0]!;
  const r = t.result;
  if (r.state === 'errored') return { ok: false, error: r.error };
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') {
    return { ok: false, error: new Error(`${WHERE}.timeTask: ${task.suite}/${task.name} ended in state ${r.state}`) };
  }
  const ns = (r.latency.p50 * 1e6) / o.batch;
  return {
    ok: true,
    record: {
      suite: task.suite,
      task: task.name,
      unit: 'ns/op',
      value: roundNs(ns),
      rme: Math.round(r.latency.rme * 100) / 100,
      samples: r.latency.samplesCount,
      ...metaOf(o),
    },
  };
}

/** The command line of bench/run.ts. */
export interface BenchArgs {
  readonly profile: Profile;
  /** Suite name substrings; empty selects every suite. */
  readonly filters: readonly string[];
  /** Explicit `--json FILE`, else undefined (the runner's default path). */
  readonly json: string | undefined;
  /** `--no-docs`: do not regenerate docs/benchmarks.md and the charts. */
  readonly docs: boolean;
  readonly timing: TimingSettings;
  /** `--help`. */
  readonly help: boolean;
}

/** Usage text of bench/run.ts. */
export const USAGE = `usage: npm run bench -- [--full] [--json FILE] [--no-docs] [suite-filter ...]
  --full        sweep to 100k services (default: the quick profile, a few minutes on 2 cores)
  --json FILE   write the results there (default: bench/results/<profile>-latest.json)
  --no-docs     do not regenerate docs/benchmarks.md and docs/bench-*.svg
  suite-filter  run only suites whose name contains it
env: BENCH_TIME_MS sampling time per task in ms (quick ${PROFILE_DEFAULTS.quick.timeMs}, full ${PROFILE_DEFAULTS.full.timeMs})`;

/**
 * Parses bench/run.ts's arguments.
 *
 * @throws {InvalidArgumentError} for an unknown option, `--json` without a file, or a BENCH_TIME_MS that is not a positive number
 */
export function parseBenchArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): BenchArgs {
  let profile: Profile = 'quick';
  let json: string | undefined;
  let docs = true;
  let help = false;
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--full') profile = 'full';
    else if (a === '--quick') profile = 'quick';
    else if (a === '--no-docs') docs = false;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--json') {
      const f = argv[i + 1];
      if (f === undefined || f.startsWith('--')) throw new InvalidArgumentError(`${WHERE}.parseBenchArgs: --json needs a file name`);
      json = f;
      i++;
    } else if (a.startsWith('--json=')) json = a.slice('--json='.length);
    else if (a.startsWith('-')) throw new InvalidArgumentError(`${WHERE}.parseBenchArgs: unknown option ${a}\n${USAGE}`);
    else filters.push(a);
  }
  const d = PROFILE_DEFAULTS[profile];
  const raw = env['BENCH_TIME_MS'];
  let timeMs = d.timeMs;
  if (raw !== undefined && raw !== '') {
    timeMs = Number(raw);
    if (!Number.isFinite(timeMs) || timeMs <= 0) throw new InvalidArgumentError(`${WHERE}.parseBenchArgs: BENCH_TIME_MS must be a positive number of ms (got ${raw})`);
  }
  return { profile, filters, json, docs, timing: { timeMs, minIterations: d.minIterations }, help };
}

/**
 * One progress line. On a TTY it is rewritten in place (`\r`, clear to end
 * of line); elsewhere every update is its own line, so logs stay readable.
 */
export class ProgressLine {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #shown = false;

  /** @param out - the stream to write to (process.stdout) */
  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    // isTTY and columns are undefined on pipes, whatever the typings say
    this.#tty = (out.isTTY as boolean | undefined) === true;
  }

  /** Shows `text` as the current progress. */
  update(text: string): void {
    if (this.#tty) {
      const reported = this.#out.columns as number | undefined; // 0 or undefined on some pseudo-terminals
      const cols = reported !== undefined && reported > 20 ? reported : 100;
      const line = text.length >= cols ? `${text.slice(0, cols - 2)}…` : text;
      this.#out.write(`\r\x1b[K${line}`);
      this.#shown = true;
    } else {
      this.#out.write(`${text}\n`);
    }
  }

  /** Clears the progress line (TTY), so the next output starts on a clean line. */
  clear(): void {
    if (this.#tty && this.#shown) this.#out.write('\r\x1b[K');
    this.#shown = false;
  }
}
