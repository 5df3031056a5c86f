/**
 * Per-module parse → print tests. Every expected line is what the real
 * iptables-legacy-save 1.8.9 printed for the input (captured in a network
 * namespace while writing this module; iptables-nft-save printed the same
 * unless a case says otherwise).
 */
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import type { TableName } from '../../../src/netfilter/ast.js';
import { parseRuleLine, printRule } from '../../../src/io/iptables/index.js';

function canon(line: string, table: TableName = 'filter'): string {
  const r = parseRuleLine(line, table);
  return printRule(r.chain, r.rule);
}

/** [input, expected iptables-save line] */
type Case = readonly [string, string];

function cases(name: string, list: readonly Case[], table: TableName = 'filter'): void {
  describe(name, () => {
    for (const [input, want] of list) {
      it(input, () => {
        expect(canon(input, table)).toBe(want);
        // the printed form is a fixed point
        expect(canon(want, table)).toBe(want);
      });
    }
  });
}

function errors(name: string, list: readonly (readonly [string, RegExp])[], table: TableName = 'filter'): void {
  describe(name, () => {
    for (const [input, msg] of list) {
      it(input, () => {
        let err: unknown = null;
        try {
          canon(input, table);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ParseError);
        expect((err as ParseError).message).toMatch(msg);
      });
    }
  });
}

