/**
 * Runs ipvsadm command lines against an {@link Ipvs} engine and returns what
 * ipvsadm would print. Kernel refusals surface as {@link OperationError}s
 * with the engine's errno code and the text libipvs' `ipvs_strerror` prints
 * for it (ipvsadm 1.31, `libipvs/libipvs.c`); the engine's error is the
 * `cause`.
 *
 * @module
 */

import { type ErrnoName, InvalidArgumentError, OperationError } from '../../errors.js';
import { SimClock } from '../../sim/clock.js';
import { ForwardMethod, ServiceFlag } from '../flags.js';
import { Ipvs, type ServiceKey, type ServiceOptions } from '../ipvs.js';
import type { VirtualService } from '../service.js';
import { type IpvsadmCommand, type IpvsadmList, parseIpvsadm, parseIpvsadmTokens, tokenizeIpvsadm } from './parse.js';
import {
  formatIpvsadmConnections,
  formatIpvsadmList,
  formatIpvsadmSave,
  formatIpvsadmService,
  formatIpvsadmTimeouts,
} from './print.js';

const WHERE_EXEC = 'lbsim/ipvsadm.execIpvsadm';
const WHERE_RESTORE = 'lbsim/ipvsadm.restoreIpvsadm';

/** The libipvs call a command makes, which selects the `ipvs_strerror` text. */
type LibipvsCall =
  | 'ipvs_add_service'
  | 'ipvs_update_service'
  | 'ipvs_del_service'
  | 'ipvs_zero_service'
  | 'ipvs_add_dest'
  | 'ipvs_update_dest'
  | 'ipvs_del_dest'
  | 'ipvs_get_service'
  | 'ipvs_set_timeout'
  | 'ipvs_flush';

// `ipvs_strerror`'s table (ipvsadm 1.31 libipvs/libipvs.c): entries bound to
// the failing call first, then the generic ones, then strerror(3).
const STRERROR_BY_CALL: ReadonlyMap<LibipvsCall, ReadonlyMap<ErrnoName, string>> = new Map<LibipvsCall, ReadonlyMap<ErrnoName, string>>([
  [
    'ipvs_add_service',
    new Map<ErrnoName, string>([
      ['EEXIST', 'Service already exists'],
      ['ENOENT', 'Scheduler or persistence engine not found'],
    ]),
  ],
  [
    'ipvs_update_service',
    new Map<ErrnoName, string>([
      ['ESRCH', 'No such service'],
      ['ENOENT', 'Scheduler or persistence engine not found'],
    ]),
  ],
  ['ipvs_del_service', new Map<ErrnoName, string>([['ESRCH', 'No such service']])],
  ['ipvs_zero_service', new Map<ErrnoName, string>([['ESRCH', 'No such service']])],
  [
    'ipvs_add_dest',
    new Map<ErrnoName, string>([
      ['ESRCH', 'Service not defined'],
      ['EEXIST', 'Destination already exists'],
    ]),
  ],
  [
    'ipvs_update_dest',
    new Map<ErrnoName, string>([
      ['ESRCH', 'Service not defined'],
      ['ENOENT', 'No such destination'],
    ]),
  ],
  [
    'ipvs_del_dest',
    new Map<ErrnoName, string>([
      ['ESRCH', 'Service not defined'],
      ['ENOENT', 'No such destination'],
    ]),
  ],
  ['ipvs_get_service', new Map<ErrnoName, string>([['ESRCH', 'No such service']])],
]);
const STRERROR_GENERIC: ReadonlyMap<ErrnoName, string> = new Map<ErrnoName, string>([
  ['EINVAL', 'Invalid operation.  Possibly wrong module version, address not unicast, ...'],
  ['ENOMEM', 'Memory allocation problem'],
]);
const STRERROR_LIBC: ReadonlyMap<ErrnoName, string> = new Map<ErrnoName, string>([
  ['EEXIST', 'File exists'],
  ['ESRCH', 'No such process'],
  ['ENOENT', 'No such file or directory'],
  ['ERANGE', 'Numerical result out of range'],
  ['EBUSY', 'Device or resource busy'],
]);

