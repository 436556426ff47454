import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../daemon/logger.js';
import type { SwarmStore } from '../backend.js';
import { KICK, SESSION_HEADER } from '../agent/session.js';
import { KEY } from './objects.js';
import type { PeerIdentity } from './control-server.js';

// The manager's end of node sessions (see agent/session.ts). A session that drops while the node's
// heartbeat lease still names it gets its lease cut to LOST_TTL_S: unless the node opens a new
// session or heartbeats meanwhile, the leader marks it Down then instead of after 3 heartbeat
// periods. A goodbye (any manager) takes the session's name off the lease first.

export const LOST_TTL_S = 2;

export interface HeartbeatRecord { at: string; session?: string }

export interface SessionDeps {
  store: () => SwarmStore | undefined;
  /** True while this manager's own server shuts down: dropped sessions are then not the nodes' fault. */
  closing: () => boolean;
  /** Refreshes the node's heartbeat lease, naming the session ('' names none). */
  heartbeat: (nodeId: string, session: string) => Promise<unknown>;
  log: Logger;
}

/**
 * The node sessions this manager holds. A change in the cluster store that may change some node's
 * assignments (tasks, networks, attachments, tunnel peers) is pushed down every session as a
 * "kick" line: the node runs its assignments pass now instead of at its next poll, so DNS answers,
 * peers and task starts follow a change in milliseconds. Kicks are coalesced over KICK_MS.
 */
export class SessionHub {
  private open = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;

  add(res: ServerResponse): void {
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
  }

  /** A store key changed ('' = maybe anything): kick every session soon, unless the key never matters to a node. */
  changed(key: string): void {
    if (key.startsWith(KEY.heartbeats) || this.timer || !this.open.size) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const res of this.open) if (!res.writableEnded) res.write(KICK);
    }, KICK_MS);
  }

  close(): void { clearTimeout(this.timer); this.open.clear(); }
}

export const KICK_MS = 20;

export function serveSession(req: IncomingMessage, res: ServerResponse, peer: PeerIdentity, deps: SessionDeps, hub?: SessionHub): void {
  const session = String(req.headers[SESSION_HEADER] ?? '');
  req.resume();
  res.on('error', () => undefined);
  req.socket.on('close', () => {
    if (deps.closing() || !session) return;
    void sessionLost(peer.nodeId, session, deps).catch((err) => deps.log.debug({ nodeId: peer.nodeId, err: (err as Error).message }, 'could not shorten a lost node\'s lease'));
  });
  deps.heartbeat(peer.nodeId, session).then(() => {
    if (res.writableEnded) return;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('\n');
    hub?.add(res);
  }, (err) => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: (err as Error).message }));
  });
}

/**
 * A node stops on purpose: it is not known to be dead, so it gets a plain heartbeat (a full lease
 * naming no session) and the usual grace, as Docker gives a node whose daemon restarts.
 */
export async function sessionBye(nodeId: string, session: unknown, deps: SessionDeps): Promise<unknown> {
  const store = deps.store();
  const cur = store && (await store.get<HeartbeatRecord>(KEY.heartbeat(nodeId)));
  if (cur && cur.session === session) await deps.heartbeat(nodeId, '');
  return {};
}

async function sessionLost(nodeId: string, session: string, deps: SessionDeps): Promise<void> {
  const store = deps.store();
  if (!store) return;
  const cur = await store.get<HeartbeatRecord>(KEY.heartbeat(nodeId));
  // gone already (left, expired) or renewed by a newer session: nothing to cut short
  if (!cur || cur.session !== session) return;
  await store.putWithTtl(KEY.heartbeat(nodeId), cur, LOST_TTL_S);
  deps.log.info({ nodeId }, 'node session dropped without a goodbye: heartbeat lease shortened');
}
