import type { Logger } from '../../daemon/logger.js';
import { stateRank, TERMINAL } from '../manager/planner.js';

// The agent's side of tasks: given this node's assignments, make the engine match them (create
// and start the task's container, stop and remove it when the manager wants it gone) and report
// what each task really is. Containers are named and labelled like Docker's task containers.

export interface Assignment {
  ID: string;
  ServiceID: string;
  ServiceName: string;
  Slot?: number;
  NodeID: string;
  DesiredState: string;
  Spec: any;
  State: string;
  /** addresses on overlay networks, allocated by the manager (Docker's NetworksAttachments) */
  Networks?: { Network: { ID: string; Spec: { Name: string } }; Addresses: string[] }[];
  /** the service's ports published in host mode */
  HostPorts?: { Protocol?: string; TargetPort: number; PublishedPort?: number }[];
}

export interface TaskStatusReport { taskId: string; state: string; message: string; err?: string; containerId?: string; pid?: number; exitCode?: number }

export interface TaskEngine {
  /** containers carrying com.docker.swarm.task.id, with their state */
  taskContainers(): { id: string; taskId: string; running: boolean; status: string; exitCode: number; pid: number; error: string; health?: string }[];
  /** this node's hostname, for `{{.Node.Hostname}}` templates */
  hostname(): string;
  hasImage(ref: string): boolean;
  /**
   * makes this node carry exactly these overlay networks (peers, names, VIPs); `localAddr` is its VTEP;
   * `tunnel`: the WireGuard tunnel under its encrypted networks (none: no encrypted network here)
   */
  syncNetworks?(networks: import('../manager/net-allocator.js').OverlayView[], localAddr: string, tunnel?: import('../../engine/networks/wireguard.js').TunnelConfig): Promise<void>;
  /** the network attachments this node's standalone containers hold (reported with each assignments request) */
  attachments?(): { networkId: string; containerId: string }[];
  /** docker_gwbridge, made on init/join when missing (it stays after leave, as with Docker) */
  gatewayBridge?(): Promise<void>;
  create(body: any, name: string): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, timeoutS: number): Promise<void>;
  remove(id: string): Promise<void>;
}


export class TaskExecutor {
  private busy = new Set<string>();

  private last: Assignment[] = [];

  /** `settled`: a background stop or removal finished (worth reporting now) */
  constructor(private engine: TaskEngine, private log: Logger, private settled: () => void = () => undefined) {}

  /** Tasks on their way somewhere: starting, or stopping. */
  inTransition(): boolean {
    return this.busy.size > 0 || this.last.some((a) => (a.DesiredState === 'running' ? a.State !== 'running' && !TERMINAL.has(a.State) : !TERMINAL.has(a.State)));
  }

  containerName(a: Assignment): string {
    return `${a.ServiceName}.${a.Slot ?? a.NodeID}.${a.ID}`;
  }

  /** One pass: act on every assignment (long stops run in the background) and report. */
  async reconcile(assignments: Assignment[]): Promise<TaskStatusReport[]> {
    const reports: TaskStatusReport[] = [];
    this.last = assignments;
    const byTask = new Map(this.engine.taskContainers().map((c) => [c.taskId, c]));
    const wanted = new Set(assignments.map((a) => a.ID));
    for (const a of assignments) {
      if (this.busy.has(a.ID)) continue;
      const c = byTask.get(a.ID);
      const wantRunning = a.DesiredState === 'running' || a.DesiredState === 'ready';
      if (wantRunning) {
        if (c) {
          if (c.running && c.health === 'unhealthy') {
            // like Docker: an unhealthy task container is stopped and the task fails (the orchestrator replaces it)
            this.busy.add(a.ID);
            void this.engine.stop(c.id, 0).catch(() => undefined).finally(() => this.busy.delete(a.ID));
            reports.push({ taskId: a.ID, state: 'failed', message: 'started', err: 'task: non-zero exit (137): dockerexec: unhealthy container', containerId: c.id, exitCode: 137 });
            continue;
          }
          // with a healthcheck a task counts as running only once healthy
          if (c.running && c.health === 'starting') { if (stateRank(a.State) < stateRank('starting')) reports.push({ taskId: a.ID, state: 'starting', message: 'starting', containerId: c.id, pid: c.pid }); continue; }
          if (c.running) { if (a.State !== 'running') reports.push({ taskId: a.ID, state: 'running', message: 'started', containerId: c.id, pid: c.pid }); continue; }
          if (c.status === 'created') continue;
          if (TERMINAL.has(a.State)) continue;
          reports.push(c.exitCode === 0
            ? { taskId: a.ID, state: 'complete', message: 'finished', containerId: c.id, exitCode: 0 }
            : { taskId: a.ID, state: 'failed', message: 'started', err: c.error || `task: non-zero exit (${c.exitCode})`, containerId: c.id, exitCode: c.exitCode });
          continue;
        }
        if (TERMINAL.has(a.State)) continue;
        reports.push(await this.startTask(a));
      } else if (c?.running || (c && a.DesiredState === 'remove')) {
        // stopped, not removed: like Docker, an old task's container stays until the task is trimmed;
        // a task of a removed service (desired `remove`) loses its container right after the stop
        this.busy.add(a.ID);
        const grace = Math.round((a.Spec?.ContainerSpec?.StopGracePeriod ?? 10e9) / 1e9);
        void (async () => {
          if (c.running) await this.engine.stop(c.id, grace).catch((err) => this.log.warn({ task: a.ID, err: (err as Error).message }, 'task container stop failed'));
          if (a.DesiredState === 'remove') await this.engine.remove(c.id).catch((err) => this.log.warn({ task: a.ID, err: (err as Error).message }, 'task container removal failed'));
        })().finally(() => { this.busy.delete(a.ID); this.settled(); });
        // reported as shut down once the container has really stopped (next pass): stop-first and
        // the next update batch wait for that
      } else if (!TERMINAL.has(a.State)) {
        reports.push({ taskId: a.ID, state: 'shutdown', message: 'shutdown' });
      }
    }
    // containers of tasks the manager forgot (service removed, history trimmed)
    for (const c of byTask.values()) {
      if (wanted.has(c.taskId) || this.busy.has(c.taskId)) continue;
      this.busy.add(c.taskId);
      void (async () => {
        if (c.running) await this.engine.stop(c.id, 10).catch(() => undefined);
        await this.engine.remove(c.id).catch(() => undefined);
      })().finally(() => this.busy.delete(c.taskId));
    }
    return reports;
  }

