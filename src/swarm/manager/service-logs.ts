import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import { ServerError } from '../../api/errors.js';
import { formatTimestamp } from '../../engine/containers/stdcopy.js';
import type { SwarmStore } from '../backend.js';
import { AGENT_PORT, decodeRecord } from '../agent/agent-server.js';
import { findByRef } from './find-ref.js';
import { KEY, type NodeObject } from './objects.js';
import { stateRank } from './planner.js';
import { findService, listTasks } from './services.js';

// `service logs` on a manager (swarmkit's log broker, by polling): pick the tasks of a service
// (or one task), fetch each task's container logs from the agent listener of the node that ran
// it, and hand the merged messages on with their swarm context (node, service, task), which
// the API renders as Docker's details attributes.

export interface LogsRequest { follow: boolean; tail: string | null; since?: bigint; stdout: boolean; stderr: boolean }

export interface TaskLogMessage { nodeId: string; serviceId: string; taskId: string; timeNano: bigint; stream: 'stdout' | 'stderr'; data: Buffer }

export interface LogSubscription {
  /** the service's (or task's) ContainerSpec.TTY: the stream is then not multiplexed */
  tty: boolean;
  /** Streams messages until done (or, following, until the signal); returns why some logs are missing. */
  run(onMessage: (m: TaskLogMessage) => Promise<void>, signal: AbortSignal): Promise<string[]>;
}

type Tls = { caPem: string; certPem: string; keyPem: string };

const CONNECT_TIMEOUT_MS = 5000;
const FOLLOW_POLL_MS = 1000;

/** Docker's tail parameter for service logs ("all" or empty: everything). */
export function parseTail(v: string | null): number | undefined {
  if (v === null || v === '' || v === 'all') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new ServerError('tail value must be a positive integer or "all"');
  const n = Number(v);
  if (n < 0) throw new ServerError('negative tail values not supported');
  return n;
}

/** Resolves the service or task first: a bad reference is an HTTP error, not a broken stream. */
export async function openLogs(store: SwarmStore, tls: () => Tls, kind: 'service' | 'task', ref: string, req: LogsRequest): Promise<LogSubscription> {
  let select: (t: { ID: string; ServiceID: string }) => boolean;
  let tty: boolean;
  if (kind === 'service') {
    const s = await findService(store, ref);
    select = (t) => t.ServiceID === s.ID;
    tty = !!s.Spec.TaskTemplate?.ContainerSpec?.TTY;
  } else {
    const t = findByRef(await listTasks(store), ref, 'task');
    select = (x) => x.ID === t.ID;
    tty = !!t.Spec?.ContainerSpec?.TTY;
  }
  const tail = parseTail(req.tail);
  return { tty, run: (onMessage, signal) => fanIn(store, tls, { kind, select }, { ...req, tail }, onMessage, signal) };
}

async function fanIn(
  store: SwarmStore, tls: () => Tls, sel: { kind: 'service' | 'task'; select: (t: { ID: string; ServiceID: string }) => boolean },
  o: Omit<LogsRequest, 'tail'> & { tail?: number }, onMessage: (m: TaskLogMessage) => Promise<void>, signal: AbortSignal,
): Promise<string[]> {
  const started = new Set<string>();
  const errors = new Set<string>();
  const streams: Promise<void>[] = [];
  const query = new URLSearchParams({ follow: o.follow ? '1' : '0', stdout: o.stdout ? '1' : '0', stderr: o.stderr ? '1' : '0' });
  if (o.tail !== undefined) query.set('tail', String(o.tail));
  if (o.since !== undefined) query.set('since', String(o.since));

  const pass = async () => {
    const [tasks, nodes] = await Promise.all([listTasks(store), store.list<NodeObject>(KEY.nodes)]);
    const nodeById = new Map(nodes.map((n) => [n.ID, n]));
    for (const t of tasks) {
      if (started.has(t.ID) || !sel.select(t)) continue;
      if (!t.NodeID) {
        if (!o.follow && sel.kind === 'task') errors.add(`task ${t.ID} has not been scheduled`);
        continue;
      }
      // like swarmkit: a service's tasks that never ran have no logs (followers pick them up once they run)
      if (stateRank(t.Status.State) < stateRank('running') && (o.follow || sel.kind === 'service')) continue;
      const node = nodeById.get(t.NodeID);
      if (!node || node.Status.State !== 'ready') {
        errors.add(`node ${t.NodeID} is not available`);
        if (o.follow) continue; // retried while following: the node may come back
      } else {
        const ctx = { nodeId: t.NodeID, serviceId: t.ServiceID, taskId: t.ID };
        streams.push((async () => {
          try {
            for await (const r of agentTaskLogs(node.Status.Addr, t.NodeID!, t.ID, query, tls(), signal)) await onMessage({ ...ctx, ...r });
          } catch (err) {
            if (!signal.aborted) errors.add((err as Error).message);
          }
        })());
      }
      started.add(t.ID);
    }
  };

  await pass();
  if (o.follow) {
    // Docker's follow never ends by itself: new tasks of the service join the stream
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, FOLLOW_POLL_MS);
        function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); }
        signal.addEventListener('abort', done);
      });
      if (!signal.aborted) await pass().catch(() => undefined);
    }
  }
  await Promise.all(streams);
  return o.follow ? [] : [...errors];
}

