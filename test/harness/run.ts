// Small process helpers for the test harness (kept here, independent of src/, so the harness
// does not break when the engine's own helpers change).
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  /** exit code; 128 + signal number when the program was killed by a signal */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  /** merged over process.env */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** kill the program (SIGKILL) after this long; default 120 s, 0 = never */
  timeoutMs?: number;
}

const SIGNUM: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

/** Runs a program and collects its output; never throws on a non-zero exit (only if it cannot be started). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, timeoutMs) : undefined;
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `\n[harness] ${cmd} killed after ${timeoutMs} ms`;
      resolve({ code: code ?? 128 + (signal ? SIGNUM[signal] ?? 0 : 0), stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    p.stdin.on('error', () => { /* the program may exit before reading its input */ });
    p.stdin.end(opts.input);
  });
}

/** Like run() but throws (with the program's stderr) on a non-zero exit; returns stdout. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const shown = args.map((a) => (a.length > 60 ? `${a.slice(0, 57).replace(/\n/g, ' ')}...` : a)).join(' ');
    throw new Error(`${cmd} ${shown}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Synchronous variant for exit-time cleanup; never throws. */
export function runSync(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread (used only by the exit-time cleanup, where nothing async can run). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** true if p settles within ms (the timer is cleared either way, so it never holds the process open) */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => { clearTimeout(t); resolve(true); }, () => { clearTimeout(t); resolve(true); });
  });
}

/** Single-quotes a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
