// ipvsadm command-line parsing, checked against ipvsadm 1.31 ipvsadm.c
// (GitHub mirror louygan/ipvsadm): popt option handling, parse_options,
// generic_opt_check (commands_v_options) and process_options.
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { ForwardMethod, ServiceFlag } from '../../../src/ipvs/flags.js';
import { Ipvs } from '../../../src/ipvs/ipvs.js';
import { execIpvsadm, inetAton, parseIpvsadm, tokenizeIpvsadm } from '../../../src/ipvs/ipvsadm/index.js';
import { parseIPv4 } from '../../../src/net/ipv4.js';
import { Protocol } from '../../../src/net/protocol.js';

const ip = parseIPv4;
const VIP80 = { proto: Protocol.TCP, addr: ip('10.0.0.1'), port: 80 };

const DEFAULT_SVC = {
  scheduler: 'wlc',
  persistent: false,
  timeout: 0,
  netmask: 0xffffffff,
  schedFlags: 0,
  onePacket: false,
  pe: '',
};

describe('tokenizeIpvsadm', () => {
  it('splits at blanks and reports 1-based columns', () => {
    expect(tokenizeIpvsadm('  -A\t-t  10.0.0.1:80\r')).toEqual([
      { text: '-A', col: 3 },
      { text: '-t', col: 6 },
      { text: '10.0.0.1:80', col: 10 },
    ]);
  });
});

describe('parseIpvsadm: services', () => {
  it('fills in ipvsadm defaults: wlc, not persistent, /32 mask (process_options, DEF_SCHED)', () => {
    expect(parseIpvsadm('ipvsadm -A -t 10.0.0.1:80')).toEqual({ kind: 'add-service', service: VIP80, options: DEFAULT_SVC });
    expect(parseIpvsadm('/sbin/ipvsadm -A -t 10.0.0.1:80')).toEqual({ kind: 'add-service', service: VIP80, options: DEFAULT_SVC });
  });

  it('sends the complete entry for -E too: options not given take their defaults', () => {
    expect(parseIpvsadm('-E -t 10.0.0.1:80')).toEqual({ kind: 'edit-service', service: VIP80, options: DEFAULT_SVC });
  });

  it('takes a bare -p as 360 s (IPVS_SVC_PERSISTENT_TIMEOUT)', () => {
    expect(parseIpvsadm('-At 10.0.0.1:80 -s rr -p')).toEqual({
      kind: 'add-service',
      service: VIP80,
      options: { ...DEFAULT_SVC, scheduler: 'rr', persistent: true, timeout: 360 },
    });
  });

  it('gives -p the next word only when it does not start with "-" (POPT_ARGFLAG_OPTIONAL)', () => {
    const a = parseIpvsadm('-A -t 10.0.0.1:0 -p -s rr');
    expect(a).toMatchObject({ options: { persistent: true, timeout: 360, scheduler: 'rr' } });
    const b = parseIpvsadm('-A -t 10.0.0.1:0 -p 600 -s rr');
    expect(b).toMatchObject({ options: { persistent: true, timeout: 600, scheduler: 'rr' } });
  });

  it('accepts long options, with "=" or a separate word', () => {
    expect(
      parseIpvsadm('--add-service --tcp-service=10.0.0.1:80 --scheduler=wrr --persistent 600 --netmask 255.255.255.0'),
    ).toEqual({
      kind: 'add-service',
      service: VIP80,
      options: { ...DEFAULT_SVC, scheduler: 'wrr', persistent: true, timeout: 600, netmask: 0xffffff00 },
    });
    expect(parseIpvsadm('--edit-service --udp-service 10.0.0.1:53 --ops')).toMatchObject({
      kind: 'edit-service',
      service: { proto: Protocol.UDP, addr: ip('10.0.0.1'), port: 53 },
      options: { onePacket: true },
    });
    expect(parseIpvsadm('-A --sctp-service 10.0.0.1:5000')).toMatchObject({
      service: { proto: Protocol.SCTP, addr: ip('10.0.0.1'), port: 5000 },
    });
    expect(parseIpvsadm('--delete-service --fwmark-service 7')).toEqual({ kind: 'delete-service', service: { fwmark: 7 } });
  });

  it('truncates the scheduler name to 15 characters (strncpy(..., IP_VS_SCHEDNAME_MAXLEN - 1))', () => {
    expect(parseIpvsadm('-A -t 10.0.0.1:80 -s abcdefghijklmnopq')).toMatchObject({ options: { scheduler: 'abcdefghijklmno' } });
  });

  it('parses -b after all options, against the final -s (parse_sched_flags); strtok skips empty items', () => {
    expect(parseIpvsadm('-A -t 10.0.0.1:80 -b sh-port,sh-fallback -s sh')).toMatchObject({
      options: { scheduler: 'sh', schedFlags: ServiceFlag.SCHED1 | ServiceFlag.SCHED2 },
    });
    expect(parseIpvsadm('-A -t 10.0.0.1:80 -s mh -b mh-port')).toMatchObject({ options: { schedFlags: ServiceFlag.SCHED2 } });
    expect(parseIpvsadm('-A -t 10.0.0.1:80 -b flag-1,,flag-3')).toMatchObject({
      options: { scheduler: 'wlc', schedFlags: ServiceFlag.SCHED1 | ServiceFlag.SCHED3 },
    });
  });

  it('reads addresses with inet_aton (short, octal and hex forms) and ports with strtol', () => {
    expect(parseIpvsadm('-A -t 10.1:80')).toMatchObject({ service: VIP80 }); // a.b: b fills the low 24 bits
    expect(parseIpvsadm('-A -t 012.0.0.1:80')).toMatchObject({ service: VIP80 }); // 012 octal = 10
    expect(parseIpvsadm('-A -t 0x0a000001:80')).toMatchObject({ service: VIP80 });
    expect(parseIpvsadm('-A -t 167772161:80')).toMatchObject({ service: VIP80 }); // one part = all 32 bits
    expect(parseIpvsadm('-A -t 10.0.0.1:+80')).toMatchObject({ service: VIP80 });
    expect(inetAton('1.2.3')).toBe(0x01020003);
    expect(inetAton('08.1.1.1')).toBe(-1); // 8 is not an octal digit
    expect(inetAton('1.2.3.4.5')).toBe(-1);
    expect(inetAton('1.2.256')).toBe(0x01020100); // the last of three parts takes 16 bits
    expect(inetAton('1.256.3')).toBe(-1);
  });
});

