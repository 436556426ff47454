import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultHostConfig, mergeCommitConfig, mergeConfig, mergeEnv, parseSignal } from './config.js';

const img = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], WorkingDir: '/w', Labels: { l: 'img' } };

test('image defaults apply; body overrides', () => {
  const c = mergeConfig({ Image: 'busybox', Env: ['A=2', 'B=3'], Labels: { m: 'x' } }, img);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=3']);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.equal(c.WorkingDir, '/w');
  assert.deepEqual(c.Labels, { l: 'img', m: 'x' });
});

test('an explicit entrypoint drops the image CMD; "" resets the entrypoint', () => {
  const c = mergeConfig({ Image: 'b', Entrypoint: ['echo'] }, { ...img, Entrypoint: ['/init'] });
  assert.deepEqual(c.Entrypoint, ['echo']);
  assert.equal(c.Cmd, null);
  const d = mergeConfig({ Image: 'b', Entrypoint: [''], Cmd: ['ls'] }, { ...img, Entrypoint: ['/init'] });
  assert.equal(d.Entrypoint, null);
  assert.deepEqual(d.Cmd, ['ls']);
});

test('no command at all is refused with docker\'s message', () => {
  assert.throws(() => mergeConfig({ Image: 'b' }, {}), /No command specified/);
});

test('mergeEnv keeps order and overrides by key', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['A=3']), ['A=3', 'B=2']);
});

test('restart policy validation', () => {
  assert.throws(() => defaultHostConfig({ RestartPolicy: { Name: 'sometimes' } }), /invalid restart policy/);
  assert.throws(() => defaultHostConfig({ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }), /maximum retry count/);
  assert.throws(() => defaultHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }), /--restart and --rm/);
  assert.equal(defaultHostConfig({}).NetworkMode, 'default');
});

test('signals', () => {
  assert.equal(parseSignal('TERM'), 'SIGTERM');
  assert.equal(parseSignal('9'), 'SIGKILL');
  assert.equal(parseSignal(undefined, 'SIGTERM'), 'SIGTERM');
  assert.throws(() => parseSignal('NOPE'), /Invalid signal/);
});

test('commit: a given config is completed from the container\'s (Docker\'s merge)', () => {
  const container = {
    User: 'app', Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/w', Labels: { l: 'c', k: 'c' },
    ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGINT', Healthcheck: { Test: ['CMD', 'true'], Interval: 5 },
  };
  const m = mergeCommitConfig({ Env: ['A=2', 'B=3'], Labels: { k: 'given' }, ExposedPorts: { '443/tcp': {} }, Healthcheck: { Retries: 2 } }, container);
  assert.deepEqual(m.Env, ['A=2', 'B=3', 'PATH=/bin']);
  assert.deepEqual(m.Labels, { l: 'c', k: 'given' });
  assert.deepEqual(m.ExposedPorts, { '443/tcp': {}, '80/tcp': {} });
  assert.deepEqual(m.Healthcheck, { Retries: 2, Test: ['CMD', 'true'], Interval: 5 });
  assert.deepEqual(m.Cmd, ['sh']);
  assert.equal(m.User, 'app');
  assert.equal(m.WorkingDir, '/w');
  assert.deepEqual(m.Volumes, { '/data': {} });
  assert.equal(m.StopSignal, 'SIGINT');
  // an entrypoint of its own keeps the given config's (empty) command
  const e = mergeCommitConfig({ Entrypoint: ['/init'] }, container);
  assert.deepEqual(e.Entrypoint, ['/init']);
  assert.equal(e.Cmd, undefined);
  assert.deepEqual(container.Env, ['PATH=/bin', 'A=1'], 'the container\'s config is left alone');
});
