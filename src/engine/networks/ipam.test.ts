import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POOLS, formatCidr, intToIp, ipToInt, macFor, nextFree, overlaps, parseCidr, pickSubnet } from './ipam.js';

test('CIDR parsing normalises the base and rejects garbage', () => {
  assert.equal(formatCidr(parseCidr('172.18.3.4/16')), '172.18.0.0/16');
  assert.throws(() => parseCidr('172.18.0.0'), /invalid CIDR/);
  assert.throws(() => parseCidr('300.1.1.1/8'), /invalid CIDR/);
  assert.equal(intToIp(ipToInt('10.0.255.1')), '10.0.255.1');
});

test('pickSubnet walks the pools past used subnets', () => {
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, [])), '172.17.0.0/16');
  assert.equal(formatCidr(pickSubnet(DEFAULT_POOLS, [parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24')])), '172.19.0.0/16');
  assert.equal(formatCidr(pickSubnet([{ base: '10.10.0.0/16', size: 24 }], [parseCidr('10.10.0.0/24')])), '10.10.1.0/24');
  assert.throws(() => pickSubnet([{ base: '10.10.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), /non-overlapping/);
});

test('nextFree skips network, broadcast and used addresses, honours ip-range, wraps around', () => {
  const s = parseCidr('192.168.7.0/29'); // .1 .. .6 usable
  const used = new Set([ipToInt('192.168.7.1')]);
  assert.equal(intToIp(nextFree(s, s, used)), '192.168.7.2');
  assert.equal(intToIp(nextFree(s, s, used, ipToInt('192.168.7.5'))), '192.168.7.6');
  assert.equal(intToIp(nextFree(s, s, used, ipToInt('192.168.7.6'))), '192.168.7.2');
  const full = new Set([1, 2, 3, 4, 5, 6].map((i) => ipToInt(`192.168.7.${i}`)));
  assert.throws(() => nextFree(s, s, full), /no available/);
  const sub = parseCidr('10.1.0.0/16');
  assert.equal(intToIp(nextFree(sub, parseCidr('10.1.5.0/24'), new Set())), '10.1.5.0');
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.1.0.0/16')));
  assert.ok(!overlaps(parseCidr('10.2.0.0/16'), parseCidr('10.1.0.0/16')));
});

test('MAC addresses derive from the IPv4 address like Docker', () => {
  assert.equal(macFor(ipToInt('172.17.0.2')), '02:42:ac:11:00:02');
});
