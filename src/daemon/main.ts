import os from 'node:os';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApiServer } from '../api/server.js';
import { Router } from '../api/router.js';
import { registerContainerRoutes } from '../api/routes/containers.js';
import { registerImageRoutes } from '../api/routes/images.js';
import { registerSystemRoutes, VERSION } from '../api/routes/system.js';
import { registerSwarmRoutes } from '../api/routes/swarm.js';
import { registerSwarmLogRoutes } from '../api/routes/swarm-logs.js';
import { Swarm } from '../swarm/swarm.js';
import { registerVolumeRoutes } from '../api/routes/volumes.js';
import { volumeUsers } from '../engine/containers/mounts.js';
import { VolumeStore } from '../engine/volumes/volume-store.js';
import { ExecManager } from '../engine/containers/exec.js';
import { ContainerManager } from '../engine/containers/manager.js';
import { Runtime } from '../engine/containers/runtime.js';
import { EventBus } from '../engine/events.js';
import { ImageStore } from '../engine/images/image-store.js';
import { NetworkManager } from '../engine/networks/network-manager.js';
import { Sandboxes } from '../engine/networks/sandbox.js';
import { tunnelIfname, WireguardTunnel } from '../engine/networks/wireguard.js';
import { registerNetworkRoutes } from '../api/routes/networks.js';
import { newId } from '../util/ids.js';
import { parseDaemonArgs } from './config.js';
import { createLogger } from './logger.js';
import { INSECURE_TCP_WARNINGS, loadApiTls, type ApiTls } from './tls.js';

