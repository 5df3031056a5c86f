// Every example under docs/examples/ runs here and must print exactly the
// `// Output:` block at its end, so the docs cannot rot.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const dir = join(import.meta.dirname, '..', 'docs', 'examples');
const examples = readdirSync(dir).filter((f) => f.endsWith('.ts'));

function expectedOutput(source: string): string[] {
  const at = source.lastIndexOf('// Output:');
  if (at < 0) throw new Error('example has no // Output: block');
  return source
    .slice(at)
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('//'))
    .map((l) => l.replace(/^\/\/ ?/, ''));
}

describe('docs/examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });
  for (const file of examples) {
    it(`${file} prints its Output block`, async () => {
      const lines: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(' '));
      });
      try {
        await import(join(dir, file));
      } finally {
        spy.mockRestore();
      }
      expect(lines).toEqual(expectedOutput(readFileSync(join(dir, file), 'utf8')));
    });
  }
});

// Code blocks in README.md and docs/*.md run too: each ```ts block must
// import and execute without throwing.
const root = join(import.meta.dirname, '..');
const generated = join(import.meta.dirname, '.generated');
const markdown = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('code blocks in markdown', () => {
  for (const md of markdown) {
    const text = readFileSync(join(root, md), 'utf8');
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    blocks.forEach((code, i) => {
      it(`${md} block ${i + 1} runs`, async () => {
        mkdirSync(generated, { recursive: true });
        const file = join(generated, `${md.replace(/[/.]/g, '_')}_${i + 1}.ts`);
        writeFileSync(file, code);
        const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
        try {
          await import(file);
        } finally {
          spy.mockRestore();
        }
      });
    });
  }
});
