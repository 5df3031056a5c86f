// The generated part of docs/benchmarks.md: everything between the
// BEGIN/END GENERATED markers is rebuilt from a results file; the
// hand-written text around it is kept byte for byte.
import { InvalidArgumentError } from '../../src/errors.js';
import { comparisonTables, suiteTable, targetsTable } from './comparison.js';
import type { ResultsFile } from './results.js';
import { renderMarkdownTable } from './table.js';
import type { Table } from './table.js';

/** Opening marker of the generated section. */
export const BEGIN_MARKER = '<!-- BEGIN GENERATED: bench/report.ts -->';
/** Closing marker of the generated section. */
export const END_MARKER = '<!-- END GENERATED -->';

/** A chart embedded in the section: file name relative to docs/ and its alt text. */
export interface ChartRef {
  readonly file: string;
  readonly alt: string;
}

function section(table: Table, level = '###'): string {
  const parts = [`${level} ${table.title}`, ''];
  if (table.note !== undefined) parts.push(table.note, '');
  parts.push(renderMarkdownTable(table));
  return parts.join('\n');
}

/** One line saying where the numbers come from. */
export function provenance(r: ResultsFile): string {
  const filters = r.settings.filters.length > 0 ? `; suites filtered by ${r.settings.filters.map((f) => `\`${f}\``).join(', ')}` : '';
  return (
    `Profile **${r.profile}**, ${r.date.slice(0, 10)}: lbsim ${r.lbsimVersion}, Node ${r.nodeVersion}, ` +
    `${r.cpu.count} × ${r.cpu.model}, ${r.os.platform} ${r.os.release} ${r.os.arch}; ` +
    `${r.settings.timeMs} ms sampling and ≥ ${r.settings.minIterations} timed calls per task unless the task sets its own${filters}; ` +
    `whole run ${Math.round(r.settings.wallSeconds)} s.`
  );
}

/** The markdown between the markers (markers excluded) for one results file. */
export function renderGenerated(results: ResultsFile, charts: readonly ChartRef[] = []): string {
  const out: string[] = [
    '<!-- Do not edit by hand: `npx tsx bench/report.ts [bench/results/<profile>-latest.json]` rebuilds this section. -->',
    '',
    '## Results',
    '',
    provenance(results),
    '',
  ];
  if (results.failures.length > 0) {
    out.push(`**${results.failures.length} failure(s) in this run** (their timings are missing):`, '');
    for (const f of results.failures) out.push(`- \`${f.suite}${f.task === null ? '' : `/${f.task}`}\`: ${f.error}`);
    out.push('');
  }
  for (const c of charts) out.push(`![${c.alt}](${c.file})`, '');
  const targets = targetsTable(results.targets);
  out.push(section(targets), '');
  for (const t of comparisonTables(results.records)) out.push(section(t), '');
  const suites = results.suites.length > 0 ? results.suites : [...new Set(results.records.map((r) => r.suite))].map((name) => ({ name, description: '' }));
  if (suites.length > 0) {
    out.push('### All records, per suite', '');
    for (const s of suites) {
      const t = suiteTable(s.name, results.records);
      if (t === undefined) continue;
      const summary = s.description === '' ? `<code>${s.name}</code>` : `<code>${s.name}</code>: ${escapeHtml(s.description)}`;
      out.push('<details>', `<summary>${summary}</summary>`, '', renderMarkdownTable(t), '', '</details>', '');
    }
  }
  return out.join('\n').trimEnd();
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Replaces the generated section of `doc` with `generated` (markers kept).
 * A document without markers gets the section appended at its end.
 *
 * @throws {InvalidArgumentError} when only one marker is present, or END precedes BEGIN
 */
export function spliceGenerated(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  const block = `${BEGIN_MARKER}\n${generated}\n${END_MARKER}`;
  if (begin < 0 && end < 0) return `${doc.trimEnd()}\n\n${block}\n`;
  if (begin < 0 || end < 0 || end < begin) {
    throw new InvalidArgumentError('lbsim/bench.report.spliceGenerated: docs/benchmarks.md has a broken generated section (needs BEGIN before END)');
  }
  return doc.slice(0, begin) + block + doc.slice(end + END_MARKER.length);
}
