import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../daemon/logger.js';
import { run } from '../../util/exec.js';
import { intToIp, ipToInt, parseCidr } from './ipam.js';
import { DEFAULT_OVERLAY_MTU, type Runner } from './overlay.js';

// This node's WireGuard interface, which carries the VXLAN traffic of encrypted overlays
// (`network create -d overlay -o encrypted`): each node has one interface with an address from
// TUNNEL_RANGE and a peer per node it shares an encrypted network with; the VXLAN devices of
// those networks use the tunnel addresses as VTEPs, so their UDP goes into the tunnel and only
// WireGuard's UDP (TUNNEL_PORT) crosses the wire.
//
// - The kernel's WireGuard when `ip link add type wireguard` works, else Debian's wireguard-go
//   (userspace, over TUN), spawned detached with its pid in <state-dir>/<ifname>.pid. Like the
//   containers, it outlives a daemon restart (the next daemon adopts it by that pid) and is stopped
//   by pid when the node no longer carries an encrypted network or leaves the swarm. A wireguard-go
//   that died is started again on the next sync (supervision).
// - Private keys never leave the node: the config (key, port, peers) goes to `wg syncconf` on stdin
//   (no temporary file), which changes only what differs, so sessions with unchanged peers survive.
// - Fail closed: an `unreachable` route for the whole range (metric 4096, below the interface's own
//   route) drops VXLAN packets of encrypted networks while the interface is missing, instead of
//   letting them follow a default route in clear text.
// - MTU: WireGuard over IPv4 adds 60 bytes (IP 20 + UDP 8 + WireGuard 32), VXLAN 50 more.

export const TUNNEL_IF = 'wg-shoal';

/**
 * The tunnel interface of the daemon with this exec root: `wg-shoal` for the default one, else a
 * name of its own. wireguard-go's control socket is /var/run/wireguard/<ifname>.sock, shared by
 * every daemon on the machine (the demo runs three side by side), so the name must differ per daemon.
 */
export function tunnelIfname(execRoot: string): string {
  if (path.resolve(execRoot) === '/run/shoal') return TUNNEL_IF;
  return `wg-${createHash('sha256').update(path.resolve(execRoot)).digest('hex').slice(0, 8)}`;
}
export const TUNNEL_PORT = 51820;
/** link-local, never a private range: tunnel addresses only ever live on the tunnel interface */
export const TUNNEL_RANGE = '169.254.16.0/20';
export const TUNNEL_MTU = 1500 - 60;
export const ENCRYPTED_OVERLAY_MTU = DEFAULT_OVERLAY_MTU - 60;
const FAIL_CLOSED_METRIC = 4096;

/** Docker's option: its presence (`-o encrypted`, any value) makes an overlay encrypted. */
export function isEncrypted(options: Record<string, string> | undefined): boolean {
  return !!options && Object.prototype.hasOwnProperty.call(options, 'encrypted');
}

export interface TunnelPeer {
  publicKey: string;
  /** the peer's underlay address and WireGuard port, ip:port */
  endpoint: string;
  /** the peer's tunnel address (its VTEP on encrypted networks) */
  address: string;
}

export interface TunnelConfig {
  /** this node's tunnel address (in TUNNEL_RANGE) */
  address: string;
  /** base64 X25519 private key */
  privateKey: string;
  listenPort: number;
  peers: TunnelPeer[];
}

export type TunnelImplementation = 'kernel' | 'wireguard-go';

const KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
/** A WireGuard key as `wg` writes it: base64 of 32 bytes. */
export function isWireguardKey(k: unknown): k is string { return typeof k === 'string' && KEY.test(k); }