describe('parseIpvsadm: real servers', () => {
  it('defaults to -g and weight 1, and copies the service port when -r has none', () => {
    expect(parseIpvsadm('-a -t 10.0.0.1:80 -r 192.168.1.2')).toEqual({
      kind: 'add-server',
      service: VIP80,
      server: { addr: ip('192.168.1.2'), port: 80 },
      options: { weight: 1, fwd: ForwardMethod.DROUTE, uThreshold: 0, lThreshold: 0 },
    });
  });

  it('forces the service port for DR and tunnels ("The destination port must be equal to the service port")', () => {
    expect(parseIpvsadm('-a -t 10.0.0.1:80 -r 192.168.1.2:8080')).toMatchObject({ server: { port: 80 } });
    expect(parseIpvsadm('-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -i')).toMatchObject({
      server: { port: 80 },
      options: { fwd: ForwardMethod.TUNNEL },
    });
    // ... but not for fwmark services
    expect(parseIpvsadm('-a -f 7 -r 192.168.1.2:8080 -g')).toMatchObject({ service: { fwmark: 7 }, server: { port: 8080 } });
    expect(parseIpvsadm('-a -f 7 -r 192.168.1.2')).toMatchObject({ server: { port: 0 } });
  });

  it('keeps the -r port for NAT, with weight and thresholds', () => {
    expect(parseIpvsadm('-e -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 0 -x 10 -y 5')).toEqual({
      kind: 'edit-server',
      service: VIP80,
      server: { addr: ip('192.168.1.2'), port: 8080 },
      options: { weight: 0, fwd: ForwardMethod.MASQ, uThreshold: 10, lThreshold: 5 },
    });
  });

  it('copies the service port known when -r is read: -r before -t gets port 0 with -m', () => {
    expect(parseIpvsadm('-a -r 192.168.1.2 -t 10.0.0.1:80 -m')).toMatchObject({ server: { port: 0 } });
  });

  it('handles bundles and "=" after a short option (popt)', () => {
    expect(parseIpvsadm('-a -t 10.0.0.1:80 -r 1.2.3.4:81 -mw5')).toMatchObject({ options: { weight: 5, fwd: ForwardMethod.MASQ } });
    expect(parseIpvsadm('-a -t 10.0.0.1:80 -r 1.2.3.4 -w=7')).toMatchObject({ options: { weight: 7 } });
    expect(parseIpvsadm('-at 10.0.0.1:80 -r1.2.3.4')).toMatchObject({ kind: 'add-server', server: { addr: ip('1.2.3.4') } });
  });

  it('does not force the port for -d', () => {
    expect(parseIpvsadm('-d -t 10.0.0.1:80 -r 192.168.1.2:8080')).toEqual({
      kind: 'delete-server',
      service: VIP80,
      server: { addr: ip('192.168.1.2'), port: 8080 },
    });
  });
});

