/**
 * Parser for one `ipvsadm` command line, faithful to ipvsadm 1.31
 * (`ipvsadm.c` of the upstream tool, read from the GitHub mirror
 * `louygan/ipvsadm`; where 1.26 from `Distrotech/ipvsadm` differs, see the
 * notes of the `ipvsadm` module index): popt option handling (bundled short options, long
 * options with `=`, the optional argument of `-p`, leftover arguments), the
 * per-option value checks of `parse_options`, the `commands_v_options` table
 * of `generic_opt_check`, and the refusals `process_options` makes before it
 * calls the kernel. Every refusal is a {@link ParseError} whose message
 * quotes ipvsadm's own text and whose column points at the offending token.
 *
 * lbsim has no DNS, no `/etc/services` and no IPv6: host and service names
 * and IPv6 addresses are refused where ipvsadm would look them up.
 *
 * @module
 */

import { ParseError } from '../../errors.js';
import type { IPv4 } from '../../net/ipv4.js';
import type { Port } from '../../net/port.js';
import { Protocol } from '../../net/protocol.js';
import { ForwardMethod, ServiceFlag } from '../flags.js';
import { DEFAULT_PERSISTENT_TIMEOUT_S, type ServiceKey } from '../ipvs.js';

const WHERE = 'lbsim/ipvsadm.parseIpvsadm';
const TRYHELP = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

/** ipvsadm's `MAX_TIMEOUT` (31 days), the upper bound of `-p` and `--set` values. */
export const IPVSADM_MAX_TIMEOUT: number = 86400 * 31;
/** ipvsadm's `DEF_SCHED`. */
export const IPVSADM_DEFAULT_SCHEDULER = 'wlc';
/** `IP_VS_SCHEDNAME_MAXLEN` is 16; ipvsadm 1.31 copies at most 15 characters (`strncpy(..., MAXLEN - 1)`). */
const SCHED_NAME_COPY = 15;
/** `IP_VS_PENAME_MAXLEN`. */
const PE_NAME_MAXLEN = 16;
const INT_MAX = 2147483647;

// ----------------------------------------------------------------- result types

/** A service's options exactly as ipvsadm sends them with `-A`/`-E` (always the complete set). */
export interface IpvsadmServiceOptions {
  /** `-s`, or `wlc` when not given (`DEF_SCHED`); at most 15 characters. */
  readonly scheduler: string;
  /** `-p` given. */
  readonly persistent: boolean;
  /** Persistence timeout in seconds: the `-p` value, 360 for a bare `-p`, 0 without `-p`. */
  readonly timeout: number;
  /** `-M`, default 255.255.255.255. */
  readonly netmask: IPv4;
  /** `-b` flags as {@link ServiceFlag} SCHED1..3 bits (0 without `-b`). */
  readonly schedFlags: number;
  /** `-o` given. */
  readonly onePacket: boolean;
  /** `--pe` engine name, `''` when not given. */
  readonly pe: string;
}

/** A real server's options exactly as ipvsadm sends them with `-a`/`-e` (always the complete set). */
export interface IpvsadmDestOptions {
  /** `-w`, default 1. */
  readonly weight: number;
  /** `-g`/`-i`/`-m`, default `-g` ({@link ForwardMethod.DROUTE}). */
  readonly fwd: ForwardMethod;
  /** `-x`, default 0. */
  readonly uThreshold: number;
  /** `-y`, default 0. */
  readonly lThreshold: number;
}

/** A real server address as given with `-r` (after ipvsadm's port defaulting). */
export interface IpvsadmServer {
  /** Address. */
  readonly addr: IPv4;
  /** Port. */
  readonly port: Port;
}

/** Output options of `-L` (`FMT_*` flags of ipvsadm). */
export interface IpvsadmListFormat {
  /** `-n`. lbsim always prints numerically; the flag is kept for completeness. */
  readonly numeric: boolean;
  /** `--stats`. */
  readonly stats: boolean;
  /** `--rate`. */
  readonly rate: boolean;
  /** `--thresholds`. */
  readonly thresholds: boolean;
  /** `--persistent-conn`. */
  readonly persistentConn: boolean;
  /** `--tun-info`. */
  readonly tunInfo: boolean;
  /** `--exact`. */
  readonly exact: boolean;
  /** `--nosort`. */
  readonly nosort: boolean;
}

/** `-A`: add a virtual service. */
export interface IpvsadmAddService {
  /** Discriminant. */
  readonly kind: 'add-service';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
  /** Every service option, defaults filled in as ipvsadm sends them. */
  readonly options: IpvsadmServiceOptions;
}
/** `-E`: edit a virtual service (every option not given takes its default). */
export interface IpvsadmEditService {
  /** Discriminant. */
  readonly kind: 'edit-service';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
  /** Every service option, defaults filled in as ipvsadm sends them. */
  readonly options: IpvsadmServiceOptions;
}
/** `-D`: delete a virtual service. */
export interface IpvsadmDeleteService {
  /** Discriminant. */
  readonly kind: 'delete-service';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
}
/** `-C`: delete every service. */
export interface IpvsadmClear {
  /** Discriminant. */
  readonly kind: 'clear';
}
/** `-a`: add a real server. */
export interface IpvsadmAddServer {
  /** Discriminant. */
  readonly kind: 'add-server';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
  /** The real server (`-r`). */
  readonly server: IpvsadmServer;
  /** Every real-server option, defaults filled in as ipvsadm sends them. */
  readonly options: IpvsadmDestOptions;
}
/** `-e`: edit a real server (every option not given takes its default). */
export interface IpvsadmEditServer {
  /** Discriminant. */
  readonly kind: 'edit-server';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
  /** The real server (`-r`). */
  readonly server: IpvsadmServer;
  /** Every real-server option, defaults filled in as ipvsadm sends them. */
  readonly options: IpvsadmDestOptions;
}
/** `-d`: delete a real server. */
export interface IpvsadmDeleteServer {
  /** Discriminant. */
  readonly kind: 'delete-server';
  /** The virtual service (`-t`/`-u`/`--sctp-service` address:port, or `-f` mark). */
  readonly service: ServiceKey;
  /** The real server (`-r`). */
  readonly server: IpvsadmServer;
}
/**
 * `-Z`: zero counters of one service, or of everything when `service` is
 * null. Like libipvs 1.31 over netlink, `-t 0.0.0.0:0` also means "all".
 */
