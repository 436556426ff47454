// Docker's stdcopy multiplexing of stdin/stdout/stderr over one non-TTY attach/logs stream.

/** 0 stdin, 1 stdout, 2 stderr, 3 systemerr (daemon error message). */
export type StdStream = 0 | 1 | 2 | 3;

export interface StdFrame {
  stream: StdStream;
  data: Buffer;
}

/** One frame: header [stream, 0, 0, 0, uint32 BE length] followed by the data. */
export function frame(stream: StdStream, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + data.length);
  out.writeUInt32BE(0, 0);
  out[0] = stream;
  out.writeUInt32BE(data.length, 4);
  data.copy(out, 8);
  return out;
}

/** Incremental frame parser: push chunks as they arrive, get back every completed frame. */
export class Demuxer {
  private chunks: Buffer[] = [];
  private len = 0;
  /** Bytes needed before the next frame can complete. */
  private need = 8;

  push(chunk: Buffer): StdFrame[] {
    const out: StdFrame[] = [];
    if (chunk.length) { this.chunks.push(chunk); this.len += chunk.length; }
    // Joins chunks only once a whole frame is there, so a large frame split in many chunks stays linear.
    if (this.len < this.need) return out;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.len);
    let off = 0;
    this.need = 8;
    while (buf.length - off >= 8) {
      const stream = buf[off];
      if (stream > 3) throw new Error(`stdcopy: unrecognized stream ${stream}`);
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off < 8 + size) { this.need = 8 + size; break; }
      out.push({ stream: stream as StdStream, data: buf.subarray(off + 8, off + 8 + size) });
      off += 8 + size;
    }
    const rest = buf.subarray(off);
    this.chunks = rest.length ? [rest] : [];
    this.len = rest.length;
    return out;
  }

  /** Bytes of an incomplete frame held back; non-zero at end of input means a truncated stream. */
  get buffered(): number {
    return this.len;
  }
}

/** Demultiplexes a whole byte stream (e.g. an HTTP response or socket). */
export async function* demux(src: AsyncIterable<Buffer | string>): AsyncGenerator<StdFrame> {
  const d = new Demuxer();
  for await (const chunk of src) yield* d.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  if (d.buffered) throw new Error(`stdcopy: stream ended inside a frame (${d.buffered} bytes left)`);
}

/**
 * Unix ns to RFC3339 with 9 fraction digits, UTC: what `docker logs --timestamps` prints (moby
 * formats with RFC3339NanoFixed). `trim` gives Go's RFC3339Nano instead (trailing zeros, and an
 * all-zero fraction, dropped), as in JSON-encoded times such as the stats `read` field.
 */
export function formatTimestamp(timeNano: bigint, opts: { trim?: boolean } = {}): string {
  let sec = timeNano / 1_000_000_000n;
  let ns = timeNano % 1_000_000_000n;
  if (ns < 0n) { ns += 1_000_000_000n; sec -= 1n; }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  let frac = ns.toString().padStart(9, '0');
  if (opts.trim) frac = frac.replace(/0+$/, '');
  return `${base}${frac ? '.' + frac : ''}Z`;
}
