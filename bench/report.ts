// Regenerates docs/benchmarks.md's generated section and the docs/bench-*.svg
// charts from an existing results file, without re-running anything:
//   npx tsx bench/report.ts                                  newest of full/quick-latest.json
//   npx tsx bench/report.ts bench/results/full-latest.json
// bench/run.ts calls the same code at the end of a run (unless --no-docs).
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { generateDocs, loadResults, REPO_ROOT } from './report/generate.js';

/** The default input: the more recent of bench/results/full-latest.json and quick-latest.json. */
function defaultInput(): string | undefined {
  const candidates = ['full', 'quick'].map((p) => join(REPO_ROOT, 'bench', 'results', `${p}-latest.json`)).filter((f) => existsSync(f));
  candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return candidates[0];
}

const input = process.argv[2] ?? defaultInput();
if (input === undefined) {
  console.error('bench/report.ts: no results file given and none in bench/results/; run `npm run bench` first');
  process.exitCode = 1;
} else {
  const results = loadResults(input);
  const { files } = await generateDocs(results);
  console.log(`regenerated from ${relative(process.cwd(), input)} (${results.profile}, ${results.date}):`);
  for (const f of files) console.log(`  ${relative(process.cwd(), f)}`);
}
