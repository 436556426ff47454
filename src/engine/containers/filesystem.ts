import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BadRequest, NotFound } from '../../api/errors.js';
import type { ContainerManager } from './manager.js';
import { isMounted, mountRootfs, rootfsPaths, unmountRootfs } from './rootfs.js';
import type { ContainerRecord } from './types.js';
import { readUpper } from './upper-dir.js';

// Filesystem views of a container: `changes` (its upperdir), `export`, and `cp` archives.

/** Runs fn with the container's rootfs mounted, mounting it temporarily when it is stopped. */
export async function withRootfs<T>(mgr: ContainerManager, c: ContainerRecord, fn: (root: string) => Promise<T>): Promise<T> {
  const p = rootfsPaths(mgr.store.dir(c.Id), mgr.bundle(c.Id));
  if (await isMounted(p.merged)) return fn(p.merged);
  const img = mgr.images.tryResolve(c.Image);
  if (!img) throw new NotFound(`No such image: ${c.Image}`);
  await mountRootfs(mgr.images.lowerDirs(img), p);
  try { return await fn(p.merged); } finally {
    if (!c.State.Running) await unmountRootfs(p);
  }
}

export async function changes(mgr: ContainerManager, c: ContainerRecord): Promise<{ Path: string; Kind: number }[]> {
  const upper = rootfsPaths(mgr.store.dir(c.Id), mgr.bundle(c.Id)).upper;
  const img = mgr.images.tryResolve(c.Image);
  const entries = await readUpper(upper, img ? mgr.images.lowerDirs(img) : []);
  return entries.map((e) => ({ Path: '/' + e.rel, Kind: e.whiteout ? 2 : e.inLower ? 0 : 1 }))
    .sort((a, b) => a.Path.localeCompare(b.Path));
}

function tarProcess(args: string[], input?: Readable): { stdout: Readable; done: Promise<void> } {
  const p = spawn('tar', args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  if (input) input.pipe(p.stdin!);
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new BadRequest(err.trim() || `tar exited ${code}`))));
  });
  return { stdout: p.stdout!, done };
}

export async function exportRootfs(mgr: ContainerManager, c: ContainerRecord, out: Writable): Promise<void> {
  await withRootfs(mgr, c, async (root) => {
    const t = tarProcess(['--numeric-owner', '--xattrs', '-C', root, '-c', '.']);
    t.stdout.pipe(out);
    await t.done;
  });
}

/** Resolves a path inside the container, refusing to follow it out of the rootfs. */
function inside(root: string, p: string): string {
  const full = path.join(root, path.normalize('/' + p));
  if (!full.startsWith(root)) throw new BadRequest(`invalid path ${p}`);
  return full;
}

export async function statPath(mgr: ContainerManager, c: ContainerRecord, p: string): Promise<any> {
  return withRootfs(mgr, c, async (root) => pathStat(inside(root, p), p, c.Name.slice(1)));
}

async function pathStat(full: string, p: string, container: string): Promise<any> {
  const st = await fs.lstat(full).catch(() => { throw new NotFound(`Could not find the file ${p} in container ${container}`); });
  const linkTarget = st.isSymbolicLink() ? await fs.readlink(full) : '';
  // Go's FileMode: type bits in the high bits, permission bits low.
  // Go's FileMode is a uint32: permission bits low, type and special bits high.
  let mode = st.mode & 0o777;
  if (st.isDirectory()) mode |= 0x80000000;
  if (st.isSymbolicLink()) mode |= 0x08000000;
  if (st.mode & 0o1000) mode |= 0x00100000; // sticky
  if (st.mode & 0o2000) mode |= 0x00400000; // setgid
  if (st.mode & 0o4000) mode |= 0x00800000; // setuid
  mode >>>= 0;
  return { name: path.basename(p) || '/', size: st.size, mode, mtime: st.mtime.toISOString(), linkTarget };
}

export async function getArchive(mgr: ContainerManager, c: ContainerRecord, p: string, out: Writable, onStat: (stat: any) => void): Promise<void> {
  await withRootfs(mgr, c, async (root) => {
    const full = inside(root, p);
    onStat(await pathStat(full, p, c.Name.slice(1)));
    // "dir/." means the directory's contents, not the directory itself.
    const contents = p.endsWith('/.');
    const t = tarProcess(['--numeric-owner', '-C', contents ? full : path.dirname(full), '-c', contents ? '.' : path.basename(full)]);
    t.stdout.pipe(out);
    await t.done;
  });
}

export async function putArchive(mgr: ContainerManager, c: ContainerRecord, p: string, input: Readable): Promise<void> {
  if (c.HostConfig.ReadonlyRootfs) throw new BadRequest('container rootfs is marked read-only');
  await withRootfs(mgr, c, async (root) => {
    const full = inside(root, p);
    const st = await fs.stat(full).catch(() => undefined);
    if (!st) throw new NotFound(`Could not find the file ${p} in container ${c.Name.slice(1)}`);
    if (!st.isDirectory()) throw new BadRequest(`extraction point is not a directory`);
    await tarProcess(['--numeric-owner', '-C', full, '-x'], input).done;
  });
}
