import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Opts } from '../command.js';
import { buildServiceSpec, updateServiceSpec } from './service-spec.js';

/** Options as the parser hands them over: camelCase values plus the long names given. */
function opts(given: Record<string, unknown>): Opts {
  const o: any = { _changed: new Set(Object.keys(given)) };
  for (const [k, v] of Object.entries(given)) o[k.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = v;
  return o;
}

test('create: Docker defaults, then every flag in its place', () => {
  const d = buildServiceSpec('busybox', ['sleep', '60'], opts({}), {}, '/');
  assert.deepEqual(d.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(d.UpdateConfig, { Parallelism: 1, FailureAction: 'pause', Monitor: 5e9, MaxFailureRatio: 0, Order: 'stop-first' });
  assert.deepEqual(d.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5e9, MaxAttempts: 0 });
  const s = buildServiceSpec('busybox', [], opts({
    replicas: '4', 'replicas-max-per-node': '1', 'limit-memory': '64m', 'reserve-cpu': '0.5', 'limit-pids': '20',
    mount: ['type=tmpfs,target=/scratch', 'type=volume,source=data-{{.Task.Slot}},target=/data'], 'placement-pref': ['spread=node.labels.zone'],
    'health-cmd': 'true', 'health-interval': '2s', 'update-failure-action': 'rollback', 'update-parallelism': '2', 'rollback-order': 'start-first',
    'restart-max-attempts': '3', 'restart-window': '1m', hostname: '{{.Service.Name}}-{{.Task.Slot}}', 'read-only': true, init: true,
  }), {}, '/');
  const tt = s.TaskTemplate;
  assert.equal(s.Mode.Replicated.Replicas, 4);
  assert.deepEqual(tt.Placement, { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 1 });
  assert.deepEqual(tt.Resources, { Limits: { MemoryBytes: 64 * 1024 * 1024, Pids: 20 }, Reservations: { NanoCPUs: 5e8 } });
  assert.deepEqual(tt.ContainerSpec.Mounts.map((m: any) => [m.Type, m.Source, m.Target]), [['tmpfs', undefined, '/scratch'], ['volume', 'data-{{.Task.Slot}}', '/data']]);
  assert.deepEqual(tt.ContainerSpec.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 2e9 });
  assert.equal(s.UpdateConfig.FailureAction, 'rollback');
  assert.equal(s.UpdateConfig.Parallelism, 2);
  assert.equal(s.RollbackConfig.Order, 'start-first');
  assert.deepEqual(tt.RestartPolicy, { Condition: 'any', Delay: 5e9, MaxAttempts: 3, Window: 60e9 });
  assert.equal(tt.ContainerSpec.Hostname, '{{.Service.Name}}-{{.Task.Slot}}');
  assert.equal(tt.ContainerSpec.ReadOnly, true);
  assert.equal(tt.ContainerSpec.Init, true);
});

test('create: jobs and bad values', () => {
  const j = buildServiceSpec('busybox', [], opts({ mode: 'replicated-job', replicas: '5' }), {}, '/');
  assert.deepEqual(j.Mode, { ReplicatedJob: { MaxConcurrent: 5, TotalCompletions: 5 } });
  assert.equal(j.TaskTemplate.RestartPolicy.Condition, 'on-failure');
  assert.equal(j.UpdateConfig, undefined);
  assert.throws(() => buildServiceSpec('busybox', [], opts({ mode: 'global', replicas: '2' }), {}, '/'), /replicas can only be used with replicated or replicated-job mode/);
  assert.throws(() => buildServiceSpec('busybox', [], opts({ mode: 'bogus' }), {}, '/'), /invalid service mode: bogus/);
  assert.throws(() => buildServiceSpec('busybox', [], opts({ 'update-failure-action': 'explode' }), {}, '/'), /must be one of "pause", "continue", "rollback"/);
  assert.throws(() => buildServiceSpec('busybox', [], opts({ 'placement-pref': ['binpack=x'] }), {}, '/'), /only spread is supported/);
  assert.throws(() => buildServiceSpec('busybox', [], opts({ 'no-healthcheck': true, 'health-cmd': 'x' }), {}, '/'), /--no-healthcheck conflicts with --health-\* options/);
});

test('update: only the flags given change; -add/-rm edit lists by key', () => {
  const cur = buildServiceSpec('busybox', ['sleep', '60'], opts({ env: ['A=1', 'B=2'], label: ['x=1'], constraint: ['node.role==worker'], mount: ['type=tmpfs,target=/t'], replicas: '3' }), {}, '/');
  const next = updateServiceSpec(cur, opts({ 'env-add': ['B=3', 'C=4'], 'env-rm': ['A'], 'label-rm': ['x'], 'label-add': ['y=2'], 'constraint-rm': ['node.role == worker'],
    'constraint-add': ['node.labels.zone==a'], 'mount-rm': ['/t'], 'mount-add': ['type=tmpfs,target=/u'], image: 'busybox:2', force: true }), {}, '/');
  assert.deepEqual(next.TaskTemplate.ContainerSpec.Env, ['B=3', 'C=4']);
  assert.deepEqual(next.Labels, { y: '2' });
  assert.deepEqual(next.TaskTemplate.Placement.Constraints, ['node.labels.zone==a']);
  assert.deepEqual(next.TaskTemplate.ContainerSpec.Mounts.map((m: any) => m.Target), ['/u']);
  assert.equal(next.TaskTemplate.ContainerSpec.Image, 'busybox:2');
  assert.equal(next.TaskTemplate.ForceUpdate, 1);
  assert.equal(next.Mode.Replicated.Replicas, 3);
  assert.deepEqual(next.TaskTemplate.ContainerSpec.Args, ['sleep', '60']);
  assert.deepEqual(cur.TaskTemplate.ContainerSpec.Env, ['A=1', 'B=2'], 'the current spec is not touched');
});