cases('generic options', [
  ['-A INPUT -p tcp --dport 80 -j ACCEPT', '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT'],
  [
    '-A INPUT -m comment --comment "hello world" -p tcp --dport 81 -s 10.1.2.3 -d 10.0.0.0/255.255.0.0 -j ACCEPT',
    '-A INPUT -s 10.1.2.3/32 -d 10.0.0.0/16 -p tcp -m comment --comment "hello world" -m tcp --dport 81 -j ACCEPT',
  ],
  ['-A INPUT -p 6 -j ACCEPT', '-A INPUT -p tcp -j ACCEPT'],
  ['-A INPUT -p all -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT ! -p udp -j ACCEPT', '-A INPUT ! -p udp -j ACCEPT'],
  ['-A INPUT -p 47 -j ACCEPT', '-A INPUT -p gre -j ACCEPT'],
  ['-A INPUT -p 255 -j ACCEPT', '-A INPUT -p 255 -j ACCEPT'],
  ['-A INPUT -p icmpv6', '-A INPUT -p ipv6-icmp'],
  ['-A INPUT -p mh', '-A INPUT -p mobility-header'],
  ['-A INPUT -p TCP', '-A INPUT -p tcp'],
  ['-A INPUT -p 06', '-A INPUT -p tcp'],
  ['-A INPUT -p 0x6', '-A INPUT -p tcp'],
  ['-A INPUT -f -j ACCEPT', '-A INPUT -f -j ACCEPT'],
  ['-A INPUT ! -f -j ACCEPT', '-A INPUT ! -f -j ACCEPT'],
  ['-A INPUT -s 10.0.0.1/8 -j ACCEPT', '-A INPUT -s 10.0.0.0/8 -j ACCEPT'],
  ['-A INPUT -s 10.0.0.1/0 -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT -s 0.0.0.0/0 -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT ! -s 0.0.0.0/0 -j ACCEPT', '-A INPUT ! -s 0.0.0.0/0 -j ACCEPT'],
  ['-A INPUT -s 10.0.0.0/255.0.255.0 -j ACCEPT', '-A INPUT -s 10.0.0.0/255.0.255.0 -j ACCEPT'],
  ['-A INPUT -s 1.2.3.4/0.255.255.255', '-A INPUT -s 0.2.3.4/0.255.255.255'],
  ['-A INPUT -s 1.2.3.4/255.255.255.254', '-A INPUT -s 1.2.3.4/31'],
  ['-A INPUT -s 1.2.3.4/0x8', '-A INPUT -s 1.0.0.0/8'],
  ['-A INPUT -s 10.1', '-A INPUT -s 10.1.0.0/32'],
  ['-A INPUT -s 10', '-A INPUT -s 10.0.0.0/32'],
  ['-A INPUT -s 010.0.0.1', '-A INPUT -s 8.0.0.1/32'],
  ['-A INPUT -s 0x01020304', '-A INPUT -s 1.2.3.4/32'],
  ['-A INPUT -s 255.255.255.255/0.0.0.1', '-A INPUT -s 0.0.0.1/0.0.0.1'],
  ['-A INPUT ! -s 1.2.3.4 ! -d 5.6.7.8/8', '-A INPUT ! -s 1.2.3.4/32 ! -d 5.0.0.0/8'],
  ['-A INPUT -i + -j ACCEPT', '-A INPUT -j ACCEPT'],
  // legacy prints nothing for "! -i +" (nft prints it; see save.test.ts)
  ['-A INPUT ! -i + -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A FORWARD -i eth+ ! -o lo -j ACCEPT', '-A FORWARD -i eth+ ! -o lo -j ACCEPT'],
  ['-A FORWARD -i 123456789012345', '-A FORWARD -i 123456789012345'],
  ['-A FORWARD -i eth+0', '-A FORWARD -i eth+0'],
  ['-A FORWARD -i !eth0', '-A FORWARD -i !eth0'],
  ['-A FORWARD -i ++', '-A FORWARD -i ++'],
  ['-A INPUT', '-A INPUT'],
  ['-A INPUT -j MY', '-A INPUT -j MY'],
  ['-A INPUT -g MY', '-A INPUT -g MY'],
  ['-A INPUT -j CONTINUE', '-A INPUT'],
  ['-A INPUT --proto tcp', '-A INPUT -p tcp'],
  ['-A INPUT -p tcp --destination 1.2.3.4', '-A INPUT -d 1.2.3.4/32 -p tcp'],
  ['-A INPUT -p tcp --dst 1.2.3.4', '-A INPUT -d 1.2.3.4/32 -p tcp'],
  ['-A INPUT -p tcp --src 1.2.3.4', '-A INPUT -s 1.2.3.4/32 -p tcp'],
  ['-A INPUT --in-interface eth0 --jump ACCEPT', '-A INPUT -i eth0 -j ACCEPT'],
  ['-A INPUT --fragment', '-A INPUT -f'],
  ['-A INPUT --fragments', '-A INPUT -f'],
  ['-A INPUT -c 1 2 -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT -c 1,2 -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT -v -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT -4 -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT --modprobe=/bin/true -j ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT "-j" ACCEPT', '-A INPUT -j ACCEPT'],
  ['-A INPUT -p tcp --dpor 80', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -m comment --comm x', '-A INPUT -m comment --comment x'],
  ['-A INPUT -m comment --comment=x', '-A INPUT -m comment --comment x'],
  // options may come before -A (getopt processes them in order)
  ['-m comment --comment x -A INPUT', '-A INPUT -m comment --comment x'],
]);

errors('generic errors', [
  ['-A INPUT -p tcp -p udp', /multiple -p flags not allowed/],
  ['-A INPUT ! -p all', /rule would never match protocol/],
  ['-A INPUT -p 256', /unknown protocol "256"/],
  ['-A INPUT -p foo', /unknown protocol "foo"/],
  ['-A INPUT -p mptcp', /unknown protocol "mptcp"/],
  ['-A INPUT -s 1.2.3.4/', /invalid mask ""/],
  ['-A INPUT -s 1.2.3.4/33', /invalid mask "33"/],
  ['-A INPUT -s 1.2.3.4/08', /invalid mask "08"/],
  ['-A INPUT -s 1.2.3.4/255.255.255.256', /invalid mask/],
  ['-A INPUT -s 1.2.3.4/24/5', /host\/network "1.2.3.4\/24" not found/],
  ['-A INPUT -s example.com', /host\/network "example.com" not found/],
  ['-A INPUT -s 1.2.3.4,5.6.7.8', /one rule per address/],
  ['-A INPUT -s 1.2.3.4 -s 5.6.7.8', /multiple -s flags/],
  ['-A INPUT ! ! -s 1.2.3.4', /multiple consecutive ! not allowed/],
  ['-A INPUT ! -m comment --comment x', /unexpected ! flag before --match/],
  ['-A INPUT ! -j ACCEPT', /cannot have ! before -j/],
  ['-A INPUT -j ACCEPT !', /nothing appropriate following !/],
  ['-A FORWARD -i ""', /empty interface/],
  ['-A FORWARD -i 1234567890123456', /must be shorter than IFNAMSIZ/],
  ['-A INPUT -o eth0', /can't use -o with INPUT/],
  ['-A OUTPUT -i eth0', /can't use -i with OUTPUT/],
  ['-A INPUT -j', /option "-j" requires an argument/],
  ['-A INPUT -g ACCEPT', /goto 'ACCEPT' is not a chain/],
  ['-A INPUT -g INPUT', /cannot jump to built-in chain INPUT/],
  ['-A INPUT -j ACCEPT -j DROP', /multiple -j flags/],
  ['-A INPUT -j ACCEPT -g X', /multiple -j flags/],
  ['-A INPUT -j RETURN --foo', /unknown option "--foo"/],
  ['-A INPUT -m foo', /unknown match module "foo"/],
  ['-A INPUT -m TCP', /unknown match module "TCP"/],
  ['-A INPUT -m owner --uid-owner 0', /match module "owner" is not supported by lbsim/],
  ['-A INPUT -j TPROXY', /target TPROXY is not supported by lbsim/],
  ['-A INPUT -p tcp --d 80', /unknown option "--d" \(ambiguous abbreviation\) for module tcp/],
  ['-A INPUT -p tcp -m tcp --bar 1', /unknown option "--bar" for module tcp/],
  ['-A INPUT -p udplite --dport 5', /unknown option "--dport"/],
  ['-A INPUT -p gre --foo 5', /unknown option "--foo"/],
  ['-A INPUT -p dccp --dport 5', /match module "dccp" .* is not supported/],
  ['-A INPUT -A FORWARD', /cannot use -A with -A/],
  ['-A INPUT extra', /bad argument "extra"/],
  ['-A INPUT -j ACCEPT extra', /bad argument "extra"/],
  ['-A INPUT -c 1 -j ACCEPT', /-c requires packet and byte counter/],
  ['-A INPUT -c x 2 -j ACCEPT', /-c packet counter not numeric/],
  ['-A INPUT -n -j ACCEPT', /illegal option "-n" with this command/],
  ['-A INPUT -w -j ACCEPT', /cannot use "-w" from iptables-restore/],
  ['-A INPUT -t nat -j ACCEPT', /-t option cannot be used in iptables-restore/],
  ['-A INPUT -m comment --comment= x', /bad argument "x"/],
  ['-A INPUT -fs 1.2.3.4', /grouped short options/],
  ['-A 12345678901234567890123456789 -j ACCEPT', /chain name "12345678901234567890123456789" too long \(must be under 29 chars\)/],
  ['-A INPUT -j 12345678901234567890123456789', /invalid target name .* \(28 chars max\)/],
]);

cases('tcp / udp / sctp', [
  ['-A INPUT -p tcp --sport 1:1024 --dport 0:65535 -j ACCEPT', '-A INPUT -p tcp -m tcp --sport 1:1024 -j ACCEPT'],
  ['-A INPUT -p tcp ! --dport 22 ! --sport 1:2 -j ACCEPT', '-A INPUT -p tcp -m tcp ! --sport 1:2 ! --dport 22 -j ACCEPT'],
  ['-A INPUT -p tcp --syn -j ACCEPT', '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT'],
  ['-A INPUT -p tcp ! --syn -j ACCEPT', '-A INPUT -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT'],
  ['-A INPUT -p tcp --tcp-flags SYN,ACK,FIN,RST SYN', '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN'],
  ['-A INPUT -p tcp --tcp-flags ALL NONE', '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE'],
  ['-A INPUT -p tcp --tcp-flags ALL ALL', '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG FIN,SYN,RST,PSH,ACK,URG'],
  ['-A INPUT -p tcp --tcp-flags SYN,SYN SYN', '-A INPUT -p tcp -m tcp --tcp-flags SYN SYN'],
  ['-A INPUT -p tcp --tcp-flags SYN FIN', '-A INPUT -p tcp -m tcp --tcp-flags SYN FIN'],
  ['-A INPUT -p tcp --tcp-flags syn,ack ack', '-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK ACK'],
  ['-A INPUT -p tcp --tcp-flags NONE NONE', '-A INPUT -p tcp -m tcp'],
  ['-A INPUT -p tcp --tcp-flags "" SYN', '-A INPUT -p tcp -m tcp'],
  ['-A INPUT -p tcp --tcp-option 2 -j ACCEPT', '-A INPUT -p tcp -m tcp --tcp-option 2 -j ACCEPT'],
  ['-A INPUT -p tcp --tcp-option 8 --dport 443', '-A INPUT -p tcp -m tcp --dport 443 --tcp-option 8'],
  ['-A INPUT -p tcp ! --dport 0:65535', '-A INPUT -p tcp -m tcp'],
  ['-A INPUT -p tcp --dport 80:80', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -p tcp --dport :80', '-A INPUT -p tcp -m tcp --dport 0:80'],
  ['-A INPUT -p tcp --dport 80:', '-A INPUT -p tcp -m tcp --dport 80:65535'],
  ['-A INPUT -p tcp --dport :', '-A INPUT -p tcp -m tcp'],
  ['-A INPUT -p tcp --dport http', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -p tcp --dport www', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -p tcp --dport ssh:http', '-A INPUT -p tcp -m tcp --dport 22:80'],
  ['-A INPUT -p tcp --dport dicom', '-A INPUT -p tcp -m tcp --dport 104'],
  ['-A INPUT -p tcp --dport 0x50', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -p tcp --dport 010', '-A INPUT -p tcp -m tcp --dport 8'],
  ['-A INPUT -p tcp --dport +5', '-A INPUT -p tcp -m tcp --dport 5'],
  ['-A INPUT -p tcp --destination-port 81', '-A INPUT -p tcp -m tcp --dport 81'],
  ['-A INPUT -p tcp --source-port 82', '-A INPUT -p tcp -m tcp --sport 82'],
  ['-A INPUT -p tcp -m tcp --dport 80 -m tcp --sport 90', '-A INPUT -p tcp -m tcp --dport 80 -m tcp --sport 90'],
  ['-A INPUT -p tcp -m tcp --dport 80 --sport 90 -m tcp --sport 91', '-A INPUT -p tcp -m tcp --sport 90 --dport 80 -m tcp --sport 91'],
  ['-A INPUT -p tcp --dport 80 -m tcp --sport 90', '-A INPUT -p tcp -m tcp --dport 80 -m tcp --sport 90'],
  ['-A INPUT -p tcp -m comment --comment x --dport 82', '-A INPUT -p tcp -m comment --comment x -m tcp --dport 82'],
  ['-A INPUT -m tcp -p tcp --dport 80', '-A INPUT -p tcp -m tcp --dport 80'],
  ['-A INPUT -p udp --dport 53', '-A INPUT -p udp -m udp --dport 53'],
  ['-A INPUT -p udp --sport 0:0', '-A INPUT -p udp -m udp --sport 0'],
  // udp ports are XTTYPE_PORTRC: decimal only, min > max accepted, 16-bit wrap, any-protocol service names
  ['-A INPUT -p udp --dport 010', '-A INPUT -p udp -m udp --dport 10'],
  ['-A INPUT -p udp --dport 7:5', '-A INPUT -p udp -m udp --dport 7:5'],
  ['-A INPUT -p udp --dport 65536', '-A INPUT -p udp -m udp --dport 0'],
  ['-A INPUT -p udp --dport 5:', '-A INPUT -p udp -m udp --dport 5:65535'],
  ['-A INPUT -p udp --dport :5', '-A INPUT -p udp -m udp --dport 0:5'],
  ['-A INPUT -p udp --dport bootps:ssh', '-A INPUT -p udp -m udp --dport 67:22'],
  ['-A INPUT -p udp --dport ssh', '-A INPUT -p udp -m udp --dport 22'],
  ['-A INPUT -p udp --sport sink', '-A INPUT -p udp -m udp --sport 9'],
  ['-A INPUT -p sctp --dport 5000 --sport 1:2', '-A INPUT -p sctp -m sctp --sport 1:2 --dport 5000'],
  ['-A INPUT -p sctp --dport 0x10', '-A INPUT -p sctp -m sctp --dport 16'],
  ['-A INPUT -p sctp --dport 0:65535', '-A INPUT -p sctp -m sctp --dport 0:65535'],
]);

errors('tcp / udp / sctp errors', [
  ['-A INPUT -p tcp --dport 90:80', /invalid port range "90:80" \(min > max\)/],
  ['-A INPUT -p tcp --dport 65536', /invalid port\/service "65536"/],
  ['-A INPUT -p tcp --dport -1', /invalid port\/service "-1"/],
  ['-A INPUT -p tcp --dport 080', /invalid port\/service "080"/],
  ['-A INPUT -p tcp --dport 1:2:3', /invalid port\/service "2:3"/],
  ['-A INPUT -p tcp --dport bootps', /invalid port\/service "bootps"/],
  ['-A INPUT -p tcp --dport HTTP', /invalid port\/service "HTTP"/],
  ['-A INPUT -p sctp --dport http', /invalid port\/service "http"/],
  ['-A INPUT -p udp --dport 0x10', /port "0x10" does not resolve/],
  ['-A INPUT -p tcp --tcp-flags SYN', /--tcp-flags requires two args/],
  ['-A INPUT -p tcp --tcp-flags FOO SYN', /unknown TCP flag "FOO"/],
  ['-A INPUT -p tcp --syn --tcp-flags SYN SYN', /can only be used once/],
  ['-A INPUT -p tcp ! --tcp-option 0', /bad TCP option "0"/],
  ['-A INPUT -p tcp --tcp-option 256', /bad TCP option "256"/],
  ['-A INPUT -p tcp --dport 80 --dport 90', /can only be used once/],
  ['-A INPUT -p udp -m tcp --dport 80', /match tcp needs "-p tcp"/],
  ['-A INPUT -m tcp --dport 80', /match tcp needs "-p tcp"/],
  ['-A INPUT ! -p tcp -m tcp --dport 80', /match tcp needs "-p tcp"/],
  ['-A INPUT -p icmp --dport 5', /unknown option "--dport"/],
]);

cases('icmp', [
  ['-A INPUT -p icmp --icmp-type 8 -j ACCEPT', '-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT'],
  ['-A INPUT -p icmp --icmp-type echo-request', '-A INPUT -p icmp -m icmp --icmp-type 8'],
  ['-A INPUT -p icmp --icmp-type echo-req', '-A INPUT -p icmp -m icmp --icmp-type 8'],
  ['-A INPUT -p icmp --icmp-type ECHO-REQUEST', '-A INPUT -p icmp -m icmp --icmp-type 8'],
  ['-A INPUT -p icmp --icmp-type echo-reply', '-A INPUT -p icmp -m icmp --icmp-type 0'],
  ['-A INPUT -p icmp --icmp-type port-unreachable', '-A INPUT -p icmp -m icmp --icmp-type 3/3'],
  ['-A INPUT -p icmp --icmp-type ttl-zero-during-transit', '-A INPUT -p icmp -m icmp --icmp-type 11/0'],
  ['-A INPUT -p icmp --icmp-type ping', '-A INPUT -p icmp -m icmp --icmp-type 8'],
  ['-A INPUT -p icmp --icmp-type pong', '-A INPUT -p icmp -m icmp --icmp-type 0'],
  ['-A INPUT -p icmp --icmp-type 3/4', '-A INPUT -p icmp -m icmp --icmp-type 3/4'],
  ['-A INPUT -p icmp --icmp-type 03/010', '-A INPUT -p icmp -m icmp --icmp-type 3/8'],
  ['-A INPUT -p icmp --icmp-type 0x3', '-A INPUT -p icmp -m icmp --icmp-type 3'],
  ['-A INPUT -p icmp --icmp-type any', '-A INPUT -p icmp -m icmp --icmp-type any'],
  ['-A INPUT -p icmp --icmp-type 255', '-A INPUT -p icmp -m icmp --icmp-type any'],
  ['-A INPUT -p icmp --icmp-type 255/3', '-A INPUT -p icmp -m icmp --icmp-type any'],
  ['-A INPUT -p icmp ! --icmp-type 0', '-A INPUT -p icmp -m icmp ! --icmp-type 0'],
  ['-A INPUT -p icmp', '-A INPUT -p icmp'],
]);

errors('icmp errors', [
  ['-A INPUT -p icmp --icmp-type 3/256', /unknown ICMP code/],
  ['-A INPUT -p icmp --icmp-type t', /ambiguous ICMP type "t"/],
  ['-A INPUT -p icmp --icmp-type e', /ambiguous ICMP type "e"/],
  ['-A INPUT -p icmp -m icmp', /option "--icmp-type" must be specified/],
]);

cases('multiport', [
  ['-A INPUT -p tcp -m multiport --dports 80,443,8000:8080', '-A INPUT -p tcp -m multiport --dports 80,443,8000:8080'],
  ['-A INPUT -p tcp -m multiport ! --sports 80,443', '-A INPUT -p tcp -m multiport ! --sports 80,443'],
  ['-A INPUT -p tcp -m multiport --ports 22', '-A INPUT -p tcp -m multiport --ports 22'],
  ['-A INPUT -p udp -m multiport --destination-ports 1,2,3', '-A INPUT -p udp -m multiport --dports 1,2,3'],
  ['-A INPUT -p udp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15', '-A INPUT -p udp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15'],
  ['-A INPUT -p udp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15', '-A INPUT -p udp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15'],
  ['-A INPUT -p udp -m multiport --dports 80,80', '-A INPUT -p udp -m multiport --dports 80,80'],
  ['-A INPUT -p tcp -m multiport --dports 22,ssh', '-A INPUT -p tcp -m multiport --dports 22,22'],
  ['-A INPUT -p tcp -m multiport --dports 0x50', '-A INPUT -p tcp -m multiport --dports 80'],
  ['-A INPUT -p tcp -m multiport --dports 0:65535', '-A INPUT -p tcp -m multiport --dports 0:65535'],
  ['-A INPUT -p tcp -m multiport --destination-port 80', '-A INPUT -p tcp -m multiport --dports 80'],
  ['-A INPUT -p tcp -m multiport --dport 80', '-A INPUT -p tcp -m multiport --dports 80'],
  ['-A INPUT -p tcp -m multiport --port 80', '-A INPUT -p tcp -m multiport --ports 80'],
  ['-A INPUT -p tcp --dport 80 -m multiport --dports 80', '-A INPUT -p tcp -m tcp --dport 80 -m multiport --dports 80'],
]);

errors('multiport errors', [
  ['-A INPUT -m multiport --dports 80', /multiport needs '-p tcp'/],
  ['-A INPUT -m multiport --dports 80 -p tcp', /multiport needs '-p tcp'/],
  ['-A INPUT ! -p tcp -m multiport --dports 80', /multiport only works with TCP/],
  ['-A INPUT -p udp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', /too many ports/],
  ['-A INPUT -p udp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16', /too many ports/],
  ['-A INPUT -p udp -m multiport --dports 90:80', /invalid port range/],
  ['-A INPUT -p udp -m multiport --dports 80:80', /invalid port range/],
  ['-A INPUT -p udp -m multiport --dports domain,http', /invalid port\/service "http"/],
  ['-A INPUT -p udp -m multiport --dports 80 --sports 90', /cannot be used together/],
  ['-A INPUT -p tcp -m multiport --dports ,80', /invalid port\/service ""/],
  ['-A INPUT -p tcp -m multiport --dports 80 --dports 90', /can only be used once/],
]);

cases('comment', [
  ['-A INPUT -m comment --comment "a \\"quoted\\" \\\\back"', '-A INPUT -m comment --comment "a \\"quoted\\" \\\\back"'],
  ["-A INPUT -m comment --comment 'single'", "-A INPUT -m comment --comment \"\\'single\\'\""],
  ['-A INPUT -m comment --comment ""', '-A INPUT -m comment --comment ""'],
  ['-A INPUT -m comment --comment "x y" -m comment --comment z', '-A INPUT -m comment --comment "x y" -m comment --comment z'],
  ['-A INPUT -m comment --comment "semi;colon"', '-A INPUT -m comment --comment "semi;colon"'],
  ['-A INPUT -m comment --comment "dollar$ and `tick`"', '-A INPUT -m comment --comment "dollar$ and `tick`"'],
  ['-A INPUT -m comment --comment "tab\there"', '-A INPUT -m comment --comment "tab\there"'],
  ['-A INPUT -m comment --comment "é ü"', '-A INPUT -m comment --comment "é ü"'],
  ['-A INPUT -m comment --comment "a\\b"', '-A INPUT -m comment --comment ab'],
  ['-A INPUT -m comment --comment a\\b', '-A INPUT -m comment --comment "a\\\\b"'],
  ['-A INPUT -m comment --comment !', '-A INPUT -m comment --comment "!"'],
  ['-A INPUT -m comment --comment "-j"', '-A INPUT -m comment --comment -j'],
  ['-A INPUT -m comment --comment ns1/svc1:p80', '-A INPUT -m comment --comment "ns1/svc1:p80"'],
  ['-A INPUT -m comment --comment Abc_-09', '-A INPUT -m comment --comment Abc_-09'],
  [`-A INPUT -m comment --comment ${'1234567890'.repeat(26)}`, `-A INPUT -m comment --comment ${'1234567890'.repeat(26).slice(0, 255)}`],
]);

errors('comment errors', [
  ['-A INPUT -m comment', /option "--comment" must be specified/],
  ['-A INPUT -m comment --comment a --comment b', /can only be used once/],
  ['-A INPUT -m comment --comment abc"def ghi"jkl', /bad argument "jkl"/],
  ['-A INPUT -m comment --comment "unterminated', /unterminated quoted string/],
]);

cases('statistic (probability is lround(p * 2^31), printed %.11f of k / 2^31)', [
  ['-A INPUT -m statistic --mode random --probability 0.5', '-A INPUT -m statistic --mode random --probability 0.50000000000'],
  // lround(0.3333333333 * 2^31) = lround(715827882.6) = 715827883; / 2^31 = 0.333333333489...
  ['-A INPUT -m statistic --mode random --probability 0.3333333333', '-A INPUT -m statistic --mode random --probability 0.33333333349'],
  ['-A INPUT -m statistic --mode random --probability 0.1000000000', '-A INPUT -m statistic --mode random --probability 0.10000000009'],
  ['-A INPUT -m statistic --mode random --probability 1', '-A INPUT -m statistic --mode random --probability 1.00000000000'],
  ['-A INPUT -m statistic --mode random --probability 0', '-A INPUT -m statistic --mode random --probability 0.00000000000'],
  ['-A INPUT -m statistic --mode random --probability 0.0000000001', '-A INPUT -m statistic --mode random --probability 0.00000000000'],
  ['-A INPUT -m statistic --mode random --probability 0.9999999999', '-A INPUT -m statistic --mode random --probability 1.00000000000'],
  ['-A INPUT -m statistic --mode random --probability 1e-3', '-A INPUT -m statistic --mode random --probability 0.00100000016'],
  ['-A INPUT -m statistic --mode random --probability .5', '-A INPUT -m statistic --mode random --probability 0.50000000000'],
  ['-A INPUT -m statistic --mode random --probability 0x1p-2', '-A INPUT -m statistic --mode random --probability 0.25000000000'],
  // 2^19 / 2^31 = 0.000244140625 exactly: a tie at the 12th decimal, glibc rounds half to even
  ['-A INPUT -m statistic --mode random --probability 0.000244140625', '-A INPUT -m statistic --mode random --probability 0.00024414062'],
  ['-A INPUT -m statistic --mode random --probability 0.000732421875', '-A INPUT -m statistic --mode random --probability 0.00073242188'],
  ['-A INPUT -m statistic --mode random ! --probability 0.25', '-A INPUT -m statistic --mode random ! --probability 0.25000000000'],
  ['-A INPUT -m statistic --mode nth --every 3 --packet 0', '-A INPUT -m statistic --mode nth --every 3 --packet 0'],
  ['-A INPUT -m statistic --mode nth ! --every 5 --packet 4', '-A INPUT -m statistic --mode nth ! --every 5 --packet 4'],
  ['-A INPUT -m statistic --mode nth --every 1 --packet 0', '-A INPUT -m statistic --mode nth --every 1 --packet 0'],
  ['-A INPUT -m statistic --mode nth --every 4294967295 --packet 0', '-A INPUT -m statistic --mode nth --every 4294967295 --packet 0'],
  ['-A INPUT -m statistic --mode nth --every 010 --packet 0x2', '-A INPUT -m statistic --mode nth --every 8 --packet 2'],
]);

errors('statistic errors', [
  ['-A INPUT -m statistic --mode random --probability 1.5', /out of range \(0-1\)/],
  ['-A INPUT -m statistic --mode random --probability -0.1', /out of range \(0-1\)/],
  ['-A INPUT -m statistic --probability 0.5', /option "--mode" must be specified/],
  ['-A INPUT -m statistic --mode nth --every 3', /option "--every" also requires "--packet"/],
  ['-A INPUT -m statistic --mode nth --every 0 --packet 0', /out of range \(1-4294967295\)/],
  ['-A INPUT -m statistic --mode nth --every 2 --packet 2', /--packet p must be 0 <= p <= n-1/],
  ['-A INPUT -m statistic --mode random --probability 0.5 --every 2', /cannot be used together/],
  ['-A INPUT -m statistic ! --mode random --probability 0.5', /option "--mode" cannot be inverted/],
  ['-A INPUT -m statistic --mode RANDOM --probability 0.5', /bad mode "RANDOM"/],
  ['-A INPUT -m statistic --mode random', /--probability must be specified when using random mode/],
  ['-A INPUT -m statistic --mode nth', /--every and --packet must be specified/],
]);

cases('mark', [
  ['-A INPUT -m mark --mark 0x4000/0x4000', '-A INPUT -m mark --mark 0x4000/0x4000'],
  ['-A INPUT -m mark ! --mark 0x4000/0x4000', '-A INPUT -m mark ! --mark 0x4000/0x4000'],
  ['-A INPUT -m mark --mark 1', '-A INPUT -m mark --mark 0x1'],
  ['-A INPUT -m mark --mark 0xffffffff', '-A INPUT -m mark --mark 0xffffffff'],
  ['-A INPUT -m mark --mark 16/0xff', '-A INPUT -m mark --mark 0x10/0xff'],
  ['-A INPUT -m mark ! --mark 0/0', '-A INPUT -m mark ! --mark 0x0/0x0'],
  ['-A INPUT -m mark --mark 010', '-A INPUT -m mark --mark 0x8'],
  ['-A INPUT -m mark --mark 0xFF/0XFF00', '-A INPUT -m mark --mark 0xff/0xff00'],
  ['-A INPUT -m mark --mark 0x10/010', '-A INPUT -m mark --mark 0x10/0x8'],
]);

errors('mark errors', [
  ['-A INPUT -m mark --mark 0x100000000', /bad mark value/],
  ['-A INPUT -m mark --mark -1', /bad mark value/],
  ['-A INPUT -m mark --mark 1/', /bad mask value/],
]);

cases('conntrack and state', [
  ['-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED'],
  ['-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED'],
  ['-A INPUT -m conntrack ! --ctstate INVALID', '-A INPUT -m conntrack ! --ctstate INVALID'],
  ['-A INPUT -m conntrack --ctstate NEW,UNTRACKED,SNAT,DNAT,INVALID', '-A INPUT -m conntrack --ctstate INVALID,NEW,UNTRACKED,SNAT,DNAT'],
  ['-A INPUT -m conntrack --ctstate new', '-A INPUT -m conntrack --ctstate NEW'],
  ['-A INPUT -m conntrack --ctstate NE', '-A INPUT -m conntrack --ctstate NEW'],
  ['-A INPUT -m conntrack --ctstate E', '-A INPUT -m conntrack --ctstate ESTABLISHED'],
  ['-A INPUT -m conntrack --ctstate S', '-A INPUT -m conntrack --ctstate SNAT'],
  ['-A INPUT -m conntrack --ctstate I,R', '-A INPUT -m conntrack --ctstate INVALID,RELATED'],
  [
    '-A INPUT -m conntrack --ctproto tcp --ctorigsrc 10.0.0.1 --ctorigdst 10.0.0.0/8 --ctreplsrc 1.2.3.4/255.0.255.0 ! --ctrepldst 5.6.7.8',
    '-A INPUT -m conntrack --ctproto 6 --ctorigsrc 10.0.0.1 --ctorigdst 10.0.0.0/8 --ctreplsrc 1.2.3.4 ! --ctrepldst 5.6.7.8',
  ],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/255.255.0.0', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4/16'],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/0', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4/0'],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/32', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4'],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/33', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4'],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/4294967040', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4/24'],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/0x8', '-A INPUT -m conntrack --ctorigsrc 1.2.3.4/8'],
  ['-A INPUT -m conntrack --ctorigsrc 10.1', '-A INPUT -m conntrack --ctorigsrc 10.0.0.1'],
  ['-A INPUT -m conntrack --ctorigsrc 010.0.0.1', '-A INPUT -m conntrack --ctorigsrc 8.0.0.1'],
  ['-A INPUT -m conntrack --ctstate NEW --ctorigsrc 10.0.0.1/24', '-A INPUT -m conntrack --ctstate NEW --ctorigsrc 10.0.0.1/24'],
  [
    '-A INPUT -m conntrack --ctorigsrcport 80 --ctorigdstport 90:100 ! --ctreplsrcport 5 --ctrepldstport 6',
    '-A INPUT -m conntrack --ctorigsrcport 80 --ctorigdstport 90:100 ! --ctreplsrcport 5 --ctrepldstport 6',
  ],
  ['-A INPUT -m conntrack --ctorigsrcport 0:65535', '-A INPUT -m conntrack --ctorigsrcport 0:65535'],
  ['-A INPUT -m conntrack --ctorigdstport 7:5', '-A INPUT -m conntrack --ctorigdstport 7:5'],
  ['-A INPUT -m conntrack --ctorigdstport ssh', '-A INPUT -m conntrack --ctorigdstport 22'],
  ['-A INPUT -m conntrack --ctorigdstport bootps', '-A INPUT -m conntrack --ctorigdstport 67'],
  ['-A INPUT -m conntrack --ctorigdstport 010', '-A INPUT -m conntrack --ctorigdstport 10'],
  [
    '-A INPUT -m conntrack --ctstatus ASSURED,SEEN_REPLY --ctexpire 10:20 --ctdir ORIGINAL',
    '-A INPUT -m conntrack --ctstatus SEEN_REPLY,ASSURED --ctexpire 10:20 --ctdir ORIGINAL',
  ],
  ['-A INPUT -m conntrack ! --ctstatus EXPECTED ! --ctexpire 5 --ctdir REPLY', '-A INPUT -m conntrack ! --ctstatus EXPECTED ! --ctexpire 5 --ctdir REPLY'],
  ['-A INPUT -m conntrack --ctstatus NONE', '-A INPUT -m conntrack --ctstatus NONE'],
  ['-A INPUT -m conntrack --ctstatus NONE,ASSURED', '-A INPUT -m conntrack --ctstatus ASSURED'],
  ['-A INPUT -m conntrack --ctstatus A', '-A INPUT -m conntrack --ctstatus ASSURED'],
  ['-A INPUT -m conntrack ! --ctproto 17', '-A INPUT -m conntrack ! --ctproto 17'],
  ['-A INPUT -m conntrack --ctproto all', '-A INPUT -m conntrack --ctproto 0'],
  ['-A INPUT -m conntrack --ctexpire 20:10', '-A INPUT -m conntrack --ctexpire 20:10'],
  ['-A INPUT -m conntrack --ctexpire 0x10', '-A INPUT -m conntrack --ctexpire 16'],
  ['-A INPUT -m conntrack --ctexpire 5:', '-A INPUT -m conntrack --ctexpire 5:4294967295'],
  ['-A INPUT -m conntrack --ctdir reply', '-A INPUT -m conntrack --ctdir REPLY'],
  ['-A INPUT -m state --state NEW,ESTABLISHED', '-A INPUT -m state --state NEW,ESTABLISHED'],
  ['-A INPUT -m state --state NEW,RELATED,ESTABLISHED,INVALID,UNTRACKED', '-A INPUT -m state --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED'],
  ['-A INPUT -m state ! --state INVALID,UNTRACKED', '-A INPUT -m state ! --state INVALID,UNTRACKED'],
  ['-A INPUT -m state --state new,Related', '-A INPUT -m state --state NEW,RELATED'],
]);

