// Restart safety of shoald: containers outlive the daemon (graceful stop and kill -9), exits that
// happen while it is away are picked up with their codes, restart policies on boot and on exit,
// and a crash in the middle of a burst of `docker run -d` leaves a consistent store.
// One lab, one host, one daemon (restarted many times) for the whole file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useLab, type Host } from './harness/hosts.js';
import { shq, sleep } from './harness/run.js';
import { alive, cmdline, dockerOk as ok, dockerSh, show, until } from './harness/checks.js';

const T = { timeout: 120_000 };

interface State { Status: string; Running: boolean; Pid: number; ExitCode: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean }
async function inspect(h: Host, name: string): Promise<{ Id: string; State: State; RestartCount: number; Name: string }> {
  const [c] = JSON.parse(await ok(h, ['inspect', name])) as Array<{ Id: string; State: State; RestartCount: number; Name: string }>;
  assert.ok(c);
  return c;
}

/** conmon processes working for this host's daemon (their command line names its exec root) */
function conmons(h: Host): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || !alive(Number(e))) continue;
    const cl = cmdline(Number(e));
    if (/(^|\/)conmon /.test(cl) && cl.includes(h.execRoot + '/')) out.push(Number(e));
  }
  return out;
}

/** log lines of `docker logs -t` as [time ms, text] */
async function timedLogs(h: Host, name: string): Promise<Array<[number, string]>> {
  const out = await ok(h, ['logs', '-t', name]);
  return out.split('\n').filter(Boolean).map((l) => {
    const i = l.indexOf(' ');
    return [Date.parse(l.slice(0, i)), l.slice(i + 1)];
  });
}

const TICKER = 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done';

