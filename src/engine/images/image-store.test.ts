import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { pino } from 'pino';
import tar from 'tar-stream';
import { EventBus, type EngineEvent } from '../events.js';
import { ImageStore } from './image-store.js';
import { parseNormalizedNamed, tagNameOnly } from './reference.js';

type Entry = { name: string; body?: string | Buffer; type?: 'file' | 'directory' | 'symlink'; linkname?: string; mode?: number };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file');
    pack.entry({ name: e.name, type, linkname: e.linkname, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), mtime: new Date(0) }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.set(e.header.name.replace(/\/$/, ''), e.header.type === 'symlink' ? Buffer.from(`-> ${e.header.linkname}`) : Buffer.concat(chunks));
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const stream = (b: Buffer) => Readable.from([b]);
const noUsers = () => [];

let tmp: string;
const events: EngineEvent[] = [];
const log = pino({ level: 'silent' });

async function newStore(name: string): Promise<ImageStore> {
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const s = new ImageStore({ root: path.join(tmp, name), log, events: bus });
  await s.init();
  return s;
}

let rootfs: Buffer;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'shoal-images-'));
  rootfs = await makeTar([
    { name: './' }, { name: './bin/' }, { name: './bin/hello', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { name: './etc/' }, { name: './etc/motd', body: 'welcome\n' }, { name: './link', type: 'symlink', linkname: 'etc/motd' },
  ]);
});
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

