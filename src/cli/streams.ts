// Interactive plumbing: streaming a hijacked connection to the terminal (docker's hijackedIOStreamer),
// raw mode, detach keys, TTY size monitoring and signal forwarding.
import { spawnSync } from 'node:child_process';
import type { Hijacked } from './client.js';
import type { Ctx } from './command.js';
import { stdCopy } from './stdcopy.js';
import { writeAsync } from './util.js';
import { EscapeProxy, parseDetachKeys } from '../util/detach-keys.js';

export interface StreamOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
  /** stdin is forwarded only once this settles (run/start: after the container started). */
  inputGate?: Promise<unknown>;
}

export interface StreamResult {
  detached: boolean;
}

/**
 * Streams a hijacked attach/exec connection: output to stdout/stderr (demultiplexed without a TTY),
 * stdin to the connection (raw mode and detach keys with a TTY), half-closing on stdin EOF.
 */
export async function streamHijacked(ctx: Ctx, h: Hijacked, o: StreamOptions): Promise<StreamResult> {
  const io = ctx.io;
  const stream = h.stream;
  stream.on('error', () => undefined);
  let restore = () => {};
  const useRaw = o.stdin && o.tty && !!io.stdin.isTTY && typeof io.stdin.setRawMode === 'function';
  if (useRaw) restore = makeRaw(io.stdin);
  const stdout = o.stdout ? io.stdout : null;
  const stderr = o.stderr ? (o.tty ? io.stdout : io.stderr) : null;

  const outputDone: Promise<void> = (async () => {
    // A TTY stream is raw; otherwise docker's stdcopy frames (trust the content type when present).
    const raw = o.tty || h.contentType === 'application/vnd.docker.raw-stream';
    if (raw) {
      for await (const chunk of stream) {
        if (stdout) await writeAsync(stdout, chunk as Buffer);
      }
    } else {
      await stdCopy(stream, stdout, stderr);
    }
  })();

  let finished = false;
  let onData: ((d: Buffer) => void) | undefined;
  let onEnd: (() => void) | undefined;
  let detachResolve: (v: 'detach' | 'eof') => void = () => {};
  const inputDone = new Promise<'detach' | 'eof'>((r) => { detachResolve = r; });
  if (o.stdin) {
    const proxy = o.tty ? new EscapeProxy(parseDetachKeys(o.detachKeys)) : undefined;
    onData = (d: Buffer | string) => {
      const buf = typeof d === 'string' ? Buffer.from(d) : d;
      if (proxy) {
        const r = proxy.feed(buf);
        if (r.data.length) stream.write(r.data);
        if (r.detach) { detachResolve('detach'); }
        return;
      }
      stream.write(buf);
    };
    onEnd = () => {
      try { stream.end(); } catch { /* ignore */ }
      detachResolve('eof');
    };
    const begin = () => {
      if (finished) return;
      io.stdin.on('data', onData!);
      io.stdin.on('end', onEnd!);
      io.stdin.on('error', onEnd!);
      io.stdin.resume();
    };
    if (o.inputGate) o.inputGate.then(begin, () => undefined); else begin();
  }
  const cleanupInput = () => {
    finished = true;
    if (onData) io.stdin.removeListener('data', onData);
    if (onEnd) { io.stdin.removeListener('end', onEnd); io.stdin.removeListener('error', onEnd); }
    if (o.stdin) io.stdin.pause();
  };

  try {
    const first = await Promise.race([
      outputDone.then(() => 'output' as const),
      inputDone,
    ]);
    if (first === 'detach') {
      h.close();
      return { detached: true };
    }
    if (first === 'eof') {
      if (o.stdout || o.stderr) {
        // Wait for output to finish, but still honour a detach typed meanwhile (cannot happen after EOF).
        await outputDone;
      }
      return { detached: false };
    }
    return { detached: false };
  } finally {
    restore();
    cleanupInput();
    outputDone.catch(() => undefined);
  }
}

