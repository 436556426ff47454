// shoald serving the Engine API over TLS on TCP (--tlsverify: mutual TLS), reached by the real docker
// CLI and the shoal CLI from the lab namespace: version, run, a client without a certificate (or with
// one from another CA) refused, plain HTTP refused, hijacked streams (run -i, exec -i) over TLS,
// the unix socket unaffected, and bad TLS configuration stopping the daemon at startup.
// Certificates are made here with the openssl command-line tool.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dockerBinary, repoRoot, useLab, type Host } from './harness/hosts.js';
import { importBusybox } from './harness/busybox.js';
import { runOk, type RunResult } from './harness/run.js';
import { show } from './harness/checks.js';

const T = { timeout: 90_000 };
const PORT = 2376;

/** A CA and a certificate it signs (EC P-256), written into dir as <name>.pem / <name>-key.pem. */
async function makeCa(dir: string, name: string): Promise<void> {
  await runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, `${name}-key.pem`), '-out', path.join(dir, `${name}.pem`), '-days', '2', '-subj', `/CN=${name}`]);
}

async function issue(dir: string, ca: string, name: string, ext: string): Promise<void> {
  const p = (s: string) => path.join(dir, s);
  await runOk('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', p(`${name}-key.pem`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`]);
  fs.writeFileSync(p(`${name}.ext`), ext);
  await runOk('openssl', ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${ca}.pem`), '-CAkey', p(`${ca}-key.pem`),
    '-CAcreateserial', '-days', '2', '-out', p(`${name}.pem`), '-extfile', p(`${name}.ext`)]);
}

