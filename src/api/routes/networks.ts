import type { Router } from '../router.js';
import { Forbidden } from '../errors.js';
import type { ContainerManager } from '../../engine/containers/manager.js';
import { parseFilters } from '../../engine/images/filters.js';
import type { NetworkManager } from '../../engine/networks/network-manager.js';

/** The swarm's networks, where this node is a manager (overlay networks live in the cluster store). */
export interface SwarmNetworks {
  readonly servesSwarmNetworks: boolean;
  createNetwork(body: any): Promise<{ Id: string; Warning: string }>;
  listSwarmNetworks(): Promise<any[]>;
  getSwarmNetwork(ref: string): Promise<any>;
  removeSwarmNetwork(ref: string): Promise<void>;
}

// /networks: list, inspect, create, remove, connect, disconnect, prune. On a manager, the swarm's
// overlay networks are listed next to the local ones (a local copy of one, made where a task uses
// it, is the same network).
export function registerNetworkRoutes(r: Router, nets: NetworkManager, mgr: ContainerManager, swarm?: SwarmNetworks): void {
  r.get('/networks', async (ctx) => {
    const local: any[] = await nets.list(ctx.query.get('filters'), parseFilters);
    if (!swarm?.servesSwarmNetworks) return local;
    const seen = new Set(local.map((n) => n.Id));
    const f = parseFilters(ctx.query.get('filters'));
    const any = (k: string, ok: (v: string) => boolean) => !f.contains(k) || f.get(k).some(ok);
    const match = (n: any) => any('name', (v) => n.Name.includes(v)) && any('id', (v) => n.Id.startsWith(v)) && any('driver', (v) => v === n.Driver) && any('scope', (v) => v === n.Scope);
    const cluster = await swarm.listSwarmNetworks();
    // the cluster is the truth: a local copy of a network just removed goes with this node's next pass
    const inCluster = new Set(cluster.map((n) => n.Id));
    return [...local.filter((n) => n.Scope !== 'swarm' || inCluster.has(n.Id)), ...cluster.filter((n) => !seen.has(n.Id) && match(n))];
  });

  // a node's local copy of an overlay network stands for the swarm's: on a manager, the swarm's answers
  const localOf = async (ref: string): Promise<any> => { try { return await nets.inspect(ref); } catch { return undefined; } };
  const swarmOwns = (local: any) => !!swarm?.servesSwarmNetworks && (!local || local.Scope === 'swarm');

  r.get('/networks/:id', async (ctx) => {
    const local = await localOf(ctx.params.id);
    // the swarm's network, with the containers this node has on it (Docker shows the local endpoints)
    if (swarmOwns(local)) return { ...(await swarm!.getSwarmNetwork(local?.Id ?? ctx.params.id)), ...(local ? { Containers: local.Containers, ...(local.Peers ? { Peers: local.Peers } : {}) } : {}) };
    return local ?? nets.inspect(ctx.params.id);
  });

  r.post('/networks/create', async (ctx) => {
    const body = await ctx.json();
    if (body?.Driver === 'overlay') {
      if (!swarm?.servesSwarmNetworks) throw new Forbidden('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
      ctx.status = 201;
      return swarm.createNetwork(body);
    }
    ctx.status = 201;
    return nets.create(body);
  });

  r.delete('/networks/:id', async (ctx) => {
    const local = await localOf(ctx.params.id);
    // the nodes drop their copies once no task needs them
    if (swarmOwns(local)) await swarm!.removeSwarmNetwork(local?.Id ?? ctx.params.id);
    else await nets.remove(ctx.params.id);
    ctx.status = 204;
  });

  r.post('/networks/prune', (ctx) => nets.prune(ctx.query.get('filters'), parseFilters));

  r.post('/networks/:id/connect', async (ctx) => {
    const body = await ctx.json();
    await mgr.connectNetwork(String(body?.Container ?? ''), ctx.params.id, body?.EndpointConfig);
    ctx.status = 200;
  });

  r.post('/networks/:id/disconnect', async (ctx) => {
    const body = await ctx.json();
    await mgr.disconnectNetwork(String(body?.Container ?? ''), ctx.params.id, !!body?.Force);
    ctx.status = 200;
  });
}
