import { InvalidArgumentError } from '../errors.js';
import { cidrContains, parseCidr, tryParseIPv4 } from '../net/ipv4.js';
import type { Cidr, IPv4 } from '../net/ipv4.js';
import {
  DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
  defaultKubeProxyConfiguration,
  MAX_CLIENT_IP_AFFINITY_SECONDS,
  SERVICE_NAME_LABEL,
} from './objects.js';
import type {
  EndpointConditions,
  EndpointSlice,
  EndpointSliceEndpoint,
  EndpointSlicePort,
  KubeObject,
  KubeProxyConfiguration,
  L4Protocol,
  LoadBalancerIngress,
  LocalMode,
  Node,
  NodePortAddress,
  ProxyMode,
  Service,
  ServicePort,
  ServiceType,
  SessionAffinity,
  TrafficPolicy,
} from './objects.js';

/**
 * Converters from plain JSON-like objects (what `JSON.parse` or a YAML parser
 * gives for a manifest or `kubectl get -o yaml|json`) to the typed objects of
 * `src/kube/objects.ts`, applying the API server's defaults and refusing what
 * its validation refuses, with the same field paths and messages
 * (`spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535,
 * inclusive`). Rules mirror kubernetes/kubernetes
 * `pkg/apis/core/validation/validation.go` (ValidateService),
 * `pkg/apis/discovery/validation/validation.go` (ValidateEndpointSlice),
 * `pkg/apis/core/v1/defaults.go`, `pkg/apis/discovery/v1/defaults.go` and
 * `pkg/proxy/apis/config/validation/validation.go`. lbsim models IPv4 only:
 * IPv6 addresses, families and address types are refused with a message that
 * says so.
 *
 * @module
 */

/** The kinds of `field.Error` of k8s.io/apimachinery/pkg/util/validation/field. */
export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooMany';

/** One validation failure, formatted like the API server's `field.Error`. */
export interface FieldError {
  readonly type: FieldErrorType;
  /** Field path, e.g. `spec.ports[0].port`. */
  readonly field: string;
  /** The part after the field: `Invalid value: 70000: must be between 1 and 65535, inclusive`. */
  readonly body: string;
  /** `field: body`. */
  readonly message: string;
}

/**
 * A Kubernetes object that the API server (or lbsim's IPv4-only model) would
 * refuse. `object` names it (`Service default/web`), `field` is the path of
 * the first failure (`spec.ports[0].port`) and `causes` lists every failure
 * in the order the API server reports them.
 */
export class KubeValidationError extends InvalidArgumentError {
  override name = 'KubeValidationError';
  /** `Kind namespace/name` (`Kind name` for cluster-scoped objects). */
  readonly object: string;
  /** Field path of the first failure. */
  readonly field: string;
  /** Every failure. */
  readonly causes: readonly FieldError[];
  /** 1-based line where the object starts in the parsed text, when known. */
  readonly line: number | null;

  /**
   * @param where - `module.Class.method` prefix of the message
   * @param object - `Kind namespace/name`
   * @param causes - at least one failure
   * @param line - 1-based line of the object in its input, if known
   */
  constructor(where: string, object: string, causes: readonly FieldError[], line: number | null = null) {
    const first = causes[0];
    const list = causes.map((c) => c.message).join('; ');
    super(`lbsim/${where}: ${object} is invalid${line !== null ? ` (line ${line})` : ''}: ${list}`);
    this.object = object;
    this.field = first?.field ?? '';
    this.causes = causes;
    this.line = line;
  }
}

// ------------------------------------------------------------------ field errors

/** Formats a bad value as field.Error.ErrorBody does: strings quoted, numbers and booleans plain, nil as null. */
function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Collects field errors of one object. */
class Errs {
  readonly list: FieldError[] = [];

  #push(type: FieldErrorType, field: string, body: string): void {
    this.list.push({ type, field, body, message: `${field}: ${body}` });
  }

  invalid(field: string, value: unknown, detail: string): void {
    this.#push('FieldValueInvalid', field, `Invalid value: ${formatValue(value)}: ${detail}`);
  }

  /** Like {@link invalid} with a value already formatted (Go's `%#v` of structs). */
  invalidRaw(field: string, formatted: string, detail: string): void {
    this.#push('FieldValueInvalid', field, `Invalid value: ${formatted}: ${detail}`);
  }

  required(field: string, detail = ''): void {
    this.#push('FieldValueRequired', field, detail === '' ? 'Required value' : `Required value: ${detail}`);
  }

  notSupported(field: string, value: unknown, valid: readonly string[]): void {
    const supported = valid.map((v) => JSON.stringify(v)).join(', ');
    this.#push('FieldValueNotSupported', field, `Unsupported value: ${formatValue(value)}: supported values: ${supported}`);
  }

  duplicate(field: string, value: unknown): void {
    this.#push('FieldValueDuplicate', field, `Duplicate value: ${formatValue(value)}`);
  }

  duplicateRaw(field: string, formatted: string): void {
    this.#push('FieldValueDuplicate', field, `Duplicate value: ${formatted}`);
  }

  forbidden(field: string, detail: string): void {
    this.#push('FieldValueForbidden', field, `Forbidden: ${detail}`);
  }

  tooMany(field: string, actual: number, max: number): void {
    this.#push('FieldValueTooMany', field, `Too many: ${actual}: must have at most ${max} items`);
  }
}

const child = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);
const index = (path: string, i: number): string => `${path}[${i}]`;
const keyed = (path: string, k: string): string => `${path}[${k}]`;

// ------------------------------------------------------------------ raw access

