import { BadRequest, Conflict } from '../../api/errors.js';
import type { SwarmStore } from '../backend.js';
import type { Assignment, TaskStatusReport } from '../agent/executor.js';
import { findByRef } from './find-ref.js';
import { allocate, overlayViews, type OverlayView } from './net-allocator.js';
import { listNetworks, NET, readIpam } from './networks.js';
import type { AttachmentObject } from './attachments.js';
import { KEY, newSwarmId, type NodeObject } from './objects.js';
import { readTunnels, recordTunnelKey, tunnelAddrs, tunnelReply, type TunnelReply, type TunnelReport } from './tunnels.js';
import { canonical, plan, stateRank, type PlanService, type PlanTask, type UpdateStatus } from './planner.js';

// Services and tasks in the store: the control API (specs in, validated, written once), the
// dispatcher's view (a node's assignments, task status reports) and the leader's reconcile pass
// that applies the planner's output.

export const SVC = { service: (id: string) => `/shoal/services/${id}`, services: '/shoal/services/', task: (id: string) => `/shoal/tasks/${id}`, tasks: '/shoal/tasks/' };

export interface ServiceObject { ID: string; Version: { Index: number }; CreatedAt: string; UpdatedAt: string; Spec: any; PreviousSpec?: any; Endpoint: { Spec: any }; UpdateStatus?: UpdateStatus }

function validateSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') throw new BadRequest('service spec must be provided');
  if (!spec.TaskTemplate?.ContainerSpec?.Image) throw new BadRequest('ContainerSpec: image reference must be provided');
  if (spec.Name && !/^[a-zA-Z0-9](?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/.test(spec.Name)) throw new BadRequest(`rpc error: code = InvalidArgument desc = name must be valid as a DNS name component`);
  const modes = ['Replicated', 'Global', 'ReplicatedJob', 'GlobalJob'].filter((m) => spec.Mode?.[m]);
  if (modes.length > 1) throw new BadRequest('rpc error: code = InvalidArgument desc = only one service mode may be set');
  const r = spec.Mode?.Replicated?.Replicas ?? spec.Mode?.ReplicatedJob?.TotalCompletions;
  if (r !== undefined && (!Number.isInteger(r) || r < 0)) throw new BadRequest('invalid replicas value');
  const cond = spec.TaskTemplate?.RestartPolicy?.Condition;
  if ((spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob) && cond === 'any') throw new BadRequest('rpc error: code = InvalidArgument desc = jobs may not have restart condition "any"');
  if (cond && !['none', 'on-failure', 'any'].includes(cond)) throw new BadRequest(`rpc error: code = InvalidArgument desc = invalid restart condition: ${cond}`);
  validateEndpointSpec(spec.EndpointSpec);
}

const invalid = (desc: string) => new BadRequest(`rpc error: code = InvalidArgument desc = ${desc}`);
const publishMode = (p: any): string => p?.PublishMode || 'ingress';
const portKey = (p: any): string => `${Number(p?.PublishedPort ?? 0)}/${p?.Protocol || 'tcp'}`;

