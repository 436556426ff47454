import { promises as fs, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BadRequest, Conflict, NotFound, ServerError } from '../../api/errors.js';
import type { Logger } from '../../daemon/logger.js';
import { newId, shortId } from '../../util/ids.js';
import type { EventBus } from '../events.js';
import type { ImageStore } from '../images/image-store.js';
import type { VolumeStore } from '../volumes/volume-store.js';
import type { NetworkManager } from '../networks/network-manager.js';
import type { Sandboxes } from '../networks/sandbox.js';
import { defaultHostConfig, healthTimings, mergeConfig, parseSignal } from './config.js';
import { ContainerStore } from './container-store.js';
import { HealthMonitor } from './health.js';
import { buildSpec } from './oci-spec.js';
import { mountsSummary, releaseMounts, removeAnonymousVolumes, resolveMounts, specMounts } from './mounts.js';
import { mountRootfs, resolveUser, rootfsPaths, unmountRootfs } from './rootfs.js';
import { Runtime, RuntimeError } from './runtime.js';
import { freshState, type ContainerRecord } from './types.js';
import { writeFileAtomic } from '../../util/atomic-file.js';

export interface ManagerOptions {
  dataRoot: string;
  execRoot: string;
  cgroupParent: string;
  runtime: Runtime;
  images: ImageStore;
  sandboxes: Sandboxes;
  networks: NetworkManager;
  events: EventBus;
  log: Logger;
  volumes: VolumeStore;
}

type Waiter = { cond: string; resolve: (r: { StatusCode: number; Error: { Message: string } | null }) => void };

/** Owns container lifecycles: create, start, exit handling, restart policies, stop/kill, remove. */
export class ContainerManager {
  readonly store: ContainerStore;
  readonly exitDir: string;
  private watcher?: FSWatcher;
  private waiters = new Map<string, Waiter[]>();
  private restartTimers = new Map<string, NodeJS.Timeout>();
  private pollTimer?: NodeJS.Timeout;
  private exiting = new Set<string>();
  readonly health: HealthMonitor;

  constructor(private o: ManagerOptions) {
    this.store = new ContainerStore(path.join(o.dataRoot, 'containers'));
    this.exitDir = path.join(o.execRoot, 'exits');
    this.health = new HealthMonitor(this, o.log);
  }

  bundle(id: string): string { return path.join(this.o.execRoot, 'containers', id); }

  // ---------- startup and recovery ----------

  async init(): Promise<void> {
    await fs.mkdir(this.exitDir, { recursive: true });
    const recs = await this.store.load();
    this.watcher = watch(this.exitDir, (_ev, file) => { if (file) void this.onExitFile(String(file)); });
    // fs.watch can miss events under load; a slow poll makes exit detection certain.
    this.pollTimer = setInterval(() => void this.scanExits(), 2000);
    this.pollTimer.unref();
    for (const c of recs) {
      if (c.State.Running || c.State.Restarting) {
        const st = await this.o.runtime.state(c.Id);
        const exitFile = await fs.readFile(path.join(this.exitDir, c.Id), 'utf8').catch(() => undefined);
        if (exitFile !== undefined || !st || st.status === 'stopped') {
          // It exited while we were away: conmon recorded the code, and the file's mtime is when.
          const when = await fs.stat(path.join(this.exitDir, c.Id)).then((s) => s.mtime, () => undefined);
          await this.handleExit(c, exitFile !== undefined ? Number(exitFile.trim()) : 255, when);
        } else {
          c.State.Pid = st.pid;
          c.State.Paused = st.status === 'paused';
          c.State.Status = c.State.Paused ? 'paused' : 'running';
          c.State.Restarting = false;
          await this.store.save(c);
          this.health.track(c);
          this.o.log.info({ id: c.Id, pid: st.pid }, 'reattached running container');
        }
      }
    }
    // Restart policies apply after a daemon restart, as dockerd does on boot.
    for (const c of this.store.all()) {
      const p = c.HostConfig.RestartPolicy?.Name;
      // Docker restarts `always` containers on boot even after a manual stop; not `unless-stopped`.
      if (!c.State.Running && (p === 'always' || (p === 'unless-stopped' && !c.shoal.manuallyStopped))) {
        this.start(c.Id).catch((err) => this.o.log.error({ id: c.Id, err: (err as Error).message }, 'restart on boot failed'));
      }
    }
  }