export interface IpvsadmZero {
  /** Discriminant. */
  readonly kind: 'zero';
  /** The service, or null for every service and the totals. */
  readonly service: ServiceKey | null;
}
/**
 * `-L`/`-l` (and a bare `ipvsadm`): what to list.
 * `services` = the whole table (`list_all`), `service` = one (`list_service`),
 * `connections` = `-c`, `timeout` = `--timeout`, `daemon` = `--daemon`.
 */
export interface IpvsadmList {
  /** Discriminant. */
  readonly kind: 'list';
  /** What to list. */
  readonly target: 'services' | 'service' | 'connections' | 'timeout' | 'daemon';
  /** The service for `target: 'service'`. */
  readonly service: ServiceKey | null;
  /** Output flags. */
  readonly format: IpvsadmListFormat;
}
/** `-S`: dump the table as `-A`/`-a` lines. */
export interface IpvsadmSave {
  /** Discriminant. */
  readonly kind: 'save';
  /** `-n` (lbsim always prints numerically). */
  readonly numeric: boolean;
}
/** `-R`: run the lines of standard input. */
export interface IpvsadmRestore {
  /** Discriminant. */
  readonly kind: 'restore';
}
/** `--set tcp tcpfin udp` (seconds; 0 keeps the current value). */
export interface IpvsadmSetTimeouts {
  /** Discriminant. */
  readonly kind: 'set';
  /** TCP ESTABLISHED timeout. */
  readonly tcp: number;
  /** TCP FIN_WAIT timeout. */
  readonly tcpfin: number;
  /** UDP timeout. */
  readonly udp: number;
}

/** One parsed ipvsadm invocation. */
export type IpvsadmCommand =
  | IpvsadmAddService
  | IpvsadmEditService
  | IpvsadmDeleteService
  | IpvsadmClear
  | IpvsadmAddServer
  | IpvsadmEditServer
  | IpvsadmDeleteServer
  | IpvsadmZero
  | IpvsadmList
  | IpvsadmSave
  | IpvsadmRestore
  | IpvsadmSetTimeouts;

/** A whitespace-separated word of a command line and its 1-based column. */
export interface IpvsadmToken {
  /** The text. */
  readonly text: string;
  /** 1-based column of its first character. */
  readonly col: number;
}

/** Where a token list came from, for error positions. */
export interface IpvsadmParseContext {
  /** The whole line, stored in {@link ParseError.input}. */
  readonly input: string;
  /** 1-based line number. @defaultValue 1 */
  readonly line?: number;
  /** True inside `-R` (a nested `-R` is refused, as `restore_table` does). @defaultValue false */
  readonly readingStdin?: boolean;
}

// ------------------------------------------------------------------- tokenizing

/**
 * Splits a line into words at spaces, tabs and carriage returns — the
 * separators of ipvsadm's `config_stream_read` (no quoting).
 */
