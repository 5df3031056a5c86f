// Reading a results file back and regenerating the docs from it:
// docs/benchmarks.md's generated section and the docs/bench-*.svg charts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../src/errors.js';
import { renderCharts } from './chart.js';
import { renderGenerated, spliceGenerated } from './markdown.js';
import type { ChartRef } from './markdown.js';
import type { ResultsFile } from './results.js';
import { evaluateTargets } from './targets.js';
import { validateAgainstSchema } from './validate.js';
import type { SchemaNode } from './validate.js';

/** The repository root (bench/report/ is two levels down). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** Path of the results JSON Schema. */
export const SCHEMA_PATH = join(REPO_ROOT, 'bench', 'results', 'schema.json');

/** The results JSON Schema, parsed. */
export function loadSchema(path = SCHEMA_PATH): SchemaNode {
  return JSON.parse(readFileSync(path, 'utf8')) as SchemaNode;
}

/**
 * Reads and validates a results file.
 *
 * @throws {InvalidArgumentError} listing the schema violations, when the file does not match bench/results/schema.json
 */
export function loadResults(path: string): ResultsFile {
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const errors = validateAgainstSchema(loadSchema(), value);
  if (errors.length > 0) {
    throw new InvalidArgumentError(`lbsim/bench.report.loadResults: ${path} does not match bench/results/schema.json:\n  ${errors.slice(0, 20).join('\n  ')}`);
  }
  return value as ResultsFile;
}

/** Chart file stem → alt text, in embedding order. */
const CHART_ALT: ReadonlyMap<string, string> = new Map([
  ['bench-cost-vs-n', 'Lookup cost vs N for IPVS and iptables, simulated, beside the modeled kernel cost'],
  ['bench-sync-vs-n', 'Sync cost vs N, simulated, beside the measured iptables-restore'],
]);

/** Where {@link generateDocs} writes. */
export interface DocsPaths {
  /** docs/ directory: holds benchmarks.md and receives the SVGs. */
  readonly docsDir: string;
}

/** What {@link generateDocs} wrote. */
export interface GeneratedDocs {
  readonly files: readonly string[];
}

/**
 * Regenerates the docs from `results`: the charts, then the marked section
 * of benchmarks.md. Targets are re-evaluated from the records with the
 * current definitions, so editing a target needs no re-run.
 */
export async function generateDocs(results: ResultsFile, paths: DocsPaths = { docsDir: join(REPO_ROOT, 'docs') }): Promise<GeneratedDocs> {
  const files: string[] = [];
  const fresh: ResultsFile = { ...results, targets: evaluateTargets(results.records) };
  const charts: ChartRef[] = [];
  for (const [stem, svg] of await renderCharts(fresh.records)) {
    const file = join(paths.docsDir, `${stem}.svg`);
    writeFileSync(file, svg);
    files.push(file);
    charts.push({ file: `${stem}.svg`, alt: CHART_ALT.get(stem) ?? stem });
  }
  const mdPath = join(paths.docsDir, 'benchmarks.md');
  const doc = readFileSync(mdPath, 'utf8');
  writeFileSync(mdPath, spliceGenerated(doc, renderGenerated(fresh, charts)));
  files.push(mdPath);
  return { files };
}
