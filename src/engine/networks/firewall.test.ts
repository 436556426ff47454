import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRuleset } from './firewall.js';

const br = (ifname: string, subnet: string, extra: Partial<{ internal: boolean; masquerade: boolean; dns: boolean; icc: boolean }> = {}) =>
  ({ ifname, subnet, gateway: subnet.replace(/0\/\d+$/, '1'), internal: false, masquerade: true, dns: false, ...extra });

test('the ruleset replaces the whole table in one transaction', () => {
  const text = buildRuleset([], []);
  assert.match(text, /^table ip shoal\ndelete table ip shoal\ntable ip shoal \{/);
});

test('published ports DNAT from outside and from the host itself', () => {
  const text = buildRuleset([br('shoal0', '172.17.0.0/16')], [
    { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 },
    { proto: 'udp', hostIp: '10.0.0.5', hostPort: 53, containerIp: '172.17.0.3', containerPort: 5353 },
  ]);
  assert.match(text, /chain prerouting \{[^}]*fib daddr type local jump published/);
  assert.match(text, /chain output \{[^}]*fib daddr type local jump published/);
  assert.match(text, /^\s+tcp dport 8080 dnat to 172\.17\.0\.2:80$/m);
  assert.match(text, /^\s+ip daddr 10\.0\.0\.5 udp dport 53 dnat to 172\.17\.0\.3:5353$/m);
  assert.match(text, /oifname "shoal0" ip saddr 127\.0\.0\.0\/8 masquerade/);
  assert.match(text, /oifname != "shoal0" ip saddr 172\.17\.0\.0\/16 masquerade/);
});

test('bridges are isolated from each other; internal ones have no way out and no NAT', () => {
  const text = buildRuleset([br('br-a', '10.1.0.0/24'), br('br-b', '10.2.0.0/24'), br('br-i', '10.3.0.0/24', { internal: true, dns: true })], []);
  assert.match(text, /iifname "br-a" oifname \{ "br-b", "br-i" \} drop/);
  assert.match(text, /iifname "br-i" oifname != "br-i" drop/);
  assert.match(text, /oifname "br-i" iifname != "br-i" drop/);
  assert.doesNotMatch(text, /oifname != "br-i" ip saddr 10\.3\.0\.0\/24 masquerade/);
  // the embedded DNS on the gateway is never captured by a published port 53
  assert.match(text, /iifname "br-i" ip daddr 10\.3\.0\.1 meta l4proto \{ tcp, udp \} th dport 53 accept/);
});

test('enable_icc=false: nothing between containers of the bridge, the way out stays', () => {
  const text = buildRuleset([br('docker_gwbridge', '172.18.0.0/16', { icc: false, dns: true }), br('shoal0', '172.17.0.0/16')], []);
  assert.match(text, /iifname "docker_gwbridge" oifname "docker_gwbridge" drop/);
  assert.doesNotMatch(text, /iifname "shoal0" oifname "shoal0" drop/);
  assert.match(text, /oifname != "docker_gwbridge" ip saddr 172\.18\.0\.0\/16 masquerade/);
});