async function save(store: ImageStore, refs: string[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await store.save(refs, out);
  return Buffer.concat(chunks);
}

test('import: two images share one layer; ID is the sha256 of the config bytes', async () => {
  const store = await newStore('import');
  const a = await store.importTar(stream(rootfs), { repo: 'hello', tag: 'a', changes: ['CMD ["/bin/hello"]'] });
  const b = await store.importTar(stream(zlib.gzipSync(rootfs)), { repo: 'docker.io/library/hello:b', changes: ['ENTRYPOINT /bin/hello', 'ENV X=1'] });
  assert.notEqual(a, b);
  const layers = await fs.readdir(path.join(tmp, 'import', 'layers'));
  assert.equal(layers.length, 1);
  assert.equal(`sha256:${layers[0]}`, `sha256:${sha(rootfs)}`);
  for (const id of [a, b]) {
    const raw = await fs.readFile(path.join(tmp, 'import', 'imagedb', 'sha256', `${id.slice(7)}.json`));
    assert.equal(`sha256:${sha(raw)}`, id);
  }
  const ia = store.inspect('hello:a');
  assert.deepEqual(ia.Config.Cmd, ['/bin/hello']);
  assert.equal(ia.Config.Env, null);
  assert.equal(ia.Comment, 'Imported from -');
  assert.equal(ia.Os, 'linux');
  assert.deepEqual(ia.RootFS, { Type: 'layers', Layers: [`sha256:${sha(rootfs)}`] });
  assert.equal(ia.Size, '#!/bin/sh\necho hi\n'.length + 'welcome\n'.length + 'etc/motd'.length);
  assert.equal(ia.GraphDriver.Name, 'overlay2');
  assert.notEqual(ia.Metadata.LastTagTime, '0001-01-01T00:00:00Z');
  const ib = store.inspect(b.slice(7, 12));
  assert.deepEqual(ib.Config.Entrypoint, ['/bin/sh', '-c', '/bin/hello']);
  assert.deepEqual(ib.RepoTags, ['hello:b']);
  const dirs = store.lowerDirs(store.resolve('hello:a'));
  assert.equal(dirs.length, 1);
  assert.equal(await fs.readFile(path.join(dirs[0], 'etc/motd'), 'utf8'), 'welcome\n');
  assert.equal(await fs.readlink(path.join(dirs[0], 'link')), 'etc/motd');
  assert.equal(((await fs.stat(path.join(dirs[0], 'bin/hello'))).mode & 0o777), 0o755);
  const hist = store.history('hello:a');
  assert.equal(hist.length, 1);
  assert.deepEqual({ ...hist[0], Created: 0 }, { Comment: 'Imported from -', Created: 0, CreatedBy: '', Id: a, Size: ia.Size, Tags: ['hello:a'] });
  assert.ok(events.some((e) => e.Action === 'import' && e.Actor.ID === a));
  assert.ok(events.some((e) => e.Action === 'tag' && e.Actor.Attributes.name === 'hello:b'));
  await assert.rejects(store.importTar(stream(rootfs), { changes: ['RUN true'] }), (e: any) => e.status === 400 && e.message === 'run is not a valid change command');
  await assert.rejects(store.importTar(stream(rootfs), { repo: 'Hello' }), /repository name must be lowercase/);
});

test('commit: the parent\'s layers plus one; history names the parent; an empty layer adds none', async () => {
  const store = await newStore('commit');
  const base = await store.importTar(stream(rootfs), { repo: 'base' });
  const layer = await makeTar([{ name: 'etc/' }, { name: 'etc/.wh.motd' }, { name: 'new', body: 'n\n' }]);
  const opts = { parent: base, config: { Cmd: ['cat', '/new'] }, containerConfig: { Cmd: ['sh', '-c', 'echo n > /new'], Image: 'base' }, container: 'c'.repeat(64) };
  const id = await store.commit(stream(layer), { ...opts, author: 'me', comment: 'msg', ref: tagNameOnly(parseNormalizedNamed('child')) });
  const i = store.inspect('child:latest');
  assert.equal(i.Id, id);
  assert.equal(i.Parent, base);
  assert.equal(i.Comment, 'msg');
  assert.equal(i.Author, 'me');
  assert.equal(i.Container, 'c'.repeat(64));
  assert.deepEqual(i.Config.Cmd, ['cat', '/new']);
  assert.deepEqual(i.ContainerConfig.Cmd, ['sh', '-c', 'echo n > /new']);
  assert.deepEqual(i.RootFS.Layers, [`sha256:${sha(rootfs)}`, `sha256:${sha(layer)}`]);
  const [top] = store.lowerDirs(store.resolve(id));
  assert.equal(await fs.readFile(path.join(top, 'new'), 'utf8'), 'n\n');
  assert.ok((await fs.lstat(path.join(top, 'etc/motd'))).isCharacterDevice(), 'the whiteout is in overlay form');
  const hist = store.history('child');
  assert.deepEqual(hist.map((h) => [h.Id, h.Tags, h.CreatedBy, h.Comment, h.Size]), [
    [id, ['child:latest'], 'sh -c echo n > /new', 'msg', 2], [base, ['base:latest'], '', 'Imported from -', i.Size - 2],
  ]);
  assert.equal(store.list().find((e) => e.Id === id).ParentId, base);
  assert.ok(events.some((e) => e.Action === 'tag' && e.Actor.ID === id && e.Actor.Attributes.name === 'child:latest'));
  // nothing changed: a history entry without a layer
  const same = await store.commit(stream(await makeTar([])), { ...opts, author: '', comment: '' });
  const raw = JSON.parse(await fs.readFile(path.join(tmp, 'commit', 'imagedb', 'sha256', `${same.slice(7)}.json`), 'utf8'));
  assert.deepEqual(raw.rootfs.diff_ids, [`sha256:${sha(rootfs)}`]);
  assert.equal(raw.history.length, 2);
  assert.equal(raw.history[1].empty_layer, true);
  assert.equal(raw.docker_version, '20.10.24');
  assert.equal((await fs.readdir(path.join(tmp, 'commit', 'layers'))).length, 2, 'no layer for the empty tar');
  await assert.rejects(store.commit(stream(layer), { ...opts, parent: 'sha256:' + 'f'.repeat(64), author: '', comment: '' }), (e: any) => e.status === 404);
  // the parent stays while children exist: by ID a hard conflict, by its last tag it only loses the tag
  await assert.rejects(store.remove(base, { force: true }), new RegExp(`^Error: conflict: unable to delete ${base.slice(7, 19)} \\(cannot be forced\\) - image has dependent child images$`));
  assert.deepEqual(await store.remove('base'), [{ Untagged: 'base:latest' }]);
  assert.equal(store.inspect(base).Id, base);
  for (const c of [id, same]) await store.remove(c);
  assert.deepEqual((await store.remove(base)).map((r) => Object.keys(r)[0]), ['Deleted', 'Deleted']);
});

test('resolve: tags, full and short IDs, ambiguity and errors', async () => {
  const store = await newStore('resolve');
  const id = await store.importTar(stream(rootfs), { repo: 'busybox' });
  assert.equal(store.resolve('busybox').id, id);
  assert.equal(store.resolve('busybox:latest').id, id);
  assert.equal(store.resolve('docker.io/library/busybox').id, id);
  assert.equal(store.resolve(id).id, id);
  assert.equal(store.resolve(id.slice(7)).id, id);
  assert.equal(store.resolve(id.slice(0, 10)).id, id);
  assert.equal(store.resolve(id.slice(7, 9)).id, id);
  assert.throws(() => store.resolve('nope'), (e: any) => e.status === 404 && e.message === 'No such image: nope:latest');
  assert.throws(() => store.resolve('sha256:' + '0'.repeat(64)), (e: any) => e.status === 404 && e.message === `No such image: sha256:${'0'.repeat(64)}`);
  assert.throws(() => store.resolve('NOPE'), (e: any) => e.status === 400);
  assert.equal(store.tryResolve('nope'), undefined);
});

test('load: docker-archive with a whiteout and an opaque dir; overlay hides what they remove', async () => {
  const store = await newStore('load');
  const l1 = await makeTar([
    { name: 'a/' }, { name: 'a/keep', body: 'k' }, { name: 'a/gone', body: 'g' },
    { name: 'o/' }, { name: 'o/old', body: 'old' }, { name: 'top', body: 't' },
  ]);
  const l2 = await makeTar([
    { name: 'a/' }, { name: 'a/.wh.gone' }, { name: 'o/' }, { name: 'o/.wh..wh..opq' }, { name: 'o/new', body: 'new' },
  ]);
  const d1 = `sha256:${sha(l1)}`;
  const d2 = `sha256:${sha(l2)}`;
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05.123456789Z', config: { Cmd: ['sh'], Labels: { tier: 'x' } },
    rootfs: { type: 'layers', diff_ids: [d1, d2] },
    history: [{ created: '2024-01-02T03:04:05Z', created_by: 'ADD a' }, { created: '2024-01-02T03:04:05Z', created_by: 'LABEL', empty_layer: true }, { created: '2024-01-02T03:04:05Z', created_by: 'RUN rm' }],
  }));
  const cid = sha(config);
  // Docker 25+ style: OCI blobs plus manifest.json, gzip-compressed as a whole.
  const archive = zlib.gzipSync(await makeTar([
    { name: 'blobs/' }, { name: 'blobs/sha256/' },
    { name: `blobs/sha256/${sha(l1)}`, body: l1 }, { name: `blobs/sha256/${sha(l2)}`, body: l2 }, { name: `blobs/sha256/${cid}`, body: config },
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `blobs/sha256/${cid}`, RepoTags: ['wh:1'], Layers: [`blobs/sha256/${sha(l1)}`, `blobs/sha256/${sha(l2)}`] }]) },
  ]));
  const progress: unknown[] = [];
  const lines = await store.load(stream(archive), (m) => progress.push(m));
  assert.deepEqual(lines, ['Loaded image: wh:1']);
  assert.ok(progress.length >= 2);
  const img = store.resolve('wh:1');
  assert.equal(img.id, `sha256:${cid}`);
  const [upper, lower] = store.lowerDirs(img);
  const st = await fs.lstat(path.join(upper, 'a/gone'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0);
  assert.ok(!existsSync(path.join(upper, 'a/.wh.gone')));
  assert.ok(!existsSync(path.join(upper, 'o/.wh..wh..opq')));
  assert.ok(existsSync(path.join(lower, 'a/gone')));
  const mnt = path.join(tmp, 'mnt');
  await fs.mkdir(mnt, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${store.lowerDirs(img).join(':')}`, mnt]);
  try {
    assert.deepEqual((await fs.readdir(path.join(mnt, 'a'))).sort(), ['keep']);
    assert.deepEqual((await fs.readdir(path.join(mnt, 'o'))).sort(), ['new']);
    assert.equal(await fs.readFile(path.join(mnt, 'top'), 'utf8'), 't');
  } finally {
    execFileSync('umount', [mnt]);
  }
  const hist = store.history('wh:1');
  assert.deepEqual(hist.map((h) => [h.Id, h.CreatedBy, h.Size]), [[img.id, 'RUN rm', 3], ['<missing>', 'LABEL', 0], ['<missing>', 'ADD a', 6]]);
  assert.deepEqual(hist[0].Tags, ['wh:1']);
  assert.equal(hist[0].Created, Math.floor(Date.parse('2024-01-02T03:04:05Z') / 1000));
  // A layer whose bytes do not match the config's diff_id is refused.
  const badCfg = Buffer.from(JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [d2] } }));
  const bad = await makeTar([
    { name: 'x/layer.tar', body: l1 }, { name: `${sha(badCfg)}.json`, body: badCfg },
    { name: 'manifest.json', body: JSON.stringify([{ Config: `${sha(badCfg)}.json`, RepoTags: null, Layers: ['x/layer.tar'] }]) },
  ]);
  await assert.rejects(store.load(stream(bad)), /invalid diffID for layer 0/);
  await assert.rejects(store.load(stream(await makeTar([{ name: 'foo', body: 'x' }]))), /manifest.json not found/);
  assert.deepEqual(await fs.readdir(path.join(tmp, 'load', 'tmp')).then((l) => l.filter((x) => !x.startsWith('trash'))), []);
});

test('save then load into another store keeps the image ID and tags; by ID leaves RepoTags null', async () => {
  const src = await newStore('save-src');
  const id = await src.importTar(stream(rootfs), { repo: 'app', tag: 'v1', changes: ['CMD ["/bin/hello"]'] });
  await src.tag(id, 'app', 'v2');
  await src.tag(id, 'other');
  const byTag = await save(src, ['app:v1']);
  const files = await untar(byTag);
  const manifest = JSON.parse(files.get('manifest.json')!.toString());
  assert.deepEqual(manifest[0].RepoTags, ['app:v1']);
  assert.equal(manifest[0].Config, `${id.slice(7)}.json`);
  const layerDir = manifest[0].Layers[0].split('/')[0];
  assert.equal(files.get(`${layerDir}/VERSION`)!.toString(), '1.0');
  assert.equal(sha(files.get(`${layerDir}/layer.tar`)!), sha(rootfs));
  assert.ok(JSON.parse(files.get(`${layerDir}/json`)!.toString()).id === layerDir);
  assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), { app: { v1: layerDir } });

  const byRepo = JSON.parse((await untar(await save(src, ['app']))).get('manifest.json')!.toString());
  assert.deepEqual(byRepo[0].RepoTags.sort(), ['app:v1', 'app:v2']);
  const byId = await untar(await save(src, [id.slice(7, 19)]));
  assert.equal(JSON.parse(byId.get('manifest.json')!.toString())[0].RepoTags, null);
  assert.ok(!byId.has('repositories'));

  const dst = await newStore('save-dst');
  assert.deepEqual(await dst.load(stream(byTag)), ['Loaded image: app:v1']);
  assert.equal(dst.resolve('app:v1').id, id);
  assert.deepEqual(dst.inspect('app:v1').Config.Cmd, ['/bin/hello']);
  assert.deepEqual(await dst.load(stream(await save(src, [id]))), [`Loaded image ID: ${id}`]);
  await assert.rejects(save(src, ['missing']), (e: any) => e.status === 404);
});

test('load moves an existing tag to the new image; the old one becomes dangling and prune removes it', async () => {
  const store = await newStore('retag');
  const old = await store.importTar(stream(rootfs), { repo: 'svc' });
  const other = await makeTar([{ name: 'f', body: 'other' }]);
  const src = await newStore('retag-src');
  const nid = await src.importTar(stream(other), { repo: 'svc' });
  const lines = await store.load(stream(await save(src, ['svc'])));
  assert.deepEqual(lines, [`The image svc:latest already exists, renaming the old one with ID ${old} to empty string`, 'Loaded image: svc:latest']);
  assert.equal(store.resolve('svc').id, nid);
  const dangling = store.list({ filters: '{"dangling":{"true":true}}' });
  assert.deepEqual(dangling.map((e) => [e.Id, e.RepoTags]), [[old, []]]);
  const pr = await store.prune({}, noUsers);
  assert.deepEqual(pr.ImagesDeleted, [{ Deleted: old }, { Deleted: `sha256:${sha(rootfs)}` }]);
  assert.equal(pr.SpaceReclaimed, 18 + 8 + 'etc/motd'.length);
  assert.deepEqual((await fs.readdir(path.join(tmp, 'retag', 'layers'))), [sha(other)]);
  assert.deepEqual(await store.prune({}, noUsers), { ImagesDeleted: null, SpaceReclaimed: 0 });
});

test('remove: docker semantics and messages', async () => {
  const store = await newStore('remove');
  const id = await store.importTar(stream(rootfs), { repo: 'bb' });
  const short = id.slice(7, 19);
  const cShort = 'c'.repeat(12);
  const stopped = () => [{ id: 'c'.repeat(64), running: false }];
  const running = () => [{ id: 'c'.repeat(64), running: true }];
  await store.tag('bb', 'bb', 'two');
  // several tags: removing one only untags
  assert.deepEqual(await store.remove('bb:two', {}, stopped), [{ Untagged: 'bb:two' }]);
  await assert.rejects(store.remove('bb', {}, stopped), (e: any) => e.status === 409
    && e.message === `conflict: unable to remove repository reference "bb" (must force) - container ${cShort} is using its referenced image ${short}`);
  await assert.rejects(store.remove(short, {}, stopped), (e: any) => e.status === 409
    && e.message === `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${cShort}`);
  await assert.rejects(store.remove(short, { force: true }, running), (e: any) => e.status === 409
    && e.message === `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${cShort}`);
  await store.tag('bb', 'elsewhere', 'x');
  await assert.rejects(store.remove(short, {}, noUsers), (e: any) => e.status === 409
    && e.message === `conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
  // force by name with a running user: untag only, the image stays (dangling)
  assert.deepEqual(await store.remove('elsewhere:x', { force: true }, running), [{ Untagged: 'elsewhere:x' }]);
  assert.deepEqual(await store.remove('bb', { force: true }, running), [{ Untagged: 'bb:latest' }]);
  assert.equal(store.list({}).length, 1);
  // a second image sharing the layer keeps it alive
  const id2 = await store.importTar(stream(rootfs), { repo: 'bb2', changes: ['USER nobody'] });
  assert.deepEqual(await store.remove(id, {}, noUsers), [{ Deleted: id }]);
  assert.ok(existsSync(path.join(tmp, 'remove', 'layers', sha(rootfs))));
  assert.deepEqual(await store.remove('bb2', {}, noUsers), [{ Untagged: 'bb2:latest' }, { Deleted: id2 }, { Deleted: `sha256:${sha(rootfs)}` }]);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await fs.readdir(path.join(tmp, 'remove', 'layers')), []);
  await assert.rejects(store.remove('bb2', {}, noUsers), (e: any) => e.status === 404 && e.message === 'No such image: bb2:latest');
  assert.ok(events.some((e) => e.Action === 'untag' && e.Actor.ID === id2));
  assert.ok(events.some((e) => e.Action === 'delete' && e.Actor.ID === id2));
});

