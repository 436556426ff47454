import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { UpperEntry } from './upper-dir.js';

// A Docker image layer (uncompressed tar) from a container's upper dir: overlay whiteouts become
// empty `.wh.<name>` files and an opaque directory is followed by its `.wh..wh..opq` marker: the
// forms the layer store turns back into overlay ones when it unpacks a layer. Hard links inside the
// layer stay links; sockets are left out, as Docker does. Extended attributes are not carried.

export function layerTar(upper: string, entries: UpperEntry[]): Readable {
  const pack = tar.pack();
  void (async () => {
    const firstName = new Map<string, string>();
    for (const e of entries) await add(pack, upper, e, firstName);
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}

async function add(pack: tar.Pack, upper: string, e: UpperEntry, firstName: Map<string, string>): Promise<void> {
  const st = e.st;
  const base = { uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (e.whiteout) {
    const dir = path.posix.dirname(e.rel);
    return entry(pack, { ...base, name: path.posix.join(dir, `.wh.${path.posix.basename(e.rel)}`), type: 'file', size: 0, mode: 0o600 });
  }
  const mode = st.mode & 0o7777;
  if (st.isDirectory()) {
    await entry(pack, { ...base, name: `${e.rel}/`, type: 'directory', mode });
    if (e.opaque) await entry(pack, { ...base, name: `${e.rel}/.wh..wh..opq`, type: 'file', size: 0, mode: mode & 0o777 });
    return;
  }
  if (st.isSymbolicLink()) {
    return entry(pack, { ...base, name: e.rel, type: 'symlink', mode, linkname: await fs.readlink(path.join(upper, e.rel)) });
  }
  if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? firstName.get(key) : undefined;
    if (first !== undefined) return entry(pack, { ...base, name: e.rel, type: 'link', mode, linkname: first });
    if (st.nlink > 1) firstName.set(key, e.rel);
    return new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...base, name: e.rel, type: 'file', mode, size: st.size }, (err) => (err ? reject(err) : resolve()));
      createReadStream(path.join(upper, e.rel)).on('error', reject).pipe(sink);
    });
  }
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = devNumbers(st.rdev);
    return entry(pack, { ...base, name: e.rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', mode, devmajor: major, devminor: minor });
  }
  if (st.isFIFO()) return entry(pack, { ...base, name: e.rel, type: 'fifo', mode });
}

/** An entry without content (an empty buffer also ends an empty regular file's body). */
function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => { pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())); });
}

/** glibc's major()/minor() of a dev_t. */
export function devNumbers(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}