  shutdown(): void {
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.restartTimers.values()) clearTimeout(t);
    this.health.stopAll();
  }

  private async scanExits(): Promise<void> {
    for (const f of await fs.readdir(this.exitDir).catch(() => [] as string[])) await this.onExitFile(f);
  }

  private async onExitFile(file: string): Promise<void> {
    const c = this.store.find(file);
    if (!c || c.Id !== file || this.exiting.has(c.Id) || this.starting.has(c.Id)) return;
    const code = await fs.readFile(path.join(this.exitDir, file), 'utf8').catch(() => undefined);
    if (code === undefined || code.trim() === '') return;
    if (!c.State.Running) { await fs.rm(path.join(this.exitDir, file), { force: true }); return; }
    await this.handleExit(c, Number(code.trim()));
  }

  // ---------- create ----------

  async create(body: any, name?: string | null): Promise<{ Id: string; Warnings: string[] }> {
    if (!body || typeof body !== 'object') throw new BadRequest('config cannot be empty in order to create a container');
    if (!body.Image) throw new BadRequest('Config.Image must be specified');
    const img = this.o.images.tryResolve(body.Image);
    if (!img) throw new NotFound(`No such image: ${body.Image}`);
    const id = newId();
    const finalName = name ? this.store.validateName(name) : this.generateName();
    const hostConfig = defaultHostConfig(body.HostConfig);
    const config = mergeConfig(body, img.config?.config ?? img.config?.Config ?? {});
    if (!config.Hostname) config.Hostname = id.slice(0, 12);
    // swarm networks this node does not carry yet are looked up on a manager (attached at start)
    const remote = await this.o.networks.swarmNetworksFor(hostConfig, body.NetworkingConfig);
    if (!remote.has(hostConfig.NetworkMode)) this.validateNetworkMode(hostConfig.NetworkMode);
    const networkSettings = this.o.networks.settingsForCreate(hostConfig, body.NetworkingConfig, id, remote);
    const mountPoints = await resolveMounts({ containerId: id, hostConfig, config, volumes: this.o.volumes, findContainer: (r) => this.store.find(r) });
    const dir = this.store.dir(id);
    const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    const rec: ContainerRecord = {
      Id: id, Created: new Date().toISOString(), Path: argv[0], Args: argv.slice(1), State: freshState(), Image: img.id,
      ResolvConfPath: path.join(dir, 'resolv.conf'), HostnamePath: path.join(dir, 'hostname'), HostsPath: path.join(dir, 'hosts'),
      LogPath: path.join(dir, `${id}-json.log`), Name: finalName, RestartCount: 0, Driver: 'overlay2', Platform: 'linux',
      MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null, HostConfig: hostConfig, Config: config,
      NetworkSettings: networkSettings, Mounts: mountsSummary(mountPoints),
      shoal: { manuallyStopped: false, cgroupPath: `/${this.o.cgroupParent}/${id}`, mountPoints },
    };
    await this.store.add(rec).finally(() => this.o.volumes.release(id));
    this.o.events.emit('container', 'create', id, this.attrs(rec));
    return { Id: id, Warnings: [] };
  }

  private validateNetworkMode(mode: string): void {
    if (mode.startsWith('container:')) { this.store.get(mode.slice('container:'.length)); return; }
    this.o.networks.networkForMode(mode);
  }

  private generateName(): string {
    const adj = ['brave', 'calm', 'eager', 'fervent', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'quirky', 'serene', 'vibrant', 'zen'];
    const who = ['turing', 'hopper', 'lovelace', 'knuth', 'ritchie', 'thompson', 'torvalds', 'liskov', 'dijkstra', 'hamilton', 'noether', 'curie'];
    for (;;) {
      const n = `/${adj[Math.floor(Math.random() * adj.length)]}_${who[Math.floor(Math.random() * who.length)]}`;
      if (!this.store.find(n)) return n;
      const m = `${n}${Math.floor(Math.random() * 100)}`;
      if (!this.store.find(m)) return m;
    }
  }

  attrs(c: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(c.Config.Labels ?? {}), image: c.Config.Image, name: c.Name.slice(1), ...extra };
  }

  // ---------- start ----------

  async start(ref: string): Promise<void> {
    const c = this.store.get(ref);
    if (c.State.Paused) throw new Conflict(`cannot start a paused container, try unpause instead`);
    if (c.State.Running) return;
    const timer = this.restartTimers.get(c.Id);
    if (timer) { clearTimeout(timer); this.restartTimers.delete(c.Id); }
    c.shoal.manuallyStopped = false;
    try {
      await this.startProcess(c);
    } catch (err) {
      c.State.Error = (err as Error).message;
      c.State.ExitCode = exitCodeForStartError(c.State.Error);
      c.State.Status = c.State.Status === 'created' ? 'created' : 'exited';
      c.State.Running = false;
      c.State.Restarting = false;
      await this.cleanupAfterExit(c).catch(() => undefined);
      await this.store.save(c);
      // Attached clients and waiters must not hang on a container that never ran;
      // an auto-remove container is removed, as Docker does when its start fails.
      this.notify(c, 'exit');
      if (c.HostConfig.AutoRemove) await this.remove(c.Id, { force: true, volumes: true }).catch(() => undefined);
      if (err instanceof RuntimeError) throw new BadRequest(`OCI runtime create failed: ${c.State.Error}: unknown`);
      throw err;
    }
  }

  /** containers between `runc start` and State.Running: an exit file then belongs to this run */
  private starting = new Set<string>();

  /**
   * Starts c's process. A short-lived one can exit before `runc start` has returned and the state
   * says Running: its exit file is kept (not taken for a stale one) and handled once it does.
   */
  private async startProcess(c: ContainerRecord): Promise<void> {
    this.starting.add(c.Id);
    try { await this.spawnProcess(c); } finally { this.starting.delete(c.Id); }
    void this.onExitFile(c.Id);
  }

  private async spawnProcess(c: ContainerRecord): Promise<void> {
    const bundle = this.bundle(c.Id);
    const dataDir = this.store.dir(c.Id);
    await fs.rm(path.join(this.exitDir, c.Id), { force: true });
    await this.o.runtime.delete(c.Id);
    const img = this.o.images.tryResolve(c.Image);
    if (!img) throw new NotFound(`No such image: ${c.Image}`);
    const rp = rootfsPaths(dataDir, bundle);
    const cfg = c.Config;
    const hc = c.HostConfig;
    const mode: string = hc.NetworkMode;
    // The rootfs and the network sandbox are independent: set them up side by side (each is a few
    // process spawns), and let both finish before failing so cleanup finds a settled state.
    const rootfsReady = (async () => {
      await fs.mkdir(bundle, { recursive: true });
      await mountRootfs(this.o.images.lowerDirs(img), rp);
      c.shoal.rootfsMounted = true;
    })();
    const netReady = (async (): Promise<string> => {
      if (mode === 'host') return 'host';
      if (mode.startsWith('container:')) {
        const other = this.store.get(mode.slice('container:'.length));
        if (!other.State.Running) throw new Conflict(`cannot join network of a non running container: ${other.Id}`);
        return other.shoal.netnsPath ?? `/proc/${other.State.Pid}/ns/net`;
      }
      const p = await this.o.sandboxes.create(c.Id);
      c.shoal.netnsPath = p;
      await this.o.networks.attachAll(c, p);
      return p;
    })();
    const [fsDone, netDone] = await Promise.allSettled([rootfsReady, netReady]);
    if (fsDone.status === 'rejected') throw fsDone.reason;
    if (netDone.status === 'rejected') throw netDone.reason;
    const netns = netDone.value;
    const user = await resolveUser(rp.merged, cfg.User).catch((e: Error) => { throw new BadRequest(e.message); });
    if (cfg.WorkingDir) await fs.mkdir(path.join(rp.merged, cfg.WorkingDir), { recursive: true }).catch(() => undefined);
    await this.writeEtcFiles(c, mode);
    const mounts = await specMounts(c, this.o.volumes, rp.merged);
    const env = [...cfg.Env];
    if (!env.some((e: string) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${cfg.Hostname}`);
    if (cfg.Tty && !env.some((e: string) => e.startsWith('TERM='))) env.push('TERM=xterm');
    const nano = hc.NanoCpus as number;
    const spec = buildSpec({
      rootfs: rp.merged, args: [c.Path, ...c.Args], env, cwd: cfg.WorkingDir || '/', ...user, tty: !!cfg.Tty,
      hostname: mode === 'host' ? (await fs.readFile('/proc/sys/kernel/hostname', 'utf8')).trim() : cfg.Hostname,
      readonlyRootfs: !!hc.ReadonlyRootfs, netns, cgroupsPath: c.shoal.cgroupPath, mounts,
      memory: hc.Memory || undefined, memorySwap: hc.MemorySwap || undefined,
      cpuQuota: nano ? Math.round((nano / 1e9) * 100000) : hc.CpuQuota || undefined, cpuPeriod: nano ? 100000 : hc.CpuPeriod || undefined,
      cpuShares: hc.CpuShares || undefined, cpusetCpus: hc.CpusetCpus || undefined, pidsLimit: hc.PidsLimit || undefined,
      capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [], privileged: hc.Privileged, oomScoreAdj: hc.OomScoreAdj || undefined,
    });
    await writeFileAtomic(path.join(bundle, 'config.json'), JSON.stringify(spec));
    await fs.rm(path.join(bundle, 'persist', 'oom'), { force: true });
    const { pid, conmonPid } = await this.o.runtime.spawnConmon({
      id: c.Id, uuid: c.Id.slice(0, 16), name: c.Name.slice(1), bundle, logPath: c.LogPath, exitDir: this.exitDir,
      pidFile: path.join(bundle, 'pidfile'), persistDir: path.join(bundle, 'persist'), tty: !!cfg.Tty, stdin: !!cfg.OpenStdin,
    });
    c.shoal.conmonPid = conmonPid;
    await this.o.runtime.start(c.Id);
    const now = new Date().toISOString();
    Object.assign(c.State, { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: now, FinishedAt: c.State.FinishedAt });
    if (cfg.Healthcheck && cfg.Healthcheck.Test?.[0] !== 'NONE' && cfg.Healthcheck.Test?.length) {
      c.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    }
    // Docker's sandbox: a new ID for each start, cleared when the network is released
    c.NetworkSettings.SandboxKey = netns && netns !== 'host' ? netns : '';
    c.NetworkSettings.SandboxID = netns ? randomBytes(32).toString('hex') : '';
    await this.store.save(c);
    this.o.events.emit('container', 'start', c.Id, this.attrs(c));
    this.health.track(c);
  }

  /**
   * /etc/hostname, /etc/hosts, /etc/resolv.conf of the container. Before start they are replaced
   * atomically; while running (`inPlace`) they are rewritten in place, because the container's bind
   * mounts hold the old inodes.
   */
  private async writeEtcFiles(c: ContainerRecord, mode: string, inPlace = false): Promise<void> {
    const write = (f: string, text: string) => inPlace ? fs.writeFile(f, text) : writeFileAtomic(f, text, 0o644);
    const hostname = c.Config.Hostname;
    if (!inPlace) await write(c.HostnamePath, hostname + '\n');
    const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];
    hosts.push(...this.o.networks.hostsLines(c));
    for (const h of c.HostConfig.ExtraHosts ?? []) {
      const [name, ip] = String(h).split(/:(.*)/s);
      hosts.push(`${ip}\t${name}`);
    }
    if (mode === 'host') {
      await write(c.HostsPath, await fs.readFile('/etc/hosts', 'utf8').catch(() => hosts.join('\n') + '\n'));
    } else {
      await write(c.HostsPath, hosts.join('\n') + '\n');
    }
    const hostResolv = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const resolv = mode === 'host' ? hostResolv : this.o.networks.resolvConf(c, hostResolv);
    await write(c.ResolvConfPath, resolv);
  }

  // ---------- exit, restart policy ----------

  private async handleExit(c: ContainerRecord, code: number, finishedAt = new Date()): Promise<void> {
    if (this.exiting.has(c.Id)) return;
    this.exiting.add(c.Id);
    try {
      const oom = await fs.stat(path.join(this.bundle(c.Id), 'persist', 'oom')).then(() => true, () => false);
      this.health.untrack(c.Id);
      Object.assign(c.State, { Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: code, OOMKilled: oom, FinishedAt: finishedAt.toISOString() });
      await this.cleanupAfterExit(c);
      await fs.rm(path.join(this.exitDir, c.Id), { force: true });
      if (oom) this.o.events.emit('container', 'oom', c.Id, this.attrs(c));
      this.o.events.emit('container', 'die', c.Id, this.attrs(c, { exitCode: String(code) }));
      const restart = this.shouldRestart(c);
      if (restart) {
        c.State.Restarting = true; c.State.Status = 'restarting';
      }
      await this.store.save(c);
      this.notify(c, 'exit');
      if (restart) this.scheduleRestart(c);
      else if (c.HostConfig.AutoRemove) {
        // Attached clients read the log file: let them drain it before it is deleted.
        await Promise.race([Promise.all([...(this.attached.get(c.Id) ?? [])]), sleep(5000)]);
        await this.remove(c.Id, { force: true, volumes: true }).catch((err) => {
          this.o.log.warn({ id: c.Id, err: (err as Error).message }, 'auto-remove failed');
          // like Docker's SetRemovalError: `wait?condition=removed` answers with the error instead of hanging
          this.notify(c, 'removed', (err as Error).message);
        });
      }
    } finally {
      this.exiting.delete(c.Id);
    }
  }

  private shouldRestart(c: ContainerRecord): boolean {
    if (c.shoal.manuallyStopped) return false;
    const p = c.HostConfig.RestartPolicy;
    switch (p?.Name) {
      case 'always': case 'unless-stopped': return true;
      case 'on-failure': return c.State.ExitCode !== 0 && (!p.MaximumRetryCount || c.RestartCount < p.MaximumRetryCount);
      default: return false;
    }
  }

  private scheduleRestart(c: ContainerRecord): void {
    // Docker's backoff: 100 ms doubling, reset when the container ran for 10 s.
    const ranMs = Date.parse(c.State.FinishedAt) - Date.parse(c.State.StartedAt);
    const prev = (c as any)._backoff as number | undefined;
    const delay = ranMs >= 10_000 || !prev ? 100 : Math.min(prev * 2, 60_000);
    Object.defineProperty(c, '_backoff', { value: delay, writable: true, enumerable: false, configurable: true });
    const t = setTimeout(() => {
      this.restartTimers.delete(c.Id);
      if (!this.store.find(c.Id) || c.shoal.manuallyStopped) return;
      c.RestartCount++;
      this.startProcess(c).then(
        () => this.o.events.emit('container', 'restart', c.Id, this.attrs(c)),
        async (err) => {
          this.o.log.error({ id: c.Id, err: (err as Error).message }, 'restart failed');
          Object.assign(c.State, { Restarting: false, Status: 'exited', Error: (err as Error).message });
          await this.cleanupAfterExit(c).catch(() => undefined);
          await this.store.save(c);
        });
    }, delay);
    this.restartTimers.set(c.Id, t);
  }

  private async cleanupAfterExit(c: ContainerRecord): Promise<void> {
    // Three independent teardowns, side by side: each is a process spawn or two on every exit.
    const rootfs = (async () => {
      // Unmount whether or not the record says so: a crash mid-start leaves a mount it never recorded.
      await unmountRootfs(rootfsPaths(this.store.dir(c.Id), this.bundle(c.Id)));
      c.shoal.rootfsMounted = false;
      await releaseMounts(c, this.o.volumes).catch(() => undefined);
    })();
    const net = (async () => {
      await this.o.networks.releaseAll(c).catch((err) => this.o.log.warn({ id: c.Id, err: (err as Error).message }, 'network release failed'));
      await this.o.sandboxes.remove(c.Id);
      c.shoal.netnsPath = undefined;
    })();
    const results = await Promise.allSettled([this.o.runtime.delete(c.Id), rootfs, net]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  // ---------- networks ----------

  async connectNetwork(ref: string, network: string, endpointConfig: any): Promise<void> {
    const c = this.store.get(ref);
    await this.o.networks.connect(c, network, endpointConfig);
    await this.store.save(c);
    // Like Docker: joining a network with the embedded DNS switches resolv.conf to 127.0.0.11.
    if (c.State.Running) await this.writeEtcFiles(c, c.HostConfig.NetworkMode, true).catch(() => undefined);
  }

  async disconnectNetwork(ref: string, network: string, force: boolean): Promise<void> {
    const c = this.store.find(ref);
    if (!c) { if (force) return; throw new NotFound(`No such container: ${ref}`); }
    await this.o.networks.disconnect(c, network, force);
    await this.store.save(c);
    if (c.State.Running) await this.writeEtcFiles(c, c.HostConfig.NetworkMode, true).catch(() => undefined);
  }

  // ---------- wait ----------

  private notify(c: ContainerRecord, what: 'exit' | 'removed', removalError?: string): void {
    const ws = this.waiters.get(c.Id) ?? [];
    const keep: Waiter[] = [];
    for (const w of ws) {
      const error = removalError ?? c.State.Error;
      if (what === 'removed' || w.cond !== 'removed') w.resolve({ StatusCode: c.State.ExitCode, Error: error ? { Message: error } : null });
      else keep.push(w);
    }
    if (keep.length) this.waiters.set(c.Id, keep); else this.waiters.delete(c.Id);
  }

  /** Registers a waiter synchronously (so `run` can wait before it starts) and returns its promise. */
  wait(ref: string, condition = 'not-running'): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const c = this.store.get(ref);
    if (!['not-running', 'next-exit', 'removed', ''].includes(condition)) throw new BadRequest(`invalid condition: "${condition}"`);
    if ((condition === 'not-running' || condition === '') && !c.State.Running && !c.State.Restarting) {
      return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    }
    return new Promise((resolve) => {
      const list = this.waiters.get(c.Id) ?? [];
      list.push({ cond: condition || 'not-running', resolve });
      this.waiters.set(c.Id, list);
    });
  }

  // ---------- stop, kill, pause ----------

  async kill(ref: string, signal?: string, manual = true): Promise<void> {
    const c = this.store.get(ref);
    const sig = parseSignal(signal, 'SIGKILL');
    if (!c.State.Running) throw new Conflict(`Cannot kill container: ${ref}: Container ${c.Id} is not running`);
    if (manual && (sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGINT')) c.shoal.manuallyStopped = true;
    this.o.events.emit('container', 'kill', c.Id, this.attrs(c, { signal: String(signalNumber(sig)) }));
    if (c.State.Paused && sig === 'SIGKILL') await this.o.runtime.resume(c.Id).catch(() => undefined);
    await this.o.runtime.kill(c.Id, sig, sig === 'SIGKILL').catch((e) => { throw new ServerError(`Cannot kill container ${c.Id}: ${(e as Error).message}`); });
  }

  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    const c = this.store.get(ref);
    if (c.State.Restarting) {
      c.shoal.manuallyStopped = true;
      const t = this.restartTimers.get(c.Id);
      if (t) clearTimeout(t);
      this.restartTimers.delete(c.Id);
      Object.assign(c.State, { Restarting: false, Status: 'exited' });
      await this.store.save(c);
      return true;
    }
    if (!c.State.Running) return false;
    c.shoal.manuallyStopped = true;
    await this.store.save(c);
    const timeout = timeoutSec ?? c.Config.StopTimeout ?? 10;
    const sig = parseSignal(signal || c.Config.StopSignal, 'SIGTERM');
    const done = this.wait(c.Id, 'next-exit');
    if (c.State.Paused) await this.o.runtime.resume(c.Id).catch(() => undefined);
    await this.o.runtime.kill(c.Id, sig).catch(() => undefined);
    const exited = timeout < 0 ? await done.then(() => true) : await Promise.race([done.then(() => true), sleep(timeout * 1000).then(() => false)]);
    if (!exited) {
      await this.o.runtime.kill(c.Id, 'SIGKILL', true).catch(() => undefined);
      await Promise.race([done, sleep(10_000)]);
    }
    this.o.events.emit('container', 'stop', c.Id, this.attrs(c));
    return true;
  }

  async restart(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const c = this.store.get(ref);
    await this.stop(c.Id, timeoutSec, signal);
    await this.start(c.Id);
    this.o.events.emit('container', 'restart', c.Id, this.attrs(c));
  }

  async pause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    if (!c.State.Running) throw new Conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw new Conflict(`Container ${c.Id} is already paused`);
    await this.o.runtime.pause(c.Id);
    c.State.Paused = true; c.State.Status = 'paused';
    await this.store.save(c);
    this.o.events.emit('container', 'pause', c.Id, this.attrs(c));
  }

  async unpause(ref: string): Promise<void> {
    const c = this.store.get(ref);
    if (!c.State.Paused) throw new Conflict(`Container ${c.Id} is not paused`);
    await this.o.runtime.resume(c.Id);
    c.State.Paused = false; c.State.Status = 'running';
    await this.store.save(c);
    this.o.events.emit('container', 'unpause', c.Id, this.attrs(c));
  }

  // ---------- remove, rename ----------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.store.get(ref);
    if (c.State.Running || c.State.Restarting) {
      if (!opts.force) {
        const what = c.State.Paused ? 'paused' : c.State.Restarting ? 'restarting' : 'running';
        throw new Conflict(`You cannot remove a ${what} container ${c.Id}. Stop the container before attempting removal or force remove`);
      }
      c.shoal.manuallyStopped = true;
      const t = this.restartTimers.get(c.Id);
      if (t) { clearTimeout(t); this.restartTimers.delete(c.Id); }
      if (c.State.Running) {
        const done = this.wait(c.Id, 'next-exit');
        await this.o.runtime.kill(c.Id, 'SIGKILL', true).catch(() => undefined);
        await Promise.race([done, sleep(10_000)]);
      }
    }
    if (this.removing.has(c.Id)) return;
    this.removing.add(c.Id);
    try {
      this.health.untrack(c.Id);
      await this.cleanupAfterExit(c);
      await fs.rm(this.bundle(c.Id), { recursive: true, force: true });
      await this.store.remove(c);
      if (opts.volumes) await removeAnonymousVolumes(c, this.o.volumes, this.o.log);
      this.o.events.emit('container', 'destroy', c.Id, this.attrs(c));
      this.notify(c, 'removed');
    } finally {
      this.removing.delete(c.Id);
    }
  }
  private removing = new Set<string>();
  private attached = new Map<string, Set<Promise<void>>>();

  /** Registers an attach stream; auto-remove waits for it to finish reading the log. */
  trackAttach(id: string, done: Promise<void>): void {
    const set = this.attached.get(id) ?? new Set<Promise<void>>();
    const p = done.catch(() => undefined).finally(() => {
      set.delete(p);
      if (!set.size) this.attached.delete(id);
    });
    set.add(p);
    this.attached.set(id, set);
  }

  async rename(ref: string, name: string): Promise<void> {
    const c = this.store.get(ref);
    if (!name) throw new BadRequest('Neither old nor new names may be empty');
    const old = c.Name;
    await this.store.rename(c, name);
    await this.o.networks.renamed(c);
    this.o.events.emit('container', 'rename', c.Id, this.attrs(c, { oldName: old }));
  }

  usedBy(imageId: string): { id: string; running: boolean }[] {
    return this.store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running }));
  }

  get runtime(): Runtime { return this.o.runtime; }
  get images(): ImageStore { return this.o.images; }
  get events(): EventBus { return this.o.events; }
  get log(): Logger { return this.o.log; }
  healthDefaults = healthTimings;
}

function exitCodeForStartError(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied/.test(msg)) return 126;
  return 128;
}

const SIGNUMS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGSTOP: 19, SIGCONT: 18, SIGWINCH: 28 };
function signalNumber(sig: string): number { return SIGNUMS[sig] ?? 0; }

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
export { shortId };
