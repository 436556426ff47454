import https from 'node:https';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../daemon/logger.js';
import { readLogs, type LogRecord } from '../../engine/containers/log-file.js';
import { closeServer, peerOf, sendJson } from '../manager/control-server.js';

// Every node's agent listener (TCP 7946, the port Docker also opens between all nodes): HTTPS
// with mutual TLS under the swarm's CA. Only managers of this cluster may call it; it serves the
// container logs of this node's tasks, which managers merge into `service logs`.
//
// GET /tasks/<task id>/logs?follow=1&tail=N&since=<unix ns>&stdout=1&stderr=1 answers one JSON
// object per line: {"t":"<unix ns>","s":"stdout"|"stderr","d":"<base64 data>"}. 404 when this
// node has no container for the task.

export const AGENT_PORT = 7946;

/** The local engine's side: the container of a task on this node. */
export interface TaskLogSource {
  container(taskId: string): { logPath: string; running: boolean; exited: () => Promise<unknown> } | undefined;
}

export interface AgentTls { caPem: string; certPem: string; keyPem: string; clusterId: string }

export interface WireRecord { t: string; s: 'stdout' | 'stderr'; d: string }

export function encodeRecord(r: LogRecord): string {
  return JSON.stringify({ t: r.timeNano.toString(), s: r.stream, d: r.data.toString('base64') } satisfies WireRecord) + '\n';
}

export function decodeRecord(line: string): { timeNano: bigint; stream: 'stdout' | 'stderr'; data: Buffer } | undefined {
  try {
    const w = JSON.parse(line) as WireRecord;
    if ((w.s !== 'stdout' && w.s !== 'stderr') || typeof w.d !== 'string' || !/^\d+$/.test(w.t)) return undefined;
    return { timeNano: BigInt(w.t), stream: w.s, data: Buffer.from(w.d, 'base64') };
  } catch { return undefined; }
}

export class AgentServer {
  private server?: https.Server;
  private clusterId = '';

  constructor(private log: Logger, private source: TaskLogSource) {}

  /** the bound port (listen on 0 picks one) */
  get port(): number { return (this.server?.address() as { port: number } | null)?.port ?? 0; }

  async listen(host: string, port: number, tls: AgentTls): Promise<void> {
    this.clusterId = tls.clusterId;
    // rejectUnauthorized: a caller without a certificate of this CA never gets past the handshake
    const server = https.createServer({ key: tls.keyPem, cert: tls.certPem, ca: [tls.caPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      (req, res) => void this.handle(req, res));
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
  }

  /** A renewed certificate (role change) applies to new connections. */
  setCredentials(tls: AgentTls): void {
    this.clusterId = tls.clusterId;
    this.server?.setSecureContext({ key: tls.keyPem, cert: tls.certPem, ca: [tls.caPem] });
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await closeServer(s);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fail = (status: number, message: string) => sendJson(res, status, { message });
    const peer = peerOf(req.socket as TLSSocket);
    if (!peer || peer.clusterId !== this.clusterId || peer.role !== 'manager') {
      return fail(403, 'Permission denied: remote certificate not part of roles: [swarm-manager]');
    }
    const url = new URL(req.url ?? '/', 'https://agent');
    const m = /^\/tasks\/([0-9a-z]+)\/logs$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return fail(404, 'not found');
    const c = this.source.container(m[1]);
    if (!c) return fail(404, `task ${m[1]} has no container on this node`);
    const q = url.searchParams;
    const tail = q.get('tail') ? Number(q.get('tail')) : undefined;
    const since = /^\d+$/.test(q.get('since') ?? '') ? BigInt(q.get('since')!) : undefined;
    const follow = q.get('follow') === '1';
    const want = { stdout: q.get('stdout') !== '0', stderr: q.get('stderr') !== '0' };
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    // like `docker logs -f`: following ends once the container has exited and its file is drained
    const exited = !follow || !c.running ? Promise.resolve() : c.exited();
    try {
      for await (const r of readLogs(c.logPath, { tail, since, follow, signal: ac.signal, stopOn: exited })) {
        if (!want[r.stream]) continue;
        if (!res.write(encodeRecord(r))) await once(res, 'drain', { signal: ac.signal });
      }
    } catch (err) {
      if (!ac.signal.aborted) this.log.warn({ task: m[1], err: (err as Error).message }, 'task log stream failed');
    }
    res.end();
  }
}