/**
 * The message ipvsadm prints when `call` fails with `code`
 * (`ipvs_strerror`, ipvsadm 1.31 `libipvs/libipvs.c`).
 */
export function ipvsStrerror(call: LibipvsCall, code: ErrnoName): string {
  return STRERROR_BY_CALL.get(call)?.get(code) ?? STRERROR_GENERIC.get(code) ?? STRERROR_LIBC.get(code) ?? code;
}

export type { LibipvsCall };

function kernel<T>(call: LibipvsCall, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof OperationError) {
      throw new OperationError(e.code, `${WHERE_EXEC}: ${ipvsStrerror(call, e.code)} (${e.message})`, { cause: e });
    }
    throw e;
  }
}

// A refusal lbsim makes on the kernel's behalf; thrown inside kernel(), which adds ipvsadm's text.
function refuse(code: ErrnoName, detail: string): never {
  throw new OperationError(code, `${WHERE_EXEC}: ${detail}`);
}

function engineServiceOptions(o: {
  readonly scheduler: string;
  readonly persistent: boolean;
  readonly timeout: number;
  readonly netmask: number;
  readonly schedFlags: number;
  readonly onePacket: boolean;
}): ServiceOptions {
  // ipvsadm sends the complete entry; a non-persistent service's timeout is
  // never shown, so the engine keeps whatever it has.
  return {
    scheduler: o.scheduler,
    persistent: o.persistent,
    netmask: o.netmask,
    schedFlags: o.schedFlags,
    onePacket: o.onePacket,
    ...(o.persistent ? { timeout: o.timeout } : {}),
  };
}

/**
 * Runs one parsed command. `-R` reads `stdin` (see {@link restoreIpvsadm}).
 *
 * @param ipvs - the engine
 * @param cmd - from {@link parseIpvsadm}
 * @param stdin - input for `-R`
 * @returns what ipvsadm prints on stdout (`''` for silent commands)
 * @throws {OperationError} kernel refusals, with ipvsadm's message
 * @throws {InvalidArgumentError} values the engine refuses
 */
export function runIpvsadmCommand(ipvs: Ipvs, cmd: IpvsadmCommand, stdin = ''): string {
  return run(ipvs, cmd, stdin, false);
}

function run(ipvs: Ipvs, cmd: IpvsadmCommand, stdin: string, dryRun: boolean): string {
  switch (cmd.kind) {
    case 'add-service':
      kernel('ipvs_add_service', () => {
        if (cmd.options.pe !== '') {
          // ip_vs_add_service: EEXIST, then the scheduler, then the engine — lbsim has no persistence engines.
          if (ipvs.getService(cmd.service) !== undefined) refuse('EEXIST', 'the service exists');
          refuse('ENOENT', `lbsim has no persistence engine ${cmd.options.pe}`);
        }
        ipvs.addService(cmd.service, engineServiceOptions(cmd.options));
      });
      return '';
    case 'edit-service':
      kernel('ipvs_update_service', () => {
        if (cmd.options.pe !== '') {
          if (ipvs.getService(cmd.service) === undefined) refuse('ESRCH', 'no such service');
          refuse('ENOENT', `lbsim has no persistence engine ${cmd.options.pe}`);
        }
        ipvs.editService(cmd.service, engineServiceOptions(cmd.options));
      });
      return '';
    case 'delete-service':
      kernel('ipvs_del_service', () => {
        ipvs.deleteService(cmd.service);
      });
      return '';
    case 'clear':
      kernel('ipvs_flush', () => {
        ipvs.clear();
      });
      return '';
    case 'add-server':
      kernel('ipvs_add_dest', () => ipvs.addDest(cmd.service, cmd.server.addr, cmd.server.port, cmd.options));
      return '';
    case 'edit-server':
      kernel('ipvs_update_dest', () => {
        // ip_vs_edit_dest checks the thresholds before it looks the dest up,
        // so a bad pair on a missing dest is ERANGE, not ENOENT.
        const o = cmd.options;
        if (ipvs.getService(cmd.service) !== undefined && o.lThreshold > o.uThreshold) {
          refuse('ERANGE', `lower threshold ${o.lThreshold} is above upper threshold ${o.uThreshold}`);
        }
        ipvs.editDest(cmd.service, cmd.server.addr, cmd.server.port, o);
      });
      return '';
    case 'delete-server':
      kernel('ipvs_del_dest', () => {
        ipvs.deleteDest(cmd.service, cmd.server.addr, cmd.server.port);
      });
      return '';
    case 'zero':
      kernel('ipvs_zero_service', () => {
        if (cmd.service === null) ipvs.zero();
        else ipvs.zero(cmd.service);
      });
      return '';
    case 'set':
      kernel('ipvs_set_timeout', () => {
        ipvs.setTimeouts({ tcp: cmd.tcp, tcpfin: cmd.tcpfin, udp: cmd.udp });
      });
      return '';
    case 'list':
      return list(ipvs, cmd, dryRun);
    case 'save':
      return dryRun ? '' : formatIpvsadmSave(ipvs);
    case 'restore':
      return restoreIpvsadm(ipvs, stdin);
  }
}

