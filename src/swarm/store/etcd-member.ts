/**
 * Supervises the etcd member of a manager: a child process of shoald serving peers and clients
 * over mutual TLS with the node's swarm certificate.
 *
 * - start() spawns etcd and resolves once it serves client requests (etcd only serves clients
 *   after the member has joined its cluster); if etcd exits first, it rejects with the tail of its log.
 * - An unexpected exit is followed by a restart with exponential backoff (from the data dir, so
 *   never with --force-new-cluster or initial-cluster flags again), except when etcd says the member
 *   was removed from the cluster ('removed' event).
 * - stop() sends SIGTERM, then SIGKILL after a grace period, by PID.
 * - A pid file (default `<dataDir>.pid`) lets a restarted shoald stop an etcd its predecessor
 *   left behind (checked against /proc/PID/cmdline); with `dieWithParent` (default) etcd is started
 *   through `setpriv --pdeathsig SIGTERM` so it does not outlive shoald in the first place.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

export interface EtcdTlsFiles {
  /** The swarm root CA: trusted for both peers and clients. */
  caFile: string;
  /** The node's certificate (serverAuth + clientAuth), used as server, peer and peer-client cert. */
  certFile: string;
  keyFile: string;
}

export interface EtcdMemberOptions {
  /** Member name; the node id is a good choice. */
  name: string;
  dataDir: string;
  /** https://IP:2380, listened on and advertised to peers. */
  peerUrl: string;
  /** https://IP:2379 first (advertised), optionally a loopback URL too (listened on only). */
  clientUrls: string[];
  tls: EtcdTlsFiles;
  /** etcd's stdout+stderr are appended here. */
  logFile: string;
  /** Defaults to /usr/bin/etcd when it exists, else `etcd` from PATH. */
  etcdBinary?: string;
  /** Raft heartbeat (ms). Default 100. */
  heartbeatMs?: number;
  /** Raft election timeout (ms). Default 1000. */
  electionMs?: number;
  /** Default `<dataDir>.pid`. */
  pidFile?: string;
  /** Start etcd with PR_SET_PDEATHSIG (via setpriv) so it dies with this process. Default true. */
  dieWithParent?: boolean;
  /** Restart backoff after an unexpected exit. Default 200 ms doubling up to 10 s. */
  restartBackoffMs?: { initial: number; max: number };
  /** How long start() waits for etcd to serve. Default 60 s. */
  readyTimeoutMs?: number;
  /** Extra etcd flags (appended last). */
  extraArgs?: string[];
}

export interface EtcdStartOptions {
  /** `n1=https://..:2380,n2=https://..:2380`; only used when the data dir holds no member yet.
   *  Default for state 'new': this member alone. */
  initialCluster?: string;
  /** 'new' bootstraps a cluster; 'existing' joins one (after memberAddLearner). Default 'new'. */
  state?: 'new' | 'existing';
  /** Rebuild a one-member cluster from this member's data (permanent quorum loss). Needs a data dir. */
  forceNewCluster?: boolean;
  /** --initial-cluster-token for a new cluster (e.g. the swarm's cluster id). Default 'shoal'. */
  clusterToken?: string;
  /** Wait until etcd serves clients. Default true. */
  wait?: boolean;
}

export interface EtcdExitInfo { code: number | null; signal: NodeJS.Signals | null; expected: boolean }

const REMOVED_MARKERS = ['the member has been permanently removed from the cluster', 'member has already been removed'];

export class EtcdMember extends EventEmitter {
  readonly opts: Required<Omit<EtcdMemberOptions, 'extraArgs' | 'etcdBinary'>> & { extraArgs: string[]; etcdBinary: string };
  private child: ChildProcess | undefined;
  private childExit: Promise<void> | undefined;
  private stopping = false;
  private supervised = false;
  private starting = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartAttempt = 0;
  private spawnedAt = 0;
  private lastStart: EtcdStartOptions = {};

  constructor(opts: EtcdMemberOptions) {
    super();
    if (!opts.clientUrls.length) throw new Error('EtcdMember: at least one client URL is needed');
    this.opts = {
      heartbeatMs: 100,
      electionMs: 1000,
      pidFile: `${opts.dataDir.replace(/\/+$/, '')}.pid`,
      dieWithParent: true,
      restartBackoffMs: { initial: 200, max: 10_000 },
      readyTimeoutMs: 60_000,
      ...opts,
      clientUrls: [...new Set(opts.clientUrls)],
      extraArgs: opts.extraArgs ?? [],
      etcdBinary: opts.etcdBinary ?? (fs.existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : 'etcd'),
    };
  }

  get name(): string { return this.opts.name; }
  /** PID of the running etcd, if any. */
  get pid(): number | undefined { return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined; }
  get running(): boolean { return this.pid !== undefined; }