  /** Docker's service templates: {{.Service.Name}}, {{.Task.Slot}}, {{.Node.Hostname}}... */
  expand(v: string, a: Assignment, taskName: string): string {
    const vals: Record<string, string> = {
      'Service.ID': a.ServiceID, 'Service.Name': a.ServiceName, 'Node.ID': a.NodeID, 'Node.Hostname': this.engine.hostname(),
      'Node.Platform.OS': 'linux', 'Node.Platform.Architecture': process.arch === 'x64' ? 'x86_64' : process.arch,
      'Task.ID': a.ID, 'Task.Name': taskName, 'Task.Slot': String(a.Slot ?? a.NodeID),
    };
    return v.replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (m, k: string) => vals[k] ?? m);
  }

  private async startTask(a: Assignment): Promise<TaskStatusReport> {
    const cs = a.Spec?.ContainerSpec ?? {};
    const image = String(cs.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '');
    if (!this.engine.hasImage(image)) return { taskId: a.ID, state: 'rejected', message: 'preparing', err: `No such image: ${image}` };
    const name = this.containerName(a);
    const labels = {
      ...(cs.Labels ?? {}), 'com.docker.swarm.node.id': a.NodeID, 'com.docker.swarm.service.id': a.ServiceID,
      'com.docker.swarm.service.name': a.ServiceName, 'com.docker.swarm.task': '', 'com.docker.swarm.task.id': a.ID, 'com.docker.swarm.task.name': name,
    };
    const tpl = (v: string | undefined) => (v ? this.expand(v, a, name) : v);
    const limits = a.Spec?.Resources?.Limits ?? {};
    const body = {
      Image: image, Cmd: cs.Args?.length ? cs.Args : undefined, Entrypoint: cs.Command?.length ? cs.Command : undefined,
      Env: (cs.Env ?? []).map((e: string) => tpl(e)), WorkingDir: cs.Dir ?? '', User: cs.User ?? '', Hostname: tpl(cs.Hostname) ?? '', Labels: labels,
      StopSignal: cs.StopSignal, StopTimeout: cs.StopGracePeriod !== undefined ? Math.round(cs.StopGracePeriod / 1e9) : undefined, Healthcheck: cs.Healthcheck,
      HostConfig: {
        ReadonlyRootfs: !!cs.ReadOnly, Init: cs.Init ?? undefined,
        Mounts: (cs.Mounts ?? []).map((m: any) => ({ ...m, ...(m.Source ? { Source: tpl(m.Source) } : {}) })),
        NanoCpus: limits.NanoCPUs || undefined, Memory: limits.MemoryBytes || undefined, PidsLimit: limits.Pids || undefined,
        MemoryReservation: a.Spec?.Resources?.Reservations?.MemoryBytes || undefined,
        Dns: cs.DNSConfig?.Nameservers, DnsSearch: cs.DNSConfig?.Search, DnsOptions: cs.DNSConfig?.Options, ExtraHosts: cs.Hosts,
        // host-mode published ports: only where a task runs, through the engine's own port publishing
        ...(a.HostPorts?.length ? { PortBindings: Object.fromEntries(a.HostPorts.map((p) => [`${p.TargetPort}/${p.Protocol ?? 'tcp'}`, [{ HostIp: '', HostPort: p.PublishedPort ? String(p.PublishedPort) : '' }]])) } : {}),
      },
      ...(a.HostPorts?.length ? { ExposedPorts: Object.fromEntries(a.HostPorts.map((p) => [`${p.TargetPort}/${p.Protocol ?? 'tcp'}`, {}])) } : {}),
      // the overlays with the addresses the manager gave (the engine adds docker_gwbridge for the way out)
      ...(a.Networks?.length ? { NetworkingConfig: { EndpointsConfig: Object.fromEntries(a.Networks.map((n) => [n.Network.ID, {
        IPAMConfig: { IPv4Address: n.Addresses[0].split('/')[0] },
        // the service name is the VIP's (or, dnsrr, every task's) name: served from the swarm's records
        Aliases: (a.Spec?.Networks ?? []).find((x: any) => x.Target === n.Network.ID)?.Aliases ?? [],
      }])) } } : {}),
    };
    try {
      const id = await this.engine.create(body, name);
      await this.engine.start(id);
      const health = this.engine.taskContainers().find((c) => c.id === id)?.health;
      return { taskId: a.ID, state: health === 'starting' ? 'starting' : 'running', message: health === 'starting' ? 'starting' : 'started', containerId: id };
    } catch (err) {
      return { taskId: a.ID, state: 'rejected', message: 'starting', err: `starting container failed: ${(err as Error).message}` };
    }
  }
}
