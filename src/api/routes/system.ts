import os from 'node:os';
import { promises as fs, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Router } from '../router.js';
import { API_VERSION, MIN_API_VERSION } from '../router.js';
import type { ContainerManager } from '../../engine/containers/manager.js';
import type { EngineEvent, EventBus } from '../../engine/events.js';
import { parseFilterParam, containerSummary } from '../../engine/containers/summary.js';
import { parseTimeNs } from './containers.js';
import { commonHeaders } from '../server.js';
import type { VolumeStore } from '../../engine/volumes/volume-store.js';

export const VERSION = '0.1.0';
/** When this build was made (the compiled module's mtime), RFC 3339 like dockerd's. */
const BUILD_TIME = (() => {
  try { return statSync(fileURLToPath(import.meta.url)).mtime.toISOString().replace(/\.\d+Z$/, '.000000000+00:00'); } catch { return ''; }
})();

export interface SystemDeps {
  mgr: ContainerManager;
  events: EventBus;
  dataRoot: string;
  execRoot: string;
  startedAt: Date;
  name: string;
  engineId: string;
  debug: boolean;
  volumes?: VolumeStore;
  /** the Swarm part of /info */
  swarmInfo?: () => Promise<unknown>;
}

export function matchEvent(ev: EngineEvent, f: Record<string, string[]>): boolean {
  const attr = ev.Actor.Attributes;
  const checks: [string, (v: string) => boolean][] = [
    ['type', (v) => ev.Type === v],
    ['event', (v) => ev.Action === v || ev.Action.startsWith(v + ':')],
    ['container', (v) => ev.Type === 'container' && (ev.Actor.ID.startsWith(v) || attr.name === v)],
    ['image', (v) => attr.image === v || (ev.Type === 'image' && (ev.Actor.ID === v || attr.name === v))],
    ['label', (v) => { const [k, val] = v.split(/=(.*)/s); return attr[k] !== undefined && (val === undefined || attr[k] === val); }],
    ['scope', (v) => ev.scope === v],
  ];
  for (const [key, test] of checks) {
    const vals = f[key];
    if (vals?.length && !vals.some(test)) return false;
  }
  return true;
}

export function registerSystemRoutes(r: Router, d: SystemDeps): void {
  const ping = () => 'OK';
  r.get('/_ping', (ctx) => { ctx.res?.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate'); ctx.res?.setHeader('Builder-Version', '1'); return ping(); });
  r.head('/_ping', (ctx) => { ctx.res?.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate'); return 'OK'; });

  r.get('/version', () => {
    const common = { GitCommit: 'shoal', GoVersion: `node${process.versions.node}`, KernelVersion: os.release(), Os: 'linux', Arch: goArch() };
    return {
      Platform: { Name: 'shoal' },
      // dockerd's Engine component carries every line `docker version` prints for it (strings only)
      Components: [{ Name: 'Engine', Version: VERSION, Details: {
        ApiVersion: API_VERSION, Arch: common.Arch, BuildTime: BUILD_TIME, Experimental: 'false', GitCommit: common.GitCommit,
        GoVersion: common.GoVersion, KernelVersion: common.KernelVersion, MinAPIVersion: MIN_API_VERSION, Os: common.Os,
      } }],
      Version: VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: common.GitCommit, GoVersion: common.GoVersion,
      Os: common.Os, Arch: common.Arch, KernelVersion: common.KernelVersion, BuildTime: BUILD_TIME,
    };
  });

  r.get('/info', async () => {
    const all = d.mgr.store.all();
    const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = all.filter((c) => c.State.Paused).length;
    const hostname = (await fs.readFile('/proc/sys/kernel/hostname', 'utf8').catch(() => os.hostname())).trim();
    return {
      ID: d.engineId, Containers: all.length, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: all.length - running - paused,
      Images: d.mgr.images.list().length, Driver: 'overlay2', DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'macvlan', 'null'], Authorization: null, Log: ['k8s-file'] },
      MemoryLimit: true, SwapLimit: true, KernelMemory: false, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true,
      PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false, Debug: d.debug, NFd: 0, OomKillDisable: true,
      NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'k8s-file', CgroupDriver: 'cgroupfs', CgroupVersion: '1',
      NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: await osName(), OSVersion: '', OSType: 'linux', Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/', RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
      NCPU: os.cpus().length, MemTotal: os.totalmem(), GenericResources: null, DockerRootDir: d.dataRoot, HttpProxy: '', HttpsProxy: '', NoProxy: '',
      Name: hostname, Labels: [], ExperimentalBuild: false, ServerVersion: VERSION, Runtimes: { runc: { path: 'runc' } }, DefaultRuntime: 'runc',
      Swarm: d.swarmInfo ? await d.swarmInfo() : { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true, Isolation: '', InitBinary: '', ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: '', Expected: '' }, InitCommit: { ID: '', Expected: '' }, SecurityOptions: ['name=seccomp,profile=unconfined'], Warnings: [],
    };
  });

  r.get('/events', async (ctx) => {
    const q = ctx.query;
    const filters = parseFilterParam(q.get('filters'));
    const since = parseTimeNs(q.get('since'));
    const until = parseTimeNs(q.get('until'));
    const res = ctx.res!;
    ctx.handled = true;
    res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
    res.flushHeaders();
    const send = (ev: EngineEvent) => {
      if (until !== undefined && BigInt(ev.timeNano) > until) return;
      if (matchEvent(ev, filters)) res.write(JSON.stringify(ev) + '\n');
    };
    if (since !== undefined) for (const ev of d.events.since(Number(since))) send(ev);
    if (until !== undefined && until <= BigInt(Date.now()) * 1_000_000n) { res.end(); return; }
    const unsub = d.events.subscribe(send);
    let timer: NodeJS.Timeout | undefined;
    if (until !== undefined) timer = setTimeout(() => res.end(), Number(until / 1_000_000n) - Date.now());
    await new Promise<void>((resolve) => { res.on('close', resolve); res.on('finish', resolve); });
    unsub();
    if (timer) clearTimeout(timer);
  });

  r.get('/system/df', async () => {
    const containers = await Promise.all(d.mgr.store.all().map((c) => containerSummary(d.mgr, c, true)));
    const usage = await d.mgr.images.diskUsage((id: string) => d.mgr.usedBy(id).length);
    return { ...usage, Containers: containers, Volumes: (await d.volumes?.diskUsage()) ?? [], BuildCache: [] };
  });
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', ia32: '386' } as Record<string, string>)[process.arch] ?? process.arch;
}

async function osName(): Promise<string> {
  const txt = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(txt)?.[1] ?? 'Linux';
}