errors('conntrack and state errors', [
  ['-A INPUT -m conntrack --ctstate NEW,', /bad ctstate ""/],
  ['-A INPUT -m conntrack --ctstate NEWX', /bad ctstate "NEWX"/],
  ['-A INPUT -m conntrack --ctstate NEW --ctstate INVALID', /can only be used once/],
  ['-A INPUT -m conntrack', /at least one option is required/],
  ['-A INPUT -m conntrack --ctdir O', /bad value for "--ctdir"/],
  ['-A INPUT -m conntrack --ctproto 256', /unknown protocol "256"/],
  ['-A INPUT -m conntrack ! --ctproto 0', /rule would never match protocol/],
  ['-A INPUT -m conntrack --ctorigsrc 1.2.3.4/08', /neither a valid network mask nor valid CIDR/],
  ['-A INPUT -m conntrack --ctorigdstport 0x10:020', /port "0x10" does not resolve/],
  ['-A INPUT -m conntrack --ctexpire 5:3:1', /too many components/],
  ['-A INPUT -m state --state SNAT', /bad state "SNAT"/],
]);

cases('addrtype', [
  ['-A INPUT -m addrtype --dst-type LOCAL', '-A INPUT -m addrtype --dst-type LOCAL'],
  ['-A INPUT -m addrtype ! --src-type LOCAL,BROADCAST --limit-iface-in', '-A INPUT -m addrtype ! --src-type LOCAL,BROADCAST --limit-iface-in'],
  ['-A INPUT -m addrtype --src-type UNICAST --dst-type MULTICAST', '-A INPUT -m addrtype --src-type UNICAST --dst-type MULTICAST'],
  ['-A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-out', '-A OUTPUT -m addrtype --dst-type LOCAL --limit-iface-out'],
  ['-A INPUT -m addrtype --dst-type BROADCAST,LOCAL', '-A INPUT -m addrtype --dst-type LOCAL,BROADCAST'],
  [
    '-A INPUT -m addrtype --dst-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE',
    '-A INPUT -m addrtype --dst-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE',
  ],
  ['-A INPUT -m addrtype --dst-type local', '-A INPUT -m addrtype --dst-type LOCAL'],
  ['-A INPUT -m addrtype --src-type LOC', '-A INPUT -m addrtype --src-type LOCAL'],
  ['-A INPUT -m addrtype --src-type U', '-A INPUT -m addrtype --src-type UNSPEC'],
  ['-A INPUT -m addrtype ! --dst-type LOCAL ! --src-type LOCAL', '-A INPUT -m addrtype ! --src-type LOCAL ! --dst-type LOCAL'],
]);

