import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges, parseDuration } from './changes.js';
import { parseTimestamp } from './timestamp.js';

test('applies Dockerfile changes like docker import --change', () => {
  const c = applyChanges({}, [
    'CMD ["sh"]',
    'ENV A=1 B="two words"',
    'ENV PATH /usr/bin:/bin',
    'ENV C=$A-${B}',
    'WORKDIR /srv',
    'WORKDIR app',
    'USER nobody',
    'EXPOSE 80 53/udp 8000-8001',
    'LABEL org.x="y z" k=v',
    'VOLUME ["/data"]',
    'VOLUME /a /b',
    'onbuild RUN echo hi',
    'HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost',
  ]);
  assert.deepEqual(c.Cmd, ['sh']);
  assert.deepEqual(c.Env, ['A=1', 'B=two words', 'PATH=/usr/bin:/bin', 'C=1-two words']);
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(Object.keys(c.ExposedPorts), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp']);
  assert.deepEqual(c.Labels, { 'org.x': 'y z', k: 'v' });
  assert.deepEqual(Object.keys(c.Volumes), ['/data', '/a', '/b']);
  assert.deepEqual(c.OnBuild, ['RUN echo hi']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Retries: 3 });
});

test('ENTRYPOINT shell form and its reset of CMD', () => {
  assert.deepEqual(applyChanges({}, ['ENTRYPOINT top -b']), { Entrypoint: ['/bin/sh', '-c', 'top -b'], Cmd: null });
  assert.deepEqual(applyChanges({}, ['CMD ["x"]', 'ENTRYPOINT ["/e"]']), { Cmd: ['x'], Entrypoint: ['/e'] });
  assert.deepEqual(applyChanges({}, ['CMD echo a \\', '  b']).Cmd, ['/bin/sh', '-c', 'echo a   b']);
});

test('invalid changes give docker errors (400)', () => {
  const bad: [string, RegExp][] = [
    ['RUN echo', /^run is not a valid change command$/],
    ['STOPSIGNAL SIGKILL', /^stopsignal is not a valid change command$/],
    ['FOO bar', /^foo is not a valid change command$/],
    ['ENV onlykey', /^dockerfile parse error line 1: ENV must have two arguments$/],
    ['LABEL a=b c', /^dockerfile parse error line 1: Syntax error - can't find = in "c"/],
    ['CMD [1, 2]', /^dockerfile parse error line 1: when using JSON array syntax/],
    ['EXPOSE http', /^invalid containerPort: http$/],
    ['HEALTHCHECK FOO x', /Unknown type "FOO" in HEALTHCHECK/],
    ['ONBUILD ONBUILD RUN x', /Chaining ONBUILD/],
  ];
  for (const [change, re] of bad) {
    assert.throws(() => applyChanges({}, [change]), (e: any) => e.status === 400 && re.test(e.message), change);
  }
});

test('durations and timestamps', () => {
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('250ms'), 250e6);
  assert.throws(() => parseDuration('5x'));
  assert.equal(parseTimestamp('10m', 1_000_000_000), 1_000_000_000 - 600_000);
  assert.equal(parseTimestamp('1700000000'), 1_700_000_000_000);
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1_700_000_000_000);
  assert.throws(() => parseTimestamp('yesterday'), /failed to parse/);
});
