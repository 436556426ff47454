import type { Router } from '../router.js';
import { BadRequest } from '../errors.js';
import { parseFilters } from '../../engine/images/filters.js';
import type { Swarm } from '../../swarm/swarm.js';

const bool = (v: string | null) => v === '1' || v === 'true' || v === 'True';

function versionParam(v: string | null): number {
  const n = Number(v);
  if (v === null || !Number.isInteger(n) || n < 0) throw new BadRequest(`invalid version: ${v}`);
  return n;
}

// /swarm and /nodes: the cluster as seen through this node (managers serve them; workers and
// nodes outside a swarm get Docker's 503 errors).
export function registerSwarmRoutes(r: Router, swarm: Swarm): void {
  r.get('/swarm', () => swarm.inspect());
  // Docker answers with the node ID as a JSON string
  r.post('/swarm/init', async (ctx) => Buffer.from(JSON.stringify(await swarm.init(await ctx.json())) + '\n'));
  r.post('/swarm/join', async (ctx) => { await swarm.join(await ctx.json()); ctx.status = 200; });
  r.post('/swarm/leave', async (ctx) => { await swarm.leave(bool(ctx.query.get('force'))); ctx.status = 200; });
  r.post('/swarm/update', async (ctx) => {
    const q = ctx.query;
    await swarm.update(versionParam(q.get('version')), await ctx.json(), {
      rotateWorkerToken: bool(q.get('rotateWorkerToken')), rotateManagerToken: bool(q.get('rotateManagerToken')),
      rotateManagerUnlockKey: bool(q.get('rotateManagerUnlockKey')),
    });
    ctx.status = 200;
  });
  r.get('/swarm/unlockkey', () => swarm.unlockKey());
  r.post('/swarm/unlock', async (ctx) => { await swarm.unlock(await ctx.json()); ctx.status = 200; });

  r.get('/nodes', (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    f.validate(['id', 'label', 'membership', 'name', 'node.label', 'role']);
    return swarm.listNodes(f);
  });
  r.get('/nodes/:id', (ctx) => swarm.getNode(ctx.params.id));
  r.post('/nodes/:id/update', async (ctx) => {
    await swarm.updateNode(ctx.params.id, versionParam(ctx.query.get('version')), await ctx.json());
    ctx.status = 200;
  });
  r.get('/services', (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    f.validate(['id', 'label', 'mode', 'name']);
    return swarm.listServices(f, bool(ctx.query.get('status')));
  });
  r.post('/services/create', async (ctx) => { ctx.status = 201; return swarm.createService(await ctx.json()); });
  r.get('/services/:id', (ctx) => swarm.getService(ctx.params.id));
  r.post('/services/:id/update', async (ctx) => swarm.updateService(ctx.params.id, versionParam(ctx.query.get('version')), await ctx.json(), ctx.query.get('rollback') === 'previous'));
  r.delete('/services/:id', async (ctx) => { await swarm.removeService(ctx.params.id); ctx.status = 200; });
  r.get('/tasks', (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    f.validate(['desired-state', 'id', 'label', 'name', 'node', 'runtime', 'service', '_up-to-date']);
    return swarm.listTasks(f);
  });
  r.get('/tasks/:id', (ctx) => swarm.getTask(ctx.params.id));

  r.delete('/nodes/:id', async (ctx) => { await swarm.removeNode(ctx.params.id, bool(ctx.query.get('force'))); ctx.status = 200; });
}
