import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { BadRequest, Conflict, NotFound } from '../../api/errors.js';
import { newId } from '../../util/ids.js';
import { readLogs } from './log-file.js';
import type { ContainerManager } from './manager.js';
import { capabilities } from './oci-spec.js';
import { cleanRuncError } from './runtime.js';
import { resolveUser, rootfsPaths } from './rootfs.js';
import { frame } from './stdcopy.js';
import { forwardStdin, resizeTty } from './stdin-forwarder.js';
import { endHijacked } from './attach.js';
import { DetachWatch, parseDetachKeys } from '../../util/detach-keys.js';

export interface ExecRecord {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
  env: string[];
  workdir: string;
  /** [height, width] of the TTY at start (ExecConfig.ConsoleSize, API 1.42+) */
  consoleSize?: [number, number];
  /** DetachKeys parsed */
  keys: number[];
}

function consoleSizeOf(v: unknown): [number, number] | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [h, w] = v.map(Number);
  return Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0 ? [h, w] : undefined;
}

/**
 * Exec sessions. Without a TTY, `runc exec` runs as our child with plain pipes (cheap, direct);
 * with a TTY, conmon runs it because only conmon can receive the pty master from runc.
 */
export class ExecManager {
  private execs = new Map<string, ExecRecord>();
  /** sessions still starting: a resize waits for conmon (and its control fifo) to be there */
  private starting = new Map<string, Promise<void>>();

  constructor(private mgr: ContainerManager) {}

  create(ref: string, body: any): { Id: string } {
    const c = this.mgr.store.get(ref);
    if (!c.State.Running) throw new Conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw new Conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    const cmd: string[] = Array.isArray(body?.Cmd) ? body.Cmd : typeof body?.Cmd === 'string' ? [body.Cmd] : [];
    if (!cmd.length) throw new BadRequest('No exec command specified');
    let keys: number[];
    try { keys = parseDetachKeys(body.DetachKeys); } catch { throw new BadRequest(`Invalid escape keys (${body.DetachKeys}) provided`); }
    const id = newId();
    const rec: ExecRecord = {
      ID: id, Running: false, ExitCode: null,
      ProcessConfig: { tty: !!body.Tty, entrypoint: cmd[0], arguments: cmd.slice(1), privileged: !!body.Privileged, user: body.User ?? '' },
      OpenStdin: !!body.AttachStdin, OpenStderr: !!body.AttachStderr, OpenStdout: !!body.AttachStdout, CanRemove: false,
      ContainerID: c.Id, DetachKeys: body.DetachKeys ?? '', Pid: 0, env: body.Env ?? [], workdir: body.WorkingDir ?? '',
      consoleSize: consoleSizeOf(body.ConsoleSize), keys,
    };
    this.execs.set(id, rec);
    c.ExecIDs = [...(c.ExecIDs ?? []), id];
    this.mgr.events.emit('container', `exec_create: ${cmd.join(' ')}`, c.Id, this.mgr.attrs(c, { execID: id }));
    return { Id: id };
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new NotFound(`No such exec instance: ${id}`);
    return e;
  }

  inspect(id: string): any {
    const e = this.get(id);
    const { env: _env, workdir: _wd, consoleSize: _cs, keys: _k, ...pub } = e;
    return pub;
  }