errors('addrtype errors', [
  ['-A INPUT -m addrtype', /you must specify --src-type or --dst-type/],
  ['-A INPUT -m addrtype --limit-iface-in --limit-iface-out --src-type LOCAL', /cannot be used together/],
  ['-A INPUT -m addrtype --src-type LOCAL,', /bad type ""/],
  ['-A OUTPUT -m addrtype --src-type LOCAL --limit-iface-in', /input interface limitation not valid/],
  ['-A INPUT -m addrtype --src-type LOCAL --limit-iface-out', /output interface limitation not valid/],
]);

cases('recent', [
  [
    '-A INPUT -m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap',
    '-A INPUT -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource',
  ],
  ['-A INPUT -m recent --name KUBE-SEP-X --set', '-A INPUT -m recent --set --name KUBE-SEP-X --mask 255.255.255.255 --rsource'],
  ['-A INPUT -m recent --set', '-A INPUT -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource'],
  [
    '-A INPUT -m recent --update --seconds 60 --hitcount 4 --rttl --name SSH',
    '-A INPUT -m recent --update --seconds 60 --hitcount 4 --rttl --name SSH --mask 255.255.255.255 --rsource',
  ],
  ['-A INPUT -m recent ! --rcheck --rdest --name foo', '-A INPUT -m recent ! --rcheck --name foo --mask 255.255.255.255 --rdest'],
  ['-A INPUT -m recent --remove --mask 255.255.255.0', '-A INPUT -m recent --remove --name DEFAULT --mask 255.255.255.0 --rsource'],
  ['-A INPUT -m recent --rcheck --rsource', '-A INPUT -m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource'],
  ['-A INPUT -m recent ! --set', '-A INPUT -m recent ! --set --name DEFAULT --mask 255.255.255.255 --rsource'],
  ['-A INPUT -m recent --rcheck --hitcount 0', '-A INPUT -m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource'],
  ['-A INPUT -m recent --rcheck --mask 255.0.255.0', '-A INPUT -m recent --rcheck --name DEFAULT --mask 255.0.255.0 --rsource'],
  // --mask is read like a host (inet_aton): "24" is 0.0.0.24
  ['-A INPUT -m recent --rcheck --mask 24', '-A INPUT -m recent --rcheck --name DEFAULT --mask 0.0.0.24 --rsource'],
  ['-A INPUT -m recent --rcheck --mask 10.1', '-A INPUT -m recent --rcheck --name DEFAULT --mask 10.0.0.1 --rsource'],
  ['-A INPUT -m recent --rcheck --rsource --rdest', '-A INPUT -m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rdest'],
  ['-A INPUT -m recent --rcheck --name .x', '-A INPUT -m recent --rcheck --name .x --mask 255.255.255.255 --rsource'],
  [
    '-A INPUT -m recent --update --seconds 5 --reap --rttl --hitcount 3 --rdest --name x --mask 255.255.0.0',
    '-A INPUT -m recent --update --seconds 5 --reap --hitcount 3 --rttl --name x --mask 255.255.0.0 --rdest',
  ],
  ['-A INPUT -m recent --rcheck --seconds 010 --hitcount 0x3', '-A INPUT -m recent --rcheck --seconds 8 --hitcount 3 --name DEFAULT --mask 255.255.255.255 --rsource'],
]);

