// The orchestrators and the scheduler as one pure function: a snapshot of services, tasks and
// nodes in, a plan of task writes out (SwarmKit's model: tasks are one-shot, slots keep their
// number, desired state is the manager's, observed state the agent's). No I/O here.
import { Spread } from './planner-spread.js';

export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = typeof TASK_STATES[number];
const RANK = new Map<unknown, number>(TASK_STATES.map((s, i) => [s, i]));
/** Position in TASK_STATES, -1 if not a state (a map: the planner asks this millions of times). */
export const stateRank = (s: string): number => RANK.get(s) ?? -1;
export const TERMINAL: ReadonlySet<string> = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned']);

export interface PlanNode { ID: string; Spec: { Availability: string; Role: string; Labels: Record<string, string> }; Status: { State: string }; Description?: any }
export interface UpdateStatus { State: string; StartedAt?: string; CompletedAt?: string; Message?: string }
export interface PlanService { ID: string; Spec: any; PreviousSpec?: any; UpdateStatus?: UpdateStatus; deleted?: boolean }
export interface PlanTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState: string;
  Status: { State: string; Message?: string; Err?: string; Timestamp: string };
  /** when the agent first reported it running (an update's failure monitor counts from there) */
  RunningAt?: string;
  /** restarts of its slot (or node) so far, carried from task to task for MaxAttempts */
  Restarts?: number;
  Spec: any;
  CreatedAt: string;
  Version?: { Index: number };
  ServiceAnnotations?: { Name: string };
}

export interface Plan {
  create: PlanTask[];
  /** desired-state changes, node assignments, status messages */
  update: { id: string; patch: Partial<PlanTask> }[];
  remove: string[];
  /** service fields the update orchestrator changes (UpdateStatus; Spec on an automatic rollback) */
  services: { id: string; patch: Partial<PlanService> }[];
}

const RESTART_DELAY_NS = 5e9;
const HISTORY_LIMIT = 5;

/** Slots of a replicated service (or completions of a replicated job); undefined: one task per node. */
function replicas(s: PlanService): number | undefined {
  const m = s.Spec.Mode ?? {};
  if (m.Global || m.GlobalJob) return undefined;
  if (m.ReplicatedJob) return Number(m.ReplicatedJob.TotalCompletions ?? 1);
  return Number(m.Replicated?.Replicas ?? 1);
}

const plural = (n: number, what: string) => `${what} on ${n} node${n === 1 ? '' : 's'}`;

/** A task that holds its slot: wanted running and not finished. */
function runnable(t: PlanTask): boolean {
  return stateRank(t.DesiredState) <= stateRank('running') && !TERMINAL.has(t.Status.State);
}

export interface PlanOptions { now: number; newId: () => string; historyLimit?: number }