export function tokenizeIpvsadm(line: string): IpvsadmToken[] {
  const out: IpvsadmToken[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isBlank(line.charCodeAt(i))) i++;
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/**
 * Parses one ipvsadm command line. A leading word `ipvsadm` (or a path
 * ending in `/ipvsadm`) is the program name and is skipped; a line with
 * nothing after it lists the table, as `ipvsadm` without arguments does.
 *
 * @param line - e.g. `-A -t 10.0.0.1:80 -s rr`
 * @param lineNo - line number for error positions
 * @throws {ParseError} for every line ipvsadm itself refuses, with ipvsadm's message
 */
export function parseIpvsadm(line: string, lineNo = 1): IpvsadmCommand {
  if (line.includes('\n') && line.replace(/\r?\n$/, '').includes('\n')) {
    throw new ParseError(`${WHERE}: one command line expected (use restoreIpvsadm for several)`, line, lineNo, line.indexOf('\n') + 1);
  }
  let tokens = tokenizeIpvsadm(line);
  const first = tokens[0];
  if (first !== undefined && (first.text === 'ipvsadm' || first.text.endsWith('/ipvsadm'))) tokens = tokens.slice(1);
  return parseIpvsadmTokens(tokens, { input: line, line: lineNo });
}

// ------------------------------------------------------------------ option table

type ArgKind = 'none' | 'required' | 'optional';

interface OptSpec {
  readonly long: string;
  readonly short: string;
  readonly arg: ArgKind;
}

// The popt table of ipvsadm 1.31 `parse_options`, in its order.
const OPTIONS: readonly OptSpec[] = [
  { long: 'add-service', short: 'A', arg: 'none' },
  { long: 'edit-service', short: 'E', arg: 'none' },
  { long: 'delete-service', short: 'D', arg: 'none' },
  { long: 'clear', short: 'C', arg: 'none' },
  { long: 'list', short: 'L', arg: 'none' },
  { long: 'list', short: 'l', arg: 'none' },
  { long: 'zero', short: 'Z', arg: 'none' },
  { long: 'add-server', short: 'a', arg: 'none' },
  { long: 'edit-server', short: 'e', arg: 'none' },
  { long: 'delete-server', short: 'd', arg: 'none' },
  { long: 'set', short: '', arg: 'none' },
  { long: 'help', short: 'h', arg: 'none' },
  { long: 'version', short: 'v', arg: 'none' },
  { long: 'restore', short: 'R', arg: 'none' },
  { long: 'save', short: 'S', arg: 'none' },
  { long: 'start-daemon', short: '', arg: 'required' },
  { long: 'stop-daemon', short: '', arg: 'required' },
  { long: 'tcp-service', short: 't', arg: 'required' },
  { long: 'udp-service', short: 'u', arg: 'required' },
  { long: 'sctp-service', short: '', arg: 'required' },
  { long: 'fwmark-service', short: 'f', arg: 'required' },
  { long: 'scheduler', short: 's', arg: 'required' },
  { long: 'persistent', short: 'p', arg: 'optional' },
  { long: 'netmask', short: 'M', arg: 'required' },
  { long: 'real-server', short: 'r', arg: 'required' },
  { long: 'masquerading', short: 'm', arg: 'none' },
  { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'gatewaying', short: 'g', arg: 'none' },
  { long: 'weight', short: 'w', arg: 'required' },
  { long: 'u-threshold', short: 'x', arg: 'required' },
  { long: 'l-threshold', short: 'y', arg: 'required' },
  { long: 'numeric', short: 'n', arg: 'none' },
  { long: 'connection', short: 'c', arg: 'none' },
  { long: 'mcast-interface', short: '', arg: 'required' },
  { long: 'syncid', short: '', arg: 'required' },
  { long: 'timeout', short: '', arg: 'none' },
  { long: 'daemon', short: '', arg: 'none' },
  { long: 'stats', short: '', arg: 'none' },
  { long: 'rate', short: '', arg: 'none' },
  { long: 'thresholds', short: '', arg: 'none' },
  { long: 'persistent-conn', short: '', arg: 'none' },
  { long: 'nosort', short: '', arg: 'none' },
  { long: 'sort', short: '', arg: 'none' },
  { long: 'exact', short: 'X', arg: 'none' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'ops', short: 'o', arg: 'none' },
  { long: 'pe', short: '', arg: 'required' },
  { long: 'sched-flags', short: 'b', arg: 'required' },
  { long: 'mcast-group', short: '', arg: 'required' },
  { long: 'mcast-port', short: '', arg: 'required' },
  { long: 'mcast-ttl', short: '', arg: 'required' },
  { long: 'sync-maxlen', short: '', arg: 'required' },
  { long: 'tun-info', short: '', arg: 'none' },
  { long: 'tun-type', short: '', arg: 'required' },
  { long: 'tun-port', short: '', arg: 'required' },
  { long: 'tun-nocsum', short: '', arg: 'none' },
  { long: 'tun-csum', short: '', arg: 'none' },
  { long: 'tun-remcsum', short: '', arg: 'none' },
];

const BY_LONG = new Map<string, OptSpec>();
const BY_SHORT = new Map<string, OptSpec>();
for (const o of OPTIONS) {
  // popt finds the first entry with a name; both `list` entries behave alike.
  if (!BY_LONG.has(o.long)) BY_LONG.set(o.long, o);
  if (o.short !== '') BY_SHORT.set(o.short, o);
}

// OPTC_* indices and `optnames[]` of ipvsadm 1.31.
const OPTC = {
  NUMERIC: 0,
  CONNECTION: 1,
  SERVICE: 2,
  SCHEDULER: 3,
  PERSISTENT: 4,
  NETMASK: 5,
  SERVER: 6,
  FORWARD: 7,
  WEIGHT: 8,
  UTHRESHOLD: 9,
  LTHRESHOLD: 10,
  MCAST: 11,
  TIMEOUT: 12,
  DAEMON: 13,
  STATS: 14,
  RATE: 15,
  THRESHOLDS: 16,
  PERSISTENTCONN: 17,
  NOSORT: 18,
  SYNCID: 19,
  EXACT: 20,
  ONEPACKET: 21,
  PERSISTENCE_ENGINE: 22,
  SCHED_FLAGS: 23,
  MCAST_GROUP: 24,
  MCAST_PORT: 25,
  MCAST_TTL: 26,
  SYNC_MAXLEN: 27,
  TUN_INFO: 28,
  TUN_TYPE: 29,
  TUN_PORT: 30,
  TUN_NOCSUM: 31,
  TUN_CSUM: 32,
  TUN_REMCSUM: 33,
} as const;
const NUMBER_OF_OPT = 34;

const OPTNAMES: readonly string[] = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
];

// CMD_* (1-based in ipvsadm; index = CMD - 1) and `cmdnames[]`.
const CMD = {
  ADD: 0,
  EDIT: 1,
  DEL: 2,
  FLUSH: 3,
  LIST: 4,
  ADDDEST: 5,
  DELDEST: 6,
  EDITDEST: 7,
  TIMEOUT: 8,
  STARTDAEMON: 9,
  STOPDAEMON: 10,
  RESTORE: 11,
  SAVE: 12,
  ZERO: 13,
} as const;
type Cmd = (typeof CMD)[keyof typeof CMD];

const CMDNAMES: readonly string[] = [
  'add-service',
  'edit-service',
  'delete-service',
  'flush',
  'list',
  'add-server',
  'delete-server',
  'edit-server',
  'set',
  'start-daemon',
  'stop-daemon',
  'restore',
  'save',
  'zero',
];

// `commands_v_options` of ipvsadm 1.31, one string per command, one character
// per OPTC column: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional.
//                       -n -c svc -s -p -M -r fwd -w -x -y mc tot dmn st rt thr pc srt sid ex ops pe -b grp port ttl size tinf type tprt nocs csum remc
const COMMANDS_V_OPTIONS: readonly string[] = [
  /* ADD     */ 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  /* EDIT    */ 'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  /* DEL     */ 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* FLUSH   */ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* LIST    */ ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  /* ADDSRV  */ 'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  /* DELSRV  */ 'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* EDITSRV */ 'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  /* TIMEOUT */ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* STARTD  */ 'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx',
  /* STOPD   */ 'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx',
  /* RESTORE */ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* SAVE    */ ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  /* ZERO    */ 'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
];

// -------------------------------------------------------------------- popt walk

interface OptEvent {
  readonly spec: OptSpec;
  /** Column of the option itself (the character, for bundled short options). */
  readonly col: number;
  /** The argument, if any. */
  readonly arg: IpvsadmToken | null;
  /** What `poptBadOption` would name: the last argv word consumed. */
  readonly lastWord: string;
}

type PoptFailure = { readonly error: 'unknown option' | 'missing argument' | 'option does not take an argument'; readonly word: IpvsadmToken };

/**
 * popt's `poptGetNextOpt` over whitespace-separated words: `--` ends the
 * options, a lone `-` and words not starting with `-` are leftover
 * arguments, `--name[=value]` is a long option, `-abc` a bundle of short
 * options where an option taking an argument takes the rest of the bundle
 * (a leading `=` skipped) or the next word. An optional argument (`-p`) is
 * taken from the next word only when that word does not start with `-`.
 */
