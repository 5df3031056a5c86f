import { formatIPv4, tryParseIPv4 } from '../../net/ipv4.js';
import { IPPROTO, icmpText, icmpValue, protocolNumber, protocolText, protoWithPorts } from './protocols.js';
import { netmask, type IpsetTypeInfo, type IpsetValue } from './set.js';

/**
 * Element text as the `ipset` tool reads and prints it:
 * `10.0.0.1`, `10.0.0.0/24`, `10.0.0.1,tcp:80`, `10.0.0.1,udp:53,10.0.0.2`,
 * `10.0.0.1,sctp:3868,192.168.0.0/16`, `30000-32767`. Ranges and CIDRs
 * expand into single elements on add/del as the kernel's uadt functions do.
 *
 * @module
 */

/** A syntax problem in an element; `offset` is the 0-based index in the element text. */
export class ElementSyntaxError extends Error {
  override name = 'ElementSyntaxError';
  /** Where in the element text. */
  readonly offset: number;

  /**
   * @param message - the tool's wording
   * @param offset - 0-based index into the element text
   */
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** What an element text stands for before expansion. */
export interface ElementSpec {
  /** Dimension-1 addresses `ipFrom..ipTo` (hash:ip and ip,port types). */
  readonly ipFrom: number;
  readonly ipTo: number;
  /** hash:net: the networks (a range splits into CIDRs). */
  readonly nets: readonly { readonly ip: number; readonly cidr: number }[];
  readonly proto: number;
  readonly portFrom: number;
  readonly portTo: number;
  /** Third dimension: address, or network for hash:ip,port,net. */
  readonly ip2: number;
  readonly cidr2: number;
  /** Whether the text had a range or a CIDR that expands (refused by test). */
  readonly isRange: boolean;
}

/** Number of single elements an {@link ElementSpec} expands to. */
export function elementCount(type: IpsetTypeInfo, s: ElementSpec): number {
  if (type.name === 'bitmap:port') return s.portTo - s.portFrom + 1;
  if (type.name === 'hash:net') return s.nets.length;
  const ips = s.ipTo - s.ipFrom + 1;
  return type.name === 'hash:ip' ? ips : ips * (s.portTo - s.portFrom + 1);
}

/** Calls `fn` for every single element of a spec, in the kernel's order (address, then port). */
export function forEachValue(type: IpsetTypeInfo, s: ElementSpec, fn: (v: IpsetValue) => void): void {
  if (type.name === 'bitmap:port') {
    for (let p = s.portFrom; p <= s.portTo; p++) fn({ ip: 0, cidr: 32, proto: 0, port: p, ip2: 0, cidr2: 32 });
    return;
  }
  if (type.name === 'hash:net') {
    for (const n of s.nets) fn({ ip: n.ip, cidr: n.cidr, proto: 0, port: 0, ip2: 0, cidr2: 32 });
    return;
  }
  for (let ip = s.ipFrom; ip <= s.ipTo; ip++) {
    if (type.name === 'hash:ip') {
      fn({ ip, cidr: 32, proto: 0, port: 0, ip2: 0, cidr2: 32 });
      continue;
    }
    for (let p = s.portFrom; p <= s.portTo; p++) {
      fn({ ip, cidr: 32, proto: s.proto, port: p, ip2: s.ip2, cidr2: s.cidr2 });
    }
  }
}

/**
 * Parses one element of a set type.
 *
 * @param type - the set type
 * @param text - element text
 * @throws {ElementSyntaxError} with the tool's wording
 */
export function parseElement(type: IpsetTypeInfo, text: string): ElementSpec {
  const parts = text.split(',');
  const need = type.name === 'bitmap:port' || type.name === 'hash:ip' || type.name === 'hash:net' ? 1 : type.dimension;
  if (parts.length < need) {
    const which = parts.length === 1 ? 'Second' : 'Third';
    throw new ElementSyntaxError(`Syntax error: ${which} element is missing from ${text}.`, text.length);
  }
  if (parts.length > need) {
    const at = parts.slice(0, need).join(',').length;
    throw new ElementSyntaxError(`Syntax error: Elem separator in ${text}, but settype ${type.name} supports none.`, at);
  }
  const base = {
    ipFrom: 0,
    ipTo: 0,
    nets: [] as { ip: number; cidr: number }[],
    proto: 0,
    portFrom: 0,
    portTo: 0,
    ip2: 0,
    cidr2: 32,
    isRange: false,
  };
  if (type.name === 'bitmap:port') {
    const p = parsePortPart(parts[0]!, 0, true);
    return { ...base, portFrom: p.from, portTo: p.to, isRange: p.from !== p.to };
  }
  if (type.name === 'hash:net') {
    const nets = parseNetPart(parts[0]!, 0, true);
    return { ...base, nets, isRange: parts[0]!.includes('-') };
  }
  const r = parseIpRange(parts[0]!, 0);
  const spec = { ...base, ipFrom: r.from, ipTo: r.to, isRange: r.range };
  if (type.name === 'hash:ip') return spec;
  const offPort = parts[0]!.length + 1;
  const p = parsePortPart(parts[1]!, offPort, false);
  spec.proto = p.proto;
  spec.portFrom = p.from;
  spec.portTo = p.to;
  if (p.from !== p.to) spec.isRange = true;
  if (type.name === 'hash:ip,port') return spec;
  const off3 = offPort + parts[1]!.length + 1;
  if (type.name === 'hash:ip,port,ip') {
    spec.ip2 = parseAddr(parts[2]!, off3);
    return spec;
  }
  const nets = parseNetPart(parts[2]!, off3, false);
  spec.ip2 = nets[0]!.ip;
  spec.cidr2 = nets[0]!.cidr;
  return spec;
}

/** Prints one element as `ipset save` does. */
export function formatElement(type: IpsetTypeInfo, v: IpsetValue): string {
  switch (type.name) {
    case 'bitmap:port':
      return String(v.port);
    case 'hash:ip':
      return formatIPv4(v.ip);
    case 'hash:net':
      return formatNet(v.ip, v.cidr);
    case 'hash:ip,port':
      return `${formatIPv4(v.ip)},${formatProtoPort(v.proto, v.port)}`;
    case 'hash:ip,port,ip':
      return `${formatIPv4(v.ip)},${formatProtoPort(v.proto, v.port)},${formatIPv4(v.ip2)}`;
    case 'hash:ip,port,net':
      return `${formatIPv4(v.ip)},${formatProtoPort(v.proto, v.port)},${formatNet(v.ip2, v.cidr2)}`;
  }
}

/** `proto:port` as the tool prints it (`tcp:80`, `icmp:echo-request`, `gre:0`). */
export function formatProtoPort(proto: number, port: number): string {
  if (proto === IPPROTO.ICMP) return `icmp:${icmpText(port)}`;
  return `${protocolText(proto)}:${port}`;
}

function formatNet(ip: number, cidr: number): string {
  return cidr === 32 ? formatIPv4(ip) : `${formatIPv4(ip)}/${cidr}`;
}

function parseAddr(text: string, offset: number): number {
  const a = tryParseIPv4(text);
  if (a < 0) throw new ElementSyntaxError(`Syntax error: cannot parse ${text}: resolving to IPv4 address failed`, offset);
  return a;
}

function parseCidr(text: string, offset: number, min: number): number {
  if (!/^[0-9]{1,2}$/.test(text) || Number(text) > 32 || Number(text) < min) {
    throw new ElementSyntaxError('The value of the CIDR parameter of the IP address is invalid', offset);
  }
  return Number(text);
}

/** `IP`, `IP/cidr` (1..32) or `IP-IP`. */
function parseIpRange(text: string, offset: number): { from: number; to: number; range: boolean } {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const a = parseAddr(text.slice(0, dash), offset);
    const b = parseAddr(text.slice(dash + 1), offset + dash + 1);
    return a <= b ? { from: a, to: b, range: true } : { from: b, to: a, range: true };
  }
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const a = parseAddr(text.slice(0, slash), offset);
    const c = parseCidr(text.slice(slash + 1), offset + slash + 1, 1);
    const from = (a & netmask(c)) >>> 0;
    return { from, to: (from | ~netmask(c)) >>> 0, range: true };
  }
  const a = parseAddr(text, offset);
  return { from: a, to: a, range: false };
}