export function plan(services: PlanService[], tasks: PlanTask[], nodes: PlanNode[], o: PlanOptions): Plan {
  const out: Plan = { create: [], update: [], remove: [], services: [] };
  const nodeById = new Map(nodes.map((n) => [n.ID, n]));
  const ready = (id?: string) => !!id && nodeById.get(id)?.Status.State === 'ready';
  const eligible = nodes.filter((n) => n.Status.State === 'ready' && n.Spec.Availability === 'active');
  const live = new Map(services.filter((s) => !s.deleted).map((s) => [s.ID, s]));
  let stamp: string | undefined;
  const now = () => (stamp ??= new Date(o.now).toISOString());
  const parsed = new Map<string, number>();
  const ts = (t: PlanTask) => {
    let v = parsed.get(t.Status.Timestamp);
    if (v === undefined) parsed.set(t.Status.Timestamp, (v = Date.parse(t.Status.Timestamp)));
    return v;
  };
  const newestFirst = (a: PlanTask, b: PlanTask) => ts(b) - ts(a);

  // running-task counts per node (total and per service), for spreading; counted before any change
  const spread = new Spread(eligible);
  const countedOn = new Int32Array(tasks.length).fill(-1);
  tasks.forEach((t, i) => { if (t.NodeID && runnable(t)) countedOn[i] = spread.count(t.NodeID); });

  const shut = (t: PlanTask, desired: string, message?: string) => {
    if (stateRank(t.DesiredState) >= stateRank(desired)) return;
    out.update.push({ id: t.ID, patch: { DesiredState: desired, ...(message ? { Status: { ...t.Status, Message: message } } : {}) } });
    t.DesiredState = desired;
  };

  // each live service's tasks, in snapshot order, and the nodes its counted tasks are on
  const groups = new Map<string, { mine: PlanTask[]; on: number[] }>();
  for (const id of live.keys()) groups.set(id, { mine: [], on: [] });
  tasks.forEach((t, i) => {
    const g = groups.get(t.ServiceID);
    if (!g) {
      // service removed: shut down, delete once finished (or its node is gone)
      if (TERMINAL.has(t.Status.State) || !t.NodeID || !ready(t.NodeID)) out.remove.push(t.ID);
      else shut(t, 'remove');
      return;
    }
    g.mine.push(t);
    if (countedOn[i] >= 0) g.on.push(countedOn[i]);
    // a task on a node that is down or drained cannot run there any more: its slot is refilled
    if (runnable(t) && t.NodeID && (!ready(t.NodeID) || nodeById.get(t.NodeID)?.Spec.Availability === 'drain')) shut(t, 'shutdown');
    // a finished task that was meant to run: the slot gets a replacement (restart policy below)
    if (TERMINAL.has(t.Status.State) && stateRank(t.DesiredState) <= stateRank('running')) shut(t, 'shutdown');
  });

  // the nodes a service's constraints accept, once per service; services with the same
  // constraints share one pass over the nodes
  const candidateSets = new Map<unknown, Int32Array>();
  const candidatesOf = (svc: PlanService) => {
    let set = candidateSets.get(svc);
    if (set) return set;
    const constraints: string[] = svc.Spec.TaskTemplate?.Placement?.Constraints ?? [];
    const key = Array.isArray(constraints) && constraints.every((c) => typeof c === 'string') ? JSON.stringify(constraints) : svc;
    set = candidateSets.get(key) ?? spread.select((n) => constraints.every((c) => matchConstraint(c, n)));
    candidateSets.set(key, set).set(svc, set);
    return set;
  };

  // reservations already made on each node (runnable tasks), for the resource filter
  const reserved = new Map<string, { cpu: number; mem: number }>();
  const reserve = (nodeId: string, spec: any, sign = 1) => {
    const r = spec?.Resources?.Reservations;
    if (!r?.NanoCPUs && !r?.MemoryBytes) return;
    const cur = reserved.get(nodeId) ?? { cpu: 0, mem: 0 };
    reserved.set(nodeId, { cpu: cur.cpu + sign * (r.NanoCPUs ?? 0), mem: cur.mem + sign * (r.MemoryBytes ?? 0) });
  };
  for (const t of tasks) if (t.NodeID && runnable(t)) reserve(t.NodeID, t.Spec);

  // host-mode published ports in use on each node (SwarmKit's HostPortFilter): one task per port
  const hostPortsOf = (svc: PlanService | undefined): string[] => ((svc?.Spec.EndpointSpec?.Ports ?? []) as any[])
    .filter((p) => p?.PublishMode === 'host' && Number(p.PublishedPort) > 0).map((p) => `${p.Protocol || 'tcp'}/${p.PublishedPort}`);
  const portsInUse = new Map<string, Set<string>>();
  const takePorts = (nodeId: string, ports: string[]) => {
    if (!ports.length) return;
    const set = portsInUse.get(nodeId) ?? new Set<string>();
    for (const p of ports) set.add(p);
    portsInUse.set(nodeId, set);
  };
  const portsBySvc = new Map([...live.values()].map((s) => [s.ID, hostPortsOf(s)]));
  for (const t of tasks) if (t.NodeID && runnable(t)) takePorts(t.NodeID, portsBySvc.get(t.ServiceID) ?? []);

  /** Why nothing fits: each filter's count of nodes it turned down, as swarmkit explains it. */
  const noNode = (svc: PlanService, full: Set<string>, short: Set<string>, busy: Set<string>) => {
    if (!eligible.length) return `no suitable node (${nodes.length} node${nodes.length === 1 ? '' : 's'} not available for new tasks)`;
    const constraints: string[] = svc.Spec.TaskTemplate?.Placement?.Constraints ?? [];
    const parts: string[] = [];
    const unmatched = eligible.filter((n) => !constraints.every((c) => matchConstraint(c, n))).length;
    if (unmatched) parts.push(plural(unmatched + (nodes.length - eligible.length), 'scheduling constraints not satisfied'));
    if (short.size) parts.push(plural(short.size, 'insufficient resources'));
    if (full.size) parts.push(plural(full.size, 'max replicas per node limit exceed'));
    if (busy.size) parts.push(plural(busy.size, 'host-mode port already in use'));
    return `no suitable node (${parts.join('; ') || plural(nodes.length, 'scheduling constraints not satisfied')})`;
  };

  const schedule = (t: PlanTask, svc: PlanService, on: number[]) => {
    const placement = svc.Spec.TaskTemplate?.Placement ?? {};
    const want = svc.Spec.TaskTemplate?.Resources?.Reservations ?? {};
    const max = Number(placement.MaxReplicas ?? 0);
    const prefs: string[] = (placement.Preferences ?? []).map((p: any) => p.Spread?.SpreadDescriptor).filter(Boolean);
    const ports = portsBySvc.get(svc.ID) ?? [];
    const full = new Set<string>(), short = new Set<string>(), busy = new Set<string>();
    let nodeId: string | undefined;
    if (!max && !want.NanoCPUs && !want.MemoryBytes && !prefs.length && !ports.length) nodeId = spread.place(on, candidatesOf(svc));
    else {
      nodeId = spread.placeBy(on, candidatesOf(svc), (list) => {
        const fits = list.map((c, i) => ({ ...c, i })).filter((c) => {
          if (max && c.own >= max) { full.add(c.id); return false; }
          if (ports.some((p) => portsInUse.get(c.id)?.has(p))) { busy.add(c.id); return false; }
          const res = nodeById.get(c.id)?.Description?.Resources ?? {};
          const used = reserved.get(c.id) ?? { cpu: 0, mem: 0 };
          if ((want.NanoCPUs && used.cpu + want.NanoCPUs > (res.NanoCPUs ?? 0)) || (want.MemoryBytes && used.mem + want.MemoryBytes > (res.MemoryBytes ?? 0))) { short.add(c.id); return false; }
          return true;
        });
        if (!fits.length) return -1;
        // placement preferences: spread over the values of each descriptor in turn (nodes without the
        // label form a group of their own), then the usual least-loaded choice
        let group = fits;
        for (const d of prefs) {
          const key = (c: { id: string }) => descriptorValue(d, nodeById.get(c.id)!) ?? '';
          const perValue = new Map<string, number>();
          for (const c of list) perValue.set(key(c), (perValue.get(key(c)) ?? 0) + c.own);
          const least = Math.min(...group.map((c) => perValue.get(key(c)) ?? 0));
          group = group.filter((c) => (perValue.get(key(c)) ?? 0) === least);
        }
        group.sort((a, b) => a.own - b.own || a.load - b.load || a.id.localeCompare(b.id));
        return group[0].i;
      });
    }
    if (nodeId === undefined) {
      t.Status = { ...t.Status, State: 'pending', Message: 'pending task scheduling', Err: noNode(svc, full, short, busy) };
      return;
    }
    t.NodeID = nodeId;
    reserve(nodeId, t.Spec);
    takePorts(nodeId, ports);
    t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: now() };
  };

  const newTask = (svc: PlanService, slot: number | undefined, nodeId?: string): PlanTask => ({
    ID: o.newId(), ServiceID: svc.ID, Slot: slot, NodeID: nodeId, DesiredState: 'running', Spec: svc.Spec.TaskTemplate ?? {},
    Status: { State: 'new', Message: 'created', Timestamp: now() }, CreatedAt: now(),
    ServiceAnnotations: { Name: svc.Spec.Name },
  });

  for (const svc of live.values()) {
    const { mine, on } = groups.get(svc.ID)!;
    const restart = svc.Spec.TaskTemplate?.RestartPolicy ?? {};
    const delayMs = (restart.Delay ?? RESTART_DELAY_NS) / 1e6;
    // stop-first: a slot whose old-spec task is still stopping on a live node waits for it
    const template = canonical(svc.Spec.TaskTemplate ?? {});
    const stopping = (t: PlanTask) => t.DesiredState === 'shutdown' && !TERMINAL.has(t.Status.State) && ready(t.NodeID)
      && nodeById.get(t.NodeID!)?.Spec.Availability !== 'drain' && !isFresh(t, svc, template);
    const created: PlanTask[] = [];
    const n = replicas(svc);
    if (n !== undefined) {
      const bySlot = new Map<number, PlanTask[]>();
      for (const t of mine) if (t.Slot) { const h = bySlot.get(t.Slot); if (h) h.push(t); else bySlot.set(t.Slot, [t]); }
      // a replicated job runs each slot to completion, at most MaxConcurrent at a time
      const job = svc.Spec.Mode?.ReplicatedJob;
      let room = job ? Number(job.MaxConcurrent ?? 1) - mine.filter(runnable).length : Infinity;
      for (let slot = 1; slot <= n && room > 0; slot++) {
        const hist = bySlot.get(slot) ?? [];
        if (hist.some(runnable) || hist.some(stopping)) continue;
        if (job && hist.some((t) => t.Status.State === 'complete')) continue;
        room--;
        const last = hist.sort(newestFirst)[0];
        if (last && !mayRestart(restart, last, o.now, delayMs)) continue;
        const t = newTask(svc, slot);
        if (last) t.Restarts = restartsAfter(restart, last);
        schedule(t, svc, on);
        out.create.push(t);
        created.push(t);
      }
      // scale down: highest slots first
      for (const [slot, hist] of bySlot) if (slot > n) for (const t of hist) if (runnable(t)) shut(t, 'shutdown');
    } else {
      const constraints: string[] = svc.Spec.TaskTemplate?.Placement?.Constraints ?? [];
      const byNode = new Map<string | undefined, PlanTask[]>();
      for (const t of mine) { const h = byNode.get(t.NodeID); if (h) h.push(t); else byNode.set(t.NodeID, [t]); }
      for (const node of eligible) {
        if (!constraints.every((c) => matchConstraint(c, node))) continue;
        const hist = byNode.get(node.ID) ?? [];
        if (hist.some(runnable) || hist.some(stopping)) continue;
        if (svc.Spec.Mode?.GlobalJob && hist.some((t) => t.Status.State === 'complete')) continue;
        const last = hist.sort(newestFirst)[0];
        if (last && !mayRestart(restart, last, o.now, delayMs)) continue;
        const t = newTask(svc, undefined, node.ID);
        if (last) t.Restarts = restartsAfter(restart, last);
        t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: now() };
        out.create.push(t);
        created.push(t);
      }
    }
    // refills first, so the update orchestrator sees this pass's new tasks as starting
    mine.push(...created);
    rollingUpdate(svc, mine, o.now, stopping, shut, (patch) => out.services.push({ id: svc.ID, patch }), (old) => {
      const t = newTask(svc, old.Slot, old.Slot ? undefined : old.NodeID);
      if (old.Slot) schedule(t, svc, on);
      else t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: now() };
      out.create.push(t);
      mine.push(t);
    });
    // pending tasks from earlier rounds get another chance
    for (const t of mine) {
      if (t.Status.State !== 'pending' || t.NodeID || !runnable(t) || created.includes(t)) continue;
      const before = t.Status.State;
      schedule(t, svc, on);
      if (t.NodeID || before !== t.Status.State) out.update.push({ id: t.ID, patch: { NodeID: t.NodeID, Status: t.Status } });
    }
    // history: keep the newest few finished tasks per slot (or node)
    const keep = o.historyLimit ?? HISTORY_LIMIT;
    const finished = new Map<string, PlanTask[]>();
    for (const t of mine) {
      if (runnable(t) || !TERMINAL.has(t.Status.State)) continue;
      const k = String(t.Slot ?? t.NodeID);
      const g = finished.get(k);
      if (g) g.push(t); else finished.set(k, [t]);
    }
    for (const g of finished.values()) {
      if (g.length <= keep) continue;
      g.sort(newestFirst);
      for (const t of g.slice(keep)) out.remove.push(t.ID);
    }
  }
  return out;
}

