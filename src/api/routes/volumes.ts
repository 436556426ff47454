import { BadRequest } from '../errors.js';
import type { Router } from '../router.js';
import type { VolumeStore } from '../../engine/volumes/volume-store.js';

const bool = (v: string | null) => v === '1' || v === 'true' || v === 'True';

/** Docker Engine API /volumes (1.41 shapes and semantics). */
export function registerVolumeRoutes(r: Router, volumes: VolumeStore): void {
  r.get('/volumes', (ctx) => {
    const list = volumes.list(ctx.query.get('filters'));
    list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    return { Volumes: list, Warnings: null };
  });

  r.post('/volumes/create', async (ctx) => {
    const body = await ctx.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('invalid JSON body');
    for (const k of ['DriverOpts', 'Labels'] as const) {
      const v = body[k];
      if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))) {
        throw new BadRequest(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field VolumeCreateBody.${k} of type map[string]string`);
      }
    }
    const v = await volumes.create({ Name: body.Name, Driver: body.Driver, DriverOpts: body.DriverOpts, Labels: body.Labels });
    ctx.status = 201;
    return v;
  });

  r.post('/volumes/prune', (ctx) => volumes.prune(ctx.query.get('filters')));

  r.get('/volumes/:name', (ctx) => volumes.get(ctx.params.name));

  r.delete('/volumes/:name', async (ctx) => {
    await volumes.remove(ctx.params.name, { force: bool(ctx.query.get('force')) });
    ctx.status = 204;
  });
}
