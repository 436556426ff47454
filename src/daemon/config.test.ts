import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseBoolFlag, parseDaemonArgs } from './config.js';

const env = { DOCKER_CERT_PATH: '/certs' };

test('TLS is off by default; certificate paths default to $DOCKER_CERT_PATH, $DOCKER_CONFIG or ~/.docker', () => {
  const c = parseDaemonArgs([], env);
  assert.deepEqual([c.tls, c.tlsVerify, c.tlsCaCert, c.tlsCert, c.tlsKey], [false, false, '/certs/ca.pem', '/certs/cert.pem', '/certs/key.pem']);
  assert.deepEqual(c.hosts, ['unix:///run/shoal/shoal.sock']);
  assert.equal(parseDaemonArgs([], { DOCKER_CONFIG: '/cfg' }).tlsCaCert, '/cfg/ca.pem');
  assert.match(parseDaemonArgs([], {}).tlsKey, /\/\.docker\/key\.pem$/);
});

test('--tls, --tlsverify (implies --tls, even =false) and the file flags', () => {
  const tls = parseDaemonArgs(['--tls', '-H', 'tcp://0.0.0.0:2376', '--tlscert', '/s/c.pem', '--tlskey', '/s/k.pem'], env);
  assert.deepEqual([tls.tls, tls.tlsVerify, tls.tlsCert, tls.tlsKey, tls.hosts], [true, false, '/s/c.pem', '/s/k.pem', ['tcp://0.0.0.0:2376']]);
  const v = parseDaemonArgs(['--tlsverify', '--tlscacert', '/s/ca.pem'], env);
  assert.deepEqual([v.tls, v.tlsVerify, v.tlsCaCert], [true, true, '/s/ca.pem']);
  // as dockerd: TLS with no -H listens on tcp://localhost:2376
  assert.deepEqual(v.hosts, ['tcp://localhost:2376']);
  const off = parseDaemonArgs(['--tlsverify=false'], env);
  assert.deepEqual([off.tls, off.tlsVerify], [true, false]);
  assert.deepEqual([parseDaemonArgs(['--tls=false'], env).tls, parseDaemonArgs(['--tls=1'], env).tls], [false, true]);
});

test('bool flag values as Go reads them', () => {
  assert.deepEqual(['1', 't', 'TRUE', 'True', '0', 'f', 'false'].map(parseBoolFlag), [true, true, true, true, false, false, false]);
  assert.throws(() => parseBoolFlag('maybe'), /strconv\.ParseBool: parsing "maybe": invalid syntax/);
});

test('daemon.json tls keys; flags win', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-config-test-'));
  try {
    const f = path.join(dir, 'daemon.json');
    writeFileSync(f, JSON.stringify({ hosts: ['tcp://10.0.0.1:2376'], tls: true, tlsverify: true, tlscacert: '/f/ca.pem', tlscert: '/f/cert.pem', tlskey: '/f/key.pem' }));
    const c = parseDaemonArgs(['--config-file', f], env);
    assert.deepEqual([c.tls, c.tlsVerify, c.tlsCaCert, c.tlsCert, c.tlsKey, c.hosts], [true, true, '/f/ca.pem', '/f/cert.pem', '/f/key.pem', ['tcp://10.0.0.1:2376']]);
    const o = parseDaemonArgs(['--config-file', f, '--tlsverify=false', '--tlskey', '/o/key.pem'], env);
    assert.deepEqual([o.tls, o.tlsVerify, o.tlsKey], [true, false, '/o/key.pem']);
    writeFileSync(f, JSON.stringify({ tlsverify: false }));
    assert.deepEqual([parseDaemonArgs(['--config-file', f], env).tls, parseDaemonArgs(['--config-file', f], env).tlsVerify], [true, false]);
    writeFileSync(f, JSON.stringify({ tls: 'yes' }));
    assert.throws(() => parseDaemonArgs(['--config-file', f], env), /tls must be a boolean/);
    writeFileSync(f, JSON.stringify({ tlscacert: 3 }));
    assert.throws(() => parseDaemonArgs(['--config-file', f], env), /tlscacert must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
