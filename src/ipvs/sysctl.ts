/**
 * The `net.ipv4.vs.*` sysctls that change IPVS behaviour
 * (torvalds/linux `Documentation/networking/ipvs-sysctl.rst`).
 */
export interface IpvsSysctl {
  /** `conn_reuse_mode` (default 1): reschedule a SYN that hits a TIME_WAIT/CLOSE entry; bit 2 adds FIN_WAIT for DR/TUN. */
  connReuseMode: number;
  /** `expire_nodest_conn` (default false): expire entries whose dest is gone (or, on a new SYN, quiesced). */
  expireNodestConn: boolean;
  /** `expire_quiescent_template` (default false): invalidate persistence templates pointing at a weight-0 dest. */
  expireQuiescentTemplate: boolean;
  /**
   * `conntrack` (default false): keep nf_conntrack entries for IPVS connections (kube-proxy sets it).
   * With it, a SYN that must be rescheduled is dropped instead (the 1-second reconnect delay).
   */
  conntrack: boolean;
  /** `sloppy_tcp` (default false): create connections on any TCP packet, not only SYN. */
  sloppyTcp: boolean;
  /** `secure_tcp` (default false): use the stricter TCP state table. */
  secureTcp: boolean;
  /** `lblc_expiration` in seconds (default 86400). */
  lblcExpiration: number;
  /** `lblcr_expiration` in seconds (default 86400). */
  lblcrExpiration: number;
  /** `run_estimation` (default true): run the 2-second rate estimator. */
  runEstimation: boolean;
}

/** The kernel's defaults. */
export const DEFAULT_IPVS_SYSCTL: Readonly<IpvsSysctl> = Object.freeze({
  connReuseMode: 1,
  expireNodestConn: false,
  expireQuiescentTemplate: false,
  conntrack: false,
  sloppyTcp: false,
  secureTcp: false,
  lblcExpiration: 86_400,
  lblcrExpiration: 86_400,
  runEstimation: true,
});