type Raw = Readonly<Record<string, unknown>>;

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own property; null counts as absent (Go decodes JSON null to the zero value). */
function prop(obj: Raw, name: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(obj, name)) return undefined;
  const v = obj[name];
  return v === null ? undefined : v;
}

function getRecord(obj: Raw, name: string, path: string, errs: Errs): Raw | undefined {
  const v = prop(obj, name);
  if (v === undefined) return undefined;
  if (!isRecord(v)) {
    errs.invalid(child(path, name), typeof v === 'string' ? v : JSON.stringify(v), 'must be an object');
    return undefined;
  }
  return v;
}

function getList(obj: Raw, name: string, path: string, errs: Errs): readonly unknown[] | undefined {
  const v = prop(obj, name);
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    errs.invalid(child(path, name), v, 'must be a list');
    return undefined;
  }
  return v as readonly unknown[];
}

function getString(obj: Raw, name: string, path: string, errs: Errs): string | undefined {
  const v = prop(obj, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    errs.invalid(child(path, name), v, 'must be a string');
    return undefined;
  }
  return v;
}

function getInt(obj: Raw, name: string, path: string, errs: Errs): number | undefined {
  const v = prop(obj, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    errs.invalid(child(path, name), v, 'must be an integer');
    return undefined;
  }
  return v;
}

function getBool(obj: Raw, name: string, path: string, errs: Errs): boolean | undefined {
  const v = prop(obj, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') {
    errs.invalid(child(path, name), v, 'must be a boolean');
    return undefined;
  }
  return v;
}

function getStringMap(obj: Raw, name: string, path: string, errs: Errs): Map<string, string> {
  const out = new Map<string, string>();
  const m = getRecord(obj, name, path, errs);
  if (m === undefined) return out;
  for (const k of Object.keys(m)) {
    const v = m[k];
    if (typeof v === 'string') out.set(k, v);
    else if (v === null) out.set(k, '');
    else errs.invalid(keyed(child(path, name), k), v, 'must be a string');
  }
  return out;
}

// ------------------------------------------------------------------ k8s.io/apimachinery/pkg/util/validation

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** IsDNS1123Label. */
function dns1123LabelErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) {
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

/** IsDNS1035Label. */
function dns1035LabelErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(v)) {
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
  return out;
}

/** IsDNS1123Subdomain. */
function dns1123SubdomainErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

/** IsValidPortName. */
function portNameErrors(v: string): string[] {
  const out: string[] = [];
  if (v.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) out.push('must contain at least one letter (a-z)');
  if (v.includes('--')) out.push('must not contain consecutive hyphens');
  if (v.length > 0 && (v.startsWith('-') || v.endsWith('-'))) out.push('must not begin or end with a hyphen');
  return out;
}

const PORT_RANGE_ERROR = 'must be between 1 and 65535, inclusive';

function checkPortNum(field: string, v: number, errs: Errs): void {
  if (v < 1 || v > 65535) errs.invalid(field, v, PORT_RANGE_ERROR);
}

const IPV6_REFUSED = 'IPv6 is not supported: lbsim models IPv4 only';

/**
 * Parses an IP field: IPv4 → the address; IPv6-looking text → refused as
 * IPv6; anything else → `must be a valid IP address` (`detail` overrides).
 */
function parseIPField(field: string, text: string, errs: Errs, detail = 'must be a valid IP address'): IPv4 | null {
  const a = tryParseIPv4(text);
  if (a >= 0) return a;
  if (text.includes(':')) errs.invalid(field, text, IPV6_REFUSED);
  else errs.invalid(field, text, detail);
  return null;
}

