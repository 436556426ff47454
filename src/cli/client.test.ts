import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQuery, Client, filtersJson, jsonStream, JsonSplitter, parseFilters, parseHost } from './client.js';
import { ConnectError, DaemonError } from './errors.js';
import { readAll } from './client.js';
import { encodeFrame, stdCopy } from './stdcopy.js';
import { fakeDaemon, json, UPGRADED } from './testutil.js';
import { PassThrough, Readable } from 'node:stream';

test('host parsing', () => {
  assert.deepEqual(parseHost('unix:///run/shoal/shoal.sock'), { socketPath: '/run/shoal/shoal.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { hostname: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseHost('tcp://example.com'), { hostname: 'example.com', port: 2375 });
  assert.deepEqual(parseHost('tcp://[::1]:1234'), { hostname: '::1', port: 1234 });
  assert.throws(() => parseHost('bogus'), /unable to parse docker host `bogus`/);
});

test('query and filters', () => {
  assert.equal(buildQuery({ all: true, size: false, limit: 3, name: undefined, x: null }), '?all=1&size=0&limit=3');
  assert.equal(buildQuery({ names: ['a', 'b'] }), '?names=a&names=b');
  assert.deepEqual(parseFilters(['label=a=b', 'status=exited', 'label=c']), { label: ['a=b', 'c'], status: ['exited'] });
  assert.throws(() => parseFilters(['nope']), /bad format of filter \(expected name=value\)/);
  assert.equal(filtersJson({ status: ['exited', 'created'] }), '{"status":{"exited":true,"created":true}}');
  assert.equal(filtersJson({}), undefined);
});

test('JSON stream splitting (newlines or not, strings with braces)', async () => {
  const s = new JsonSplitter();
  assert.deepEqual(s.push('{"a":1}{"b":"}{"'), ['{"a":1}']);
  assert.deepEqual(s.push('}\n{"c":[1,'), ['{"b":"}{"}']);
  assert.deepEqual(s.push('2]}\n'), ['{"c":[1,2]}']);
  const out: unknown[] = [];
  for await (const v of jsonStream(Readable.from([Buffer.from('{"x":"\\"}"}\n{"y'), Buffer.from('":2}')]))) out.push(v);
  assert.deepEqual(out, [{ x: '"}' }, { y: 2 }]);
});

test('JSON requests, API version prefix, daemon errors', async () => {
  const d = await fakeDaemon({
    'GET /containers/json': (req, res) => json(res, 200, [{ Id: 'abc', q: req.query.get('all') }]),
    'POST /containers/create': (req, res) => json(res, 201, { Id: 'new', name: req.query.get('name'), body: req.json() }),
    'DELETE /containers/gone': (_req, res) => json(res, 404, { message: 'No such container: gone' }),
    'GET /plain': (_req, res) => { res.writeHead(500); res.end('boom\n'); },
  });
  try {
    const c = new Client(d.host);
    assert.deepEqual(await c.get('/containers/json', { all: true }), [{ Id: 'abc', q: '1' }]);
    assert.equal(d.requests[0].headers.host, 'api.moby.localhost');
    const created = await c.post('/containers/create', { name: 'web' }, { Image: 'busybox' });
    assert.deepEqual(created, { Id: 'new', name: 'web', body: { Image: 'busybox' } });
    assert.equal(d.requests[1].headers['content-type'], 'application/json');
    await assert.rejects(c.delete('/containers/gone'), (e: unknown) => e instanceof DaemonError && e.statusCode === 404 && e.message === 'Error response from daemon: No such container: gone');
    await assert.rejects(c.get('/plain'), /Error response from daemon: boom/);
    await assert.rejects(c.get('/nothing-here'), /Error response from daemon: page not found/);
  } finally {
    await d.close();
  }
});

test('connection failures read like docker', async () => {
  const c = new Client('unix:///nonexistent/dir/shoal.sock');
  await assert.rejects(c.get('/info'), (e: unknown) => e instanceof ConnectError && e.message === 'Cannot connect to the shoal daemon at unix:///nonexistent/dir/shoal.sock. Is the daemon running?');
});

test('streaming responses and raw bodies', async () => {
  const d = await fakeDaemon({
    'GET /events': (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"Type":"container","Action":"start"}\n');
      setTimeout(() => res.end('{"Type":"container","Action":"die"}\n'), 20);
    },
    'POST /images/load': async (req, res) => json(res, 200, { got: req.body.toString() }),
  });
  try {
    const c = new Client(d.host);
    const res = await c.request('GET', '/events');
    const evs: any[] = [];
    for await (const e of jsonStream(res)) evs.push(e.Action);
    assert.deepEqual(evs, ['start', 'die']);
    assert.deepEqual(await c.json('POST', '/images/load', { raw: Readable.from([Buffer.from('ta'), Buffer.from('r')]) }), { got: 'tar' });
    assert.deepEqual(await c.json('POST', '/images/load', { raw: Buffer.from('buf') }), { got: 'buf' });
  } finally {
    await d.close();
  }
});

test('hijack: 101 UPGRADED, bidirectional, half-close keeps reading', async () => {
  const d = await fakeDaemon({}, {
    'POST /containers/abc/attach': (req, socket) => {
      assert.equal(req.headers.upgrade, 'tcp');
      assert.equal(req.headers.connection, 'Upgrade');
      socket.write(UPGRADED);
      socket.write(encodeFrame(1, 'hello\n'));
      let input = '';
      socket.on('data', (b: Buffer) => { input += b.toString(); });
      socket.on('end', () => {
        // stdin closed by the client: answer with what was read, then close
        socket.write(encodeFrame(2, `got:${input}`));
        socket.end();
      });
    },
  });
  try {
    const c = new Client(d.host);
    const h = await c.hijack('/containers/abc/attach', { query: { stream: true, stdin: true } });
    assert.equal(h.contentType, 'application/vnd.docker.multiplexed-stream');
    const out = new PassThrough(); const err = new PassThrough();
    let o = ''; let e = '';
    out.on('data', (b) => { o += b; }); err.on('data', (b) => { e += b; });
    const done = stdCopy(h.stream, out, err);
    h.stream.write('ping');
    h.stream.end();
    await done;
    assert.equal(o, 'hello\n');
    assert.equal(e, 'got:ping');
  } finally {
    await d.close();
  }
});

test('hijack: a plain 200 raw stream is accepted; errors are daemon errors', async () => {
  const d = await fakeDaemon({}, {
    'POST /exec/e1/start': (_req, socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nraw output');
    },
    'POST /exec/missing/start': (_req, socket) => {
      const body = '{"message":"No such exec instance: missing"}';
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    },
  });
  try {
    const c = new Client(d.host);
    const h = await c.hijack('/exec/e1/start');
    assert.equal(h.contentType, 'application/vnd.docker.raw-stream');
    assert.equal((await readAll(h.stream)).toString(), 'raw output');
    await assert.rejects(c.hijack('/exec/missing/start'), /^Error: Error response from daemon: No such exec instance: missing$/);
  } finally {
    await d.close();
  }
});
