import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../events.js';
import { VolumeStore } from '../volumes/volume-store.js';
import {
  copyImageContent, hasVolume, mountsSummary, parseBind, resolveInRoot, resolveMounts, specMounts, validateMount, validMountMode,
  volumeUsers, type MountPoint,
} from './mounts.js';
import type { ContainerRecord } from './types.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
function tmp(): string { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-mounts-')); dirs.push(d); return d; }

const log: any = { debug() {}, info() {}, warn() {}, error() {} };
async function store(): Promise<VolumeStore> {
  const v = new VolumeStore({ root: path.join(tmp(), 'volumes'), events: new EventBus(), log });
  await v.init();
  return v;
}

function record(id: string, mountPoints: MountPoint[], hc: any = {}): ContainerRecord {
  return {
    Id: id, Name: `/${id}`, HostConfig: hc, Config: {}, Mounts: mountsSummary(mountPoints), ResolvConfPath: '/r', HostnamePath: '/hn', HostsPath: '/h',
    shoal: { manuallyStopped: false, cgroupPath: '', mountPoints },
  } as unknown as ContainerRecord;
}

test('mount modes: one of each kind, all known', () => {
  for (const ok of ['', 'ro', 'rw', 'ro,z', 'Z', 'nocopy', 'rshared', 'ro,rslave,nocopy,z,cached']) assert.ok(validMountMode(ok), ok);
  for (const bad of ['xx', 'ro,rw', 'z,Z', 'shared,slave', 'ro,', 'nocopy,nocopy']) assert.ok(!validMountMode(bad), bad);
});

test('-v forms: bind, named volume, anonymous, modes and propagation', () => {
  assert.deepEqual(parseBind('/host/dir/:/ctr'), { type: 'bind', source: '/host/dir', destination: '/ctr', mode: '', rw: true, propagation: 'rprivate', copyData: true });
  assert.deepEqual(parseBind('/h:/c:ro,rshared'), { type: 'bind', source: '/h', destination: '/c', mode: 'ro,rshared', rw: false, propagation: 'rshared', copyData: true });
  assert.deepEqual(parseBind('data:/data'), { type: 'volume', source: 'data', destination: '/data', mode: 'z', rw: true, propagation: '', copyData: true });
  assert.deepEqual(parseBind('data:/data:ro'), { type: 'volume', source: 'data', destination: '/data', mode: 'ro', rw: false, propagation: '', copyData: true });
  assert.equal(parseBind('data:/data:nocopy').copyData, false);
  assert.deepEqual(parseBind('/anon'), { type: 'volume', source: '', destination: '/anon', mode: 'z', rw: true, propagation: '', copyData: true });
});

test('-v errors have Docker\'s texts', () => {
  assert.throws(() => parseBind('a:b:c:d'), { message: "invalid volume specification: 'a:b:c:d'" });
  assert.throws(() => parseBind(':/x'), { message: "invalid volume specification: ':/x'" });
  assert.throws(() => parseBind('/dst:rw'), { message: "invalid volume specification: '/dst:rw'" });
  assert.throws(() => parseBind('ab:d'), { message: `invalid volume specification: 'ab:d': invalid mount config for type "volume": invalid mount path: 'd' mount path must be absolute` });
  assert.throws(() => parseBind('/x:rel'), { message: `invalid volume specification: '/x:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute` });
  assert.throws(() => parseBind('ab:/d:xx'), { message: 'invalid mode: xx' });
  assert.throws(() => parseBind('vv:/y:ro,rw'), { message: 'invalid mode: ro,rw' });
  assert.throws(() => parseBind('/tmp/x:/'), { message: `invalid volume specification: '/tmp/x:/': invalid mount config for type "bind": invalid specification: destination can't be '/'` });
  assert.throws(() => parseBind('/x:/y:nocopy'), { message: `invalid volume specification: '/x:/y:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified` });
});

test('--mount validation has Docker\'s texts', async () => {
  const cases: [any, string][] = [
    [{ Type: 'foo', Target: '/x' }, 'invalid mount config for type "foo": mount type unknown'],
    [{ Type: 'volume', Source: 'qq' }, 'invalid mount config for type "volume": field Target must not be empty'],
    [{ Type: 'volume', Target: 'y' }, `invalid mount config for type "volume": invalid mount path: 'y' mount path must be absolute`],
    [{ Type: 'bind', Target: '/y' }, 'invalid mount config for type "bind": field Source must not be empty'],
    [{ Type: 'bind', Target: '/y', Source: 'rel' }, `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`],
    [{ Type: 'bind', Target: '/y', Source: '/nonexistent-shoal-src' }, 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-shoal-src'],
    [{ Type: 'volume', Target: '/y', BindOptions: { Propagation: 'shared' } }, 'invalid mount config for type "volume": field BindOptions must not be specified'],
    [{ Type: 'tmpfs', Target: '/y', Source: 'qq' }, 'invalid mount config for type "tmpfs": field Source must not be specified'],
  ];
  for (const [m, message] of cases) await assert.rejects(validateMount(m), { message }, JSON.stringify(m));
  await validateMount({ Type: 'bind', Target: '/y', Source: '/nonexistent-shoal-src', BindOptions: { CreateMountpoint: true } });
  await validateMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 } });
});