class Popt {
  readonly #words: readonly IpvsadmToken[];
  #next = 0;
  #bundle: { readonly word: IpvsadmToken; pos: number } | null = null;
  #endOfOptions = false;
  readonly leftovers: IpvsadmToken[] = [];

  constructor(words: readonly IpvsadmToken[]) {
    this.#words = words;
  }

  /** The next option, null at the end, or a popt failure. */
  nextOpt(): OptEvent | PoptFailure | null {
    if (this.#bundle !== null) return this.#short();
    for (;;) {
      const w = this.#words[this.#next];
      if (w === undefined) return null;
      this.#next++;
      const t = w.text;
      if (this.#endOfOptions || t === '-' || !t.startsWith('-')) {
        this.leftovers.push(w);
        continue;
      }
      if (t === '--') {
        this.#endOfOptions = true;
        continue;
      }
      if (t.startsWith('--')) return this.#long(w);
      this.#bundle = { word: w, pos: 1 };
      return this.#short();
    }
  }

  #long(w: IpvsadmToken): OptEvent | PoptFailure {
    const body = w.text.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = BY_LONG.get(name);
    if (spec === undefined) return { error: 'unknown option', word: w };
    if (eq >= 0) {
      if (spec.arg === 'none') return { error: 'option does not take an argument', word: w };
      return { spec, col: w.col, arg: { text: body.slice(eq + 1), col: w.col + 2 + eq + 1 }, lastWord: w.text };
    }
    return this.#argFromNextWord(spec, w, w.col);
  }

  #short(): OptEvent | PoptFailure {
    const b = this.#bundle!;
    const t = b.word.text;
    const ch = t.charAt(b.pos);
    // The first option of a word is reported at the word's "-", later ones of a bundle at their letter.
    const col = b.pos === 1 ? b.word.col : b.word.col + b.pos;
    const spec = ch === '' ? undefined : BY_SHORT.get(ch);
    if (spec === undefined) {
      this.#bundle = null;
      return { error: 'unknown option', word: b.word };
    }
    let rest = b.pos + 1;
    if (t.charAt(rest) === '=') rest++;
    if (spec.arg === 'none') {
      if (rest >= t.length) this.#bundle = null;
      else b.pos = rest;
      return { spec, col, arg: null, lastWord: t };
    }
    this.#bundle = null;
    if (rest < t.length) return { spec, col, arg: { text: t.slice(rest), col: b.word.col + rest }, lastWord: t };
    return this.#argFromNextWord(spec, b.word, col);
  }

  #argFromNextWord(spec: OptSpec, w: IpvsadmToken, col: number): OptEvent | PoptFailure {
    if (spec.arg === 'none') return { spec, col, arg: null, lastWord: w.text };
    const nw = this.#endOfOptions ? undefined : this.#words[this.#next];
    if (nw === undefined) {
      if (spec.arg === 'required') return { error: 'missing argument', word: w };
      return { spec, col, arg: null, lastWord: w.text };
    }
    if (spec.arg === 'optional' && nw.text.startsWith('-')) return { spec, col, arg: null, lastWord: w.text };
    this.#next++;
    return { spec, col, arg: nw, lastWord: nw.text };
  }
}

function isFailure(e: OptEvent | PoptFailure): e is PoptFailure {
  return 'error' in e;
}

// ---------------------------------------------------------------- the parse

