import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls, { type TLSSocket } from 'node:tls';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRootCA, type CAKeyPair } from './root-ca.js';
import { issueNodeKeyAndCert, parseNodeCert } from './node-cert.js';
import {
  authorizePeer, clientTlsOptions, peerCertificatePem, peerIdentity, PermissionDeniedError, requireRole, serverTlsOptions,
  type ClientTlsParams, type NodeTlsCredentials,
} from './tls.js';

interface Outcome { ok: boolean; serverSocket?: TLSSocket; clientSocket?: TLSSocket; error?: string }

/**
 * One real handshake on 127.0.0.1. Success means the client received the server's greeting, which
 * the server only sends after accepting the client (under TLS 1.3 the client may think it is
 * connected before the server has checked its certificate).
 */
async function handshake(server: NodeTlsCredentials & { allowAnonymous?: boolean }, client: ClientTlsParams): Promise<Outcome> {
  let serverSocket: TLSSocket | undefined;
  const srv = tls.createServer(serverTlsOptions(server), (s) => { serverSocket = s; s.write('hello\n'); });
  srv.on('tlsClientError', () => { /* a refused client: the outcome shows on the client side */ });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    return await new Promise<Outcome>((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
      const timer = setTimeout(() => { c.destroy(); resolve({ ok: false, error: 'timeout' }); }, 5000);
      const done = (o: Outcome) => { clearTimeout(timer); resolve(o); };
      c.once('data', () => done({ ok: true, serverSocket, clientSocket: c }));
      c.once('error', (e) => done({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      c.once('close', () => done({ ok: false, error: 'closed' }));
    });
  } finally {
    srv.close();
  }
}

function end(o: Outcome) { o.clientSocket?.destroy(); o.serverSocket?.destroy(); }

/** Refused by the TLS layer itself (an alert or a verification error), not by a timeout. */
function assertRefused(o: Outcome, why: string) {
  assert.equal(o.ok, false, why);
  assert.notEqual(o.error, 'timeout', why);
}

interface Node { ca: CAKeyPair; certPem: string; keyPem: string }
async function node(ca: CAKeyPair, nodeId: string, role: 'manager' | 'worker', clusterId = 'cluster1'): Promise<Node> {
  return { ca, ...(await issueNodeKeyAndCert(ca, { nodeId, role, clusterId, ips: ['127.0.0.1'] })) };
}
const srv = (n: Node, extra: { allowAnonymous?: boolean; caCertPems?: string[] } = {}) => ({ caCertPems: [n.ca.certPem], certPem: n.certPem, keyPem: n.keyPem, ...extra });
const cli = (n: Node, extra: Partial<ClientTlsParams> = {}): ClientTlsParams => ({ caCertPems: [n.ca.certPem], certPem: n.certPem, keyPem: n.keyPem, ...extra });

const setup = (async () => {
  const ca = await createRootCA();
  const other = await createRootCA();
  return {
    ca, other,
    manager: await node(ca, 'mgr1', 'manager'),
    worker: await node(ca, 'wrk1', 'worker'),
    stranger: await node(other, 'wrk9', 'worker'),
    strangerManager: await node(other, 'mgr9', 'manager'),
  };
})();

test('manager server and worker client complete mutual TLS and see each other\'s identity', async () => {
  const { manager, worker } = await setup;
  const o = await handshake(srv(manager), cli(worker));
  try {
    assert.equal(o.ok, true, o.error);
    assert.deepEqual(peerIdentity(o.serverSocket!), { nodeId: 'wrk1', role: 'worker', clusterId: 'cluster1' });
    assert.deepEqual(peerIdentity(o.clientSocket!), { nodeId: 'mgr1', role: 'manager', clusterId: 'cluster1' });
    assert.equal(peerCertificatePem(o.serverSocket!), worker.certPem);
    assert.deepEqual(requireRole(o.serverSocket!, 'worker'), { nodeId: 'wrk1', role: 'worker', clusterId: 'cluster1' });
    assert.throws(() => requireRole(o.serverSocket!, 'manager'),
      (e: unknown) => e instanceof PermissionDeniedError && e.statusCode === 403 && e.message === 'Permission denied: remote certificate not part of OUs: [swarm-manager]');
    assert.throws(() => requireRole(o.serverSocket!, ['manager', 'worker'], 'cluster2'), { message: 'Permission denied: remote certificate not part of organization: cluster2' });
    assert.throws(() => authorizePeer(o.serverSocket!, { isRemoved: (id) => id === 'wrk1' }), { message: 'Permission denied: node wrk1 was removed from swarm' });
    requireRole(o.clientSocket!, 'manager', 'cluster1');
  } finally { end(o); }
});

test('a client certificate from another CA is refused', async () => {
  const { manager, stranger } = await setup;
  const o = await handshake(srv(manager), cli(stranger, { caCertPems: [manager.ca.certPem] }));
  end(o);
  assertRefused(o, 'client cert from another CA');
});

test('a server certificate from another CA is refused by the client', async () => {
  const { worker, strangerManager } = await setup;
  const o = await handshake(srv(strangerManager, { caCertPems: [worker.ca.certPem] }), cli(worker));
  end(o);
  assert.equal(o.ok, false);
  assert.match(o.error!, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
});

test('a client without a certificate is refused, unless the server allows anonymous joiners', async () => {
  const { manager, stranger } = await setup;
  const anon: ClientTlsParams = { caCertPems: [manager.ca.certPem] };
  const refused = await handshake(srv(manager), anon);
  end(refused);
  assertRefused(refused, 'no client certificate');
  const o = await handshake(srv(manager, { allowAnonymous: true }), anon);
  try {
    assert.equal(o.ok, true, o.error);
    assert.equal(peerIdentity(o.serverSocket!), undefined);
    assert.throws(() => authorizePeer(o.serverSocket!), { message: "Permission denied: peer didn't not present valid peer certificate" });
  } finally { end(o); }
  // with anonymous access on, a certificate from another CA gets through the handshake but is no identity
  const s = await handshake(srv(manager, { allowAnonymous: true }), cli(stranger, { caCertPems: [manager.ca.certPem] }));
  try {
    assert.equal(s.ok, true, s.error);
    assert.equal(peerIdentity(s.serverSocket!), undefined);
  } finally { end(s); }
});

test('clients check the server is a manager (the swarm-manager name), or a given IP, or the cluster', async () => {
  const { manager, worker } = await setup;
  const toWorker = await handshake(srv(worker), cli(manager));
  end(toWorker);
  assert.equal(toWorker.ok, false, 'a worker cert does not carry swarm-manager');
  assert.equal(toWorker.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const byIp = await handshake(srv(worker), cli(manager, { servername: '127.0.0.1' }));
  end(byIp);
  assert.equal(byIp.ok, true, `IP SAN: ${byIp.error}`);
  const wrongIp = await handshake(srv(manager), cli(worker, { servername: '10.9.9.9' }));
  end(wrongIp);
  assertRefused(wrongIp, 'wrong IP');
  assert.equal(wrongIp.error, 'ERR_TLS_CERT_ALTNAME_INVALID');
  const byId = await handshake(srv(manager), cli(worker, { servername: 'mgr1' }));
  end(byId);
  assert.equal(byId.ok, true, byId.error);
  const otherCluster = await handshake(srv(manager), cli(worker, { clusterId: 'cluster2' }));
  end(otherCluster);
  assertRefused(otherCluster, 'other cluster');
  const sameCluster = await handshake(srv(manager), cli(worker, { clusterId: 'cluster1' }));
  end(sameCluster);
  assert.equal(sameCluster.ok, true, sameCluster.error);
});

test('during a CA rotation both roots are trusted', async () => {
  const { ca, other, manager } = await setup;
  const newManager = await node(other, 'mgr2', 'manager');
  const oldWorker = await node(ca, 'wrk3', 'worker');
  const newWorker = await node(other, 'wrk4', 'worker');
  const both = [ca.certPem, other.certPem];
  for (const [server, client] of [[newManager, oldWorker], [newManager, newWorker], [manager, newWorker]] as const) {
    const o = await handshake(srv(server, { caCertPems: both }), cli(client, { caCertPems: both }));
    end(o);
    assert.equal(o.ok, true, `${parseNodeCert(server.certPem).nodeId} <- ${parseNodeCert(client.certPem).nodeId}: ${o.error}`);
  }
  // only the old root trusted: the new worker is refused
  const o = await handshake(srv(manager), cli(newWorker, { caCertPems: both }));
  end(o);
  assertRefused(o, 'new worker, old root only');
});

test('the options work for https too (an HTTPS request with mutual TLS)', async () => {
  const { manager, worker } = await setup;
  const server = https.createServer(serverTlsOptions(srv(manager)), (req, res) => {
    const peer = requireRole(req.socket as TLSSocket, 'worker');
    res.end(JSON.stringify(peer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000, ...clientTlsOptions(cli(worker)) }, (res) => {
        let b = '';
        res.on('data', (c) => { b += c; });
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(JSON.parse(body), { nodeId: 'wrk1', role: 'worker', clusterId: 'cluster1' });
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