/**
 * Rolling update: tasks made from an older spec are replaced `Parallelism` at a time (0 = all);
 * the next batch waits until the replacements run (plus `Delay`). Stop-first shuts the old task
 * and lets the slot loop refill the slot; start-first starts the new task in the same slot first
 * and shuts the old one once the new one runs. A new task that fails to start, or fails within
 * `Monitor` of starting, counts as a failure; past `MaxFailureRatio` the `FailureAction` applies:
 * pause (no more batches until the next `service update`), rollback (the previous spec comes
 * back and is rolled out with RollbackConfig) or continue. Progress goes to UpdateStatus.
 */
function rollingUpdate(svc: PlanService, mine: PlanTask[], now: number, stopping: (t: PlanTask) => boolean, shut: (t: PlanTask, desired: string) => void, setService: (patch: Partial<PlanService>) => void, startReplacement: (old: PlanTask) => void): void {
  const us = svc.UpdateStatus;
  if (us?.State === 'paused' || us?.State === 'rollback_paused') return;
  const rollingBack = us?.State === 'rollback_started';
  const template = canonical(svc.Spec.TaskTemplate ?? {});
  const fresh = (t: PlanTask) => isFresh(t, svc, template);
  const dirty: PlanTask[] = [], newOnes: PlanTask[] = [];
  for (const t of mine) if (runnable(t)) (fresh(t) ? newOnes : dirty).push(t);
  const at = new Date(now).toISOString();
  // a batch is in flight while its new tasks start or its old (stop-first) tasks still stop
  const starting = newOnes.filter((t) => stateRank(t.Status.State) < stateRank('running')).length + mine.filter(stopping).length;
  const lastUp = newOnes.reduce((m, t) => (t.Status.State === 'running' ? Math.max(m, Date.parse(t.Status.Timestamp)) : m), 0);
  if (!dirty.length) {
    // done once the last batch has landed and run for the monitor period (swarmkit watches it for failures)
    const monitorMs = (((rollingBack ? svc.Spec.RollbackConfig : svc.Spec.UpdateConfig) ?? {}).Monitor ?? 5e9) / 1e6;
    if (starting > 0 || (us && now - lastUp < monitorMs)) return;
    if (us?.State === 'updating') setService({ UpdateStatus: { ...us, State: 'completed', CompletedAt: at, Message: 'update completed' } });
    else if (rollingBack) setService({ UpdateStatus: { ...us, State: 'rollback_completed', CompletedAt: at, Message: 'rollback completed' } });
    return;
  }
  let status = us;
  if (!status || status.State === 'completed' || status.State === 'rollback_completed') {
    status = { State: 'updating', StartedAt: at, Message: 'update in progress' };
    setService({ UpdateStatus: status });
  }
  const cfg = (rollingBack ? svc.Spec.RollbackConfig : svc.Spec.UpdateConfig) ?? {};
  const place = (t: PlanTask) => String(t.Slot ?? t.NodeID);
  // failures of this update: new tasks created since it started that failed early
  const since = Date.parse(status.StartedAt ?? at);
  const monitorMs = (cfg.Monitor ?? 5e9) / 1e6;
  const failed = mine.filter((t) => fresh(t) && Date.parse(t.CreatedAt) >= since && (t.Status.State === 'failed' || t.Status.State === 'rejected')
    && (!t.RunningAt || Date.parse(t.Status.Timestamp) - Date.parse(t.RunningAt) <= monitorMs));
  const total = Math.max(1, new Set(mine.filter((t) => runnable(t) || failed.includes(t)).map(place)).size);
  if (failed.length && failed.length / total > (cfg.MaxFailureRatio ?? 0)) {
    const action = cfg.FailureAction ?? 'pause';
    const first = failed.sort((a, b) => Date.parse(a.Status.Timestamp) - Date.parse(b.Status.Timestamp))[0].ID;
    if (action === 'pause' || (action === 'rollback' && (rollingBack || !svc.PreviousSpec))) {
      const what = rollingBack ? 'rollback' : 'update';
      setService({ UpdateStatus: { ...status, State: rollingBack ? 'rollback_paused' : 'paused', Message: `${what} paused due to failure or early termination of task ${first}` } });
      return;
    }
    if (action === 'rollback') {
      setService({ Spec: svc.PreviousSpec, PreviousSpec: undefined, UpdateStatus: { ...status, State: 'rollback_started', Message: `update rolled back due to failure or early termination of task ${first}` } });
      return;
    }
  }
  const parallelism = cfg.Parallelism === 0 ? dirty.length : Number(cfg.Parallelism ?? 1);
  dirty.sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0));
  if (cfg.Order === 'start-first') {
    const successor = (t: PlanTask) => newOnes.find((x) => place(x) === place(t));
    for (const t of dirty) if (successor(t)?.Status.State === 'running') shut(t, 'shutdown');
    if (starting > 0 || (cfg.Delay && now - lastUp < cfg.Delay / 1e6)) return;
    for (const t of dirty.filter((x) => !successor(x)).slice(0, parallelism)) startReplacement(t);
    return;
  }
  if (starting > 0 || (cfg.Delay && now - lastUp < cfg.Delay / 1e6)) return;
  for (const t of dirty.slice(0, parallelism)) shut(t, 'shutdown');
}

