/**
 * ipset: named sets of addresses, networks and ports used by `-m set`.
 *
 * @module
 */
export { matchSet, type SetPacket } from './match.js';
export {
  IPSET_MAX_COMMENT_SIZE,
  IPSET_MAX_TIMEOUT,
  IPSET_MESSAGES,
  IPSET_TYPES,
  IpSet,
  IpsetError,
  IpsetFeature,
  type IpsetAddExt,
  type IpsetConfig,
  type IpsetErrorReason,
  type IpsetMember,
  type IpsetTypeInfo,
  type IpsetTypeName,
  type IpsetValue,
} from './set.js';
export {
  IpsetStore,
  formatMember,
  type IpsetAddOptions,
  type IpsetCreateOptions,
  type IpsetInfo,
  type IpsetStoreOptions,
  type NowSource,
} from './store.js';
export { formatElement, formatProtoPort, parseElement, type ElementSpec } from './elements.js';
