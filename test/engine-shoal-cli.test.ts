// The shoal CLI (bin/shoal) against shoald for the main flows; where a format is Docker's, the
// real docker CLI against the same daemon is the reference. One lab, one daemon for the file.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { useLab, type Host } from './harness/hosts.js';
import { busyboxRootfsTar } from './harness/busybox.js';
import { sleep } from './harness/run.js';
import { alive, dockerOk, shoalOk, show } from './harness/checks.js';

const T = { timeout: 90_000 };

describe('the shoal CLI', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = (): Host => env.host(1);

  it('shoal run --rm busybox echo hi prints hi and exits 0', T, async () => {
    for (let i = 0; i < 3; i++) {
      const r = await h().shoal(['run', '--rm', '--name', `hi${i}`, 'busybox', 'echo', 'hi'], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, 'hi\n', `attempt ${i + 1}: ${show(r)}`);
      assert.equal(r.stderr, '');
    }
    assert.equal((await dockerOk(h(), ['ps', '-a', '-q', '--filter', 'name=^hi'])).trim(), '', '--rm removed them');
  });

  it('shoal run passes the exit code through (exit 5; 127 for a missing command)', T, async () => {
    const five = await h().shoal(['run', '--name', 'five', 'busybox', 'sh', '-c', 'exit 5'], { timeoutMs: 30_000 });
    assert.equal(five.code, 5, show(five));
    const missing = await h().shoal(['run', '--name', 'nocmd', 'busybox', 'nosuchcommand'], { timeoutMs: 30_000 });
    assert.equal(missing.code, 127, show(missing));
    assert.match(missing.stderr, /executable file not found/);
    const detached = await h().shoal(['run', '-d', '--name', 'bg', 'busybox', 'sleep', '1000'], { timeoutMs: 30_000 });
    assert.equal(detached.code, 0, show(detached));
    assert.match(detached.stdout, /^[0-9a-f]{64}\n$/);
  });

  it("shoal ps -a --format '{{.Names}} {{.Status}}'", T, async () => {
    const out = await shoalOk(h(), ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    const lines = out.trim().split('\n');
    assert.ok(lines.some((l) => /^five Exited \(5\) .+ ago$/.test(l)), out);
    assert.ok(lines.some((l) => /^bg Up /.test(l)), out);
    assert.ok(lines.some((l) => /^nocmd Created$/.test(l)), out);
    const running = await shoalOk(h(), ['ps', '--format', '{{.Names}}']);
    assert.deepEqual(running.trim().split('\n'), ['bg']);
    // the same listing as the docker CLI (time-independent columns)
    const fmt = '{{.ID}} {{.Image}} {{.Command}} {{.Names}} {{.State}}';
    assert.equal(await shoalOk(h(), ['ps', '-a', '--no-trunc', '--format', fmt]), await dockerOk(h(), ['ps', '-a', '--no-trunc', '--format', fmt]));
    // default table
    const table = (await shoalOk(h(), ['ps', '-a'])).split('\n');
    assert.match(table[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.ok(table.some((l) => /^[0-9a-f]{12}\s+busybox\s+"sh -c 'exit 5'"\s+.*Exited \(5\).*\s+five$/.test(l)), table.join('\n'));
  });

  it('shoal images has docker\'s columns and rows', T, async () => {
    const out = await shoalOk(h(), ['images']);
    const [head, ...rows] = out.trim().split('\n');
    assert.match(head!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.equal(head!.replace(/\s+$/, ''), (await dockerOk(h(), ['images'])).split('\n')[0]!.replace(/\s+$/, ''), 'same header as docker images');
    assert.ok(rows.some((r) => /^busybox\s+latest\s+[0-9a-f]{12}\s+.+ ago\s+\d+(\.\d+)?[kMG]?B$/.test(r)), out);
    const fmt = '{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}';
    assert.equal(await shoalOk(h(), ['images', '--format', fmt]), await dockerOk(h(), ['images', '--format', fmt]));
    const q = (await shoalOk(h(), ['images', '-q'])).trim();
    assert.equal(q, (await dockerOk(h(), ['images', '-q'])).trim());
  });

  it('shoal logs and shoal inspect -f', T, async () => {
    const id = (await shoalOk(h(), ['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo line1; sleep 0.1; echo oops >&2; sleep 0.1; echo line2'])).trim();
    assert.equal((await dockerOk(h(), ['wait', 'talker'])).trim(), '0');
    const logs = await h().shoal(['logs', 'talker'], { timeoutMs: 30_000 });
    assert.equal(logs.code, 0, show(logs));
    assert.equal(logs.stdout, 'line1\nline2\n');
    assert.equal(logs.stderr, 'oops\n');
    const tail = await h().shoal(['logs', '--tail', '1', 'talker'], { timeoutMs: 30_000 });
    assert.equal(tail.stdout, 'line2\n');
    assert.equal(tail.stderr, '');
    assert.equal((await shoalOk(h(), ['inspect', '-f', '{{.State.ExitCode}}', 'five'])).trim(), '5');
    assert.equal((await shoalOk(h(), ['inspect', '-f', '{{.Id}} {{.Name}} {{.State.Status}}', 'talker'])).trim(), `${id} /talker exited`);
    assert.equal((await shoalOk(h(), ['inspect', '-f', '{{json .Config.Cmd}}', 'talker'])).trim(), JSON.stringify(['sh', '-c', 'echo line1; sleep 0.1; echo oops >&2; sleep 0.1; echo line2']));
    const full = JSON.parse(await shoalOk(h(), ['inspect', 'five', 'talker'])) as Array<{ Name: string }>;
    assert.deepEqual(full.map((c) => c.Name), ['/five', '/talker']);
    const missing = await h().shoal(['inspect', 'nope'], { timeoutMs: 30_000 });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such object: nope/);
  });

  it('shoal rm -f removes a running container and its process', T, async () => {
    const pid = Number((await shoalOk(h(), ['inspect', '-f', '{{.State.Pid}}', 'bg'])).trim());
    assert.ok(pid > 0 && alive(pid));
    const out = await shoalOk(h(), ['rm', '-f', 'bg', 'five']);
    assert.equal(out, 'bg\nfive');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    assert.ok(!alive(pid), 'the container process is gone');
    assert.equal((await dockerOk(h(), ['ps', '-a', '-q', '--filter', 'name=^(bg|five)$'])).trim(), '');
    const again = await h().shoal(['rm', 'bg'], { timeoutMs: 30_000 });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /No such container: bg/);
    const rest = await h().shoal(['rm', 'talker', 'nocmd'], { timeoutMs: 30_000 });
    assert.equal(rest.code, 0, show(rest));
  });

  it('shoal import makes an image from a rootfs tar (file and stdin, with --change)', T, async () => {
    const tar = await busyboxRootfsTar();
    const id = (await shoalOk(h(), ['import', '--change', 'CMD ["cat", "/var/www/index.html"]', '--change', 'ENV GREETING=hi', tar, 'imported:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const [img] = JSON.parse(await dockerOk(h(), ['image', 'inspect', 'imported:v1'])) as Array<{ Id: string; Config: { Cmd: string[]; Env: string[] } }>;
    assert.equal(img!.Id, id);
    assert.deepEqual(img!.Config.Cmd, ['cat', '/var/www/index.html']);
    assert.ok(img!.Config.Env.includes('GREETING=hi'), JSON.stringify(img!.Config.Env));
    // from stdin
    const id2 = (await shoalOk(h(), ['import', '-', 'imported:stdin'], { input: fs.readFileSync(tar) })).trim();
    assert.match(id2, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await dockerOk(h(), ['image', 'inspect', '-f', '{{.RootFS.Layers}}', 'imported:stdin'])).trim(),
      (await dockerOk(h(), ['image', 'inspect', '-f', '{{.RootFS.Layers}}', 'imported:v1'])).trim(), 'same content, same layer');
    const images = await shoalOk(h(), ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.ok(images.split('\n').includes('imported:v1') && images.split('\n').includes('imported:stdin'), images);
    // a container of the imported image runs its CMD (with Docker's default PATH: the image's
    // ENV has none)
    const runOut = await h().docker(['run', '-d', 'imported:v1'], { timeoutMs: 30_000 });
    assert.equal(runOut.code, 0, show(runOut));
    const cid = runOut.stdout.trim();
    assert.equal((await dockerOk(h(), ['wait', cid])).trim(), '0');
    assert.equal(await dockerOk(h(), ['logs', cid]), 'hello from busybox');
    await dockerOk(h(), ['rm', cid]);
    await shoalOk(h(), ['rmi', 'imported:v1', 'imported:stdin']);
  });

  it('shoal version and shoal info', T, async () => {
    const v = await shoalOk(h(), ['version']);
    assert.match(v, /^Client:/m);
    assert.match(v, /^Server:/m);
    assert.match(v, /API version:\s+1\.41/);
    assert.equal((await shoalOk(h(), ['version', '--format', '{{.Server.APIVersion}}'])).trim(), '1.41');
    assert.equal((await shoalOk(h(), ['version', '--format', '{{.Client.APIVersion}}'])).trim(), '1.41');
    const info = await shoalOk(h(), ['info']);
    assert.match(info, /^Server:/m);
    assert.match(info, /^ Containers: \d+$/m);
    assert.match(info, /^ Images: \d+$/m);
    assert.match(info, /^ Storage Driver: overlay2$/m);
    assert.match(info, /^ Name: h1$/m);
    const n = (await shoalOk(h(), ['info', '--format', '{{.Containers}} {{.Images}} {{.Name}}'])).trim();
    assert.equal(n, (await dockerOk(h(), ['info', '--format', '{{.Containers}} {{.Images}} {{.Name}}'])).trim());
  });
});
