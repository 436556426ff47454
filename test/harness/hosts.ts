// Test "hosts" on one machine: network namespaces on a lab bridge, each with its own persistent
// mount + UTS namespace, in which a shoald runs exactly as it would on a separate machine.
//
//   netns <lab>      br0 10.213.0.2/24  (clients can run here: lab.exec)
//     `-- vhI ---- eth0 in netns <lab>hI: 10.213.0.(10+I)/24, lo up, no default route
//   <tmpdir>/shoal-<lab>-XXXXXX/             private bind mount (so namespace files can be bound in it)
//     hI/ns/{mnt,uts}                        persistent mount + UTS namespaces of host I
//     hI/{root,exec,shoal.sock,shoald.pid,shoald.log}
//     docker-config/                         DOCKER_CONFIG for host.docker() (keeps ~/.docker out of it)
//
// Inside a host's mount namespace: /sys is a sysfs of the host's netns (so /sys/class/net shows
// eth0), the cgroup hierarchies are mounted again under /sys/fs/cgroup (a fresh sysfs hides them,
// see /work/shared/lab/netns-exec.sh), /run is a tmpfs of its own (runc state, shim sockets,
// `ip netns add` stay in the host), and copies of namespace bind mounts (other hosts', other labs',
// /run/netns/*) are detached so that a host never pins another host's namespaces.
// Nothing is ever added to the root network namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { apiRequest, ping, type ApiRequestOptions, type ApiResponse } from './http.js';
import { run, runOk, runSync, settlesWithin, shq, sleep, sleepSync, type RunOptions, type RunResult } from './run.js';
import { importBusybox } from './busybox.js';

export type { RunResult, RunOptions } from './run.js';

export const SUBNET_PREFIX = '10.213.0';
export const LAB_ADDR = `${SUBNET_PREFIX}.2`;
const MAX_HOSTS = 200;
const DAEMON_START_TIMEOUT_MS = 30_000;
const DAEMON_STOP_GRACE_MS = 20_000;

export interface LabOptions {
  hosts: number;
  /** lab namespace name (default `shl` + 6 random chars); host namespaces are `<name>h1`... */
  name?: string;
}

export interface DaemonOptions {
  /** extra environment for the daemon (merged over process.env) */
  env?: NodeJS.ProcessEnv;
  /** default 30 s */
  timeoutMs?: number;
  /** argv prefix replacing `<repo>/bin/shoald` (e.g. [process.execPath, 'fake-daemon.js']) */
  command?: string[];
}

export interface ShoalOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

let repoRootCache: string | undefined;
/** The repository root: $SHOAL_REPO, else the nearest ancestor of this file with shoal's package.json. */
export function repoRoot(): string {
  if (repoRootCache) return repoRootCache;
  if (process.env.SHOAL_REPO) return (repoRootCache = process.env.SHOAL_REPO);
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(d, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'shoal') return (repoRootCache = d);
    } catch { /* not here */ }
    const up = path.dirname(d);
    if (up === d) throw new Error('test harness: cannot find the shoal repository root (set SHOAL_REPO)');
    d = up;
  }
}

export function dockerBinary(): string {
  return fs.existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
}

// ---------------------------------------------------------------------------------------------
// namespace / mount / process inspection (all synchronous: also used at process exit)

let nsfsDevCache: number | undefined;
function nsfsDev(): number {
  return (nsfsDevCache ??= fs.statSync('/proc/self/ns/net').dev);
}

