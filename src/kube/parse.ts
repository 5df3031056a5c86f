import { isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ParseError } from '../errors.js';
import type { EndpointSlice, KubeProxyConfiguration, Node, Service } from './objects.js';
import { KubeValidationError, kubeObjectFromObject } from './validate.js';
import type { FieldError } from './validate.js';

/**
 * Reads Kubernetes objects from text: the output of `kubectl get
 * svc,endpointslices -A -o yaml` or `-o json` (a `kind: List` with
 * `items`), single manifests, and multi-document YAML (`---`). JSON is read by
 * the same YAML 1.2 parser, so syntax errors in either carry the line and
 * column. Parsing is all-or-nothing: one invalid object fails the whole call.
 *
 * @module
 */

/** An object of a kind lbsim does not read (Pod, Endpoints, ...), skipped by {@link parseKubeObjects}. */
export interface SkippedObject {
  readonly kind: string;
  readonly name: string;
  /** 1-based line where it starts. */
  readonly line: number | null;
}

/** Everything {@link parseKubeObjects} found, by kind, in input order. */
export interface KubeObjects {
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly configs: readonly KubeProxyConfiguration[];
  readonly skipped: readonly SkippedObject[];
}

const WHERE = 'kube.parseKubeObjects';

interface Item {
  readonly raw: unknown;
  readonly line: number | null;
}

/**
 * Parses Services, EndpointSlices, Nodes and KubeProxyConfigurations from
 * YAML or JSON text. Lists (`kind: List`, `ServiceList`, ...) are flattened;
 * objects of other kinds are reported in `skipped`.
 *
 * @param text - YAML (one or more documents) or JSON
 * @throws {ParseError} on a YAML/JSON syntax error (1-based line and column)
 * @throws {KubeValidationError} when any object is invalid (nothing is returned then)
 */
export function parseKubeObjects(text: string): KubeObjects {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lines = text.split(/\r?\n/);
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;

  const items: Item[] = [];
  for (const doc of Array.from(docs)) {
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      const msg = err.message.split('\n')[0] ?? err.message;
      throw new ParseError(`lbsim/${WHERE}: ${msg}`, lines[pos.line - 1] ?? '', pos.line, pos.col);
    }
    const contents = doc.contents as YamlNode | null;
    if (contents === null) continue;
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (value === null || value === undefined) continue;
    const line = contents.range === undefined || contents.range === null ? null : lineOf(contents.range[0]);
    flatten(value, contents, line, items, lineOf);
  }

  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  const nodes: Node[] = [];
  const configs: KubeProxyConfiguration[] = [];
  const skipped: SkippedObject[] = [];
  const seen = new Map<string, number | null>();
  for (const item of items) {
    const obj = kubeObjectFromObject(item.raw, WHERE, item.line);
    if (obj === null) {
      skipped.push({ kind: kindOf(item.raw), name: nameOf(item.raw), line: item.line });
      continue;
    }
    let id: string | null = null;
    switch (obj.kind) {
      case 'Service':
        services.push(obj);
        id = `Service ${obj.namespace}/${obj.name}`;
        break;
      case 'EndpointSlice':
        endpointSlices.push(obj);
        id = `EndpointSlice ${obj.namespace}/${obj.name}`;
        break;
      case 'Node':
        nodes.push(obj);
        id = `Node ${obj.name}`;
        break;
      case 'KubeProxyConfiguration':
        configs.push(obj);
        break;
    }
    if (id !== null) {
      if (seen.has(id)) {
        const name = obj.kind === 'KubeProxyConfiguration' ? '' : obj.name;
        const cause: FieldError = {
          type: 'FieldValueDuplicate',
          field: 'metadata.name',
          body: `Duplicate value: ${JSON.stringify(name)}`,
          message: `metadata.name: Duplicate value: ${JSON.stringify(name)}`,
        };
        throw new KubeValidationError(WHERE, id, [cause], item.line);
      }
      seen.set(id, item.line);
    }
  }
  return { services, endpointSlices, nodes, configs, skipped };
}

/** Appends the objects of one document, descending into `items` of list kinds. */
function flatten(value: unknown, node: YamlNode | null, line: number | null, out: Item[], lineOf: (o: number) => number): void {
  if (isListObject(value)) {
    const itemsNode = node !== null && isMap(node) ? node.get('items', true) : undefined;
    const seqItems = itemsNode !== undefined && isSeq(itemsNode) ? itemsNode.items : [];
    value.items.forEach((raw, i) => {
      const n = seqItems[i] as YamlNode | undefined;
      const r = n?.range;
      flatten(raw, n ?? null, r === undefined || r === null ? line : lineOf(r[0]), out, lineOf);
    });
    return;
  }
  out.push({ raw: value, line });
}

function isListObject(v: unknown): v is { readonly kind: string; readonly items: readonly unknown[] } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const kind = (v as { kind?: unknown }).kind;
  const items = (v as { items?: unknown }).items;
  return typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items);
}

function kindOf(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return '?';
  const k = (raw as { kind?: unknown }).kind;
  return typeof k === 'string' ? k : '?';
}

function nameOf(raw: unknown): string {
  if (typeof raw !== 'object' || raw === null) return '?';
  const md = (raw as { metadata?: unknown }).metadata;
  if (typeof md !== 'object' || md === null) return '?';
  const n = (md as { name?: unknown }).name;
  const ns = (md as { namespace?: unknown }).namespace;
  const name = typeof n === 'string' ? n : '?';
  return typeof ns === 'string' && ns !== '' ? `${ns}/${name}` : name;
}
