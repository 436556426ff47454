// Volumes end to end against one shoald: named and anonymous volumes outlive their containers,
// are filled from the image, can be read-only, shared with --volumes-from, refused removal while in
// use, pruned when unused, removed with `rm -v`; the shoal CLI and the real docker CLI drive them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useLab, type Host } from './harness/hosts.js';
import { busyboxRootfsTar } from './harness/busybox.js';

async function shoal(h: Host, args: string[], input?: string): Promise<string> {
  const r = await h.shoal(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `shoal ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

async function docker(h: Host, args: string[]): Promise<string> {
  const r = await h.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

async function inspectMounts(h: Host, ref: string): Promise<any[]> {
  return JSON.parse(await shoal(h, ['inspect', '-f', '{{json .Mounts}}', ref]));
}

async function volumeNames(h: Host): Promise<string[]> {
  return (await shoal(h, ['volume', 'ls', '-q'])).split('\n').filter(Boolean);
}

describe('volumes', () => {
  const env = useLab({ hosts: 1, busybox: true });
  const h = () => env.host(1);

  it('keeps data written by one container for the next one, after the first is removed', async () => {
    assert.equal(await shoal(h(), ['volume', 'create', 'data1']), 'data1');
    await shoal(h(), ['run', '--name', 'writer', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo persisted > /data/file; chown 33:33 /data/file']);
    await shoal(h(), ['rm', 'writer']);
    assert.ok((await volumeNames(h())).includes('data1'));
    const out = await shoal(h(), ['run', '--rm', '-v', 'data1:/mnt', 'busybox', 'sh', '-c', 'cat /mnt/file; stat -c %u /mnt/file']);
    assert.equal(out, 'persisted\n33');
    // the data really lives in the volume's mountpoint under the data root
    const v = JSON.parse(await shoal(h(), ['volume', 'inspect', 'data1']))[0];
    assert.equal(v.Mountpoint, path.join(h().dataRoot, 'volumes', 'data1', '_data'));
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'file'), 'utf8'), 'persisted\n');
    assert.deepEqual(Object.keys(v).sort(), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.equal(v.Driver, 'local');
    assert.equal(v.Scope, 'local');
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  });

  it('creates a named volume on first use and fills it from the image content at the mount path', async () => {
    const out = await shoal(h(), ['run', '--name', 'etcuser', '-v', 'etcvol:/etc', 'busybox', 'sh', '-c', 'cat /etc/passwd; ls -ld /etc']);
    assert.match(out, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    assert.match(out, /www-data:x:33:33/);
    const mounts = await inspectMounts(h(), 'etcuser');
    const m = mounts.find((x) => x.Destination === '/etc');
    assert.deepEqual(m, {
      Type: 'volume', Name: 'etcvol', Source: path.join(h().dataRoot, 'volumes', 'etcvol', '_data'), Destination: '/etc',
      Driver: 'local', Mode: 'z', RW: true, Propagation: '',
    });
    // the copy sits in the volume itself, with the image's modes
    const passwd = path.join(m.Source, 'passwd');
    assert.match(fs.readFileSync(passwd, 'utf8'), /^root:x:0:0/);
    assert.equal(fs.statSync(passwd).mode & 0o777, 0o644);
    // volume-nocopy leaves a new volume empty
    const empty = await shoal(h(), ['run', '--rm', '--mount', 'type=volume,source=etcvol2,target=/etc,volume-nocopy', 'busybox', 'ls', '-A', '/etc']);
    assert.doesNotMatch(empty, /passwd/);
    // a volume that has content is not overwritten by another image path
    const again = await shoal(h(), ['run', '--rm', '-v', 'etcvol:/var/www', 'busybox', 'ls', '/var/www']);
    assert.match(again, /passwd/);
    assert.doesNotMatch(again, /index\.html/);
  });

  it('mounts read-only with :ro and readonly (writes fail)', async () => {
    await shoal(h(), ['volume', 'create', 'rovol']);
    const r = await h().shoal(['run', '--rm', '-v', 'rovol:/ro:ro', 'busybox', 'sh', '-c', 'echo x > /ro/f']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Read-only file system/);
    const r2 = await h().shoal(['run', '--rm', '--mount', 'type=volume,source=rovol,target=/ro,readonly', 'busybox', 'touch', '/ro/g']);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr + r2.stdout, /Read-only file system/);
    assert.deepEqual(fs.readdirSync(path.join(h().dataRoot, 'volumes', 'rovol', '_data')), []);
    // while the rw mount works
    await shoal(h(), ['run', '--rm', '-v', 'rovol:/rw', 'busybox', 'touch', '/rw/ok']);
    assert.deepEqual(fs.readdirSync(path.join(h().dataRoot, 'volumes', 'rovol', '_data')), ['ok']);
  });

  it('refuses to remove a volume in use (409, docker CLI exit 1) and removes it once free', async () => {
    await shoal(h(), ['volume', 'create', 'busyvol']);
    const id = await shoal(h(), ['run', '-d', '--name', 'holder', '-v', 'busyvol:/b', 'busybox', 'sleep', '300']);
    const api = await h().api('DELETE', '/v1.41/volumes/busyvol');
    assert.equal(api.status, 409);
    assert.deepEqual(JSON.parse(api.body.toString()), { message: `remove busyvol: volume is in use - [${id}]` });
    const cli = await h().shoal(['volume', 'rm', 'busyvol']);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr.trim(), `Error response from daemon: remove busyvol: volume is in use - [${id}]`);
    const dk = await h().docker(['volume', 'rm', 'busyvol']);
    assert.equal(dk.code, 1);
    assert.match(dk.stderr, /remove busyvol: volume is in use/);
    // a stopped container still uses it
    await shoal(h(), ['stop', '-t', '0', 'holder']);
    assert.equal((await h().api('DELETE', '/v1.41/volumes/busyvol')).status, 409);
    await shoal(h(), ['rm', 'holder']);
    assert.equal(await shoal(h(), ['volume', 'rm', 'busyvol']), 'busyvol');
    const gone = await h().api('GET', '/v1.41/volumes/busyvol');
    assert.equal(gone.status, 404);
    assert.deepEqual(JSON.parse(gone.body.toString()), { message: 'get busyvol: no such volume' });
    assert.equal(fs.existsSync(path.join(h().dataRoot, 'volumes', 'busyvol')), false);
    // -f ignores a missing volume
    assert.equal(await shoal(h(), ['volume', 'rm', '-f', 'busyvol']), 'busyvol');
  });

  it('prunes only unused volumes', async () => {
    await shoal(h(), ['volume', 'create', '--label', 'p=1', 'prune-free']);
    await shoal(h(), ['volume', 'create', '--label', 'p=1', 'prune-used']);
    await shoal(h(), ['run', '--name', 'pruneuser', '-v', 'prune-used:/u', 'busybox', 'sh', '-c', 'echo 12345 > /u/f']);
    await shoal(h(), ['run', '--rm', '-v', 'prune-free:/u', 'busybox', 'sh', '-c', 'echo 1234567 > /u/f']);
    const out = await shoal(h(), ['volume', 'prune', '-f', '--filter', 'label=p=1']);
    assert.equal(out, 'Deleted Volumes:\nprune-free\n\nTotal reclaimed space: 8B');
    const names = await volumeNames(h());
    assert.ok(!names.includes('prune-free'));
    assert.ok(names.includes('prune-used'));
    assert.equal(fs.readFileSync(path.join(h().dataRoot, 'volumes', 'prune-used', '_data', 'f'), 'utf8'), '12345\n');
    // the prompt, answered no, removes nothing
    const no = await h().shoal(['volume', 'prune'], { input: 'n\n' });
    assert.equal(no.code, 0);
    assert.match(no.stdout, /WARNING! This will remove all local volumes not used by at least one container\./);
    assert.ok((await volumeNames(h())).includes('prune-used'));
    await shoal(h(), ['rm', 'pruneuser']);
    const api = await h().api('POST', '/v1.41/volumes/prune?filters=' + encodeURIComponent('{"label":{"p=1":true}}'));
    assert.equal(api.status, 200);
    assert.deepEqual(JSON.parse(api.body.toString()), { VolumesDeleted: ['prune-used'], SpaceReclaimed: 6 });
  });

  it('removes the anonymous volume of -v /data with rm -v, keeping named ones', async () => {
    const id = await shoal(h(), ['create', '--name', 'anon', '-v', '/data', '-v', 'keepme:/keep', 'busybox', 'sh', '-c', 'echo a > /data/x; echo k > /keep/x']);
    await shoal(h(), ['start', '-a', 'anon']);
    const mounts = await inspectMounts(h(), id);
    const anon = mounts.find((m) => m.Destination === '/data');
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.equal(anon.Mode, '');
    assert.equal(anon.RW, true);
    assert.equal(fs.readFileSync(path.join(anon.Source, 'x'), 'utf8'), 'a\n');
    assert.deepEqual(JSON.parse(await shoal(h(), ['inspect', '-f', '{{json .Config.Volumes}}', id])), { '/data': {} });
    assert.ok((await volumeNames(h())).includes(anon.Name));
    await shoal(h(), ['rm', '-v', 'anon']);
    const names = await volumeNames(h());
    assert.ok(!names.includes(anon.Name), 'anonymous volume removed');
    assert.ok(names.includes('keepme'), 'named volume kept');
    assert.equal(fs.existsSync(anon.Source), false);
    // run --rm removes its anonymous volumes too
    const before = await volumeNames(h());
    await shoal(h(), ['run', '--rm', '-v', '/scratch', 'busybox', 'touch', '/scratch/x']);
    assert.deepEqual(await volumeNames(h()), before);
    // without -v the anonymous volume stays (dangling)
    await shoal(h(), ['run', '--name', 'anon2', '-v', '/scratch', 'busybox', 'true']);
    const name2 = (await inspectMounts(h(), 'anon2'))[0].Name;
    await shoal(h(), ['rm', 'anon2']);
    assert.ok((await shoal(h(), ['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').includes(name2));
    await shoal(h(), ['volume', 'rm', name2]);
  });

  it('creates anonymous volumes for an image VOLUME, filled from the image', async () => {
    const tar = await busyboxRootfsTar();
    await shoal(h(), ['import', '--change', 'CMD ["sh"]', '--change', 'VOLUME /var/www', tar, 'bbvol:latest']);
    await shoal(h(), ['run', '--name', 'imgvol', 'bbvol', 'sh', '-c', 'echo more >> /var/www/index.html']);
    const m = (await inspectMounts(h(), 'imgvol')).find((x) => x.Destination === '/var/www');
    assert.equal(m.Type, 'volume');
    assert.match(m.Name, /^[0-9a-f]{64}$/);
    assert.equal(fs.readFileSync(path.join(m.Source, 'index.html'), 'utf8'), 'hello from busybox\nmore\n');
    // --volumes-from shares the same volume (and sees the data)
    const seen = await shoal(h(), ['run', '--rm', '--volumes-from', 'imgvol', 'bbvol', 'cat', '/var/www/index.html']);
    assert.equal(seen, 'hello from busybox\nmore');
    await shoal(h(), ['rm', '-v', 'imgvol']);
    assert.ok(!(await volumeNames(h())).includes(m.Name));
  });

  it('shares volumes with --volumes-from, read-only with :ro', async () => {
    await shoal(h(), ['run', '--name', 'vsrc', '-v', 'shared:/shared', '-v', '/anonshared', 'busybox', 'sh', '-c', 'echo from-src > /shared/f; echo anon > /anonshared/g']);
    const out = await shoal(h(), ['run', '--name', 'vdst', '--volumes-from', 'vsrc', 'busybox', 'sh', '-c', 'cat /shared/f /anonshared/g; echo back > /shared/back']);
    assert.equal(out, 'from-src\nanon');
    assert.equal(fs.readFileSync(path.join(h().dataRoot, 'volumes', 'shared', '_data', 'back'), 'utf8'), 'back\n');
    const dst = await inspectMounts(h(), 'vdst');
    const src = await inspectMounts(h(), 'vsrc');
    assert.equal(dst.find((m) => m.Destination === '/anonshared').Name, src.find((m) => m.Destination === '/anonshared').Name);
    const ro = await h().shoal(['run', '--rm', '--volumes-from', 'vsrc:ro', 'busybox', 'sh', '-c', 'cat /shared/f; echo x > /shared/nope']);
    assert.notEqual(ro.code, 0);
    assert.equal(ro.stdout, 'from-src\n');
    assert.match(ro.stderr, /Read-only file system/);
    // rm -v of the borrower does not take the source's anonymous volume
    await shoal(h(), ['rm', '-v', 'vdst']);
    const anonName = src.find((m) => m.Destination === '/anonshared').Name;
    assert.ok((await volumeNames(h())).includes(anonName));
    assert.equal(await shoal(h(), ['ps', '-a', '--filter', 'volume=shared', '--format', '{{.Names}}']), 'vsrc');
    assert.equal(await shoal(h(), ['ps', '-a', '--filter', 'volume=/anonshared', '--format', '{{.Names}}']), 'vsrc');
    await shoal(h(), ['rm', '-v', 'vsrc']);
    assert.ok(!(await volumeNames(h())).includes(anonName));
    const bad = await h().api('POST', '/v1.41/containers/create', { body: { Image: 'busybox', Cmd: ['true'], HostConfig: { VolumesFrom: ['nosuch'] } } });
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body.toString()), { message: 'No such container: nosuch' });
  });

  it('supports --mount bind and tmpfs next to volumes, with Docker\'s Mounts shapes and errors', async () => {
    const hostDir = path.join(h().dir, 'bindsrc');
    fs.mkdirSync(hostDir, { recursive: true });
    fs.writeFileSync(path.join(hostDir, 'hello'), 'from host\n');
    const out = await shoal(h(), ['run', '--name', 'mnts', '--mount', `type=bind,source=${hostDir},target=/h,readonly`,
      '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'cat /h/hello; stat -c %a /t; grep " /t " /proc/mounts']);
    const lines = out.split('\n');
    assert.equal(lines[0], 'from host');
    assert.equal(lines[1], '1770');
    assert.match(lines[2], /tmpfs \/t tmpfs .*size=1024k/);
    const mounts = await inspectMounts(h(), 'mnts');
    assert.deepEqual(mounts.find((m) => m.Destination === '/h'), { Type: 'bind', Source: hostDir, Destination: '/h', Mode: '', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(mounts.find((m) => m.Destination === '/t'), { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' });
    const cases: [any, number, string][] = [
      [{ Binds: ['foo/x:/d'] }, 400, 'create foo/x: "foo/x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      [{ Binds: ['ab:/d', 'cd:/d'] }, 400, 'Duplicate mount point: /d'],
      [{ Binds: ['ab:/d:xx'] }, 400, 'invalid mode: xx'],
      [{ Mounts: [{ Type: 'bind', Source: '/nonexistent-src', Target: '/x' }] }, 400, 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-src'],
      [{ Mounts: [{ Type: 'volume', Source: 'qq' }] }, 400, 'invalid mount config for type "volume": field Target must not be empty'],
    ];
    for (const [hc, status, message] of cases) {
      const r = await h().api('POST', '/v1.41/containers/create', { body: { Image: 'busybox', Cmd: ['true'], HostConfig: hc } });
      assert.equal(r.status, status, JSON.stringify(hc));
      assert.deepEqual(JSON.parse(r.body.toString()), { message });
    }
    assert.ok(!(await volumeNames(h())).includes('ab'), 'a failed create makes no volume');
  });

  it('serves the volume API like Docker (create is idempotent, filters, errors, options)', async () => {
    const c1 = await h().api('POST', '/v1.41/volumes/create', { body: { Name: 'apivol', Labels: { a: 'b' } } });
    assert.equal(c1.status, 201);
    const v1 = JSON.parse(c1.body.toString());
    assert.deepEqual(v1.Labels, { a: 'b' });
    assert.equal(v1.Options, null);
    const c2 = await h().api('POST', '/v1.41/volumes/create', { body: { Name: 'apivol', Labels: { x: 'y' } } });
    assert.equal(c2.status, 201);
    assert.deepEqual(JSON.parse(c2.body.toString()), v1);
    const anon = JSON.parse((await h().api('POST', '/v1.41/volumes/create', { body: {} })).body.toString());
    assert.match(anon.Name, /^[0-9a-f]{64}$/);
    assert.equal(anon.Labels, null);
    const bad = await h().api('POST', '/v1.41/volumes/create', { body: { Name: 'f' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body.toString()), { message: 'create f: volume name is too short, names should be at least two alphanumeric characters' });
    const drv = await h().api('POST', '/v1.41/volumes/create', { body: { Name: 'xx', Driver: 'nope' } });
    assert.equal(drv.status, 404);
    const opt = await h().api('POST', '/v1.41/volumes/create', { body: { Name: 'xx', DriverOpts: { foo: 'bar' } } });
    assert.deepEqual(JSON.parse(opt.body.toString()), { message: 'create xx: invalid option: "foo"' });
    const list = JSON.parse((await h().api('GET', '/v1.41/volumes?filters=' + encodeURIComponent('{"label":["a=b"]}'))).body.toString());
    assert.deepEqual(list, { Volumes: [{ ...v1 }], Warnings: null });
    const byName = JSON.parse((await h().api('GET', '/v1.41/volumes?filters=' + encodeURIComponent('{"name":["apiv"]}'))).body.toString());
    assert.deepEqual(byName.Volumes.map((v: any) => v.Name), ['apivol']);
    const badFilter = await h().api('GET', '/v1.41/volumes?filters=' + encodeURIComponent('{"bogus":["1"]}'));
    assert.equal(badFilter.status, 400);
    assert.deepEqual(JSON.parse(badFilter.body.toString()), { message: "Invalid filter 'bogus'" });
    // the local driver's tmpfs option: the volume is a tmpfs while a container uses it
    await shoal(h(), ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', 'tmpvol']);
    const mnt = await shoal(h(), ['run', '--rm', '-v', 'tmpvol:/tv', 'busybox', 'sh', '-c', 'grep " /tv " /proc/mounts']);
    assert.match(mnt, /^tmpfs \/tv tmpfs .*size=2048k/);
    const ins = JSON.parse(await shoal(h(), ['volume', 'inspect', 'tmpvol']))[0];
    assert.deepEqual(ins.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' });
    assert.equal(await shoal(h(), ['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'tmpvol']), 'tmpvol local');
    const missing = await h().shoal(['volume', 'inspect', 'nosuchvol']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'Error response from daemon: get nosuchvol: no such volume');
    for (const n of ['apivol', anon.Name, 'tmpvol']) await shoal(h(), ['volume', 'rm', n]);
  });

  it('lists volumes with docker\'s columns in the shoal CLI and the real docker CLI', async () => {
    await shoal(h(), ['volume', 'create', '--label', 'team=blue', 'lsvol']);
    const table = await shoal(h(), ['volume', 'ls', '--filter', 'name=lsvol']);
    assert.equal(table, 'DRIVER    VOLUME NAME\nlocal     lsvol');
    const dk = await docker(h(), ['volume', 'ls', '--filter', 'name=lsvol']);
    assert.equal(dk, 'DRIVER    VOLUME NAME\nlocal     lsvol');
    assert.equal(await docker(h(), ['volume', 'ls', '-q', '--filter', 'label=team=blue']), 'lsvol');
    assert.equal(await shoal(h(), ['volume', 'ls', '--filter', 'label=team', '--format', '{{.Name}}|{{.Driver}}|{{.Labels}}|{{.Scope}}']), 'lsvol|local|team=blue|local');
    assert.equal(await docker(h(), ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'lsvol']), path.join(h().dataRoot, 'volumes', 'lsvol', '_data'));
    // docker run -v with a named volume through the real CLI
    assert.equal(await docker(h(), ['run', '--rm', '-v', 'lsvol:/x', 'busybox', 'sh', '-c', 'echo d > /x/d; cat /x/d']), 'd');
    const df = JSON.parse((await h().api('GET', '/v1.41/system/df')).body.toString());
    const usage = df.Volumes.find((v: any) => v.Name === 'lsvol');
    assert.deepEqual(usage.UsageData, { Size: 2, RefCount: 0 });
    assert.equal(await docker(h(), ['volume', 'rm', 'lsvol']), 'lsvol');
  });

  it('keeps volumes across a daemon restart', async () => {
    await shoal(h(), ['volume', 'create', '--label', 'k=v', 'survivor']);
    await shoal(h(), ['run', '--name', 'restartuser', '-v', 'survivor:/s', 'busybox', 'sh', '-c', 'echo still > /s/f']);
    await h().stopDaemon();
    await h().startDaemon();
    const v = JSON.parse(await shoal(h(), ['volume', 'inspect', 'survivor']))[0];
    assert.deepEqual(v.Labels, { k: 'v' });
    await shoal(h(), ['start', 'restartuser']);
    assert.equal(await shoal(h(), ['wait', 'restartuser']), '0');
    assert.equal(await shoal(h(), ['run', '--rm', '-v', 'survivor:/s', 'busybox', 'cat', '/s/f']), 'still');
    assert.equal((await h().api('DELETE', '/v1.41/volumes/survivor')).status, 409);
    await shoal(h(), ['rm', 'restartuser']);
    await shoal(h(), ['volume', 'rm', 'survivor']);
  });

  it('unmounts a tmpfs-driver volume when its last running user stops, also one started before a daemon restart', async () => {
    await shoal(h(), ['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'tmpsurv']);
    const mp = path.join(h().dataRoot, 'volumes', 'tmpsurv', '_data');
    const mounted = async () => (await h().execOk(['cat', '/proc/self/mountinfo'])).split('\n').some((l) => l.split(' ')[4] === mp);
    await shoal(h(), ['run', '-d', '--name', 'tmpa', '-v', 'tmpsurv:/v', 'busybox', 'sleep', '300']);
    await shoal(h(), ['run', '-d', '--name', 'tmpb', '-v', 'tmpsurv:/v', 'busybox', 'sleep', '300']);
    await shoal(h(), ['exec', 'tmpa', 'sh', '-c', 'echo shared > /v/f']);
    assert.equal(await shoal(h(), ['exec', 'tmpb', 'cat', '/v/f']), 'shared');
    assert.ok(await mounted());
    await h().stopDaemon();
    await h().startDaemon();
    await shoal(h(), ['rm', '-f', 'tmpa']);
    assert.ok(await mounted(), 'still used by tmpb');
    assert.equal(await shoal(h(), ['exec', 'tmpb', 'cat', '/v/f']), 'shared');
    await shoal(h(), ['rm', '-f', 'tmpb']);
    assert.equal(await mounted(), false);
    await shoal(h(), ['volume', 'rm', 'tmpsurv']);
  });
});