  /** Whether the data dir already holds a member (then no initial-cluster flags are needed). */
  hasData(): boolean {
    return fs.existsSync(path.join(this.opts.dataDir, 'member', 'wal'));
  }

  async start(start: EtcdStartOptions = {}): Promise<void> {
    if (this.running || this.restartTimer) throw new Error(`etcd member ${this.name} is already running`);
    if (start.forceNewCluster && !this.hasData()) throw new Error(`etcd member ${this.name}: --force-new-cluster needs an existing data dir (${this.opts.dataDir})`);
    await this.stopStale();
    fs.mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.opts.dataDir, 0o700);
    fs.mkdirSync(path.dirname(this.opts.logFile), { recursive: true });
    this.stopping = false;
    this.supervised = true;
    this.restartAttempt = 0;
    this.lastStart = start;
    this.starting = start.wait !== false;
    const exited = this.spawnOnce(this.buildArgs(start));
    if (start.wait === false) return;
    try {
      await Promise.race([
        this.ready(this.opts.readyTimeoutMs),
        exited.then(() => { throw new Error(`etcd member ${this.name} exited before serving clients:\n${this.logTail()}`); }),
      ]);
    } catch (e) {
      if (!this.running) {
        // Died during start: the caller decides (wrong cluster, bad certs...), no restart loop.
        this.supervised = false;
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
      }
      throw e;
    } finally {
      this.starting = false;
    }
  }

  /** Resolves once etcd serves clients (GET /version over mTLS on the first loopback or first client URL). */
  async ready(timeoutMs = this.opts.readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = new URL(this.opts.clientUrls.find(isLoopbackUrl) ?? this.opts.clientUrls[0]!);
    for (;;) {
      if (this.running && await this.probe(url, Math.min(1000, Math.max(100, deadline - Date.now())))) return;
      if (Date.now() >= deadline) throw new Error(`etcd member ${this.name} does not serve clients after ${timeoutMs} ms:\n${this.logTail()}`);
      if (!this.supervised) throw new Error(`etcd member ${this.name} is not running`);
      await sleep(100);
    }
  }

  /** Stops etcd: `signal` (default SIGTERM) by PID, SIGKILL after timeoutMs. No restart follows. */
  async stop(opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<void> {
    this.stopping = true;
    this.supervised = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    const pid = this.pid;
    if (child && pid !== undefined) {
      try { process.kill(pid, opts.signal ?? 'SIGTERM'); } catch { /* already gone */ }
      const exited = this.childExit!;
      const killed = await Promise.race([exited.then(() => true), sleep(opts.timeoutMs ?? 5000).then(() => false)]);
      if (!killed) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
        await exited;
      }
    }
    try { fs.unlinkSync(this.opts.pidFile); } catch { /* none */ }
  }

  /** Last lines of etcd's log, for error messages. */
  logTail(maxBytes = 4096, maxLines = 25): string {
    try {
      const fd = fs.openSync(this.opts.logFile, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const len = Math.min(size, maxBytes);
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, size - len);
        const lines = buf.toString('utf8').split('\n').filter(Boolean);
        return lines.slice(-maxLines).join('\n');
      } finally { fs.closeSync(fd); }
    } catch {
      return '(no etcd log)';
    }
  }

  private buildArgs(start: EtcdStartOptions): string[] {
    const o = this.opts;
    const advertise = o.clientUrls.filter((u) => !isLoopbackUrl(u));
    const args = [
      '--name', o.name,
      '--data-dir', o.dataDir,
      '--listen-peer-urls', o.peerUrl,
      '--initial-advertise-peer-urls', o.peerUrl,
      '--listen-client-urls', o.clientUrls.join(','),
      '--advertise-client-urls', (advertise.length ? advertise : o.clientUrls).join(','),
      '--cert-file', o.tls.certFile, '--key-file', o.tls.keyFile,
      '--trusted-ca-file', o.tls.caFile, '--client-cert-auth',
      '--peer-cert-file', o.tls.certFile, '--peer-key-file', o.tls.keyFile,
      '--peer-trusted-ca-file', o.tls.caFile, '--peer-client-cert-auth',
      '--heartbeat-interval', String(o.heartbeatMs),
      '--election-timeout', String(o.electionMs),
      // A member coming back must not disrupt a working leader with a higher term.
      '--pre-vote',
      // Clients keep streams alive with pings every few seconds; let them.
      '--grpc-keepalive-min-time', '1s',
      '--grpc-keepalive-interval', '5s',
      '--grpc-keepalive-timeout', '3s',
      // Watches resume from a revision after short outages: keep an hour of history.
      '--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1h',
      '--snapshot-count', '10000',
      '--logger', 'zap', '--log-outputs', 'stderr',
    ];
    if (!this.hasData()) {
      const state = start.state ?? 'new';
      const initialCluster = start.initialCluster ?? (state === 'new' ? `${o.name}=${o.peerUrl}` : undefined);
      if (!initialCluster) throw new Error(`etcd member ${o.name}: joining an existing cluster needs initialCluster`);
      args.push('--initial-cluster', initialCluster, '--initial-cluster-state', state,
        '--initial-cluster-token', start.clusterToken ?? 'shoal');
    } else if (start.forceNewCluster) {
      args.push('--force-new-cluster');
    }
    return [...args, ...o.extraArgs];
  }

  /** Spawns etcd once; the returned promise settles when that process has exited. */
  private spawnOnce(args: string[]): Promise<void> {
    const o = this.opts;
    const logFd = fs.openSync(o.logFile, 'a');
    let cmd = o.etcdBinary;
    let argv = args;
    if (o.dieWithParent && fs.existsSync('/usr/bin/setpriv')) {
      cmd = '/usr/bin/setpriv';
      argv = ['--pdeathsig', 'SIGTERM', '--', o.etcdBinary, ...args];
    }
    fs.writeSync(logFd, `--- ${new Date().toISOString()} shoal: starting ${o.etcdBinary} ${args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      child = spawn(cmd, argv, { stdio: ['ignore', logFd, logFd] });
    } finally {
      fs.closeSync(logFd);
    }
    this.child = child;
    this.spawnedAt = Date.now();
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.onExit(child, code, signal);
      });
      child.once('error', (err) => {
        // spawn failure (binary missing): there will be no 'exit'
        if (child.pid === undefined) {
          fs.appendFileSync(o.logFile, `shoal: cannot run ${cmd}: ${err.message}\n`);
          resolve();
          this.onExit(child, null, null);
        }
      });
    });
    this.childExit = exited;
    if (child.pid !== undefined) {
      try { fs.writeFileSync(o.pidFile, `${child.pid}\n`); } catch { /* best effort */ }
      this.emit('spawn', child.pid);
    }
    return exited;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    if (this.starting) this.supervised = false; // start() reports it; no restart loop
    const expected = this.stopping || !this.supervised;
    this.emit('exit', { code, signal, expected } satisfies EtcdExitInfo);
    if (expected) return;
    const tail = this.logTail(8192, 60);
    if (REMOVED_MARKERS.some((m) => tail.includes(m))) {
      this.supervised = false;
      this.emit('removed');
      return;
    }
    if (Date.now() - this.spawnedAt > 30_000) this.restartAttempt = 0;
    const { initial, max } = this.opts.restartBackoffMs;
    const delay = Math.min(max, initial * 2 ** this.restartAttempt);
    this.restartAttempt++;
    this.emit('restart', { attempt: this.restartAttempt, delayMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.supervised || this.stopping) return;
      const { forceNewCluster: _once, ...again } = this.lastStart;
      this.lastStart = again;
      try {
        this.spawnOnce(this.buildArgs(again));
      } catch (e) {
        this.emit('error', e);
      }
    }, delay);
    this.restartTimer.unref?.();
  }

  /** Stops an etcd left running on this data dir by a previous shoald (pid file + cmdline check). */
  private async stopStale(): Promise<void> {
    let pid: number;
    try { pid = Number.parseInt(fs.readFileSync(this.opts.pidFile, 'utf8'), 10); } catch { return; }
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid) return;
    let cmdline: string[];
    try { cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return; }
    const i = cmdline.indexOf('--data-dir');
    if (i < 0 || cmdline[i + 1] !== this.opts.dataDir || !cmdline.some((a) => a.endsWith('etcd'))) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    for (let t = 0; t < 50 && fs.existsSync(`/proc/${pid}`); t++) await sleep(100);
    if (fs.existsSync(`/proc/${pid}`)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    for (let t = 0; t < 50 && fs.existsSync(`/proc/${pid}`); t++) await sleep(100);
  }

  private probe(url: URL, timeoutMs: number): Promise<boolean> {
    const { caFile, certFile, keyFile } = this.opts.tls;
    let ca: Buffer, cert: Buffer, key: Buffer;
    try {
      ca = fs.readFileSync(caFile); cert = fs.readFileSync(certFile); key = fs.readFileSync(keyFile);
    } catch {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const req = https.get({
        host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 2379, path: '/version',
        ca, cert, key, timeout: timeoutMs, agent: false, servername: '', // no SNI for IP addresses (RFC 6066)
        // whether this member serves, not who it is: its certificate may name an address it had before a restore
        checkServerIdentity: () => undefined,
      }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
    });
  }
}

export function isLoopbackUrl(u: string): boolean {
  try {
    const h = new URL(u).hostname.replace(/^\[|\]$/g, '');
    return h === 'localhost' || h === '::1' || /^127\./.test(h);
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
