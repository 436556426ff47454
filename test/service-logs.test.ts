// `service logs` on a 3-node swarm (h1 manager, h2/h3 workers): the manager fetches each task's
// container log from the node that ran it (the agent listener on :7946) and both the real docker
// CLI and shoal print Docker's `<service>.<slot>.<task>@<node>    | line`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { dockerBinary, repoRoot, type Host, type Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { dockerEnv, until } from './harness/checks.js';

const PREFIX = /^logsvc\.(\d)\.([0-9a-z]{12})@(h\d)    \| (.*)$/;

describe('service logs', () => {
  let lab: Lab;
  let h: Host[];
  const followers: ChildProcess[] = [];
  /** task id → { slot, node, container hostname } from service ps and the nodes' engines */
  const tasks = new Map<string, { slot: string; node: string; hostname: string }>();
  const dk = async (host: Host, args: string[]): Promise<{ out: string; err: string }> => {
    const r = await host.docker(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `[${host.name}] docker ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}\n${host.logTail(20)}`);
    return { out: r.stdout, err: r.stderr };
  };
  const sh = async (host: Host, args: string[]): Promise<{ out: string; err: string }> => {
    const r = await host.shoal(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `[${host.name}] shoal ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}\n${host.logTail(20)}`);
    return { out: r.stdout, err: r.stderr };
  };
  const lines = (s: string) => s.split('\n').filter(Boolean);
  const sorted = (s: string) => lines(s).sort();
  const hostOf = (name: string) => h.find((x) => x.name === name)!;

  before(async () => {
    lab = await createSwarmLab({ hosts: 3 });
    h = lab.hosts;
    await dk(h[0], ['service', 'create', '--detach', '--no-resolve-image', '--name', 'logsvc', '--replicas', '3', 'busybox',
      'sh', '-c', 'echo oops >&2; sleep 0.2; echo "hello from $(hostname)"; echo second line; exec sleep 600']);
    await until('3 tasks running', async () => lines((await dk(h[0], ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'logsvc'])).out)
      .filter((l) => l.startsWith('Running')).length === 3, 60_000);
  });
  after(async () => {
    for (const p of followers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await lab?.destroy();
  });

  const refreshTasks = async () => {
    for (const l of lines((await dk(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.ID}} {{.Name}} {{.Node}}', 'logsvc'])).out)) {
      const [id, name, node] = l.split(' ');
      if (tasks.has(id)) continue;
      const cid = (await dk(hostOf(node), ['ps', '-a', '--no-trunc', '--filter', `label=com.docker.swarm.task.id=${id}`, '--format', '{{.ID}}'])).out.trim();
      tasks.set(id, { slot: name.split('.')[1], node, hostname: cid.slice(0, 12) });
    }
  };
  /** a prefixed line's task, checked against service ps: slot, node and the task id all agree */
  const taskOf = (line: string) => {
    const m = PREFIX.exec(line);
    assert.ok(m, `not Docker's service log shape: ${JSON.stringify(line)}`);
    const [id, t] = [...tasks].find(([id]) => id.startsWith(m[2])) ?? [];
    assert.ok(t, `no task ${m[2]} in service ps: ${line}`);
    assert.equal(t.slot, m[1], line);
    assert.equal(t.node, m[3], line);
    return { id: id!, ...t, msg: m[4] };
  };

  it('docker service logs: every task\'s lines, from all 3 nodes, prefixed name.slot.task@node; stderr stays stderr', async () => {
    await refreshTasks();
    assert.deepEqual([...tasks.values()].map((t) => t.node).sort(), ['h1', 'h2', 'h3']);
    const { out, err } = await dk(h[0], ['service', 'logs', 'logsvc']);
    const outLines = lines(out);
    assert.equal(outLines.length, 6, out);
    const hello = outLines.map(taskOf).filter((t) => t.msg.startsWith('hello'));
    assert.deepEqual(hello.map((t) => t.slot).sort(), ['1', '2', '3']);
    // the line came from the container that task ran as, on that node
    for (const t of hello) assert.equal(t.msg, `hello from ${t.hostname}`);
    assert.equal(outLines.map(taskOf).filter((t) => t.msg === 'second line').length, 3);
    const errLines = lines(err);
    assert.equal(errLines.length, 3, err);
    assert.deepEqual(errLines.map(taskOf).map((t) => `${t.node} ${t.msg}`).sort(), ['h1 oops', 'h2 oops', 'h3 oops']);
  });

  it('shoal service logs prints what docker prints, with every option', async () => {
    const task = [...tasks].find(([, t]) => t.node === 'h3')![0];
    for (const opts of [[], ['--tail', '1'], ['-t'], ['--raw'], ['--no-task-ids'], ['--no-trunc'], ['--details'], ['--no-resolve'], ['--tail', '2', '--no-trunc', '-t']]) {
      for (const target of ['logsvc', task]) {
        const d = await dk(h[0], ['service', 'logs', ...opts, target]);
        const s = await sh(h[0], ['service', 'logs', ...opts, target]);
        assert.deepEqual(sorted(s.out), sorted(d.out), `stdout of service logs ${opts.join(' ')} ${target}`);
        assert.deepEqual(sorted(s.err), sorted(d.err), `stderr of service logs ${opts.join(' ')} ${target}`);
      }
    }
    // and the shapes themselves
    const tail1 = await dk(h[0], ['service', 'logs', '--tail', '1', 'logsvc']);
    assert.deepEqual(lines(tail1.out).map((l) => taskOf(l).msg), ['second line', 'second line', 'second line']);
    assert.equal(tail1.err, '');
    const ts = lines((await dk(h[0], ['service', 'logs', '-t', 'logsvc'])).out);
    for (const l of ts) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z logsvc\.\d\.[0-9a-z]{12}@h\d    \| /);
    assert.deepEqual(sorted((await dk(h[0], ['service', 'logs', '--raw', 'logsvc'])).out),
      [...[...tasks.values()].map((t) => `hello from ${t.hostname}`), 'second line', 'second line', 'second line'].sort());
    assert.match((await dk(h[0], ['service', 'logs', '--no-task-ids', 'logsvc'])).out, /^logsvc\.[123]@h[123]    \| hello from /m);
    assert.match((await dk(h[0], ['service', 'logs', '--no-trunc', 'logsvc'])).out, /^logsvc\.[123]\.[0-9a-z]{25}@h[123]    \| hello from /m);
    const one = lines((await dk(h[0], ['service', 'logs', task])).out);
    assert.equal(one.length, 2);
    for (const l of one) assert.equal(taskOf(l).id, task);
  });

  it('-f follows: a line printed after the follow started appears, from a worker\'s task; Ctrl-C ends it', async () => {
    const [taskId, t] = [...tasks].find(([, x]) => x.node === 'h3')!;
    const container = (await dk(h[2], ['ps', '-q', '--filter', `label=com.docker.swarm.task.id=${taskId}`])).out.trim();
    const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
      const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      followers.push(p);
      const out = { text: '' };
      p.stdout!.on('data', (c: Buffer) => { out.text += c.toString(); });
      p.stderr!.on('data', (c: Buffer) => { out.text += c.toString(); });
      return { p, out };
    };
    const docker = start(dockerBinary(), ['service', 'logs', '-f', '--tail', '0', 'logsvc'], dockerEnv(h[0]));
    const shoal = start(path.join(repoRoot(), 'bin', 'shoal'), ['-H', h[0].dockerHost, 'service', 'logs', '-f', '--tail', '0', 'logsvc'], {});
    // --tail 0: whatever shows up was printed after the followers connected (retried: connecting takes a moment)
    let n = 0;
    await until('a late line in both followers', async () => {
      n++;
      await dk(h[2], ['exec', container, 'sh', '-c', `echo late-${n} > /proc/1/fd/1`]);
      await new Promise((r) => setTimeout(r, 1500));
      return /late-\d/.test(docker.out.text) && /late-\d/.test(shoal.out.text);
    }, 30_000);
    for (const f of [docker, shoal]) {
      const late = lines(f.out.text).filter((l) => l.includes('late-'));
      assert.ok(late.length >= 1, f.out.text);
      for (const l of late) {
        const x = taskOf(l);
        assert.equal(x.id, taskId);
        assert.equal(x.node, t.node);
        assert.match(x.msg, /^late-\d+$/);
      }
      assert.doesNotMatch(f.out.text, /hello from|second line|oops/);
    }
    assert.equal(docker.p.exitCode, null, 'docker service logs -f ended by itself');
    assert.equal(shoal.p.exitCode, null, 'shoal service logs -f ended by itself');
    for (const f of [docker, shoal]) {
      const exited = new Promise((r) => f.p.once('exit', r));
      f.p.kill('SIGINT');
      await exited;
    }
  });

  it('a finished task still in the history keeps its logs in the service\'s', async () => {
    const [victim, t] = [...tasks].find(([, x]) => x.node === 'h2')!;
    await dk(h[1], ['kill', (await dk(h[1], ['ps', '-q', '--filter', `label=com.docker.swarm.task.id=${victim}`])).out.trim()]);
    await until('a replacement task running', async () => lines((await dk(h[0], ['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'logsvc'])).out)
      .filter((l) => l.startsWith('Running')).length === 3 && lines((await dk(h[0], ['service', 'ps', '-q', 'logsvc'])).out).length === 4, 60_000);
    await refreshTasks();
    assert.equal(tasks.size, 4);
    // the replacement prints its hello 0.2 s after it starts running
    const helloLines = async () => lines((await dk(h[0], ['service', 'logs', 'logsvc'])).out).map(taskOf).filter((x) => x.msg.startsWith('hello'));
    await until('4 hello lines', async () => (await helloLines()).length === 4, 10_000);
    const hello = await helloLines();
    assert.equal(hello.length, 4, JSON.stringify(hello));
    assert.ok(hello.some((x) => x.id === victim && x.msg === `hello from ${t.hostname}`), 'the failed task\'s line');
    assert.equal(hello.filter((x) => x.slot === t.slot).length, 2);
  });

  it('errors: unknown service, no stream chosen, a worker node, a worker certificate at the agent port', async () => {
    let r = await h[0].docker(['service', 'logs', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'no such task or service: nosuch');
    r = await h[0].shoal(['service', 'logs', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'no such task or service: nosuch');
    let api = await h[0].api('GET', '/v1.41/services/nosuch/logs?stdout=1');
    assert.equal(api.status, 404);
    assert.deepEqual(api.json, { message: 'service nosuch not found' });
    api = await h[0].api('GET', '/v1.41/tasks/nosuch/logs?stdout=1');
    assert.deepEqual([api.status, api.json], [404, { message: 'task nosuch not found' }]);
    api = await h[0].api('GET', '/v1.41/services/logsvc/logs');
    assert.deepEqual([api.status, api.json], [400, { message: "must specify at least one of 'stdout' or 'stderr'" }]);
    api = await h[0].api('GET', '/v1.41/services/logsvc/logs?stdout=1&tail=x');
    assert.deepEqual([api.status, api.json], [500, { message: 'tail value must be a positive integer or "all"' }]);

    const worker = "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
    r = await h[1].docker(['service', 'logs', 'logsvc']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), worker);
    r = await h[1].shoal(['service', 'logs', 'logsvc']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), worker);
    api = await h[1].api('GET', '/v1.41/services/logsvc/logs?stdout=1');
    assert.equal(api.status, 503);

    // the agent listener serves managers only: h3's worker certificate is refused by h2, h1's manager certificate served
    const [taskOnH2] = [...tasks].filter(([, x]) => x.node === 'h2').map(([id]) => id);
    const curl = (from: Host, to: Host) => {
      const certs = path.join(from.dataRoot, 'swarm', 'certificates');
      return from.exec(['curl', '-sk', '-w', '\n%{http_code}', '--cert', path.join(certs, 'swarm-node.crt'), '--key', path.join(certs, 'swarm-node.key'),
        `https://${to.addr}:7946/tasks/${taskOnH2}/logs?tail=1`]);
    };
    const refused = await curl(h[2], h[1]);
    assert.match(refused.stdout, /Permission denied: remote certificate not part of roles: \[swarm-manager\]"\}\n403$/);
    const served = await curl(h[0], h[1]);
    assert.match(served.stdout, /^\{"t":"\d+","s":"stdout","d":"[A-Za-z0-9+/=]+"\}\n\n200$/);
    const anonymous = await h[0].exec(['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', `https://${h[1].addr}:7946/tasks/${taskOnH2}/logs`]);
    assert.notEqual(anonymous.stdout, '200');
  });
});
