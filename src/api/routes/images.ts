import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { BadRequest, ServerError } from '../errors.js';
import { cmpVersion, type Ctx, type Router } from '../router.js';
import { commonHeaders } from '../server.js';
import { parseFilters } from '../../engine/images/filters.js';
import type { ImageStore, UsedBy } from '../../engine/images/image-store.js';
import { DEFAULT_DOMAIN, familiarString, parseNormalizedNamed, tagNameOnly, withTag } from '../../engine/images/reference.js';

export interface ImageRouteDeps { images: ImageStore; usedBy: UsedBy; containerCount?: (imageId: string) => number }

/** Docker's httputils.BoolValue: anything but "", 0, no, false, none is true. */
function bool(v: string | null, dflt = false): boolean {
  if (v === null) return dflt;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

/** Docker's JSON message stream (one object per line, "\r\n" as streamformatter writes). */
function jsonStream(res: ServerResponse): (msg: Record<string, unknown>) => void {
  if (!res.headersSent) res.writeHead(200, { ...commonHeaders, 'Content-Type': 'application/json' });
  return (msg) => { res.write(JSON.stringify(msg) + '\r\n'); };
}

const errorMessage = (e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  return { errorDetail: { message }, error: message };
};

/** A sink that sends the response head only when the first byte arrives, so early errors still get a status code. */
function lazyBody(res: ServerResponse, contentType: string): Writable {
  const head = () => { if (!res.headersSent) res.writeHead(200, { ...commonHeaders, 'Content-Type': contentType }); };
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      head();
      if (res.write(chunk)) cb(); else res.once('drain', () => cb());
    },
    final(cb) { head(); res.end(() => cb()); },
  });
  res.once('close', () => { if (!res.writableFinished) w.destroy(new Error('client went away')); });
  return w;
}

export function registerImageRoutes(router: Router, deps: ImageRouteDeps): void {
  const { images } = deps;

  router.get('/images/json', (ctx) => {
    const q = ctx.query;
    const filters = parseFilters(q.get('filters'));
    const legacy = q.get('filter');
    if (legacy) filters.add('reference', legacy);
    const list = images.list({ all: bool(q.get('all')), filters });
    // Before API 1.43 Docker filled untagged images with placeholders instead of empty lists.
    if (cmpVersion(ctx.apiVersion, '1.43') < 0) {
      for (const e of list) if (!e.RepoTags.length && !e.RepoDigests.length) Object.assign(e, { RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'] });
    }
    return list;
  });

  router.post('/images/create', async (ctx) => {
    const q = ctx.query;
    const fromImage = q.get('fromImage');
    if (fromImage) return pull(ctx, images, fromImage, q.get('tag') ?? '');
    const src = q.get('fromSrc');
    if (src !== '-') throw new BadRequest(src ? 'importing from a URL is not supported: send the archive as the request body with fromSrc=-' : 'fromImage or fromSrc is required');
    const id = await images.importTar(ctx.req, {
      repo: q.get('repo') ?? undefined, tag: q.get('tag') ?? undefined, changes: q.getAll('changes'),
      message: q.get('message') ?? undefined, platform: q.get('platform') ?? undefined,
    });
    const write = jsonStream(ctx.res!);
    write({ status: id });
    ctx.res!.end();
    ctx.handled = true;
  });

  router.post('/images/load', async (ctx) => {
    const res = ctx.res!;
    const write = jsonStream(res);
    ctx.handled = true;
    try {
      const lines = await images.load(ctx.req, bool(ctx.query.get('quiet'), true) ? undefined : write);
      for (const l of lines) write({ stream: `${l}\n` });
    } catch (e) {
      write(errorMessage(e));
    }
    res.end();
  });

  router.get('/images/get', (ctx) => save(ctx, images, ctx.query.getAll('names')));

  router.post('/images/prune', (ctx) => images.prune({ filters: ctx.query.get('filters') }, deps.usedBy));

  router.get('/images/:name*/json', (ctx) => images.inspect(ctx.params.name));
  router.get('/images/:name*/history', (ctx) => images.history(ctx.params.name));
  router.get('/images/:name*/get', (ctx) => save(ctx, images, [ctx.params.name]));

  router.post('/images/:name*/tag', async (ctx) => {
    await images.tag(ctx.params.name, ctx.query.get('repo') ?? '', ctx.query.get('tag') ?? undefined);
    ctx.status = 201;
    return undefined;
  });

  router.delete('/images/:name*', (ctx) => images.remove(ctx.params.name, {
    force: bool(ctx.query.get('force')), noprune: bool(ctx.query.get('noprune')),
  }, deps.usedBy));
}

async function save(ctx: Ctx, images: ImageStore, names: string[]): Promise<void> {
  const res = ctx.res!;
  try {
    await images.save(names, lazyBody(res, 'application/x-tar'));
  } catch (e) {
    if (!res.headersSent) throw e;
    res.destroy();
  }
  ctx.handled = true;
}

/**
 * shoal has no registry client. A pull of an image that is present succeeds as "up to date" (so
 * `docker pull`/compose work offline); otherwise it fails like dockerd with an unreachable registry (500).
 */
async function pull(ctx: Ctx, images: ImageStore, from: string, tag: string): Promise<void> {
  let ref = parseNormalizedNamed(from);
  if (tag) ref = /^[a-z0-9]+:[a-f0-9]{32,}$/.test(tag) ? { ...ref, tag: undefined, digest: tag } : withTag(ref, tag);
  ref = tagNameOnly(ref);
  const name = familiarString(ref);
  if (!images.tryResolve(name)) {
    const host = ref.domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : ref.domain;
    throw new ServerError(`Get "https://${host}/v2/": dial tcp: lookup ${host}: no registry access (shoal cannot pull ${name}; use docker load or docker import)`);
  }
  const write = jsonStream(ctx.res!);
  write({ status: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest });
  write({ status: `Status: Image is up to date for ${name}` });
  ctx.res!.end();
  ctx.handled = true;
}