describe('parseIpvsadm: other commands', () => {
  const fmt = {
    numeric: false,
    stats: false,
    rate: false,
    thresholds: false,
    persistentConn: false,
    tunInfo: false,
    exact: false,
    nosort: false,
  };

  it('lists with the format flags', () => {
    expect(parseIpvsadm('')).toEqual({ kind: 'list', target: 'services', service: null, format: fmt });
    expect(parseIpvsadm('ipvsadm')).toEqual({ kind: 'list', target: 'services', service: null, format: fmt });
    expect(parseIpvsadm('-Ln')).toEqual({ kind: 'list', target: 'services', service: null, format: { ...fmt, numeric: true } });
    expect(parseIpvsadm('--list --numeric --stats --exact --nosort')).toEqual({
      kind: 'list',
      target: 'services',
      service: null,
      format: { ...fmt, numeric: true, stats: true, exact: true, nosort: true },
    });
    expect(parseIpvsadm('-l -t 10.0.0.1:80 --rate')).toEqual({
      kind: 'list',
      target: 'service',
      service: VIP80,
      format: { ...fmt, rate: true },
    });
    expect(parseIpvsadm('-Lcn --persistent-conn')).toMatchObject({ target: 'connections', format: { persistentConn: true } });
    expect(parseIpvsadm('-L --timeout')).toMatchObject({ target: 'timeout' });
    expect(parseIpvsadm('-L --daemon')).toMatchObject({ target: 'daemon' });
    expect(parseIpvsadm('-L --sort -n')).toMatchObject({ target: 'services', format: { numeric: true, nosort: false } });
  });

  it('zeroes one service or all; -t 0.0.0.0:0 means all, as libipvs sends no service then', () => {
    expect(parseIpvsadm('-Z')).toEqual({ kind: 'zero', service: null });
    expect(parseIpvsadm('-Z -t 0.0.0.0:0')).toEqual({ kind: 'zero', service: null });
    expect(parseIpvsadm('-Z -f 3')).toEqual({ kind: 'zero', service: { fwmark: 3 } });
    expect(parseIpvsadm('--zero --tcp-service 10.0.0.1:80')).toEqual({ kind: 'zero', service: VIP80 });
  });

  it('parses --set, -S, -C, -R', () => {
    expect(parseIpvsadm('--set 100 0 30')).toEqual({ kind: 'set', tcp: 100, tcpfin: 0, udp: 30 });
    // popt leaves non-option words where they are; --set takes the first three.
    expect(parseIpvsadm('100 --set 0 30')).toEqual({ kind: 'set', tcp: 100, tcpfin: 0, udp: 30 });
    expect(parseIpvsadm('-S -n')).toEqual({ kind: 'save', numeric: true });
    expect(parseIpvsadm('-Sn')).toEqual({ kind: 'save', numeric: true });
    expect(parseIpvsadm('-C')).toEqual({ kind: 'clear' });
    expect(parseIpvsadm('--clear')).toEqual({ kind: 'clear' });
    expect(parseIpvsadm('-R')).toEqual({ kind: 'restore' });
  });
});

