import { BadRequest, Conflict, NotModified } from '../errors.js';
import type { Router, Ctx } from '../router.js';
import { attachContainer } from '../../engine/containers/attach.js';
import type { ExecManager } from '../../engine/containers/exec.js';
import { commitContainer } from '../../engine/containers/commit.js';
import { changes, exportRootfs, getArchive, putArchive, statPath } from '../../engine/containers/filesystem.js';
import { readLogs } from '../../engine/containers/log-file.js';
import type { ContainerManager } from '../../engine/containers/manager.js';
import { frame, formatTimestamp } from '../../engine/containers/stdcopy.js';
import { resizeTty } from '../../engine/containers/stdin-forwarder.js';
import { containerSummary, matchContainerFilters, parseFilterParam } from '../../engine/containers/summary.js';
import { topProcesses } from '../../engine/containers/top.js';
import { readStats } from '../../engine/containers/cgroup-stats.js';
import { repoTagReference } from '../../engine/images/image-store.js';
import { parseDetachKeys } from '../../util/detach-keys.js';
import path from 'node:path';

const bool = (v: string | null) => v === '1' || v === 'true' || v === 'True';
/** Docker's httputils.BoolValue: anything but "", 0, no, false, none is true. */
const boolValue = (v: string | null) => !['', '0', 'no', 'false', 'none'].includes((v ?? '').trim().toLowerCase());

/** Docker's since/until: unix seconds with optional fraction, or an RFC 3339 date; returns ns. */
export function parseTimeNs(v: string | null): bigint | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return BigInt(s) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequest(`invalid value for since/until: ${v}`);
  return BigInt(t) * 1_000_000n;
}

