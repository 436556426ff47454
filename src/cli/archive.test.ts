import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cleanPath, copyInfoDestinationPath, copyInfoSourcePath, prepareArchiveCopy, rebaser, resolveLocalPath, splitPathDirEntry, tarResource, untar,
} from './archive.js';

test('path helpers', () => {
  assert.equal(cleanPath('/a/b/../c/./'), '/a/c');
  assert.deepEqual(splitPathDirEntry('/a/b'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.equal(resolveLocalPath('x/', '/base'), '/base/x/');
  assert.equal(resolveLocalPath('x/.', '/base'), '/base/x/.');
  assert.equal(rebaser('dir', 'new')('dir/a/b'), 'new/a/b');
  assert.equal(rebaser('dir', 'new')('dir'), 'new');
  assert.equal(rebaser('.', 'new')('./a'), 'new/a');
  assert.equal(rebaser('dir', 'new')('other/dir'), 'other/dir');
});

test('docker cp destination rules', () => {
  const file = { path: '/src/f', exists: true, isDir: false };
  const dir = { path: '/src/d', exists: true, isDir: true };
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst', exists: true, isDir: true }), { dstDir: '/dst' });
  assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/file', exists: true, isDir: false }), /cannot copy directory/);
  const r1 = prepareArchiveCopy(file, { path: '/dst/g', exists: true, isDir: false });
  assert.equal(r1.dstDir, '/dst');
  assert.equal(r1.rename!('f'), 'g');
  const r2 = prepareArchiveCopy(dir, { path: '/dst/new', exists: false, isDir: false });
  assert.equal(r2.rename!('d/x'), 'new/x');
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/nodir/', exists: false, isDir: false }), /no such directory/);
});

test('tar round trip with rebasing', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'shoal-archive-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = path.join(root, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'a.txt'), 'hello');
  writeFileSync(path.join(src, 'sub', 'b.sh'), '#!/bin/sh\n', { mode: 0o755 });
  symlinkSync('a.txt', path.join(src, 'link'));
  const info = await copyInfoSourcePath(src, false);
  assert.equal(info.isDir, true);
  const out = path.join(root, 'out');
  mkdirSync(out);
  await untar(tarResource(info), out, rebaser('src', 'copy'));
  assert.equal(readFileSync(path.join(out, 'copy', 'a.txt'), 'utf8'), 'hello');
  assert.equal(statSync(path.join(out, 'copy', 'sub', 'b.sh')).mode & 0o777, 0o755);
  assert.equal(readlinkSync(path.join(out, 'copy', 'link')), 'a.txt');
  // contents only ("dir/.")
  const out2 = path.join(root, 'out2');
  mkdirSync(out2);
  await untar(tarResource(await copyInfoSourcePath(`${src}/.`, false)), out2);
  assert.equal(readFileSync(path.join(out2, 'a.txt'), 'utf8'), 'hello');
  // destination analysis
  assert.deepEqual(await copyInfoDestinationPath(out2), { path: out2, exists: true, isDir: true });
  assert.deepEqual(await copyInfoDestinationPath(path.join(out2, 'nope')), { path: path.join(out2, 'nope'), exists: false, isDir: false });
  await assert.rejects(copyInfoDestinationPath(path.join(root, 'missing', 'x')), /stat .*missing: no such file or directory/);
  await assert.rejects(copyInfoSourcePath(path.join(root, 'missing'), false), /lstat .*missing: no such file or directory/);
});
