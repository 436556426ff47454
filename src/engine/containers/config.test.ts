import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultHostConfig, mergeConfig, mergeEnv, parseSignal } from './config.js';

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