/** `IP[/cidr]`, or `IP-IP` split into CIDRs (ip_set_range_to_cidr()). */
function parseNetPart(text: string, offset: number, allowRange: boolean): { ip: number; cidr: number }[] {
  const dash = allowRange ? text.indexOf('-') : -1;
  if (dash >= 0) {
    let from = parseAddr(text.slice(0, dash), offset);
    let to = parseAddr(text.slice(dash + 1), offset + dash + 1);
    if (to < from) [from, to] = [to, from];
    if (from === 0 && to === 0xffffffff) {
      throw new ElementSyntaxError('Syntax error: the range 0.0.0.0-255.255.255.255 cannot be expressed as networks', offset);
    }
    const out: { ip: number; cidr: number }[] = [];
    for (let ip = from; ; ) {
      const { last, cidr } = rangeToCidr(ip, to);
      out.push({ ip, cidr });
      if (last >= to) break;
      ip = last + 1;
    }
    return out;
  }
  const slash = text.indexOf('/');
  if (slash < 0) return [{ ip: parseAddr(text, offset), cidr: 32 }];
  const a = parseAddr(text.slice(0, slash), offset);
  const c = parseCidr(text.slice(slash + 1), offset + slash + 1, 1);
  return [{ ip: (a & netmask(c)) >>> 0, cidr: c }];
}

