// shoal cp
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  copyInfoDestinationPath, copyInfoSourcePath, decodePathStat, prepareArchiveCopy,
  rebaser, resolveLocalPath, splitPathDirEntry, statIsDir, statIsSymlink, tarResource, untar, type CopyInfo,
} from '../archive.js';
import type { CmdDef, Ctx } from '../command.js';
import { humanSizePrec } from '../fmt.js';
import { enc } from './shared.js';

/** docker's splitCpArg: "container:path" unless the argument is an absolute or dot-relative local path. */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function counter(total: { n: number }): Transform {
  return new Transform({ transform(chunk: Buffer, _e, cb) { total.n += chunk.length; cb(null, chunk); } });
}

async function validateOutputPath(p: string): Promise<void> {
  const dir = path.dirname(path.normalize(p));
  if (dir && dir !== '.') {
    if (!(await fs.stat(dir).catch(() => undefined))) throw new Error(`invalid output path: directory "${dir}" does not exist`);
  }
  const st = await fs.stat(p).catch(() => undefined);
  if (st && !st.isDirectory() && !st.isFile()) throw new Error(`invalid output path: "${p}" must be a directory or a regular file`);
}

async function localContentSize(p: string): Promise<number> {
  const st = await fs.lstat(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const e of await fs.readdir(p)) total += await localContentSize(path.join(p, e));
  return total;
}

function summary(ctx: Ctx, quiet: boolean, contentSize: number, transferred: number, dest: string): void {
  if (quiet) return;
  if (contentSize !== transferred) ctx.err(`Successfully copied ${humanSizePrec(contentSize)} (transferred ${humanSizePrec(transferred)}) to ${dest}\n`);
  else ctx.err(`Successfully copied ${humanSizePrec(contentSize)} to ${dest}\n`);
}

async function copyFromContainer(ctx: Ctx, container: string, srcPathIn: string, dstIn: string, o: { followLink: boolean; quiet: boolean }): Promise<void> {
  const client = ctx.client();
  let dstPath = dstIn;
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath);
  if (dstPath !== '-') await validateOutputPath(dstPath);
  let srcPath = srcPathIn;
  let rebaseName = '';
  if (o.followLink) {
    const h = await client.head(`/containers/${enc(container)}/archive`, { path: srcPath }).catch(() => undefined);
    const st = decodePathStat(h?.['x-docker-container-path-stat']);
    if (st && statIsSymlink(st)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(srcPath)[0], target);
      const [, srcBase] = splitPathDirEntry(srcPath);
      const [, tBase] = splitPathDirEntry(target);
      rebaseName = srcBase !== tBase ? srcBase : '';
      srcPath = target;
    }
  }
  const res = await client.request('GET', `/containers/${enc(container)}/archive`, { query: { path: srcPath } });
  if (dstPath === '-') {
    await pipeline(res, ctx.io.stdout as NodeJS.WritableStream, { end: false });
    return;
  }
  const st = decodePathStat(res.headers['x-docker-container-path-stat']);
  const src: CopyInfo = { path: srcPath, exists: true, isDir: st ? statIsDir(st) : false, rebaseName };
  const dst = await copyInfoDestinationPath(dstPath);
  let plan;
  try { plan = prepareArchiveCopy(src, dst); } catch (e) { res.destroy(); throw e; }
  let rename = plan.rename;
  if (!rename && rebaseName) rename = rebaser(splitPathDirEntry(srcPath)[1], rebaseName);
  const total = { n: 0 };
  await untar(res.pipe(counter(total)), plan.dstDir, rename);
  summary(ctx, o.quiet, st && !statIsDir(st) ? st.size : total.n, total.n, dstPath);
}

async function copyToContainer(ctx: Ctx, container: string, srcIn: string, dstPath: string, o: { followLink: boolean; copyUIDGID: boolean; quiet: boolean }): Promise<void> {
  const client = ctx.client();
  const srcPath = srcIn === '-' ? '-' : resolveLocalPath(srcIn);
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false };
  try {
    const h = await client.head(`/containers/${enc(container)}/archive`, { path: dstPath });
    let st = decodePathStat(h['x-docker-container-path-stat']);
    if (st && statIsSymlink(st)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(dstPath)[0], target);
      dst.path = target;
      const h2 = await client.head(`/containers/${enc(container)}/archive`, { path: target }).catch(() => undefined);
      st = decodePathStat(h2?.['x-docker-container-path-stat']);
    }
    if (st) { dst.exists = true; dst.isDir = statIsDir(st); }
  } catch { /* a missing destination is fine: its parent is checked by the daemon */ }

  const query = { path: '', noOverwriteDirNonDir: true, copyUIDGID: o.copyUIDGID || undefined };
  if (srcPath === '-') {
    if (!dst.isDir) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
    query.path = dst.path;
    await client.call('PUT', `/containers/${enc(container)}/archive`, { query, raw: ctx.io.stdin as NodeJS.ReadableStream, headers: { 'Content-Type': 'application/x-tar' } });
    return;
  }
  const src = await copyInfoSourcePath(srcPath, o.followLink);
  const contentSize = await localContentSize(src.path).catch(() => -1);
  const plan = prepareArchiveCopy(src, dst);
  query.path = plan.dstDir;
  const total = { n: 0 };
  const tarStream = tarResource(src, { keepOwner: o.copyUIDGID, rename: plan.rename }).pipe(counter(total));
  await client.call('PUT', `/containers/${enc(container)}/archive`, { query, raw: tarStream, headers: { 'Content-Type': 'application/x-tar' } });
  summary(ctx, o.quiet, contentSize >= 0 ? contentSize : total.n, total.n, `${container}:${dst.path}`);
}

export const cpCmd: CmdDef = {
  name: 'cp',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tshoal cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  args: { min: 2, max: 2 },
  options: [
    { long: 'archive', short: 'a', kind: 'bool', desc: 'Archive mode (copy all uid/gid information)' },
    { long: 'follow-link', short: 'L', kind: 'bool', desc: 'Always follow symlinks in SRC_PATH' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  async run(ctx, args, o) {
    if (args[0] === '') throw new Error('source can not be empty');
    if (args[1] === '') throw new Error('destination can not be empty');
    const quiet = o._changed.has('quiet') ? !!o.quiet : !ctx.io.stdout.isTTY;
    const [srcC, srcP] = splitCpArg(args[0]);
    const [dstC, dstP] = splitCpArg(args[1]);
    if (srcC && dstC) throw new Error('copying between containers is not supported');
    if (!srcC && !dstC) throw new Error('must specify at least one container source');
    if (srcC) await copyFromContainer(ctx, srcC, srcP, args[1] === '-' ? '-' : dstP, { followLink: !!o.followLink, quiet });
    else await copyToContainer(ctx, dstC, args[0] === '-' ? '-' : srcP, dstP, { followLink: !!o.followLink, copyUIDGID: !!o.archive, quiet });
    return 0;
  },
};