// Each malformed line with the column of the token ipvsadm complains about and
// the message it prints (fail() texts of ipvsadm 1.31 ipvsadm.c; popt's
// "unknown option" / "missing argument"; lbsim's own notes in parentheses).
//                                     1         2         3         4
//                            1234567890123456789012345678901234567890123
const MALFORMED: readonly (readonly [string, number, string])[] = [
  ['-A -t 10.0.0.1 -s rr', 7, 'Zero port specified for non-persistent service'],
  ['-E -t 10.0.0.1', 7, 'Zero port specified for non-persistent service'],
  ['-A -t 10.0.0.1:80 -s rr -w 3', 25, "Illegal 'weight' option with the 'add-service' command"],
  ['-A -t 10.0.0.1:80 -x 5', 19, "Illegal 'u-threshold' option with the 'add-service' command"],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -w 70000', 37, 'illegal weight specified'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -w -1', 37, 'illegal weight specified'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -w 1.5', 37, 'illegal weight specified'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -x ten', 37, 'illegal u_threshold specified'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -x 10 -y abc', 43, 'illegal l_threshold specified'],
  ['-a -t 10.0.0.1:80 -w 2', 1, "You need to supply the 'real-server' option for the 'add-server' command"],
  ['-d -r 192.168.1.2', 1, "You need to supply the 'service-address' option for the 'delete-server' command"],
  ['-A -s rr', 1, "You need to supply the 'service-address' option for the 'add-service' command"],
  ['-A -t 10.0.0.1:80 -s rr -s wrr', 25, "multiple 'scheduler' options specified"],
  ['-A -t 10.0.0.1:80 -t 10.0.0.2:80', 19, "multiple 'service-address' options specified"],
  ['-A -t 10.0.0.1:80 -f 3', 19, "multiple 'service-address' options specified"],
  ['-e -t 10.0.0.1:80 -r 1.2.3.4 -m -g', 33, "multiple 'forwarding-method' options specified"],
  ['-A -t 10.0.0.1:99999', 7, 'illegal virtual server address[:port] specified'],
  ['-A -t 10.0.0.256:80', 7, 'illegal virtual server address[:port] specified'],
  ['-A -t 10.0.0.1:', 7, 'illegal virtual server address[:port] specified'],
  ['-A -t 167772161', 7, 'illegal virtual server address[:port] specified'],
  ['-A -t www.example.com:80', 7, 'illegal virtual server address[:port] specified (lbsim does not resolve host names)'],
  ['-A -t 10.0.0.1:http', 7, 'illegal virtual server address[:port] specified (lbsim does not resolve service names)'],
  ['-A -t [::1]:80', 7, 'illegal virtual server address[:port] specified (lbsim simulates IPv4 only)'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.300', 22, 'illegal real server address[:port] specified'],
  ['-A -f 0', 7, "invalid fwmark value `0' specified"],
  ['-A -f abc', 7, "invalid fwmark value `abc' specified"],
  ['-A -f 4294967296', 7, "invalid fwmark value `4294967296' specified"],
  ['-A -t 10.0.0.1:80 -p 0', 22, "invalid timeout value `0' specified"],
  ['-A -t 10.0.0.1:80 -p 2678401', 22, "invalid timeout value `2678401' specified"],
  ['-A -t 10.0.0.1:80 -p rr', 22, "invalid timeout value `rr' specified"],
  ['-A -t 10.0.0.1:80 -p30x', 21, "invalid timeout value `30x' specified"],
  ['-A -t 10.0.0.1:80 -p -M 255.255.255.0.1', 25, 'illegal virtual server persistent mask specified'],
  ['-A -t 10.0.0.1:80 -o', 19, 'One-Packet Scheduling is only for UDP virtual services'],
  ['-A -t 10.0.0.1:80 -b sh-port', 22, "incompatible scheduler flag `sh-port'"],
  ['-A -t 10.0.0.1:80 -s sh -b sh-port,bogus', 36, "invalid scheduler flag `bogus'"],
  ['-A -t 10.0.0.1:80 -s sh -b mh-port', 28, "incompatible scheduler flag `mh-port'"],
  ['-A -t 10.0.0.1:80 -s sh -b ,', 28, "invalid scheduler flag `,'"],
  ['-A -t 10.0.0.1:80 --pe', 19, '--pe: missing argument'],
  ['-A -t 10.0.0.1:80 --ops=1', 19, '--ops=1: option does not take an argument'],
  ['-A -t', 4, '-t: missing argument'],
  ['-A -t 10.0.0.1:80 --bogus', 19, '--bogus: unknown option'],
  ['-A -t 10.0.0.1:80 -q', 19, '-q: unknown option'],
  ['-A -t 10.0.0.1:80 -E', 19, "invalid option `-E'"],
  ['-L -L', 4, "invalid option `-L'"],
  ['-A -t 10.0.0.1:80 rr', 19, 'unexpected argument rr'],
  ['-n -L', 1, "Try `ipvsadm -h' or 'ipvsadm --help' for more information."],
  ['--bogus', 1, "Try `ipvsadm -h' or 'ipvsadm --help' for more information."],
  ['10.0.0.1', 1, "Try `ipvsadm -h' or 'ipvsadm --help' for more information."],
  ['--set 1 2', 1, '--set option requires 3 timeout values'],
  ['--set 1 2 x', 11, "invalid timeout value `x' specified"],
  ['--set 1 2 2678401', 11, "invalid timeout value `2678401' specified"],
  ['--set 1 2 3 4', 13, 'unexpected argument 4'],
  ['--set 1 2 3 -n', 13, "Illegal 'numeric' option with the 'set' command"],
  ['-L -c --stats', 7, 'options conflicts in the list command'],
  ['-Lnc --rate', 6, 'options conflicts in the list command'],
  ['-L --timeout --persistent-conn', 14, 'options conflicts in the list command'],
  ['-L -c -t 10.0.0.1:80', 7, "The option 'service-address' conflicts with the 'connection' option in the 'list' command"],
  ['-Ln --timeout --daemon', 15, "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"],
  ['-L -t 10.0.0.1:80 -s rr', 19, "Illegal 'scheduler' option with the 'list' command"],
  ['-D -t 10.0.0.1:80 -s rr', 19, "Illegal 'scheduler' option with the 'delete-service' command"],
  ['-C -n', 4, "Illegal 'numeric' option with the 'flush' command"],
  ['-S -c', 4, "Illegal 'connection' option with the 'save' command"],
  ['-Z -t 10.0.0.1:80 -n', 19, "Illegal 'numeric' option with the 'zero' command"],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -b flag-1', 34, "Illegal 'sched-flags' option with the 'add-server' command"],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -m --tun-type ipip', 37, 'Tunnel options conflict with forward method'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -i --tun-port 5', 37, "Illegal 'tun-port' option with the 'ipip' tunnel type"],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -i --tun-type vxlan', 48, 'illegal tunnel type specified'],
  ['-a -t 10.0.0.1:80 -r 192.168.1.2 -i --tun-type gue', 48, 'tunnel type gue is not simulated by lbsim'],
  ['-A -6 -f 7', 4, '-6 used before -f'],
  ['-A -f 7 -6', 9, 'IPv6 fwmark services are not simulated by lbsim'],
  ['--start-daemon master', 1, '--start-daemon: connection sync daemons are not simulated by lbsim'],
  ['--start-daemon leader', 16, 'illegal start-daemon parameter specified'],
  ['-h', 1, "-h: ipvsadm's help text is not reproduced by lbsim"],
  ['-A -t 10.0.0.1:80 --mcast-port 0', 32, 'illegal mcast-port specified'],
  ['-A -t 10.0.0.1:80 --syncid 5', 19, "Illegal 'syncid' option with the 'add-service' command"],
];

