import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run } from '../../util/exec.js';

// runc does the container work; conmon (one per container or exec) holds its stdio, writes the
// log file and the exit code, and outlives shoald, so containers survive a daemon restart.

export interface RuntimeOptions {
  runc: string;
  conmon: string;
  /** runc --root: runc's own state, under the exec root. */
  runcRoot: string;
  /** Where conmon creates attach-socket symlinks (kept short: unix socket paths max 108 bytes). */
  socketDir: string;
  logLevel?: string;
}

export interface ConmonSpawn {
  id: string;
  /** Short unique name for the attach socket link. */
  uuid: string;
  name: string;
  bundle: string;
  logPath: string;
  exitDir: string;
  pidFile: string;
  persistDir: string;
  tty: boolean;
  stdin: boolean;
  /** For exec sessions: the process.json to run inside the container `id`. */
  execSpec?: string;
}

export class RuntimeError extends Error {}

export class Runtime {
  constructor(readonly opts: RuntimeOptions) {}

  private runcArgs(...args: string[]): string[] {
    return ['--root', this.opts.runcRoot, ...args];
  }

  /**
   * Starts conmon, which runs `runc create` (or `runc exec` for execSpec) and daemonises.
   * Resolves with the pid conmon reports over its sync pipe (fd 3), or rejects with runc's error.
   */
  async spawnConmon(s: ConmonSpawn): Promise<{ pid: number; conmonPid: number; exitCode?: Promise<number> }> {
    await fs.mkdir(s.exitDir, { recursive: true });
    await fs.mkdir(s.persistDir, { recursive: true });
    await fs.mkdir(this.opts.socketDir, { recursive: true });
    const conmonPidFile = path.join(s.persistDir, s.execSpec ? 'conmon-exec.pid' : 'conmon.pid');
    const args = [
      '--api-version', '1', '-c', s.id, '-u', s.uuid, '-n', s.name, '-r', this.opts.runc, '-b', s.bundle,
      '-p', s.pidFile, '-P', conmonPidFile, '-l', `k8s-file:${s.logPath}`, '--exit-dir', s.exitDir, '-0', s.persistDir,
      '--socket-dir-path', this.opts.socketDir, '--runtime-arg', '--root', '--runtime-arg', this.opts.runcRoot,
      '--log-level', this.opts.logLevel ?? 'error',
    ];
    if (s.tty) args.push('-t');
    if (s.stdin) args.push('-i');
    // With a TTY, Docker never closes the container's stdin when a client leaves (detach keys, a
    // closed connection): the next `attach` types into the same terminal. Without one, the end of
    // the attached input is the end of stdin (StdinOnce).
    if (s.stdin && s.tty) args.push('--leave-stdin-open');
    if (s.execSpec) args.push('-e', '--exec-process-spec', s.execSpec);
    // Docker semantics: without a TTY, the container keeps running after the attached client leaves.
    const child = spawn(this.opts.conmon, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'], detached: true, cwd: s.bundle,
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
    });
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    // conmon writes JSON lines on the sync pipe: the pid after create; for an exec session, later
    // its exit code too, so the pipe must stay open until then (a closed pipe kills conmon).
    const messages: { data?: number; message?: string }[] = [];
    const waiters: ((m: { data?: number; message?: string } | undefined) => void)[] = [];
    let ended = false;
    let buf = '';
    const next = () => new Promise<{ data?: number; message?: string } | undefined>((resolve) => {
      if (messages.length) resolve(messages.shift());
      else if (ended) resolve(undefined);
      else waiters.push(resolve);
    });
    sync.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i); buf = buf.slice(i + 1);
        let m: { data?: number; message?: string } = {};
        try { m = JSON.parse(line); } catch { /* ignore noise */ }
        const w = waiters.shift();
        if (w) w(m); else messages.push(m);
      }
    });
    sync.on('error', () => { /* EOF handled by close */ });
    sync.on('close', () => { ended = true; for (const w of waiters.splice(0)) w(undefined); });
    child.on('error', () => { ended = true; for (const w of waiters.splice(0)) w(undefined); });
    const parsed = (await next()) ?? {};
    child.stderr!.destroy();
    child.unref();
    if (parsed.data === undefined || parsed.data < 0) {
      sync.destroy();
      throw new RuntimeError(cleanRuncError(parsed.message || stderr || 'conmon failed to start the container'));
    }
    let exitCode: Promise<number> | undefined;
    if (s.execSpec) {
      exitCode = next().then((m) => { sync.destroy(); return m?.data ?? -1; });
    } else {
      sync.destroy();
    }
    const conmonPid = Number(await fs.readFile(conmonPidFile, 'utf8').catch(() => '0')) || 0;
    return { pid: parsed.data, conmonPid, exitCode };
  }

  async start(id: string): Promise<void> {
    const r = await run(this.opts.runc, this.runcArgs('start', id));
    if (r.code !== 0) throw new RuntimeError(cleanRuncError(r.stderr));
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    const r = await run(this.opts.runc, this.runcArgs('kill', ...(all ? ['--all'] : []), id, signal));
    if (r.code !== 0) throw new RuntimeError(cleanRuncError(r.stderr));
  }

  async pause(id: string): Promise<void> {
    const r = await run(this.opts.runc, this.runcArgs('pause', id));
    if (r.code !== 0) throw new RuntimeError(cleanRuncError(r.stderr));
  }

  async resume(id: string): Promise<void> {
    const r = await run(this.opts.runc, this.runcArgs('resume', id));
    if (r.code !== 0) throw new RuntimeError(cleanRuncError(r.stderr));
  }

  async delete(id: string): Promise<void> {
    // runc keeps a state dir per container it knows: without one there is nothing to delete,
    // and not spawning runc saves every start and exit a few ms.
    if (!(await fs.stat(path.join(this.opts.runcRoot, id)).then(() => true, () => false))) return;
    await run(this.opts.runc, this.runcArgs('delete', '--force', id));
  }

  async state(id: string): Promise<{ status: string; pid: number } | undefined> {
    const r = await run(this.opts.runc, this.runcArgs('state', id));
    if (r.code !== 0) return undefined;
    try { return JSON.parse(r.stdout); } catch { return undefined; }
  }

  async ps(id: string): Promise<number[]> {
    const r = await run(this.opts.runc, this.runcArgs('ps', '--format', 'json', id));
    if (r.code !== 0) throw new RuntimeError(cleanRuncError(r.stderr));
    return JSON.parse(r.stdout || '[]') ?? [];
  }
}

/** runc prints logrus lines (`time=... level=error msg="..."`); keep only the message. */
export function cleanRuncError(s: string): string {
  const msgs = [...s.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\"/g, '"'));
  const text = (msgs.length ? msgs.join(': ') : s).trim();
  return text.replace(/^\[conmon:e\]:\s*/, '');
}