/** The `wg syncconf` text for a config (validated: it is parsed by another program). */
export function wgConfig(cfg: TunnelConfig): string {
  const check = (k: string) => { if (!isWireguardKey(k)) throw new Error('wireguard: invalid key'); return k; };
  const ip = (s: string) => intToIp(ipToInt(s));
  const lines = ['[Interface]', `PrivateKey = ${check(cfg.privateKey)}`, `ListenPort = ${Number(cfg.listenPort)}`];
  for (const p of cfg.peers) {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(p.endpoint);
    if (!m) throw new Error(`wireguard: invalid endpoint ${JSON.stringify(p.endpoint)}`);
    lines.push('', '[Peer]', `PublicKey = ${check(p.publicKey)}`, `Endpoint = ${ip(m[1])}:${Number(m[2])}`, `AllowedIPs = ${ip(p.address)}/32`);
  }
  return lines.join('\n') + '\n';
}

export interface WireguardOptions {
  /** where the pid file and wireguard-go's log go (under the exec root: gone on reboot, like the process) */
  stateDir: string;
  log: Logger;
  ifname?: string;
  exec?: Runner;
}

export class WireguardTunnel {
  /** which WireGuard carries the tunnel (set once it is up) */
  implementation?: TunnelImplementation;
  private readonly ifname: string;
  private readonly exec: Runner;
  private applied = '';
  private pid?: number;
  /** unknown after a daemon start: a previous daemon's interface may be there */
  private state: 'unknown' | 'up' | 'down' = 'unknown';

  constructor(private o: WireguardOptions) {
    this.ifname = o.ifname ?? TUNNEL_IF;
    this.exec = o.exec ?? run;
  }

  get pidFile(): string { return path.join(this.o.stateDir, `${this.ifname}.pid`); }
  /** wireguard-go's control socket (the `wg` tool finds it there) */
  private get socketPath(): string { return `/var/run/wireguard/${this.ifname}.sock`; }
  private get logFile(): string { return path.join(this.o.stateDir, `${this.ifname}.log`); }

  /** Brings the interface up (creating or adopting it) and converges keys, peers, address and MTU. */
  async apply(cfg: TunnelConfig): Promise<void> {
    const text = wgConfig(cfg);
    const range = parseCidr(TUNNEL_RANGE);
    const address = intToIp(ipToInt(cfg.address));
    const fresh = await this.ensure();
    const key = JSON.stringify([text, address]);
    if (!fresh && this.applied === key) return;
    // through a pipe: wg fopen()s /dev/stdin, which fails on the socket Node gives a child as stdin
    await this.must('sh', ['-c', 'cat | wg syncconf "$0" /dev/stdin', this.ifname], text);
    const link = await this.link();
    const cmds = (link?.addr_info ?? []).filter((a) => a.family === 'inet' && (a.local !== address || a.prefixlen !== range.prefix)).map((a) => `addr del ${a.local}/${a.prefixlen} dev ${this.ifname}`);
    cmds.push(`addr replace ${address}/${range.prefix} dev ${this.ifname}`, `link set dev ${this.ifname} mtu ${TUNNEL_MTU} up`,
      `route replace unreachable ${TUNNEL_RANGE} metric ${FAIL_CLOSED_METRIC}`);
    await this.must('ip', ['-batch', '-'], cmds.join('\n') + '\n');
    this.applied = key;
    this.state = 'up';
  }

  /** Stops wireguard-go (by pid) and deletes the interface and the fail-closed route. Idempotent. */
  async remove(): Promise<void> {
    if (this.state === 'down') return;
    const pid = await this.ourPid();
    if (pid) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 30 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await fs.rm(this.pidFile, { force: true });
    // a killed wireguard-go leaves its control socket behind (gone with a clean exit)
    if (!pid || !alive(pid)) await fs.rm(this.socketPath, { force: true });
    if (await this.link()) await this.must('ip', ['link', 'del', 'dev', this.ifname]);
    await this.exec('ip', ['route', 'del', 'unreachable', TUNNEL_RANGE, 'metric', String(FAIL_CLOSED_METRIC)]);
    if (this.state === 'up') this.o.log.info({ ifname: this.ifname, implementation: this.implementation }, 'WireGuard tunnel removed');
    this.state = 'down';
    this.pid = undefined;
    this.applied = '';
    this.implementation = undefined;
  }