export function registerContainerRoutes(r: Router, mgr: ContainerManager, execs: ExecManager): void {
  r.get('/containers/json', (ctx) => {
    const q = ctx.query;
    const filters = parseFilterParam(q.get('filters'));
    let list = mgr.store.all();
    if (!bool(q.get('all')) && !filters.status?.length && !filters.exited?.length) list = list.filter((c) => c.State.Running || c.State.Restarting);
    list = matchContainerFilters(list, filters, (ref) => mgr.store.find(ref), (ref) => mgr.images.tryResolve(ref)?.id);
    list.sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    const limit = Number(q.get('limit') ?? '-1');
    if (limit > 0) list = list.slice(0, limit);
    return Promise.all(list.map((c) => containerSummary(mgr, c, bool(q.get('size')))));
  });

  r.post('/containers/create', async (ctx) => {
    const body = await ctx.json();
    ctx.status = 201;
    return mgr.create(body, ctx.query.get('name'));
  });

  r.get('/containers/:id/json', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const { shoal: _private, ...pub } = c;
    const out: any = { ...pub, State: { ...c.State }, ExecIDs: c.ExecIDs?.length ? c.ExecIDs : null };
    out.GraphDriver = { Name: 'overlay2', Data: { UpperDir: path.join(mgr.store.dir(c.Id), 'diff'), WorkDir: path.join(mgr.store.dir(c.Id), 'work'), MergedDir: path.join(mgr.bundle(c.Id), 'rootfs') } };
    if (bool(ctx.query.get('size'))) Object.assign(out, await (await import('../../engine/containers/summary.js')).containerSizes(mgr, c));
    return out;
  });

  r.post('/containers/:id/start', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    if (c.State.Running && !c.State.Restarting) throw new NotModified();
    await mgr.start(c.Id);
    ctx.status = 204;
  });

  r.post('/containers/:id/stop', async (ctx) => {
    const t = ctx.query.get('t') ?? ctx.query.get('timeout');
    const stopped = await mgr.stop(ctx.params.id, t !== null && t !== '' ? Number(t) : undefined, ctx.query.get('signal') ?? undefined);
    if (!stopped) throw new NotModified();
    ctx.status = 204;
  });

  r.post('/containers/:id/restart', async (ctx) => {
    const t = ctx.query.get('t');
    await mgr.restart(ctx.params.id, t !== null && t !== '' ? Number(t) : undefined, ctx.query.get('signal') ?? undefined);
    ctx.status = 204;
  });

  r.post('/containers/:id/kill', async (ctx) => {
    await mgr.kill(ctx.params.id, ctx.query.get('signal') ?? undefined);
    ctx.status = 204;
  });
  r.post('/containers/:id/pause', async (ctx) => { await mgr.pause(ctx.params.id); ctx.status = 204; });
  r.post('/containers/:id/unpause', async (ctx) => { await mgr.unpause(ctx.params.id); ctx.status = 204; });
  r.post('/containers/:id/rename', async (ctx) => { await mgr.rename(ctx.params.id, ctx.query.get('name') ?? ''); ctx.status = 204; });
  r.post('/containers/:id/update', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const body = await ctx.json();
    if (body.RestartPolicy) c.HostConfig.RestartPolicy = body.RestartPolicy;
    await mgr.store.save(c);
    return { Warnings: [] };
  });

  r.post('/containers/:id/wait', async (ctx) => {
    const res = ctx.res!;
    const p = mgr.wait(ctx.params.id, ctx.query.get('condition') ?? 'not-running');
    // Headers go out at once so the client knows the wait is registered (docker run relies on it).
    ctx.handled = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
    res.flushHeaders();
    const out = await p;
    res.end(JSON.stringify(out) + '\n');
  });

  r.delete('/containers/:id', async (ctx) => {
    await mgr.remove(ctx.params.id, { force: bool(ctx.query.get('force')), volumes: bool(ctx.query.get('v')) });
    ctx.status = 204;
  });

  r.post('/containers/prune', async (ctx) => {
    const filters = parseFilterParam(ctx.query.get('filters'));
    const stopped = matchContainerFilters(mgr.store.all().filter((c) => !c.State.Running && !c.State.Restarting), { label: filters.label, until: filters.until }, () => undefined, () => undefined);
    const deleted: string[] = [];
    let space = 0;
    for (const c of stopped) {
      const sizes = await (await import('../../engine/containers/summary.js')).containerSizes(mgr, c);
      await mgr.remove(c.Id).then(() => { deleted.push(c.Id); space += sizes.SizeRw ?? 0; }, () => undefined);
    }
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  });

  r.get('/containers/:id/logs', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const q = ctx.query;
    const stdout = bool(q.get('stdout')); const stderr = bool(q.get('stderr'));
    if (!stdout && !stderr) throw new BadRequest('Bad parameters: you must choose at least one stream');
    const tailRaw = q.get('tail');
    const tail = tailRaw && tailRaw !== 'all' ? Number(tailRaw) : undefined;
    const follow = bool(q.get('follow'));
    const ts = bool(q.get('timestamps'));
    const res = ctx.res!;
    ctx.handled = true;
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream', 'Api-Version': '1.41' });
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const exited = !follow || (!c.State.Running && !c.State.Restarting) ? Promise.resolve() : mgr.wait(c.Id, 'next-exit');
    try {
      for await (const rec of readLogs(c.LogPath, { tail, since: parseTimeNs(q.get('since')), until: parseTimeNs(q.get('until')), follow, signal: ac.signal, stopOn: exited })) {
        if ((rec.stream === 'stdout' && !stdout) || (rec.stream === 'stderr' && !stderr)) continue;
        const data = ts ? Buffer.concat([Buffer.from(formatTimestamp(rec.timeNano) + ' '), rec.data]) : rec.data;
        res.write(c.Config.Tty ? data : frame(rec.stream === 'stdout' ? 1 : 2, data));
      }
    } catch (err) { if (!ac.signal.aborted) throw err; }
    res.end();
  });

  const attach = async (ctx: Ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const q = ctx.query;
    const keys = q.get('detachKeys') ?? '';
    let detachKeys: number[];
    try { detachKeys = parseDetachKeys(keys); } catch { throw new BadRequest(`Invalid detach keys (${keys}) provided`); }
    const opts = { stdin: bool(q.get('stdin')), stdout: bool(q.get('stdout')), stderr: bool(q.get('stderr')), logs: bool(q.get('logs')), stream: bool(q.get('stream')), detachKeys };
    if (c.State.Paused && opts.stream) throw new Conflict('You cannot attach to a paused container, unpause it first');
    const sock = ctx.hijack(c.Config.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    const done = attachContainer(mgr, c, sock, opts);
    mgr.trackAttach(c.Id, done);
    await done;
  };
  r.post('/containers/:id/attach', attach);

  r.post('/containers/:id/resize', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const h = Number(ctx.query.get('h')); const w = Number(ctx.query.get('w'));
    if (!Number.isFinite(h) || !Number.isFinite(w)) throw new BadRequest('invalid resize parameters');
    if (c.State.Running && c.Config.Tty) await resizeTty(path.join(mgr.bundle(c.Id), 'ctl'), h, w).catch(() => undefined);
    return '';
  });

  r.get('/containers/:id/top', async (ctx) => topProcesses(mgr, mgr.store.get(ctx.params.id), ctx.query.get('ps_args') ?? '-ef'));

  r.get('/containers/:id/stats', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const stream = ctx.query.get('stream') === null ? true : bool(ctx.query.get('stream'));
    const oneShot = bool(ctx.query.get('one-shot'));
    const res = ctx.res!;
    ctx.handled = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
    const sample = async (prev?: any) => {
      const s: any = c.State.Running ? await readStats(c.shoal.cgroupPath.replace(/^\//, ''), prev) : emptyStats();
      s.name = c.Name; s.id = c.Id;
      return s;
    };
    let prev = await sample();
    if (!stream) {
      if (!oneShot) { await new Promise((r) => setTimeout(r, 1000)); prev = await sample(prev); }
      res.end(JSON.stringify(prev) + '\n');
      return;
    }
    let closed = false;
    res.on('close', () => { closed = true; });
    while (!closed) {
      res.write(JSON.stringify(prev) + '\n');
      await new Promise((r) => setTimeout(r, 1000));
      prev = await sample(prev);
    }
  });

  r.get('/containers/:id/changes', async (ctx) => {
    const list = await changes(mgr, mgr.store.get(ctx.params.id));
    return list.length ? list : null;
  });

  r.get('/containers/:id/export', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const res = ctx.res!;
    ctx.handled = true;
    res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Api-Version': '1.41' });
    await exportRootfs(mgr, c, res).catch(() => res.destroy());
  });

  r.head('/containers/:id/archive', async (ctx) => {
    const st = await statPath(mgr, mgr.store.get(ctx.params.id), ctx.query.get('path') ?? '/');
    ctx.handled = true;
    ctx.res!.writeHead(200, { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(st)).toString('base64'), 'Api-Version': '1.41' });
    ctx.res!.end();
  });
  r.get('/containers/:id/archive', async (ctx) => {
    const c = mgr.store.get(ctx.params.id);
    const res = ctx.res!;
    let started = false;
    await getArchive(mgr, c, ctx.query.get('path') ?? '/', res, (st) => {
      started = true;
      ctx.handled = true;
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(st)).toString('base64'), 'Api-Version': '1.41' });
    }).catch((err) => { if (started) res.destroy(); else throw err; });
  });
  r.put('/containers/:id/archive', async (ctx) => {
    await putArchive(mgr, mgr.store.get(ctx.params.id), ctx.query.get('path') ?? '/', ctx.req);
    return '';
  });

  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const ref = repoTagReference(q.get('repo'), q.get('tag'));
    // the body, when there is one, is a container config that replaces the container's own
    const { HostConfig: _h, NetworkingConfig: _n, ...body } = (await ctx.json()) ?? {};
    const pause = q.get('pause');
    const id = await commitContainer(mgr, {
      container: q.get('container') ?? '', ref, author: q.get('author') ?? '', comment: q.get('comment') ?? '',
      pause: pause === null || pause === '' ? true : boolValue(pause), changes: q.getAll('changes'),
      config: Object.keys(body).length ? body : undefined,
    });
    ctx.status = 201;
    return { Id: id };
  });

  // exec
  r.post('/containers/:id/exec', async (ctx) => { ctx.status = 201; return execs.create(ctx.params.id, await ctx.json()); });
  r.post('/exec/:id/start', async (ctx) => {
    const body = await ctx.json();
    const e = execs.get(ctx.params.id);
    if (body.Detach) { await execs.start(e.ID, { detach: true }); return ''; }
    const sock = ctx.hijack(e.ProcessConfig.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    await execs.start(e.ID, { detach: false, consoleSize: body.ConsoleSize }, sock);
  });
  r.post('/exec/:id/resize', async (ctx) => { await execs.resize(ctx.params.id, Number(ctx.query.get('h')), Number(ctx.query.get('w'))); return ''; });
  r.get('/exec/:id/json', (ctx) => execs.inspect(ctx.params.id));
}

function emptyStats(): any {
  return { read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {} };
}
