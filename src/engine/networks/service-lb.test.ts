import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIngressRuleset, buildVipRuleset, dnatTarget } from './service-lb.js';

test('dnatTarget: one backend is a plain address, several a numgen map; ports appended; duplicates merged', () => {
  assert.equal(dnatTarget(['10.0.1.5'], 'inc'), '10.0.1.5');
  assert.equal(dnatTarget(['10.0.1.5', '10.0.1.5'], 'inc', 80), '10.0.1.5:80');
  assert.equal(dnatTarget(['10.0.1.5', '10.0.1.6', '10.0.1.7'], 'inc'), 'numgen inc mod 3 map { 0 : 10.0.1.5, 1 : 10.0.1.6, 2 : 10.0.1.7 }');
  assert.equal(dnatTarget(['10.0.1.5', '10.0.1.6'], 'random', 8080), 'numgen random mod 2 map { 0 : 10.0.1.5, 1 : 10.0.1.6 }:8080');
  assert.throws(() => dnatTarget([], 'inc'), /no backends/);
  assert.throws(() => dnatTarget(['10.0.1.500'], 'inc'), /invalid IP/);
  assert.throws(() => dnatTarget(['10.0.1.5'], 'inc', 70000), /invalid port/);
});

test('VIP table: every port or listed ports DNATed in output; everything else to the VIP rejected; atomic replace', () => {
  const text = buildVipRuleset([
    { name: 'web', vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6', '10.0.1.7'] },
    { name: 'db', vip: '10.0.1.3', backends: ['10.0.1.9'], ports: [{ proto: 'tcp', port: 5432 }, { proto: 'udp', port: 53 }] },
    { vip: '10.0.1.4', backends: [] },
  ]);
  assert.equal(text, `table ip shoal-lb
delete table ip shoal-lb
table ip shoal-lb {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr 10.0.1.2 meta l4proto { tcp, udp, sctp } dnat to numgen inc mod 3 map { 0 : 10.0.1.5, 1 : 10.0.1.6, 2 : 10.0.1.7 } comment "web"
    ip daddr 10.0.1.3 tcp dport 5432 dnat to 10.0.1.9 comment "db"
    ip daddr 10.0.1.3 udp dport 53 dnat to 10.0.1.9 comment "db"
  }
  chain unserved {
    type filter hook output priority filter; policy accept;
    ip daddr 10.0.1.2 meta l4proto tcp reject with tcp reset comment "web"
    ip daddr 10.0.1.2 meta l4proto { udp, sctp } reject comment "web"
    ip daddr 10.0.1.3 meta l4proto tcp reject with tcp reset comment "db"
    ip daddr 10.0.1.3 meta l4proto { udp, sctp } reject comment "db"
    ip daddr 10.0.1.4 meta l4proto tcp reject with tcp reset
    ip daddr 10.0.1.4 meta l4proto { udp, sctp } reject
  }
}
`);
  assert.match(buildVipRuleset([{ vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6'] }], { mode: 'random' }), /numgen random mod 2/);
  assert.match(buildVipRuleset([]), /chain output \{\n {4}type nat hook output priority -100; policy accept;\n {2}\}/);
  assert.throws(() => buildVipRuleset([{ vip: '10.0.1.2', backends: [] }, { vip: '10.0.1.2', backends: [] }]), /given twice/);
  assert.throws(() => buildVipRuleset([{ vip: '10.0.1.2', backends: ['10.0.1.5'], ports: [{ proto: 'icmp' as 'tcp', port: 1 }] }]), /invalid protocol/);
  // names cannot break out of the comment string
  assert.match(buildVipRuleset([{ name: 'a"; flush ruleset; "', vip: '10.0.1.2', backends: ['10.0.1.5'] }]), /comment "a; flush ruleset; "/);
});

test('ingress table: published ports on local addresses DNATed to all tasks and SNATed to the node; preserve mode; empty rejects', () => {
  const text = buildIngressRuleset({
    bridge: 'ov-ingress',
    nodeIp: '10.0.0.2',
    ports: [
      { name: 'web', proto: 'tcp', publishedPort: 8080, targetPort: 80, backends: ['10.0.0.5', '10.0.0.6', '10.0.0.7'] },
      { proto: 'udp', publishedPort: 5353, targetPort: 53, backends: ['10.0.0.8'] },
      { proto: 'tcp', publishedPort: 8443, targetPort: 443, backends: ['10.0.0.5'], preserveClientIp: true },
      { proto: 'tcp', publishedPort: 9000, targetPort: 9000, backends: [] },
      { proto: 'udp', publishedPort: 9000, targetPort: 9000, backends: [] },
    ],
  });
  assert.equal(text, `table ip shoal-ingress
delete table ip shoal-ingress
table ip shoal-ingress {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    fib daddr type local jump published
  }
  chain output {
    type nat hook output priority -100; policy accept;
    fib daddr type local jump published
  }
  chain published {
    tcp dport 8080 dnat to numgen inc mod 3 map { 0 : 10.0.0.5, 1 : 10.0.0.6, 2 : 10.0.0.7 }:80 comment "web"
    udp dport 5353 dnat to 10.0.0.8:53
    tcp dport 8443 dnat to 10.0.0.5:443
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "ov-ingress" ct status dnat meta l4proto tcp ct original proto-dst 8080 snat to 10.0.0.2 comment "web"
    oifname "ov-ingress" ct status dnat meta l4proto udp ct original proto-dst 5353 snat to 10.0.0.2
  }
  chain input {
    type filter hook input priority filter; policy accept;
    tcp dport 9000 reject with tcp reset
    udp dport 9000 reject
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "ov-ingress" oifname "ov-ingress" accept
    oifname "ov-ingress" ct status dnat accept
    oifname "ov-ingress" ct state established,related accept
    oifname "ov-ingress" drop
  }
}
`);
  assert.throws(() => buildIngressRuleset({ bridge: 'ov-ingress', nodeIp: '10.0.0.2', ports: [
    { proto: 'tcp', publishedPort: 80, targetPort: 80, backends: [] }, { proto: 'tcp', publishedPort: 80, targetPort: 81, backends: [] },
  ] }), /published twice/);
  assert.throws(() => buildIngressRuleset({ bridge: 'bad name"', nodeIp: '10.0.0.2', ports: [] }), /invalid interface name/);
  assert.throws(() => buildIngressRuleset({ bridge: 'ov-i', nodeIp: '10.0.0.2', ports: [{ proto: 'tcp', publishedPort: 0, targetPort: 80, backends: ['10.0.0.5'] }] }), /invalid port/);
});
