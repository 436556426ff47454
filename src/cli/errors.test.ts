import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonError, exitCodeOf, joinErrors, runStatusError, StatusError, UsageError } from './errors.js';

test('daemon errors read like docker', () => {
  const e = new DaemonError(404, 'No such container: x');
  assert.equal(e.message, 'Error response from daemon: No such container: x');
  assert.equal(exitCodeOf(e), 1);
});

test('run/create exit codes: 125 daemon refusal, 126 cannot invoke, 127 not found', () => {
  const m = (msg: string) => runStatusError(new DaemonError(400, msg), 'shoal run');
  const notFound = m('OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown');
  assert.equal(notFound.code, 127);
  assert.equal(notFound.message, 'shoal: Error response from daemon: OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown.\nSee \'shoal run --help\'.');
  assert.equal(runStatusError(new Error('x.'), 'shoal run', false).message, 'shoal: x.');
  assert.equal(m('exec: "/x": stat /x: no such file or directory').code, 127);
  assert.equal(m('exec: "/etc/passwd": permission denied: unknown').code, 126);
  assert.equal(m('Conflict. The container name "/x" is already in use').code, 125);
  assert.equal(runStatusError(new Error('Cannot connect to the shoal daemon at unix:///x. Is the daemon running?'), 'shoal run').code, 125);
  assert.equal(exitCodeOf(m('whatever')), 125);
});

test('status and usage errors carry their codes', () => {
  assert.equal(exitCodeOf(new StatusError('', 3)), 3);
  assert.equal(exitCodeOf(new StatusError('x', 0)), 1);
  assert.equal(exitCodeOf(new UsageError('x')), 125);
  assert.equal(exitCodeOf(new UsageError('x', 1)), 1);
  assert.equal(exitCodeOf(new Error('x')), 1);
});

test('joined errors', () => {
  assert.equal(joinErrors([]), undefined);
  assert.equal(joinErrors([new DaemonError(404, 'No such container: a'), new Error('b')])!.message, 'Error response from daemon: No such container: a\nb');
});