/** JSON with sorted keys and without empty values: clients re-send specs in their own shape (Go's omitempty). */
export function canonical(v: unknown): string {
  const norm = (x: any): any => {
    if (Array.isArray(x)) return x.length ? x.map(norm) : undefined;
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) { const n = norm(x[k]); if (n !== undefined) out[k] = n; }
      return Object.keys(out).length ? out : undefined;
    }
    return x === null || x === '' || x === false || x === 0 ? undefined : x;
  };
  return JSON.stringify(norm(v) ?? {});
}

const exited = (t: PlanTask) => ['failed', 'rejected', 'complete'].includes(t.Status.State);

/** A task made from the service's current task template (`template` = its canonical form). */
export function isFresh(t: PlanTask, svc: PlanService, template: string): boolean {
  return sameShape(t.Spec ?? {}, svc.Spec.TaskTemplate ?? {}) || canonical(t.Spec ?? {}) === template;
}
/**
 * Cheap and sufficient for canonical(a) === canonical(b): the same keys in the same order and the
 * same values all the way down (a task's spec read back from the store, next to its service's).
 */
export function sameShape(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== (b as unknown[]).length) return false;
    for (let i = 0; i < a.length; i++) if (!sameShape(a[i], (b as unknown[])[i])) return false; // holes too (not every())
    return true;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameShape((a as any)[ka[i]], (b as any)[ka[i]])) return false;
  return true;
}


