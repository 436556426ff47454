// Container-like network namespaces inside a lab host, for data-plane tests that need no daemon:
// `ip netns add` run in the host's mount namespace (so the namespace file lives in the host's own
// /run/netns and vanishes with the host), programs started in it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Host, RunOptions, RunResult } from './hosts.js';

/** A runner for src/ modules that take `exec`: runs the program inside the host. */
export function hostRunner(host: Host): (cmd: string, args: string[], opts?: { input?: string }) => Promise<RunResult> {
  return (cmd, args, opts) => host.exec([cmd, ...args], { input: opts?.input });
}

export class Box {
  readonly path: string;
  private readonly children: ChildProcess[] = [];

  constructor(readonly host: Host, readonly name: string) {
    this.path = `/run/netns/${name}`;
  }

  /** Runs a command in the box (the host's mount namespace, the box's network namespace). */
  exec(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.host.exec(['nsenter', `--net=${this.path}`, '--', ...cmd], opts);
  }

  async execOk(cmd: string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(cmd, opts);
    if (r.code !== 0) throw new Error(`${this.host.name}/${this.name}: ${cmd.join(' ')}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /** Starts a long-running program in the box (nsenter execs, so the PID is the program's). */
  start(cmd: string[]): ChildProcess {
    const child = spawn('nsenter', [...this.host.nsenterArgs(), '--', 'nsenter', `--net=${this.path}`, '--', ...cmd], { stdio: 'ignore' });
    child.on('error', () => undefined);
    this.children.push(child);
    return child;
  }

  /**
   * A TCP server answering every connection with one line, `<text> <peer address>`, then closing
   * (socat forks a shell per connection; SOCAT_PEERADDR is the client as this box sees it).
   */
  serveTcp(port: number, text: string): ChildProcess {
    return this.start(['socat', `TCP-LISTEN:${port},fork,reuseaddr`, `SYSTEM:echo ${text} $SOCAT_PEERADDR`]);
  }

  /** The same for UDP: every datagram gets one answer. */
  serveUdp(port: number, text: string): ChildProcess {
    return this.start(['socat', `UDP-RECVFROM:${port},fork`, `SYSTEM:echo ${text} $SOCAT_PEERADDR`]);
  }

  /**
   * One TCP request from the box: the answer, or undefined when none came within `wait` seconds
   * (generous by default: a loaded machine must not fail a request; pass less when failure is
   * what the test expects).
   */
  async tcp(ip: string, port: number, wait = 5): Promise<string | undefined> {
    const r = await this.exec(['socat', '-t', String(wait), '-T', String(wait), '-', `TCP:${ip}:${port},connect-timeout=${wait}`], { input: '', timeoutMs: (wait + 10) * 1000 });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }

  /** One UDP datagram and its answer; takes `wait` seconds always (UDP has no end: socat waits for more). */
  async udp(ip: string, port: number, wait = 2): Promise<string | undefined> {
    const r = await this.exec(['socat', '-t', String(wait), '-T', String(wait), '-', `UDP:${ip}:${port}`], { input: 'x\n', timeoutMs: (wait + 10) * 1000 });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  }

  async ping(ip: string): Promise<boolean> {
    return (await this.exec(['busybox', 'ping', '-c', '1', '-W', '1', ip])).code === 0;
  }

  /** Stops what start() started (by PID) and deletes the namespace. */
  async remove(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
        await exited;
      }
    }
    this.children.length = 0;
    await this.host.exec(['ip', 'netns', 'del', this.name]);
  }
}

export async function makeBox(host: Host, name: string): Promise<Box> {
  await host.execOk(['ip', 'netns', 'add', name]);
  await host.execOk(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return new Box(host, name);
}