class Fail {
  readonly #ctx: IpvsadmParseContext;
  constructor(ctx: IpvsadmParseContext) {
    this.#ctx = ctx;
  }
  at(col: number, message: string): never {
    throw new ParseError(`${WHERE}: ${message}`, this.#ctx.input, this.#ctx.line ?? 1, Math.max(1, col));
  }
}

interface Entry {
  cmd: Cmd | -1;
  cmdCol: number;
  options: number[]; // options[optc] = column where it was set, or 0
  // svc
  protocol: number;
  addr: IPv4;
  port: Port;
  fwmark: number;
  serviceCol: number;
  sched: string;
  persistent: boolean;
  timeout: number;
  netmask: IPv4;
  onePacket: boolean;
  pe: string;
  schedFlagsArg: IpvsadmToken | null;
  schedFlags: number;
  // dest
  destAddr: IPv4;
  destPort: Port;
  fwd: ForwardMethod;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  // --set
  timeouts: [number, number, number];
  format: { numeric: boolean; stats: boolean; rate: boolean; thresholds: boolean; persistentConn: boolean; tunInfo: boolean; exact: boolean; nosort: boolean };
}

/**
 * Parses the words of one invocation (program name already removed), like
 * ipvsadm's `process_options`. Exposed for `-R`, which feeds it the words
 * of each input line.
 *
 * @throws {ParseError} as {@link parseIpvsadm}
 */
export function parseIpvsadmTokens(tokens: readonly IpvsadmToken[], ctx: IpvsadmParseContext): IpvsadmCommand {
  const fail: Fail = new Fail(ctx);
  // ipvsadm's main(): no argument at all lists the table.
  if (tokens.length === 0) return { kind: 'list', target: 'services', service: null, format: listFormat(emptyFormat()) };

  // process_options: memset(&ce, 0), weight 1, DROUTE, netmask /32.
  const ce: Entry = {
    cmd: -1,
    cmdCol: 1,
    options: new Array<number>(NUMBER_OF_OPT).fill(0),
    protocol: 0,
    addr: 0,
    port: 0,
    fwmark: 0,
    serviceCol: 1,
    sched: '',
    persistent: false,
    timeout: 0,
    netmask: 0xffffffff,
    onePacket: false,
    pe: '',
    schedFlagsArg: null,
    schedFlags: 0,
    destAddr: 0,
    destPort: 0,
    fwd: ForwardMethod.DROUTE,
    weight: 1,
    uThreshold: 0,
    lThreshold: 0,
    timeouts: [0, 0, 0],
    format: emptyFormat(),
  };

  const popt = new Popt(tokens);
  const tryhelp = (col: number): never => fail.at(col, TRYHELP);

  // The first option must be a command.
  const first = popt.nextOpt();
  if (first === null) return tryhelp(tokens[0]!.col);
  if (isFailure(first)) return tryhelp(first.word.col);
  const f = first;
  ce.cmdCol = f.col;
  switch (f.spec.long) {
    case 'add-service':
      ce.cmd = CMD.ADD;
      break;
    case 'edit-service':
      ce.cmd = CMD.EDIT;
      break;
    case 'delete-service':
      ce.cmd = CMD.DEL;
      break;
    case 'add-server':
      ce.cmd = CMD.ADDDEST;
      break;
    case 'edit-server':
      ce.cmd = CMD.EDITDEST;
      break;
    case 'delete-server':
      ce.cmd = CMD.DELDEST;
      break;
    case 'clear':
      ce.cmd = CMD.FLUSH;
      break;
    case 'list':
      ce.cmd = CMD.LIST;
      break;
    case 'zero':
      ce.cmd = CMD.ZERO;
      break;
    case 'set':
      ce.cmd = CMD.TIMEOUT;
      break;
    case 'restore':
      ce.cmd = CMD.RESTORE;
      break;
    case 'save':
      ce.cmd = CMD.SAVE;
      break;
    case 'start-daemon':
    case 'stop-daemon': {
      const state = f.arg?.text ?? '';
      if (state !== 'master' && state !== 'backup') {
        fail.at(f.arg?.col ?? f.col, f.spec.long === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
      }
      return fail.at(f.col, `--${f.spec.long}: connection sync daemons are not simulated by lbsim`);
    }
    case 'help':
    case 'version':
      return fail.at(f.col, `-${f.spec.short}: ipvsadm's ${f.spec.long} text is not reproduced by lbsim`);
    default:
      return tryhelp(f.col);
  }

  const setOption = (optc: number, col: number): void => {
    if (ce.options[optc] !== 0) fail.at(col, `multiple '${OPTNAMES[optc]!}' options specified`);
    ce.options[optc] = col;
  };

  for (;;) {
    const ev = popt.nextOpt();
    if (ev === null) break;
    if (isFailure(ev)) return fail.at(ev.word.col, `${ev.word.text}: ${ev.error}`);
    const e = ev;
    const arg = e.arg;
    const argCol = arg?.col ?? e.col;
    const argText = arg?.text ?? '';
    switch (e.spec.long) {
      case 'tcp-service':
      case 'udp-service':
      case 'sctp-service': {
        setOption(OPTC.SERVICE, e.col);
        ce.protocol = e.spec.long === 'tcp-service' ? Protocol.TCP : e.spec.long === 'udp-service' ? Protocol.UDP : Protocol.SCTP;
        ce.serviceCol = argCol;
        const r = parseService(argText);
        if (r === null || (r.flags & SERVICE_ADDR) === 0) {
          fail.at(argCol, `illegal virtual server address[:port] specified${serviceHint(argText)}`);
        }
        ce.addr = r.addr;
        if ((r.flags & SERVICE_PORT) !== 0) ce.port = r.port;
        break;
      }
      case 'fwmark-service': {
        setOption(OPTC.SERVICE, e.col);
        ce.serviceCol = argCol;
        ce.protocol = Protocol.TCP;
        const mark = strtolStrict(argText);
        if (mark === null || mark <= 0 || mark > 0xffffffff) fail.at(argCol, `invalid fwmark value \`${argText}' specified`);
        ce.fwmark = mark!;
        break;
      }
      case 'scheduler':
        setOption(OPTC.SCHEDULER, e.col);
        ce.sched = argText.slice(0, SCHED_NAME_COPY);
        break;
      case 'persistent':
        setOption(OPTC.PERSISTENT, e.col);
        ce.persistent = true;
        ce.timeout = arg === null ? DEFAULT_PERSISTENT_TIMEOUT_S : parseTimeout(fail, arg, 1, IPVSADM_MAX_TIMEOUT);
        break;
      case 'netmask': {
        setOption(OPTC.NETMASK, e.col);
        const m = inetAton(argText);
        if (m < 0) fail.at(argCol, `illegal virtual server persistent mask specified${serviceHint(argText)}`);
        ce.netmask = m;
        break;
      }
      case 'real-server': {
        setOption(OPTC.SERVER, e.col);
        const r = parseService(argText);
        if (r === null || (r.flags & SERVICE_ADDR) === 0) {
          fail.at(argCol, `illegal real server address[:port] specified${serviceHint(argText)}`);
        }
        ce.destAddr = r.addr;
        // "copy vport to dport if not specified" — the service port known *now*.
        ce.destPort = (r.flags & SERVICE_PORT) !== 0 ? r.port : ce.port;
        break;
      }
      case 'ipip':
        setOption(OPTC.FORWARD, e.col);
        ce.fwd = ForwardMethod.TUNNEL;
        break;
      case 'gatewaying':
        setOption(OPTC.FORWARD, e.col);
        ce.fwd = ForwardMethod.DROUTE;
        break;
      case 'masquerading':
        setOption(OPTC.FORWARD, e.col);
        ce.fwd = ForwardMethod.MASQ;
        break;
      case 'weight':
        setOption(OPTC.WEIGHT, e.col);
        ce.weight = stringToNumber(argText, 0, 65535);
        if (ce.weight < 0) fail.at(argCol, 'illegal weight specified');
        break;
      case 'u-threshold':
        setOption(OPTC.UTHRESHOLD, e.col);
        ce.uThreshold = stringToNumber(argText, 0, INT_MAX);
        if (ce.uThreshold < 0) fail.at(argCol, 'illegal u_threshold specified');
        break;
      case 'l-threshold':
        setOption(OPTC.LTHRESHOLD, e.col);
        ce.lThreshold = stringToNumber(argText, 0, INT_MAX);
        if (ce.lThreshold < 0) fail.at(argCol, 'illegal l_threshold specified');
        break;
      case 'connection':
        setOption(OPTC.CONNECTION, e.col);
        break;
      case 'numeric':
        setOption(OPTC.NUMERIC, e.col);
        ce.format.numeric = true;
        break;
      case 'mcast-interface':
        setOption(OPTC.MCAST, e.col);
        break;
      case 'syncid':
        setOption(OPTC.SYNCID, e.col);
        if (stringToNumber(argText, 0, 255) < 0) fail.at(argCol, 'illegal syncid specified');
        break;
      case 'timeout':
        setOption(OPTC.TIMEOUT, e.col);
        break;
      case 'daemon':
        setOption(OPTC.DAEMON, e.col);
        break;
      case 'stats':
        setOption(OPTC.STATS, e.col);
        ce.format.stats = true;
        break;
      case 'rate':
        setOption(OPTC.RATE, e.col);
        ce.format.rate = true;
        break;
      case 'thresholds':
        setOption(OPTC.THRESHOLDS, e.col);
        ce.format.thresholds = true;
        break;
      case 'persistent-conn':
        setOption(OPTC.PERSISTENTCONN, e.col);
        ce.format.persistentConn = true;
        break;
      case 'nosort':
        setOption(OPTC.NOSORT, e.col);
        ce.format.nosort = true;
        break;
      case 'sort':
        // "Sort is the default, this is a no-op for compatibility"
        break;
      case 'exact':
        setOption(OPTC.EXACT, e.col);
        ce.format.exact = true;
        break;
      case 'ipv6':
        if (ce.fwmark === 0) fail.at(e.col, '-6 used before -f');
        fail.at(e.col, 'IPv6 fwmark services are not simulated by lbsim (IPv4 only)');
        break;
      case 'ops':
        setOption(OPTC.ONEPACKET, e.col);
        ce.onePacket = true;
        break;
      case 'pe':
        setOption(OPTC.PERSISTENCE_ENGINE, e.col);
        ce.pe = argText.slice(0, PE_NAME_MAXLEN);
        break;
      case 'sched-flags':
        setOption(OPTC.SCHED_FLAGS, e.col);
        ce.schedFlagsArg = arg;
        break;
      case 'mcast-group':
        setOption(OPTC.MCAST_GROUP, e.col);
        checkMcastGroup(fail, argText, argCol);
        break;
      case 'mcast-port':
        setOption(OPTC.MCAST_PORT, e.col);
        if (stringToNumber(argText, 1, 65535) < 0) fail.at(argCol, 'illegal mcast-port specified');
        break;
      case 'mcast-ttl':
        setOption(OPTC.MCAST_TTL, e.col);
        if (stringToNumber(argText, 1, 255) < 0) fail.at(argCol, 'illegal mcast-ttl specified');
        break;
      case 'sync-maxlen':
        setOption(OPTC.SYNC_MAXLEN, e.col);
        if (stringToNumber(argText, 1, 65535 - 20 - 8) < 0) fail.at(argCol, 'illegal sync-maxlen specified');
        break;
      case 'tun-info':
        setOption(OPTC.TUN_INFO, e.col);
        ce.format.tunInfo = true;
        break;
      case 'tun-type':
        setOption(OPTC.TUN_TYPE, e.col);
        if (argText !== 'ipip' && argText !== 'gue' && argText !== 'gre') fail.at(argCol, 'illegal tunnel type specified');
        if (argText !== 'ipip') fail.at(argCol, `tunnel type ${argText} is not simulated by lbsim (only ipip)`);
        break;
      case 'tun-port':
        setOption(OPTC.TUN_PORT, e.col);
        if (stringToNumber(argText, 1, 65535) < 0) fail.at(argCol, 'illegal tunnel port specified');
        break;
      case 'tun-nocsum':
        setOption(OPTC.TUN_NOCSUM, e.col);
        break;
      case 'tun-csum':
        setOption(OPTC.TUN_CSUM, e.col);
        break;
      case 'tun-remcsum':
        setOption(OPTC.TUN_REMCSUM, e.col);
        break;
      default:
        // A second command, -h, -v, ...: `fail(2, "invalid option `%s'", poptBadOption(...))`.
        fail.at(e.col, `invalid option \`${e.lastWord}'`);
    }
  }

  const leftovers = popt.leftovers;
  let used = 0;
  if (ce.cmd === CMD.TIMEOUT) {
    if (leftovers.length < 3) fail.at(ce.cmdCol, '--set option requires 3 timeout values');
    for (let k = 0; k < 3; k++) ce.timeouts[k] = parseTimeout(fail, leftovers[k]!, 0, IPVSADM_MAX_TIMEOUT);
    used = 3;
  }
  const extra = leftovers[used];
  if (extra !== undefined) fail.at(extra.col, `unexpected argument ${extra.text}`);

  if (ce.schedFlagsArg !== null && ce.schedFlagsArg.text !== '') {
    ce.schedFlags = parseSchedFlags(fail, ce.sched, ce.schedFlagsArg);
  }

  genericOptCheck(fail, ce);

  if (ce.cmd === CMD.ADD || ce.cmd === CMD.EDIT) {
    if (ce.fwmark === 0 && ce.port === 0 && !ce.persistent) fail.at(ce.serviceCol, 'Zero port specified for non-persistent service');
    if (ce.onePacket && ce.fwmark === 0 && ce.protocol !== Protocol.UDP) {
      fail.at(ce.options[OPTC.ONEPACKET]!, 'One-Packet Scheduling is only for UDP virtual services');
    }
    if (ce.sched === '') ce.sched = IPVSADM_DEFAULT_SCHEDULER;
  }

  if (ce.cmd === CMD.ADDDEST || ce.cmd === CMD.EDITDEST) {
    // "The destination port must be equal to the service port if the
    // IP_VS_CONN_F_TUNNEL or IP_VS_CONN_F_DROUTE is set. Don't worry about
    // this if fwmark is used."
    if (ce.fwmark === 0 && (ce.fwd === ForwardMethod.TUNNEL || ce.fwd === ForwardMethod.DROUTE)) ce.destPort = ce.port;
    const tunOpts = [OPTC.TUN_TYPE, OPTC.TUN_PORT, OPTC.TUN_NOCSUM, OPTC.TUN_CSUM, OPTC.TUN_REMCSUM];
    const firstTun = tunOpts.find((o) => ce.options[o] !== 0);
    if (firstTun !== undefined && ce.fwd !== ForwardMethod.TUNNEL) {
      fail.at(ce.options[firstTun]!, 'Tunnel options conflict with forward method');
    }
    // tunnel_opt_check for the ipip type: every tunnel sub-option is 'x'.
    for (const o of [OPTC.TUN_PORT, OPTC.TUN_NOCSUM, OPTC.TUN_CSUM, OPTC.TUN_REMCSUM]) {
      if (ce.options[o] !== 0) fail.at(ce.options[o]!, `Illegal '${OPTNAMES[o]!}' option with the 'ipip' tunnel type`);
    }
  }

  // restore_table: "avoid infinite loop" — `-R` inside `-R` is refused with the usage hint.
  if (ce.cmd === CMD.RESTORE && ctx.readingStdin === true) tryhelp(ce.cmdCol);

  if (ce.cmd === CMD.LIST) {
    const o = ce.options;
    const has = (optc: number): boolean => o[optc] !== 0;
    if (
      ((has(OPTC.CONNECTION) || has(OPTC.TIMEOUT) || has(OPTC.DAEMON)) &&
        (has(OPTC.STATS) || has(OPTC.RATE) || has(OPTC.THRESHOLDS))) ||
      ((has(OPTC.TIMEOUT) || has(OPTC.DAEMON)) && has(OPTC.PERSISTENTCONN))
    ) {
      const culprit = [OPTC.STATS, OPTC.RATE, OPTC.THRESHOLDS, OPTC.PERSISTENTCONN].find(has) ?? OPTC.CONNECTION;
      fail.at(o[culprit]!, 'options conflicts in the list command');
    }
  }

  return build(fail, ce);
}

function build(fail: Fail, ce: Entry): IpvsadmCommand {
  const key = (): ServiceKey =>
    ce.fwmark !== 0 ? { fwmark: ce.fwmark } : { proto: ce.protocol, addr: ce.addr, port: ce.port };
  const svcOptions = (): IpvsadmServiceOptions => ({
    scheduler: ce.sched,
    persistent: ce.persistent,
    timeout: ce.persistent ? ce.timeout : 0,
    netmask: ce.netmask,
    schedFlags: ce.schedFlags,
    onePacket: ce.onePacket,
    pe: ce.pe,
  });
  const destOptions = (): IpvsadmDestOptions => ({
    weight: ce.weight,
    fwd: ce.fwd,
    uThreshold: ce.uThreshold,
    lThreshold: ce.lThreshold,
  });
  const server = (): IpvsadmServer => ({ addr: ce.destAddr, port: ce.destPort });
  const o = ce.options;
  switch (ce.cmd) {
    case CMD.ADD:
      return { kind: 'add-service', service: key(), options: svcOptions() };
    case CMD.EDIT:
      return { kind: 'edit-service', service: key(), options: svcOptions() };
    case CMD.DEL:
      return { kind: 'delete-service', service: key() };
    case CMD.FLUSH:
      return { kind: 'clear' };
    case CMD.ADDDEST:
      return { kind: 'add-server', service: key(), server: server(), options: destOptions() };
    case CMD.EDITDEST:
      return { kind: 'edit-server', service: key(), server: server(), options: destOptions() };
    case CMD.DELDEST:
      return { kind: 'delete-server', service: key(), server: server() };
    case CMD.ZERO: {
      // ipvs_zero_service (libipvs, netlink): the service is sent only when
      // fwmark, address or port is set; otherwise every counter is zeroed.
      const all = o[OPTC.SERVICE] === 0 || (ce.fwmark === 0 && ce.addr === 0 && ce.port === 0);
      return { kind: 'zero', service: all ? null : key() };
    }
    case CMD.LIST: {
      const target =
        o[OPTC.CONNECTION] !== 0
          ? 'connections'
          : o[OPTC.SERVICE] !== 0
            ? 'service'
            : o[OPTC.TIMEOUT] !== 0
              ? 'timeout'
              : o[OPTC.DAEMON] !== 0
                ? 'daemon'
                : 'services';
      return { kind: 'list', target, service: target === 'service' ? key() : null, format: listFormat(ce.format) };
    }
    case CMD.SAVE:
      return { kind: 'save', numeric: ce.format.numeric };
    case CMD.RESTORE:
      return { kind: 'restore' };
    case CMD.TIMEOUT:
      return { kind: 'set', tcp: ce.timeouts[0], tcpfin: ce.timeouts[1], udp: ce.timeouts[2] };
    default:
      return fail.at(ce.cmdCol, 'internal error: no command');
  }
}

function emptyFormat(): Entry['format'] {
  return { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, tunInfo: false, exact: false, nosort: false };
}

function listFormat(f: Entry['format']): IpvsadmListFormat {
  return { ...f };
}

// generic_opt_check: walk the OPTC columns in order; the first violation wins.
function genericOptCheck(fail: Fail, ce: Entry): void {
  const cmd = ce.cmd as Cmd;
  const row = COMMANDS_V_OPTIONS[cmd]!;
  const cmdName = CMDNAMES[cmd]!;
  let count = 0;
  let last = 0;
  for (let j = 0; j < NUMBER_OF_OPT; j++) {
    const rule = row.charAt(j);
    const col = ce.options[j]!;
    if (col === 0) {
      if (rule === '+') fail.at(ce.cmdCol, `You need to supply the '${OPTNAMES[j]!}' option for the '${cmdName}' command`);
    } else {
      if (rule === 'x') fail.at(col, `Illegal '${OPTNAMES[j]!}' option with the '${cmdName}' command`);
      if (rule === '1') {
        count++;
        if (count === 1) {
          last = j;
          continue;
        }
        fail.at(col, `The option '${OPTNAMES[j]!}' conflicts with the '${OPTNAMES[last]!}' option in the '${cmdName}' command`);
      }
    }
  }
}

// ----------------------------------------------------------- value parsers

/**
 * ipvsadm's `string_to_number`: `strtol(s, &end, 10)` must consume the whole
 * non-empty string (leading blanks and a sign allowed) and fall in [min, max];
 * otherwise -1.
 */
function stringToNumber(s: string, min: number, max: number): number {
  const n = strtolStrict(s);
  if (n === null || n < min || n > max) return -1;
  return n;
}

// strtol(s, &end, 10) with *end == '\0' && end != s; null when that fails.
// Values beyond the 64-bit range saturate (ERANGE) and are refused.
function strtolStrict(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  const digits = m[2]!;
  if (digits.length > 18) return null;
  const v = Number(digits);
  return m[1] === '-' ? -v : v;
}

function parseTimeout(fail: Fail, tok: IpvsadmToken, min: number, max: number): number {
  const v = stringToNumber(tok.text, min, max);
  if (v < 0) fail.at(tok.col, `invalid timeout value \`${tok.text}' specified`);
  return v;
}

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/**
 * ipvsadm's `parse_service` for IPv4: an all-digit string is refused, the
 * last `:` separates the port, the host goes through `inet_aton`, the port
 * through `string_to_number(0, 65535)`. Host names, service names and IPv6
 * are not resolved by lbsim (null).
 */
function parseService(buf: string): { flags: number; addr: IPv4; port: Port } | null {
  if (buf === '' || /^[0-9]+$/.test(buf)) return null;
  if (buf.startsWith('[') || looksLikeIPv6(buf)) return null;
  const colon = buf.lastIndexOf(':');
  const host = colon < 0 ? buf : buf.slice(0, colon);
  const addr = inetAton(host);
  if (addr < 0) return null;
  if (colon < 0) return { flags: SERVICE_ADDR, addr, port: 0 };
  const port = stringToNumber(buf.slice(colon + 1), 0, 65535);
  if (port < 0) return null;
  return { flags: SERVICE_ADDR | SERVICE_PORT, addr, port };
}

function looksLikeIPv6(s: string): boolean {
  return s.indexOf(':') !== s.lastIndexOf(':') && /^[0-9A-Fa-f:.]+$/.test(s);
}

function serviceHint(text: string): string {
  if (text.startsWith('[') || looksLikeIPv6(text)) return ' (lbsim simulates IPv4 only)';
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  if (/[A-Za-z_]/.test(host) && inetAton(host) < 0) return ' (lbsim does not resolve host names)';
  if (colon >= 0 && /[A-Za-z]/.test(text.slice(colon + 1))) return ' (lbsim does not resolve service names)';
  return '';
}

/**
 * glibc `inet_aton`: one to four parts separated by dots, each decimal,
 * octal (leading 0) or hex (0x); `a.b.c` and `a.b` put the last part in the
 * low 16 and 24 bits. Returns the address or -1.
 *
 * Trailing characters are refused (ipvsadm only passes the host part).
 */
export function inetAton(cp: string): number {
  const parts: number[] = [];
  let i = 0;
  const n = cp.length;
  let val: number;
  let digit: boolean;
  for (;;) {
    if (i >= n || !isDigit(cp.charCodeAt(i))) return -1;
    val = 0;
    let base = 10;
    digit = false;
    if (cp.charCodeAt(i) === 48) {
      i++;
      const x = cp.charAt(i);
      if (x === 'x' || x === 'X') {
        base = 16;
        i++;
      } else {
        base = 8;
        digit = true;
      }
    }
    for (;;) {
      const c = cp.charCodeAt(i);
      if (isDigit(c)) {
        if (base === 8 && c >= 56) return -1;
        val = val * base + (c - 48);
        i++;
        digit = true;
      } else if (base === 16 && isHexLetter(c)) {
        val = val * 16 + ((c | 0x20) - 87);
        i++;
        digit = true;
      } else {
        break;
      }
      if (val > 0xffffffff) return -1;
    }
    if (i < n && cp.charCodeAt(i) === 46) {
      if (parts.length > 2 || val > 0xff) return -1;
      parts.push(val);
      i++;
    } else {
      break;
    }
  }
  if (i !== n || !digit) return -1;
  const max = [0xffffffff, 0xffffff, 0xffff, 0xff][parts.length]!;
  if (val > max) return -1;
  let res = 0;
  for (let k = 0; k < parts.length; k++) res += parts[k]! * 2 ** (24 - 8 * k);
  return res + val;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexLetter(c: number): boolean {
  const l = c | 0x20;
  return l >= 97 && l <= 102;
}

function checkMcastGroup(fail: Fail, text: string, col: number): void {
  if (text.includes(':')) {
    if (!/^ff[0-9a-f]{2}:[0-9a-f:]*$/i.test(text)) fail.at(col, `invalid IPv6 mcast-group \`${text}'`);
    return;
  }
  // inet_pton(AF_INET) takes strict dotted quads only; IN_MULTICAST is 224.0.0.0/4.
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  const ok = m !== null && m.slice(1).every((p) => Number(p) <= 255 && !(p.length > 1 && p.startsWith('0')));
  if (!ok || Number(m[1]) < 224 || Number(m[1]) > 239) fail.at(col, `invalid IPv4 mcast-group \`${text}'`);
}

/**
 * ipvsadm 1.31 `parse_sched_flags`: comma-separated (empty items skipped,
 * as `strtok` does); sh-* need scheduler `sh`, mh-* need `mh` (the default
 * `wlc` when `-s` is absent); flag-1..3 go with any scheduler.
 */
function parseSchedFlags(fail: Fail, sched: string, arg: IpvsadmToken): number {
  const schedName = sched === '' ? IPVSADM_DEFAULT_SCHEDULER : sched;
  let flags = 0;
  let pos = 0;
  const text = arg.text;
  let seen = 0;
  for (const item of text.split(',')) {
    const col = arg.col + pos;
    pos += item.length + 1;
    if (item === '') continue;
    seen++;
    const needs = (s: string): void => {
      if (schedName !== s) fail.at(col, `incompatible scheduler flag \`${item}'`);
    };
    switch (item) {
      case 'flag-1':
        flags |= ServiceFlag.SCHED1;
        break;
      case 'flag-2':
        flags |= ServiceFlag.SCHED2;
        break;
      case 'flag-3':
        flags |= ServiceFlag.SCHED3;
        break;
      case 'sh-fallback':
        flags |= ServiceFlag.SCHED1;
        needs('sh');
        break;
      case 'sh-port':
        flags |= ServiceFlag.SCHED2;
        needs('sh');
        break;
      case 'mh-fallback':
        flags |= ServiceFlag.SCHED1;
        needs('mh');
        break;
      case 'mh-port':
        flags |= ServiceFlag.SCHED2;
        needs('mh');
        break;
      default:
        fail.at(col, `invalid scheduler flag \`${item}'`);
    }
  }
  // ipvsadm would pass NULL to strcmp here (a crash); lbsim refuses the argument.
  if (seen === 0) fail.at(arg.col, `invalid scheduler flag \`${text}'`);
  return flags;
}
