// Swarm mode on five test hosts (3 managers + 2 workers): init and join with both tokens, wrong
// and rotated tokens refused, node ls from every manager (and the real docker CLI), certificates,
// node updates, leader failover, quorum loss and recovery, promote/demote, leave.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createLab, type Host, type Lab } from './harness/hosts.js';
import { until } from './harness/checks.js';

describe('swarm', () => {
  let lab: Lab;
  let h: Host[];
  const ids = new Map<string, string>();

  const sh = async (host: Host, args: string[], expectCode = 0): Promise<string> => {
    const r = await host.shoal(args, { timeoutMs: 60_000 });
    assert.equal(r.code, expectCode, `[${host.name}] shoal ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  const token = (role: 'worker' | 'manager', via = h[0]) => sh(via, ['swarm', 'join-token', '-q', role]);
  /** node ls rows keyed by hostname: [status, availability, manager status] */
  const nodeRows = async (host: Host): Promise<Map<string, string[]>> => {
    const out = await sh(host, ['node', 'ls', '--format', '{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}']);
    return new Map(out.split('\n').map((l) => { const [name, ...rest] = l.split('|'); return [name, rest]; }));
  };

  before(async () => {
    lab = await createLab({ hosts: 5 });
    h = lab.hosts;
    await Promise.all(h.map((x) => x.startDaemon()));
  });
  after(async () => { await lab?.destroy(); });

  it('init prints the worker join command; managers and workers join with their tokens', async () => {
    const init = await sh(h[0], ['swarm', 'init', '--advertise-addr', h[0].addr, '--default-addr-pool', '10.20.0.0/16', '--default-addr-pool-mask-length', '26']);
    const m = /^Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager\.$/m.exec(init);
    assert.ok(m, init);
    ids.set('h1', m[1]);
    assert.match(init, new RegExp(`^    shoal swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} ${h[0].addr.replace(/\./g, '\\.')}:2377$`, 'm'));
    assert.match(init, /To add a manager to this swarm, run 'shoal swarm join-token manager' and follow the instructions\./);
    const mt = await token('manager');
    const wt = await token('worker');
    assert.notEqual(mt, wt);
    assert.equal(await sh(h[1], ['swarm', 'join', '--token', mt, `${h[0].addr}:2377`]), 'This node joined a swarm as a manager.');
    assert.equal(await sh(h[2], ['swarm', 'join', '--token', mt, `${h[0].addr}:2377`]), 'This node joined a swarm as a manager.');
    assert.equal(await sh(h[3], ['swarm', 'join', '--token', wt, `${h[0].addr}:2377`]), 'This node joined a swarm as a worker.');
    const again = await h[3].shoal(['swarm', 'join', '--token', wt, `${h[0].addr}:2377`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /This node is already part of a swarm/);
  });

  it('overlay subnets come from the --default-addr-pool given at init, in /26s', async () => {
    assert.equal(await sh(h[0], ['info', '--format', '{{.Swarm.Cluster.DefaultAddrPool}} {{.Swarm.Cluster.SubnetSize}}']), '[10.20.0.0/16] 26');
    assert.equal(await sh(h[0], ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'ingress']), '10.20.0.0/26');
    await sh(h[0], ['network', 'create', '-d', 'overlay', 'pooled']);
    assert.equal(await sh(h[0], ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'pooled']), '10.20.0.64/26');
    await sh(h[0], ['network', 'rm', 'pooled']);
  });

  it('refuses malformed, foreign and rotated tokens', async () => {
    const bad = await h[4].shoal(['swarm', 'join', '--token', 'SWMTKN-1-nope', `${h[0].addr}:2377`]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid join token/);
    const wt = await token('worker');
    const wrongSecret = wt.replace(/-[0-9a-z]{25}$/, '-' + '0'.repeat(25));
    const r1 = await h[4].shoal(['swarm', 'join', '--token', wrongSecret, `${h[0].addr}:2377`]);
    assert.match(r1.stderr, /A valid join token is necessary to join this cluster/);
    const foreignCa = `SWMTKN-1-${'1'.repeat(50)}-${wt.slice(-25)}`;
    const r2 = await h[4].shoal(['swarm', 'join', '--token', foreignCa, `${h[0].addr}:2377`]);
    assert.match(r2.stderr, /remote CA does not match fingerprint/);
    const rotated = await sh(h[1], ['swarm', 'join-token', '--rotate', 'worker']);
    assert.match(rotated, /^Successfully rotated worker join token\./);
    const r3 = await h[4].shoal(['swarm', 'join', '--token', wt, `${h[0].addr}:2377`]);
    assert.match(r3.stderr, /A valid join token is necessary/);
    assert.equal(await sh(h[4], ['swarm', 'join', '--token', await token('worker', h[2]), `${h[1].addr}:2377`]), 'This node joined a swarm as a worker.');
    assert.equal((await sh(h[4], ['info', '--format', '{{.Swarm.LocalNodeState}}'])), 'active');
  });

  it('node ls works from every manager, marks self and the leader; workers are refused', async () => {
    for (const m of h.slice(0, 3)) {
      const out = await sh(m, ['node', 'ls']);
      const lines = out.split('\n');
      assert.match(lines[0], /^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/);
      assert.equal(lines.length, 6, out);
      assert.match(out, new RegExp(`^[0-9a-z]{25} \\*\\s+${m.name}\\s`, 'm'));
      const rows = await nodeRows(m);
      assert.deepEqual(rows.get('h1'), ['Ready', 'Active', 'Leader']);
      assert.deepEqual(rows.get('h2'), ['Ready', 'Active', 'Reachable']);
      assert.deepEqual(rows.get('h4'), ['Ready', 'Active', '']);
    }
    const w = await h[3].shoal(['node', 'ls']);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state/);
    const viaDocker = await h[1].docker(['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}']);
    assert.equal(viaDocker.code, 0, viaDocker.stderr);
    assert.match(viaDocker.stdout, /^h1 Ready Leader$/m);
    assert.match(viaDocker.stdout, /^h5 Ready $/m);
  });

  it('issues node certificates with the swarm subject and a 90-day life', async () => {
    const file = path.join(h[3].dataRoot, 'swarm', 'certificates', 'swarm-node.crt');
    const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-enddate']).toString();
    const nodeId = await sh(h[3], ['info', '--format', '{{.Swarm.NodeID}}']);
    const clusterId = await sh(h[0], ['info', '--format', '{{.Swarm.Cluster.ID}}']);
    assert.match(text, new RegExp(`O ?= ?${clusterId}`));
    assert.match(text, /OU ?= ?swarm-worker/);
    assert.match(text, new RegExp(`CN ?= ?${nodeId}`));
    const end = Date.parse(/notAfter=(.*)/.exec(text)![1]);
    const days = (end - Date.now()) / 86_400_000;
    assert.ok(days > 89 && days < 91, `expires in ${days} days`);
    const ca = await sh(h[1], ['swarm', 'ca']);
    assert.equal(ca, (await h[3].execOk(['cat', path.join(h[3].dataRoot, 'swarm', 'certificates', 'swarm-root-ca.crt')])).trim());
    const mgr = execFileSync('openssl', ['x509', '-in', path.join(h[1].dataRoot, 'swarm', 'certificates', 'swarm-node.crt'), '-noout', '-subject']).toString();
    assert.match(mgr, /OU ?= ?swarm-manager/);
  });

  it('the cluster store refuses a worker certificate and serves a manager one', async () => {
    const etcdctl = (host: Host) => {
      const d = path.join(host.dataRoot, 'swarm', 'certificates');
      return lab.exec(['etcdctl', `--endpoints=https://${h[0].addr}:2379`, `--cacert=${d}/swarm-root-ca.crt`, `--cert=${d}/swarm-node.crt`,
        `--key=${d}/swarm-node.key`, '--command-timeout=3s', 'get', '--prefix', '--keys-only', '/shoal/nodes/']);
    };
    const worker = await etcdctl(h[3]);
    assert.notEqual(worker.code, 0);
    assert.match(worker.stderr, /user name not found|permission denied|authentication failed/i);
    const manager = await etcdctl(h[1]);
    assert.equal(manager.code, 0, manager.stderr);
    assert.equal(manager.stdout.trim().split('\n').filter(Boolean).length, 5);
  });

  it('node update: availability and labels show in inspect', async () => {
    await sh(h[0], ['node', 'update', '--availability', 'drain', '--label-add', 'zone=a', '--label-add', 'ssd', 'h4']);
    await sh(h[1], ['node', 'update', '--availability', 'pause', 'h5']);
    assert.equal(await sh(h[2], ['node', 'inspect', '-f', '{{.Spec.Availability}} {{index .Spec.Labels "zone"}}', 'h4']), 'drain a');
    assert.match(await sh(h[0], ['node', 'inspect', '--pretty', 'h5']), /Availability:\s+Pause/);
    await sh(h[0], ['node', 'update', '--availability', 'active', '--label-rm', 'zone', 'h4']);
    assert.equal(await sh(h[0], ['node', 'inspect', '-f', '{{.Spec.Availability}} {{len .Spec.Labels}}', 'h4']), 'active 1');
    assert.equal((await nodeRows(h[0])).get('h5')?.[1], 'Pause');
  });

  it('elects a new leader when the leader stops; the old one comes back as Reachable', async () => {
    await h[0].stopDaemon();
    const t0 = Date.now();
    const leader = await until('a new leader', async () => {
      const rows = await nodeRows(h[1]).catch(() => undefined);
      const l = rows && [...rows].find(([, r]) => r[2] === 'Leader')?.[0];
      return l && l !== 'h1' ? l : undefined;
    }, 20_000);
    const failoverMs = Date.now() - t0;
    assert.ok(['h2', 'h3'].includes(leader));
    assert.ok(failoverMs < 10_000, `failover took ${failoverMs} ms`);
    await until('h1 unreachable and down', async () => {
      const r = (await nodeRows(h[2]).catch(() => undefined))?.get('h1');
      return r?.[0] === 'Down' && r?.[2] === 'Unreachable';
    }, 30_000);
    await h[0].startDaemon();
    await until('h1 back', async () => {
      const r = (await nodeRows(h[2]).catch(() => undefined))?.get('h1');
      return r?.[0] === 'Ready' && r?.[2] === 'Reachable';
    }, 30_000);
    assert.match(await sh(h[0], ['node', 'ls']), /h1/);
  });

  it('without quorum writes fail fast with a clear error; with a majority back they work', async () => {
    await Promise.all([h[1].stopDaemon(), h[2].stopDaemon()]);
    const t0 = Date.now();
    const r = await h[0].shoal(['node', 'update', '--label-add', 'x=y', 'h1']);
    const ms = Date.now() - t0;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The swarm does not have a leader\. It's possible that too few managers are online/);
    assert.ok(ms < 8000, `refusal took ${ms} ms`);
    await h[1].startDaemon();
    await until('quorum back', async () => (await h[0].shoal(['node', 'update', '--label-add', 'x=y', 'h1'])).code === 0, 30_000);
    await h[2].startDaemon();
    await until('h3 reachable again', async () => (await nodeRows(h[0]).catch(() => undefined))?.get('h3')?.[2] === 'Reachable', 30_000);
  });

  it('autolock: a restarted manager stays locked until swarm unlock with the key', async () => {
    const out = await sh(h[0], ['swarm', 'update', '--autolock=true']);
    const key = /^    (SWMKEY-1-\S+)$/m.exec(out)?.[1];
    assert.ok(key, out);
    assert.equal(await sh(h[1], ['swarm', 'unlock-key', '-q']), key);
    const keyFile = path.join(h[0].dataRoot, 'swarm', 'certificates', 'swarm-node.key');
    await until('the key encrypted on disk', async () => (await h[0].execOk(['cat', keyFile])).includes('ENCRYPTED'), 15_000);
    await h[0].stopDaemon();
    await h[0].startDaemon();
    assert.equal(await sh(h[0], ['info', '--format', '{{.Swarm.LocalNodeState}}']), 'locked');
    const locked = await h[0].shoal(['node', 'ls']);
    assert.match(locked.stderr, /Swarm is encrypted and needs to be unlocked before it can be used/);
    const wrong = await h[0].shoal(['swarm', 'unlock'], { input: 'SWMKEY-1-' + 'A'.repeat(43) + '\n' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /invalid key/);
    const ok = await h[0].shoal(['swarm', 'unlock'], { input: key + '\n' });
    assert.equal(ok.code, 0, ok.stderr);
    await until('h1 serves node ls again', async () => (await h[0].shoal(['node', 'ls'])).code === 0, 30_000);
    await sh(h[1], ['swarm', 'update', '--autolock=false']);
    await until('the key in plaintext again', async () => !(await h[0].execOk(['cat', keyFile])).includes('ENCRYPTED'), 15_000);
  });

  it('promotes a worker to manager and demotes it back', async () => {
    assert.equal(await sh(h[0], ['node', 'promote', 'h4']), 'Node h4 promoted to a manager in the swarm.');
    await until('h4 serves node ls', async () => (await h[3].shoal(['node', 'ls'])).code === 0, 30_000);
    const file = path.join(h[3].dataRoot, 'swarm', 'certificates', 'swarm-node.crt');
    assert.match(execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject']).toString(), /OU ?= ?swarm-manager/);
    assert.equal(await sh(h[1], ['node', 'demote', 'h4']), 'Node h4 demoted to a worker in the swarm.');
    await until('h4 is a worker again', async () => (await h[3].shoal(['node', 'ls'])).code !== 0, 30_000);
    await until('worker certificate', async () => /OU ?= ?swarm-worker/.test(execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject']).toString()), 15_000);
    assert.equal((await nodeRows(h[0])).get('h4')?.[2], '');
  });

  it('a worker whose daemon dies is Down within seconds; one stopped on purpose keeps the heartbeat grace', async () => {
    const status = async () => (await nodeRows(h[0])).get('h5')?.[0];
    // stopped on purpose (it says goodbye): still Ready seconds later, as Docker keeps it for 3 heartbeats
    await h[4].stopDaemon();
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(await status(), 'Ready');
    await h[4].startDaemon();
    await until('h5 back in the swarm', async () => (await h[4].shoal(['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim() === 'active', 30_000);
    // killed: its session drops without a goodbye and the lease is cut short. The lease alone keeps a
    // node Ready for at least 2 heartbeat periods (10 s) after its last beat.
    await new Promise((r) => setTimeout(r, 1000));
    await h[4].killDaemon();
    const t0 = Date.now();
    await until('h5 down', async () => (await status()) === 'Down', 20_000);
    const downMs = Date.now() - t0;
    assert.ok(downMs < 8000, `Down after ${downMs} ms`);
    await h[4].startDaemon();
    await until('h5 Ready again', async () => (await status()) === 'Ready', 30_000);
  });

  it('a worker leaves; it shows Down, then node rm removes it', async () => {
    assert.equal(await sh(h[4], ['swarm', 'leave']), 'Node left the swarm.');
    assert.equal(await sh(h[4], ['info', '--format', '{{.Swarm.LocalNodeState}}']), 'inactive');
    await until('h5 down', async () => (await nodeRows(h[0])).get('h5')?.[0] === 'Down', 20_000);
    await sh(h[0], ['node', 'rm', 'h5']);
    assert.equal((await nodeRows(h[0])).has('h5'), false);
    const leave = await h[1].shoal(['swarm', 'leave']);
    assert.equal(leave.code, 1);
    assert.match(leave.stderr, /You are attempting to leave the swarm on a node that is participating as a manager/);
  });

  it('--force-new-cluster on a surviving manager rebuilds a working swarm with the old state', async () => {
    await Promise.all([h[1].stopDaemon(), h[2].stopDaemon()]);
    const r = await h[0].shoal(['node', 'ls']);
    assert.notEqual(r.code, 0);
    const out = await sh(h[0], ['swarm', 'init', '--force-new-cluster', '--advertise-addr', h[0].addr]);
    assert.match(out, new RegExp(`current node \\(${ids.get('h1')}\\) is now a manager`));
    const rows = await nodeRows(h[0]);
    assert.deepEqual(rows.get('h1'), ['Ready', 'Active', 'Leader']);
    assert.ok(rows.has('h4'), 'the old nodes are still known');
    await sh(h[0], ['node', 'update', '--label-add', 'recovered=yes', 'h1']);
    assert.equal(await sh(h[0], ['node', 'inspect', '-f', '{{index .Spec.Labels "recovered"}}', 'self']), 'yes');
  });
});
