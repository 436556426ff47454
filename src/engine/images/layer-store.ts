import { createHash } from 'node:crypto';
import { createWriteStream, promises as fs, renameSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Logger } from '../../daemon/logger.js';
import { readJson, writeJsonAtomic } from '../../util/atomic-file.js';
import { runOk } from '../../util/exec.js';

// Layers by diffID under <root>/layers/<hex>/: layer.tar (kept for save), diff/ (overlay lowerdir,
// whiteouts in overlay form) and meta.json. A layer is built in <root>/tmp and renamed into place,
// so a crash never leaves a half-unpacked layer where the store would find it.

export interface PreparedLayer { diffId: string; size: number; dir: string; unpacked: boolean }

interface Scan { size: number; whiteouts: string[]; opaque: string[]; markers: string[] }

const TAR_X = ['--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=security.selinux'];

export class LayerStore {
  private sizes = new Map<string, number>();
  readonly layersDir: string;
  readonly tmpDir: string;

  constructor(root: string, private log: Logger) {
    this.layersDir = path.join(root, 'layers');
    this.tmpDir = path.join(root, 'tmp');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.layersDir, { recursive: true });
    await fs.rm(this.tmpDir, { recursive: true, force: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    for (const hex of await fs.readdir(this.layersDir)) {
      const meta = await readJson<{ size: number }>(path.join(this.layersDir, hex, 'meta.json')).catch(() => undefined);
      if (meta && /^[a-f0-9]{64}$/.test(hex)) this.sizes.set(hex, meta.size);
      else await fs.rm(path.join(this.layersDir, hex), { recursive: true, force: true });
    }
  }

  has(diffId: string): boolean { return this.sizes.has(hex(diffId)); }
  size(diffId: string): number { return this.sizes.get(hex(diffId)) ?? 0; }
  all(): string[] { return [...this.sizes.keys()].map((h) => `sha256:${h}`); }
  dir(diffId: string): string { return path.join(this.layersDir, hex(diffId)); }
  diffDir(diffId: string): string { return path.join(this.dir(diffId), 'diff'); }
  tarPath(diffId: string): string { return path.join(this.dir(diffId), 'layer.tar'); }

  /** Spools an uncompressed layer tar into a temp dir, hashing it; unpacks it unless the layer exists. */
  async prepare(src: Readable, expected?: string): Promise<PreparedLayer> {
    const dir = await fs.mkdtemp(path.join(this.tmpDir, 'layer-'));
    try {
      const hash = createHash('sha256');
      const scan: Scan = { size: 0, whiteouts: [], opaque: [], markers: [] };
      const file = createWriteStream(path.join(dir, 'layer.tar'));
      const tee = new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          if (file.write(chunk)) cb(null, chunk); else file.once('drain', () => cb(null, chunk));
        },
        flush(cb) { file.end(() => cb()); },
      });
      file.on('error', (e) => tee.destroy(e));
      await pipeline(src, tee, scanner(scan));
      const diffId = `sha256:${hash.digest('hex')}`;
      if (expected && expected !== diffId) throw new Error(`invalid diffID for layer: expected "${expected}", got "${diffId}"`);
      await writeJsonAtomic(path.join(dir, 'meta.json'), { size: scan.size, whiteouts: scan.whiteouts, opaque: scan.opaque, markers: scan.markers });
      const p: PreparedLayer = { diffId, size: scan.size, dir, unpacked: false };
      if (!this.has(diffId)) await this.unpack(p);
      return p;
    } catch (e) {
      await fs.rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private async unpack(p: PreparedLayer): Promise<void> {
    const diff = path.join(p.dir, 'diff');
    await fs.mkdir(diff, { recursive: true });
    await runOk('tar', ['-x', '-f', path.join(p.dir, 'layer.tar'), '-C', diff, ...TAR_X]);
    const scan = (await readJson<Scan>(path.join(p.dir, 'meta.json')))!;
    await applyWhiteouts(diff, scan);
    await writeJsonAtomic(path.join(p.dir, 'meta.json'), { size: p.size });
    p.unpacked = true;
  }

  /** Moves a prepared layer into place (or drops it when the layer is already there). Call under the store lock. */
  async commit(p: PreparedLayer): Promise<void> {
    if (this.has(p.diffId)) return this.discard(p);
    if (!p.unpacked) await this.unpack(p);
    await fs.rename(p.dir, this.dir(p.diffId));
    this.sizes.set(hex(p.diffId), p.size);
  }

  async discard(p: PreparedLayer): Promise<void> {
    await fs.rm(p.dir, { recursive: true, force: true });
  }

  /** Forgets the layer at once (same tick) and deletes its files in the background. Call under the store lock. */
  remove(diffId: string): void {
    if (!this.sizes.delete(hex(diffId))) return;
    const trash = path.join(this.tmpDir, `trash-${hex(diffId).slice(0, 12)}-${Date.now()}`);
    try { renameSync(this.dir(diffId), trash); } catch (e) {
      this.log.warn({ err: e, diffId }, 'cannot move layer away for deletion');
      return;
    }
    fs.rm(trash, { recursive: true, force: true }).catch((e) => this.log.warn({ err: e, diffId }, 'cannot delete layer'));
  }
}