/** ip_set_range_to_cidr() (ip_set_core.c): the largest block (prefix ≥ 1) starting at `from` within `to`. */
export function rangeToCidr(from: number, to: number): { last: number; cidr: number } {
  for (let i = 1; i < 32; i++) {
    const m = netmask(i);
    if (((from & m) >>> 0) !== from) continue;
    const last = (from | ~m) >>> 0;
    if (last <= to) return { last, cidr: i };
  }
  return { last: from, cidr: 32 };
}

function parsePortNumber(text: string, offset: number, protoName: string): number {
  if (!/^[0-9]+$/.test(text)) {
    throw new ElementSyntaxError(`Syntax error: cannot parse '${text}' as a ${protoName} port`, offset);
  }
  const n = Number(text);
  if (n > 65535) throw new ElementSyntaxError(`Syntax error: '${text}' is out of range 0-65535`, offset);
  return n;
}

/** `[proto:]port[-port]`; the protocol defaults to tcp. `bitmap` accepts only tcp/udp prefixes and no protocol in the value. */
function parsePortPart(text: string, offset: number, bitmap: boolean): { proto: number; from: number; to: number } {
  const colon = text.indexOf(':');
  let proto: number = IPPROTO.TCP;
  let protoName = 'tcp';
  let rest = text;
  let restOff = offset;
  if (colon >= 0) {
    protoName = text.slice(0, colon);
    proto = protocolNumber(protoName);
    rest = text.slice(colon + 1);
    restOff = offset + colon + 1;
    if (proto < 0 || proto === 0) {
      throw new ElementSyntaxError(`Syntax error: Unsupported protocol '${protoName}'`, offset);
    }
    if (proto === IPPROTO.ICMPV6) {
      throw new ElementSyntaxError('Syntax error: Protocol ICMPv6 can be used with family inet6 only', offset);
    }
    if (bitmap && proto !== IPPROTO.TCP && proto !== IPPROTO.UDP) {
      throw new ElementSyntaxError(`Syntax error: Unsupported protocol '${protoName}'`, offset);
    }
  }
  if (proto === IPPROTO.ICMP) {
    const v = icmpValue(rest);
    if (v < 0) throw new ElementSyntaxError(`Cannot parse ${rest} as an ICMP type/code.`, restOff);
    return { proto, from: v, to: v };
  }
  if (!protoWithPorts(proto)) {
    if (rest !== '0') {
      throw new ElementSyntaxError(`Syntax error: Protocol ${protoName} can be used with pseudo port value 0 only.`, restOff);
    }
    return { proto, from: 0, to: 0 };
  }
  const dash = rest.indexOf('-');
  if (dash < 0) {
    const p = parsePortNumber(rest, restOff, protoName);
    return { proto: bitmap ? 0 : proto, from: p, to: p };
  }
  let a = parsePortNumber(rest.slice(0, dash), restOff, protoName);
  let b = parsePortNumber(rest.slice(dash + 1), restOff + dash + 1, protoName);
  if (a > b) [a, b] = [b, a];
  return { proto: bitmap ? 0 : proto, from: a, to: b };
}
