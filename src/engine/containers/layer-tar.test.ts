import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tar from 'tar-stream';
import { devNumbers, layerTar } from './layer-tar.js';
import type { UpperEntry } from './upper-dir.js';

let tmp: string;
before(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'shoal-layertar-')); });
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

async function entries(dir: string, spec: { rel: string; whiteout?: boolean; opaque?: boolean }[]): Promise<UpperEntry[]> {
  return Promise.all(spec.map(async (s) => ({ rel: s.rel, st: await fs.lstat(path.join(dir, s.rel)), whiteout: !!s.whiteout, opaque: !!s.opaque, inLower: false })));
}

test('layerTar writes Docker whiteouts, opaque markers, hard links and symlinks', async () => {
  const d = path.join(tmp, 'u');
  await fs.mkdir(path.join(d, 'var/www'), { recursive: true });
  await fs.mkdir(path.join(d, 'bin'));
  await fs.writeFile(path.join(d, 'bin/gone'), ''); // stands in for a whiteout device (its stat is not looked at)
  await fs.writeFile(path.join(d, 'var/www/new.html'), 'new\n');
  await fs.chmod(path.join(d, 'var/www'), 0o750);
  await fs.writeFile(path.join(d, 'hello'), 'hi\n');
  await fs.link(path.join(d, 'hello'), path.join(d, 'hello-link'));
  await fs.symlink('/bin/busybox', path.join(d, 'bin/sh'));
  const list = await entries(d, [
    { rel: 'bin' }, { rel: 'bin/gone', whiteout: true }, { rel: 'bin/sh' }, { rel: 'hello' }, { rel: 'hello-link' },
    { rel: 'var' }, { rel: 'var/www', opaque: true }, { rel: 'var/www/new.html' },
  ]);
  const got: string[] = [];
  const ex = tar.extract();
  layerTar(d, list).pipe(ex);
  for await (const e of ex) {
    const body: Buffer[] = [];
    for await (const c of e) body.push(c as Buffer);
    const h = e.header;
    got.push(`${h.name} ${h.type} ${(h.mode ?? 0).toString(8)}${h.linkname ? ` -> ${h.linkname}` : ''}${body.length ? ` "${Buffer.concat(body)}"` : ''}`);
  }
  assert.deepEqual(got, [
    'bin/ directory 755', 'bin/.wh.gone file 600', 'bin/sh symlink 777 -> /bin/busybox', 'hello file 644 "hi\n"', 'hello-link link 644 -> hello',
    'var/ directory 755', 'var/www/ directory 750', 'var/www/.wh..wh..opq file 750', 'var/www/new.html file 644 "new\n"',
  ]);
});

test('an upper dir without changes is an empty tar (Docker\'s empty layer)', async () => {
  const chunks: Buffer[] = [];
  for await (const c of layerTar(tmp, [])) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), Buffer.alloc(1024));
});

test('devNumbers splits a dev_t like glibc', () => {
  assert.deepEqual(devNumbers(0x0103), { major: 1, minor: 3 }); // /dev/null
  assert.deepEqual(devNumbers(0x8800 + 5), { major: 136, minor: 5 }); // /dev/pts/5
  assert.deepEqual(devNumbers(0x100000 * 2 + 0x0103), { major: 1, minor: 3 + 0x200 }); // minor above 255
});
