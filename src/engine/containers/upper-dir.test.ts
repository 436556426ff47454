import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseGetfattr, readUpper } from './upper-dir.js';

let tmp: string;
let upper: string;
let lower: string;

// An upper dir as overlayfs leaves it (as root: whiteout devices, trusted.* attributes).
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'shoal-upper-'));
  upper = path.join(tmp, 'upper');
  lower = path.join(tmp, 'lower');
  for (const d of ['etc', 'var/www', 'bin', 'home']) await fs.mkdir(path.join(lower, d), { recursive: true });
  await fs.writeFile(path.join(lower, 'etc/group'), 'root:x:0:\n');
  await fs.symlink('/bin/busybox', path.join(lower, 'bin/ls'));
  await fs.writeFile(path.join(lower, 'var/www/index.html'), 'old\n');
  for (const d of ['etc', 'var/www', 'bin', 'proc', 'new/sub']) await fs.mkdir(path.join(upper, d), { recursive: true });
  for (const f of ['etc/hosts', 'etc/hostname', 'etc/resolv.conf']) await fs.writeFile(path.join(upper, f), ''); // runc's mount points
  execFileSync('mknod', [path.join(upper, 'bin/ls'), 'c', '0', '0']);
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'var/www')]);
  await fs.writeFile(path.join(upper, 'var/www/new.html'), 'new\n');
  await fs.writeFile(path.join(upper, 'new/sub/f'), 'x');
});
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

test('readUpper: whiteouts, opaque dirs, what the image had; runtime mount points left out', async () => {
  const entries = await readUpper(upper, [lower], { opaque: true });
  const brief = entries.map((e) => `${e.rel}${e.whiteout ? ' W' : ''}${e.opaque ? ' O' : ''}${e.inLower ? ' L' : ''}`);
  // etc holds only placeholders: neither it nor they are a change; an empty proc is a mount point too
  assert.deepEqual(brief, ['bin L', 'bin/ls W L', 'new', 'new/sub', 'new/sub/f', 'var L', 'var/www O L', 'var/www/new.html']);
  // without the helper (diff) the walk is the same, opaque unknown
  assert.deepEqual((await readUpper(upper, [lower])).map((e) => e.rel), entries.map((e) => e.rel));
  assert.deepEqual(await readUpper(path.join(tmp, 'never-started'), [lower]), []);
});

test('readUpper keeps a placeholder path that holds real content', async () => {
  await fs.writeFile(path.join(upper, 'etc/hosts'), '10.0.0.1 db\n');
  try {
    assert.deepEqual((await readUpper(upper, [lower])).filter((e) => e.rel.startsWith('etc')).map((e) => e.rel), ['etc', 'etc/hosts']);
  } finally { await fs.writeFile(path.join(upper, 'etc/hosts'), ''); }
});

test('parseGetfattr: octal escapes in names, hex values, files outside the root ignored', () => {
  const out = [
    '# file: /r/var/www', 'trusted.overlay.opaque=0x79', '',
    '# file: /r/with\\040space\\012nl', 'trusted.overlay.opaque=0x79', '',
    '# file: /r/caf\\303\\251', 'user.empty', '',
    '# file: /elsewhere', 'trusted.overlay.opaque=0x79', '',
  ].join('\n');
  const m = parseGetfattr(out, '/r');
  assert.deepEqual([...m.keys()], ['var/www', 'with space\nnl', 'café']);
  assert.equal(m.get('var/www')!['trusted.overlay.opaque']!.toString(), 'y');
  assert.equal(m.get('café')!['user.empty']!.length, 0);
});
