// Reader for conmon's k8s-file (CRI) container logs: `<RFC3339Nano> <stdout|stderr> <F|P> <content>\n`.
import { promises as fsp, watch, type FSWatcher } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  /** Timestamp as written in the file. */
  time: string;
  /** Unix time in nanoseconds. */
  timeNano: bigint;
  stream: LogStream;
  /** Content; a full (`F`) record gets its newline back. */
  data: Buffer;
  /** `P` record: the line continues in a later record. */
  partial: boolean;
}

export interface ReadLogsOptions {
  /** Only the last N lines; -1/undefined = all. */
  tail?: number;
  /** Unix ns, inclusive. */
  since?: bigint;
  /** Unix ns, inclusive. */
  until?: bigint;
  follow?: boolean;
  signal?: AbortSignal;
  /** Start at the current end of the file: only new data. */
  fromEnd?: boolean;
  /** When following: stop once this settles (resolved or rejected) and the file has then been drained. */
  stopOn?: Promise<unknown>;
  /** Called once the reader knows where it starts: output written from then on will be read. */
  onStart?: () => void;
}

const CHUNK = 64 * 1024;
const POLL_MS = 100;
const NL = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);
const TS_RE = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$/;

/** RFC3339(Nano) timestamp to unix nanoseconds. */
export function parseTimestamp(s: string): bigint | undefined {
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms)) return undefined;
  const z = m[8];
  const off = z === 'Z' || z === 'z' ? 0 : (z[0] === '-' ? -1 : 1) * (+z.slice(1, 3) * 3600 + +z.slice(4, 6) * 60);
  return BigInt(ms / 1000 - off) * 1_000_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

/** Parses one record (without its terminating newline). Works on bytes: content need not be UTF-8. */
export function parseLogRecord(line: Buffer): LogRecord | undefined {
  const a = line.indexOf(32);
  if (a < 0) return undefined;
  const b = line.indexOf(32, a + 1);
  if (b < 0) return undefined;
  const stream = line.toString('latin1', a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line[b + 1];
  if ((tag !== 0x46 /* F */ && tag !== 0x50 /* P */) || (b + 2 < line.length && line[b + 2] !== 32)) return undefined;
  const time = line.toString('latin1', 0, a);
  const timeNano = parseTimestamp(time);
  if (timeNano === undefined) return undefined;
  const content = line.subarray(Math.min(b + 3, line.length));
  const partial = tag === 0x50;
  // Copies, so records never pin the (reused) read buffers.
  return { time, timeNano, stream, partial, data: partial ? Buffer.from(content) : Buffer.concat([content, NL]) };
}

export function parseLogLine(line: string): LogRecord | undefined {
  return parseLogRecord(Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line));
}

async function open(path: string): Promise<{ fh: FileHandle; ino: number } | undefined> {
  try {
    const fh = await fsp.open(path, 'r');
    return { fh, ino: (await fh.stat()).ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads backwards from the end for the records of the last `n` lines. A line ends with an `F`
 * record of its stream; `P` records belong to the next `F` of the same stream, or form a
 * (still open) line of their own at the end. Also returns `end`, the offset just past the last
 * complete record, where following continues.
 */
async function readTail(fh: FileHandle, n: number): Promise<{ end: number; records: LogRecord[] }> {
  const out: LogRecord[] = [];
  const seen = new Set<LogStream>();
  let count = 0;
  let hi = (await fh.stat()).size;
  let end = -1;
  let carry = EMPTY;
  outer: while (hi > 0) {
    const lo = Math.max(0, hi - CHUNK);
    const buf = Buffer.allocUnsafe(hi - lo);
    const { bytesRead } = await fh.read(buf, 0, buf.length, lo);
    hi = lo;
    const data = carry.length ? Buffer.concat([buf.subarray(0, bytesRead), carry]) : buf.subarray(0, bytesRead);
    // Until the last newline is found, bytes after it are a record still being written.
    let e = end < 0 ? data.lastIndexOf(10) : data.length - 1;
    if (e < 0) { carry = data; continue; }
    if (end < 0) end = lo + e + 1;
    while (e >= 0) {
      const s = e > 0 ? data.lastIndexOf(10, e - 1) : -1;
      if (s < 0 && lo > 0) { carry = data.subarray(0, e + 1); continue outer; }
      const r = parseLogRecord(data.subarray(s + 1, e));
      e = s;
      if (!r) continue;
      if (!r.partial || !seen.has(r.stream)) {
        if (count === n) break outer;
        count++;
        seen.add(r.stream);
      }
      out.push(r);
    }
    break;
  }
  return { end: Math.max(end, 0), records: out.reverse() };
}

export async function* readLogs(path: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogRecord> {
  const { since, until, follow, signal } = opts;
  let file = await open(path);
  let pos = 0;
  let carry = EMPTY;
  let watcher: FSWatcher | undefined;
  let changed = false;
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  // Wakes the poll at once: a reader that waits for the next poll delays every `docker run`'s end.
  let stopped = false;
  const onStop = () => { stopped = true; wake?.(); };
  opts.stopOn?.then(onStop, onStop);
  const watchFile = () => {
    watcher?.close();
    watcher = undefined;
    try {
      watcher = watch(path, () => { changed = true; wake?.(); });
      watcher.on('error', () => { watcher?.close(); watcher = undefined; });
    } catch { /* polling covers it */ }
  };
  try {
    if (signal?.aborted) return;
    const tail = opts.fromEnd ? 0 : opts.tail ?? -1;
    if (file && tail >= 0) {
      const t = await readTail(file.fh, tail);
      pos = t.end;
      for (const r of t.records) {
        if (until !== undefined && r.timeNano > until) return;
        if (since === undefined || r.timeNano >= since) yield r;
      }
    }
    opts.onStart?.();
    if (follow && file) watchFile();
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      if (signal?.aborted) return;
      // Sampled before draining: output written before the stop condition became true is still read.
      const stop = stopped;
      let got = false;
      while (file) {
        const { bytesRead } = await file.fh.read(buf, 0, CHUNK, pos);
        if (!bytesRead) break;
        pos += bytesRead;
        got = true;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let s = 0;
        for (let e: number; (e = data.indexOf(10, s)) >= 0; s = e + 1) {
          const r = parseLogRecord(data.subarray(s, e));
          if (!r || (since !== undefined && r.timeNano < since)) continue;
          if (until !== undefined && r.timeNano > until) return;
          yield r;
          if (signal?.aborted) return;
        }
        carry = Buffer.from(data.subarray(s));
      }
      // The file may appear only now (a container that started and exited quickly): read it.
      if (!file && follow) {
        file = await open(path);
        if (file) { watchFile(); continue; }
      }
      if (!follow || (stop && !got)) return;
      if (got) continue;
      if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) return;
      // Log file created, replaced (rotation) or truncated: restart from its beginning.
      const st = await fsp.stat(path).catch(() => undefined);
      if (st && (!file || st.ino !== file.ino || st.size < pos)) {
        if (!file || st.ino !== file.ino) {
          await file?.fh.close();
          file = await open(path);
          watchFile();
        }
        pos = 0;
        carry = EMPTY;
        continue;
      }
      if (changed) { changed = false; continue; }
      await new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const t = setTimeout(() => { wake = undefined; resolve(); }, POLL_MS);
        wake = () => { clearTimeout(t); wake = undefined; resolve(); };
      });
      changed = false;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    watcher?.close();
    await file?.fh.close();
  }
}
