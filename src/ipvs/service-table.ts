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
 * One hash chain, packed: entry i's key is `keys[2i]` (address, or the mark)
 * and `keys[2i+1]` (protocol << 16 | port, or 0 for the mark table), its
 * service `svcs[i]`. Entries are stored oldest first, so the kernel's chain
 * (newest at the head) is walked from the end of the arrays.
 */
class Chain {
  keys: Int32Array = new Int32Array(8);
  readonly svcs: VirtualService[] = [];

  /** Appends an entry (the new chain head). */
  push(k0: number, k1: number, s: VirtualService): void {
    const i = this.svcs.length;
    if (2 * i + 2 > this.keys.length) {
      const keys = new Int32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    this.keys[2 * i] = k0;
    this.keys[2 * i + 1] = k1;
    this.svcs.push(s);
  }

  /** Removes the entry at `i`, keeping the order of the others. */
  removeAt(i: number): void {
    this.keys.copyWithin(2 * i, 2 * i + 2, 2 * this.svcs.length);
    this.svcs.splice(i, 1);
  }
}

/**
 * The two virtual-service hash tables of torvalds/linux
 * `net/netfilter/ipvs/ip_vs_ctl.c`: by ⟨protocol, address, port⟩ and by
 * firewall mark, 256 chained buckets each, new services at the chain head.
 * lbsim models one network namespace, so the netns term of the hash is 0.
 *
 * The chains are stored packed (see `Chain`): a lookup compares integers in
 * a typed array rather than loading one service object per step, and counts
 * one chain step per entry compared, exactly as the kernel's walk from the
 * head does. `VirtualService.next` is kept in step with the chains.
 */
export class ServiceTable {
  readonly #svc: Chain[] = Array.from({ length: SVC_TAB_SIZE }, () => new Chain());
  readonly #fwm: Chain[] = Array.from({ length: SVC_TAB_SIZE }, () => new Chain());
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
    const chain = this.#chainOf(s);
    const n = chain.svcs.length;
    s.next = n > 0 ? chain.svcs[n - 1]! : null;
    if (s.fwmark !== 0) chain.push(s.fwmark | 0, 0, s);
    else chain.push(s.addr | 0, (s.proto << 16) | s.port, s);
    this.#count++;
    if (s.fwmark === 0 && s.port === FTP_PORT) this.#ftpCount++;
    if (s.fwmark === 0 && s.port === 0) this.#nullCount++;
  }

  /** Removes a service (`ip_vs_svc_unhash`). */
  remove(s: VirtualService): void {
    const chain = this.#chainOf(s);
    const i = chain.svcs.indexOf(s);
    if (i < 0) return;
    // The entry newer than s (nearer the head) now links to what s linked to.
    if (i + 1 < chain.svcs.length) chain.svcs[i + 1]!.next = s.next;
    chain.removeAt(i);
    s.next = null;
    this.#count--;
    if (s.fwmark === 0 && s.port === FTP_PORT) this.#ftpCount--;
    if (s.fwmark === 0 && s.port === 0) this.#nullCount--;
  }

  #chainOf(s: VirtualService): Chain {
    return s.fwmark !== 0
      ? this.#fwm[ServiceTable.fwmHashKey(s.fwmark)]!
      : this.#svc[ServiceTable.hashKey(s.proto, s.addr, s.port)]!;
  }

  /** `__ip_vs_service_find`: the exact ⟨proto, addr, port⟩ entry. */
  findExact(proto: number, addr: IPv4, port: Port, work: WorkCounts): VirtualService | null {
    work.hashProbes++;
    const chain = this.#svc[ServiceTable.hashKey(proto, addr, port)]!;
    const keys = chain.keys;
    const n = chain.svcs.length;
    const a = addr | 0;
    const pp = (proto << 16) | port;
    for (let i = n - 1; i >= 0; i--) {
      if (keys[2 * i] === a && keys[2 * i + 1] === pp) {
        work.chainSteps += n - i;
        return chain.svcs[i]!;
      }
    }
    work.chainSteps += n;
    return null;
  }

  /** `__ip_vs_svc_fwm_find`. */
  findFwmark(fwmark: number, work: WorkCounts): VirtualService | null {
    work.hashProbes++;
    const chain = this.#fwm[ServiceTable.fwmHashKey(fwmark)]!;
    const keys = chain.keys;
    const n = chain.svcs.length;
    const m = fwmark | 0;
    for (let i = n - 1; i >= 0; i--) {
      if (keys[2 * i] === m) {
        work.chainSteps += n - i;
        return chain.svcs[i]!;
      }
    }
    work.chainSteps += n;
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
        const svcs = table[b]!.svcs;
        for (let i = svcs.length - 1; i >= 0; i--) yield svcs[i]!;
      }
    }
  }
}
