/**
 * IPVS flag values from torvalds/linux `include/uapi/linux/ip_vs.h`.
 *
 * @module
 */

/** Real-server (dest) flags. */
export const DestFlag = {
  /** `IP_VS_DEST_F_AVAILABLE`: the dest is in service (not in the trash). */
  AVAILABLE: 0x1,
  /** `IP_VS_DEST_F_OVERLOAD`: the upper connection threshold was reached. */
  OVERLOAD: 0x2,
} as const;

/** Virtual-service flags. */
export const ServiceFlag = {
  /** `IP_VS_SVC_F_PERSISTENT` */
  PERSISTENT: 0x1,
  /** `IP_VS_SVC_F_HASHED` */
  HASHED: 0x2,
  /** `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling (UDP only). */
  ONEPACKET: 0x4,
  /** `IP_VS_SVC_F_SCHED1`: sh-fallback / mh-fallback / flag-1. */
  SCHED1: 0x8,
  /** `IP_VS_SVC_F_SCHED2`: sh-port / mh-port / flag-2. */
  SCHED2: 0x10,
  /** `IP_VS_SVC_F_SCHED3`: flag-3. */
  SCHED3: 0x20,
} as const;

/**
 * Forwarding methods as the connection-flag values the kernel uses
 * (`IP_VS_CONN_F_MASQ` 0, `LOCALNODE` 1, `TUNNEL` 2, `DROUTE` 3).
 */
export const ForwardMethod = {
  /** `-m`: NAT; the only method that rewrites the destination port and sees replies. */
  MASQ: 0,
  /** The real server is a local address: the packet goes up the local stack. */
  LOCAL: 1,
  /** `-i`: IP-in-IP tunnel. */
  TUNNEL: 2,
  /** `-g`: direct routing (ipvsadm's default). */
  DROUTE: 3,
} as const;

/** A forwarding method value. */
export type ForwardMethod = (typeof ForwardMethod)[keyof typeof ForwardMethod];

/** The name ipvsadm prints in the Forward column. */
export function forwardName(fwd: ForwardMethod): 'Masq' | 'Local' | 'Tunnel' | 'Route' {
  switch (fwd) {
    case ForwardMethod.MASQ:
      return 'Masq';
    case ForwardMethod.LOCAL:
      return 'Local';
    case ForwardMethod.TUNNEL:
      return 'Tunnel';
    case ForwardMethod.DROUTE:
      return 'Route';
  }
}
