// The engine's main promises, end to end through the real docker CLI and the shoal CLI:
// containers run and print, exit codes, stop timeouts, restart safety, restart policies,
// OOM, healthchecks, conflicts, and an interactive TTY driven through a pseudo-terminal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useLab } from './harness/hosts.js';
import { sleep } from './harness/run.js';
import { dockerEnv, dockerOk as ok, until } from './harness/checks.js';
import { PROMPT, Pty } from './harness/pty.js';

describe('engine', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = () => env.host(1);

  it('runs a container that prints, with stdout and stderr, through the docker CLI', async () => {
    const r = await h().docker(['run', '--name', 'hello', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.match(await ok(h(), ['ps', '-a', '--filter', 'name=hello', '--format', '{{.Names}} {{.Status}}']), /^hello Exited \(3\)/);
    const logs = await h().docker(['logs', 'hello']);
    assert.equal(logs.stdout, 'out\n');
    assert.equal(logs.stderr, 'err\n');
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.ExitCode}}', 'hello']), '3');
  });

  it('gives docker\'s exit codes and errors for a missing command and a name conflict', async () => {
    const missing = await h().docker(['run', '--rm', 'busybox', 'nosuchcommand']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /executable file not found/);
    await ok(h(), ['create', '--name', 'dup', 'busybox', 'true']);
    const again = await h().docker(['create', '--name', 'dup', 'busybox', 'true']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /Conflict\. The container name "\/dup" is already in use/);
    const rmi = await h().docker(['rmi', 'busybox']);
    assert.notEqual(rmi.code, 0);
    assert.match(rmi.stderr, /conflict: unable to remove repository reference "busybox" \(must force\)/);
    const api = await h().api('GET', '/v1.41/containers/nope/json');
    assert.equal(api.status, 404);
    assert.deepEqual(JSON.parse(api.body.toString()), { message: 'No such container: nope' });
  });

  it('stops with SIGKILL after the timeout when SIGTERM is ignored (exit 137)', async () => {
    await ok(h(), ['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '100']);
    const t0 = Date.now();
    await ok(h(), ['stop', '-t', '1', 'sleeper']);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.ExitCode}}', 'sleeper']), '137');
  });

  it('enforces a memory limit: a process over it is OOM-killed with exit 137', async () => {
    const r = await h().docker(['run', '--name', 'oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'sh', '-c', 'a=$(yes | head -c 50000000); echo survived']);
    assert.equal(r.code, 137, r.stdout + r.stderr);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.OOMKilled}}', 'oom']), 'true');
  });

  it('turns a container unhealthy, then healthy, by its healthcheck', async () => {
    await ok(h(), ['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '100']);
    await until('unhealthy', async () => (await ok(h(), ['inspect', '-f', '{{.State.Health.Status}}', 'hc'])) === 'unhealthy');
    await ok(h(), ['exec', 'hc', 'touch', '/tmp/ok']);
    await until('healthy', async () => (await ok(h(), ['inspect', '-f', '{{.State.Health.Status}}', 'hc'])) === 'healthy');
    await ok(h(), ['rm', '-f', 'hc']);
  });

  it('exec returns output and exit codes', async () => {
    await ok(h(), ['run', '-d', '--name', 'ex', 'busybox', 'sleep', '100']);
    const r = await h().docker(['exec', 'ex', 'sh', '-c', 'echo in-container; exit 4']);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'in-container\n');
    await ok(h(), ['rm', '-f', 'ex']);
  });

  it('drives run -it and exec -it through a real pseudo-terminal', async () => {
    const run = new Pty('docker run -it --name tty1 busybox sh', dockerEnv(h()));
    await run.expect(PROMPT);
    run.write('echo $((6*7))\r');
    await run.expect(/\r\n42\r\n/);
    run.write('exit 0\r');
    assert.equal(await run.exitCode(), 0, run.out);
    await ok(h(), ['start', 'tty1']);
    const ex = new Pty('docker exec -it tty1 sh', dockerEnv(h()));
    await ex.expect(PROMPT);
    ex.write('echo $((7*6))x\r');
    await ex.expect(/\r\n42x\r\n/);
    ex.write('exit 5\r');
    assert.equal(await ex.exitCode(), 5, ex.out);
    const piped = await h().docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'through stdin\n' });
    assert.equal(piped.stdout, 'through stdin\n');
    await ok(h(), ['rm', '-f', 'tty1']);
  });

  it('keeps containers running across a daemon restart, with their logs and exit codes', async () => {
    await ok(h(), ['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
    await ok(h(), ['run', '-d', '--name', 'shortlived', 'busybox', 'sh', '-c', 'sleep 2; exit 7']);
    const pid = await ok(h(), ['inspect', '-f', '{{.State.Pid}}', 'ticker']);
    await sleep(500);
    await h().stopDaemon();
    await sleep(3000); // shortlived exits while the daemon is down
    await h().startDaemon();
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'ticker']), `running ${pid}`);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shortlived']), 'exited 7');
    await sleep(500);
    const logs = (await ok(h(), ['logs', 'ticker'])).split('\n');
    assert.equal(logs[0], 'tick 0');
    // Lines kept coming while the daemon was away, and after it came back.
    assert.ok(logs.length >= 15, `only ${logs.length} log lines`);
    await ok(h(), ['rm', '-f', 'ticker', 'shortlived']);
  });

  it('brings back restart=always containers after a daemon crash; on-failure counts retries', async () => {
    await ok(h(), ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '1000']);
    await ok(h(), ['run', '-d', '--name', 'stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    await ok(h(), ['stop', '-t', '0', 'stopped']);
    const pid = Number(await ok(h(), ['inspect', '-f', '{{.State.Pid}}', 'always']));
    await h().killDaemon();
    process.kill(pid, 'SIGKILL'); // the container's process (started by our daemon) dies while shoald is down
    await h().startDaemon();
    const newPid = await until('always to be running again', async () => {
      const [st, p] = (await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'always'])).split(' ');
      return st === 'running' && Number(p) !== pid ? p : undefined;
    });
    assert.ok(Number(newPid) > 0);
    assert.match(await ok(h(), ['inspect', '-f', '{{.State.Status}}', 'stopped']), /^exited$/);
    await ok(h(), ['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
    await until('flaky to give up', async () => (await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'flaky'])) === 'exited 2');
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.ExitCode}}', 'flaky']), '1');
    await ok(h(), ['rm', '-f', 'always', 'stopped', 'flaky']);
  });

  it('runs containers with the shoal CLI and exits with their code', async () => {
    const r = await h().shoal(['run', '--rm', 'busybox', 'echo', 'hi from shoal']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi from shoal\n', r.stderr);
    const five = await h().shoal(['run', '--name', 'five', 'busybox', 'sh', '-c', 'exit 5']);
    assert.equal(five.code, 5);
    const ps = await h().shoal(['ps', '-a', '--filter', 'name=five', '--format', '{{.Names}}\t{{.Status}}']);
    assert.match(ps.stdout, /^five\tExited \(5\)/);
    const images = await h().shoal(['images']);
    assert.match(images.stdout.split('\n')[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.equal((await h().shoal(['rm', 'five'])).code, 0);
  });
});
