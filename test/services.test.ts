// Services on a 3-node swarm (1 manager + 2 workers), driven by the real docker CLI: replicas
// spread and really run as containers, a killed task is replaced in its slot, scaling, global
// mode, an unsatisfiable constraint says why, drain moves tasks, rm removes the containers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { until } from './harness/checks.js';

describe('services', () => {
  let lab: Lab;
  let h: Host[];
  const dk = async (host: Host, args: string[]): Promise<string> => {
    const r = await host.docker(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `[${host.name}] docker ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  /** running task containers of a service on a host */
  const running = async (host: Host, svc: string) => (await dk(host, ['ps', '--filter', `label=com.docker.swarm.service.name=${svc}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  const replicas = async (svc: string) => dk(h[0], ['service', 'ls', '--filter', `name=${svc}`, '--format', '{{.Replicas}}']);

  before(async () => {
    lab = await createSwarmLab({ hosts: 3 });
    h = lab.hosts;
  });
  after(async () => { await lab?.destroy(); });

  it('runs 6 replicas as real containers, 2 per node, named <service>.<slot>.<task>', async () => {
    // sleep ignores SIGTERM: a short grace keeps the stop-first updates below quick
    await dk(h[0], ['service', 'create', '--detach', '--no-resolve-image', '--name', 'web', '--replicas', '6', '--stop-grace-period', '1s', 'busybox', 'sleep', '600']);
    await until('6/6', async () => (await replicas('web')) === '6/6', 30_000);
    for (const x of h) {
      const names = await running(x, 'web');
      assert.equal(names.length, 2, `${x.name}: ${names}`);
      for (const n of names) assert.match(n, /^web\.[1-6]\.[0-9a-z]{25}$/);
    }
    const ls = await dk(h[0], ['service', 'ls']);
    assert.match(ls, /^[0-9a-z]{12}\s+web\s+replicated\s+6\/6\s+busybox/m);
    const ps = await dk(h[0], ['service', 'ps', '--format', '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}}', 'web']);
    assert.equal(ps.split('\n').filter((l) => /^web\.\d h\d Running Running/.test(l)).length, 6, ps);
  });

  it('replaces a task whose container dies, in the same slot, and keeps the failed one as history', async () => {
    const [victim] = await running(h[1], 'web');
    const slot = victim.split('.')[1];
    await dk(h[1], ['kill', victim]);
    const psLines = () => dk(h[0], ['service', 'ps', '--format', '{{.Name}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}', 'web']);
    await until('the dead task recorded as failed', async () => new RegExp(`web\\.${slot}\\|Shutdown\\|Failed .*non-zero exit \\(137\\)`).test(await psLines()), 20_000);
    await until('a new container in the slot', async () => (await running(h[1], 'web')).concat(await running(h[0], 'web'), await running(h[2], 'web'))
      .some((n) => n.startsWith(`web.${slot}.`) && n !== victim), 30_000);
    await until('6/6 again', async () => (await replicas('web')) === '6/6', 30_000);
  });

  it('scales down and up', async () => {
    await dk(h[0], ['service', 'scale', '--detach', 'web=3']);
    await until('3/3', async () => (await replicas('web')) === '3/3', 30_000);
    await dk(h[0], ['service', 'scale', '--detach', 'web=5']);
    await until('5/5', async () => (await replicas('web')) === '5/5', 30_000);
  });

  it('service update rolls every task over to the new spec (batching is in the planner unit test)', async () => {
    await dk(h[0], ['service', 'update', '--detach', '--env-add', 'VERSION=2', 'web']);
    await until('every web task on the new spec', async () => {
      const names = [...await running(h[0], 'web'), ...await running(h[1], 'web'), ...await running(h[2], 'web')];
      if (names.length !== 5) return false;
      const envs = await Promise.all(h.map(async (x) => (await dk(x, ['ps', '--filter', 'label=com.docker.swarm.service.name=web', '--format', '{{.ID}}'])).split('\n').filter(Boolean)
        .map((id) => ({ x, id }))));
      for (const { x, id } of envs.flat()) if (!(await dk(x, ['inspect', '-f', '{{json .Config.Env}}', id])).includes('VERSION=2')) return false;
      return true;
    }, 60_000);
    // the last container may be running a moment before its node has reported it
    await until('5/5 reported', async () => (await replicas('web')) === '5/5', 10_000);
    const ps = await dk(h[0], ['service', 'ps', '--format', '{{.Name}}|{{.DesiredState}}|{{.CurrentState}}', 'web']);
    assert.ok(ps.split('\n').filter((l) => /^web\.\d\|Shutdown\|Shutdown /.test(l)).length >= 5, ps);
  });

  it('service rollback brings the previous spec back', async () => {
    await dk(h[0], ['service', 'rollback', '--detach', 'web']);
    assert.equal(await dk(h[0], ['service', 'inspect', '-f', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', 'web']), 'null');
    assert.match(await dk(h[0], ['service', 'inspect', '-f', '{{json .PreviousSpec.TaskTemplate.ContainerSpec.Env}}', 'web']), /VERSION=2/);
    await until('no task on the rolled-back spec is left', async () => {
      for (const x of h) {
        for (const id of (await dk(x, ['ps', '--filter', 'label=com.docker.swarm.service.name=web', '--format', '{{.ID}}'])).split('\n').filter(Boolean)) {
          if ((await dk(x, ['inspect', '-f', '{{json .Config.Env}}', id])).includes('VERSION=2')) return false;
        }
      }
      return (await replicas('web')) === '5/5';
    }, 60_000);
  });

  it('global services run one task per node; an impossible constraint says why', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--no-resolve-image', '--mode', 'global', '--name', 'agent', 'busybox', 'sleep', '600']);
    await until('3/3 global', async () => (await replicas('agent')) === '3/3', 30_000);
    for (const x of h) assert.equal((await running(x, 'agent')).length, 1);
    // a node that joins later gets its task too (h3 leaves, is removed, and joins again as a new node)
    await dk(h[2], ['swarm', 'leave']);
    await until('h3 Down', async () => /^h3 Down$/m.test(await dk(h[0], ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])), 30_000);
    await until('2/2 global without h3', async () => (await replicas('agent')) === '2/2', 30_000);
    await dk(h[0], ['node', 'rm', 'h3']);
    await dk(h[2], ['swarm', 'join', '--token', await dk(h[0], ['swarm', 'join-token', '-q', 'worker']), `${h[0].addr}:2377`]);
    await until('3/3 global with the new h3', async () => (await replicas('agent')) === '3/3' && (await running(h[2], 'agent')).length === 1, 30_000);
    await dk(h[0], ['service', 'create', '--detach', '--no-resolve-image', '--name', 'nowhere', '--constraint', 'node.labels.zone==moon', 'busybox', 'sleep', '600']);
    await until('a pending task with a reason', async () => /no suitable node \(scheduling constraints not satisfied on 3 nodes\)/.test(
      await dk(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}} {{.Error}}', 'nowhere'])), 15_000);
    await dk(h[0], ['node', 'update', '--label-add', 'zone=moon', 'h3']);
    await until('placed on h3', async () => (await running(h[2], 'nowhere')).length === 1, 30_000);
  });

  it('drain moves a node\'s tasks away', async () => {
    await dk(h[0], ['node', 'update', '--availability', 'drain', 'h2']);
    await until('no web task left on h2', async () => (await running(h[1], 'web')).length === 0, 40_000);
    await until('5/5 on h1 and h3', async () => (await replicas('web')) === '5/5', 30_000);
    await dk(h[0], ['node', 'update', '--availability', 'active', 'h2']);
  });

  it('the shoal CLI: create waits for convergence, ls/ps/node ps/inspect/scale like docker', async () => {
    const sh = async (args: string[]) => {
      const r = await h[0].shoal(args, { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `shoal ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const created = await sh(['service', 'create', '--name', 'cli', '--replicas', '3', '-e', 'GREETING=hi', 'busybox', 'sleep', '600']);
    assert.match(created, /^[0-9a-z]{25}\noverall progress: 3 out of 3 tasks \nverify: Service converged \n$/);
    assert.match(await sh(['service', 'ls']), /^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE\s+PORTS\n(.*\n)*[0-9a-z]{12}\s+cli\s+replicated\s+3\/3\s+busybox\s*$/m);
    const ps = await sh(['service', 'ps', 'cli']);
    assert.match(ps.split('\n')[0], /^ID\s+NAME\s+IMAGE\s+NODE\s+DESIRED STATE\s+CURRENT STATE\s+ERROR\s+PORTS$/);
    assert.equal(ps.split('\n').filter((l) => /\scli\.[123]\s+busybox\s+h[123]\s+Running\s+Running /.test(l)).length, 3, ps);
    assert.equal(JSON.parse(await sh(['service', 'inspect', 'cli']))[0].Spec.TaskTemplate.ContainerSpec.Env[0], 'GREETING=hi');
    const [task] = await running(h[1], 'cli');
    assert.equal((await dk(h[1], ['exec', task, 'sh', '-c', 'echo $GREETING'])), 'hi');
    assert.match(await sh(['node', 'ps', 'h2']), /cli\.\d\s+busybox\s+h2\s+Running/);
    assert.match(await sh(['service', 'scale', 'cli=1']), /^cli scaled to 1\noverall progress: 1 out of 1 tasks/);
    await sh(['service', 'rm', 'cli']);
  });

  it('the docker CLI without --detach shows progress until "Service converged"', async () => {
    const out = await dk(h[0], ['service', 'create', '--no-resolve-image', '--name', 'live', '--replicas', '2', '--stop-grace-period', '1s', 'busybox', 'sleep', '600']);
    assert.match(out, /overall progress: 2 out of 2 tasks/);
    assert.match(out, /verify: Service \S+ converged/);
    const upd = await dk(h[0], ['service', 'update', '--env-add', 'V=1', 'live']);
    assert.match(upd, /verify: Service \S+ converged/);
    assert.doesNotMatch(upd, /Detected task failure/);
    await dk(h[0], ['service', 'rm', 'live']);
  });

  it('service rm removes every task container', async () => {
    await dk(h[0], ['service', 'rm', 'web', 'agent', 'nowhere']);
    await until('no task containers', async () => {
      for (const x of h) if ((await dk(x, ['ps', '-aq', '--filter', 'label=com.docker.swarm.task'])) !== '') return false;
      return true;
    }, 45_000);
    assert.equal(await dk(h[0], ['service', 'ls', '-q']), '');
  });
});