describe('daemon restart safety', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);

  it('a running container keeps running across a graceful daemon restart, with all its logs', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', TICKER]);
    const before = await inspect(h(), 'ticker');
    assert.equal(before.State.Status, 'running');
    assert.ok(before.State.Pid > 0 && alive(before.State.Pid));
    await until('a few ticks', async () => (await ok(h(), ['logs', 'ticker'])).split('\n').length >= 3);

    const stoppedAt = Date.now();
    await h().stopDaemon();
    assert.ok(alive(before.State.Pid), 'the container process survives the daemon');
    await sleep(1500);
    await h().startDaemon();
    const backAt = Date.now();

    const after = await inspect(h(), 'ticker');
    assert.equal(after.State.Status, 'running');
    assert.equal(after.State.Running, true);
    assert.equal(after.State.Pid, before.State.Pid, 'same process');
    assert.equal(after.State.StartedAt, before.State.StartedAt);
    assert.match(await ok(h(), ['ps', '--filter', 'name=^ticker$', '--format', '{{.Status}}']), /^Up /);

    await sleep(800);
    const lines = await timedLogs(h(), 'ticker');
    // every tick is there, in order, none lost while the daemon was down
    lines.forEach(([, text], i) => assert.equal(text, `tick ${i}`, `line ${i} of ${lines.length}`));
    assert.ok(lines.some(([t]) => t < stoppedAt), 'lines from before the restart');
    assert.ok(lines.some(([t]) => t > stoppedAt + 200 && t < backAt), 'lines written while the daemon was down');
    assert.ok(lines.some(([t]) => t > backAt), 'lines from after the restart');
    // and the new daemon controls it: exec, follow, stop
    const ex = await h().docker(['exec', 'ticker', 'echo', 'still here']);
    assert.equal(ex.stdout, 'still here\n', show(ex));
    const t0 = Date.now();
    await ok(h(), ['stop', '-t', '1', 'ticker']);
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);
    const stopped = await inspect(h(), 'ticker');
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.State.ExitCode, 137);
    assert.ok(!alive(before.State.Pid));
    await ok(h(), ['rm', 'ticker']);
  });

  it('a container that exits while the daemon is down shows Exited with its code afterwards', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'short0', 'busybox', 'sleep', '2']);
    await ok(h(), ['run', '-d', '--name', 'short7', 'busybox', 'sh', '-c', 'sleep 2; exit 7']);
    const s0 = await inspect(h(), 'short0');
    const s7 = await inspect(h(), 'short7');
    assert.equal(s0.State.Status, 'running');
    await h().stopDaemon();
    await sleep(4000);
    assert.ok(!alive(s0.State.Pid) && !alive(s7.State.Pid), 'both exited while the daemon was down');
    await h().startDaemon();

    const a0 = await inspect(h(), 'short0');
    assert.equal(a0.State.Status, 'exited');
    assert.equal(a0.State.Running, false);
    assert.equal(a0.State.ExitCode, 0);
    assert.equal(a0.State.Pid, 0);
    const a7 = await inspect(h(), 'short7');
    assert.equal(a7.State.Status, 'exited');
    assert.equal(a7.State.ExitCode, 7);
    assert.match(await ok(h(), ['ps', '-a', '--filter', 'name=^short0$', '--format', '{{.Status}}']), /^Exited \(0\) /);
    assert.match(await ok(h(), ['ps', '-a', '--filter', 'name=^short7$', '--format', '{{.Status}}']), /^Exited \(7\) /);
    assert.equal(await ok(h(), ['ps', '-q', '--filter', 'name=^short']), '', 'not listed as running');
    // FinishedAt is when the process really ended (~2 s after start), not when the daemon noticed
    const ran = Date.parse(a0.State.FinishedAt) - Date.parse(a0.State.StartedAt);
    assert.ok(ran >= 1500 && ran < 3500, `FinishedAt - StartedAt = ${ran} ms (${a0.State.StartedAt} .. ${a0.State.FinishedAt})`);
    // the exited containers can be started again
    await ok(h(), ['start', 'short0']);
    assert.equal(await ok(h(), ['wait', 'short0']), '0');
    await ok(h(), ['rm', 'short0', 'short7']);
  });

  it('restart=always brings a container back after a daemon crash during which it died', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sleep', '1000']);
    await ok(h(), ['run', '-d', '--name', 'norestart', 'busybox', 'sleep', '1000']);
    const a = await inspect(h(), 'always');
    const n = await inspect(h(), 'norestart');
    assert.match(cmdline(a.State.Pid), /^sleep 1000$/, 'State.Pid is the container process');
    await h().killDaemon();
    // both containers die while the daemon is gone (our own processes, by PID)
    process.kill(a.State.Pid, 'SIGKILL');
    process.kill(n.State.Pid, 'SIGKILL');
    await until('processes gone', async () => !alive(a.State.Pid) && !alive(n.State.Pid));
    await h().startDaemon();
    const back = await until('always to run again with a new PID', async () => {
      const c = await inspect(h(), 'always');
      return c.State.Status === 'running' && c.State.Pid !== a.State.Pid && c.State.Pid > 0 ? c : undefined;
    }, 15_000, h());
    assert.ok(alive(back.State.Pid));
    assert.match(cmdline(back.State.Pid), /^sleep 1000$/);
    const nr = await inspect(h(), 'norestart');
    assert.equal(nr.State.Status, 'exited', 'no restart policy: stays exited');
    assert.equal(nr.State.ExitCode, 137);
    await ok(h(), ['rm', '-f', 'always', 'norestart']);
  });

  it('restart=on-failure:2 restarts a failing container twice, then leaves it Exited (1)', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'echo attempt; exit 1']);
    const c = await until('flaky to give up', async () => {
      const x = await inspect(h(), 'flaky');
      return x.State.Status === 'exited' && x.RestartCount === 2 ? x : undefined;
    }, 15_000, h());
    assert.equal(c.State.ExitCode, 1);
    await sleep(1000); // and it stays given up
    const later = await inspect(h(), 'flaky');
    assert.equal(later.RestartCount, 2);
    assert.equal(later.State.Status, 'exited');
    assert.equal((await ok(h(), ['logs', 'flaky'])).split('\n').filter((l) => l === 'attempt').length, 3, 'ran 3 times');
    assert.match(await ok(h(), ['ps', '-a', '--filter', 'name=^flaky$', '--format', '{{.Status}}']), /^Exited \(1\) /);
    // a zero exit is not a failure
    await ok(h(), ['run', '-d', '--name', 'fine', '--restart', 'on-failure:2', 'busybox', 'true']);
    assert.equal(await ok(h(), ['wait', 'fine']), '0');
    await sleep(700);
    const fine = await inspect(h(), 'fine');
    assert.equal(fine.RestartCount, 0);
    assert.equal(fine.State.Status, 'exited');
    await ok(h(), ['rm', 'flaky', 'fine']);
  });

  it('unless-stopped stays stopped after docker stop + daemon restart (always comes back)', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'us-stopped', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    await ok(h(), ['run', '-d', '--name', 'us-running', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000']);
    await ok(h(), ['run', '-d', '--name', 'al-stopped', '--restart', 'always', 'busybox', 'sleep', '1000']);
    await ok(h(), ['stop', '-t', '0', 'us-stopped', 'al-stopped']);
    const running = await inspect(h(), 'us-running');
    assert.equal((await inspect(h(), 'us-stopped')).State.Status, 'exited');
    await h().stopDaemon();
    await h().startDaemon();
    await sleep(1500); // time for restart-on-boot to act
    const us = await inspect(h(), 'us-stopped');
    assert.equal(us.State.Status, 'exited', 'unless-stopped + docker stop: not restarted');
    assert.equal(us.State.ExitCode, 137);
    const ur = await inspect(h(), 'us-running');
    assert.equal(ur.State.Status, 'running');
    assert.equal(ur.State.Pid, running.State.Pid, 'the running one was not restarted either (same process)');
    // Docker: "always" restarts on daemon start even after a manual stop
    const al = await inspect(h(), 'al-stopped');
    assert.equal(al.State.Status, 'running', 'restart=always: started again when the daemon starts');
    await ok(h(), ['rm', '-f', 'us-stopped', 'us-running', 'al-stopped']);
  });

  it('kill -9 of the daemon during a burst of docker run -d leaves a consistent daemon', T, async () => {
    const N = 16;
    const dir = fs.mkdtempSync(path.join(h().lab.dir, 'burst-'));
    const burst = dockerSh(h(), `cd ${shq(dir)} && for i in $(seq 1 ${N}); do (docker run -d --name burst$i busybox sleep 1000 > $i.out 2>&1; echo $? > $i.rc) & sleep 0.05; done; wait`);
    await sleep(500);
    await h().killDaemon();
    const b = await burst;
    assert.equal(b.code, 0, show(b));
    await h().startDaemon();

    // every config.v2.json on disk parses, and the API lists exactly those containers
    const cdir = path.join(h().dataRoot, 'containers');
    const onDisk = new Set<string>();
    for (const id of fs.readdirSync(cdir)) {
      const f = path.join(cdir, id, 'config.v2.json');
      if (!fs.existsSync(f)) continue;
      let rec: { Id: string; Name: string };
      try { rec = JSON.parse(fs.readFileSync(f, 'utf8')) as typeof rec; } catch (e) {
        assert.fail(`${f} does not parse: ${(e as Error).message}`);
      }
      assert.equal(rec.Id, id);
      onDisk.add(id);
    }
    const listed = new Set((await ok(h(), ['ps', '-a', '-q', '--no-trunc'])).split('\n').filter(Boolean));
    assert.deepEqual([...listed].sort(), [...onDisk].sort(), 'ps -a lists exactly the stored containers');

    // every listed container inspects, and its state agrees with reality
    for (const id of listed) {
      const c = await inspect(h(), id);
      if (c.State.Running) assert.ok(alive(c.State.Pid), `${c.Name} says running but pid ${c.State.Pid} is gone`);
      else assert.ok(['created', 'exited', 'dead'].includes(c.State.Status), `${c.Name}: ${c.State.Status}`);
    }
    // what `docker run -d` acknowledged before the crash exists and runs
    let acked = 0;
    let failed = 0;
    for (let i = 1; i <= N; i++) {
      const rc = fs.readFileSync(path.join(dir, `${i}.rc`), 'utf8').trim();
      const out = fs.readFileSync(path.join(dir, `${i}.out`), 'utf8').trim();
      if (rc !== '0') { failed++; continue; }
      acked++;
      assert.match(out, /^[0-9a-f]{64}$/);
      assert.ok(listed.has(out), `burst${i} (${out.slice(0, 12)}) was acknowledged but is gone`);
      const c = await inspect(h(), out);
      assert.equal(c.Name, `/burst${i}`);
      assert.equal(c.State.Status, 'running', `burst${i} was started before the crash`);
    }
    assert.ok(acked > 0 && failed > 0, `the crash should fall in the middle of the burst (${acked} acknowledged, ${failed} failed)`);

    // the daemon works normally: run, remove everything, no conmon left behind
    const r = await h().docker(['run', '--rm', 'busybox', 'echo', 'after crash']);
    assert.equal(r.code, 0, show(r));
    const rmFailures: string[] = [];
    for (const id of listed) {
      const rm = await h().docker(['rm', '-f', id], { timeoutMs: 30_000 });
      if (rm.code !== 0) {
        const st = (await h().docker(['inspect', '-f', '{{.Name}} {{.State.Status}} pid={{.State.Pid}}', id])).stdout.trim();
        rmFailures.push(`${id.slice(0, 12)} (${st}): ${rm.stderr.trim()}`);
      }
    }
    assert.deepEqual(rmFailures, [], `docker rm -f failed after the crash:\n${rmFailures.join('\n')}`);
    assert.equal(await ok(h(), ['ps', '-a', '-q']), '');
    await until('no conmon left for this host', async () => conmons(h()).length === 0, 10_000);
  });
});
