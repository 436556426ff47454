// Demultiplexer for Docker's stdcopy framing: an 8-byte header [stream, 0, 0, 0, size uint32 BE] per frame.
// Stream 0 stdin, 1 stdout, 2 stderr, 3 an error from the daemon.
import type { Writable } from 'node:stream';

export interface Frame { stream: number; data: Buffer }

export class StdDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns the frames completed so far. Throws on a corrupt header. */
  push(chunk: Buffer): Frame[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Frame[] = [];
    let off = 0;
    while (buf.length - off >= 8) {
      const stream = buf[off];
      if (stream > 3) throw new Error(`Unrecognized input header: ${stream}`);
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off - 8 < size) break;
      out.push({ stream, data: buf.subarray(off + 8, off + 8 + size) });
      off += 8 + size;
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    return out;
  }

  /** Bytes of an incomplete frame still held. */
  get buffered(): number { return this.pending.length; }
}

function write(w: Writable | NodeJS.WritableStream, data: Buffer): Promise<void> | undefined {
  if (data.length === 0) return undefined;
  const ok = w.write(data);
  if (ok) return undefined;
  return new Promise((resolve) => w.once('drain', () => resolve()));
}

/**
 * Copies a multiplexed stream to stdout/stderr (docker's StdCopy). Resolves when the source ends;
 * rejects with "error from daemon in stream: ..." when the daemon sends a stream-3 frame.
 */
export async function stdCopy(src: AsyncIterable<Buffer | string>, stdout: Writable | NodeJS.WritableStream | null, stderr: Writable | NodeJS.WritableStream | null): Promise<void> {
  const d = new StdDemuxer();
  for await (const chunk of src) {
    for (const f of d.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
      if (f.stream === 3) throw new Error(`error from daemon in stream: ${f.data.toString('utf8')}`);
      const dst = f.stream === 2 ? stderr : f.stream === 1 ? stdout : null;
      if (dst) await write(dst, f.data);
    }
  }
}

/** Encodes one frame (used by tests and fakes). */
export function encodeFrame(stream: number, data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(b.length, 4);
  return Buffer.concat([h, b]);
}
