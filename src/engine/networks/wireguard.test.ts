import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTunnelKey } from '../../swarm/node/tunnel-key.js';
import { ENCRYPTED_OVERLAY_MTU, isEncrypted, TUNNEL_MTU, wgConfig } from './wireguard.js';

test('-o encrypted: the option present (any value) encrypts, like Docker', () => {
  assert.equal(isEncrypted({ encrypted: '' }), true);
  assert.equal(isEncrypted({ encrypted: 'true' }), true);
  assert.equal(isEncrypted({ 'com.docker.network.driver.overlay.vxlanid_list': '4097' }), false);
  assert.equal(isEncrypted(undefined), false);
});

test('MTU: 60 bytes of WireGuard over IPv4, then 50 of VXLAN', () => {
  assert.equal(TUNNEL_MTU, 1440);
  assert.equal(ENCRYPTED_OVERLAY_MTU, 1390);
});

test('wg syncconf text: keys, endpoints and addresses checked before another program parses them', () => {
  const me = newTunnelKey(0);
  const peer = newTunnelKey(3);
  const text = wgConfig({ address: '169.254.16.1', privateKey: me.privateKey, listenPort: 51820, peers: [{ publicKey: peer.publicKey, endpoint: '10.213.0.12:51820', address: '169.254.16.2' }] });
  assert.equal(text, `[Interface]\nPrivateKey = ${me.privateKey}\nListenPort = 51820\n\n[Peer]\nPublicKey = ${peer.publicKey}\nEndpoint = 10.213.0.12:51820\nAllowedIPs = 169.254.16.2/32\n`);
  assert.throws(() => wgConfig({ address: '169.254.16.1', privateKey: 'x\n[Peer]', listenPort: 1, peers: [] }), /invalid key/);
  assert.throws(() => wgConfig({ address: '169.254.16.1', privateKey: me.privateKey, listenPort: 1, peers: [{ publicKey: peer.publicKey, endpoint: 'h:1\nx', address: '169.254.16.2' }] }), /invalid endpoint/);
  assert.throws(() => wgConfig({ address: '169.254.16.1', privateKey: me.privateKey, listenPort: 1, peers: [{ publicKey: peer.publicKey, endpoint: '10.0.0.1:1', address: '1.2.3.4/0' }] }));
});

test('key pairs: 32-byte X25519 keys in base64, a new pair each time', () => {
  const k = newTunnelKey(1);
  assert.equal(Buffer.from(k.privateKey, 'base64').length, 32);
  assert.equal(Buffer.from(k.publicKey, 'base64').length, 32);
  assert.notEqual(newTunnelKey(1).publicKey, k.publicKey);
});