/**
 * One task's records from the agent listener of the node that runs it (verified by its
 * certificate's CN). `addr` is the node's address, with the port only when not the usual one.
 */
export async function* agentTaskLogs(addr: string, nodeId: string, taskId: string, query: URLSearchParams, tls: Tls, signal: AbortSignal):
  AsyncGenerator<{ timeNano: bigint; stream: 'stdout' | 'stderr'; data: Buffer }> {
  const [host, port] = addr.split(/:(?=\d+$)/);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request({
      host, port: Number(port || AGENT_PORT), path: `/tasks/${encodeURIComponent(taskId)}/logs?${query}`, method: 'GET', agent: false, signal,
      ca: tls.caPem, cert: tls.certPem, key: tls.keyPem,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.subject?.CN === nodeId ? undefined : new Error(`node ${nodeId} answered with the certificate of ${cert.subject?.CN}`)),
    });
    req.setTimeout(CONNECT_TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('response', (r) => { req.setTimeout(0); resolve(r); });
    req.on('error', () => reject(new Error(`node ${nodeId} is not available`)));
    req.end();
  });
  if (res.statusCode === 404) { res.resume(); return; } // no container (a task rejected before it had one)
  if (res.statusCode !== 200) {
    let text = '';
    for await (const c of res) text += c;
    let msg = text;
    try { msg = JSON.parse(text).message ?? text; } catch { /* as is */ }
    throw new Error(`node ${nodeId}: ${msg}`);
  }
  let carry = '';
  try {
    for await (const chunk of res) {
      const lines = (carry + (chunk as Buffer).toString('latin1')).split('\n');
      carry = lines.pop()!;
      for (const l of lines) {
        const r = l ? decodeRecord(l) : undefined;
        if (r) yield r;
      }
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new Error(`node ${nodeId} disconnected unexpectedly`);
  }
}

/** Go's url.QueryEscape (details attributes are encoded with it). */
export function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/**
 * A message as the Docker daemon writes it: `[<RFC3339Nano> ][<details> ]<line>`, the details
 * being the swarm context as sorted, query-escaped `key=value` pairs joined by commas.
 */
export function renderLogLine(m: TaskLogMessage, o: { timestamps: boolean; details: boolean }): Buffer {
  const parts: Buffer[] = [];
  if (o.timestamps) parts.push(Buffer.from(formatTimestamp(m.timeNano) + ' '));
  if (o.details) {
    const attrs = [['com.docker.swarm.node.id', m.nodeId], ['com.docker.swarm.service.id', m.serviceId], ['com.docker.swarm.task.id', m.taskId]];
    parts.push(Buffer.from(attrs.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',') + ' '));
  }
  parts.push(m.data);
  return Buffer.concat(parts);
}

/** The system-error text Docker ends an incomplete (non-follow) stream with. */
export function incompleteStreamMessage(errors: string[]): string {
  return `Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream. some logs could not be retrieved for the following reasons: ${errors.join(', ')}\n`;
}