export async function main(argv: string[]): Promise<void> {
  let cfg;
  let apiTls: ApiTls | undefined;
  try {
    cfg = parseDaemonArgs(argv);
    // before anything is created: a bad certificate stops the daemon here, as it does dockerd
    apiTls = await loadApiTls(cfg);
  } catch (e) {
    process.stderr.write(`shoald: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger(cfg.logLevel);
  process.on('uncaughtException', (err) => { log.error({ err }, 'uncaught exception'); });
  process.on('unhandledRejection', (err) => { log.error({ err }, 'unhandled rejection'); });

  await fs.mkdir(cfg.dataRoot, { recursive: true, mode: 0o710 });
  await fs.mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  await claimPidfile(cfg.pidfile);

  const events = new EventBus();
  const images = new ImageStore({ root: path.join(cfg.dataRoot, 'image'), log, events });
  await images.init();
  const sandboxes = new Sandboxes(path.join(cfg.execRoot, 'netns'));
  await sandboxes.init();
  const tunnel = new WireguardTunnel({ stateDir: path.join(cfg.execRoot, 'wireguard'), ifname: tunnelIfname(cfg.execRoot), log });
  const networks = new NetworkManager({ dataRoot: cfg.dataRoot, log, events, bip: cfg.bip, pools: cfg.defaultAddressPools, dns: cfg.dns, mtu: cfg.mtu, tunnel });
  await networks.loadHostResolvers();
  await networks.init();
  const volumes = new VolumeStore({ root: path.join(cfg.dataRoot, 'volumes'), events, log });
  await volumes.init();
  const runtime = new Runtime({
    runc: await findBinary(cfg.runc), conmon: await findBinary(cfg.conmon), runcRoot: path.join(cfg.execRoot, 'runc'),
    socketDir: path.join(cfg.execRoot, 's'), logLevel: cfg.debug ? 'debug' : 'error',
  });
  const mgr = new ContainerManager({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, cgroupParent: cfg.cgroupParent, runtime, images, sandboxes, networks, events, log, volumes });
  volumes.usersOf = (name) => volumeUsers(mgr.store.all(), name);
  volumes.runningUsersOf = (name) => volumeUsers(mgr.store.all().filter((c) => c.State.Running), name);
  networks.containers = () => mgr.store.all();
  await mgr.init();
  await networks.restore();
  const execs = new ExecManager(mgr);

  const router = new Router();
  const swarm = new Swarm({ dataRoot: cfg.dataRoot, log, engineVersion: VERSION, loadBackend: async () => new (await import('../swarm/backend-impl.js')).SwarmBackendImpl(log, cfg.execRoot),
    // the agent runs its tasks as ordinary containers of this engine
    taskEngine: {
      taskContainers: () => mgr.store.all().filter((c) => c.Config.Labels?.['com.docker.swarm.task.id']).map((c) => ({
        id: c.Id, taskId: c.Config.Labels['com.docker.swarm.task.id'], running: c.State.Running, status: c.State.Status,
        exitCode: c.State.ExitCode, pid: c.State.Pid, error: c.State.Error, health: c.State.Health?.Status,
      })),
      hostname: () => os.hostname(),
      hasImage: (ref) => !!images.tryResolve(ref),
      syncNetworks: (views, addr, tunnel) => networks.syncSwarmNetworks(views, addr, tunnel),
      attachments: () => networks.swarmAttachments(),
      gatewayBridge: async () => { await networks.ensureGatewayBridge(); },
      create: async (body, name) => (await mgr.create(body, name)).Id,
      start: (id) => mgr.start(id),
      stop: async (id, t) => { await mgr.stop(id, t); },
      remove: (id) => mgr.remove(id, { force: true }),
    },
    taskLogs: {
      container: (taskId) => {
        const c = mgr.store.all().find((x) => x.Config.Labels?.['com.docker.swarm.task.id'] === taskId);
        return c && { logPath: c.LogPath, running: c.State.Running || c.State.Restarting, exited: () => mgr.wait(c.Id, 'next-exit') };
      },
    },
  });
  // standalone containers on attachable overlays get their addresses from the swarm's managers
  networks.swarm = swarm.attacher;
  registerSwarmRoutes(router, swarm);
  registerSwarmLogRoutes(router, swarm);
  registerSystemRoutes(router, { mgr, events, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, startedAt: new Date(), name: '', engineId: await engineId(cfg.dataRoot), debug: cfg.debug, volumes, swarmInfo: () => swarm.info() });
  registerImageRoutes(router, { images, usedBy: (id) => mgr.usedBy(id), containerCount: (id) => mgr.usedBy(id).length });
  registerContainerRoutes(router, mgr, execs);
  registerVolumeRoutes(router, volumes);
  registerNetworkRoutes(router, networks, mgr, swarm);

  const server = new ApiServer(router, log);
  for (const h of cfg.hosts) {
    if (h.startsWith('tcp://') && !apiTls?.verifyClients) for (const w of INSECURE_TCP_WARNINGS) log.warn({ host: h }, w);
    try { await server.listen(h, apiTls); } catch (e) {
      // e.g. the address is in use: a clear reason on stderr, not a crash trace
      process.stderr.write(`shoald: failed to load listeners: listen ${h}: ${(e as Error).message}\n`);
      log.error({ err: e, host: h }, 'failed to load listeners');
      await fs.rm(cfg.pidfile, { force: true });
      process.exit(1);
    }
  }
  log.info({ hosts: cfg.hosts, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot }, 'shoald started');
  // A node that was in a swarm rejoins it (starts its etcd member, heartbeats) in the background.
  void swarm.restore();

  // Containers keep running across a daemon stop: conmon holds them (live restore).
  const stop = async (sig: string) => {
    log.info({ signal: sig }, 'shutting down');
    mgr.shutdown();
    networks.shutdown();
    await swarm.shutdown().catch(() => undefined);
    // Streams (logs -f, events) would hold close() forever; they are cut after a short grace.
    await Promise.race([server.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    await fs.rm(cfg.pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** conmon needs the runtime's absolute path; fail early with a clear message when missing. */
async function findBinary(name: string): Promise<string> {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, name);
    if (await fs.access(p, 1).then(() => true, () => false)) return p;
  }
  throw new Error(`${name} not found in PATH: install it (bash scripts/setup.sh)`);
}

async function claimPidfile(file: string): Promise<void> {
  const old = Number(await fs.readFile(file, 'utf8').catch(() => '0'));
  if (old && old !== process.pid) {
    const alive = await fs.stat(`/proc/${old}`).then(() => true, () => false);
    const comm = alive ? await fs.readFile(`/proc/${old}/cmdline`, 'utf8').catch(() => '') : '';
    if (alive && comm.includes('shoald')) {
      process.stderr.write(`shoald: pid file found, ensure shoald is not running or delete ${file}\n`);
      process.exit(1);
    }
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, String(process.pid));
}

async function engineId(dataRoot: string): Promise<string> {
  const f = path.join(dataRoot, 'engine-id');
  const have = (await fs.readFile(f, 'utf8').catch(() => '')).trim();
  if (have) return have;
  const id = newId().slice(0, 32).toUpperCase().match(/.{4}/g)!.join(':');
  await fs.writeFile(f, id);
  return id;
}
