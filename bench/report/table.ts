// A table model and its two renderings: aligned plain text for the terminal
// and GitHub-flavoured markdown for docs/benchmarks.md.

/** Column alignment. */
export type Align = 'left' | 'right';

/** A rendered-to-strings table: every cell is already formatted. */
export interface Table {
  /** Heading printed above the table. */
  readonly title: string;
  /** One paragraph under the title (how to read it), optional. */
  readonly note?: string;
  readonly headers: readonly string[];
  /** Per column; missing columns are right-aligned except the first. */
  readonly align?: readonly Align[];
  readonly rows: readonly (readonly string[])[];
}

/** The placeholder for a cell without data ("the reference has no row", "not measured"). */
export const NONE = '–';

function alignOf(table: Table, col: number): Align {
  return table.align?.[col] ?? (col === 0 ? 'left' : 'right');
}

/** Display width of a string (code points; the tables use no wide characters). */
export function width(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // a low surrogate ends a code point already counted
  }
  return n;
}

function pad(s: string, w: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

/** Escapes a cell for a markdown table (pipes). */
function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** Renders `table` as a GitHub markdown table, without the title. */
export function renderMarkdownTable(table: Table): string {
  const n = table.headers.length;
  const sep = table.headers.map((_, i) => (alignOf(table, i) === 'right' ? '---:' : ':---'));
  const line = (cells: readonly string[]): string => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(mdCell(cells[i] ?? NONE));
    return `| ${out.join(' | ')} |`;
  };
  return [line(table.headers), `|${sep.map((s) => ` ${s} `).join('|')}|`, ...table.rows.map(line)].join('\n');
}

/** Renders `table` as aligned plain text with its title, for the terminal. */
export function renderTextTable(table: Table): string {
  const n = table.headers.length;
  const widths: number[] = table.headers.map(width);
  for (const row of table.rows) {
    for (let i = 0; i < n; i++) widths[i] = Math.max(widths[i]!, width(row[i] ?? NONE));
  }
  const line = (cells: readonly string[]): string => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(pad(cells[i] ?? NONE, widths[i]!, alignOf(table, i)));
    return `  ${out.join('  ')}`.trimEnd();
  };
  const rule = `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`;
  const lines = [table.title, line(table.headers), rule, ...table.rows.map(line)];
  if (table.note !== undefined) lines.push(...wrap(table.note, 100).map((l) => `  ${l}`));
  return lines.join('\n');
}

/** Greedy word wrap at `columns`. */
export function wrap(text: string, columns: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (cur !== '' && width(cur) + 1 + width(word) > columns) {
      out.push(cur);
      cur = word;
    } else {
      cur = cur === '' ? word : `${cur} ${word}`;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}