errors('recent errors', [
  ['-A INPUT -m recent --set --rcheck', /cannot be used together/],
  ['-A INPUT -m recent --reap --rcheck', /option "--reap" also requires "--seconds"/],
  ['-A INPUT -m recent --rcheck --seconds 0', /out of range \(1-4294967295\)/],
  ['-A INPUT -m recent --set --rttl', /cannot be used together/],
  ['-A INPUT -m recent --remove --rttl', /cannot be used together/],
  ['-A INPUT -m recent --set --seconds 5', /--set cannot be combined/],
  ['-A INPUT -m recent --remove --seconds 5', /--remove cannot be combined/],
  ['-A INPUT -m recent --rcheck --name ""', /invalid list name ""/],
  ['-A INPUT -m recent --rcheck --name a/b', /invalid list name "a\/b"/],
  ['-A INPUT -m recent --rcheck --name .', /invalid list name "."/],
  ['-A INPUT -m recent --rcheck --name ..', /invalid list name ".."/],
  ['-A INPUT -m recent', /you must specify one of/],
  ['-A INPUT -m recent --name x', /you must specify one of/],
  ['-A INPUT -m recent --rcheck --mask 255.255.255.0/8', /not a numeric IPv4 address/],
]);

cases('set', [
  ['-A INPUT -m set --match-set S1 src', '-A INPUT -m set --match-set S1 src'],
  ['-A INPUT -m set --match-set S2 dst,dst', '-A INPUT -m set --match-set S2 dst,dst'],
  ['-A INPUT -m set ! --match-set S2 src,dst', '-A INPUT -m set ! --match-set S2 src,dst'],
  ['-A INPUT -m set --match-set S3 dst,dst,src', '-A INPUT -m set --match-set S3 dst,dst,src'],
  ['-A INPUT -m set --match-set S2 dst,dst --return-nomatch', '-A INPUT -m set --match-set S2 dst,dst --return-nomatch'],
  ['-A INPUT -m set --set S1 src', '-A INPUT -m set --match-set S1 src'],
  ['-A INPUT -m set --match-set S1 src -m set --match-set S2 dst,src', '-A INPUT -m set --match-set S1 src -m set --match-set S2 dst,src'],
  ['-A INPUT -m set --match-set S1 src --update-counters', '-A INPUT -m set --match-set S1 src'],
  ['-A INPUT -m set --match-set S1 srcfoo', '-A INPUT -m set --match-set S1 src'],
  ['-A INPUT -m set --match-set S1 src -m recent --set', '-A INPUT -m set --match-set S1 src -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource'],
  [
    '-A INPUT -m recent --set -m set --match-set S1 src -m recent --rcheck',
    '-A INPUT -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource -m set --match-set S1 src -m recent --rcheck --name DEFAULT --mask 255.255.255.255 --rsource',
  ],
]);