function list(ipvs: Ipvs, cmd: IpvsadmList, dryRun: boolean): string {
  switch (cmd.target) {
    case 'service': {
      const key = cmd.service!;
      const svc = kernel('ipvs_get_service', () => ipvs.getService(key) ?? refuse('ESRCH', 'no such service'));
      return dryRun ? '' : formatIpvsadmService(svc, cmd.format);
    }
    case 'services':
      return dryRun ? '' : formatIpvsadmList(ipvs, cmd.format);
    case 'connections':
      return dryRun ? '' : formatIpvsadmConnections(ipvs, { persistentConn: cmd.format.persistentConn });
    case 'timeout':
      return dryRun ? '' : formatIpvsadmTimeouts(ipvs);
    case 'daemon':
      // list_daemon prints a line per running sync daemon; lbsim runs none.
      return '';
  }
}

/**
 * Runs one ipvsadm command line (optionally starting with `ipvsadm`) and
 * returns what ipvsadm would print on stdout: the listing for `-L`/`-S`,
 * `''` for commands that change the table. `-R` reads `stdin`.
 *
 * @example
 * ```ts
 * execIpvsadm(ipvs, 'ipvsadm -A -t 10.0.0.1:80 -s rr');
 * execIpvsadm(ipvs, '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 2');
 * execIpvsadm(ipvs, '-Ln');
 * ```
 *
 * @throws {ParseError} every line ipvsadm refuses before calling the kernel (column of the fault)
 * @throws {OperationError} kernel refusals (`EEXIST`, `ESRCH`, `ENOENT`, `ERANGE`, ...) with ipvsadm's message
 * @throws {InvalidArgumentError} values the engine refuses
 */
export function execIpvsadm(ipvs: Ipvs, line: string, stdin = ''): string {
  return run(ipvs, parseIpvsadm(line), stdin, false);
}

/**
 * `ipvsadm -R`: runs every line of `text` and returns the concatenated
 * output (of any `-L`/`-S` lines in it). Like `config_stream_read`, words
 * equal to `ipvsadm` are dropped and empty lines skipped; lbsim also skips
 * lines whose first word starts with `#`.
 *
 * Unlike ipvsadm (which stops at the first failing line with the earlier
 * lines applied), the restore is atomic: every line is parsed first, then
 * the whole sequence runs on a scratch engine holding a copy of the current
 * table, and only if that succeeds is it applied to `ipvs`. On any error
 * nothing has changed.
 *
 * @throws {ParseError} with the 1-based line and column of the fault
 * @throws {OperationError} / {@link InvalidArgumentError} with `line N:` in the message
 */
