// Local side of `cp`: docker's archive copy rules (CopyInfo, PrepareArchiveCopy, rebasing) with tar-stream.
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

/** Go's filepath.Clean. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!abs) out.push('..'); continue; }
    out.push(seg);
  }
  const s = (abs ? '/' : '') + out.join('/');
  return s || (abs ? '/' : '.');
}

export function specifiesCurrentDir(p: string): boolean {
  return path.basename(p) === '.' || p === '.' || p.endsWith('/.');
}

export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || specifiesCurrentDir(p);
}

/** archive.SplitPathDirEntry */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = cleanPath(p);
  if (specifiesCurrentDir(p)) cleaned += '/.';
  return [path.dirname(cleaned), path.basename(cleaned)];
}

/** filepath.Abs preserving a trailing "/" or "/." (docker's resolveLocalPath). */
export function resolveLocalPath(p: string, cwd = process.cwd()): string {
  let abs = cleanPath(path.resolve(cwd, p));
  if (p.endsWith('/.') || p === '.') { if (!abs.endsWith('/.')) abs = (abs === '/' ? '' : abs) + '/.'; } else if (p.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

/** Go FileMode bits in the container path stat header. */
export const MODE_DIR = 0x80000000;
export const MODE_SYMLINK = 0x08000000;

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  if (!header) return undefined;
  const h = Array.isArray(header) ? header[0] : header;
  try { return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as PathStat; } catch { return undefined; }
}

export function statIsDir(st: PathStat): boolean { return ((st.mode >>> 0) & MODE_DIR) !== 0; }
export function statIsSymlink(st: PathStat): boolean { return ((st.mode >>> 0) & MODE_SYMLINK) !== 0; }

function enoent(op: string, p: string): Error {
  return new Error(`${op} ${p}: no such file or directory`);
}

/** archive.CopyInfoSourcePath */
export async function copyInfoSourcePath(p: string, followLink: boolean): Promise<CopyInfo> {
  let resolved = p;
  if (followLink) {
    try { resolved = await fs.realpath(p); } catch { /* lstat reports */ }
    if (assertsDirectory(p) && !resolved.endsWith('/')) resolved = p.endsWith('/.') ? resolved + '/.' : resolved + '/';
  } else {
    const [dir, base] = splitPathDirEntry(p);
    let realDir = dir;
    try { realDir = await fs.realpath(dir); } catch { /* keep */ }
    resolved = `${realDir}/${base}`; // docker joins with a separator even after "/" ("//x")
    if (p.endsWith('/.')) resolved += '/.';
    else if (p.endsWith('/') && !resolved.endsWith('/')) resolved += '/';
  }
  let st;
  try { st = await fs.lstat(resolved); } catch { throw enoent('lstat', resolved.replace(/\/\.?$/, '') || '/'); }
  if (resolved.startsWith('//')) resolved = resolved.slice(1);
  let rebaseName = '';
  if (assertsDirectory(p) && !st.isDirectory()) {
    throw new Error(`lstat ${p}: not a directory`);
  }
  if (followLink && path.basename(resolved) !== path.basename(p) && !assertsDirectory(p)) rebaseName = path.basename(p);
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** archive.CopyInfoDestinationPath */
export async function copyInfoDestinationPath(p: string): Promise<CopyInfo> {
  let cur = p;
  let st = await fs.lstat(cur).catch(() => undefined);
  if (st && !st.isSymbolicLink()) return { path: cur, exists: true, isDir: st.isDirectory() };
  for (let n = 0; st && st.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${p}`);
    let target = await fs.readlink(cur);
    if (!path.isAbsolute(target)) target = path.join(splitPathDirEntry(cur)[0], target);
    cur = target;
    st = await fs.lstat(cur).catch(() => undefined);
  }
  if (!st) {
    const [parent] = splitPathDirEntry(cur);
    const pst = await fs.stat(parent).catch(() => undefined);
    if (!pst) throw enoent('stat', parent);
    if (!pst.isDirectory()) throw new Error('not a directory');
    return { path: cur, exists: false, isDir: false };
  }
  return { path: cur, exists: true, isDir: st.isDirectory() };
}

export type Rename = (name: string) => string;

/** archive.RebaseArchiveEntries as a name mapper: replaces a leading oldBase component with newBase. */
export function rebaser(oldBase: string, newBase: string): Rename {
  return (name: string) => {
    if (name === oldBase || name === `${oldBase}/`) return newBase + (name.endsWith('/') ? '/' : '');
    if (name.startsWith(`${oldBase}/`)) return newBase + name.slice(oldBase.length);
    return name;
  };
}

const ErrCannotCopyDir = 'cannot copy directory';
const ErrDirNotExists = 'no such directory';

/** archive.PrepareArchiveCopy: where to extract and how to rename the entries. */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rename?: Rename } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new Error(ErrCannotCopyDir);
  if (src.rebaseName) srcBase = src.rebaseName;
  if (dst.exists) return { dstDir, rename: rebaser(srcBase, dstBase) };
  if (src.isDir) return { dstDir, rename: rebaser(srcBase, dstBase) };
  if (assertsDirectory(dst.path)) throw new Error(ErrDirNotExists);
  return { dstDir, rename: rebaser(srcBase, dstBase) };
}

/**
 * archive.TarResourceRebase: a tar of a local file or directory whose entries start with the
 * rebased name (or the base name). `name` is the first component; uid/gid are zeroed unless kept.
 */
export function tarResource(src: CopyInfo, opts: { keepOwner?: boolean; rename?: Rename } = {}): Readable {
  const pack = tar.pack();
  const [srcDir, srcBase] = splitPathDirEntry(src.path);
  const first = src.rebaseName || srcBase;
  const rename = opts.rename ?? ((n: string) => n);
  const add = async (abs: string, name: string): Promise<void> => {
    const st = await fs.lstat(abs);
    const base = {
      name: rename(name), mode: st.mode & 0o7777, mtime: st.mtime,
      uid: opts.keepOwner ? st.uid : 0, gid: opts.keepOwner ? st.gid : 0,
    };
    if (st.isDirectory()) {
      if (name !== '.') await new Promise<void>((res, rej) => pack.entry({ ...base, type: 'directory' }, (e) => (e ? rej(e) : res())));
      const entries = (await fs.readdir(abs)).sort();
      for (const e of entries) await add(path.join(abs, e), name === '.' ? `./${e}` : `${name}/${e}`);
    } else if (st.isSymbolicLink()) {
      const target = await fs.readlink(abs);
      await new Promise<void>((res, rej) => pack.entry({ ...base, type: 'symlink', linkname: target }, (e) => (e ? rej(e) : res())));
    } else if (st.isFile()) {
      await new Promise<void>((res, rej) => {
        const w = pack.entry({ ...base, type: 'file', size: st.size }, (e) => (e ? rej(e) : res()));
        createReadStream(abs).on('error', rej).pipe(w);
      });
    }
    // sockets, devices and fifos are skipped
  };
  (async () => {
    try {
      await add(path.join(srcDir, srcBase === '.' ? '' : srcBase) || srcDir, first);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return pack as unknown as Readable;
}

/** archive.Untar into dstDir with an optional entry renaming (no chown). */
export async function untar(src: AsyncIterable<Buffer> | Readable, dstDir: string, rename?: Rename): Promise<void> {
  const extract = tar.extract();
  const root = path.resolve(dstDir);
  const feeding = pipeline(src as Readable, extract).catch((e) => { extract.destroy(e); });
  const dirTimes: [string, Date][] = [];
  for await (const entry of extract) {
    const h = entry.header;
    let name = rename ? rename(h.name) : h.name;
    name = cleanPath(name);
    const target = path.join(root, name);
    if (target !== root && !target.startsWith(root + '/')) { entry.resume(); continue; }
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory': {
        const st = await fs.lstat(target).catch(() => undefined);
        if (st && !st.isDirectory()) throw new Error(`cannot overwrite non-directory "${target}" with directory "${name}"`);
        await fs.mkdir(target, { recursive: true, mode });
        await fs.chmod(target, mode).catch(() => undefined);
        if (h.mtime) dirTimes.push([target, h.mtime]);
        entry.resume();
        break;
      }
      case 'symlink': {
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.rm(target, { force: true, recursive: false }).catch(() => undefined);
        await fs.symlink(h.linkname ?? '', target);
        entry.resume();
        break;
      }
      case 'link': {
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.rm(target, { force: true }).catch(() => undefined);
        const linkSrc = path.join(root, cleanPath(rename ? rename(h.linkname ?? '') : h.linkname ?? ''));
        await fs.link(linkSrc, target);
        entry.resume();
        break;
      }
      case 'file': case 'contiguous-file': case undefined: case null: {
        await fs.mkdir(path.dirname(target), { recursive: true });
        const st = await fs.lstat(target).catch(() => undefined);
        if (st?.isDirectory()) throw new Error(`cannot overwrite directory "${target}" with non-directory "${name}"`);
        if (st) await fs.rm(target, { force: true });
        await pipeline(entry, createWriteStream(target, { mode }));
        await fs.chmod(target, mode).catch(() => undefined);
        if (h.mtime) await fs.utimes(target, h.mtime, h.mtime).catch(() => undefined);
        break;
      }
      default:
        entry.resume();
    }
  }
  await feeding;
  for (const [d, t] of dirTimes.reverse()) await fs.utimes(d, t, t).catch(() => undefined);
}
