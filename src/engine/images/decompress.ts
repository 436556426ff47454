import { spawn } from 'node:child_process';
import { PassThrough, Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';

// Like Docker's archive.DecompressStream: the format is told by magic bytes, not by headers.
// gzip is done in-process; bzip2, xz and zstd by the Debian tools of the same name.

const MAGIC: [string, number[]][] = [
  ['gzip', [0x1f, 0x8b, 0x08]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

export function detectCompression(head: Buffer): string | undefined {
  return MAGIC.find(([, m]) => m.every((b, i) => head[i] === b))?.[0];
}

/** Returns `src` with its first bytes put back and, when compressed, decompressed. */
export async function decompressed(src: Readable): Promise<Readable> {
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let len = 0;
  while (len < 6) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    len += r.value.length;
  }
  const rest = Readable.from((async function* () {
    try {
      yield* head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
    } finally { await it.return?.(); }
  })(), { objectMode: false });
  const kind = detectCompression(Buffer.concat(head));
  if (!kind) return rest;
  if (kind === 'gzip') return chain(rest, zlib.createGunzip());
  const p = spawn(kind, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  pipeline(rest, p.stdin, () => { /* errors surface as the tool's exit status */ });
  p.stdout.pipe(out, { end: false });
  p.on('error', (e) => out.destroy(e));
  p.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`${kind} decompression failed: ${stderr.trim() || `exit ${code}`}`));
  });
  return out;
}

function chain(src: Readable, t: NodeJS.ReadWriteStream & Readable): Readable {
  pipeline(src, t, () => { /* the error is re-emitted on t */ });
  return t;
}
