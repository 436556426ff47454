import type { Router } from '../router.js';
import type { ContainerManager } from '../../engine/containers/manager.js';
import { parseFilters } from '../../engine/images/filters.js';
import type { NetworkManager } from '../../engine/networks/network-manager.js';

// /networks: list, inspect, create, remove, connect, disconnect, prune.
export function registerNetworkRoutes(r: Router, nets: NetworkManager, mgr: ContainerManager): void {
  r.get('/networks', (ctx) => nets.list(ctx.query.get('filters'), parseFilters));

  r.get('/networks/:id', (ctx) => nets.inspect(ctx.params.id));

  r.post('/networks/create', async (ctx) => {
    const body = await ctx.json();
    ctx.status = 201;
    return nets.create(body);
  });

  r.delete('/networks/:id', async (ctx) => {
    await nets.remove(ctx.params.id);
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
