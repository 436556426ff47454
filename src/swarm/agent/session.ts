import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import type { Logger } from '../../daemon/logger.js';
import { controlCall } from '../manager/control-server.js';

// A node's session with a manager: one long-lived request on the swarm port. Heartbeats alone let
// a crashed node look alive for up to 3 heartbeat periods; a session whose connection drops without
// a goodbye (the daemon died: its kernel closes the socket) lets the manager shorten that to seconds.
// A daemon that stops on purpose (restart, upgrade) says goodbye and keeps the usual grace.

export interface SessionTls { caPem?: string; certPem?: string; keyPem?: string }

export const SESSION_HEADER = 'x-shoal-session';
/** What a manager writes down a session when this node should run its assignments pass now. */
export const KICK = 'k\n';

export class NodeSession {
  /** Sent with every heartbeat: a manager shortens the lease only while it names the lost session. */
  id = randomUUID();
  private req?: ClientRequest;
  private addr?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private managers: () => { addr: string }[],
    private tls: () => SessionTls | undefined,
    private log: Logger,
    /** the manager says something for this node may have changed */
    private onKick: () => void = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.open(0);
  }

  /** Ends the session with a goodbye, so the manager keeps this node's heartbeat lease as it is. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const req = this.req;
    this.req = undefined;
    if (!req) return;
    const tls = this.tls();
    // bounded: a daemon stopping while its manager is unreachable should not hang on it
    if (tls && this.addr) await controlCall(this.addr, '/session-bye', { session: this.id }, tls, 1000).catch(() => undefined);
    req.destroy();
  }

  private open(attempt: number): void {
    const tls = this.tls();
    const list = this.managers();
    if (this.stopped) return;
    // locked (no key yet) or no manager known: look again in a second
    if (!tls || !list.length) { clearTimeout(this.timer); this.timer = setTimeout(() => this.open(attempt), 1000); return; }
    const addr = list[attempt % list.length].addr;
    const [host, port] = addr.split(/:(?=\d+$)/);
    this.id = randomUUID();
    // a GET with no body: the server's request timeout ends once it has the request, the answer streams
    const req = https.request({
      host, port: Number(port || 2377), path: '/session', method: 'GET',
      ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, checkServerIdentity: () => undefined,
      headers: { [SESSION_HEADER]: this.id }, agent: false,
    });
    this.req = req;
    this.addr = addr;
    let up = false;
    const lost = () => {
      if (this.req !== req) return;
      this.req = undefined;
      req.destroy();
      if (!this.stopped) this.retry(up ? 0 : attempt + 1);
    };
    req.on('response', (res) => {
      if (res.statusCode !== 200) { res.resume(); lost(); return; }
      up = true;
      res.on('data', (chunk: Buffer) => { if (chunk.includes(KICK[0])) this.onKick(); });
      res.on('close', lost);
    });
    req.on('error', (err) => { this.log.debug({ addr, err: err.message }, 'swarm session lost'); lost(); });
    req.on('close', lost);
    req.end();
  }

  private retry(attempt: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // reconnect at once to the next manager; back off once every manager has been tried
    const n = Math.max(1, this.managers().length);
    this.timer = setTimeout(() => this.open(attempt), attempt && attempt % n === 0 ? 1000 : 100);
  }
}
