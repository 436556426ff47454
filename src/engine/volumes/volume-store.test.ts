import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventBus } from '../events.js';
import { validateVolumeName, VolumeStore, volumeTimestamp } from './volume-store.js';

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
const log: any = { debug() {}, info() {}, warn() {}, error() {} };

async function store(root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-vols-')), 'volumes')): Promise<{ v: VolumeStore; root: string; events: EventBus }> {
  dirs.push(path.dirname(root));
  const events = new EventBus();
  const v = new VolumeStore({ root, events, log });
  await v.init();
  return { v, root, events };
}

test('volume names follow the local driver rules', () => {
  assert.equal(validateVolumeName('ab'), undefined);
  assert.equal(validateVolumeName('a.b_c-1'), undefined);
  assert.match(validateVolumeName('f')!, /too short/);
  assert.match(validateVolumeName('-ab')!, /includes invalid characters/);
  assert.match(validateVolumeName('a/b')!, /If you intended to pass a host directory, use absolute path$/);
});

test('CreatedAt is second-precision RFC 3339 in local time', () => {
  assert.match(volumeTimestamp(new Date('2024-01-02T03:04:05.678Z')), /^2024-01-0[12]T\d\d:\d\d:05(Z|[+-]\d\d:\d\d)$/);
});

test('create, get, idempotent create, persisted metadata, events', async () => {
  const { v, root, events } = await store();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Type}:${e.Action}:${e.Actor.ID}`));
  const a = await v.create({ Name: 'data', Labels: { team: 'x' }, DriverOpts: {} });
  assert.deepEqual(Object.keys(a), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(a.Mountpoint, path.join(root, 'data', '_data'));
  assert.deepEqual(a.Labels, { team: 'x' });
  assert.equal(a.Options, null, 'empty options are null like Docker');
  assert.ok(fs.statSync(a.Mountpoint).isDirectory());
  assert.equal(fs.statSync(path.join(root, 'data')).mode & 0o777, 0o701);
  const again = await v.create({ Name: 'data', Labels: { other: 'y' } });
  assert.deepEqual(again, a);
  assert.deepEqual(seen, ['volume:create:data']);
  const anon = await v.create({});
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.equal(anon.Labels, null);
  // a new store over the same root sees the same volumes
  const { v: v2 } = await store(root);
  assert.deepEqual(v2.get('data'), a);
  assert.deepEqual(v2.names().sort(), ['data', anon.Name].sort());
});

test('create errors: name, driver, options', async () => {
  const { v } = await store();
  await assert.rejects(v.create({ Name: 'f' }), { message: 'create f: volume name is too short, names should be at least two alphanumeric characters' });
  await assert.rejects(v.create({ Name: 'xx', Driver: 'nope' }), { message: 'create xx: error looking up volume plugin nope: plugin "nope" not found' });
  await assert.rejects(v.create({ Name: 'xx', DriverOpts: { foo: 'bar' } }), { message: 'create xx: invalid option: "foo"' });
  await assert.rejects(v.create({ Name: 'xx', DriverOpts: { type: 'tmpfs' } }), { message: 'create xx: missing required option: "device"' });
  const t = await v.create({ Name: 'tv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
  assert.deepEqual(t.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  assert.equal(v.has('xx'), false);
});

test('remove: missing, in use (by records and by holds), force, leftovers', async () => {
  const { v, root } = await store();
  await assert.rejects(v.remove('nope'), { status: 404, message: 'get nope: no such volume' } as any);
  await v.remove('nope', { force: true });
  await v.create({ Name: 'used' });
  v.usersOf = (n) => (n === 'used' ? ['c1', 'c2'] : []);
  await assert.rejects(v.remove('used'), { status: 409, message: 'remove used: volume is in use - [c1, c2]' } as any);
  await assert.rejects(v.remove('used', { force: true }), { status: 409 } as any);
  v.usersOf = () => [];
  await v.create({ Name: 'used' }, { holder: 'creating' });
  await assert.rejects(v.remove('used'), /volume is in use - \[creating\]/);
  v.release('creating');
  fs.writeFileSync(path.join(v.mountpoint('used'), 'f'), 'x');
  await v.remove('used');
  assert.equal(fs.existsSync(path.join(root, 'used')), false);
  assert.throws(() => v.get('used'), { message: 'get used: no such volume' });
  // interrupted create/remove directories are cleaned at start; hand-made directories are adopted
  fs.mkdirSync(path.join(root, '.half.creating-1/_data'), { recursive: true });
  fs.mkdirSync(path.join(root, 'handmade/_data'), { recursive: true });
  const { v: v2 } = await store(root);
  assert.equal(fs.existsSync(path.join(root, '.half.creating-1')), false);
  assert.deepEqual(v2.names(), ['handmade']);
});

test('list filters and prune (1.41: all unused, label filters)', async () => {
  const { v } = await store();
  await v.create({ Name: 'alpha', Labels: { env: 'prod' } });
  await v.create({ Name: 'beta', Labels: { env: 'dev' } });
  await v.create({ Name: 'gamma' });
  v.usersOf = (n) => (n === 'beta' ? ['c1'] : []);
  const names = (f: object) => v.list(JSON.stringify(f)).map((x) => x.Name).sort();
  assert.deepEqual(names({ name: ['a'] }), ['alpha', 'beta', 'gamma']);
  assert.deepEqual(names({ name: ['alp'] }), ['alpha']);
  assert.deepEqual(names({ name: ['^[ab]'] }), ['alpha', 'beta']);
  assert.deepEqual(names({ name: ['('] }), []);
  assert.deepEqual(names({ label: ['env'] }), ['alpha', 'beta']);
  assert.deepEqual(names({ label: { 'env=dev': true } }), ['beta']);
  assert.deepEqual(names({ dangling: ['true'] }), ['alpha', 'gamma']);
  assert.deepEqual(names({ dangling: ['0'] }), ['beta']);
  assert.deepEqual(names({ driver: ['local'] }), ['alpha', 'beta', 'gamma']);
  assert.throws(() => v.list('{"bogus":["1"]}'), { message: "Invalid filter 'bogus'" });
  assert.throws(() => v.list('{"dangling":["maybe"]}'), { message: "Invalid filter 'dangling=[maybe]'" });
  await assert.rejects(v.prune('{"name":["x"]}'), { message: "Invalid filter 'name'" });
  fs.writeFileSync(path.join(v.mountpoint('alpha'), 'f'), '12345');
  fs.linkSync(path.join(v.mountpoint('alpha'), 'f'), path.join(v.mountpoint('alpha'), 'hard'));
  fs.mkdirSync(path.join(v.mountpoint('alpha'), 'd'));
  fs.writeFileSync(path.join(v.mountpoint('alpha'), 'd', 'g'), 'abc');
  assert.equal(await v.size('alpha'), 8, 'file bytes only, hard links once');
  assert.deepEqual(await v.prune('{"label!":["env=prod"]}'), { VolumesDeleted: ['gamma'], SpaceReclaimed: 0 });
  assert.deepEqual(await v.prune(null), { VolumesDeleted: ['alpha'], SpaceReclaimed: 8 });
  assert.deepEqual(await v.prune(null), { VolumesDeleted: null, SpaceReclaimed: 0 });
  assert.deepEqual(v.names(), ['beta']);
  const du = await v.diskUsage();
  assert.deepEqual(du.map((x) => [x.Name, x.UsageData]), [['beta', { Size: 0, RefCount: 1 }]]);
});