errors('set errors', [
  ['-A INPUT -m set --match-set S1', /--match-set requires two args/],
  ['-A INPUT -m set --match-set S1 foo', /you must specify \(the comma separated list of\) 'src' or 'dst'/],
  ['-A INPUT -m set --match-set S1 SRC', /you must specify/],
  ['-A INPUT -m set --match-set S1 src,src,src,src,src,src,src', /more src\/dst options than 6/],
  ['-A INPUT -m set --match-set S1 src ! --update-counters', /not supported by lbsim/],
  ['-A INPUT -m set --match-set S1 src --packets-gt 5', /not supported by lbsim/],
  // after "-m recent … -m set", --set is the set match's deprecated option (iptables fails the same way)
  ['-A INPUT -m recent --set -m set --match-set S1 src -m recent --set', /option "--set" requires an argument/],
  ['-A INPUT -m set --match-set 12345678901234567890123456789012 src', /too long, max 31/],
]);

cases('nfacct (iptables prints two spaces after --nfacct-name)', [
  ['-A INPUT -m nfacct --nfacct-name foo', '-A INPUT -m nfacct --nfacct-name  foo'],
  ['-A INPUT -m nfacct --nfacct-name "a b"', '-A INPUT -m nfacct --nfacct-name  "a b"'],
  ['-A INPUT -m nfacct --nfacct-name foo -m nfacct --nfacct-name foo', '-A INPUT -m nfacct --nfacct-name  foo -m nfacct --nfacct-name  foo'],
]);

errors('nfacct errors', [['-A INPUT -m nfacct', /option "--nfacct-name" must be specified/]]);

cases('limit (kept as iptables-save prints it: print_rate of the kernel period)', [
  ['-A INPUT -m limit --limit 5/min --limit-burst 10', '-A INPUT -m limit --limit 5/min --limit-burst 10'],
  ['-A INPUT -m limit --limit 3/hour', '-A INPUT -m limit --limit 3/hour'],
  ['-A INPUT -m limit', '-A INPUT -m limit --limit 3/hour'],
  ['-A INPUT -m limit --limit 1/s', '-A INPUT -m limit --limit 1/sec'],
  ['-A INPUT -m limit --limit 100/second', '-A INPUT -m limit --limit 100/sec'],
  ['-A INPUT -m limit --limit 2/day', '-A INPUT -m limit --limit 2/day'],
  ['-A INPUT -m limit --limit 7/m', '-A INPUT -m limit --limit 7/min'],
  ['-A INPUT -m limit --limit 10000/s', '-A INPUT -m limit --limit 10000/sec'],
  ['-A INPUT -m limit --limit 3/minute', '-A INPUT -m limit --limit 3/min'],
  // period 600000/60 = 10000 = 1/sec exactly
  ['-A INPUT -m limit --limit 60/min', '-A INPUT -m limit --limit 1/sec'],
  ['-A INPUT -m limit --limit 86400/day', '-A INPUT -m limit --limit 1/sec'],
  ['-A INPUT -m limit --limit 3600/hour', '-A INPUT -m limit --limit 1/sec'],
  ['-A INPUT -m limit --limit 61/min', '-A INPUT -m limit --limit 61/min'],
  ['-A INPUT -m limit --limit 13/hour', '-A INPUT -m limit --limit 13/hour'],
  ['-A INPUT -m limit --limit 999/hour', '-A INPUT -m limit --limit 999/hour'],
  ['-A INPUT -m limit --limit 1441/day', '-A INPUT -m limit --limit 1441/day'],
  ['-A INPUT -m limit --limit 5', '-A INPUT -m limit --limit 5/sec'],
  ['-A INPUT -m limit --limit 5/S', '-A INPUT -m limit --limit 5/sec'],
  ['-A INPUT -m limit --limit-burst 5', '-A INPUT -m limit --limit 3/hour'],
  ['-A INPUT -m limit --limit-burst 010', '-A INPUT -m limit --limit 3/hour --limit-burst 8'],
  ['-A INPUT -m limit --limit 010/s', '-A INPUT -m limit --limit 10/sec'],
]);

errors('limit errors', [
  ['-A INPUT -m limit --limit 0/s', /bad rate "0\/s"/],
  ['-A INPUT -m limit --limit 10001/s', /rate too fast/],
  ['-A INPUT -m limit --limit 5/', /bad rate/],
  ['-A INPUT -m limit --limit 5/x', /bad rate/],
  ['-A INPUT -m limit --limit 5/secondsss', /bad rate/],
  ['-A INPUT -m limit --limit-burst 10001', /out of range \(0-10000\)/],
  ['-A INPUT -m limit ! --limit 5/s', /cannot be inverted/],
  ['-A INPUT -m limit --limit 5/s --limit 6/s', /can only be used once/],
]);

