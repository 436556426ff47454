import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../command.js';
import { main } from '../main.js';
import { buildCreateRequest, containerFlags } from '../opts.js';
import { fakeDaemon, json, testIO, type FakeDaemon } from '../testutil.js';
import { naturalCompare, volumeContext } from './volume.js';

async function run(d: FakeDaemon, args: string[], input = '') {
  const io = testIO(input);
  const code = await main(['-H', d.host, ...args], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

const vol = (name: string, extra: object = {}) => ({
  CreatedAt: '2024-01-02T03:04:05Z', Driver: 'local', Labels: null, Mountpoint: `/var/lib/shoal/volumes/${name}/_data`, Name: name, Options: null, Scope: 'local', ...extra,
});

test('natural order like docker\'s sortorder.NaturalLess', () => {
  const names = ['vol10', 'vol9', 'bar', 'Abc', '9330a', '6fb2', 'ae0f', 'vol09'];
  assert.deepEqual([...names].sort(naturalCompare), ['6fb2', '9330a', 'Abc', 'ae0f', 'bar', 'vol9', 'vol09', 'vol10']);
});

test('volume context fields', () => {
  const c = volumeContext(vol('v1', { Labels: { b: '2', a: '1' }, UsageData: { Size: 2048, RefCount: 3 } }));
  assert.equal(c.Labels, 'a=1,b=2');
  assert.equal(c.Links, '3');
  assert.equal(c.Size, '2.048kB');
  assert.equal((c.Label as (k: string) => string)('b'), '2');
  const n = volumeContext(vol('v2'));
  assert.equal(n.Links, 'N/A');
  assert.equal(n.Size, 'N/A');
});

test('run -v / --mount / --volumes-from send Binds, Volumes, Mounts and VolumesFrom', () => {
  const { opts, args } = parseArgs({ name: 'run', options: containerFlags(), interspersed: false, hNotHelp: true },
    ['-v', 'data:/data:ro', '-v', '/anon', '--mount', 'type=volume,source=mv,target=/mv,volume-nocopy', '--volumes-from', 'other:ro', 'img']);
  const b = buildCreateRequest(opts, args[0], args.slice(1), {}, '/').body;
  assert.deepEqual(b.HostConfig.Binds, ['data:/data:ro']);
  assert.deepEqual(b.Volumes, { '/anon': {} });
  assert.deepEqual(b.HostConfig.Mounts, [{ Type: 'volume', Source: 'mv', Target: '/mv', VolumeOptions: { NoCopy: true } }]);
  assert.deepEqual(b.HostConfig.VolumesFrom, ['other:ro']);
});

test('volume ls / create / inspect / rm / prune against a fake daemon', async () => {
  const d = await fakeDaemon({
    'GET /volumes': (req, res) => {
      const f = req.query.get('filters');
      json(res, 200, { Volumes: f ? [vol('only')] : [vol('vol10'), vol('bar', { Labels: { a: 'b' } }), vol('vol9')], Warnings: null });
    },
    'POST /volumes/create': (req, res) => json(res, 201, vol(req.json().Name || 'f'.repeat(64))),
    'GET /volumes/bar': (_req, res) => json(res, 200, vol('bar')),
    'GET /volumes/nope': (_req, res) => json(res, 404, { message: 'get nope: no such volume' }),
    'DELETE /volumes/bar': (_req, res) => { res.writeHead(204); res.end(); },
    'DELETE /volumes/busy': (_req, res) => json(res, 409, { message: 'remove busy: volume is in use - [abc]' }),
    'POST /volumes/prune': (_req, res) => json(res, 200, { VolumesDeleted: ['bar', 'vol9'], SpaceReclaimed: 2048 }),
  });
  try {
    const ls = await run(d, ['volume', 'ls']);
    assert.equal(ls.out, 'DRIVER    VOLUME NAME\nlocal     bar\nlocal     vol9\nlocal     vol10\n');
    assert.equal((await run(d, ['volume', 'ls', '-q'])).out, 'bar\nvol9\nvol10\n');
    assert.equal((await run(d, ['volume', 'list', '--format', 'table {{.Name}}\t{{.Scope}}'])).out, 'VOLUME NAME   SCOPE\nbar           local\nvol9          local\nvol10         local\n');
    assert.equal((await run(d, ['volume', 'ls', '--format', '{{.Name}} {{.Labels}}'])).out, 'bar a=b\nvol9 \nvol10 \n');
    await run(d, ['volume', 'ls', '-f', 'dangling=true', '--filter', 'label=x']);
    assert.deepEqual(JSON.parse(d.requests.at(-1)!.query.get('filters')!), { dangling: { true: true }, label: { x: true } });
    const js = (await run(d, ['volume', 'ls', '--format', 'json'])).out.split('\n')[0];
    assert.deepEqual(Object.keys(JSON.parse(js)), ['Availability', 'Driver', 'Group', 'Labels', 'Links', 'Mountpoint', 'Name', 'Scope', 'Size', 'Status']);

    const cr = await run(d, ['volume', 'create', '-d', 'local', '--label', 'a=b', '-o', 'type=tmpfs', '-o', 'o=size=1m', 'myvol']);
    assert.equal(cr.out, 'myvol\n');
    assert.deepEqual(d.requests.at(-1)!.json(), { Name: 'myvol', Driver: 'local', DriverOpts: { type: 'tmpfs', o: 'size=1m' }, Labels: { a: 'b' } });
    assert.equal((await run(d, ['volume', 'create'])).out, 'f'.repeat(64) + '\n');
    const conflict = await run(d, ['volume', 'create', '--name', 'a1', 'b1']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.err, /conflicting options: either specify --name or provide positional arg, not both/);

    const ins = await run(d, ['volume', 'inspect', 'bar']);
    assert.equal(ins.code, 0);
    assert.equal(JSON.parse(ins.out)[0].Name, 'bar');
    assert.match(ins.out, /^\[\n {4}\{\n {8}"CreatedAt"/);
    const miss = await run(d, ['volume', 'inspect', '-f', '{{.Mountpoint}}', 'bar', 'nope']);
    assert.equal(miss.code, 1);
    assert.equal(miss.out, '/var/lib/shoal/volumes/bar/_data\n');
    assert.equal(miss.err, 'Error response from daemon: get nope: no such volume\n');

    const rm = await run(d, ['volume', 'rm', 'bar', 'busy']);
    assert.equal(rm.code, 1);
    assert.equal(rm.out, 'bar\n');
    assert.equal(rm.err, 'Error response from daemon: remove busy: volume is in use - [abc]\n');

    const pr = await run(d, ['volume', 'prune', '-f']);
    assert.equal(pr.out, 'Deleted Volumes:\nbar\nvol9\n\nTotal reclaimed space: 2.048kB\n');
    const prunes = () => d.requests.filter((r) => r.path === '/volumes/prune').length;
    const before = prunes();
    const asked = await run(d, ['volume', 'prune'], 'n\n');
    assert.equal(asked.out, 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    assert.equal(prunes(), before, 'no prune after "n"');
  } finally {
    await d.close();
  }
});
