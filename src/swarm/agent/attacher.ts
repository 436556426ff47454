import { ApiError, ServerError } from '../../api/errors.js';
import type { SwarmAttacher, SwarmNetworkView } from '../../engine/networks/network-manager.js';
import { controlCall, HttpError } from '../manager/control-server.js';

// The node's side of network attachments (manager/attachments.ts): the engine asks a manager for one
// when a standalone container starts on, or connects to, a swarm network, and gives it back when
// the container stops or disconnects. Calls for one container and network run one after another,
// so a quick restart cannot lose its new attachment to the old one's detach.

export interface AttacherHost {
  /** the managers' control addresses, preferred first; none outside a swarm */
  managers(): string[];
  certs(): { caPem: string; certPem: string; keyPem: string } | undefined;
  /** this node's data-path address (its VTEP) */
  localAddr(): string;
  /** runs the node's assignments pass now (it brings the WireGuard tunnel an encrypted network needs) */
  refresh(): Promise<void>;
}

export class NetworkAttacher implements SwarmAttacher {
  private chains = new Map<string, Promise<unknown>>();

  constructor(private host: AttacherHost) {}

  inSwarm(): boolean { return !!this.host.certs() && this.host.managers().length > 0; }

  async find(ref: string): Promise<SwarmNetworkView | undefined> {
    if (!this.inSwarm()) return undefined;
    try {
      return await this.call<SwarmNetworkView>('/attachments/lookup', { network: ref }, 5000);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) return undefined;
      throw new ServerError(`cannot look up network ${ref} in the swarm: ${(e as Error).message}`);
    }
  }

  attach(req: { network: string; containerId: string; name: string; aliases: string[]; address?: string }): Promise<{ address: string; network: SwarmNetworkView; localAddr: string }> {
    return this.serial(`${req.containerId}/${req.network}`, async () => {
      if (!this.inSwarm()) throw new ServerError(`Could not attach to network ${req.network}: this node is not part of a swarm`);
      try {
        const r = await this.call<{ Address: string; network: SwarmNetworkView }>('/attachments', req, 10_000);
        // an encrypted network is carried only inside the node's tunnel, which comes with the node's
        // next assignments pass (the manager counts this attachment in it): wait for that pass, bounded
        if (r.network.encrypted) await Promise.race([this.host.refresh(), new Promise((res) => setTimeout(res, 10_000).unref())]);
        return { address: r.Address.split('/')[0], network: r.network, localAddr: this.host.localAddr() };
      } catch (e) {
        // like dockerd, whatever the manager said becomes a failed start or connect (500)
        const msg = (e as Error).message;
        throw new ApiError(500, msg.startsWith('Could not attach') ? msg : `Could not attach to network ${req.network}: ${msg}`);
      }
    });
  }

  detach(networkId: string, containerId: string): Promise<void> {
    return this.serial(`${containerId}/${networkId}`, async () => {
      if (!this.inSwarm()) return;
      await this.call('/attachments/detach', { network: networkId, containerId }, 3000);
    });
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => { if (this.chains.get(key) === tail) this.chains.delete(key); });
    return next;
  }

  /** The managers in turn until one answers; an answer that refuses (4xx) is final. */
  private async call<T>(path: string, body: unknown, timeoutMs: number): Promise<T> {
    const certs = this.host.certs();
    let last: unknown = new Error('no manager known');
    for (const addr of this.host.managers()) {
      try {
        return await controlCall<T>(addr, path, body, certs!, timeoutMs);
      } catch (e) {
        if (e instanceof HttpError && e.status < 500) throw e;
        last = e;
      }
    }
    throw last;
  }
}
