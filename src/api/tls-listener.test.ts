import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createLogger } from '../daemon/logger.js';
import { createRootCA, issueNodeKeyAndCert } from '../swarm/ca/index.js';
import { Router } from './router.js';
import { ApiServer } from './server.js';

// An API server over TLS with client verification: a ping, and a hijacked stream that answers
// only after the client has half-closed (as `run -i` with stdin piped does).
let server: ApiServer;
let port = 0;
let ca: { certPem: string; keyPem: string };
let client: { certPem: string; keyPem: string };
let stranger: { certPem: string; keyPem: string };

before(async () => {
  ca = await createRootCA();
  const other = await createRootCA();
  const srv = await issueNodeKeyAndCert(ca, { nodeId: 'daemon', role: 'manager', clusterId: 'test', ips: ['127.0.0.1'] });
  client = await issueNodeKeyAndCert(ca, { nodeId: 'client', role: 'worker', clusterId: 'test' });
  stranger = await issueNodeKeyAndCert(other, { nodeId: 'client', role: 'worker', clusterId: 'test' });
  const router = new Router();
  router.get('/_ping', () => 'OK');
  router.post('/shout', async (ctx) => {
    const body = await ctx.json();
    const sock = ctx.hijack();
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('end', () => { sock.end(`${body.prefix ?? ''}${Buffer.concat(got).toString().toUpperCase()}`); });
  });
  server = new ApiServer(router, createLogger('silent'));
  const addr = await server.listen('tcp://127.0.0.1:0', {
    cert: Buffer.from(srv.certPem), key: Buffer.from(srv.keyPem), ca: [ca.certPem], verifyClients: true,
  });
  port = Number(addr.split(':').pop());
});

after(async () => { await server.close(); });

/** One request over a fresh TLS connection; resolves with everything the server sent. */
function exchange(opts: tls.ConnectionOptions, request: string, thenEnd = false, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, ...opts }, () => {
      s.write(request);
      if (body !== undefined) setTimeout(() => { s.write(body); if (thenEnd) s.end(); }, 50);
    });
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => resolve(Buffer.concat(got).toString()));
    s.on('error', reject);
  });
}

test('a client with a certificate from the CA is served', async () => {
  const out = await exchange({ cert: client.certPem, key: client.keyPem }, 'GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(out, /^HTTP\/1.1 200 OK/);
  assert.match(out, /\r\nOK\r\n/);
});

test('clients without a certificate, or with one from another CA, are refused', async () => {
  const req = 'GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  // TLS 1.3: the client's handshake completes first; then it gets an alert, or the connection is
  // closed before any answer
  await assert.rejects(exchange({}, req), /certificate required/);
  assert.equal(await exchange({ cert: stranger.certPem, key: stranger.keyPem }, req).catch((e: Error) => e.message), '');
});

test('plain HTTP to the TLS port gets Go\'s 400', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n'));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => resolve(Buffer.concat(got).toString()));
    s.on('error', reject);
  });
  assert.equal(out, 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
});

test('a hijacked stream over TLS keeps answering after the client half-closes', async () => {
  const out = await exchange({ cert: client.certPem, key: client.keyPem },
    'POST /shout HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n', true, 'hello over tls');
  assert.match(out, /^HTTP\/1.1 101 UPGRADED/);
  assert.ok(out.endsWith('\r\n\r\nHELLO OVER TLS'), out);
});

test('an upgrade request\'s body is the request\'s (exec start JSON), not the start of the stream', async () => {
  const body = '{"prefix":"said: "}';
  const head = `POST /shout HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  // the body with the headers, and the body arriving after them with the stream
  const together = await exchange({ cert: client.certPem, key: client.keyPem }, head + body, true, 'one');
  assert.ok(together.endsWith('\r\n\r\nsaid: ONE'), together);
  const later = await exchange({ cert: client.certPem, key: client.keyPem }, head, true, body + 'two');
  assert.ok(later.endsWith('\r\n\r\nsaid: TWO'), later);
});