cases(
  'nat targets',
  [
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.5:80-90', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.5:80-90'],
    ['-A PREROUTING -j DNAT --to-destination 10.0.0.1', '-A PREROUTING -j DNAT --to-destination 10.0.0.1'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination :80', '-A PREROUTING -p tcp -j DNAT --to-destination :80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination :80-90', '-A PREROUTING -p tcp -j DNAT --to-destination :80-90'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80 --random --persistent', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80 --random --persistent'],
    ['-A PREROUTING -p tcp -j DNAT --to 10.0.0.1:80', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80'],
    ['-A PREROUTING -j DNAT --to-destination 10.0.0.5-10.0.0.1', '-A PREROUTING -j DNAT --to-destination 10.0.0.5-10.0.0.1'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80-80', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.1:80', '-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0', '-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:0x50', '-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:http', '-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:bootps', '-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:67'],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 0.0.0.0', '-A PREROUTING -p tcp -j DNAT --to-destination 0.0.0.0'],
    // portok (libxt_NAT.c 1.8.9) looks at the protocol number only and includes icmp
    ['-A PREROUTING ! -p tcp -j DNAT --to-destination 1.2.3.4:53', '-A PREROUTING ! -p tcp -j DNAT --to-destination 1.2.3.4:53'],
    ['-A PREROUTING -p icmp -j DNAT --to-destination 1.2.3.4:53', '-A PREROUTING -p icmp -j DNAT --to-destination 1.2.3.4:53'],
    ['-A OUTPUT -p tcp -j DNAT --to-destination 1.2.3.4', '-A OUTPUT -p tcp -j DNAT --to-destination 1.2.3.4'],
    ['-A POSTROUTING -j SNAT --to-source 1.2.3.4', '-A POSTROUTING -j SNAT --to-source 1.2.3.4'],
    ['-A INPUT -j SNAT --to-source 1.2.3.4', '-A INPUT -j SNAT --to-source 1.2.3.4'],
    [
      '-A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4-1.2.3.6:1000-2000 --persistent --random-fully --random',
      '-A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4-1.2.3.6:1000-2000 --random --random-fully --persistent',
    ],
    ['-A POSTROUTING -j MASQUERADE', '-A POSTROUTING -j MASQUERADE'],
    ['-A POSTROUTING -j MASQUERADE --random-fully', '-A POSTROUTING -j MASQUERADE --random-fully'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 0', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 0'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 0x10-0x20', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 16-32'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 10-10', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 10'],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports http', '-A POSTROUTING -p tcp -j MASQUERADE --to-ports 80'],
    ['-A POSTROUTING -j MASQUERADE --random --random-fully', '-A POSTROUTING -j MASQUERADE --random --random-fully'],
    ['-A PREROUTING -p tcp -j REDIRECT', '-A PREROUTING -p tcp -j REDIRECT'],
    ['-A PREROUTING -p tcp -j REDIRECT --to-ports 8080', '-A PREROUTING -p tcp -j REDIRECT --to-ports 8080'],
    ['-A PREROUTING -p tcp -j REDIRECT --to-ports 8080-8090 --random', '-A PREROUTING -p tcp -j REDIRECT --to-ports 8080-8090 --random'],
    ['-A PREROUTING -p tcp -j REDIRECT --to-ports 010', '-A PREROUTING -p tcp -j REDIRECT --to-ports 8'],
  ],
  'nat',
);

errors(
  'nat target errors',
  [
    ['-A PREROUTING -j DNAT', /option "--to-destination" must be specified/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:90-80', /funky/],
    ['-A PREROUTING -j DNAT --to-destination 10.0.0.1:80', /need TCP, UDP, SCTP or DCCP with port specification/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80/90', /not valid|garbage/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:80:90', /bad IP address/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 10.1', /bad IP address "10.1"/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:', /port "" not valid/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4-', /bad IP address ""/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:5-http', /port "http" not valid/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4:5-6-7', /garbage after port range/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4 --to-destination 1.2.3.5', /can only be used once/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 1.2.3.4 --random-fully', /unknown option "--random-fully"/],
    ['-A PREROUTING -p tcp -j DNAT --to-destination 0.0.0.0:80', /cannot represent the address 0.0.0.0 together with ports/],
    ['-A POSTROUTING -p tcp -j DNAT --to-destination 1.2.3.4', /target DNAT is not valid in chain POSTROUTING/],
    ['-A PREROUTING -p tcp -j MASQUERADE', /target MASQUERADE is not valid in chain PREROUTING/],
    ['-A POSTROUTING -j REDIRECT', /target REDIRECT is not valid in chain POSTROUTING/],
    ['-A POSTROUTING -j MASQUERADE --to-ports 1000', /need TCP, UDP/],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000:2000', /invalid port:port syntax - use dash/],
    ['-A POSTROUTING -p tcp -j MASQUERADE --to-ports 20-10', /funky/],
    ['-A INPUT -j DROP', /"nat" table is not intended for filtering/],
    ['-A INPUT -j REJECT', /target REJECT is only valid in table filter/],
  ],
  'nat',
);

errors('target table restrictions', [
  ['-A INPUT -j DNAT --to-destination 1.2.3.4', /target DNAT is only valid in table nat \(the kernel refuses it in filter\)/],
  ['-A OUTPUT -j CT --notrack', /target CT is only valid in table raw/],
  ['-A OUTPUT -j NOTRACK', /target NOTRACK is only valid in table raw/],
]);

cases(
  'MARK and CONNMARK (stored and printed as xmark)',
  [
    ['-A OUTPUT -j MARK --set-xmark 0x4000/0x4000', '-A OUTPUT -j MARK --set-xmark 0x4000/0x4000'],
    ['-A OUTPUT -j MARK --set-mark 0x4000', '-A OUTPUT -j MARK --set-xmark 0x4000/0xffffffff'],
    ['-A OUTPUT -j MARK --set-mark 0x4000/0xff00', '-A OUTPUT -j MARK --set-xmark 0x4000/0xff00'],
    ['-A OUTPUT -j MARK --or-mark 0x4000', '-A OUTPUT -j MARK --set-xmark 0x4000/0x4000'],
    ['-A OUTPUT -j MARK --and-mark 0xff', '-A OUTPUT -j MARK --set-xmark 0x0/0xffffff00'],
    ['-A OUTPUT -j MARK --xor-mark 0x4000', '-A OUTPUT -j MARK --set-xmark 0x4000/0x0'],
    ['-A OUTPUT -j MARK --set-xmark 5', '-A OUTPUT -j MARK --set-xmark 0x5/0xffffffff'],
    ['-A OUTPUT -j MARK --set-mark 0', '-A OUTPUT -j MARK --set-xmark 0x0/0xffffffff'],
    ['-A OUTPUT -j CONNMARK --set-xmark 0x1/0xff', '-A OUTPUT -j CONNMARK --set-xmark 0x1/0xff'],
    ['-A OUTPUT -j CONNMARK --set-mark 0x1', '-A OUTPUT -j CONNMARK --set-xmark 0x1/0xffffffff'],
    ['-A OUTPUT -j CONNMARK --set-mark 0x1/0xff', '-A OUTPUT -j CONNMARK --set-xmark 0x1/0xff'],
    ['-A OUTPUT -j CONNMARK --set-mark 1 --mask 3', '-A OUTPUT -j CONNMARK --set-xmark 0x1/0x3'],
    ['-A OUTPUT -j CONNMARK --save-mark', '-A OUTPUT -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff'],
    ['-A OUTPUT -j CONNMARK --save-mark --mask 0xff', '-A OUTPUT -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff'],
    ['-A OUTPUT -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xf0', '-A OUTPUT -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xf0'],
    ['-A OUTPUT -j CONNMARK --save-mark --nfmask 4', '-A OUTPUT -j CONNMARK --save-mark --nfmask 0x4 --ctmask 0xffffffff'],
    ['-A OUTPUT -j CONNMARK --restore-mark', '-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff'],
    ['-A OUTPUT -j CONNMARK --restore-mark --mask 0xff', '-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xff'],
    ['-A OUTPUT -j CONNMARK --and-mark 0xff', '-A OUTPUT -j CONNMARK --set-xmark 0x0/0xffffff00'],
    ['-A OUTPUT -j CONNMARK --or-mark 0xff', '-A OUTPUT -j CONNMARK --set-xmark 0xff/0xff'],
    ['-A OUTPUT -j CONNMARK --xor-mark 0xff', '-A OUTPUT -j CONNMARK --set-xmark 0xff/0x0'],
  ],
  'mangle',
);

errors(
  'MARK and CONNMARK errors',
  [
    ['-A INPUT -j MARK --set-mark 1 --or-mark 2', /cannot be used together/],
    ['-A INPUT -j MARK', /one of the --set-xmark/],
    ['-A INPUT -j MARK --set-xmark 0x1/0x2/0x3', /trailing garbage/],
    ['-A INPUT -j MARK --set-xmark 4294967296', /bad mark value/],
    ['-A INPUT -j CONNMARK --save-mark --restore-mark', /cannot be used together/],
    ['-A INPUT -j CONNMARK --save-mark --mask 3 --nfmask 4', /cannot be used together/],
    ['-A INPUT -j CONNMARK', /no operation specified/],
  ],
  'mangle',
);

cases('LOG', [
  ['-A OUTPUT -j LOG', '-A OUTPUT -j LOG'],
  ['-A OUTPUT -j LOG --log-prefix "IPT: "', '-A OUTPUT -j LOG --log-prefix "IPT: "'],
  ['-A OUTPUT -j LOG --log-prefix nospace --log-level 4', '-A OUTPUT -j LOG --log-prefix nospace'],
  ['-A OUTPUT -j LOG --log-level warning', '-A OUTPUT -j LOG'],
  [
    '-A OUTPUT -j LOG --log-level debug --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid',
    '-A OUTPUT -j LOG --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid',
  ],
  ['-A OUTPUT -j LOG --log-level 0', '-A OUTPUT -j LOG --log-level 0'],
  ['-A OUTPUT -j LOG --log-macdecode', '-A OUTPUT -j LOG --log-macdecode'],
  ['-A OUTPUT -j LOG --log-prefix "a \\"b\\" \'c\' \\\\d"', "-A OUTPUT -j LOG --log-prefix \"a \\\"b\\\" \\'c\\' \\\\d\""],
  ['-A OUTPUT -j LOG --log-prefix "12345678901234567890123456789"', '-A OUTPUT -j LOG --log-prefix 12345678901234567890123456789'],
  ['-A OUTPUT -j LOG --log-prefix "1234567890123456789012345678901"', '-A OUTPUT -j LOG --log-prefix 12345678901234567890123456789'],
  ['-A OUTPUT -j LOG --log-level emerg', '-A OUTPUT -j LOG --log-level 0'],
  ['-A OUTPUT -j LOG --log-level panic', '-A OUTPUT -j LOG --log-level 0'],
  ['-A OUTPUT -j LOG --log-level alert', '-A OUTPUT -j LOG --log-level 1'],
  ['-A OUTPUT -j LOG --log-level crit', '-A OUTPUT -j LOG --log-level 2'],
  ['-A OUTPUT -j LOG --log-level error', '-A OUTPUT -j LOG --log-level 3'],
  ['-A OUTPUT -j LOG --log-level notice', '-A OUTPUT -j LOG --log-level 5'],
  ['-A OUTPUT -j LOG --log-level info', '-A OUTPUT -j LOG --log-level 6'],
  ['-A OUTPUT -j LOG --log-level 07', '-A OUTPUT -j LOG --log-level 7'],
  ['-A OUTPUT -j LOG --log-prefix "a\tb"', '-A OUTPUT -j LOG --log-prefix "a\tb"'],
]);

errors('LOG errors', [
  ['-A OUTPUT -j LOG --log-level err', /log level "err" unknown/],
  ['-A OUTPUT -j LOG --log-level warn', /log level "warn" unknown/],
  ['-A OUTPUT -j LOG --log-level 8', /log level "8" unknown/],
  ['-A OUTPUT -j LOG --log-level Debug', /log level "Debug" unknown/],
  ['-A OUTPUT -j LOG --log-prefix ""', /minimum length of 1/],
  ['-A OUTPUT -j LOG --log-level 4 --log-level 5', /can only be used once/],
]);

cases('REJECT', [
  ['-A OUTPUT -j REJECT', '-A OUTPUT -j REJECT --reject-with icmp-port-unreachable'],
  ['-A OUTPUT -j REJECT --reject-with icmp-port-unreachable', '-A OUTPUT -j REJECT --reject-with icmp-port-unreachable'],
  ['-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset', '-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset'],
  ['-A OUTPUT -j REJECT --reject-with icmp-net-unreachable', '-A OUTPUT -j REJECT --reject-with icmp-net-unreachable'],
  ['-A OUTPUT -j REJECT --reject-with icmp-host-unreachable', '-A OUTPUT -j REJECT --reject-with icmp-host-unreachable'],
  ['-A OUTPUT -j REJECT --reject-with icmp-proto-unreachable', '-A OUTPUT -j REJECT --reject-with icmp-proto-unreachable'],
  ['-A OUTPUT -j REJECT --reject-with icmp-net-prohibited', '-A OUTPUT -j REJECT --reject-with icmp-net-prohibited'],
  ['-A OUTPUT -j REJECT --reject-with icmp-host-prohibited', '-A OUTPUT -j REJECT --reject-with icmp-host-prohibited'],
  ['-A OUTPUT -j REJECT --reject-with icmp-admin-prohibited', '-A OUTPUT -j REJECT --reject-with icmp-admin-prohibited'],
  ['-A OUTPUT -j REJECT --reject-with net-unreach', '-A OUTPUT -j REJECT --reject-with icmp-net-unreachable'],
  ['-A INPUT -p tcp -j REJECT --reject-with icmp-h', '-A INPUT -p tcp -j REJECT --reject-with icmp-host-unreachable'],
  ['-A INPUT -p tcp -j REJECT --reject-with ICMP-PORT-UNREACHABLE', '-A INPUT -p tcp -j REJECT --reject-with icmp-port-unreachable'],
  ['-A INPUT -p tcp -j REJECT --reject-with tcp', '-A INPUT -p tcp -j REJECT --reject-with tcp-reset'],
  ['-A INPUT -p tcp -j REJECT --reject-with i', '-A INPUT -p tcp -j REJECT --reject-with icmp-net-unreachable'],
  ['-A INPUT -p tcp -j REJECT --reject-with port-unreach', '-A INPUT -p tcp -j REJECT --reject-with icmp-port-unreachable'],
  ['-A INPUT -p tcp -j REJECT --reject-with ""', '-A INPUT -p tcp -j REJECT --reject-with icmp-net-unreachable'],
]);

errors('REJECT errors', [
  ['-A OUTPUT -j REJECT --reject-with icmp-echo-reply', /unknown reject type "icmp-echo-reply"/],
  ['-A OUTPUT -j REJECT --reject-with tcp-reset', /tcp-reset needs "-p tcp"/],
  ['-A OUTPUT ! -p tcp -j REJECT --reject-with tcp-rst', /tcp-reset needs "-p tcp"/],
]);

cases(
  'CT and NOTRACK',
  [
    ['-A OUTPUT -j NOTRACK', '-A OUTPUT -j NOTRACK'],
    ['-A OUTPUT -j CT --notrack', '-A OUTPUT -j CT --notrack'],
    ['-A OUTPUT -j CT --zone 5', '-A OUTPUT -j CT --zone 5'],
    ['-A OUTPUT -j CT --notrack --zone 5', '-A OUTPUT -j CT --notrack --zone 5'],
    ['-A OUTPUT -j CT', '-A OUTPUT -j CT'],
    ['-A OUTPUT -j CT --zone 0', '-A OUTPUT -j CT'],
    ['-A OUTPUT -j CT --zone 010', '-A OUTPUT -j CT --zone 8'],
    ['-A OUTPUT -j CT --zone 65535', '-A OUTPUT -j CT --zone 65535'],
  ],
  'raw',
);

errors(
  'CT errors',
  [
    ['-A OUTPUT -j CT --zone 65536', /cannot parse 65536 as a zone ID/],
    ['-A OUTPUT -j CT --notrack --notrack', /can only be used once/],
    ['-A OUTPUT -j CT --helper ftp', /option "--helper" of CT is not supported by lbsim/],
    ['-A OUTPUT -j NOTRACK --zone 1', /unknown option "--zone"/],
  ],
  'raw',
);

describe('AST values', () => {
  it('stores the statistic probability as the 31-bit fraction', () => {
    const r = parseRuleLine('-A KUBE-SVC-X -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-X');
    expect(r.rule.matches[0]).toEqual({ module: 'statistic', mode: 'random', probability: 715827883, invert: false });
  });
  it('keeps MARK as xmark value/mask', () => {
    const r = parseRuleLine('-A X -j MARK --and-mark 0xff', 'mangle');
    expect(r.rule.target).toEqual({ kind: 'MARK', value: 0, mask: 0xffffff00 });
  });
  it('keeps semantically relevant forms iptables-save does not print', () => {
    // "! --dport 0:65535" never matches; "--tcp-flags '' SYN" never matches; "! -i +" never matches
    expect(parseRuleLine('-A INPUT -p tcp ! --dport 0:65535').rule.matches[0]).toEqual({ module: 'tcp', dport: { min: 0, max: 65535, invert: true } });
    expect(parseRuleLine('-A INPUT -p tcp --tcp-flags "" SYN').rule.matches[0]).toEqual({ module: 'tcp', tcpFlags: { mask: 0, comp: 2, invert: false } });
    expect(parseRuleLine('-A INPUT ! -i +').rule.inIface).toEqual({ name: '+', invert: true });
  });
  it('drops what is the same as absent', () => {
    expect(parseRuleLine('-A INPUT -s 1.2.3.4/0 -i + -p all').rule).toEqual({ matches: [], target: null });
    expect(parseRuleLine('-A INPUT -p tcp --dport 0:65535').rule.matches[0]).toEqual({ module: 'tcp' });
  });
  it('prints recent --seconds with %d, as iptables does (its output is then not re-readable)', () => {
    const r = parseRuleLine('-A INPUT -m recent --update --seconds 4294967295');
    expect(printRule(r.chain, r.rule)).toBe('-A INPUT -m recent --update --seconds -1 --name DEFAULT --mask 255.255.255.255 --rsource');
    expect(() => parseRuleLine(printRule(r.chain, r.rule))).toThrow(ParseError);
  });
  it('works with chain names that are Object.prototype keys', () => {
    for (const name of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const r = parseRuleLine(`-A ${name} -j ${name === '__proto__' ? 'constructor' : '__proto__'}`);
      expect(r.chain).toBe(name);
      expect(printRule(r.chain, r.rule)).toBe(`-A ${name} -j ${name === '__proto__' ? 'constructor' : '__proto__'}`);
    }
  });
  it('reports the 1-based column of the offending token', () => {
    try {
      parseRuleLine('-A INPUT -p tcp --dport 99999');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).column).toBe(25);
      expect((e as ParseError).line).toBe(1);
      expect((e as ParseError).message).toMatch(/^lbsim\/io\.iptables\.parseRuleLine: tcp: invalid port\/service "99999"/);
    }
  });
});