/** swarmkit's checks of one EndpointSpec: the mode, dnsrr without the mesh, no port published twice. */
function validateEndpointSpec(ep: any): void {
  if (!ep) return;
  const mode = ep.Mode || 'vip';
  if (mode !== 'vip' && mode !== 'dnsrr') throw new BadRequest(`invalid resolution mode: "${ep.Mode}"`);
  const seen = new Set<string>();
  for (const p of Array.isArray(ep.Ports) ? ep.Ports : []) {
    // the mesh balances over a VIP; dnsrr has none (host mode is fine: no mesh)
    if (mode === 'dnsrr' && publishMode(p) === 'ingress') throw invalid("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
    if (!Number(p?.PublishedPort)) continue;
    if (seen.has(portKey(p))) throw invalid('EndpointSpec: duplicate published ports provided');
    seen.add(portKey(p));
  }
}

/**
 * A published port another service holds (swarmkit's checkPortConflicts): an ingress port is the
 * whole swarm's, so it conflicts with any other use; host-mode ports only with ingress ones (two
 * host-mode services on one port are left to the scheduler's host-port filter).
 */
export function checkPortConflicts(spec: any, others: ServiceObject[], selfId = ''): void {
  const want = new Map<string, string>();
  for (const p of spec?.EndpointSpec?.Ports ?? []) if (Number(p?.PublishedPort)) want.set(portKey(p), publishMode(p));
  if (!want.size) return;
  for (const o of others) {
    if (o.ID === selfId) continue;
    for (const p of o.Spec.EndpointSpec?.Ports ?? []) {
      const mine = want.get(portKey(p));
      if (!mine || !Number(p?.PublishedPort)) continue;
      const theirs = publishMode(p);
      if (theirs === 'ingress') throw invalid(`port '${p.PublishedPort}' is already in use by service '${o.Spec.Name}' (${o.ID}) as an ingress port`);
      if (mine === 'ingress') throw invalid(`port '${p.PublishedPort}' is already in use by service '${o.Spec.Name}' (${o.ID}) as a host-published port`);
    }
  }
}

export async function createService(store: SwarmStore, spec: any): Promise<{ ID: string; Warnings: string[] | null }> {
  validateSpec(spec);
  const all = await store.list<ServiceObject>(SVC.services);
  const id = newSwarmId();
  spec = { ...spec, Name: spec.Name || id.slice(0, 12), Mode: spec.Mode ?? { Replicated: { Replicas: 1 } } };
  if (spec.Mode.Replicated && spec.Mode.Replicated.Replicas === undefined) spec.Mode.Replicated.Replicas = 1;
  if (all.some((s) => s.Spec.Name === spec.Name)) throw new Conflict(`rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${spec.Name} already exists`);
  checkPortConflicts(spec, all);
  const now = new Date().toISOString();
  await store.put(SVC.service(id), { ID: id, Version: { Index: 0 }, CreatedAt: now, UpdatedAt: now, Spec: spec, Endpoint: { Spec: { Mode: 'vip' } } });
  return { ID: id, Warnings: null };
}

export async function listServices(store: SwarmStore): Promise<ServiceObject[]> {
  return (await store.listWithVersion<ServiceObject>(SVC.services)).map((x) => ({ ...x.value, Version: { Index: x.version } }));
}

export async function findService(store: SwarmStore, ref: string): Promise<ServiceObject> {
  return findByRef(await listServices(store), ref, 'service', (x) => x.Spec.Name);
}

export async function updateService(store: SwarmStore, ref: string, version: number, spec: any, rollback = false): Promise<{ Warnings: string[] | null }> {
  const all = await listServices(store);
  const s = findByRef(all, ref, 'service', (x) => x.Spec.Name);
  // `service rollback`: the previous spec comes back (and the current one becomes the previous)
  if (rollback) {
    const prev = (s as ServiceObject & { PreviousSpec?: any }).PreviousSpec;
    if (!prev) throw new BadRequest(`rpc error: code = FailedPrecondition desc = service ${s.ID} does not have a previous spec`);
    spec = prev;
  }
  validateSpec(spec);
  if (spec.Name && spec.Name !== s.Spec.Name) throw new BadRequest('rpc error: code = Unimplemented desc = renaming services is not supported');
  checkPortConflicts(spec, all, s.ID);
  const now = new Date().toISOString();
  await store.update<ServiceObject>(SVC.service(s.ID), (cur) => {
    const next = { ...spec, Name: cur.Spec.Name };
    // like swarmkit: a new spec resets UpdateStatus; a changed task template starts an update at once
    // (so a client polling right after sees it), a rollback says so
    const changed = canonical(next.TaskTemplate ?? {}) !== canonical(cur.Spec.TaskTemplate ?? {});
    const status: UpdateStatus | undefined = rollback ? { State: 'rollback_started', StartedAt: now, Message: 'manually requested rollback' }
      : changed ? { State: 'updating', StartedAt: now, Message: 'update in progress' } : undefined;
    return { ...cur, UpdatedAt: now, Spec: next, PreviousSpec: cur.Spec, UpdateStatus: status } as ServiceObject;
  }, version);
  return { Warnings: null };
}

export async function removeService(store: SwarmStore, ref: string): Promise<void> {
  const s = await findService(store, ref);
  await store.delete(SVC.service(s.ID));
}

export async function listTasks(store: SwarmStore): Promise<(PlanTask & { Version: { Index: number } })[]> {
  return (await store.listWithVersion<PlanTask>(SVC.tasks)).map((x) => ({ ...x.value, Version: { Index: x.version } }));
}

/** A task in Docker's API shape. */
export function taskView(t: PlanTask & { Version?: { Index: number }; UpdatedAt?: string; ContainerStatus?: any }): any {
  return {
    ID: t.ID, Version: t.Version ?? { Index: 0 }, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt ?? t.Status.Timestamp, Labels: {}, Spec: t.Spec,
    ServiceID: t.ServiceID, ...(t.Slot ? { Slot: t.Slot } : {}), NodeID: t.NodeID ?? '',
    Status: { Timestamp: t.Status.Timestamp, State: t.Status.State, Message: t.Status.Message ?? '', ...(t.Status.Err ? { Err: t.Status.Err } : {}), ContainerStatus: t.ContainerStatus ?? {}, PortStatus: {} },
    DesiredState: t.DesiredState,
  };
}

/** Dispatcher: a node's reports are applied (a state never goes backwards), its assignments returned. */
export async function exchangeAssignments(store: SwarmStore, nodeId: string, reports: TaskStatusReport[], tunnelReport?: TunnelReport): Promise<{ tasks: Assignment[]; networks: OverlayView[]; tunnel: TunnelReply }> {
  for (const r of reports ?? []) {
    await store.update<any>(SVC.task(r.taskId), (t) => {
      if (t.NodeID !== nodeId || stateRank(r.state) < stateRank(t.Status.State)) return t;
      return {
        ...t, UpdatedAt: new Date().toISOString(), ...(r.state === 'running' && !t.RunningAt ? { RunningAt: new Date().toISOString() } : {}),
        Status: { State: r.state, Message: r.message, ...(r.err ? { Err: r.err } : {}), Timestamp: new Date().toISOString() },
        ContainerStatus: { ContainerID: r.containerId ?? t.ContainerStatus?.ContainerID, PID: r.pid ?? 0, ExitCode: r.exitCode ?? 0 },
      };
    }).catch(() => undefined);
  }
  const [tasks, services] = await Promise.all([listTasks(store), listServices(store)]);
  const names = new Map(services.map((s) => [s.ID, s.Spec.Name]));
  const mine = tasks.filter((t) => t.NodeID === nodeId).map((t) => ({
    ID: t.ID, ServiceID: t.ServiceID, ServiceName: names.get(t.ServiceID) ?? t.ServiceAnnotations?.Name ?? t.ServiceID, Slot: t.Slot,
    NodeID: nodeId, DesiredState: t.DesiredState, Spec: t.Spec, State: t.Status.State, Networks: (t as any).NetworksAttachments as Assignment['Networks'],
    HostPorts: (services.find((s) => s.ID === t.ServiceID)?.Spec.EndpointSpec?.Ports ?? []).filter((p: any) => p.PublishMode === 'host'),
  }));
  // the overlay networks this node's tasks and containers are on: who else is on them, and their names;
  // its WireGuard key is recorded, and with an encrypted network it gets its tunnel peers
  const tunnels = await recordTunnelKey(store, nodeId, tunnelReport).catch(() => readTunnels(store));
  const all = await listNetworks(store);
  const nodes = all.length ? await store.list<NodeObject>(KEY.nodes) : [];
  const networks: OverlayView[] = all.length
    ? overlayViews(nodeId, tasks as any, services as any, all, nodes, await readIpam(store), await store.list<AttachmentObject>(NET.attachments), tunnelAddrs(tunnels)) : [];
  return { tasks: mine, networks, tunnel: tunnelReply(nodeId, tunnels, networks, nodes) };
}

/** Leader: one orchestration + scheduling pass over the store. */
export async function reconcile(store: SwarmStore, historyLimit: number, pools: { pool?: string[]; size?: number } = {}): Promise<void> {
  const [services, tasks, nodes] = await Promise.all([listServices(store), listTasks(store), store.list<NodeObject>(KEY.nodes)]);
  const p = plan(services as PlanService[], tasks, nodes as any, { now: Date.now(), newId: newSwarmId, historyLimit });
  // addresses on overlay networks before any node sees a task; VIPs for services
  // a failed allocation fails the pass (the leader logs it and tries again): no task is written without its addresses
  const alloc = await allocate(store, services as PlanService[], p.create, p.remove, pools, (nodes as NodeObject[]).filter((n) => n.Status.State === 'ready'));
  for (const id of new Set([...alloc.vips.keys(), ...alloc.ports.keys()])) {
    await store.update<ServiceObject>(SVC.service(id), (cur) => ({ ...cur, Endpoint: {
      ...cur.Endpoint, Spec: cur.Spec.EndpointSpec ?? cur.Endpoint?.Spec ?? { Mode: 'vip' },
      ...(alloc.ports.has(id) ? { Ports: alloc.ports.get(id) } : {}), ...(alloc.vips.has(id) ? { VirtualIPs: alloc.vips.get(id) } : {}),
    } })).catch(() => undefined);
  }
  for (const t of p.create) await store.put(SVC.task(t.ID), { ...t, UpdatedAt: t.CreatedAt, ...(alloc.tasks.has(t.ID) ? { NetworksAttachments: alloc.tasks.get(t.ID) } : {}) });
  for (const u of p.update) {
    await store.update<any>(SVC.task(u.id), (t) => {
      const next = { ...t, ...u.patch, UpdatedAt: new Date().toISOString() };
      // desired state only moves forward
      if (u.patch.DesiredState && stateRank(u.patch.DesiredState) < stateRank(t.DesiredState)) next.DesiredState = t.DesiredState;
      return next;
    }).catch(() => undefined);
  }
  for (const id of p.remove) await store.delete(SVC.task(id)).catch(() => undefined);
  // service changes only land on the version planned from (a user's update in between wins)
  const version = new Map(services.map((s) => [s.ID, s.Version.Index]));
  for (const u of p.services) {
    await store.update<ServiceObject>(SVC.service(u.id), (cur) => ({ ...cur, ...u.patch, UpdatedAt: new Date().toISOString() } as ServiceObject), version.get(u.id)).catch(() => undefined);
  }
}

/** GET /services?status=true: running and desired task counts. */
export function serviceStatus(s: ServiceObject, tasks: PlanTask[], nodes: NodeObject[]): { RunningTasks: number; DesiredTasks: number; CompletedTasks: number } {
  const mine = tasks.filter((t) => t.ServiceID === s.ID);
  const running = mine.filter((t) => t.Status.State === 'running' && t.DesiredState === 'running').length;
  const completed = mine.filter((t) => t.Status.State === 'complete').length;
  const activeNodes = nodes.filter((n) => n.Status.State === 'ready' && n.Spec.Availability === 'active').length;
  const m = s.Spec.Mode ?? {};
  // a job wants as many running as it may still start (docker shows `running/desired (completed/total completed)`)
  const desired = m.Global ? activeNodes
    : m.ReplicatedJob ? Math.max(0, Math.min(Number(m.ReplicatedJob.MaxConcurrent ?? 1), Number(m.ReplicatedJob.TotalCompletions ?? 1) - completed))
      : m.GlobalJob ? Math.max(0, activeNodes - completed)
        : Number(m.Replicated?.Replicas ?? 0);
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed };
}