function hex(diffId: string): string { return diffId.replace(/^sha256:/, ''); }

/** A tar parser that only records what the unpacked layer needs: size and whiteouts. */
function scanner(scan: Scan) {
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const name = clean(h.name);
    if (name !== undefined) {
      const base = path.posix.basename(name);
      const dir = name.includes('/') ? path.posix.dirname(name) : '';
      if (base === '.wh..wh..opq') { scan.opaque.push(dir); scan.markers.push(name); } else if (base.startsWith('.wh..wh.')) scan.markers.push(name);
      else if (base.startsWith('.wh.')) { scan.whiteouts.push(path.posix.join(dir, base.slice(4))); scan.markers.push(name); } else if (h.type === 'file' || h.type === 'contiguous-file') scan.size += h.size ?? 0;
      else if (h.type === 'symlink') scan.size += Buffer.byteLength(h.linkname ?? '');
    }
    stream.on('end', () => next());
    stream.resume();
  });
  return ex;
}

/** Archive-relative path without "./", leading "/" or trailing "/"; undefined when it climbs out. */
export function clean(name: string): string | undefined {
  const n = path.posix.normalize('/' + name).slice(1).replace(/\/$/, '');
  return n.split('/').includes('..') ? undefined : n;
}

/** True when every directory from the layer root down to `rel` (exclusive when !self) is a real dir. */
async function realDirs(root: string, rel: string, self: boolean): Promise<boolean> {
  const parts = rel ? rel.split('/') : [];
  if (!self) parts.pop();
  let p = root;
  for (const part of parts) {
    p = path.join(p, part);
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/** `.wh.NAME` -> char device 0/0 NAME; `.wh..wh..opq` -> trusted.overlay.opaque=y on the dir. */
async function applyWhiteouts(diff: string, scan: Scan): Promise<void> {
  if (!scan.markers.length) return;
  const pack = tar.pack();
  for (const m of scan.markers) if (await realDirs(diff, m, false)) await fs.rm(path.join(diff, m), { force: true });
  for (const w of scan.whiteouts) {
    if (!(await realDirs(diff, w, false))) continue;
    await fs.rm(path.join(diff, w), { recursive: true, force: true });
    pack.entry({ name: w, type: 'character-device', mode: 0o20000, devmajor: 0, devminor: 0 });
  }
  for (const d of scan.opaque) {
    if (!(await realDirs(diff, d, true))) continue;
    const st = await fs.lstat(path.join(diff, d));
    // GNU tar sets xattrs from PAX SCHILY.xattr records, so no setfattr is needed.
    pack.entry({ name: d || '.', type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } } as tar.Header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await runOk('tar', ['-x', '-C', diff, ...TAR_X, '-f', '-'], { input: Buffer.concat(chunks) });
}
