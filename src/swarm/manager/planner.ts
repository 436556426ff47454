// The orchestrators and the scheduler as one pure function: a snapshot of services, tasks and
// nodes in, a plan of task writes out (SwarmKit's model: tasks are one-shot, slots keep their
// number, desired state is the manager's, observed state the agent's). No I/O here.

export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = typeof TASK_STATES[number];
export const stateRank = (s: string): number => TASK_STATES.indexOf(s as TaskState);
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

function replicas(s: PlanService): number | undefined {
  return s.Spec.Mode?.Global ? undefined : Number(s.Spec.Mode?.Replicated?.Replicas ?? 1);
}

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
  // running-task counts per node (total and per service), for spreading
  const load = new Map<string, number>();
  const svcLoad = new Map<string, number>();
  const countOn = (t: PlanTask) => {
    if (!t.NodeID || !runnable(t)) return;
    load.set(t.NodeID, (load.get(t.NodeID) ?? 0) + 1);
    svcLoad.set(`${t.ServiceID}/${t.NodeID}`, (svcLoad.get(`${t.ServiceID}/${t.NodeID}`) ?? 0) + 1);
  };
  tasks.forEach(countOn);

  const shut = (t: PlanTask, desired: string, message?: string) => {
    if (stateRank(t.DesiredState) >= stateRank(desired)) return;
    out.update.push({ id: t.ID, patch: { DesiredState: desired, ...(message ? { Status: { ...t.Status, Message: message } } : {}) } });
    t.DesiredState = desired;
  };

  for (const t of tasks) {
    const svc = live.get(t.ServiceID);
    if (!svc) {
      // service removed: shut down, delete once finished (or its node is gone)
      if (TERMINAL.has(t.Status.State) || !t.NodeID || !ready(t.NodeID)) out.remove.push(t.ID);
      else shut(t, 'remove');
      continue;
    }
    // a task on a node that is down or drained cannot run there any more: its slot is refilled
    if (runnable(t) && t.NodeID && (!ready(t.NodeID) || nodeById.get(t.NodeID)?.Spec.Availability === 'drain')) shut(t, 'shutdown');
    // a finished task that was meant to run: the slot gets a replacement (restart policy below)
    if (TERMINAL.has(t.Status.State) && stateRank(t.DesiredState) <= stateRank('running')) shut(t, 'shutdown');
  }

  const schedule = (t: PlanTask, svc: PlanService) => {
    const constraints: string[] = svc.Spec.TaskTemplate?.Placement?.Constraints ?? [];
    const candidates = eligible.filter((n) => constraints.every((c) => matchConstraint(c, n)));
    if (!candidates.length) {
      const why = eligible.length ? `scheduling constraints not satisfied on ${nodes.length} node${nodes.length === 1 ? '' : 's'}` : `${nodes.length} node${nodes.length === 1 ? '' : 's'} not available for new tasks`;
      t.Status = { ...t.Status, State: 'pending', Message: 'pending task scheduling', Err: `no suitable node (${why})` };
      return;
    }
    candidates.sort((a, b) => (svcLoad.get(`${svc.ID}/${a.ID}`) ?? 0) - (svcLoad.get(`${svc.ID}/${b.ID}`) ?? 0) || (load.get(a.ID) ?? 0) - (load.get(b.ID) ?? 0) || a.ID.localeCompare(b.ID));
    t.NodeID = candidates[0].ID;
    t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: new Date(o.now).toISOString() };
    countOn(t);
  };

  const newTask = (svc: PlanService, slot: number | undefined, nodeId?: string): PlanTask => ({
    ID: o.newId(), ServiceID: svc.ID, Slot: slot, NodeID: nodeId, DesiredState: 'running', Spec: svc.Spec.TaskTemplate ?? {},
    Status: { State: 'new', Message: 'created', Timestamp: new Date(o.now).toISOString() }, CreatedAt: new Date(o.now).toISOString(),
    ServiceAnnotations: { Name: svc.Spec.Name },
  });

  for (const svc of live.values()) {
    const mine = tasks.filter((t) => t.ServiceID === svc.ID);
    const restart = svc.Spec.TaskTemplate?.RestartPolicy ?? {};
    const delayMs = (restart.Delay ?? RESTART_DELAY_NS) / 1e6;
    // stop-first: a slot whose old-spec task is still stopping on a live node waits for it
    const template = canonical(svc.Spec.TaskTemplate ?? {});
    const stopping = (t: PlanTask) => t.DesiredState === 'shutdown' && !TERMINAL.has(t.Status.State) && ready(t.NodeID)
      && nodeById.get(t.NodeID!)?.Spec.Availability !== 'drain' && canonical(t.Spec ?? {}) !== template;
    const created: PlanTask[] = [];
    const n = replicas(svc);
    if (n !== undefined) {
      const bySlot = new Map<number, PlanTask[]>();
      for (const t of mine) if (t.Slot) bySlot.set(t.Slot, [...(bySlot.get(t.Slot) ?? []), t]);
      for (let slot = 1; slot <= n; slot++) {
        const hist = bySlot.get(slot) ?? [];
        if (hist.some(runnable) || hist.some(stopping)) continue;
        const last = hist.sort((a, b) => Date.parse(b.Status.Timestamp) - Date.parse(a.Status.Timestamp))[0];
        if (last && !mayRestart(restart, last, o.now, delayMs)) continue;
        const t = newTask(svc, slot);
        if (last) t.Restarts = restartsAfter(restart, last);
        schedule(t, svc);
        out.create.push(t);
        created.push(t);
      }
      // scale down: highest slots first
      for (const [slot, hist] of bySlot) if (slot > n) for (const t of hist) if (runnable(t)) shut(t, 'shutdown');
    } else {
      const constraints: string[] = svc.Spec.TaskTemplate?.Placement?.Constraints ?? [];
      for (const node of eligible) {
        if (!constraints.every((c) => matchConstraint(c, node))) continue;
        const hist = mine.filter((t) => t.NodeID === node.ID);
        if (hist.some(runnable) || hist.some(stopping)) continue;
        const last = hist.sort((a, b) => Date.parse(b.Status.Timestamp) - Date.parse(a.Status.Timestamp))[0];
        if (last && !mayRestart(restart, last, o.now, delayMs)) continue;
        const t = newTask(svc, undefined, node.ID);
        if (last) t.Restarts = restartsAfter(restart, last);
        t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: new Date(o.now).toISOString() };
        out.create.push(t);
        created.push(t);
      }
    }
    // refills first, so the update orchestrator sees this pass's new tasks as starting
    mine.push(...created);
    rollingUpdate(svc, mine, o.now, stopping, shut, (patch) => out.services.push({ id: svc.ID, patch }), (old) => {
      const t = newTask(svc, old.Slot, old.Slot ? undefined : old.NodeID);
      if (old.Slot) schedule(t, svc);
      else t.Status = { State: 'assigned', Message: 'scheduler assigned task to node', Timestamp: new Date(o.now).toISOString() };
      out.create.push(t);
      mine.push(t);
    });
    // pending tasks from earlier rounds get another chance
    for (const t of mine) {
      if (t.Status.State !== 'pending' || t.NodeID || !runnable(t) || created.includes(t)) continue;
      const before = t.Status.State;
      schedule(t, svc);
      if (t.NodeID || before !== t.Status.State) out.update.push({ id: t.ID, patch: { NodeID: t.NodeID, Status: t.Status } });
    }
    // history: keep the newest few finished tasks per slot (or node)
    const groups = new Map<string, PlanTask[]>();
    for (const t of mine) {
      if (runnable(t) || !TERMINAL.has(t.Status.State)) continue;
      const k = String(t.Slot ?? t.NodeID);
      groups.set(k, [...(groups.get(k) ?? []), t]);
    }
    for (const g of groups.values()) {
      g.sort((a, b) => Date.parse(b.Status.Timestamp) - Date.parse(a.Status.Timestamp));
      for (const t of g.slice(o.historyLimit ?? HISTORY_LIMIT)) out.remove.push(t.ID);
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
  const fresh = (t: PlanTask) => canonical(t.Spec ?? {}) === template;
  const dirty = mine.filter((t) => runnable(t) && !fresh(t));
  const at = new Date(now).toISOString();
  if (!dirty.length) {
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
  const newOnes = mine.filter((t) => runnable(t) && fresh(t));
  // a batch is in flight while its new tasks start or its old (stop-first) tasks still stop
  const starting = newOnes.filter((t) => stateRank(t.Status.State) < stateRank('running')).length + mine.filter(stopping).length;
  const lastUp = Math.max(0, ...newOnes.filter((t) => t.Status.State === 'running').map((t) => Date.parse(t.Status.Timestamp)));
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
