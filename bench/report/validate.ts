// A small validator for the subset of JSON Schema that
// bench/results/schema.json uses (type, const, enum, required, properties,
// additionalProperties: false, items, minimum, minLength, local $ref), so
// results files are checked without a dependency.
import { InvalidArgumentError } from '../../src/errors.js';
import { width } from './table.js';

/** A JSON Schema node, as far as this validator reads it. */
export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean;
  readonly items?: SchemaNode;
  readonly minimum?: number;
  readonly minLength?: number;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, SchemaNode>>;
}

const SUPPORTED = new Set([
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'minimum',
  'minLength',
  '$ref',
  '$defs',
  '$schema',
  '$id',
  'title',
  'description',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(actual: string, wanted: string): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

/**
 * Errors of `value` against `schema` (empty when valid), each as
 * `<JSON pointer>: <problem>`.
 *
 * @throws {InvalidArgumentError} when the schema uses a keyword this subset does not implement, or a $ref it cannot resolve
 */
export function validateAgainstSchema(schema: SchemaNode, value: unknown): string[] {
  const errors: string[] = [];
  const root = schema;
  const walk = (node: SchemaNode, v: unknown, at: string): void => {
    for (const k of Object.keys(node)) {
      if (!SUPPORTED.has(k)) throw new InvalidArgumentError(`lbsim/bench.report.validateAgainstSchema: unsupported keyword ${k} at ${at || '/'}`);
    }
    if (node.$ref !== undefined) {
      const m = /^#\/\$defs\/(.+)$/.exec(node.$ref);
      const target = m === null ? undefined : root.$defs?.[m[1]!];
      if (target === undefined) throw new InvalidArgumentError(`lbsim/bench.report.validateAgainstSchema: cannot resolve $ref ${node.$ref}`);
      walk(target, v, at);
      return;
    }
    const t = typeOf(v);
    if (node.type !== undefined) {
      const types = typeof node.type === 'string' ? [node.type] : node.type;
      if (!types.some((w) => typeMatches(t, w))) {
        errors.push(`${at || '/'}: expected ${types.join(' or ')}, got ${t}`);
        return;
      }
    }
    if ('const' in node && v !== node.const) errors.push(`${at || '/'}: expected ${JSON.stringify(node.const)}`);
    if (node.enum !== undefined && !node.enum.includes(v)) errors.push(`${at || '/'}: ${JSON.stringify(v)} is not one of ${JSON.stringify(node.enum)}`);
    if (node.minimum !== undefined && typeof v === 'number' && v < node.minimum) errors.push(`${at || '/'}: ${v} < minimum ${node.minimum}`);
    if (node.minLength !== undefined && typeof v === 'string' && width(v) < node.minLength) errors.push(`${at || '/'}: shorter than ${node.minLength}`);
    if (t === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of node.required ?? []) if (!(k in o)) errors.push(`${at}/${k}: required`);
      for (const [k, child] of Object.entries(o)) {
        const sub = node.properties?.[k];
        if (sub !== undefined) walk(sub, child, `${at}/${k}`);
        else if (node.additionalProperties === false) errors.push(`${at}/${k}: not allowed`);
      }
    }
    if (t === 'array' && node.items !== undefined) {
      const items = node.items;
      (v as unknown[]).forEach((x, i) => {
        walk(items, x, `${at}/${i}`);
      });
    }
  };
  walk(schema, value, '');
  return errors;
}
