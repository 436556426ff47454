// shoald driven by the real docker CLI (v28): run/exit codes, ps, conflicts, stop timeouts, logs,
// inspect, exec, cp, top, pause, rename, export, image inspect/history/tag/save/load, events.
// One lab, one daemon for the whole file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useLab, type Host } from './harness/hosts.js';
import { importBusybox } from './harness/busybox.js';
import { shq, sleep } from './harness/run.js';
import { dockerOk as ok, dockerSh, show, until } from './harness/checks.js';

const T = { timeout: 90_000 };

describe('engine through the docker CLI', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);

  it('docker run --rm busybox echo hello prints hello and removes the container', T, async () => {
    // several times: the output of a short-lived container must never be lost
    for (let i = 0; i < 5; i++) {
      const r = await h().docker(['run', '--rm', '--name', `hello${i}`, 'busybox', 'echo', 'hello'], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'hello\n', `attempt ${i + 1}: ${show(r)}`);
      assert.equal(r.stderr, '');
    }
    assert.equal(await ok(h(), ['ps', '-a', '-q', '--filter', 'name=^hello']), '', 'the --rm containers are gone');
  });

  it('passes the exit code of the container through (exit 3, missing command 127)', T, async () => {
    const three = await h().docker(['run', '--name', 'three', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3, show(three));
    const missing = await h().docker(['run', '--name', 'missing', 'busybox', 'nosuchcommand'], { timeoutMs: 20_000 });
    assert.equal(missing.code, 127, show(missing));
    assert.match(missing.stderr, /exec: "nosuchcommand": executable file not found in \$PATH/);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'missing']), 'created 127');
    // with --rm the CLI waits until the daemon has removed the container that failed to start
    const rm = await h().docker(['run', '--rm', '--name', 'missing-rm', 'busybox', 'nosuchcommand'], { timeoutMs: 20_000 });
    assert.equal(rm.code, 127, show(rm));
    assert.match(rm.stderr, /executable file not found/);
    assert.equal(await ok(h(), ['ps', '-a', '-q', '--filter', 'name=^missing-rm$']), '', 'the --rm container is removed');
  });

  it('docker ps -a shows the exited container with its name and Exited (3)', T, async () => {
    const out = await ok(h(), ['ps', '-a']);
    const lines = out.split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    const line = lines.find((l) => / three$/.test(l));
    assert.ok(line, `no row for "three" in:\n${out}`);
    assert.match(line, /^[0-9a-f]{12}\s+busybox\s+"sh -c 'exit 3'"\s+.*\sExited \(3\) .* ago\s+three$/);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', 'three']), '3 exited');
    // not in plain ps (it is not running)
    assert.doesNotMatch(await ok(h(), ['ps']), / three$/m);
  });

  it('refuses a second container with the same name (Conflict)', T, async () => {
    const id = await ok(h(), ['create', '--name', 'xy', 'busybox', 'true']);
    assert.match(id, /^[0-9a-f]{64}$/);
    const again = await h().docker(['create', '--name', 'xy', 'busybox', 'true']);
    assert.notEqual(again.code, 0, show(again));
    assert.ok(again.stderr.includes(`Conflict. The container name "/xy" is already in use by container "${id}"`), again.stderr);
    const conflict = await h().api('POST', '/v1.41/containers/create?name=xy', { body: { Image: 'busybox' } });
    assert.equal(conflict.status, 409, conflict.body.toString());
    assert.equal(await ok(h(), ['ps', '-a', '-q', '--no-trunc', '--filter', 'name=^xy$']), id, 'exactly one container named xy');
    // like Docker, a name needs at least two characters ([a-zA-Z0-9][a-zA-Z0-9_.-]+)
    const short = await h().docker(['create', '--name', 'x', 'busybox', 'true']);
    assert.notEqual(short.code, 0, show(short));
    assert.match(short.stderr, /Invalid container name \(x\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\] are allowed/);
  });

  it('docker rmi busybox fails with 409 while a container uses it', T, async () => {
    const r = await h().docker(['rmi', 'busybox']);
    if (r.code === 0) await importBusybox(h()); // keep the rest of the file working; the assertion below still fails
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /Error response from daemon: conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}/);
    const api = await h().api('DELETE', '/v1.41/images/busybox');
    if (api.status === 200) await importBusybox(h());
    assert.equal(api.status, 409, api.body.toString());
    assert.match((api.json as { message: string }).message, /^conflict: unable to remove repository reference "busybox" \(must force\)/);
    await ok(h(), ['image', 'inspect', 'busybox']);
  });

  it('docker stop -t 1 kills a PID 1 that ignores SIGTERM after about 1 s (exit 137)', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'sleeper', 'busybox', 'sleep', '100']);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}}', 'sleeper']), 'running');
    const t0 = Date.now();
    await ok(h(), ['stop', '-t', '1', 'sleeper']);
    const took = Date.now() - t0;
    assert.ok(took >= 950 && took < 4000, `docker stop -t 1 took ${took} ms`);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 'sleeper']), 'exited 137 false');
    assert.match(await ok(h(), ['ps', '-a', '--filter', 'name=^sleeper$', '--format', '{{.Status}}']), /^Exited \(137\) /);
  });

  it('docker logs shows stdout and stderr, --tail limits the lines', T, async () => {
    const r = await h().docker(['run', '--name', 'logger', 'busybox', 'sh', '-c', 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; sleep 0.1; echo err2 >&2']);
    assert.equal(r.code, 0, show(r));
    const logs = await h().docker(['logs', 'logger']);
    assert.equal(logs.code, 0, show(logs));
    assert.equal(logs.stdout, 'out1\nout2\n');
    assert.equal(logs.stderr, 'err1\nerr2\n');
    const tail1 = await h().docker(['logs', '--tail', '1', 'logger']);
    assert.equal(tail1.code, 0, show(tail1));
    assert.equal(tail1.stdout, '');
    assert.equal(tail1.stderr, 'err2\n');
    const tail2 = await h().docker(['logs', '--tail', '2', 'logger']);
    assert.equal(tail2.stdout, 'out2\n');
    assert.equal(tail2.stderr, 'err2\n');
    const ts = await h().docker(['logs', '-t', '--tail', '1', 'logger']);
    assert.match(ts.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z err2\n$/);
  });

  it('docker inspect -f formats fields of the container', T, async () => {
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.ExitCode}}', 'three']), '3');
    assert.equal(await ok(h(), ['inspect', '-f', '{{.Name}} {{.Config.Image}} {{json .Config.Cmd}}', 'three']), `/three busybox ["sh","-c","exit 3"]`);
    const full = JSON.parse(await ok(h(), ['inspect', 'three'])) as Array<{ Id: string; State: { Status: string } }>;
    assert.equal(full.length, 1);
    assert.match(full[0]!.Id, /^[0-9a-f]{64}$/);
    const missing = await h().docker(['inspect', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such object: nope/);
  });

  it('docker exec prints the output of a command in a running container and returns its exit code', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'box', 'busybox', 'sleep', '1000']);
    const r = await h().docker(['exec', 'box', 'sh', '-c', 'echo in-box $(hostname); echo to-stderr >&2; exit 4']);
    assert.equal(r.code, 4, show(r));
    const hostname = (await ok(h(), ['inspect', '-f', '{{.Config.Hostname}}', 'box']));
    assert.equal(r.stdout, `in-box ${hostname}\n`);
    assert.equal(r.stderr, 'to-stderr\n');
    const zero = await h().docker(['exec', 'box', 'cat', '/var/www/index.html']);
    assert.equal(zero.code, 0, show(zero));
    assert.equal(zero.stdout, 'hello from busybox\n');
    const env2 = await h().docker(['exec', '-e', 'FOO=bar', '-w', '/tmp', 'box', 'sh', '-c', 'echo $FOO $(pwd)']);
    assert.equal(env2.stdout, 'bar /tmp\n', show(env2));
    const stopped = await h().docker(['exec', 'three', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /is not running/);
  });

  it('docker cp copies a file out of a container and into one', T, async () => {
    const dir = fs.mkdtempSync(path.join(h().lab.dir, 'cp-'));
    await ok(h(), ['exec', 'box', 'sh', '-c', 'printf "made inside\\nline 2\\n" > /tmp/inside.txt']);
    await ok(h(), ['cp', 'box:/tmp/inside.txt', path.join(dir, 'out.txt')]);
    assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'made inside\nline 2\n');
    // out of a stopped container too
    await ok(h(), ['cp', 'three:/etc/passwd', path.join(dir, 'passwd')]);
    assert.match(fs.readFileSync(path.join(dir, 'passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    fs.writeFileSync(path.join(dir, 'in.txt'), 'from the host\n');
    await ok(h(), ['cp', path.join(dir, 'in.txt'), 'box:/tmp/copied-in.txt']);
    const r = await h().docker(['exec', 'box', 'cat', '/tmp/copied-in.txt']);
    assert.equal(r.stdout, 'from the host\n', show(r));
    // a directory into a directory
    fs.mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tree/sub/f'), 'deep\n');
    await ok(h(), ['cp', path.join(dir, 'tree'), 'box:/tmp/']);
    assert.equal((await h().docker(['exec', 'box', 'cat', '/tmp/tree/sub/f'])).stdout, 'deep\n');
    const missing = await h().docker(['cp', 'box:/no/such/file', path.join(dir, 'x')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /Could not find the file \/no\/such\/file in container box|No such container:path: box:\/no\/such\/file/);
  });

  it('docker top lists the container processes with host PIDs', T, async () => {
    const pid = await ok(h(), ['inspect', '-f', '{{.State.Pid}}', 'box']);
    assert.match(pid, /^[1-9]\d*$/);
    const out = await ok(h(), ['top', 'box']);
    const [head, ...rows] = out.split('\n');
    assert.match(head!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    const row = rows.find((r) => /\bsleep 1000$/.test(r));
    assert.ok(row, `no sleep 1000 in:\n${out}`);
    assert.equal(row.split(/\s+/)[1], pid, 'PID column is the host PID from inspect');
    const stopped = await h().docker(['top', 'three']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /is not running/);
  });

  it('docker pause freezes a container (Paused) and unpause resumes it', T, async () => {
    await ok(h(), ['run', '-d', '--name', 'pausable', 'busybox', 'sh', '-c', 'i=0; while true; do echo t$i; i=$((i+1)); sleep 0.1; done']);
    await until('some ticks', async () => (await ok(h(), ['logs', 'pausable'])).split('\n').length >= 3);
    await ok(h(), ['pause', 'pausable']);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', 'pausable']), 'paused true true');
    assert.match(await ok(h(), ['ps', '--filter', 'name=^pausable$', '--format', '{{.Status}}']), /^Up .* \(Paused\)$/);
    await sleep(300);
    const n1 = (await ok(h(), ['logs', 'pausable'])).split('\n').length;
    await sleep(1000);
    const n2 = (await ok(h(), ['logs', 'pausable'])).split('\n').length;
    assert.equal(n2, n1, 'no output while paused');
    const execPaused = await h().docker(['exec', 'pausable', 'true']);
    assert.notEqual(execPaused.code, 0);
    assert.match(execPaused.stderr, /is paused, unpause the container before exec/);
    await ok(h(), ['unpause', 'pausable']);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'pausable']), 'running false');
    await until('ticks after unpause', async () => (await ok(h(), ['logs', 'pausable'])).split('\n').length >= n2 + 3);
    const again = await h().docker(['unpause', 'pausable']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /is not paused/);
    await ok(h(), ['rm', '-f', 'pausable']);
  });

  it('docker rename changes the name', T, async () => {
    const id = await ok(h(), ['create', '--name', 'before-rename', 'busybox', 'true']);
    await ok(h(), ['rename', 'before-rename', 'after-rename']);
    assert.equal(await ok(h(), ['inspect', '-f', '{{.Id}} {{.Name}}', 'after-rename']), `${id} /after-rename`);
    const old = await h().docker(['inspect', 'before-rename']);
    assert.notEqual(old.code, 0);
    // the old name is free again, the new one is taken
    await ok(h(), ['create', '--name', 'before-rename', 'busybox', 'true']);
    const clash = await h().docker(['rename', 'before-rename', 'after-rename']);
    assert.notEqual(clash.code, 0);
    assert.match(clash.stderr, /Conflict\. The container name "\/after-rename" is already in use/);
    await ok(h(), ['rm', 'before-rename', 'after-rename']);
  });

  it('docker export | tar t lists the container filesystem', T, async () => {
    const r = await dockerSh(h(), 'docker export box | tar t');
    assert.equal(r.code, 0, show(r));
    const names = new Set(r.stdout.split('\n').map((n) => n.replace(/^\.\//, '').replace(/\/$/, '')));
    for (const n of ['bin/busybox', 'bin/sh', 'etc/passwd', 'tmp/inside.txt', 'tmp/copied-in.txt']) assert.ok(names.has(n), `${n} missing from export`);
  });

  it('docker image inspect, history and tag', T, async () => {
    const [img] = JSON.parse(await ok(h(), ['image', 'inspect', 'busybox'])) as Array<{
      Id: string; RepoTags: string[]; Config: { Cmd: string[] }; RootFS: { Type: string; Layers: string[] }; Size: number; Os: string; Architecture: string;
    }>;
    assert.ok(img);
    assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(img.RepoTags, ['busybox:latest']);
    assert.deepEqual(img.Config.Cmd, ['sh']);
    assert.equal(img.RootFS.Type, 'layers');
    assert.equal(img.RootFS.Layers.length, 1);
    assert.equal(img.Os, 'linux');
    assert.ok(img.Size > 500_000, `size ${img.Size}`);

    const hist = await ok(h(), ['history', 'busybox']);
    const [head, ...rows] = hist.split('\n');
    assert.match(head!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.equal(rows.length, 1, hist);
    assert.ok(rows[0]!.startsWith(img.Id.slice(7, 19)), hist);
    assert.match(rows[0]!, /Imported from -\s*$/);
    const histSize = await ok(h(), ['history', '--human=false', '--format', '{{.Size}}', 'busybox']);
    assert.equal(Number(histSize), img.Size);

    await ok(h(), ['tag', 'busybox', 'mybox:v1']);
    assert.equal(await ok(h(), ['image', 'inspect', '-f', '{{.Id}}', 'mybox:v1']), img.Id);
    const images = await ok(h(), ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.match(images, new RegExp(`^mybox:v1 ${img.Id.slice(7, 19)}$`, 'm'));
    assert.match(images, new RegExp(`^busybox:latest ${img.Id.slice(7, 19)}$`, 'm'));
    // untagging mybox:v1 leaves the image (still busybox)
    assert.match(await ok(h(), ['rmi', 'mybox:v1']), /^Untagged: mybox:v1$/);
    assert.equal(await ok(h(), ['image', 'inspect', '-f', '{{.Id}}', 'busybox']), img.Id);
  });

  it('docker save | docker load round trip', T, async () => {
    await importBusybox(h(), 'roundtrip:1');
    const id = await ok(h(), ['image', 'inspect', '-f', '{{.Id}}', 'roundtrip:1']);
    const dir = fs.mkdtempSync(path.join(h().lab.dir, 'save-'));
    const tarFile = path.join(dir, 'rt.tar');
    let r = await dockerSh(h(), `docker save roundtrip:1 > ${shq(tarFile)} && tar tf ${shq(tarFile)}`);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^manifest\.json$/m);
    assert.match(r.stdout, /^repositories$/m);
    const manifest = JSON.parse((await dockerSh(h(), `tar xOf ${shq(tarFile)} manifest.json`)).stdout) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    assert.deepEqual(manifest[0]!.RepoTags, ['roundtrip:1']);
    assert.equal(manifest[0]!.Layers.length, 1);

    const rmi = await ok(h(), ['rmi', 'roundtrip:1']);
    assert.match(rmi, /^Untagged: roundtrip:1$/m);
    assert.match(rmi, new RegExp(`^Deleted: ${id}$`, 'm'));
    assert.notEqual((await h().docker(['image', 'inspect', 'roundtrip:1'])).code, 0);

    r = await dockerSh(h(), `cat ${shq(tarFile)} | docker load`);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Loaded image: roundtrip:1$/m);
    assert.equal(await ok(h(), ['image', 'inspect', '-f', '{{.Id}}', 'roundtrip:1']), id);
    const out = await h().docker(['run', '--rm', 'roundtrip:1', 'cat', '/var/www/index.html']);
    assert.equal(out.stdout, 'hello from busybox\n', show(out));
    await ok(h(), ['rmi', 'roundtrip:1']);
  });

  it('docker events --since --until shows create, start and die of a container', T, async () => {
    const since = (Date.now() / 1000 - 1).toFixed(3);
    const r = await h().docker(['run', '--name', 'evented', 'busybox', 'sh', '-c', 'exit 2']);
    assert.equal(r.code, 2, show(r));
    const until2 = (Date.now() / 1000 + 1).toFixed(3);
    const t0 = Date.now();
    const ev = await h().docker(['events', '--since', since, '--until', until2, '--filter', 'container=evented', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'], { timeoutMs: 20_000 });
    assert.equal(ev.code, 0, show(ev));
    assert.ok(Date.now() - t0 < 10_000, 'docker events returns once --until has passed');
    const lines = ev.stdout.trim().split('\n');
    const actions = lines.map((l) => l.split(' ')[1]);
    const iCreate = actions.indexOf('create');
    const iStart = actions.indexOf('start');
    const iDie = actions.indexOf('die');
    assert.ok(iCreate >= 0 && iStart > iCreate && iDie > iStart, `expected create < start < die in:\n${ev.stdout}`);
    assert.equal(lines[iDie], 'container die evented 2');
    for (const l of lines) assert.match(l, /^container \S+ evented /);
    // a window before the container existed has none of its events
    const before = await h().docker(['events', '--since', String(Math.floor(Number(since)) - 600), '--until', String(Math.floor(Number(since)) - 300), '--filter', 'container=evented'], { timeoutMs: 20_000 });
    assert.equal(before.code, 0, show(before));
    assert.equal(before.stdout, '');
  });

  it('docker start -a runs an exited container again and streams its output; attach refuses it', T, async () => {
    const h = env.host(1);
    const first = await h.docker(['run', '--name', 'again', 'busybox', 'sh', '-c', 'echo run-$$-$RANDOM; exit 4']);
    assert.equal(first.code, 4, show(first));
    const again = await h.docker(['start', '-a', 'again']);
    assert.equal(again.code, 4, show(again));
    assert.match(again.stdout, /^run-1-\d+\n$/);
    assert.notEqual(again.stdout, first.stdout);
    const att = await h.docker(['attach', 'again']);
    assert.equal(att.code, 1);
    assert.match(att.stderr, /You cannot attach to a stopped container, start it first/);
    assert.equal((await ok(h, ['logs', 'again'])).split('\n').filter(Boolean).length, 2);
    await ok(h, ['rm', 'again']);
  });
});