  /** The interface exists and, with wireguard-go, its process runs; true when it was (re)made now. */
  private async ensure(): Promise<boolean> {
    // the cheap check every sync: our wireguard-go still runs
    if (this.state === 'up' && (this.implementation === 'kernel' || (this.pid && alive(this.pid)))) return false;
    const link = await this.link();
    const kind = link?.linkinfo?.info_kind;
    if (kind === 'wireguard') { this.implementation = 'kernel'; return this.state !== 'up'; }
    const pid = await this.ourPid();
    if (kind === 'tun' && pid) { this.implementation = 'wireguard-go'; this.pid = pid; return this.state !== 'up'; }
    // a half: an interface without its process, or a process without its interface
    if (pid) process.kill(pid, 'SIGKILL');
    await fs.rm(this.socketPath, { force: true });
    if (link) await this.must('ip', ['link', 'del', 'dev', this.ifname]);
    if (this.state === 'up') this.o.log.warn({ ifname: this.ifname, implementation: this.implementation }, 'WireGuard tunnel was gone: making it again');
    if ((await this.exec('ip', ['link', 'add', 'dev', this.ifname, 'type', 'wireguard'])).code === 0) {
      this.implementation = 'kernel';
    } else {
      await this.spawnUserspace();
      this.implementation = 'wireguard-go';
    }
    this.o.log.info({ ifname: this.ifname, implementation: this.implementation }, 'WireGuard tunnel created');
    return true;
  }

  private async spawnUserspace(): Promise<void> {
    await fs.mkdir(this.o.stateDir, { recursive: true, mode: 0o700 });
    const fd = openSync(this.logFile, 'a');
    let pid: number | undefined;
    let failed: Error | undefined;
    try {
      // -f: no self-daemonising, so the pid is the process's; its own session, so it outlives shoald
      const child = spawn('wireguard-go', ['-f', this.ifname], {
        detached: true, stdio: ['ignore', fd, fd],
        env: { ...process.env, LOG_LEVEL: 'error', WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' },
      });
      child.on('error', (e) => { failed = e; });
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(fd);
    }
    if (pid) await fs.writeFile(this.pidFile, String(pid));
    this.pid = pid;
    // up once the TUN device and the control socket exist
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      if (failed || !pid || !alive(pid)) break;
      const sock = await fs.stat(this.socketPath).then(() => true, () => false);
      if (sock && (await this.link())) return;
    }
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await fs.rm(this.pidFile, { force: true });
    const tail = (await fs.readFile(this.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`wireguard: no kernel WireGuard and wireguard-go did not start${failed ? `: ${failed.message}` : ''}${tail ? ` (${tail})` : ''}`);
  }

  /** wireguard-go's pid from the pid file, when that process still is wireguard-go for this interface. */
  private async ourPid(): Promise<number | undefined> {
    const pid = Number(await fs.readFile(this.pidFile, 'utf8').catch(() => '0'));
    if (!pid || !alive(pid)) return undefined;
    const cmd = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    return cmd.some((a) => a.endsWith('wireguard-go')) && cmd.includes(this.ifname) ? pid : undefined;
  }

  private async link(): Promise<{ linkinfo?: { info_kind?: string }; addr_info?: { family: string; local: string; prefixlen: number }[] } | undefined> {
    const r = await this.exec('ip', ['-d', '-j', 'addr', 'show', 'dev', this.ifname]);
    return r.code === 0 ? JSON.parse(r.stdout)[0] : undefined;
  }

  private async must(cmd: string, args: string[], input?: string): Promise<void> {
    const r = await this.exec(cmd, args, input === undefined ? undefined : { input });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  // a zombie (our own child, exited) is not alive
  return !/\) Z /.test(readStat(pid));
}

function readStat(pid: number): string {
  try { return readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return ''; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