test('force-removing an image a stopped container uses keeps its layers for that container', async () => {
  const store = await newStore('ghost');
  const id = await store.importTar(stream(rootfs), { repo: 'g' });
  const users = [{ id: 'd'.repeat(64), running: false }];
  assert.deepEqual(await store.remove('g', { force: true }, () => users), [{ Untagged: 'g:latest' }, { Deleted: id }]);
  assert.equal(store.list({}).length, 0);
  assert.throws(() => store.resolve(id));
  const ghost = store.tryResolve(id)!;
  assert.ok(existsSync(store.lowerDirs(ghost)[0]));
  users.length = 0;
  assert.deepEqual(await store.prune({}, () => users), { ImagesDeleted: null, SpaceReclaimed: 0 });
  assert.equal(store.tryResolve(id), undefined);
  assert.deepEqual(await fs.readdir(path.join(tmp, 'ghost', 'layers')), []);
});

test('list filters, prune -a and persistence across a restart', async () => {
  const store = await newStore('list');
  const a = await store.importTar(stream(rootfs), { repo: 'busybox', changes: ['LABEL tier=web'] });
  await new Promise((r) => setTimeout(r, 5));
  const b = await store.importTar(stream(rootfs), { repo: 'foo/bar', tag: '1' });
  await new Promise((r) => setTimeout(r, 5));
  const c = await store.importTar(stream(rootfs), { changes: ['LABEL tier=db'] });
  const ids = (f?: string) => store.list({ filters: f }).map((e) => e.Id);
  assert.deepEqual(ids(), [c, b, a]);
  assert.deepEqual(ids('{"dangling":["true"]}'), [c]);
  assert.deepEqual(ids('{"dangling":["false"]}'), [b, a]);
  assert.deepEqual(ids('{"reference":["busy*"]}'), [a]);
  assert.deepEqual(ids('{"reference":["*/*:1"]}'), [b]);
  assert.deepEqual(ids('{"label":["tier"]}'), [c, a]);
  assert.deepEqual(ids('{"label":["tier=web"]}'), [a]);
  assert.deepEqual(ids(`{"before":["foo/bar:1"]}`), [a]);
  assert.deepEqual(ids(`{"since":["busybox"]}`), [c, b]);
  assert.throws(() => ids('{"nope":["x"]}'), /invalid filter 'nope'/);
  assert.throws(() => ids('{"dangling":["x"]}'), /invalid filter 'dangling=\[x\]'/);
  const e = store.list({}).find((x) => x.Id === a)!;
  assert.deepEqual({ ...e, Created: 0 }, { Containers: -1, Created: 0, Id: a, Labels: { tier: 'web' }, ParentId: '', RepoDigests: [], RepoTags: ['busybox:latest'], SharedSize: -1, Size: e.Size, VirtualSize: e.Size });
  const du = store.diskUsage(() => 2);
  assert.equal(du.LayersSize, e.Size);
  assert.ok(du.Images.every((i) => i.SharedSize === e.Size && i.Containers === 2));

  const again = await newStore('list');
  assert.deepEqual(again.list({}).map((x) => [x.Id, x.RepoTags]), store.list({}).map((x) => [x.Id, x.RepoTags]));
  const pr = await again.prune({ filters: '{"dangling":["false"],"label":["tier=web"]}' }, noUsers);
  assert.deepEqual(pr.ImagesDeleted, [{ Untagged: 'busybox:latest' }, { Deleted: a }]);
  const all = await again.prune({ filters: '{"dangling":["false"]}' }, (id) => (id === b ? [{ id: 'e'.repeat(64), running: true }] : []));
  assert.deepEqual(all.ImagesDeleted, [{ Deleted: c }]);
  assert.deepEqual(again.list({}).map((x) => x.Id), [b]);
});