describe('malformed lines', () => {
  it.each(MALFORMED)('%s → column %i: %s', (line, column, message) => {
    let err: unknown;
    try {
      parseIpvsadm(line);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    const pe = err as ParseError;
    expect(pe.message).toContain(`lbsim/ipvsadm.parseIpvsadm: ${message}`);
    expect(pe.line).toBe(1);
    expect(pe.column).toBe(column);
    expect(pe.input).toBe(line);
  });

  it('leave the engine exactly as it was (-S, -Ln --stats, --timeout compared before and after)', () => {
    const ipvs = new Ipvs({ seed: 3 });
    for (const l of [
      '-A -t 10.0.0.1:80 -s rr',
      '-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 2',
      '-A -u 10.0.0.1:53 -p 100 -M 255.255.0.0',
      '-A -f 7 -s sh -b sh-port',
      '-a -f 7 -r 192.168.1.9 -i',
    ]) {
      execIpvsadm(ipvs, l);
    }
    const snapshot = (): string =>
      execIpvsadm(ipvs, '-Sn') + execIpvsadm(ipvs, '-Ln --stats') + execIpvsadm(ipvs, '-Ln --thresholds') + execIpvsadm(ipvs, '-L --timeout');
    const before = snapshot();
    for (const [line] of MALFORMED) {
      expect(() => execIpvsadm(ipvs, line)).toThrow(ParseError);
    }
    expect(snapshot()).toBe(before);
  });

  it('refuses several lines in one execIpvsadm call (but allows a trailing newline)', () => {
    expect(() => parseIpvsadm('-C\n-C')).toThrow(ParseError);
    expect(parseIpvsadm('-C\n')).toEqual({ kind: 'clear' });
  });
});