test('resolveMounts: binds, named/anonymous volumes, --mount, image volumes, duplicates', async () => {
  const vols = await store();
  const hostDir = tmp();
  const mps = await resolveMounts({
    containerId: 'c1', volumes: vols, findContainer: () => undefined,
    hostConfig: {
      Binds: [`${hostDir}:/h:ro`, 'named:/n', '/anonbind'],
      Mounts: [
        { Type: 'volume', Source: 'mv', Target: '/mv', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } },
        { Type: 'volume', Target: '/anon2', ReadOnly: true },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1770 } },
      ],
    },
    config: { Volumes: { '/n': {}, '/img': {} } },
  });
  const by = Object.fromEntries(mps.map((m) => [m.Destination, m]));
  assert.deepEqual(Object.keys(by).sort(), ['/anon2', '/anonbind', '/h', '/img', '/mv', '/n', '/t']);
  assert.deepEqual(by['/h'], { Type: 'bind', Source: hostDir, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate', CreateSource: true });
  assert.equal(by['/n'].Name, 'named');
  assert.equal(by['/n'].Named, true);
  assert.equal(by['/n'].Source, vols.mountpoint('named'));
  assert.equal(by['/mv'].CopyData, false);
  assert.deepEqual(vols.get('mv').Labels, { a: 'b' });
  for (const d of ['/anonbind', '/anon2', '/img']) {
    assert.match(by[d].Name!, /^[0-9a-f]{64}$/);
    assert.equal(by[d].Named, false);
  }
  assert.equal(by['/anon2'].RW, false);
  assert.equal(by['/anon2'].Mode, 'z');
  assert.equal(by['/img'].Mode, '');
  assert.deepEqual(by['/t'].TmpfsData, ['size=1048576', 'mode=1770']);
  assert.equal(vols.names().length, 5);
  // held for the container being created, until its record exists
  assert.deepEqual(vols.users('named'), ['c1']);
  vols.release('c1');
  assert.deepEqual(vols.users('named'), []);
  assert.deepEqual(mountsSummary([by['/n'], by['/t']]), [
    { Type: 'volume', Name: 'named', Source: vols.mountpoint('named'), Destination: '/n', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
  ]);

  await assert.rejects(resolveMounts({ containerId: 'c2', volumes: vols, findContainer: () => undefined, config: {}, hostConfig: { Binds: ['a1:/d', 'b1:/d'] } }), { message: 'Duplicate mount point: /d' });
  await assert.rejects(resolveMounts({ containerId: 'c2', volumes: vols, findContainer: () => undefined, config: {}, hostConfig: { Binds: ['a1:/d'], Mounts: [{ Type: 'tmpfs', Target: '/d/' }] } }), { message: 'Duplicate mount point: /d' });
  await assert.rejects(resolveMounts({ containerId: 'c2', volumes: vols, findContainer: () => undefined, config: {}, hostConfig: { Binds: ['ok1:/a', 'x/y:/b'] } }), /create x\/y: "x\/y" includes invalid characters/);
  assert.ok(!vols.has('a1') && !vols.has('ok1'), 'nothing created by failed resolutions');
  await assert.rejects(resolveMounts({ containerId: 'c2', volumes: vols, findContainer: () => undefined, config: {}, hostConfig: { Binds: ['vv:/x'], VolumeDriver: 'nfsplug' } }), /error looking up volume plugin nfsplug/);
});

test('resolveMounts: --volumes-from copies mounts (ro, not tmpfs), binds override them', async () => {
  const vols = await store();
  const src = await resolveMounts({ containerId: 'src', volumes: vols, findContainer: () => undefined, config: { Volumes: { '/anon': {} } },
    hostConfig: { Binds: ['shared:/s', '/host:/h:ro'], Mounts: [{ Type: 'tmpfs', Target: '/t' }] } });
  vols.release('src');
  const srcRec = record('src', src);
  const find = (r: string) => (r === 'src' ? srcRec : undefined);
  const rw = await resolveMounts({ containerId: 'd1', volumes: vols, findContainer: find, config: {}, hostConfig: { VolumesFrom: ['src'] } });
  const by = Object.fromEntries(rw.map((m) => [m.Destination, m]));
  assert.deepEqual(Object.keys(by).sort(), ['/anon', '/h', '/s']);
  assert.equal(by['/s'].RW, true);
  assert.equal(by['/h'].RW, false, 'a ro bind stays ro');
  assert.equal(by['/s'].Mode, '');
  assert.equal(by['/s'].CopyData, false);
  assert.equal(by['/anon'].Name, src.find((m) => m.Destination === '/anon')!.Name);
  const ro = await resolveMounts({ containerId: 'd2', volumes: vols, findContainer: find, config: {}, hostConfig: { VolumesFrom: ['src:ro'], Binds: ['other:/s'] } });
  const rby = Object.fromEntries(ro.map((m) => [m.Destination, m]));
  assert.equal(rby['/anon'].RW, false);
  assert.equal(rby['/s'].Name, 'other');
  await assert.rejects(resolveMounts({ containerId: 'd3', volumes: vols, findContainer: find, config: {}, hostConfig: { VolumesFrom: ['src:xx'] } }), { message: 'invalid mode: xx' });
  await assert.rejects(resolveMounts({ containerId: 'd3', volumes: vols, findContainer: find, config: {}, hostConfig: { VolumesFrom: ['nope'] } }), { message: 'No such container: nope' });
  assert.deepEqual(volumeUsers([srcRec, record('d1', rw)], 'shared'), ['src', 'd1']);
  assert.ok(hasVolume(srcRec, 'shared'));
  assert.ok(hasVolume(srcRec, '/anon'));
  assert.ok(hasVolume(srcRec, '/host'));
  assert.ok(!hasVolume(srcRec, 'other'));
});

test('resolveInRoot keeps symlinks inside the root', async () => {
  const root = tmp();
  fs.mkdirSync(path.join(root, 'real/sub'), { recursive: true });
  fs.symlinkSync('/real', path.join(root, 'abs'));
  fs.symlinkSync('../real/sub', path.join(root, 'real/rel'));
  fs.symlinkSync('/', path.join(root, 'escape'));
  fs.symlinkSync('../../../../..', path.join(root, 'dotdot'));
  assert.equal(await resolveInRoot(root, '/abs/sub'), path.join(root, 'real/sub'));
  assert.equal(await resolveInRoot(root, '/real/rel'), path.join(root, 'real/sub'));
  assert.equal(await resolveInRoot(root, '/escape/etc'), path.join(root, 'etc'));
  assert.equal(await resolveInRoot(root, '/dotdot/etc'), path.join(root, 'etc'));
  assert.equal(await resolveInRoot(root, '/missing/x'), path.join(root, 'missing/x'));
  fs.symlinkSync('loop', path.join(root, 'loop'));
  await assert.rejects(resolveInRoot(root, '/loop'), /too many links/);
});

test('copyImageContent fills an empty volume once, keeping modes, owners and the directory\'s attributes', async () => {
  const root = tmp();
  const vol = tmp();
  fs.mkdirSync(path.join(root, 'data/sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'data/sub/f'), 'x', { mode: 0o640 });
  fs.chmodSync(path.join(root, 'data/sub/f'), 0o640);
  fs.symlinkSync('sub/f', path.join(root, 'data/link'));
  fs.chownSync(path.join(root, 'data'), 33, 33);
  fs.chmodSync(path.join(root, 'data'), 0o750);
  assert.equal(await copyImageContent(root, '/data', vol), true);
  assert.equal(fs.readFileSync(path.join(vol, 'sub/f'), 'utf8'), 'x');
  assert.equal(fs.statSync(path.join(vol, 'sub/f')).mode & 0o777, 0o640);
  assert.equal(fs.readlinkSync(path.join(vol, 'link')), 'sub/f');
  const st = fs.statSync(vol);
  assert.equal(st.uid, 33);
  assert.equal(st.mode & 0o777, 0o750);
  fs.writeFileSync(path.join(root, 'data/new'), 'n');
  assert.equal(await copyImageContent(root, '/data', vol), false, 'not empty any more');
  assert.ok(!fs.existsSync(path.join(vol, 'new')));
  assert.equal(await copyImageContent(root, '/nothing-here', tmp()), false);
});

test('specMounts: /etc files unless mounted over, parents before children, volumes copied once', async () => {
  const vols = await store();
  const rootfs = tmp();
  fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const hostDir = tmp();
  const mps = await resolveMounts({ containerId: 'c', volumes: vols, findContainer: () => undefined, config: {},
    hostConfig: { Binds: [`${hostDir}/new:/etc/sub`, 'etcv:/etc', '/tmp/x-shoal-never:/etc/hosts:ro'] } });
  vols.release('c');
  const c = record('c', mps, { Tmpfs: { '/run': 'size=1m' } });
  c.HostConfig.Binds = [];
  // the bind of /etc/hosts is the user's: no container /etc/hosts bind; the host dir is created (-v)
  mps.find((m) => m.Destination === '/etc/hosts')!.Source = path.join(hostDir, 'hosts');
  const spec = await specMounts(c, vols, rootfs);
  assert.deepEqual(spec.map((m) => m.destination), ['/etc', '/run', '/etc/resolv.conf', '/etc/hostname', '/etc/sub', '/etc/hosts']);
  assert.ok(fs.existsSync(path.join(hostDir, 'new')));
  assert.deepEqual(spec[0], { destination: '/etc', type: 'bind', source: vols.mountpoint('etcv'), options: ['rbind', 'rw', 'rprivate'] });
  assert.deepEqual(spec[5].options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(spec[1], { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m'] });
  assert.equal(fs.readFileSync(path.join(vols.mountpoint('etcv'), 'passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(mps.find((m) => m.Destination === '/etc')!.CopyData, false);
});
