// The swarm CA over time on four test hosts (h1-h3 managers with etcd members, h4 a worker):
// certificates renewed before they expire (30-second certificates, allowed by the daemons' debug
// floor SHOAL_SWARM_MIN_CERT_EXPIRY_MS), root CA rotation with the docker CLI and with shoal and a
// root CA of our own, and Docker's backup/restore of a manager's swarm directory on another machine.
// Tests run in order and build on each other.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLab, type Host, type Lab } from './harness/hosts.js';
import { show, until } from './harness/checks.js';
import { tokenMatchesCA } from '../src/swarm/ca/join-token.js';

describe('swarm CA', () => {
  let lab: Lab;
  let h: Host[];
  let tmp: string;

  const sh = async (host: Host, args: string[], timeoutMs = 60_000): Promise<string> => {
    const r = await host.shoal(args, { timeoutMs });
    assert.equal(r.code, 0, `[${host.name}] shoal ${args.join(' ')}: ${show(r)}\n${host.logTail(20)}`);
    return r.stdout.trim();
  };
  const certDir = (x: Host) => path.join(x.dataRoot, 'swarm', 'certificates');
  const certFile = (x: Host) => path.join(certDir(x), 'swarm-node.crt');
  const rootFile = (x: Host) => path.join(certDir(x), 'swarm-root-ca.crt');
  /** notAfter of the node certificate (the leaf; the file may hold the cross-signed root after it) */
  const notAfter = (x: Host): number => Date.parse(execFileSync('openssl', ['x509', '-in', certFile(x), '-noout', '-enddate']).toString().trim().replace('notAfter=', ''));
  /** whether the leaf verifies against the root alone (no intermediates) */
  const verifies = (x: Host, root: string): boolean => {
    const leaf = fs.readFileSync(certFile(x), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/)![0];
    const f = path.join(tmp, 'root.pem');
    fs.writeFileSync(f, root);
    try { execFileSync('openssl', ['verify', '-CAfile', f], { input: leaf, stdio: 'pipe' }); return true; } catch { return false; }
  };
  const allReady = async (via: Host): Promise<boolean> => {
    const out = await sh(via, ['node', 'ls', '--format', '{{.Status}}']).catch(() => '');
    return out.split('\n').length === 4 && out.split('\n').every((l) => l === 'Ready');
  };
  /** etcd health over fresh TLS connections to every member, with h's current certificates */
  const etcdHealthy = async (x: Host): Promise<boolean> => {
    const d = certDir(x);
    const r = await lab.exec(['etcdctl', `--endpoints=${h.slice(0, 3).map((m) => `https://${m.addr}:2379`).join(',')}`, `--cacert=${d}/swarm-root-ca.crt`,
      `--cert=${d}/swarm-node.crt`, `--key=${d}/swarm-node.key`, '--command-timeout=3s', 'endpoint', 'health']);
    return r.code === 0 && (r.stdout + r.stderr).split('\n').filter((l) => / is healthy/.test(l)).length === 3;
  };
  const etcdStarts = (x: Host): number => (fs.readFileSync(path.join(x.dataRoot, 'swarm', 'etcd.log'), 'utf8').match(/shoal: starting/g) ?? []).length;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-ca-'));
    lab = await createLab({ hosts: 4 });
    h = lab.hosts;
    await Promise.all(h.map((x) => x.startDaemon([], { env: { SHOAL_SWARM_MIN_CERT_EXPIRY_MS: '10000' } })));
    await sh(h[0], ['swarm', 'init', '--advertise-addr', h[0].addr, '--cert-expiry', '30s']);
    const mt = await sh(h[0], ['swarm', 'join-token', '-q', 'manager']);
    const wt = await sh(h[0], ['swarm', 'join-token', '-q', 'worker']);
    await sh(h[1], ['swarm', 'join', '--token', mt, `${h[0].addr}:2377`]);
    await sh(h[2], ['swarm', 'join', '--token', mt, `${h[0].addr}:2377`]);
    await sh(h[3], ['swarm', 'join', '--token', wt, `${h[0].addr}:2377`]);
  });
  after(async () => {
    await lab?.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a certificate expiry below the floor with Docker\'s error', async () => {
    const r = await h[0].shoal(['swarm', 'update', '--cert-expiry', '5s']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 10000ms/);
  });

  it('renews every node\'s certificate before it expires; nodes and etcd members keep working on the new ones', async () => {
    const first = new Map(h.map((x) => [x.name, notAfter(x)]));
    for (const x of h) assert.ok(first.get(x.name)! - Date.now() < 31_000, `${x.name}: a 30 s certificate`);
    // every first certificate expires; by then each node holds a later one
    const lastExpiry = Math.max(...first.values());
    for (const x of h) await until(`${x.name} renewed`, async () => notAfter(x) > first.get(x.name)!, 40_000, x);
    await until('the first certificates expired', async () => Date.now() > lastExpiry + 2000, 40_000);
    for (const x of h) assert.ok(notAfter(x) > Date.now(), `${x.name}: the certificate in use is valid`);
    await until('all nodes Ready', () => allReady(h[1]), 20_000, h[1]);
    assert.equal(await etcdHealthy(h[2]), true, 'etcd members serve renewed certificates');
    // a manager's own store, through a restart of its daemon, on the renewed certificate
    await h[1].stopDaemon();
    await h[1].startDaemon([], { env: { SHOAL_SWARM_MIN_CERT_EXPIRY_MS: '10000' } });
    await until('h2 serves node ls after a restart', async () => (await h[1].shoal(['node', 'ls'])).code === 0, 30_000, h[1]);
  });

  it('docker swarm ca --rotate moves every node to a new root without losing quorum', async () => {
    const oldRoot = await sh(h[0], ['swarm', 'ca']);
    const oldToken = await sh(h[0], ['swarm', 'join-token', '-q', 'worker']);
    const starts = h.slice(0, 3).map(etcdStarts);
    // quorum watch: at every moment at least two managers answer
    let worst = 3;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const ok = await Promise.all(h.slice(0, 3).map((m) => m.api('GET', '/v1.41/nodes', { timeoutMs: 5000 }).then((r) => r.status === 200, () => false)));
        worst = Math.min(worst, ok.filter(Boolean).length);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const r = await h[0].docker(['swarm', 'ca', '--rotate'], { timeoutMs: 180_000 });
    watching = false;
    await watch;
    assert.equal(r.code, 0, show(r) + h[0].logTail(30));
    const newRoot = r.stdout.trim().match(/-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----$/)?.[0];
    assert.ok(newRoot && newRoot !== oldRoot, r.stdout);
    assert.ok(worst >= 2, `only ${worst} managers answered at some point`);
    assert.equal(await sh(h[2], ['swarm', 'ca']), newRoot);
    assert.equal(await sh(h[1], ['info', '--format', '{{.Swarm.Cluster.RootRotationInProgress}}']), 'false');
    for (const x of h) {
      assert.equal(fs.readFileSync(rootFile(x), 'utf8').trim(), newRoot, `${x.name} trusts the new root`);
      assert.equal(verifies(x, newRoot + '\n'), true, `${x.name} holds a certificate from the new root`);
      assert.equal(verifies(x, oldRoot + '\n'), false, `${x.name} no longer holds one from the old root`);
      assert.equal(await sh(h[0], ['node', 'inspect', '-f', '{{.Description.TLSInfo.TrustRoot}}', x.name]), newRoot);
    }
    // each etcd member restarted once to trust the new root, and they all serve
    assert.deepEqual(h.slice(0, 3).map(etcdStarts), starts.map((n) => n + 1));
    await until('etcd healthy on the new root', () => etcdHealthy(h[0]), 20_000);
    // the join tokens pin the new root now
    const token = await sh(h[0], ['swarm', 'join-token', '-q', 'worker']);
    assert.notEqual(token, oldToken);
    assert.equal(tokenMatchesCA(token, newRoot), true);
    await until('all nodes Ready', () => allReady(h[0]), 20_000, h[0]);
  });

  it('shoal swarm ca --rotate with our own root CA and --cert-expiry; -q prints nothing', async () => {
    const key = path.join(tmp, 'ca.key');
    const cert = path.join(tmp, 'ca.crt');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-subj', '/CN=our-ca', '-days', '3650', '-out', cert,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const ours = fs.readFileSync(cert, 'utf8').trim();
    // flags that need --rotate, and a certificate without its key, are refused like docker does
    const noRotate = await h[0].shoal(['swarm', 'ca', '--cert-expiry', '2160h']);
    assert.equal(noRotate.code, 1);
    assert.match(noRotate.stderr, /`--cert-expiry` flag requires the `--rotate` flag to update the CA/);
    const noKey = await h[0].shoal(['swarm', 'ca', '--rotate', '--ca-cert', cert]);
    assert.match(noKey.stderr, /the --ca-cert flag requires that a --ca-key flag and\/or --external-ca flag be provided as well/);
    const out = await sh(h[1], ['swarm', 'ca', '--rotate', '-q', '--ca-cert', cert, '--ca-key', key, '--cert-expiry', '2160h'], 180_000);
    assert.equal(out, '');
    assert.equal(await sh(h[0], ['swarm', 'ca']), ours);
    for (const x of h) {
      assert.equal(verifies(x, ours + '\n'), true, `${x.name} holds a certificate from our root`);
      assert.ok(notAfter(x) - Date.now() > 89 * 86_400_000, `${x.name}: a 90-day certificate`);
    }
    const sw = (await h[0].api('GET', '/v1.41/swarm')).json as any;
    assert.equal(sw.Spec.CAConfig.NodeCertExpiry, 2160 * 3600e9);
    assert.equal(sw.Spec.CAConfig.SigningCAKey, undefined, 'the CA key is never returned');
    await until('all nodes Ready', () => allReady(h[2]), 20_000, h[2]);
  });

  it('a backup of a manager\'s swarm directory, restored on another machine, brings the swarm back with --force-new-cluster', async () => {
    const r = await h[0].docker(['service', 'create', '--detach', '--no-resolve-image', '--name', 'keep', '--replicas', '0', 'busybox', 'sleep', '600']);
    assert.equal(r.code, 0, show(r));
    const backup = path.join(tmp, 'swarm-backup');
    // Docker's procedure: stop the daemon on a manager, copy the swarm directory, start it again
    await h[0].stopDaemon();
    fs.cpSync(path.join(h[0].dataRoot, 'swarm'), backup, { recursive: true, preserveTimestamps: true });
    await h[0].startDaemon([], { env: { SHOAL_SWARM_MIN_CERT_EXPIRY_MS: '10000' } });
    await until('h1 back', async () => (await h[0].shoal(['node', 'ls'])).code === 0, 30_000, h[0]);
    const h1Id = await sh(h[0], ['info', '--format', '{{.Swarm.NodeID}}']);
    // disaster: every manager is gone; h4 is cleared and gets the backup
    await Promise.all(h.slice(0, 3).map((m) => m.stopDaemon()));
    await sh(h[3], ['swarm', 'leave', '--force']);
    await h[3].stopDaemon();
    fs.rmSync(path.join(h[3].dataRoot, 'swarm'), { recursive: true, force: true });
    fs.cpSync(backup, path.join(h[3].dataRoot, 'swarm'), { recursive: true, preserveTimestamps: true });
    await h[3].startDaemon();
    const init = await sh(h[3], ['swarm', 'init', '--force-new-cluster', '--advertise-addr', h[3].addr]);
    assert.match(init, new RegExp(`current node \\(${h1Id}\\) is now a manager`));
    const want = `ready ${h[3].addr} ${h[3].addr}:2377 true`;
    await until('the restored manager leads at its new address', async () =>
      (await sh(h[3], ['node', 'inspect', '-f', '{{.Status.State}} {{.Status.Addr}} {{.ManagerStatus.Addr}} {{.ManagerStatus.Leader}}', 'self'])) === want, 20_000, h[3]);
    assert.equal((await sh(h[3], ['node', 'ls', '-q'])).split('\n').length, 4, 'the nodes are known');
    assert.equal(await sh(h[3], ['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']), 'keep 0/0');
    // the restored swarm takes a new manager (its etcd member joins through the new address)
    fs.rmSync(path.join(h[1].dataRoot, 'swarm'), { recursive: true, force: true });
    await h[1].startDaemon();
    const mt = await sh(h[3], ['swarm', 'join-token', '-q', 'manager']);
    assert.equal(await sh(h[1], ['swarm', 'join', '--token', mt, `${h[3].addr}:2377`]), 'This node joined a swarm as a manager.');
    await until('the new manager serves node ls', async () => (await h[1].shoal(['node', 'ls'])).code === 0, 30_000, h[1]);
    assert.equal(await sh(h[1], ['service', 'inspect', '-f', '{{.Spec.Name}}', 'keep']), 'keep');
  });
});