/**
 * Puts the local terminal in raw mode, as docker's term.SetRawTerminal (cfmakeraw) does; returns the
 * function that restores it (idempotent; also run on process exit). Node's raw mode (libuv) leaves
 * output post-processing on (OPOST/ONLCR), so the "\r\n" a container's TTY already writes would show
 * as "\r\r\n": stty turns OPOST off too. Leaving raw mode puts back the whole saved termios.
 */
export function makeRaw(stdin: { setRawMode?: (mode: boolean) => unknown }): () => void {
  stdin.setRawMode!(true);
  if (stdin === process.stdin) spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'], timeout: 5000 });
  let restored = false;
  // Node puts the terminal back itself on SIGINT/SIGTERM deaths, not on SIGHUP or SIGQUIT: restore,
  // then die of the signal as before (with no listener left, its default action applies).
  const onSignal = (sig: NodeJS.Signals) => { restore(); process.kill(process.pid, sig); };
  const restore = () => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    for (const sig of RAW_SIGNALS) process.removeListener(sig, onSignal);
    try { stdin.setRawMode!(false); } catch { /* the terminal is gone */ }
  };
  process.on('exit', restore);
  for (const sig of RAW_SIGNALS) process.on(sig, onSignal);
  return restore;
}
const RAW_SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGQUIT', 'SIGTERM'];

/** Sends the terminal size now and on every change (docker's MonitorTtySize). Returns a stop function. */
export function monitorTtySize(ctx: Ctx, resize: (h: number, w: number) => Promise<unknown>): () => void {
  const out = ctx.io.stdout as NodeJS.WriteStream;
  if (!out.isTTY) return () => {};
  // One request at a time, each with the size of the moment: two quick resizes must not land in
  // the wrong order (the container would keep the older size).
  let queue: Promise<void> = Promise.resolve();
  const attempt = async (retries: number) => {
    for (let i = 0; i <= retries; i++) {
      const h = out.rows ?? 0; const w = out.columns ?? 0;
      if (h === 0 && w === 0) return;
      try { await resize(h, w); return; } catch {
        await new Promise((r) => setTimeout(r, 10 * (i + 1)));
      }
    }
  };
  const send = (retries: number) => { queue = queue.then(() => attempt(retries)); };
  send(5);
  const onResize = () => { send(0); };
  out.on('resize', onResize);
  return () => { out.removeListener('resize', onResize); };
}

/** Current terminal size as docker's ConsoleSize [height, width] ([0, 0] when not a terminal). */
export function consoleSize(ctx: Ctx): [number, number] {
  const out = ctx.io.stdout;
  if (!out.isTTY) return [0, 0];
  return [out.rows ?? 0, out.columns ?? 0];
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** docker run's --sig-proxy: forwards the signals the CLI receives to the container. */
export function forwardSignals(ctx: Ctx, id: string): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  let terminations = 0;
  for (const sig of FORWARDED) {
    const fn = () => {
      // like docker: the third SIGINT/SIGTERM ends the CLI even if the container ignores them
      if ((sig === 'SIGINT' || sig === 'SIGTERM') && ++terminations >= 3) {
        ctx.err('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
        process.exit(1);
      }
      if (ctx.debug) ctx.err(`forwarding signal ${sig}\n`);
      ctx.client().call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: sig } }).catch((e) => {
        if (ctx.debug) ctx.err(`Error sending signal: ${(e as Error).message}\n`);
      });
    };
    handlers.set(sig, fn);
    process.on(sig, fn);
  }
  return () => { for (const [sig, fn] of handlers) process.removeListener(sig, fn); };
}

/** docker's CheckTty: "the input device is not a TTY" when -t is used with stdin attached but not a terminal. */
export function checkTty(ctx: Ctx, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !ctx.io.stdin.isTTY) {
    throw new Error('the input device is not a TTY');
  }
}
