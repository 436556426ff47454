// Services on a 3-manager swarm, driven mostly by the shoal CLI: the create/update flags land in
// real containers (templates, mounts, limits, read-only), rolling updates that fail pause or roll
// back, start-first order seen in container timestamps, health checks gate and fail tasks, the
// restart policy stops after max attempts, and a scale-up survives the leader's daemon dying.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { until } from './harness/checks.js';

describe('service updates, flags and failures', () => {
  let lab: Lab;
  let h: Host[];
  const sh = async (host: Host, args: string[], expectCode = 0): Promise<string> => {
    const r = await host.shoal(args, { timeoutMs: 180_000 });
    assert.equal(r.code, expectCode, `[${host.name}] shoal ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return expectCode === 0 ? r.stdout.trim() : r.stderr.trim();
  };
  const dk = async (host: Host, args: string[]): Promise<string> => {
    const r = await host.docker(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `[${host.name}] docker ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  /** task containers of a service on every host: name, host, and inspect fields */
  const containers = async (svc: string, all = false) => (await Promise.all(h.map(async (x) => {
    const ids = (await dk(x, ['ps', ...(all ? ['-a'] : []), '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`])).split('\n').filter(Boolean);
    if (!ids.length) return [];
    const info = JSON.parse(await dk(x, ['inspect', ...ids])) as any[];
    return info.map((c) => ({ host: x, name: String(c.Name).replace(/^\//, ''), id: c.Id as string, env: (c.Config.Env ?? []) as string[], image: c.Config.Image as string, state: c.State, hc: c.HostConfig }));
  }))).flat();
  const replicas = async (svc: string, via = h[0]) => sh(via, ['service', 'ls', '--filter', `name=${svc}`, '--format', '{{.Replicas}}']);
  const updateState = async (svc: string) => sh(h[0], ['service', 'inspect', '-f', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', svc]);

  before(async () => {
    lab = await createSwarmLab({ hosts: 3, managers: 3 });
    h = lab.hosts;
  });
  after(async () => { await lab?.destroy(); });

  it('create flags reach the containers: hostname template, tmpfs and volume mounts, memory limit, read-only, init', async () => {
    await sh(h[0], ['service', 'create', '--name', 'fx', '--replicas', '2', '--hostname', '{{.Service.Name}}-{{.Task.Slot}}',
      '--mount', 'type=tmpfs,target=/scratch', '--mount', 'type=volume,source=fx-{{.Task.Slot}},target=/data', '--limit-memory', '64m',
      '--read-only', '--init', '--env', 'NODE={{.Node.Hostname}}', 'busybox', 'sleep', '600']);
    const cs = await containers('fx');
    assert.equal(cs.length, 2);
    for (const c of cs) {
      const slot = c.name.split('.')[1];
      assert.equal(await dk(c.host, ['exec', c.id, 'hostname']), `fx-${slot}`);
      assert.ok(c.env.includes(`NODE=${c.host.name}`), c.env.join(' '));
      assert.match(await dk(c.host, ['exec', c.id, 'sh', '-c', 'grep " /scratch " /proc/mounts']), /^tmpfs \/scratch tmpfs /);
      assert.equal(await dk(c.host, ['volume', 'ls', '-q', '--filter', `name=fx-${slot}`]), `fx-${slot}`);
      assert.equal(c.hc.Memory, 64 * 1024 * 1024);
      assert.equal(c.hc.ReadonlyRootfs, true);
      const rw = await c.host.docker(['exec', c.id, 'touch', '/x']);
      assert.notEqual(rw.code, 0, 'the root filesystem is read-only');
      assert.equal(await dk(c.host, ['exec', c.id, 'touch', '/data/x', '/scratch/x']), '');
    }
    await sh(h[0], ['service', 'rm', 'fx']);
  });

  it('a rolling update whose new image fails pauses after the first batch of 2', async () => {
    await sh(h[0], ['service', 'create', '--name', 'up', '--replicas', '6', '--stop-grace-period', '1s', 'busybox', 'sleep', '600']);
    await dk(h[0], ['service', 'update', '--detach', '--image', 'nosuch:1', '--update-parallelism', '2', 'up']);
    await until('the update paused', async () => (await updateState('up')) === 'paused', 30_000);
    assert.match(await sh(h[0], ['service', 'inspect', '-f', '{{.UpdateStatus.Message}}', 'up']), /^update paused due to failure or early termination of task [0-9a-z]{25}$/);
    // the slots of the first batch try the new image (and fail), the other 4 keep the old one
    const ps = await sh(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.Name}}|{{.Image}}|{{.DesiredState}}|{{.Error}}', 'up']);
    const newSlots = new Set(ps.split('\n').filter((l) => l.includes('|nosuch:1|')).map((l) => l.split('|')[0].replace(/^\s*\\_\s*/, '')));
    assert.equal(newSlots.size, 2, ps);
    assert.match(ps, /No such image: nosuch:1/);
    await until('4 old tasks left running', async () => (await containers('up')).filter((c) => c.image === 'busybox').length === 4, 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await containers('up')).filter((c) => c.image === 'busybox').length, 4, 'paused means no further batch');
    // the shoal CLI reports the paused update as a failure
    assert.match(await sh(h[0], ['service', 'update', '--env-add', 'X=1', 'up'], 1), /^service update paused: update paused due to failure or early termination of task /);
  });

  it('with --update-failure-action rollback the previous spec comes back by itself', async () => {
    await sh(h[0], ['service', 'update', '--image', 'busybox', '--env-rm', 'X', 'up']);
    assert.equal(await updateState('up'), 'completed');
    assert.equal((await containers('up')).filter((c) => c.image === 'busybox').length, 6);
    const err = await sh(h[0], ['service', 'update', '--image', 'nosuch:2', '--update-parallelism', '2', '--update-failure-action', 'rollback', 'up'], 1);
    assert.match(err, /service rolled back: rollback completed/);
    assert.equal(await updateState('up'), 'rollback_completed');
    assert.equal(await sh(h[0], ['service', 'inspect', '-f', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', 'up']), 'busybox');
    await until('6 busybox tasks', async () => (await containers('up')).filter((c) => c.image === 'busybox').length === 6 && (await replicas('up')) === '6/6', 30_000);
  });

  it('start-first: each slot\'s new container starts before its old one stops', async () => {
    const out = await sh(h[0], ['service', 'update', '--update-order', 'start-first', '--env-add', 'V=2', 'up']);
    assert.match(out, /verify: Service converged/);
    const bySlot = new Map<string, { oldStop?: number; newStart?: number }>();
    // the last old task stops just after the update converged
    await until('every old task stopped', async () => (await containers('up')).every((c) => c.env.includes('V=2')), 20_000);
    for (const c of await containers('up', true)) {
      const slot = c.name.split('.')[1];
      const e = bySlot.get(slot) ?? {};
      if (c.env.includes('V=2') && c.state.Running) e.newStart = Date.parse(c.state.StartedAt);
      else if (!c.env.includes('V=2') && c.image === 'busybox' && !c.state.Running) e.oldStop = Math.max(e.oldStop ?? 0, Date.parse(c.state.FinishedAt));
      bySlot.set(slot, e);
    }
    assert.equal(bySlot.size, 6);
    for (const [slot, e] of bySlot) {
      assert.ok(e.newStart && e.oldStop, `slot ${slot}: ${JSON.stringify(e)}`);
      assert.ok(e.newStart < e.oldStop, `slot ${slot}: new started ${e.newStart}, old stopped ${e.oldStop}`);
    }
    // and `service rollback` from the shoal CLI returns to the spec before
    await sh(h[0], ['service', 'rollback', 'up']);
    assert.equal(await sh(h[0], ['service', 'inspect', '-f', '{{.UpdateStatus.State}} {{.UpdateStatus.Message}}', 'up']), 'rollback_completed rollback completed');
    await until('no V=2 task left running', async () => (await containers('up')).every((c) => !c.env.includes('V=2')), 20_000);
    await sh(h[0], ['service', 'rm', 'up']);
  });

  it('a health check gates Running, and an unhealthy task fails and is replaced', async () => {
    await sh(h[0], ['service', 'create', '--detach', '--name', 'hc', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '1s', '--health-retries', '1000', 'busybox', 'sleep', '600']);
    const state = async () => sh(h[0], ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'hc']);
    await until('the task is starting', async () => /^Starting /.test(await state()), 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.match(await state(), /^Starting /, 'not running while unhealthy');
    assert.equal(await replicas('hc'), '0/1');
    const [c] = await containers('hc');
    await dk(c.host, ['exec', c.id, 'touch', '/tmp/ready']);
    await until('running once healthy', async () => /^Running /.test(await state()) && (await replicas('hc')) === '1/1', 20_000);
    await sh(h[0], ['service', 'rm', 'hc']);

    await sh(h[0], ['service', 'create', '--detach', '--name', 'sick', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', '--restart-delay', '1s', 'busybox', 'sleep', '600']);
    await until('the unhealthy task failed with Docker\'s error', async () => /Failed .*\|task: non-zero exit \(137\): dockerexec: unhealthy container/.test(
      await sh(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}|{{.Error}}', 'sick'])), 30_000);
    await sh(h[0], ['service', 'rm', 'sick']);
  });

  it('the restart policy gives up after max attempts', async () => {
    await sh(h[0], ['service', 'create', '--detach', '--name', 'flaky', '--restart-condition', 'on-failure', '--restart-max-attempts', '2', '--restart-delay', '1s', 'busybox', 'false']);
    const tasks = async () => (await sh(h[0], ['service', 'ps', '--format', '{{.CurrentState}}|{{.Error}}', 'flaky'])).split('\n').filter(Boolean);
    await until('3 failed tasks: the first run and 2 restarts', async () => (await tasks()).filter((l) => /^Failed .*non-zero exit \(1\)/.test(l)).length === 3, 30_000);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await tasks()).length, 3, 'no fourth attempt');
    await sh(h[0], ['service', 'rm', 'flaky']);
  });

  it('max replicas per node leaves the extra task pending with the reason; a replicated job runs to completion', async () => {
    await sh(h[0], ['service', 'create', '--detach', '--name', 'one', '--replicas', '4', '--replicas-max-per-node', '1', 'busybox', 'sleep', '600']);
    await until('3 running, 1 pending with its reason', async () => {
      const ps = await sh(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}|{{.Error}}', 'one']);
      return ps.split('\n').filter((l) => l.startsWith('Running')).length === 3
        && /^Pending .*\|no suitable node \(max replicas per node limit exceed on 3 nodes\)$/m.test(ps);
    }, 30_000);
    assert.equal(await replicas('one'), '3/4 (max 1 per node)');
    for (const x of h) assert.equal((await containers('one')).filter((c) => c.host === x).length, 1);
    await sh(h[0], ['service', 'rm', 'one']);

    const out = await sh(h[0], ['service', 'create', '--name', 'job', '--mode', 'replicated-job', '--replicas', '3', '--max-concurrent', '2', 'busybox', 'sh', '-c', 'sleep 1; echo done']);
    assert.match(out, /job complete: 3 out of 3 tasks/);
    assert.equal(await replicas('job'), '0/0 (3/3 completed)');
    assert.equal(await sh(h[0], ['service', 'ls', '--filter', 'name=job', '--format', '{{.Mode}}']), 'replicated job');
    const ps = (await sh(h[0], ['service', 'ps', '--format', '{{.Name}} {{.CurrentState}}', 'job'])).split('\n');
    assert.equal(ps.filter((l) => /^job\.[123] Complete /.test(l)).length, 3, ps.join('\n'));
    await sh(h[0], ['service', 'rm', 'job']);
  });

  it('a scale-up converges when the leader\'s daemon dies in the middle', async () => {
    await sh(h[0], ['service', 'create', '--name', 'ha', '--replicas', '2', 'busybox', 'sleep', '600']);
    const leaderName = (await sh(h[0], ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}'])).split('\n').find((l) => l.endsWith('Leader'))!.split(' ')[0];
    const victim = h.find((x) => x.name === leaderName)!;
    const other = h.find((x) => x !== victim)!;
    await sh(victim, ['service', 'scale', '--detach', 'ha=9']);
    await victim.killDaemon();
    await until('9/9 through the new leader', async () => {
      const r = await other.shoal(['service', 'ls', '--filter', 'name=ha', '--format', '{{.Replicas}}']);
      return r.code === 0 && r.stdout.trim() === '9/9';
    }, 90_000);
    await victim.startDaemon();
    await until(`${victim.name} Ready again`, async () => {
      const r = await other.shoal(['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']);
      return r.stdout.includes(`${victim.name} Ready`);
    }, 60_000);
    await until('still 9/9', async () => (await replicas('ha', other)) === '9/9', 30_000);
    // the returning node shuts down the stale tasks it kept running while it was away
    const mineOnVictim = async () => (await sh(other, ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}}', 'ha'])).split('\n').filter((n) => n === victim.name).length;
    await until('only its current tasks run on the returned node', async () => (await containers('ha')).filter((c) => c.host === victim).length === await mineOnVictim(), 30_000);
    await sh(other, ['service', 'rm', 'ha']);
  });
});
