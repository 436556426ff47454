import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256 } from '../../util/ids.js';
import { decompressed } from './decompress.js';
import { clean } from './layer-store.js';

// The docker-archive format of `docker save` / `docker load`: manifest.json naming a config and
// layer tars, either legacy (<v1id>/layer.tar, what Docker 20.10 writes) or OCI-style blobs/sha256/<hex>.

export interface ManifestItem { Config: string; RepoTags: string[] | null; Layers: string[] }

interface Spooled { file: string; sha256: string }

/** An archive unpacked to flat files: regular entries by name, links resolved on lookup. */
export class Spool {
  private files = new Map<string, Spooled>();
  private links = new Map<string, string>();

  private constructor(readonly dir: string) {}

  static async read(input: Readable, dir: string): Promise<Spool> {
    const spool = new Spool(dir);
    await fs.mkdir(dir, { recursive: true });
    let n = 0;
    const ex = tar.extract();
    const src = await decompressed(input);
    const done = pipeline(src, ex);
    done.catch(() => undefined); // the loop below sees the same error
    for await (const entry of ex) {
      const h = entry.header;
      const name = clean(h.name);
      if (name !== undefined && (h.type === 'file' || h.type === 'contiguous-file')) {
        const file = path.join(dir, String(n++));
        const hash = createHash('sha256');
        const tap = new Transform({ transform(c: Buffer, _e, cb) { hash.update(c); cb(null, c); } });
        await pipeline(entry, tap, createWriteStream(file));
        spool.files.set(name, { file, sha256: hash.digest('hex') });
        continue;
      }
      if (name !== undefined && h.linkname && (h.type === 'symlink' || h.type === 'link')) {
        const target = h.type === 'link' || h.linkname.startsWith('/') ? h.linkname : path.posix.join(path.posix.dirname(name), h.linkname);
        const t = clean(target);
        if (t !== undefined) spool.links.set(name, t);
      }
      entry.resume();
    }
    await done;
    return spool;
  }

  get(name: string): Spooled | undefined {
    let n = clean(name);
    for (let hops = 0; n !== undefined && hops < 16; hops++) {
      const f = this.files.get(n);
      if (f) return f;
      n = this.links.get(n);
    }
    return undefined;
  }

  async readJson<T>(name: string): Promise<{ value: T; raw: Buffer } | undefined> {
    const f = this.get(name);
    if (!f) return undefined;
    const raw = await fs.readFile(f.file);
    try { return { value: JSON.parse(raw.toString('utf8')) as T, raw }; } catch (e) {
      throw new Error(`invalid JSON in ${name}: ${(e as Error).message}`);
    }
  }

  open(name: string): Readable { return createReadStream(this.get(name)!.file); }
}

export interface SaveImage { id: string; raw: Buffer; diffIds: string[]; config: any; tags: string[]; created: Date }

/** Docker's v1 layer IDs: a digest of the layer's legacy JSON and its chain, stable for one image. */
function v1Id(chainId: string, parent: string, top: Record<string, unknown> | undefined): string {
  return sha256(JSON.stringify({ chain: chainId, parent, top: top ?? null }));
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? `sha256:${sha256(`${out[out.length - 1]} ${d}`)}` : d);
  return out;
}

/** Writes the archive `docker save` of Docker 20.10 writes (legacy layout plus manifest.json). */
export async function writeArchive(out: Writable, images: SaveImage[], layerTar: (diffId: string) => string): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const put = (header: Partial<tar.Header> & { name: string }, body?: Buffer | string) => new Promise<void>((resolve, reject) => {
    pack.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
  });
  const written = new Map<string, string>();
  const manifest: ManifestItem[] = [];
  const repos: Record<string, Record<string, string>> = {};
  try {
    for (const img of images) {
      const chains = chainIds(img.diffIds);
      const layers: string[] = [];
      let parent = '';
      for (let i = 0; i < img.diffIds.length; i++) {
        const isTop = i === img.diffIds.length - 1;
        const topCfg = isTop ? { ...img.config, rootfs: undefined, history: undefined } : undefined;
        const id = v1Id(chains[i], parent, topCfg);
        const mtime = img.created;
        if (!written.has(id)) {
          const json: Record<string, unknown> = isTop
            ? { id, ...(parent ? { parent } : {}), ...topCfg }
            : { id, ...(parent ? { parent } : {}), created: '1970-01-01T00:00:00Z', container_config: {}, os: img.config.os ?? 'linux' };
          await put({ name: `${id}/`, type: 'directory', mode: 0o755, mtime });
          await put({ name: `${id}/VERSION`, mode: 0o644, mtime }, '1.0');
          await put({ name: `${id}/json`, mode: 0o644, mtime }, JSON.stringify(json));
          const same = [...written].find(([, d]) => d === img.diffIds[i]);
          if (same) await put({ name: `${id}/layer.tar`, type: 'symlink', linkname: `../${same[0]}/layer.tar`, mtime });
          else {
            const file = layerTar(img.diffIds[i]);
            const st = await fs.stat(file);
            const sink = pack.entry({ name: `${id}/layer.tar`, mode: 0o644, size: st.size, mtime });
            await pipeline(createReadStream(file), sink);
          }
          written.set(id, img.diffIds[i]);
        }
        layers.push(`${id}/layer.tar`);
        parent = id;
      }
      const hex = img.id.replace(/^sha256:/, '');
      await put({ name: `${hex}.json`, mode: 0o644, mtime: img.created }, img.raw);
      manifest.push({ Config: `${hex}.json`, RepoTags: img.tags.length ? img.tags : null, Layers: layers });
      for (const t of img.tags) {
        const i = t.lastIndexOf(':');
        (repos[t.slice(0, i)] ??= {})[t.slice(i + 1)] = parent;
      }
    }
    await put({ name: 'manifest.json', mode: 0o644, mtime: new Date() }, JSON.stringify(manifest));
    if (Object.keys(repos).length) await put({ name: 'repositories', mode: 0o644, mtime: new Date() }, JSON.stringify(repos));
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await done;
}
