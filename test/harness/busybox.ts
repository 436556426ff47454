// An offline busybox image for tests, built like /work/shared/lab/busybox-image.sh:
// static busybox + one symlink per applet (busybox --list-full), /etc/passwd, /etc/group,
// /tmp 1777, /var/www/index.html; imported with CMD ["sh"].
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiRequest } from './http.js';
import { runOk } from './run.js';

const REQUIRED_APPLETS = ['sh', 'sleep', 'httpd', 'nc', 'wget', 'top', 'echo', 'cat', 'hostname', 'ip', 'nslookup', 'ps', 'true'];

export function busyboxBinary(): string {
  if (process.env.BUSYBOX) return process.env.BUSYBOX;
  return fs.existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox';
}

let building: Promise<string> | undefined;

/**
 * Path of the busybox rootfs tar: built once per process, cached in
 * <tmpdir>/shoal-test-cache/busybox-rootfs-<mtime>-<size>.tar (a newer busybox makes a new one).
 * Concurrent test files build into their own temp names and rename atomically.
 */
export function busyboxRootfsTar(): Promise<string> {
  building ??= build().catch((e: unknown) => { building = undefined; throw e; });
  return building;
}

async function build(): Promise<string> {
  const bb = busyboxBinary();
  const st = fs.statSync(bb);
  const cache = path.join(os.tmpdir(), 'shoal-test-cache');
  fs.mkdirSync(cache, { recursive: true });
  const tar = path.join(cache, `busybox-rootfs-${Math.floor(st.mtimeMs)}-${st.size}.tar`);
  if (fs.existsSync(tar) && fs.statSync(tar).size > 0) return tar;

  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const r = path.join(cache, `rootfs.${tag}`);
  const tmpTar = `${tar}.${tag}.tmp`;
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'var/www', 'home']) {
      fs.mkdirSync(path.join(r, d), { recursive: true, mode: 0o755 });
    }
    fs.chmodSync(path.join(r, 'tmp'), 0o1777);
    fs.copyFileSync(bb, path.join(r, 'bin/busybox'));
    fs.chmodSync(path.join(r, 'bin/busybox'), 0o755);
    const list = await runOk(path.join(r, 'bin/busybox'), ['--list-full']);
    for (const app of list.split('\n').map((l) => l.trim()).filter(Boolean)) {
      if (app === 'bin/busybox') continue;
      const p = path.join(r, app);
      fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
      fs.rmSync(p, { force: true });
      fs.symlinkSync('/bin/busybox', p);
    }
    fs.writeFileSync(path.join(r, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n', { mode: 0o644 });
    fs.writeFileSync(path.join(r, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\nwww-data:x:33:\n', { mode: 0o644 });
    fs.writeFileSync(path.join(r, 'var/www/index.html'), 'hello from busybox\n', { mode: 0o644 });
    await runOk('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', r, '-cf', tmpTar, '.']);
    const listing = new Set((await runOk('tar', ['-tf', tmpTar])).split('\n'));
    for (const a of REQUIRED_APPLETS) {
      if (!['bin', 'sbin', 'usr/bin', 'usr/sbin'].some((d) => listing.has(`./${d}/${a}`))) throw new Error(`busybox rootfs: applet ${a} missing`);
    }
    fs.renameSync(tmpTar, tar); // atomic: a concurrent builder's identical tar may be replaced, never torn
  } finally {
    fs.rmSync(r, { recursive: true, force: true });
    fs.rmSync(tmpTar, { force: true });
  }
  return tar;
}

/**
 * Imports the busybox rootfs as `tag` (default busybox:latest) with CMD ["sh"], through
 * POST /images/create?fromSrc=- (what `shoal import --change 'CMD ["sh"]' TAR busybox:latest` sends).
 * Returns the last status line of the daemon's answer (the image ID for Docker).
 */
export async function importBusybox(host: { name: string; socket: string }, tag = 'busybox:latest'): Promise<string> {
  const tar = await busyboxRootfsTar();
  const i = tag.lastIndexOf(':');
  const [repo, version] = i > tag.lastIndexOf('/') ? [tag.slice(0, i), tag.slice(i + 1)] : [tag, 'latest'];
  const q = new URLSearchParams({ fromSrc: '-', repo, tag: version, changes: 'CMD ["sh"]' });
  const res = await apiRequest(host.socket, 'POST', `/v1.41/images/create?${q.toString().replace(/\+/g, '%20')}`, {
    file: tar,
    headers: { 'Content-Type': 'application/x-tar' },
    timeoutMs: 120_000,
  });
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new Error(`${host.name}: import ${tag}: HTTP ${res.status}: ${text.trim()}`);
  let last = '';
  for (const line of text.split(/\r?\n/).filter((l) => l.trim())) {
    let msg: { error?: string; errorDetail?: { message?: string }; status?: string };
    try { msg = JSON.parse(line) as typeof msg; } catch { continue; }
    if (msg.error || msg.errorDetail) throw new Error(`${host.name}: import ${tag}: ${msg.error ?? msg.errorDetail?.message}`);
    if (msg.status) last = msg.status;
  }
  return last;
}