export function restoreIpvsadm(ipvs: Ipvs, text: string): string {
  const parsed: { readonly cmd: IpvsadmCommand; readonly line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const tokens = tokenizeIpvsadm(raw).filter((t) => t.text !== 'ipvsadm');
    if (tokens.length === 0 || tokens[0]!.text.startsWith('#')) continue;
    parsed.push({ cmd: parseIpvsadmTokens(tokens, { input: raw, line: i + 1, readingStdin: true }), line: i + 1 });
  }
  const scratch = scratchCopy(ipvs, parsed.map((p) => p.cmd));
  for (const p of parsed) {
    try {
      run(scratch, p.cmd, '', true);
    } catch (e) {
      throw atLine(e, p.line);
    }
  }
  let out = '';
  for (const p of parsed) {
    try {
      out += run(ipvs, p.cmd, '', false);
    } catch (e) {
      // Only reachable if a custom scheduler refuses what it accepted on the scratch copy.
      throw atLine(e, p.line);
    }
  }
  return out;
}

function atLine(e: unknown, line: number): unknown {
  if (e instanceof OperationError) return new OperationError(e.code, `${WHERE_RESTORE}: line ${line}: ${e.message}`, { cause: e });
  if (e instanceof InvalidArgumentError) return new InvalidArgumentError(`${WHERE_RESTORE}: line ${line}: ${e.message}`, { cause: e });
  return e;
}

const SCHED_MASK = ServiceFlag.SCHED1 | ServiceFlag.SCHED2 | ServiceFlag.SCHED3;

function keyOf(svc: VirtualService): ServiceKey {
  return svc.fwmark !== 0 ? { fwmark: svc.fwmark } : { proto: svc.proto, addr: svc.addr, port: svc.port };
}

/**
 * A throw-away engine with the timeouts, schedulers, sysctls and local
 * addresses of `ipvs`, and a copy (no traffic state) of every existing
 * service the commands name. Whether a command succeeds depends only on the
 * services it names (`-C`, `-Z` and `-L` without a service cannot fail), so
 * this predicts every refusal while costing only what the input touches.
 */
function scratchCopy(ipvs: Ipvs, cmds: readonly IpvsadmCommand[]): Ipvs {
  const copy = new Ipvs({
    schedulers: ipvs.schedulers,
    sysctl: { ...ipvs.sysctl },
    localAddresses: ipvs.localAddresses,
    connTabBits: 8,
    clock: new SimClock(ipvs.clock.now),
    seed: 0,
  });
  copy.setTimeouts(ipvs.getTimeouts());
  const named = new Set<VirtualService>();
  for (const cmd of cmds) {
    if (!('service' in cmd) || cmd.service === null) continue;
    const svc = ipvs.getService(cmd.service);
    if (svc !== undefined) named.add(svc);
  }
  for (const svc of named) {
    const key = keyOf(svc);
    const t = svc.timeoutMs / 1000;
    copy.addService(key, {
      scheduler: svc.scheduler.name,
      persistent: svc.persistent,
      netmask: svc.netmask,
      schedFlags: svc.flags & SCHED_MASK,
      onePacket: (svc.flags & ServiceFlag.ONEPACKET) !== 0,
      ...(Number.isInteger(t) && t >= 1 ? { timeout: t } : {}),
    });
    // Oldest first, so the copy's lists are in the same (newest-first) order.
    for (let i = svc.dests.length - 1; i >= 0; i--) {
      const d = svc.dests[i]!;
      copy.addDest(key, d.addr, d.port, {
        weight: d.weight,
        fwd: d.fwd === ForwardMethod.LOCAL ? ForwardMethod.DROUTE : d.fwd,
        uThreshold: d.uThreshold,
        lThreshold: d.lThreshold,
      });
    }
  }
  return copy;
}