function mayRestart(policy: any, last: PlanTask, now: number, delayMs: number): boolean {
  const cond = policy.Condition ?? 'any';
  // shut down by the orchestrator (node down, drain, scale-down then up): refill at once
  if (!exited(last)) return true;
  if (cond === 'none') return false;
  if (cond === 'on-failure' && last.Status.State === 'complete') return false;
  if (policy.MaxAttempts && restartsAfter(policy, last) > policy.MaxAttempts) return false;
  return now - Date.parse(last.Status.Timestamp) >= delayMs;
}

/**
 * The restart count a replacement of `last` carries: one more when `last` exited by itself. With a
 * Window, a task that ran longer than the window starts the count afresh (swarmkit counts the
 * restarts inside the window).
 */
function restartsAfter(policy: any, last: PlanTask): number {
  if (!exited(last)) return last.Restarts ?? 0;
  const ranMs = last.RunningAt ? Date.parse(last.Status.Timestamp) - Date.parse(last.RunningAt) : 0;
  const base = policy.Window && ranMs >= policy.Window / 1e6 ? 0 : last.Restarts ?? 0;
  return base + 1;
}

/** The value a node has for a placement preference descriptor (`node.labels.zone`, `engine.labels.x`, `node.hostname`...). */
function descriptorValue(d: string, n: PlanNode): string | undefined {
  if (d.startsWith('node.labels.')) return n.Spec.Labels?.[d.slice('node.labels.'.length)];
  if (d.startsWith('engine.labels.')) return n.Description?.Engine?.Labels?.[d.slice('engine.labels.'.length)];
  if (d === 'node.hostname') return n.Description?.Hostname;
  if (d === 'node.id') return n.ID;
  if (d === 'node.role') return n.Spec.Role;
  return undefined;
}

/** `node.hostname==x`, `node.role!=manager`, `node.labels.zone==a`... (== and != only). */
export function matchConstraint(c: string, n: PlanNode): boolean {
  const m = /^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$/.exec(c);
  if (!m) return false;
  const [, key, op, want] = m;
  let have: string | undefined;
  if (key === 'node.id') have = n.ID;
  else if (key === 'node.hostname') have = n.Description?.Hostname;
  else if (key === 'node.role') have = n.Spec.Role;
  else if (key === 'node.platform.os') have = n.Description?.Platform?.OS;
  else if (key === 'node.platform.arch') have = n.Description?.Platform?.Architecture;
  else if (key.startsWith('node.labels.')) have = n.Spec.Labels?.[key.slice('node.labels.'.length)];
  else if (key.startsWith('engine.labels.')) have = n.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)];
  const eq = have !== undefined && have.toLowerCase() === want.toLowerCase();
  return op === '==' ? eq : !eq;
}