/** Inode of a namespace file (e.g. /run/netns/X or a bind-mounted ns file) if it currently IS a namespace. */
function nsInode(file: string): number | undefined {
  try {
    const st = fs.statSync(file);
    return st.dev === nsfsDev() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points (in this process's mount namespace) equal to or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try { text = fs.readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return []; }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescapeMountPath(mp);
    if (p === dir || p.startsWith(dir + '/')) out.push(p);
  }
  return out.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/**
 * Every cgroup directory called `name` (unique to one host) directly under the root of a hierarchy,
 * or under the cgroup of this process: runc's cgroupfs driver resolves a relative cgroup parent
 * against the runtime's own cgroup (e.g. /sys/fs/cgroup/memory/<our cgroup>/shoal-<host>/<id>).
 */
function cgroupDirs(name: string): string[] {
  let ctrls: string[] = [];
  try { ctrls = fs.readdirSync('/sys/fs/cgroup'); } catch { return []; }
  const own = new Set<string>(['/']);
  try {
    for (const l of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const p = l.split(':').slice(2).join(':');
      if (p) own.add(p);
    }
  } catch { /* no /proc/self/cgroup */ }
  const out = new Set<string>();
  for (const c of ctrls) {
    for (const p of own) {
      const d = path.join('/sys/fs/cgroup', c, p, name);
      try { if (fs.statSync(d).isDirectory()) out.add(d); } catch { /* none */ }
    }
  }
  return [...out];
}

/** dir and all directories below it, deepest first. */
function dirsDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let ents: fs.Dirent[] = [];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

function cgroupPids(dirs: string[]): number[] {
  const pids: number[] = [];
  for (const top of dirs) {
    for (const d of dirsDeepestFirst(top)) {
      try {
        for (const l of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.push(Number(l));
      } catch { /* gone */ }
    }
  }
  return pids;
}

/** PIDs of processes in any of the given namespaces (by nsfs inode). */
function pidsInNamespaces(inodes: Set<number>): number[] {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  let ents: string[] = [];
  try { ents = fs.readdirSync('/proc'); } catch { return []; }
  for (const e of ents) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid || pid === 1) continue;
    for (const t of ['net', 'mnt', 'uts']) {
      let link: string;
      try { link = fs.readlinkSync(`/proc/${e}/ns/${t}`); } catch { continue; }
      const m = /\[(\d+)\]$/.exec(link);
      if (m && inodes.has(Number(m[1]))) { pids.push(pid); break; }
    }
  }
  return pids;
}

function pidAlive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /s.test(st);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

export class Host {
  readonly name: string; // hostname inside: h1, h2, ...
  readonly netns: string; // e.g. shlab12cdh1
  readonly addr: string; // 10.213.0.11
  /** name of this host's veth peer inside the lab namespace */
  readonly labVeth: string;
  readonly dir: string;
  readonly mntNsFile: string;
  readonly utsNsFile: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly dockerHost: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** `--cgroup-parent` given to the daemon: shoal-<netns>, unique per host (removed by destroy) */
  readonly cgroupParent: string;
  /** PID of the daemon process this harness started (undefined when none runs) */
  daemonPid: number | undefined;
  private child: ChildProcess | undefined;
  private childExit: Promise<void> | undefined;

  constructor(readonly lab: Lab, readonly index: number) {
    this.name = `h${index}`;
    this.netns = `${lab.name}h${index}`;
    this.addr = `${SUBNET_PREFIX}.${10 + index}`;
    this.labVeth = `vh${index}`;
    this.dir = path.join(lab.dir, this.name);
    this.mntNsFile = path.join(this.dir, 'ns', 'mnt');
    this.utsNsFile = path.join(this.dir, 'ns', 'uts');
    this.dataRoot = path.join(this.dir, 'root');
    this.execRoot = path.join(this.dir, 'exec');
    this.socket = path.join(this.dir, 'shoal.sock');
    this.dockerHost = `unix://${this.socket}`;
    this.pidFile = path.join(this.dir, 'shoald.pid');
    this.logFile = path.join(this.dir, 'shoald.log');
    this.cgroupParent = `shoal-${this.netns}`;
  }

  /** nsenter arguments that put a program into this host's net, mount and UTS namespaces */
  nsenterArgs(): string[] {
    return [`--net=/run/netns/${this.netns}`, `--mount=${this.mntNsFile}`, `--uts=${this.utsNsFile}`];
  }

  /** Runs a command inside the host (its netns, mount ns and UTS ns). Never throws on a non-zero exit. */
  exec(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    const { cwd, ...rest } = opts;
    // nsenter --mount resets the working directory to /; cd inside instead
    const argv = cwd ? ['sh', '-c', 'cd "$0" && exec "$@"', cwd, ...cmd] : cmd;
    return run('nsenter', [...this.nsenterArgs(), '--', ...argv], rest);
  }

  /** exec() that throws on a non-zero exit; returns stdout */
  async execOk(cmd: string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw new Error(`${this.name}: ${cmd.join(' ')}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  daemonRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts `<repo>/bin/shoald` (or opts.command) inside the host, detached (own session), output
   * appended to shoald.log, and waits until GET /_ping answers on the socket.
   */
  async startDaemon(extraArgs: string[] = [], opts: DaemonOptions = {}): Promise<void> {
    if (this.daemonRunning()) throw new Error(`${this.name}: daemon already running (pid ${this.daemonPid})`);
    const command = opts.command ?? [path.join(repoRoot(), 'bin', 'shoald')];
    if (!opts.command && !fs.existsSync(command[0]!)) throw new Error(`${this.name}: ${command[0]} does not exist (build first)`);
    fs.mkdirSync(this.dataRoot, { recursive: true });
    fs.mkdirSync(this.execRoot, { recursive: true });
    const argv = [
      ...command,
      '--data-root', this.dataRoot,
      '--exec-root', this.execRoot,
      '-H', this.dockerHost,
      '--pidfile', this.pidFile,
      '--cgroup-parent', this.cgroupParent,
      '--log-level', 'debug',
      ...extraArgs,
    ];
    fs.appendFileSync(this.logFile, `\n=== harness ${new Date().toISOString()}: starting ${argv.join(' ')}\n`);
    const fd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('nsenter', [...this.nsenterArgs(), '--', ...argv], {
        detached: true, // setsid: the daemon survives the job runner killing our process group
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...opts.env },
      });
    } finally {
      fs.closeSync(fd);
    }
    child.unref();
    this.child = child;
    this.daemonPid = child.pid;
    let spawnError: Error | undefined;
    this.childExit = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (e) => { spawnError = e; resolve(); });
    });
    const timeoutMs = opts.timeoutMs ?? DAEMON_START_TIMEOUT_MS;
    const t0 = Date.now();
    for (;;) {
      if (await ping(this.socket, 1000)) return;
      if (!this.daemonRunning() || spawnError) {
        const how = spawnError ? `could not start: ${spawnError.message}` : `exited (code ${child.exitCode}, signal ${child.signalCode})`;
        this.daemonPid = undefined;
        throw new Error(`${this.name}: daemon ${how}; tail of ${this.logFile}:\n${this.logTail(30)}`);
      }
      if (Date.now() - t0 > timeoutMs) {
        const tail = this.logTail(30);
        await this.stopDaemon('SIGKILL').catch(() => undefined);
        throw new Error(`${this.name}: daemon did not answer GET /_ping on ${this.socket} within ${timeoutMs} ms; tail of ${this.logFile}:\n${tail}`);
      }
      await sleep(100);
    }
  }

  /** Signals the daemon this harness started and waits for it to exit (SIGKILL after 20 s). */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM', graceMs = DAEMON_STOP_GRACE_MS): Promise<void> {
    const child = this.child;
    const exited = this.childExit;
    if (!child || !exited || child.pid === undefined) return;
    if (this.daemonRunning()) {
      try { process.kill(child.pid, signal); } catch { /* already gone */ }
      const done = await settlesWithin(exited, graceMs);
      if (!done) {
        fs.appendFileSync(this.logFile, `\n=== harness: daemon ${child.pid} still running ${graceMs} ms after ${signal}, SIGKILL\n`);
        try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
        await settlesWithin(exited, 10_000);
      }
    }
    this.child = undefined;
    this.childExit = undefined;
    this.daemonPid = undefined;
  }

  /** SIGKILL of the daemon only (a crash): its conmons and containers keep running. */
  killDaemon(): Promise<void> {
    return this.stopDaemon('SIGKILL');
  }

  /** Only for exit-time cleanup. */
  killDaemonSync(): void {
    if (this.daemonRunning() && this.child?.pid !== undefined) {
      try { process.kill(this.child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  /** `<repo>/bin/shoal -H unix://SOCK ...args`, run from the root namespace */
  shoal(args: string[], opts: ShoalOptions = {}): Promise<RunResult> {
    return run(path.join(repoRoot(), 'bin', 'shoal'), ['-H', this.dockerHost, ...args], opts);
  }

  /** the real docker CLI against this host's daemon (DOCKER_HOST; private DOCKER_CONFIG) */
  docker(args: string[], opts: ShoalOptions = {}): Promise<RunResult> {
    return run(dockerBinary(), args, {
      ...opts,
      env: {
        DOCKER_HOST: this.dockerHost,
        DOCKER_CONFIG: path.join(this.lab.dir, 'docker-config'),
        DOCKER_CONTEXT: undefined,
        DOCKER_TLS_VERIFY: undefined,
        DOCKER_CERT_PATH: undefined,
        DOCKER_CLI_HINTS: 'false',
        ...opts.env,
      },
    });
  }

  /** raw Engine API request over the socket, e.g. host.api('GET', '/v1.41/info') */
  api(method: string, urlPath: string, opts?: ApiRequestOptions): Promise<ApiResponse> {
    return apiRequest(this.socket, method, urlPath, opts);
  }

  /** last n lines of shoald.log */
  logTail(n = 40): string {
    try {
      const lines = fs.readFileSync(this.logFile, 'utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines.slice(-n).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** take this host's link down on the lab side (the host stays up but is cut off) */
  async disconnect(): Promise<void> {
    await runOk('ip', ['-n', this.lab.netns, 'link', 'set', this.labVeth, 'down']);
  }

  async reconnect(): Promise<void> {
    await runOk('ip', ['-n', this.lab.netns, 'link', 'set', this.labVeth, 'up']);
  }
}

// ---------------------------------------------------------------------------------------------

const liveLabs = new Set<Lab>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const lab of [...liveLabs]) lab.destroySync();
  });
  const signals: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
  for (const [sig, num] of signals) {
    process.on(sig, () => {
      for (const lab of [...liveLabs]) lab.destroySync();
      process.exit(128 + num);
    });
  }
}

export class Lab {
  readonly name: string;
  /** the lab namespace (holds br0) */
  readonly netns: string;
  readonly dir: string;
  readonly hosts: Host[];
  readonly addr = LAB_ADDR;
  private destroying: Promise<void> | undefined;
  private destroyed = false;

  constructor(name: string, dir: string, nHosts: number) {
    this.name = name;
    this.netns = name;
    this.dir = dir;
    this.hosts = Array.from({ length: nHosts }, (_, i) => new Host(this, i + 1));
  }

  /** host by 1-based index or by name ('h2') */
  host(which: number | string): Host {
    const h = typeof which === 'number' ? this.hosts[which - 1] : this.hosts.find((x) => x.name === which || x.netns === which);
    if (!h) throw new Error(`lab ${this.name}: no host ${which}`);
    return h;
  }

  /** Runs a command in the lab namespace (on the bridge, 10.213.0.2): a client outside every host. */
  exec(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run('nsenter', [`--net=/run/netns/${this.netns}`, '--', ...cmd], opts);
  }

  async setUp(): Promise<void> {
    // a private bind mount, so namespace files can be bound below it
    await runOk('mount', ['--bind', this.dir, this.dir]);
    await runOk('mount', ['--make-private', this.dir]);
    fs.mkdirSync(path.join(this.dir, 'docker-config'));
    const L = this.netns;
    await runOk('ip', ['netns', 'add', L]);
    await runOk('ip', ['-n', L, 'link', 'set', 'lo', 'up']);
    await runOk('ip', ['-n', L, 'link', 'add', 'br0', 'type', 'bridge']);
    await runOk('ip', ['-n', L, 'link', 'set', 'br0', 'up']);
    await runOk('ip', ['-n', L, 'addr', 'add', `${LAB_ADDR}/24`, 'dev', 'br0']);
    const cgroupSpec = cgroupMountSpec();
    await Promise.all(this.hosts.map((h) => this.setUpHost(h, cgroupSpec)));
  }

  private async setUpHost(h: Host, cgroupSpec: string[][]): Promise<void> {
    const L = this.netns;
    const H = h.netns;
    await runOk('ip', ['netns', 'add', H]);
    await runOk('ip', ['-n', H, 'link', 'set', 'lo', 'up']);
    // created inside the namespaces: nothing appears in the root namespace, not even briefly
    await runOk('ip', ['-n', H, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', h.labVeth, 'netns', L]);
    await runOk('ip', ['-n', L, 'link', 'set', h.labVeth, 'master', 'br0']);
    await runOk('ip', ['-n', L, 'link', 'set', h.labVeth, 'up']);
    await runOk('ip', ['-n', H, 'addr', 'add', `${h.addr}/24`, 'dev', 'eth0']);
    await runOk('ip', ['-n', H, 'link', 'set', 'eth0', 'up']);
    // deliberately no default route: anything outside 10.213.0.0/24 fails at once (ENETUNREACH)
    fs.mkdirSync(path.dirname(h.mntNsFile), { recursive: true });
    fs.writeFileSync(h.mntNsFile, '');
    fs.writeFileSync(h.utsNsFile, '');
    const script = hostSetupScript(cgroupSpec);
    const tmpPrefix = path.join(os.tmpdir(), 'shoal-');
    await runOk('nsenter', [
      `--net=/run/netns/${H}`, '--',
      'unshare', `--mount=${h.mntNsFile}`, `--uts=${h.utsNsFile}`, '--propagation', 'private',
      'sh', '-c', script, 'shoal-host-setup', h.name, tmpPrefix,
    ]);
    if (nsInode(h.mntNsFile) === undefined || nsInode(h.utsNsFile) === undefined) {
      throw new Error(`${h.name}: namespace files were not bound at ${path.dirname(h.mntNsFile)}`);
    }
  }

  /** Stops daemons (SIGTERM, SIGKILL after 20 s), then tears everything down. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      const errors: string[] = [];
      await Promise.all(this.hosts.map((h) => h.stopDaemon('SIGTERM').catch((e: Error) => { errors.push(`${h.name}: stop daemon: ${e.message}`); })));
      const steps = this.teardown(errors);
      for (let r = steps.next(); !r.done; r = steps.next()) await sleep(r.value);
      if (errors.length) throw new Error(`lab ${this.name}: teardown incomplete:\n${errors.join('\n')}`);
    })();
    return this.destroying;
  }

  /** Exit-time variant: SIGKILL instead of a graceful stop, blocking waits. */
  destroySync(): void {
    if (this.destroyed) return;
    for (const h of this.hosts) h.killDaemonSync();
    const errors: string[] = [];
    const steps = this.teardown(errors);
    for (let r = steps.next(); !r.done; r = steps.next()) sleepSync(r.value);
    if (errors.length) process.stderr.write(`lab ${this.name}: teardown incomplete:\n${errors.join('\n')}\n`);
  }

  /** The teardown, shared by destroy() and destroySync(): yields the number of ms to wait. */
  private *teardown(errors: string[]): Generator<number, void, void> {
    const cgDirs = (): string[] => this.hosts.flatMap((h) => cgroupDirs(h.cgroupParent));

    // 1. processes left in our namespaces or cgroups: conmons, containers, stray execs
    const strays = (): number[] => {
      const inodes = new Set<number>();
      for (const f of [`/run/netns/${this.netns}`, ...this.hosts.flatMap((h) => [`/run/netns/${h.netns}`, h.mntNsFile, h.utsNsFile])]) {
        const ino = nsInode(f); // only while the file really is a namespace of ours (no stale inode reuse)
        if (ino !== undefined) inodes.add(ino);
      }
      return [...new Set([...pidsInNamespaces(inodes), ...cgroupPids(cgDirs())])].filter((p) => p !== process.pid && pidAlive(p));
    };
    for (let round = 0; ; round++) {
      const pids = strays();
      if (pids.length === 0) break;
      if (round >= 100) { errors.push(`processes still alive: ${pids.join(' ')}`); break; }
      for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      yield 100;
    }

    // 2. every mount under the lab dir (root mount namespace view), deepest first, lazily.
    //    Unmounting the mnt namespace files frees the hosts' mount namespaces and with them all
    //    mounts the daemons made in there.
    for (let round = 0; ; round++) {
      const mps = mountsUnder(this.dir);
      if (mps.length === 0) break;
      if (round >= 10) { errors.push(`mounts remain: ${mps.join(' ')}`); break; }
      for (const mp of mps) runSync('umount', ['-l', mp]);
    }

    // 3. cgroups shoal-<host netns>/** in every hierarchy, deepest first
    for (let round = 0; ; round++) {
      const left: string[] = [];
      for (const top of cgDirs()) {
        for (const d of dirsDeepestFirst(top)) {
          try { fs.rmdirSync(d); } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(`${d}: ${(e as Error).message}`);
          }
        }
      }
      if (left.length === 0) break;
      if (round >= 50) { errors.push(`cgroups remain: ${left.join('; ')}`); break; }
      yield 100;
    }

    // 4. namespaces (hosts first: deleting a host's netns destroys its veth pair)
    for (const ns of [...this.hosts.map((h) => h.netns), this.netns]) {
      if (!fs.existsSync(`/run/netns/${ns}`)) continue;
      const r = runSync('ip', ['netns', 'del', ns]);
      if (r.code !== 0) errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }

    // 5. the temp dir, only when nothing is mounted below it any more
    if (mountsUnder(this.dir).length === 0) {
      try { fs.rmSync(this.dir, { recursive: true, force: true }); } catch (e) { errors.push(`rm ${this.dir}: ${(e as Error).message}`); }
    } else errors.push(`not removing ${this.dir}: still mounted`);

    this.destroyed = true;
    liveLabs.delete(this);
  }
}

/** [source, mountpoint, fstype, options] of the cgroup mounts under /sys/fs/cgroup, parents first */
function cgroupMountSpec(): string[][] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4 && (f[1] === '/sys/fs/cgroup' || f[1]!.startsWith('/sys/fs/cgroup/')))
    .map((f) => [unescapeMountPath(f[0]!), unescapeMountPath(f[1]!), f[2]!, f[3]!]);
}

/** Runs once per host inside its new mount + UTS namespaces (and its netns). $1 = hostname, $2 = tmp prefix. */
function hostSetupScript(cgroupSpec: string[][]): string {
  const lines = [
    'set -e',
    'hostname "$1"',
    // Detach the copies of namespace bind mounts (other hosts', other labs', /run/netns/*), of lab
    // dirs and of everything under /run: in here they would only pin other namespaces alive.
    `awk -v p="$2" '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
       if ($(i+1) == "nsfs" || index($5, p) == 1 || $5 == "/run" || index($5, "/run/") == 1) print $5 }' /proc/self/mountinfo |
     sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done`,
    // A /run of its own, as on a real host: what a daemon keeps there (runc state, shim sockets,
    // ip netns add ...) stays inside the host and vanishes with it.
    'mount -t tmpfs -o mode=755,nosuid,nodev shoal-run /run',
    'mkdir -p /run/netns /run/lock && chmod 1777 /run/lock && ln -s /dev/shm /run/shm',
    // sysfs of this netns (as ip netns exec does), then the cgroup hierarchies again on top
    'umount -l /sys 2>/dev/null || true',
    'mount -t sysfs sysfs /sys',
  ];
  for (const [src, mp, type, opts] of cgroupSpec) {
    lines.push(`mkdir -p ${shq(mp!)} 2>/dev/null || true`);
    lines.push(`mount -t ${shq(type!)} -o ${shq(opts!)} ${shq(src!)} ${shq(mp!)}`);
  }
  return lines.join('\n');
}

function randomName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(crypto.randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

/** Creates a lab namespace with a bridge and `hosts` host namespaces; see the file header. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  if (process.getuid?.() !== 0) throw new Error('createLab needs root (network/mount namespaces)');
  const n = opts.hosts;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`createLab: hosts must be 1..${MAX_HOSTS}`);
  const name = opts.name ?? `shl${randomName()}`;
  if (!/^[a-z0-9][a-z0-9_-]{0,11}$/i.test(name)) throw new Error(`createLab: bad lab name ${JSON.stringify(name)} (1-12 chars [a-z0-9_-])`);
  for (const ns of [name, ...Array.from({ length: n }, (_, i) => `${name}h${i + 1}`)]) {
    if (fs.existsSync(`/run/netns/${ns}`)) throw new Error(`createLab: namespace ${ns} already exists`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `shoal-${name}-`));
  const lab = new Lab(name, dir, n);
  liveLabs.add(lab);
  installExitHooks();
  try {
    await lab.setUp();
  } catch (e) {
    await lab.destroy().catch(() => undefined);
    throw e;
  }
  return lab;
}

// ---------------------------------------------------------------------------------------------
// node:test helpers

export interface UseLabOptions extends LabOptions {
  /** start a daemon on every host (true, or the extra daemon args) */
  daemons?: boolean | string[];
  /** import busybox:latest on every host (implies daemons) */
  busybox?: boolean;
  /** env / timeout / command for those daemons */
  daemonOptions?: DaemonOptions;
}

export interface LabHandle {
  readonly lab: Lab;
  readonly hosts: Host[];
  host(which: number | string): Host;
}

/**
 * One lab (and daemon per host) shared by all tests of a file or describe():
 *
 *   const env = useLab({ hosts: 1, busybox: true });
 *   test('run', async () => { const r = await env.host(1).shoal(['run', '--rm', 'busybox', 'true']); ... });
 *
 * Registers node:test before/after hooks in the current suite.
 */
export function useLab(opts: UseLabOptions): LabHandle {
  let lab: Lab | undefined;
  const get = (): Lab => {
    if (!lab) throw new Error('useLab: the lab exists only inside tests (after the before hook)');
    return lab;
  };
  before(async () => {
    lab = await createLab(opts);
    const wantDaemon = opts.daemons !== undefined && opts.daemons !== false ? true : !!opts.busybox;
    if (wantDaemon) {
      const extra = Array.isArray(opts.daemons) ? opts.daemons : [];
      await Promise.all(lab.hosts.map((h) => h.startDaemon(extra, opts.daemonOptions)));
    }
    if (opts.busybox) await Promise.all(lab.hosts.map((h) => importBusybox(h)));
  });
  after(async () => {
    await lab?.destroy();
  });
  return {
    get lab() { return get(); },
    get hosts() { return get().hosts; },
    host: (which) => get().host(which),
  };
}

/** createLab + fn + destroy (also when fn throws). */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}
