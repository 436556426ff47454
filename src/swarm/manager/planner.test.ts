import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical, matchConstraint, plan, sameShape, type PlanNode, type PlanService, type PlanTask } from './planner.js';

const node = (id: string, extra: Partial<PlanNode['Spec']> = {}, state = 'ready'): PlanNode =>
  ({ ID: id, Spec: { Availability: 'active', Role: 'worker', Labels: {}, ...extra }, Status: { State: state }, Description: { Hostname: `host-${id}` } });
const svc = (id: string, replicas?: number, extra: any = {}): PlanService =>
  ({ ID: id, Spec: { Name: id, Mode: replicas === undefined ? { Global: {} } : { Replicated: { Replicas: replicas } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, ...extra } } });
let n = 0;
const opts = (now = Date.now()) => ({ now, newId: () => `t${++n}` });
const applied = (p: ReturnType<typeof plan>, tasks: PlanTask[] = []) => [...tasks, ...p.create];

test('10 replicas spread 4/3/3 over 3 nodes', () => {
  const p = plan([svc('s', 10)], [], [node('a'), node('b'), node('c')], opts());
  assert.equal(p.create.length, 10);
  const per = new Map<string, number>();
  for (const t of p.create) per.set(t.NodeID!, (per.get(t.NodeID!) ?? 0) + 1);
  assert.deepEqual([...per.values()].sort(), [3, 3, 4]);
  assert.deepEqual(p.create.map((t) => t.Slot).sort((x, y) => x! - y!), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('a converged service needs no writes; scale-down shuts the highest slots', () => {
  const nodes = [node('a'), node('b')];
  const tasks = applied(plan([svc('s', 3)], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const again = plan([svc('s', 3)], tasks, nodes, opts());
  assert.deepEqual([again.create.length, again.update.length, again.remove.length], [0, 0, 0]);
  const down = plan([svc('s', 1)], tasks, nodes, opts());
  assert.deepEqual(down.update.map((u) => [tasks.find((t) => t.ID === u.id)!.Slot, u.patch.DesiredState]).sort(), [[2, 'shutdown'], [3, 'shutdown']]);
});

test('tasks of a down or drained node are replaced on the others', () => {
  const nodes = [node('a'), node('b')];
  const tasks = applied(plan([svc('s', 2)], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const onA = tasks.find((t) => t.NodeID === 'a')!;
  const p = plan([svc('s', 2)], tasks, [node('a', {}, 'down'), node('b')], opts());
  assert.deepEqual(p.update.map((u) => [u.id, u.patch.DesiredState]), [[onA.ID, 'shutdown']]);
  assert.equal(p.create.length, 1);
  assert.equal(p.create[0].NodeID, 'b');
  assert.equal(p.create[0].Slot, onA.Slot);
  const drained = plan([svc('s', 2)], tasks, [node('a', { Availability: 'drain' }), node('b')], opts());
  assert.equal(drained.create[0].NodeID, 'b');
});

test('failed tasks restart after the delay, up to max attempts; condition none never', () => {
  const nodes = [node('a')];
  const now = Date.now();
  const failed: PlanTask = { ID: 'f1', ServiceID: 's', Slot: 1, NodeID: 'a', DesiredState: 'running', Spec: {}, CreatedAt: '', Status: { State: 'failed', Timestamp: new Date(now - 1000).toISOString() } };
  assert.equal(plan([svc('s', 1)], [{ ...failed }], nodes, opts(now)).create.length, 0, 'within the 5 s delay');
  assert.equal(plan([svc('s', 1)], [{ ...failed }], nodes, opts(now + 5000)).create.length, 1);
  assert.equal(plan([svc('s', 1, { RestartPolicy: { Condition: 'none' } })], [{ ...failed }], nodes, opts(now + 9000)).create.length, 0);
  // max attempts counts restarts: 1 allows one more task after the first failure, not after the second
  const once = plan([svc('s', 1, { RestartPolicy: { MaxAttempts: 1 } })], [{ ...failed }], nodes, opts(now + 9000)).create;
  assert.equal(once.length, 1);
  assert.equal(once[0].Restarts, 1);
  const again: PlanTask = { ...once[0], Status: { State: 'failed', Timestamp: new Date(now + 9000).toISOString() } };
  assert.equal(plan([svc('s', 1, { RestartPolicy: { MaxAttempts: 1 } })], [{ ...failed }, again], nodes, opts(now + 20000)).create.length, 0);
  assert.equal(plan([svc('s', 1, { RestartPolicy: { MaxAttempts: 2 } })], [{ ...failed }, again], nodes, opts(now + 20000)).create.length, 1);
});

test('global services run one task per eligible node; constraints say why nothing fits', () => {
  const p = plan([svc('g')], [], [node('a'), node('b', { Availability: 'pause' }), node('c')], opts());
  assert.deepEqual(p.create.map((t) => t.NodeID).sort(), ['a', 'c']);
  const none = plan([svc('s', 1, { Placement: { Constraints: ['node.labels.zone==moon'] } })], [], [node('a'), node('b')], opts());
  assert.equal(none.create[0].Status.State, 'pending');
  assert.match(none.create[0].Status.Err!, /no suitable node \(scheduling constraints not satisfied on 2 nodes\)/);
  assert.ok(matchConstraint('node.hostname==host-a', node('a')));
  assert.ok(matchConstraint('node.role!=manager', node('a')));
});

test('tasks of a removed service are shut down, then deleted', () => {
  const t: PlanTask = { ID: 'x', ServiceID: 'gone', Slot: 1, NodeID: 'a', DesiredState: 'running', Spec: {}, CreatedAt: '', Status: { State: 'running', Timestamp: new Date().toISOString() } };
  assert.deepEqual(plan([], [t], [node('a')], opts()).update.map((u) => u.patch.DesiredState), ['remove']);
  assert.deepEqual(plan([], [{ ...t, Status: { ...t.Status, State: 'shutdown' } }], [node('a')], opts()).remove, ['x']);
});

test('a spec change rolls through the slots one at a time (stop-first), then converges', () => {
  const nodes = [node('a'), node('b')];
  const old = svc('s', 3);
  let tasks = applied(plan([old], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const next = svc('s', 3, { ContainerSpec: { Image: 'busybox', Env: ['V=2'] } });
  const p0 = plan([next], tasks, nodes, opts());
  assert.equal(p0.update.filter((u) => u.patch.DesiredState === 'shutdown').length, 1);
  assert.equal(p0.create.length, 0, 'stop-first: the new task waits until the old one has stopped');
  const stoppedId = p0.update.find((u) => u.patch.DesiredState === 'shutdown')!.id;
  tasks = tasks.map((t) => (t.ID === stoppedId ? { ...t, DesiredState: 'shutdown' } : t));
  assert.equal(plan([next], tasks, nodes, opts()).create.length, 0, 'still stopping');
  tasks = tasks.map((t) => (t.ID === stoppedId ? { ...t, Status: { ...t.Status, State: 'shutdown' } } : t));
  const p1 = plan([next], tasks, nodes, opts());
  assert.equal(p1.create.length, 1);
  assert.deepEqual(p1.create[0].Spec.ContainerSpec.Env, ['V=2']);
  // the replacement has not started yet: no second batch
  tasks = [...tasks, ...p1.create];
  const p2 = plan([next], tasks, nodes, opts());
  assert.equal(p2.update.filter((u) => u.patch.DesiredState === 'shutdown').length, 0);
  // once it runs, the next slot goes
  const running = tasks.map((t) => (t.ID === p1.create[0].ID ? { ...t, Status: { ...t.Status, State: 'running' } } : t));
  const p3 = plan([next], running, nodes, opts());
  assert.equal(p3.update.filter((u) => u.patch.DesiredState === 'shutdown').length, 1);
  // parallelism 0 replaces everything at once
  const all = svc('s', 3, { ContainerSpec: { Image: 'busybox', Env: ['V=3'] } });
  all.Spec.UpdateConfig = { Parallelism: 0 };
  const fresh = applied(plan([old], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  assert.equal(plan([all], fresh, nodes, opts()).update.filter((u) => u.patch.DesiredState === 'shutdown').length, 3);
});

test('start-first starts the new task in the slot before the old one stops', () => {
  const nodes = [node('a'), node('b')];
  let tasks = applied(plan([svc('s', 2)], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const next = svc('s', 2, { ContainerSpec: { Image: 'busybox', Env: ['V=2'] } });
  next.Spec.UpdateConfig = { Parallelism: 1, Order: 'start-first' };
  const p1 = plan([next], tasks, nodes, opts());
  assert.equal(p1.create.length, 1, 'the new task first');
  assert.equal(p1.update.filter((u) => u.patch.DesiredState === 'shutdown').length, 0, 'the old one still runs');
  const slot = p1.create[0].Slot;
  tasks = [...tasks, { ...p1.create[0], Status: { ...p1.create[0].Status, State: 'running' } }];
  const p2 = plan([next], tasks, nodes, opts());
  const shutIds = p2.update.filter((u) => u.patch.DesiredState === 'shutdown').map((u) => u.id);
  assert.deepEqual(shutIds.map((id) => tasks.find((t) => t.ID === id)!.Slot), [slot], 'then the old one in that slot stops');
  assert.equal(p2.create.length, 1, 'and the next slot starts its new task');
});

/** An update in progress: the old spec's tasks run, the service has the new spec and UpdateStatus. */
/** One stop-first batch: the planner stops old tasks, they report shutdown, the planner starts new ones. */
function batch(p: PlanService, tasks: PlanTask[], nodes: PlanNode[]) {
  const stop = plan([p], tasks, nodes, opts());
  const stopped = tasks.map((t) => (stop.update.some((u) => u.id === t.ID && u.patch.DesiredState === 'shutdown') ? { ...t, DesiredState: 'shutdown', Status: { ...t.Status, State: 'shutdown' } } : t));
  const start = plan([p], stopped, nodes, opts());
  return { stop, stopped, created: start.create };
}

function updating(failureAction: string | undefined, extra: any = {}) {
  const nodes = [node('a'), node('b')];
  const old = svc('s', 4);
  const t0 = Date.now() - 60_000;
  const tasks = applied(plan([old], [], nodes, opts(t0))).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const next = svc('s', 4, { ContainerSpec: { Image: 'broken' } });
  next.Spec.UpdateConfig = { Parallelism: 2, FailureAction: failureAction, ...extra };
  next.PreviousSpec = old.Spec;
  next.UpdateStatus = { State: 'updating', StartedAt: new Date(t0 + 1000).toISOString(), Message: 'update in progress' };
  return { nodes, old, next, tasks };
}

test('an update whose new tasks fail pauses (default failure action) and goes no further', () => {
  const { nodes, next, tasks } = updating(undefined);
  const b = batch(next, tasks, nodes);
  assert.equal(b.stop.update.filter((u) => u.patch.DesiredState === 'shutdown').length, 2, 'first batch of 2');
  assert.equal(b.created.length, 2);
  // the first batch's new tasks fail to start
  const failedAt = new Date().toISOString();
  const after = [...b.stopped, ...b.created.map((t) => ({ ...t, Status: { State: 'rejected', Err: 'No such image: broken', Timestamp: failedAt } }))];
  const p2 = plan([next], after, nodes, opts());
  const st = p2.services.find((s) => s.patch.UpdateStatus)?.patch.UpdateStatus;
  assert.equal(st?.State, 'paused');
  assert.match(st!.Message!, /^update paused due to failure or early termination of task t\d+$/);
  assert.equal(p2.update.filter((u) => u.patch.DesiredState === 'shutdown' && after.find((t) => t.ID === u.id)!.Status.State === 'running').length, 0, 'no more old tasks stop');
  // paused: nothing moves on, but the failed slots are retried like any failed task
  const paused = { ...next, UpdateStatus: st };
  const p3 = plan([paused], after, nodes, opts(Date.now() + 10_000));
  assert.equal(p3.update.filter((u) => u.patch.DesiredState === 'shutdown' && after.find((t) => t.ID === u.id)!.Status.State === 'running').length, 0);
  assert.equal(p3.services.length, 0);
});

test('failure action rollback brings the previous spec back; continue goes on; the ratio tolerates failures', () => {
  const fail = (action: string, extra: any = {}) => {
    const { nodes, next, tasks } = updating(action, extra);
    const b = batch(next, tasks, nodes);
    const after = [...b.stopped, { ...b.created[0], Status: { State: 'failed', Err: 'task: non-zero exit (1)', Timestamp: new Date().toISOString() } }];
    return { next, p2: plan([next], after, nodes, opts()) };
  };
  const rb = fail('rollback');
  const patch = rb.p2.services[0]?.patch;
  assert.equal(patch?.UpdateStatus?.State, 'rollback_started');
  assert.match(patch!.UpdateStatus!.Message!, /^update rolled back due to failure or early termination of task /);
  assert.deepEqual(patch!.Spec, rb.next.PreviousSpec);
  assert.ok('PreviousSpec' in patch! && patch!.PreviousSpec === undefined);
  assert.equal(fail('continue').p2.services.length, 0, 'continue: no status change');
  assert.equal(fail('pause', { MaxFailureRatio: 0.5 }).p2.services.length, 0, '1 failure of 4 is under a ratio of 0.5');
  assert.equal(fail('pause', { MaxFailureRatio: 0.2 }).p2.services[0]?.patch.UpdateStatus?.State, 'paused');
});

test('UpdateStatus: updating while old tasks remain, completed when none do', () => {
  const nodes = [node('a')];
  const old = svc('s', 1);
  const tasks = applied(plan([old], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  const next = svc('s', 1, { ContainerSpec: { Image: 'busybox', Env: ['V=2'] } });
  assert.equal(plan([next], tasks, nodes, opts()).services[0]?.patch.UpdateStatus?.State, 'updating', 'an update found without status gets one');
  const done = [{ ...tasks[0], DesiredState: 'shutdown', Status: { ...tasks[0].Status, State: 'shutdown' } }, ...applied(plan([next], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }))];
  next.UpdateStatus = { State: 'updating', StartedAt: new Date().toISOString() };
  assert.equal(plan([next], done, nodes, opts()).services.length, 0, 'the monitor period (5 s) after the last batch first');
  assert.equal(plan([next], done, nodes, opts(Date.now() + 6000)).services[0]?.patch.UpdateStatus?.State, 'completed');
  next.UpdateStatus = { State: 'rollback_started', StartedAt: new Date().toISOString() };
  assert.equal(plan([next], done, nodes, opts(Date.now() + 6000)).services[0]?.patch.UpdateStatus?.Message, 'rollback completed');
});

test('constraints: replicas spread over the matching nodes only', () => {
  const nodes = [node('a', { Labels: { zone: 'x' } }), node('b'), node('c', { Labels: { zone: 'x' } }), node('d', { Labels: { zone: 'y' } })];
  const p = plan([svc('s', 5, { Placement: { Constraints: ['node.labels.zone==x'] } })], [], nodes, opts());
  assert.deepEqual(p.create.map((t) => t.NodeID), ['a', 'c', 'a', 'c', 'a']);
});

test('a new service goes to the nodes with fewer tasks of all services first', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const busy = applied(plan([svc('s1', 2)], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  assert.deepEqual(busy.map((t) => t.NodeID), ['a', 'b']);
  const p = plan([svc('s1', 2), svc('s2', 3)], busy, nodes, opts());
  assert.deepEqual(p.create.map((t) => t.NodeID), ['c', 'a', 'b']);
});

test('no node available: tasks wait pending, then are placed when a node is ready', () => {
  const p = plan([svc('s', 2)], [], [node('a', {}, 'down'), node('b', { Availability: 'drain' })], opts());
  assert.deepEqual(p.create.map((t) => [t.Status.State, t.NodeID]), [['pending', undefined], ['pending', undefined]]);
  assert.equal(p.create[0].Status.Err, 'no suitable node (2 nodes not available for new tasks)');
  const later = plan([svc('s', 2)], p.create, [node('a'), node('b', { Availability: 'drain' })], opts());
  assert.equal(later.create.length, 0);
  assert.deepEqual(later.update.map((u) => [u.patch.NodeID, u.patch.Status?.State]), [['a', 'assigned'], ['a', 'assigned']]);
});

test('a task whose spec comes back with other key order or empty fields is not a spec change', () => {
  const nodes = [node('a')];
  const s = svc('s', 2, { Env: ['A=1'] });
  const tasks = applied(plan([s], [], nodes, opts())).map((t) => ({ ...t, Status: { ...t.Status, State: 'running' } }));
  tasks[0].Spec = { Env: ['A=1'], ContainerSpec: { Image: 'busybox' } };
  tasks[1].Spec = { ...JSON.parse(JSON.stringify(tasks[1].Spec)), Networks: [], Hostname: '' };
  const p = plan([s], tasks, nodes, opts());
  assert.deepEqual([p.create.length, p.update.length, p.remove.length], [0, 0, 0]);
  // and one that differs is
  tasks[1].Spec = { ContainerSpec: { Image: 'busybox' }, Env: ['A=2'] };
  assert.equal(plan([s], tasks, nodes, opts()).update.filter((u) => u.patch.DesiredState === 'shutdown').length, 1);
});

test('sameShape implies the same canonical form', () => {
  const same: [unknown, unknown][] = [[{ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }], [[undefined], [,]], [{}, {}]];
  for (const [x, y] of same) { assert.ok(sameShape(x, y)); assert.equal(canonical(x), canonical(y)); }
  // not the same shape (canonical may still agree: the planner then compares canonical forms)
  assert.ok(!sameShape({ a: 1, b: 2 }, { b: 2, a: 1 }));
  assert.ok(!sameShape([, 1], [2, 1]));
  assert.ok(!sameShape({ a: NaN }, { a: NaN }));
  assert.ok(!sameShape({ a: [] }, { a: {} }));
  assert.ok(!sameShape({ a: 1 }, { a: 1, b: '' }));
});

test('max replicas per node, reservations and their reasons', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const p = plan([svc('s', 4, { Placement: { MaxReplicas: 1 } })], [], nodes, opts());
  assert.deepEqual(p.create.map((t) => t.NodeID).sort(), ['a', 'b', 'c', undefined].sort());
  assert.equal(p.create.find((t) => !t.NodeID)!.Status.Err, 'no suitable node (max replicas per node limit exceed on 3 nodes)');
  const big = nodes.map((n) => ({ ...n, Description: { ...n.Description, Resources: { NanoCPUs: 2e9, MemoryBytes: 1e9 } } }));
  const r = plan([svc('r', 5, { Resources: { Reservations: { NanoCPUs: 1e9 } } })], [], big, opts());
  assert.equal(r.create.filter((t) => t.NodeID).length, 5, '2 CPUs a node: 6 would fit, 5 do');
  const r2 = plan([svc('r', 7, { Resources: { Reservations: { NanoCPUs: 1e9 } } })], [], big, opts());
  assert.equal(r2.create.filter((t) => !t.NodeID).length, 1);
  assert.equal(r2.create.find((t) => !t.NodeID)!.Status.Err, 'no suitable node (insufficient resources on 3 nodes)');
  const both = plan([svc('m', 2, { Placement: { Constraints: ['node.labels.zone==x'] }, Resources: { Reservations: { MemoryBytes: 2e9 } } })], [],
    [...big.slice(0, 2), { ...big[2], Spec: { ...big[2].Spec, Labels: { zone: 'x' } } }], opts());
  assert.equal(both.create[0].Status.Err, 'no suitable node (scheduling constraints not satisfied on 2 nodes; insufficient resources on 1 node)');
});

test('host-mode published ports: one task per node and port; other services and modes are not held back', () => {
  const nodes = [node('a'), node('b')];
  const hostPort = (port: number, mode = 'host') => ({ EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: mode }] } });
  const web = { ...svc('web', 3), Spec: { ...svc('web', 3).Spec, ...hostPort(8080) } };
  const p = plan([web], [], nodes, opts());
  assert.deepEqual(p.create.map((t) => t.NodeID ?? '-').sort(), ['-', 'a', 'b']);
  assert.equal(p.create.find((t) => !t.NodeID)!.Status.Err, 'no suitable node (host-mode port already in use on 2 nodes)');
  // the port is taken by a running task of another service on a: only b is left
  const running = applied(p).filter((t) => t.NodeID === 'a').map((t) => ({ ...t, ServiceID: 'old', Status: { ...t.Status, State: 'running' } }));
  const old = { ...svc('old', 1), ID: 'old', Spec: { ...svc('old', 1).Spec, ...hostPort(8080) } };
  const one = { ...svc('one', 2), Spec: { ...svc('one', 2).Spec, ...hostPort(8080) } };
  assert.deepEqual(plan([old, one], running, nodes, opts()).create.map((t) => t.NodeID ?? '-').sort(), ['-', 'b']);
  // a different port, or the ingress mode, is no conflict
  const other = { ...svc('other', 2), Spec: { ...svc('other', 2).Spec, ...hostPort(9090) } };
  const mesh = { ...svc('mesh', 4), Spec: { ...svc('mesh', 4).Spec, ...hostPort(8080, 'ingress') } };
  const q = plan([old, other, mesh], running, nodes, opts());
  assert.equal(q.create.filter((t) => !t.NodeID).length, 0);
});

test('placement preferences spread over label values first', () => {
  const nodes = [node('a', { Labels: { zone: 'x' } }), node('b', { Labels: { zone: 'x' } }), node('c', { Labels: { zone: 'y' } })];
  const p = plan([svc('s', 4, { Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] } })], [], nodes, opts());
  const per = (ids: (string | undefined)[]) => ids.reduce((m, id) => m.set(id!, (m.get(id!) ?? 0) + 1), new Map<string, number>());
  const on = per(p.create.map((t) => t.NodeID));
  assert.equal(on.get('c'), 2, 'zone y (one node) gets half of the tasks');
  assert.equal((on.get('a') ?? 0) + (on.get('b') ?? 0), 2);
});

test('jobs: each slot runs to completion, MaxConcurrent at a time; a global job once per node', () => {
  const nodes = [node('a'), node('b')];
  const job: PlanService = { ID: 'j', Spec: { Name: 'j', Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'on-failure' } } } };
  const p1 = plan([job], [], nodes, opts());
  assert.deepEqual(p1.create.map((t) => t.Slot), [1, 2]);
  const done = p1.create.map((t) => ({ ...t, Status: { ...t.Status, State: 'complete', Timestamp: new Date().toISOString() } }));
  const p2 = plan([job], done, nodes, opts());
  assert.deepEqual(p2.create.map((t) => t.Slot), [3]);
  const all = [...done.map((t) => ({ ...t, DesiredState: 'shutdown' })), { ...p2.create[0], Status: { ...p2.create[0].Status, State: 'complete' } }];
  assert.equal(plan([job], all, nodes, opts(Date.now() + 60_000)).create.length, 0, 'complete: nothing more');
  const gj: PlanService = { ID: 'g', Spec: { Name: 'g', Mode: { GlobalJob: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'on-failure' } } } };
  const g1 = plan([gj], [], nodes, opts());
  assert.equal(g1.create.length, 2);
  const gdone = g1.create.map((t) => ({ ...t, Status: { ...t.Status, State: 'complete' } }));
  assert.equal(plan([gj], gdone, nodes, opts(Date.now() + 60_000)).create.length, 0);
});
