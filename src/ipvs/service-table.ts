import type { WorkCounts } from '../classify/work.js';
import type { IPv4 } from '../net/ipv4.js';
import type { Port } from '../net/port.js';
import { Protocol } from '../net/protocol.js';
import type { VirtualService } from './service.js';

/** `IP_VS_SVC_TAB_BITS`: both service tables have 256 buckets. */
export const SVC_TAB_BITS = 8;
const SVC_TAB_SIZE = 1 << SVC_TAB_BITS;
const SVC_TAB_MASK = SVC_TAB_SIZE - 1;
/** `FTPPORT`. */
export const FTP_PORT = 21;
/** `FTPDATA`. */
export const FTP_DATA_PORT = 20;
/** First unprivileged port (`net.ipv4.ip_unprivileged_port_start` default). */
const UNPRIVILEGED_PORT_START = 1024;

/**
 * The two virtual-service hash tables of torvalds/linux
 * `net/netfilter/ipvs/ip_vs_ctl.c`: by ⟨protocol, address, port⟩ and by
 * firewall mark, 256 chained buckets each, new services at the chain head.
 * lbsim models one network namespace, so the netns term of the hash is 0.
 */
export class ServiceTable {
  readonly #svc: (VirtualService | null)[] = new Array<VirtualService | null>(SVC_TAB_SIZE).fill(null);
  readonly #fwm: (VirtualService | null)[] = new Array<VirtualService | null>(SVC_TAB_SIZE).fill(null);
  #count = 0;
  #ftpCount = 0;
  #nullCount = 0;

  /** Number of services. */
  get count(): number {
    return this.#count;
  }

  /** `ip_vs_svc_hashkey`: `(proto ^ addr ^ (port >> 8) ^ port) & 255`. */
  static hashKey(proto: number, addr: IPv4, port: Port): number {
    return (proto ^ addr ^ (port >>> SVC_TAB_BITS) ^ port) & SVC_TAB_MASK;
  }

  /** `ip_vs_svc_fwm_hashkey`. */
  static fwmHashKey(fwmark: number): number {
    return fwmark & SVC_TAB_MASK;
  }

  /** Adds a service at the head of its bucket (`ip_vs_svc_hash`). */
  insert(s: VirtualService): void {
    const table = s.fwmark !== 0 ? this.#fwm : this.#svc;
    const b = s.fwmark !== 0 ? ServiceTable.fwmHashKey(s.fwmark) : ServiceTable.hashKey(s.proto, s.addr, s.port);
    s.next = (table[b] as VirtualService | null);
    table[b] = s;
    this.#count++;
    if (s.fwmark === 0 && s.port === FTP_PORT) this.#ftpCount++;
    if (s.fwmark === 0 && s.port === 0) this.#nullCount++;
  }

  /** Removes a service (`ip_vs_svc_unhash`). */
  remove(s: VirtualService): void {
    const table = s.fwmark !== 0 ? this.#fwm : this.#svc;
    const b = s.fwmark !== 0 ? ServiceTable.fwmHashKey(s.fwmark) : ServiceTable.hashKey(s.proto, s.addr, s.port);
    let prev: VirtualService | null = null;
    let cur = (table[b] as VirtualService | null);
    while (cur !== null && cur !== s) {
      prev = cur;
      cur = cur.next;
    }
    if (cur === null) return;
    if (prev === null) table[b] = s.next;
    else prev.next = s.next;
    s.next = null;
    this.#count--;
    if (s.fwmark === 0 && s.port === FTP_PORT) this.#ftpCount--;
    if (s.fwmark === 0 && s.port === 0) this.#nullCount--;
  }

  /** `__ip_vs_service_find`: the exact ⟨proto, addr, port⟩ entry. */
  findExact(proto: number, addr: IPv4, port: Port, work: WorkCounts): VirtualService | null {
    work.hashProbes++;
    let s = (this.#svc[ServiceTable.hashKey(proto, addr, port)] as VirtualService | null);
    while (s !== null) {
      work.chainSteps++;
      if (s.addr === addr && s.port === port && s.proto === proto) return s;
      s = s.next;
    }
    return null;
  }

  /** `__ip_vs_svc_fwm_find`. */
  findFwmark(fwmark: number, work: WorkCounts): VirtualService | null {
    work.hashProbes++;
    let s = (this.#fwm[ServiceTable.fwmHashKey(fwmark)] as VirtualService | null);
    while (s !== null) {
      work.chainSteps++;
      if (s.fwmark === fwmark) return s;
      s = s.next;
    }
    return null;
  }

  /**
   * `ip_vs_service_find`, in the kernel's order: the fwmark table when the
   * packet has a mark, then the exact entry, then (TCP, an FTP service exists,
   * port 20 or unprivileged) port 21, then (a port-0 service exists) port 0.
   */
  find(proto: number, addr: IPv4, port: Port, mark: number, work: WorkCounts): VirtualService | null {
    if (mark !== 0) {
      const s = this.findFwmark(mark, work);
      if (s !== null) return s;
    }
    let s = this.findExact(proto, addr, port, work);
    if (
      s === null &&
      proto === Protocol.TCP &&
      this.#ftpCount > 0 &&
      (port === FTP_DATA_PORT || port >= UNPRIVILEGED_PORT_START)
    ) {
      s = this.findExact(proto, addr, FTP_PORT, work);
    }
    if (s === null && this.#nullCount > 0) s = this.findExact(proto, addr, 0, work);
    return s;
  }

  /**
   * Services in kernel order, as `ipvsadm -L --nosort` lists them: the
   * ⟨proto, addr, port⟩ table bucket by bucket, then the fwmark table
   * (`__ip_vs_get_service_entries`).
   */
  *[Symbol.iterator](): IterableIterator<VirtualService> {
    for (const table of [this.#svc, this.#fwm]) {
      for (let b = 0; b < SVC_TAB_SIZE; b++) {
        for (let s = (table[b] as VirtualService | null); s !== null; s = s.next) yield s;
      }
    }
  }
}
