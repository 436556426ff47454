import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { main } from './main.js';
import { encodeFrame } from './stdcopy.js';
import { fakeDaemon, json, testIO, UPGRADED, type FakeDaemon } from './testutil.js';

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';

async function run(d: FakeDaemon | string, args: string[], input: string | null = '') {
  const io = testIO(input);
  const host = typeof d === 'string' ? d : d.host;
  const code = await main(['-H', host, ...args], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

/** A daemon that runs one container: attach streams its output once started, wait reports `exitCode`. */
async function containerDaemon(exitCode: number, opts: { startError?: [number, string]; createError?: [number, string] } = {}) {
  let attachSock: import('node:stream').Duplex | undefined;
  let waitRes: ServerResponse | undefined;
  const order: string[] = [];
  const d = await fakeDaemon({
    'POST /containers/create': (req, res) => {
      order.push('create');
      if (opts.createError) return json(res, opts.createError[0], { message: opts.createError[1] });
      json(res, 201, { Id: ID, Warnings: [] , echo: req.json() });
    },
    'POST /images/create': (_req, res) => { order.push('pull'); json(res, 404, { message: 'pull access denied for nosuch, repository does not exist' }); },
    [`POST /containers/${ID}/wait`]: (req, res) => {
      order.push(`wait:${req.query.get('condition')}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      waitRes = res;
    },
    [`POST /containers/${ID}/start`]: (_req, res) => {
      order.push('start');
      if (opts.startError) {
        json(res, opts.startError[0], { message: opts.startError[1] });
        attachSock?.end();
        return;
      }
      res.writeHead(204); res.end();
      setTimeout(() => {
        attachSock?.write(encodeFrame(1, 'to stdout\n'));
        attachSock?.write(encodeFrame(2, 'to stderr\n'));
        attachSock?.end();
        waitRes?.end(JSON.stringify({ StatusCode: exitCode, Error: null }) + '\n');
      }, 10);
    },
  }, {
    [`POST /containers/${ID}/attach`]: (req, socket) => {
      order.push(`attach:${req.query.get('stdout')}${req.query.get('stderr')}${req.query.get('stdin')}`);
      socket.write(UPGRADED);
      attachSock = socket;
    },
  });
  return { d, order };
}

test('run: attach before start, stream stdout/stderr, exit with the container status', async () => {
  const { d, order } = await containerDaemon(3);
  try {
    const r = await run(d, ['run', '--name', 'x', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal(r.out, 'to stdout\n');
    assert.equal(r.err, 'to stderr\n');
    assert.equal(r.code, 3);
    assert.deepEqual(order, ['create', 'attach:110', 'wait:next-exit', 'start']);
    const create = d.requests.find((x) => x.path === '/containers/create')!;
    assert.equal(create.query.get('name'), 'x');
    assert.deepEqual(create.json().Cmd, ['sh', '-c', 'exit 3']);
  } finally { await d.close(); }
});

test('run --rm waits for removal', async () => {
  const { d, order } = await containerDaemon(0);
  try {
    const r = await run(d, ['run', '--rm', 'busybox']);
    assert.equal(r.code, 0);
    assert.ok(order.includes('wait:removed'));
  } finally { await d.close(); }
});

test('run -d prints the full ID and starts', async () => {
  const { d, order } = await containerDaemon(0);
  try {
    const r = await run(d, ['run', '-d', 'busybox', 'sleep', '9']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `${ID}\n`);
    assert.deepEqual(order, ['create', 'start']);
  } finally { await d.close(); }
});

test('run: 127 / 126 / 125 from the start error', async () => {
  for (const [msg, code] of [
    ['OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown', 127],
    ['OCI runtime create failed: exec: "/etc": permission denied: unknown', 126],
    ['cannot start: something else', 125],
  ] as const) {
    const { d } = await containerDaemon(0, { startError: [400, msg] });
    try {
      const r = await run(d, ['run', 'busybox', 'x']);
      assert.equal(r.code, code, msg);
      assert.equal(r.err, `shoal: Error response from daemon: ${msg}.\n`);
    } finally { await d.close(); }
  }
});

test('run: a missing image is "pulled" and the pull error reported like docker', async () => {
  const { d, order } = await containerDaemon(0, { createError: [404, 'No such image: nosuch:latest'] });
  try {
    const r = await run(d, ['run', 'nosuch']);
    assert.equal(r.code, 125);
    assert.equal(r.err, "Unable to find image 'nosuch:latest' locally\nshoal: Error response from daemon: pull access denied for nosuch, repository does not exist.\nSee 'shoal run --help'.\n");
    assert.deepEqual(order, ['create', 'pull']);
    const pull = d.requests.find((x) => x.path === '/images/create')!;
    assert.equal(pull.query.get('fromImage'), 'nosuch');
    assert.equal(pull.query.get('tag'), 'latest');
  } finally { await d.close(); }
});

test('create prints the ID; daemon errors exit 1', async () => {
  const { d } = await containerDaemon(0);
  try {
    const r = await run(d, ['create', '-e', 'A=1', 'busybox']);
    assert.equal(r.out, `${ID}\n`);
    assert.equal(r.code, 0);
  } finally { await d.close(); }
  const bad = await containerDaemon(0, { createError: [409, 'Conflict. The container name "/x" is already in use'] });
  try {
    const r = await run(bad.d, ['create', '--name', 'x', 'busybox']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'Error response from daemon: Conflict. The container name "/x" is already in use\n');
  } finally { await bad.d.close(); }
});

test('usage errors', async () => {
  let r = await run('unix:///nonexistent.sock', ['run']);
  assert.equal(r.code, 125);
  assert.match(r.err, /^"shoal run" requires at least 1 argument\.\nSee 'shoal run --help'\.\n\nUsage:  shoal run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n/);
  r = await run('unix:///nonexistent.sock', ['ps', '--bogus']);
  assert.deepEqual([r.code, r.err], [125, "unknown flag: --bogus\nSee 'shoal ps --help'.\n"]);
  r = await run('unix:///nonexistent.sock', ['container', 'ls', 'extra']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^"shoal container ls" accepts no arguments\./);
  r = await run('unix:///nonexistent.sock', ['stop']);
  assert.equal(r.code, 1);
  r = await run('unix:///nonexistent.sock', ['frobnicate']);
  assert.deepEqual([r.code, r.err], [1, "shoal: 'frobnicate' is not a shoal command.\nSee 'shoal --help'\n"]);
  r = await run('unix:///nonexistent.sock', ['run', '--rm', '--restart', 'always', 'busybox']);
  assert.deepEqual([r.code, r.err], [125, "shoal: conflicting options: cannot specify both --restart and --rm.\nSee 'shoal run --help'.\n"]);
  r = await run('unix:///nonexistent.sock', ['ps', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage:  shoal ps \[OPTIONS\]/);
});

test('cannot connect', async () => {
  const r = await run('unix:///nonexistent/x.sock', ['ps']);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Cannot connect to the shoal daemon at unix:///nonexistent/x.sock. Is the daemon running?\n');
  const io = testIO('', { DOCKER_HOST: 'unix:///from/env.sock' });
  assert.equal(await main(['info'], io), 1);
  assert.match(io.stderr.text, /Cannot connect to the shoal daemon at unix:\/\/\/from\/env\.sock/);
  const io2 = testIO('', { DOCKER_HOST: 'unix:///docker.sock', SHOAL_HOST: 'unix:///shoal.sock' });
  await main(['ps'], io2);
  assert.match(io2.stderr.text, /unix:\/\/\/shoal\.sock/);
});

test('ps, rm, inspect, logs, exec against a fake daemon', async () => {
  const now = Math.floor(Date.now() / 1000);
  const d = await fakeDaemon({
    'GET /containers/json': (req, res) => json(res, 200, req.query.get('all') === '1' ? [
      { Id: ID, Names: ['/web'], Image: 'busybox', ImageID: 'sha256:1', Command: 'sleep 1000', Created: now - 5, Ports: [], Labels: {}, State: 'running', Status: 'Up 4 seconds' },
    ] : []),
    'DELETE /containers/a': (_req, res) => { res.writeHead(204); res.end(); },
    'DELETE /containers/b': (_req, res) => json(res, 404, { message: 'No such container: b' }),
    'GET /containers/web/json': (_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"Id":"x","Config":{"Tty":false,"Cmd":["a<b"]},"State":{"Running":true},"Empty":{},"List":[]}\n'); },
    'GET /containers/nope/json': (_req, res) => json(res, 404, { message: 'No such container: nope' }),
    'GET /containers/web/logs': (req, res) => {
      assert.equal(req.query.get('tail'), '2');
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.end(Buffer.concat([encodeFrame(1, 'l1\n'), encodeFrame(2, 'e1\n')]));
    },
    'POST /containers/web/exec': (req, res) => json(res, 201, { Id: 'ex1', cfg: req.json() }),
    'GET /exec/ex1/json': (_req, res) => json(res, 200, { ExitCode: 5, Running: false }),
  }, {
    'POST /exec/ex1/start': (_req, socket) => {
      socket.write(UPGRADED);
      socket.end(encodeFrame(1, 'exec out\n'));
    },
  });
  try {
    let r = await run(d, ['ps', '-a']);
    assert.equal(r.code, 0);
    const lines = r.out.split('\n');
    assert.equal(lines[0], 'CONTAINER ID   IMAGE     COMMAND        CREATED         STATUS         PORTS     NAMES');
    assert.equal(lines[1], 'f00dfeedcafe   busybox   "sleep 1000"   5 seconds ago   Up 4 seconds             web');
    r = await run(d, ['ps', '-q', '-a']);
    assert.equal(r.out, 'f00dfeedcafe\n');

    r = await run(d, ['rm', 'a', 'b']);
    assert.deepEqual([r.code, r.out, r.err], [1, 'a\n', 'Error response from daemon: No such container: b\n']);
    r = await run(d, ['rm', '-f', 'b']);
    assert.deepEqual([r.code, r.err], [0, '']);

    r = await run(d, ['inspect', 'web']);
    assert.equal(r.out, '[\n    {\n        "Id": "x",\n        "Config": {\n            "Tty": false,\n            "Cmd": [\n                "a<b"\n            ]\n        },\n        "State": {\n            "Running": true\n        },\n        "Empty": {},\n        "List": []\n    }\n]\n');
    r = await run(d, ['inspect', '-f', '{{.State.Running}} {{index .Config.Cmd 0}}', 'web']);
    assert.equal(r.out, 'true a<b\n');
    r = await run(d, ['container', 'inspect', 'web', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'Error response from daemon: No such container: nope\n');
    assert.ok(r.out.startsWith('[\n    {'));

    r = await run(d, ['logs', '--tail', '2', 'web']);
    assert.deepEqual([r.code, r.out, r.err], [0, 'l1\n', 'e1\n']);

    r = await run(d, ['exec', '-e', 'A=1', 'web', 'sh', '-c', 'exit 5']);
    assert.deepEqual([r.code, r.out], [5, 'exec out\n']);
    const ex = d.requests.find((x) => x.path === '/containers/web/exec')!.json();
    assert.deepEqual(ex.Cmd, ['sh', '-c', 'exit 5']);
    assert.deepEqual(ex.Env, ['A=1']);
    assert.equal(ex.AttachStdout, true);
  } finally { await d.close(); }
});

test('prune prompts, version prints both sections', async () => {
  const d = await fakeDaemon({
    'POST /containers/prune': (_req, res) => json(res, 200, { ContainersDeleted: ['c1', 'c2'], SpaceReclaimed: 1234 }),
    'GET /version': (_req, res) => json(res, 200, { Version: '0.1.0', ApiVersion: '1.41', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', GoVersion: 'go', GitCommit: 'g', BuildTime: 'b', Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.41', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', GoVersion: 'go', GitCommit: 'g', BuildTime: 'b', Experimental: 'false' } }] }),
  });
  try {
    let r = await run(d, ['container', 'prune'], 'n\n');
    assert.deepEqual([r.code, r.out], [0, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ']);
    assert.equal(d.requests.filter((x) => x.path === '/containers/prune').length, 0);
    r = await run(d, ['container', 'prune'], 'y\n');
    assert.equal(r.out, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Deleted Containers:\nc1\nc2\n\nTotal reclaimed space: 1.234kB\n');
    r = await run(d, ['container', 'prune', '-f']);
    assert.equal(r.out, 'Deleted Containers:\nc1\nc2\n\nTotal reclaimed space: 1.234kB\n');

    r = await run(d, ['version']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Client:\n Version:           \S+\n API version:       1\.41\n/);
    assert.match(r.out, /\n\nServer:\n Engine:\n  Version:          0\.1\.0\n  API version:      1\.41 \(minimum version 1\.24\)\n/);
    r = await run(d, ['version', '--format', '{{.Server.Version}}/{{.Client.APIVersion}}/{{.Server.APIVersion}}']);
    assert.equal(r.out, '0.1.0/1.41/1.41\n');
  } finally { await d.close(); }
});