  private dir(e: ExecRecord): string { return path.join(this.mgr.bundle(e.ContainerID), 'exec', e.ID.slice(0, 12)); }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.get(id);
    if (!e.ProcessConfig.tty || (!e.Running && !this.starting.has(e.ID))) return;
    // a client resizes as soon as its start request is answered (the hijack), before conmon is up
    const starting = this.starting.get(e.ID);
    if (starting) await Promise.race([starting, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (!e.Running) return;
    await resizeTty(path.join(this.dir(e), 'ctl'), h, w).catch(() => undefined);
  }

  /** Runs the exec; with a socket, streams I/O until the process ends. */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: unknown }, sock?: Duplex): Promise<void> {
    const e = this.get(id);
    if (this.starting.has(e.ID)) throw new Conflict(`Error: Exec command ${id} is already running`);
    let ready = () => {};
    this.starting.set(e.ID, new Promise<void>((resolve) => { ready = () => { this.starting.delete(e.ID); resolve(); }; }));
    try { await this.run(e, opts, sock, () => ready()); } finally { ready(); }
  }

  private async run(e: ExecRecord, opts: { detach: boolean; consoleSize?: unknown }, sock: Duplex | undefined, ready: () => void): Promise<void> {
    const id = e.ID;
    e.consoleSize = consoleSizeOf(opts.consoleSize) ?? e.consoleSize;
    if (e.Running || e.ExitCode !== null) throw new Conflict(`Error: Exec command ${id} has already run`);
    const c = this.mgr.store.get(e.ContainerID);
    if (!c.State.Running) throw new Conflict(`Container ${c.Id} is not running`);
    const rootfs = rootfsPaths(this.mgr.store.dir(c.Id), this.mgr.bundle(c.Id)).merged;
    const user = await resolveUser(rootfs, e.ProcessConfig.user || c.Config.User || '').catch((err: Error) => { throw new BadRequest(err.message); });
    const env = [...(c.Config.Env ?? []), ...e.env];
    if (e.ProcessConfig.tty && !env.some((x) => x.startsWith('TERM='))) env.push('TERM=xterm');
    const argv = [e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments];
    const cwd = e.workdir || c.Config.WorkingDir || '/';
    e.Running = true;
    this.mgr.events.emit('container', `exec_start: ${argv.join(' ')}`, c.Id, this.mgr.attrs(c, { execID: e.ID }));
    const finish = (code: number) => {
      e.Running = false; e.ExitCode = code; e.Pid = 0;
      this.mgr.events.emit('container', 'exec_die', c.Id, this.mgr.attrs(c, { execID: e.ID, exitCode: String(code) }));
    };
    if (!e.ProcessConfig.tty) {
      const { runc, runcRoot } = this.mgr.runtime.opts;
      const args = ['--root', runcRoot, 'exec', '--user', `${user.uid}:${user.gid}`, '--cwd', cwd, ...env.flatMap((x) => ['--env', x]),
        ...(e.ProcessConfig.privileged ? ['--cap', 'CAP_SYS_ADMIN'] : []), c.Id, ...argv];
      const p = spawn(runc, args, { stdio: [e.OpenStdin && sock ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: opts.detach });
      e.Pid = p.pid ?? 0;
      const closed = new Promise<number>((resolve) => {
        p.on('error', () => resolve(126));
        p.on('close', (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
      });
      let runcErr = '';
      p.stdout!.on('data', (d: Buffer) => { if (sock && !opts.detach && e.OpenStdout && !sock.destroyed) sock.write(frame(1, d)); });
      p.stderr!.on('data', (d: Buffer) => {
        runcErr += d.toString();
        if (sock && !opts.detach && e.OpenStderr && !sock.destroyed && !/level=error/.test(d.toString())) sock.write(frame(2, d));
      });
      if (p.stdin && sock) {
        sock.pipe(p.stdin);
        p.stdin.on('error', () => undefined);
      }
      if (opts.detach) { void closed.then(finish); sock?.end(); return; }
      let code = await closed;
      // runc reports a process that could not start itself; Docker answers that with exit code 126.
      const msg = cleanRuncError(runcErr);
      if (code !== 0 && /^exec failed:/.test(msg)) {
        code = 126;
        if (sock && !sock.destroyed) sock.write(frame(1, Buffer.from(`OCI runtime exec failed: ${msg}: unknown\r\n`)));
      }
      finish(code);
      if (sock && !sock.destroyed) sock.end();
      return;
    }
    // TTY: conmon + runc exec with a process spec.
    const dir = this.dir(e);
    await fs.mkdir(dir, { recursive: true });
    const caps = capabilities({ capAdd: c.HostConfig.CapAdd ?? [], capDrop: c.HostConfig.CapDrop ?? [], privileged: c.HostConfig.Privileged || e.ProcessConfig.privileged });
    const size = e.consoleSize ? { consoleSize: { height: e.consoleSize[0], width: e.consoleSize[1] } } : {};
    const spec = { terminal: true, ...size, user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }, args: argv, env, cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps }, noNewPrivileges: false };
    await fs.writeFile(path.join(dir, 'process.json'), JSON.stringify(spec));
    const logPath = path.join(dir, 'log');
    const exitDir = path.join(dir, 'exits');
    const spawned = this.mgr.runtime.spawnConmon({
      id: c.Id, uuid: e.ID.slice(0, 16), name: c.Name.slice(1), bundle: dir, logPath, exitDir, pidFile: path.join(dir, 'pid'),
      persistDir: dir, tty: true, stdin: e.OpenStdin, execSpec: path.join(dir, 'process.json'),
    });
    const { pid, exitCode: exitCodeP } = await spawned
      .catch((err: Error) => { e.Running = false; throw new BadRequest(`OCI runtime exec failed: ${err.message}`); })
      .finally(ready);
    e.Pid = pid;
    const exitCode = exitCodeP ?? Promise.resolve(-1);
    if (opts.detach || !sock) { void exitCode.then(finish); sock?.end(); return; }
    const ac = new AbortController();
    sock.on('close', () => ac.abort());
    sock.on('error', () => ac.abort());
    let detached = false;
    if (e.OpenStdin) {
      // the detach keys end this client's session; the process goes on (an `exec_detach` event)
      const input = sock.pipe(new DetachWatch(e.keys, () => {
        detached = true;
        this.mgr.events.emit('container', 'exec_detach', c.Id, this.mgr.attrs(c, { execID: e.ID }));
        setImmediate(() => ac.abort());
      }));
      const fwd = forwardStdin(path.join(this.mgr.runtime.opts.socketDir, e.ID.slice(0, 16), 'attach'), input);
      sock.on('end', () => fwd.close());
      ac.signal.addEventListener('abort', () => fwd.close());
    }
    try {
      for await (const rec of readLogs(logPath, { follow: true, signal: ac.signal, stopOn: exitCode })) {
        if (!sock.destroyed) sock.write(rec.data);
      }
    } catch (err) { if (!ac.signal.aborted) throw err; }
    const ended = exitCode.then(async (code) => {
      finish(code);
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    });
    if (detached) { endHijacked(sock); return; }
    await ended;
    ac.abort();
    if (!sock.destroyed) sock.end();
  }
}