test('a crash between unpacking a layer and recording its image leaves nothing behind after restart', async () => {
  const root = path.join(tmp, 'crash');
  await fs.mkdir(path.join(root, 'layers', 'f'.repeat(64), 'diff'), { recursive: true });
  await fs.writeFile(path.join(root, 'layers', 'f'.repeat(64), 'meta.json'), '{"size":1}');
  await fs.mkdir(path.join(root, 'layers', 'e'.repeat(64)), { recursive: true });
  await fs.mkdir(path.join(root, 'tmp', 'layer-half'), { recursive: true });
  await newStore('crash');
  assert.deepEqual(await fs.readdir(path.join(root, 'layers')), []);
  assert.deepEqual(await fs.readdir(path.join(root, 'tmp')).then((l) => l.filter((x) => !x.startsWith('trash'))), []);
});

test('imports a busybox rootfs built from the host busybox', { skip: !existsSync('/usr/bin/busybox') }, async () => {
  const r = path.join(tmp, 'bb-rootfs');
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp']) await fs.mkdir(path.join(r, d), { recursive: true });
  await fs.chmod(path.join(r, 'tmp'), 0o1777);
  await fs.copyFile('/usr/bin/busybox', path.join(r, 'bin/busybox'));
  await fs.chmod(path.join(r, 'bin/busybox'), 0o755);
  for (const app of execFileSync('/usr/bin/busybox', ['--list-full']).toString().trim().split('\n')) {
    if (app === 'bin/busybox') continue;
    await fs.mkdir(path.join(r, path.dirname(app)), { recursive: true });
    await fs.symlink('/bin/busybox', path.join(r, app)).catch(() => undefined);
  }
  await fs.writeFile(path.join(r, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const tarFile = path.join(tmp, 'busybox.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', r, '-cf', tarFile, '.']);
  const store = await newStore('busybox');
  const id = await store.importTar(Readable.from([await fs.readFile(tarFile)]), { repo: 'busybox', changes: ['CMD ["sh"]'] });
  const [diff] = store.lowerDirs(store.resolve('busybox'));
  assert.equal(await fs.readlink(path.join(diff, 'bin/sh')), '/bin/busybox');
  assert.equal((await fs.stat(path.join(diff, 'tmp'))).mode & 0o7777, 0o1777);
  assert.equal(execFileSync(path.join(diff, 'bin/busybox'), ['echo', 'ok']).toString(), 'ok\n');
  assert.equal(store.inspect('busybox').Id, id);
});