/** validateNonSpecialIP / ValidateEndpointIP: refuse unspecified, loopback, link-local and link-local multicast addresses. */
function checkNonSpecialIP(field: string, text: string, a: IPv4, errs: Errs): void {
  if (a === 0) errs.invalid(field, text, 'may not be unspecified (0.0.0.0)');
  else if (cidrContains(LOOPBACK, a)) errs.invalid(field, text, 'may not be in the loopback range (127.0.0.0/8, ::1/128)');
  else if (cidrContains(LINK_LOCAL, a)) errs.invalid(field, text, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)');
  else if (cidrContains(LINK_LOCAL_MCAST, a)) {
    errs.invalid(field, text, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  }
}

const LOOPBACK = parseCidr('127.0.0.0/8');
const LINK_LOCAL = parseCidr('169.254.0.0/16');
const LINK_LOCAL_MCAST = parseCidr('224.0.0.0/24');

/** Parses `a.b.c.d/len` strictly enough for the API (host bits allowed, as net.ParseCIDR allows); null when invalid. */
function tryCidr(text: string): Cidr | null {
  if (!/^[0-9.]+\/[0-9]{1,2}$/.test(text)) return null;
  try {
    return parseCidr(text);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ metadata

interface Meta {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Map<string, string>;
}

function readMeta(raw: Raw, errs: Errs, namespaced: boolean, nameRule: (v: string) => string[]): Meta {
  const md = getRecord(raw, 'metadata', '', errs);
  let name = '';
  let namespace = namespaced ? 'default' : '';
  let labels = new Map<string, string>();
  if (md === undefined) {
    errs.required('metadata.name', 'name or generateName is required');
    return { namespace, name, labels };
  }
  const n = getString(md, 'name', 'metadata', errs);
  if (n === undefined || n === '') errs.required('metadata.name', 'name or generateName is required');
  else {
    name = n;
    for (const msg of nameRule(n)) errs.invalid('metadata.name', n, msg);
  }
  if (namespaced) {
    const ns = getString(md, 'namespace', 'metadata', errs);
    if (ns !== undefined && ns !== '') {
      namespace = ns;
      for (const msg of dns1123LabelErrors(ns)) errs.invalid('metadata.namespace', ns, msg);
    }
  }
  labels = getStringMap(md, 'labels', 'metadata', errs);
  return { namespace, name, labels };
}

function peekName(raw: Raw, namespaced: boolean): string {
  const md = prop(raw, 'metadata');
  let name = '?';
  let ns = 'default';
  if (isRecord(md)) {
    const n = prop(md, 'name');
    if (typeof n === 'string' && n !== '') name = n;
    const s = prop(md, 'namespace');
    if (typeof s === 'string' && s !== '') ns = s;
  }
  return namespaced ? `${ns}/${name}` : name;
}

function checkKind(raw: Raw, kind: string, apiVersions: readonly string[], errs: Errs): void {
  const av = getString(raw, 'apiVersion', '', errs);
  if (av !== undefined && !apiVersions.includes(av)) errs.notSupported('apiVersion', av, apiVersions);
  const k = getString(raw, 'kind', '', errs);
  if (k !== undefined && k !== kind) errs.notSupported('kind', k, [kind]);
}

// ------------------------------------------------------------------ Service

const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS: readonly L4Protocol[] = ['SCTP', 'TCP', 'UDP'];

function protocolOf(field: string, v: string | undefined, errs: Errs): L4Protocol {
  if (v === undefined || v === '') return 'TCP'; // SetDefaults_ServicePort / SetDefaults_EndpointPort
  if ((PROTOCOLS as readonly string[]).includes(v)) return v as L4Protocol;
  errs.notSupported(field, v, PROTOCOLS);
  return 'TCP';
}

/** Go's `%#v` of the `core.ServicePort` key used in the duplicate-port error. */
function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

function convertService(raw: Raw, errs: Errs): Service {
  checkKind(raw, 'Service', ['v1'], errs);
  const meta = readMeta(raw, errs, true, dns1035LabelErrors);
  const spec = getRecord(raw, 'spec', '', errs) ?? {};
  const sp = 'spec';

  // type (SetDefaults_Service: ClusterIP)
  let type: ServiceType = 'ClusterIP';
  const typeText = getString(spec, 'type', sp, errs);
  if (typeText !== undefined && typeText !== '') {
    if ((SERVICE_TYPES as readonly string[]).includes(typeText)) type = typeText as ServiceType;
    else errs.notSupported('spec.type', typeText, SERVICE_TYPES);
  }

  // clusterIP / clusterIPs / ipFamilies
  let clusterIP: IPv4 | null = null;
  let headless = false;
  const cipText = getString(spec, 'clusterIP', sp, errs);
  if (cipText === 'None') headless = true;
  else if (cipText !== undefined && cipText !== '') {
    clusterIP = parseIPField('spec.clusterIP', cipText, errs, "must be empty, 'None', or a valid IP address");
  }
  const cips = getList(spec, 'clusterIPs', sp, errs);
  if (cips !== undefined) {
    cips.forEach((v, i) => {
      const f = index('spec.clusterIPs', i);
      if (typeof v !== 'string') errs.invalid(f, v, 'must be a string');
      else if (v === 'None') {
        if (i === 0 && !headless && cipText !== undefined && cipText !== '') errs.invalid(f, v, 'must match `spec.clusterIP`');
      } else if (tryParseIPv4(v) < 0) {
        errs.invalid(f, v, v.includes(':') ? IPV6_REFUSED : 'must be a valid IP address');
      } else if (i === 0 && cipText !== undefined && cipText !== '' && v !== cipText) errs.invalid(f, v, 'must match `spec.clusterIP`');
    });
  }
  const families = getList(spec, 'ipFamilies', sp, errs);
  if (families !== undefined) {
    families.forEach((v, i) => {
      const f = index('spec.ipFamilies', i);
      if (v === 'IPv6') errs.invalid(f, v, IPV6_REFUSED);
      else if (v !== 'IPv4') errs.notSupported(f, v, ['IPv4', 'IPv6']);
    });
  }
  if (headless && (type === 'LoadBalancer' || type === 'NodePort')) {
    errs.invalid('spec.clusterIP', 'None', `may not be set to 'None' for ${type} services`);
  }
  let externalName: string | null = null;
  if (type === 'ExternalName') {
    if (clusterIP !== null || headless) errs.forbidden('spec.clusterIP', 'must be empty for ExternalName services');
    const en = getString(spec, 'externalName', sp, errs);
    if (en === undefined || en === '') errs.required('spec.externalName');
    else externalName = en;
  }

  // ports
  const portsRaw = getList(spec, 'ports', sp, errs) ?? [];
  if (portsRaw.length === 0 && !headless && type !== 'ExternalName') errs.required('spec.ports');
  const ports: ServicePort[] = [];
  const names = new Set<string>();
  portsRaw.forEach((pr, i) => {
    const pp = index('spec.ports', i);
    if (!isRecord(pr)) {
      errs.invalid(pp, pr, 'must be an object');
      return;
    }
    const name = getString(pr, 'name', pp, errs) ?? '';
    if (portsRaw.length > 1 && name === '') errs.required(child(pp, 'name'));
    else if (name !== '') {
      for (const msg of dns1123LabelErrors(name)) errs.invalid(child(pp, 'name'), name, msg);
      if (names.has(name)) errs.duplicate(child(pp, 'name'), name);
      else names.add(name);
    }
    const port = getInt(pr, 'port', pp, errs) ?? 0;
    checkPortNum(child(pp, 'port'), port, errs);
    const protocol = protocolOf(child(pp, 'protocol'), getString(pr, 'protocol', pp, errs), errs);
    let targetPort: number | string = port; // SetDefaults_Service: targetPort defaults to port
    const tp = prop(pr, 'targetPort');
    if (typeof tp === 'number') {
      if (!Number.isSafeInteger(tp)) errs.invalid(child(pp, 'targetPort'), tp, 'must be an integer');
      else {
        checkPortNum(child(pp, 'targetPort'), tp, errs);
        targetPort = tp;
      }
    } else if (typeof tp === 'string') {
      for (const msg of portNameErrors(tp)) errs.invalid(child(pp, 'targetPort'), tp, msg);
      targetPort = tp;
    } else if (tp !== undefined) errs.invalid(child(pp, 'targetPort'), tp, 'must be an integer or a string');
    const nodePort = getInt(pr, 'nodePort', pp, errs) ?? 0;
    if (nodePort !== 0) {
      checkPortNum(child(pp, 'nodePort'), nodePort, errs);
      if (type === 'ClusterIP') errs.forbidden(child(pp, 'nodePort'), "may not be used when `type` is 'ClusterIP'");
      else if (type === 'ExternalName') errs.forbidden(child(pp, 'nodePort'), "may not be used when `type` is 'ExternalName'");
    }
    const appProtocol = getString(pr, 'appProtocol', pp, errs) ?? null;
    ports.push({ name, protocol, port, targetPort, nodePort, appProtocol });
  });
  // duplicate (protocol, nodePort) and (protocol, port) pairs, as ValidateService checks them
  const seenNodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (p.nodePort === 0) return;
    const k = `${p.protocol}/${p.nodePort}`;
    if (seenNodePorts.has(k)) errs.duplicate(`${index('spec.ports', i)}.nodePort`, p.nodePort);
    seenNodePorts.add(k);
  });
  const seenPorts = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${p.protocol}/${p.port}`;
    if (seenPorts.has(k)) errs.duplicateRaw(index('spec.ports', i), goServicePortKey(p.protocol, p.port));
    seenPorts.add(k);
  });

  // session affinity (SetDefaults_Service: None; ClientIP defaults timeoutSeconds to 10800)
  let sessionAffinity: SessionAffinity = 'None';
  const saText = getString(spec, 'sessionAffinity', sp, errs);
  if (saText !== undefined && saText !== '') {
    if (saText === 'None' || saText === 'ClientIP') sessionAffinity = saText;
    else errs.notSupported('spec.sessionAffinity', saText, ['ClientIP', 'None']);
  }
  let sessionAffinityTimeoutSeconds = 0;
  const sac = getRecord(spec, 'sessionAffinityConfig', sp, errs);
  if (sessionAffinity === 'ClientIP') {
    sessionAffinityTimeoutSeconds = DEFAULT_CLIENT_IP_AFFINITY_SECONDS;
    const cip = sac === undefined ? undefined : getRecord(sac, 'clientIP', 'spec.sessionAffinityConfig', errs);
    const t = cip === undefined ? undefined : getInt(cip, 'timeoutSeconds', 'spec.sessionAffinityConfig.clientIP', errs);
    if (t !== undefined) {
      if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) {
        errs.invalid(
          'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
          t,
          `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`,
        );
      } else sessionAffinityTimeoutSeconds = t;
    }
  } else if (sac !== undefined) {
    errs.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None');
  }

  // externalIPs
  const externalIPs: IPv4[] = [];
  (getList(spec, 'externalIPs', sp, errs) ?? []).forEach((v, i) => {
    const f = index('spec.externalIPs', i);
    if (typeof v !== 'string') {
      errs.invalid(f, v, 'must be a string');
      return;
    }
    const a = parseIPField(f, v, errs);
    if (a === null) return;
    const before = errs.list.length;
    checkNonSpecialIP(f, v, a, errs);
    if (errs.list.length === before) externalIPs.push(a);
  });

  // loadBalancerSourceRanges: the API path really is spec.LoadBalancerSourceRanges
  const loadBalancerSourceRanges: Cidr[] = [];
  const lsr = getList(spec, 'loadBalancerSourceRanges', sp, errs);
  if (lsr !== undefined && lsr.length > 0) {
    const f = 'spec.LoadBalancerSourceRanges';
    if (type !== 'LoadBalancer') errs.forbidden(f, "may only be used when `type` is 'LoadBalancer'");
    let bad = false;
    for (const v of lsr) {
      const c = typeof v === 'string' ? tryCidr(v.trim()) : null;
      if (c === null) {
        if (typeof v === 'string' && v.includes(':')) errs.invalid(f, v, IPV6_REFUSED);
        else bad = true;
      } else loadBalancerSourceRanges.push(c);
    }
    if (bad) {
      errs.invalid(f, `[${lsr.map(String).join(' ')}]`, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ');
    }
  }

  // status.loadBalancer.ingress
  const loadBalancerIngress: LoadBalancerIngress[] = [];
  const status = getRecord(raw, 'status', '', errs);
  const lb = status === undefined ? undefined : getRecord(status, 'loadBalancer', 'status', errs);
  const ingress = lb === undefined ? undefined : getList(lb, 'ingress', 'status.loadBalancer', errs);
  (ingress ?? []).forEach((ir, i) => {
    const ip = index('status.loadBalancer.ingress', i);
    if (!isRecord(ir)) {
      errs.invalid(ip, ir, 'must be an object');
      return;
    }
    const ipText = getString(ir, 'ip', ip, errs);
    const addr = ipText === undefined || ipText === '' ? null : parseIPField(child(ip, 'ip'), ipText, errs);
    const hostname = getString(ir, 'hostname', ip, errs) ?? null;
    const modeText = getString(ir, 'ipMode', ip, errs);
    let ipMode: 'VIP' | 'Proxy' | null = null;
    if (modeText !== undefined && modeText !== '') {
      if (modeText === 'VIP' || modeText === 'Proxy') ipMode = modeText;
      else errs.notSupported(child(ip, 'ipMode'), modeText, ['Proxy', 'VIP']);
    }
    loadBalancerIngress.push({ ip: addr, hostname, ipMode });
  });

  // traffic policies (SetDefaults_Service; validateServiceExternalTrafficPolicy / validateServiceInternalTrafficFieldsValue)
  const externallyAccessible =
    type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && externalIPs.length > 0);
  let externalTrafficPolicy: TrafficPolicy | null = null;
  const etp = getString(spec, 'externalTrafficPolicy', sp, errs);
  if (!externallyAccessible) {
    if (etp !== undefined && etp !== '') {
      errs.invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services');
    }
  } else if (etp === undefined || etp === '') externalTrafficPolicy = 'Cluster';
  else if (etp === 'Cluster' || etp === 'Local') externalTrafficPolicy = etp;
  else errs.notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']);

  const needsHealthCheck = type === 'LoadBalancer' && externalTrafficPolicy === 'Local';
  const hc = getInt(spec, 'healthCheckNodePort', sp, errs) ?? 0;
  let healthCheckNodePort = 0;
  if (hc !== 0) {
    if (!needsHealthCheck) {
      errs.invalid(
        'spec.healthCheckNodePort',
        hc,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      );
    } else {
      checkPortNum('spec.healthCheckNodePort', hc, errs);
      healthCheckNodePort = hc;
    }
  }

  let internalTrafficPolicy: TrafficPolicy | null = null;
  const itp = getString(spec, 'internalTrafficPolicy', sp, errs);
  if (type !== 'ExternalName') {
    if (itp === undefined || itp === '') internalTrafficPolicy = 'Cluster';
    else if (itp === 'Cluster' || itp === 'Local') internalTrafficPolicy = itp;
    else errs.notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']);
  }

  return {
    kind: 'Service',
    namespace: meta.namespace,
    name: meta.name,
    labels: meta.labels,
    type,
    clusterIP: type === 'ExternalName' ? null : clusterIP,
    headless,
    ports,
    externalIPs,
    loadBalancerIngress,
    loadBalancerSourceRanges,
    sessionAffinity,
    sessionAffinityTimeoutSeconds,
    externalTrafficPolicy,
    internalTrafficPolicy,
    healthCheckNodePort,
    externalName,
  };
}

// ------------------------------------------------------------------ EndpointSlice

/** `maxEndpoints`, `maxPorts`, `maxAddresses` of pkg/apis/discovery/validation. */
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 20000;
const MAX_ADDRESSES = 100;

function convertEndpointSlice(raw: Raw, errs: Errs): EndpointSlice {
  checkKind(raw, 'EndpointSlice', ['discovery.k8s.io/v1'], errs);
  const meta = readMeta(raw, errs, true, dns1123SubdomainErrors);
  const serviceName = meta.labels.get(SERVICE_NAME_LABEL) ?? '';
  if (serviceName === '') {
    errs.required(
      keyed('metadata.labels', SERVICE_NAME_LABEL),
      'kube-proxy links an EndpointSlice to its Service by this label and ignores slices without it',
    );
  }
  const at = getString(raw, 'addressType', '', errs);
  if (at === undefined || at === '') errs.required('addressType');
  else if (at === 'IPv6' || at === 'FQDN') errs.invalid('addressType', at, `${IPV6_REFUSED} (addressType IPv4 only)`);
  else if (at !== 'IPv4') errs.notSupported('addressType', at, ['FQDN', 'IPv4', 'IPv6']);

  const endpoints: EndpointSliceEndpoint[] = [];
  const eps = getList(raw, 'endpoints', '', errs) ?? [];
  if (eps.length > MAX_ENDPOINTS) errs.tooMany('endpoints', eps.length, MAX_ENDPOINTS);
  eps.forEach((er, i) => {
    const ep = index('endpoints', i);
    if (!isRecord(er)) {
      errs.invalid(ep, er, 'must be an object');
      return;
    }
    const addrs = getList(er, 'addresses', ep, errs) ?? [];
    const ap = child(ep, 'addresses');
    if (addrs.length === 0) errs.required(ap, 'must contain at least 1 address');
    else if (addrs.length > MAX_ADDRESSES) errs.tooMany(ap, addrs.length, MAX_ADDRESSES);
    const addresses: IPv4[] = [];
    addrs.forEach((a, j) => {
      const f = index(ap, j);
      if (typeof a !== 'string') {
        errs.invalid(f, a, 'must be a string');
        return;
      }
      const v = parseIPField(f, a, errs, 'must be a valid IPv4 address');
      if (v === null) return;
      checkNonSpecialIP(f, a, v, errs);
      addresses.push(v);
    });
    const cond = getRecord(er, 'conditions', ep, errs);
    const cp = child(ep, 'conditions');
    const ready = cond === undefined ? undefined : getBool(cond, 'ready', cp, errs);
    const serving = cond === undefined ? undefined : getBool(cond, 'serving', cp, errs);
    const terminating = cond === undefined ? undefined : getBool(cond, 'terminating', cp, errs);
    // What kube-proxy does with unset conditions (pkg/proxy/endpointslicecache.go newEndpointSliceInfo):
    // Ready = nil || *ready, Serving = nil || *serving, Terminating = non-nil && *terminating. Note nil
    // serving is true even when ready is false (the older API comment said "defer to ready").
    const conditions: EndpointConditions = {
      ready: ready ?? true,
      serving: serving ?? true,
      terminating: terminating ?? false,
    };
    const nodeName = getString(er, 'nodeName', ep, errs) ?? null;
    if (nodeName !== null) for (const msg of dns1123SubdomainErrors(nodeName)) errs.invalid(child(ep, 'nodeName'), nodeName, msg);
    const zone = getString(er, 'zone', ep, errs) ?? null;
    const hostname = getString(er, 'hostname', ep, errs) ?? null;
    if (hostname !== null) for (const msg of dns1123LabelErrors(hostname)) errs.invalid(child(ep, 'hostname'), hostname, msg);
    endpoints.push({ addresses, conditions, nodeName, zone, hostname });
  });

  const ports: EndpointSlicePort[] = [];
  const prs = getList(raw, 'ports', '', errs) ?? [];
  if (prs.length > MAX_PORTS) errs.tooMany('ports', prs.length, MAX_PORTS);
  const names = new Set<string>();
  prs.forEach((pr, i) => {
    const pp = index('ports', i);
    if (!isRecord(pr)) {
      errs.invalid(pp, pr, 'must be an object');
      return;
    }
    const name = getString(pr, 'name', pp, errs) ?? ''; // SetDefaults_EndpointPort
    if (name !== '') for (const msg of dns1123LabelErrors(name)) errs.invalid(child(pp, 'name'), name, msg);
    if (names.has(name)) errs.duplicate(child(pp, 'name'), name);
    else names.add(name);
    const protocol = protocolOf(child(pp, 'protocol'), getString(pr, 'protocol', pp, errs), errs);
    const port = getInt(pr, 'port', pp, errs) ?? null;
    if (port !== null) checkPortNum(child(pp, 'port'), port, errs);
    const appProtocol = getString(pr, 'appProtocol', pp, errs) ?? null;
    ports.push({ name, protocol, port, appProtocol });
  });

  return {
    kind: 'EndpointSlice',
    namespace: meta.namespace,
    name: meta.name,
    labels: meta.labels,
    serviceName,
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

// ------------------------------------------------------------------ Node

function convertNode(raw: Raw, errs: Errs): Node {
  checkKind(raw, 'Node', ['v1'], errs);
  const meta = readMeta(raw, errs, false, dns1123SubdomainErrors);
  const spec = getRecord(raw, 'spec', '', errs) ?? {};
  let podCIDR: Cidr | null = null;
  const takeCidr = (f: string, v: unknown): void => {
    if (typeof v !== 'string') {
      errs.invalid(f, v, 'must be a string');
      return;
    }
    if (v.includes(':')) return; // the IPv6 pod CIDR of a dual-stack node: not ours
    const c = tryCidr(v);
    if (c === null) errs.invalid(f, v, 'must be a valid CIDR');
    else podCIDR ??= c;
  };
  const podCIDRs = getList(spec, 'podCIDRs', 'spec', errs);
  if (podCIDRs !== undefined) {
    podCIDRs.forEach((v, i) => {
      takeCidr(index('spec.podCIDRs', i), v);
    });
  }
  const single = getString(spec, 'podCIDR', 'spec', errs);
  if (single !== undefined && single !== '') takeCidr('spec.podCIDR', single);

  const internalIPs: IPv4[] = [];
  const externalIPs: IPv4[] = [];
  const status = getRecord(raw, 'status', '', errs);
  const addrs = status === undefined ? undefined : getList(status, 'addresses', 'status', errs);
  (addrs ?? []).forEach((ar, i) => {
    const ap = index('status.addresses', i);
    if (!isRecord(ar)) {
      errs.invalid(ap, ar, 'must be an object');
      return;
    }
    const t = getString(ar, 'type', ap, errs);
    const a = getString(ar, 'address', ap, errs);
    if (t !== 'InternalIP' && t !== 'ExternalIP') return;
    if (a === undefined || a.includes(':')) return; // IPv6 address of a dual-stack node: not ours
    const v = parseIPField(child(ap, 'address'), a, errs);
    if (v === null) return;
    if (t === 'InternalIP') internalIPs.push(v);
    else externalIPs.push(v);
  });
  return { kind: 'Node', name: meta.name, labels: meta.labels, internalIPs, externalIPs, podCIDR };
}

// ------------------------------------------------------------------ KubeProxyConfiguration

const DURATION_UNITS = new Map<string, number>([
  ['ns', 1e-9],
  ['us', 1e-6],
  ['µs', 1e-6],
  ['μs', 1e-6],
  ['ms', 1e-3],
  ['s', 1],
  ['m', 60],
  ['h', 3600],
]);

/**
 * Parses a Go `time.Duration` string (`30s`, `1m0s`, `1h30m`, `250ms`, `-1.5h`, `0`) into seconds.
 *
 * @returns seconds, or null when the text is not a Go duration
 */
export function parseGoDuration(text: string): number | null {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return null;
  const re = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;
  let total = 0;
  while (s.length > 0) {
    const m = re.exec(s);
    if (m === null) return null;
    const num = m[1]!;
    const unit = DURATION_UNITS.get(m[2]!);
    if (num === '' || num === '.' || unit === undefined) return null;
    total += Number(num) * unit;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

const IPVS_SCHEDULERS: readonly string[] = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', ''];
const LOCAL_MODES: readonly LocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'];

function getDuration(obj: Raw, name: string, path: string, errs: Errs): number | undefined {
  const v = getString(obj, name, path, errs);
  if (v === undefined) return undefined;
  const d = parseGoDuration(v);
  if (d === null) errs.invalid(child(path, name), v, 'must be a duration (e.g. 30s, 1m0s)');
  return d ?? undefined;
}

function convertKubeProxyConfiguration(raw: Raw, errs: Errs): KubeProxyConfiguration {
  checkKind(raw, 'KubeProxyConfiguration', ['kubeproxy.config.k8s.io/v1alpha1'], errs);
  const d = defaultKubeProxyConfiguration();

  let mode: ProxyMode = d.mode;
  const modeText = getString(raw, 'mode', '', errs);
  if (modeText !== undefined && modeText !== '') {
    if (modeText === 'iptables' || modeText === 'ipvs' || modeText === 'nftables') mode = modeText;
    else errs.invalid('mode', modeText, 'must be iptables,ipvs,nftables or blank (blank means the best-available proxy [currently iptables])');
  }

  let clusterCIDR: Cidr | null = null;
  const cc = getString(raw, 'clusterCIDR', '', errs);
  if (cc !== undefined && cc !== '') {
    const parts = cc.split(',');
    let v4 = 0;
    for (const part of parts) {
      if (part.includes(':')) continue; // the IPv6 half of a dual-stack pair belongs to the IPv6 proxier
      const c = tryCidr(part);
      if (c === null) {
        errs.invalid('clusterCIDR', cc, 'must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)');
        break;
      }
      v4++;
      clusterCIDR ??= c;
    }
    if (v4 > 1 || parts.length > 2) {
      errs.invalid('clusterCIDR', cc, 'only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)');
    }
  }

  const ipt = getRecord(raw, 'iptables', '', errs) ?? {};
  const masqueradeAll = getBool(ipt, 'masqueradeAll', 'iptables', errs) ?? d.iptables.masqueradeAll;
  const masqueradeBit = getInt(ipt, 'masqueradeBit', 'iptables', errs) ?? d.iptables.masqueradeBit;
  if (masqueradeBit < 0 || masqueradeBit > 31) errs.invalid('iptables.masqueradeBit', masqueradeBit, 'must be within the range [0, 31]');
  const iptSync = getDuration(ipt, 'syncPeriod', 'iptables', errs) || d.iptables.syncPeriodSeconds;
  const iptMinSync = getDuration(ipt, 'minSyncPeriod', 'iptables', errs) || d.iptables.minSyncPeriodSeconds;
  checkPeriods('iptables', iptSync, iptMinSync, errs);
  const localhostNodePorts = getBool(ipt, 'localhostNodePorts', 'iptables', errs) ?? d.iptables.localhostNodePorts;

  const ipvs = getRecord(raw, 'ipvs', '', errs) ?? {};
  const scheduler = getString(ipvs, 'scheduler', 'ipvs', errs) ?? '';
  if (!IPVS_SCHEDULERS.includes(scheduler)) {
    errs.invalid(
      'ipvs.scheduler',
      scheduler,
      `must be in [${IPVS_SCHEDULERS.join(' ')}], blank means the default algorithm method (currently rr)`,
    );
  }
  const ipvsSync = getDuration(ipvs, 'syncPeriod', 'ipvs', errs) || d.ipvs.syncPeriodSeconds;
  const ipvsMinSync = getDuration(ipvs, 'minSyncPeriod', 'ipvs', errs) ?? d.ipvs.minSyncPeriodSeconds;
  if (mode === 'ipvs') checkPeriods('ipvs', ipvsSync, ipvsMinSync, errs);
  const strictARP = getBool(ipvs, 'strictARP', 'ipvs', errs) ?? false;
  const timeouts = ['tcpTimeout', 'tcpFinTimeout', 'udpTimeout'].map((n) => {
    const v = getDuration(ipvs, n, 'ipvs', errs) ?? 0;
    if (v < 0) errs.invalid(`ipvs.${n}`, v, 'must be greater than or equal to 0');
    return Math.max(0, v);
  });
  const excludeCIDRs: Cidr[] = [];
  (getList(ipvs, 'excludeCIDRs', 'ipvs', errs) ?? []).forEach((v, i) => {
    const c = typeof v === 'string' ? tryCidr(v) : null;
    if (c !== null) excludeCIDRs.push(c);
    else if (!(typeof v === 'string' && v.includes(':'))) errs.invalid(index('ipvs.excludeCIDRs', i), v, 'must be a valid IP block');
  });

  let detectLocalMode: LocalMode = d.detectLocalMode;
  const dlm = getString(raw, 'detectLocalMode', '', errs);
  if (dlm !== undefined && dlm !== '') {
    if ((LOCAL_MODES as readonly string[]).includes(dlm)) detectLocalMode = dlm as LocalMode;
    else errs.notSupported('detectLocalMode', dlm, LOCAL_MODES);
  }
  const dl = getRecord(raw, 'detectLocal', '', errs) ?? {};
  const bridgeInterface = getString(dl, 'bridgeInterface', 'detectLocal', errs) ?? '';
  const interfaceNamePrefix = getString(dl, 'interfaceNamePrefix', 'detectLocal', errs) ?? '';
  if (detectLocalMode === 'BridgeInterface' && bridgeInterface === '') errs.required('detectLocal.bridgeInterface');
  if (detectLocalMode === 'InterfaceNamePrefix' && interfaceNamePrefix === '') errs.required('detectLocal.interfaceNamePrefix');

  const nodePortAddresses: NodePortAddress[] = [];
  (getList(raw, 'nodePortAddresses', '', errs) ?? []).forEach((v, i) => {
    const f = index('nodePortAddresses', i);
    if (v === 'primary') nodePortAddresses.push({ kind: 'primary' });
    else if (typeof v === 'string' && v.includes(':')) {
      // an IPv6 CIDR: NewNodePortAddresses keeps only the proxier's family
    } else {
      const c = typeof v === 'string' ? tryCidr(v) : null;
      if (c === null) errs.invalid(f, v, 'must be a valid CIDR');
      else nodePortAddresses.push({ kind: 'cidr', cidr: c });
    }
  });

  const ct = getRecord(raw, 'conntrack', '', errs) ?? {};
  const conntrackTCPBeLiberal = getBool(ct, 'tcpBeLiberal', 'conntrack', errs) ?? false;

  return {
    kind: 'KubeProxyConfiguration',
    mode,
    clusterCIDR,
    iptables: {
      masqueradeAll,
      masqueradeBit,
      syncPeriodSeconds: iptSync,
      minSyncPeriodSeconds: iptMinSync,
      localhostNodePorts,
    },
    ipvs: {
      scheduler: scheduler === '' ? 'rr' : scheduler,
      syncPeriodSeconds: ipvsSync,
      minSyncPeriodSeconds: ipvsMinSync,
      strictARP,
      tcpTimeoutSeconds: timeouts[0]!,
      tcpFinTimeoutSeconds: timeouts[1]!,
      udpTimeoutSeconds: timeouts[2]!,
      excludeCIDRs,
    },
    detectLocalMode,
    detectLocal: { bridgeInterface, interfaceNamePrefix },
    nodePortAddresses,
    conntrackTCPBeLiberal,
  };
}

/** validateKubeProxyIPTablesConfiguration / validateKubeProxyIPVSConfiguration period checks. */
function checkPeriods(section: string, sync: number, minSync: number, errs: Errs): void {
  if (sync <= 0) errs.invalid(`${section}.syncPeriod`, sync, 'must be greater than 0');
  if (minSync < 0) errs.invalid(`${section}.minSyncPeriod`, minSync, 'must be greater than or equal to 0');
  if (minSync > sync) errs.invalid(`${section}.syncPeriod`, minSync, `must be greater than or equal to ${section}.minSyncPeriod`);
}

// ------------------------------------------------------------------ public converters

/** Kinds {@link kubeObjectFromObject} converts. */
export const SUPPORTED_KINDS: readonly KubeObject['kind'][] = ['Service', 'EndpointSlice', 'Node', 'KubeProxyConfiguration'];

const NAMESPACED = new Set<string>(['Service', 'EndpointSlice']);

function run<T>(where: string, kind: string, raw: unknown, convert: (r: Raw, e: Errs) => T, line: number | null): T {
  const errs = new Errs();
  if (!isRecord(raw)) {
    errs.invalid('', raw, 'must be an object');
    throw new KubeValidationError(where, `${kind} ?`, errs.list, line);
  }
  const value = convert(raw, errs);
  if (errs.list.length > 0) {
    const id = kind === 'KubeProxyConfiguration' ? kind : `${kind} ${peekName(raw, NAMESPACED.has(kind))}`;
    throw new KubeValidationError(where, id, errs.list, line);
  }
  return value;
}

/**
 * Converts a `v1` Service manifest, applying the API defaults.
 *
 * @throws {KubeValidationError} with every failure, API field paths and messages
 */
export function serviceFromObject(raw: unknown): Service {
  return run('kube.serviceFromObject', 'Service', raw, convertService, null);
}

/**
 * Converts a `discovery.k8s.io/v1` EndpointSlice manifest (address type IPv4).
 *
 * @throws {KubeValidationError} with every failure
 */
export function endpointSliceFromObject(raw: unknown): EndpointSlice {
  return run('kube.endpointSliceFromObject', 'EndpointSlice', raw, convertEndpointSlice, null);
}

/**
 * Converts a `v1` Node manifest (name, labels, IPv4 InternalIP/ExternalIP addresses, IPv4 pod CIDR).
 *
 * @throws {KubeValidationError} with every failure
 */
export function nodeFromObject(raw: unknown): Node {
  return run('kube.nodeFromObject', 'Node', raw, convertNode, null);
}

/**
 * Converts a `kubeproxy.config.k8s.io/v1alpha1` KubeProxyConfiguration with
 * kube-proxy's defaults. Field paths are the YAML paths (`iptables.masqueradeBit`);
 * messages are those of `pkg/proxy/apis/config/validation`.
 *
 * @throws {KubeValidationError} with every failure
 */
export function kubeProxyConfigurationFromObject(raw: unknown): KubeProxyConfiguration {
  return run('kube.kubeProxyConfigurationFromObject', 'KubeProxyConfiguration', raw, convertKubeProxyConfiguration, null);
}

/**
 * Converts one manifest of a supported kind, chosen by its `kind`.
 *
 * @param raw - the decoded manifest
 * @param where - `module.method` of the caller for the error message
 * @param line - 1-based line of the object in its input, for the error
 * @returns the object, or null when `kind` is not one lbsim reads
 * @throws {KubeValidationError} when the object is invalid
 */
export function kubeObjectFromObject(raw: unknown, where = 'kube.kubeObjectFromObject', line: number | null = null): KubeObject | null {
  if (!isRecord(raw)) return run(where, '?', raw, () => null, line);
  const kind = prop(raw, 'kind');
  switch (kind) {
    case 'Service':
      return run(where, kind, raw, convertService, line);
    case 'EndpointSlice':
      return run(where, kind, raw, convertEndpointSlice, line);
    case 'Node':
      return run(where, kind, raw, convertNode, line);
    case 'KubeProxyConfiguration':
      return run(where, kind, raw, convertKubeProxyConfiguration, line);
    default:
      return null;
  }
}
