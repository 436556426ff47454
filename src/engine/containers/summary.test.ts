import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchContainerFilters, parseFilterParam, statusText } from './summary.js';
import { freshState, type ContainerRecord } from './types.js';

const now = Date.parse('2026-01-01T00:10:00Z');
function rec(over: Partial<ContainerRecord['State']>, extra: any = {}): ContainerRecord {
  return { Id: extra.Id ?? 'a1', Name: extra.Name ?? '/n', Created: extra.Created ?? '2026-01-01T00:00:00Z', Image: 'sha256:i', State: { ...freshState(), ...over },
    Config: { Image: 'busybox', Labels: extra.Labels ?? {} }, HostConfig: { NetworkMode: 'none' }, NetworkSettings: { Networks: {} } } as unknown as ContainerRecord;
}

test('status strings like docker ps', () => {
  assert.equal(statusText(rec({}), now), 'Created');
  assert.equal(statusText(rec({ Running: true, Status: 'running', StartedAt: '2026-01-01T00:09:55Z' }), now), 'Up 5 seconds');
  assert.equal(statusText(rec({ Status: 'exited', ExitCode: 3, FinishedAt: '2026-01-01T00:08:00Z' }), now), 'Exited (3) 2 minutes ago');
  assert.equal(statusText(rec({ Running: true, Paused: true, Status: 'paused', StartedAt: '2026-01-01T00:00:00Z' }), now), 'Up 10 minutes (Paused)');
  assert.equal(statusText(rec({ Running: true, Status: 'running', StartedAt: '2026-01-01T00:09:59Z', Health: { Status: 'starting', FailingStreak: 0, Log: [] } }), now), 'Up 1 second (health: starting)');
});

test('filters: legacy map form, status, label, exited, name', () => {
  const f = parseFilterParam('{"label":{"a=1":true}}');
  assert.deepEqual(f, { label: ['a=1'] });
  const list = [rec({ Status: 'exited', ExitCode: 1, FinishedAt: '2026-01-01T00:01:00Z' }, { Id: 'x', Name: '/web', Labels: { a: '1' } }),
    rec({ Running: true, Status: 'running' }, { Id: 'y', Name: '/db' })];
  const m = (fl: any) => matchContainerFilters(list, fl, () => undefined, () => undefined).map((c) => c.Id);
  assert.deepEqual(m({ label: ['a=1'] }), ['x']);
  assert.deepEqual(m({ status: ['running'] }), ['y']);
  assert.deepEqual(m({ exited: ['1'] }), ['x']);
  assert.deepEqual(m({ name: ['we'] }), ['x']);
  assert.throws(() => m({ bogus: ['1'] }), /invalid filter 'bogus'/);
});