describe('the Engine API over TLS', () => {
  const env = useLab({ hosts: 1 });
  const h = (): Host => env.host(1);
  let dir = '';
  const f = (n: string) => path.join(dir, n);
  let tcpHost = '';

  before(async () => {
    dir = path.join(env.lab.dir, 'tls'); // removed with the lab
    fs.mkdirSync(dir);
    await makeCa(dir, 'ca');
    await issue(dir, 'ca', 'server', `subjectAltName=IP:${h().addr},IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n`);
    await issue(dir, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
    await makeCa(dir, 'rogue-ca');
    await issue(dir, 'rogue-ca', 'rogue', 'extendedKeyUsage=clientAuth\n');
    // DOCKER_CERT_PATH layouts: a client's full set, and a CA without a client certificate
    for (const [d, files] of [['client-dir', { 'ca.pem': 'ca.pem', 'cert.pem': 'client.pem', 'key.pem': 'client-key.pem' }], ['anon-dir', { 'ca.pem': 'ca.pem' }]] as const) {
      fs.mkdirSync(f(d));
      for (const [to, from] of Object.entries(files)) fs.copyFileSync(f(from), path.join(f(d), to));
    }
    fs.mkdirSync(f('docker-config'));
    tcpHost = `tcp://${h().addr}:${PORT}`;
    await h().startDaemon(['-H', tcpHost, '--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')]);
    await importBusybox(h()); // over the unix socket, which stays plain
  });

  /** A client program in the lab namespace (10.213.0.2): it reaches the daemon only over TCP. */
  const client = (cmd: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> =>
    env.lab.exec(cmd, {
      input: opts.input, timeoutMs: 60_000,
      env: {
        DOCKER_CONFIG: f('docker-config'), DOCKER_CLI_HINTS: 'false', DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined,
        DOCKER_TLS_VERIFY: undefined, DOCKER_CERT_PATH: undefined, DOCKER_TLS: undefined, SHOAL_HOST: undefined, ...opts.env,
      },
    });
  const docker = (args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => client([dockerBinary(), ...args], opts);
  const shoal = (args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => client([path.join(repoRoot(), 'bin', 'shoal'), ...args], opts);
  const dockerTls = () => ['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('client.pem'), '--tlskey', f('client-key.pem'), '-H', tcpHost];
  const certEnv = () => ({ DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: f('client-dir') });

  it('the docker CLI with --tlsverify and a client certificate: version, run', T, async () => {
    const v = await docker([...dockerTls(), 'version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
    assert.equal(v.code, 0, show(v));
    assert.match(v.stdout.trim(), /^1\.\d+ linux$/);
    const r = await docker([...dockerTls(), 'run', '--rm', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hi\n');
  });

  it('the shoal CLI with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: version, run; the flags work too', T, async () => {
    const v = await shoal(['-H', tcpHost, 'version', '--format', '{{.Server.Os}}'], { env: certEnv() });
    assert.equal(v.code, 0, show(v));
    assert.equal(v.stdout.trim(), 'linux');
    const r = await shoal(['-H', tcpHost, 'run', '--rm', 'busybox', 'echo', 'hi'], { env: certEnv() });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'hi\n');
    const flags = await shoal([...dockerTls(), 'ps', '-a', '-q']);
    assert.equal(flags.code, 0, show(flags));
    // DOCKER_HOST from the environment, as the docker CLI reads it
    const envHost = await shoal(['info', '--format', '{{.OSType}}'], { env: { ...certEnv(), DOCKER_HOST: tcpHost } });
    assert.equal(envHost.stdout.trim(), 'linux', show(envHost));
  });

  it('clients without a certificate from the CA are refused; plain HTTP to the TLS port fails', T, async () => {
    for (const [who, r] of [
      ['docker, no client certificate', await docker(['--tlsverify', '--tlscacert', f('ca.pem'), '-H', tcpHost, 'version', '--format', '{{.Server.Os}}'])],
      ['shoal, no client certificate', await shoal(['-H', tcpHost, 'version', '--format', '{{.Server.Os}}'], { env: { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: f('anon-dir') } })],
      ['docker, certificate of another CA', await docker(['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('rogue.pem'), '--tlskey', f('rogue-key.pem'), '-H', tcpHost, 'ps'])],
      ['shoal, certificate of another CA', await shoal(['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('rogue.pem'), '--tlskey', f('rogue-key.pem'), '-H', tcpHost, 'ps'])],
    ] as const) {
      assert.notEqual(r.code, 0, `${who}: ${show(r)}`);
      assert.doesNotMatch(r.stdout, /linux|CONTAINER ID/, `${who}: ${show(r)}`);
    }
    // a daemon certificate the client does not trust
    const untrusted = await shoal(['--tlsverify', '--tlscacert', f('rogue-ca.pem'), '--tlscert', f('client.pem'), '--tlskey', f('client-key.pem'), '-H', tcpHost, 'ps']);
    assert.notEqual(untrusted.code, 0, show(untrusted));
    assert.match(untrusted.stderr, /error during connect/);
    // plain HTTP: Go's answer, which both CLIs show as the daemon's error
    for (const r of [await docker(['-H', tcpHost, 'ps']), await shoal(['-H', tcpHost, 'ps'])]) {
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /Client sent an HTTP request to an HTTPS server\./);
    }
  });

  it('hijacked streams over TLS: run -i and exec -i with stdin piped echo it back', T, async () => {
    const input = 'over tls\nline two\n';
    const sr = await shoal(['-H', tcpHost, 'run', '--rm', '-i', 'busybox', 'cat'], { env: certEnv(), input });
    assert.equal(sr.code, 0, show(sr));
    assert.equal(sr.stdout, input);
    const dr = await docker([...dockerTls(), 'run', '--rm', '-i', 'busybox', 'cat'], { input });
    assert.equal(dr.code, 0, show(dr));
    assert.equal(dr.stdout, input);
    const started = await docker([...dockerTls(), 'run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '300']);
    assert.equal(started.code, 0, show(started));
    const se = await shoal(['-H', tcpHost, 'exec', '-i', 'sleeper', 'cat'], { env: certEnv(), input });
    assert.equal(se.code, 0, show(se));
    assert.equal(se.stdout, input);
    const de = await docker([...dockerTls(), 'exec', '-i', 'sleeper', 'sh', '-c', 'cat; exit 3'], { input });
    assert.equal(de.code, 3, show(de));
    assert.equal(de.stdout, input);
    const rm = await docker([...dockerTls(), 'rm', '-f', 'sleeper']);
    assert.equal(rm.code, 0, show(rm));
  });

  it('the unix socket stays plain HTTP', T, async () => {
    const r = await h().shoal(['version', '--format', '{{.Server.Os}}']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), 'linux');
  });

  it('bad TLS configuration stops shoald at startup with a clear error', T, async () => {
    const bad = path.join(h().dir, 'bad');
    const start = (args: string[]) => h().exec([path.join(repoRoot(), 'bin', 'shoald'), '--data-root', `${bad}/root`, '--exec-root', `${bad}/exec`,
      '--pidfile', `${bad}/shoald.pid`, '-H', `tcp://${h().addr}:${PORT + 1}`, ...args], { timeoutMs: 30_000 });
    const cases: Array<[string[], RegExp]> = [
      [['--tlsverify', '--tlscacert', f('nope.pem'), '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')],
        /^shoald: invalid TLS configuration: could not read CA certificate ".*nope\.pem": open .*nope\.pem: no such file or directory$/],
      [['--tls', '--tlscert', f('missing.pem'), '--tlskey', f('server-key.pem')],
        /^shoald: invalid TLS configuration: Could not load X509 key pair \(cert: ".*missing\.pem", key: ".*server-key\.pem"\): open .*missing\.pem: no such file or directory$/],
      [['--tlsverify', '--tlscacert', '', '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')],
        /^shoald: invalid TLS configuration: --tlsverify needs the CA that signs client certificates \(--tlscacert\)$/],
      [['--tls', '--tlscert', f('server.pem'), '--tlskey', f('client-key.pem')],
        /^shoald: invalid TLS configuration: Error reading X509 key pair .*private key does not match public key/],
    ];
    for (const [args, want] of cases) {
      const r = await start(args);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr.trim(), want);
    }
    assert.equal(fs.existsSync(bad), false, 'nothing was created');
  });
});
