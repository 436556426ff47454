import { BadRequest } from '../../api/errors.js';
import { parseFilters } from '../images/filters.js';
import { run } from '../../util/exec.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';
import { humanDuration } from '../../util/go-units.js';
import { hasVolume } from './mounts.js';

export type Filters = Record<string, string[]>;

/** Docker's `filters` query as a plain record (parsing shared with the image endpoints). */
export function parseFilterParam(raw: string | null): Filters {
  const f = parseFilters(raw);
  return Object.fromEntries(f.keys().map((k) => [k, f.get(k)]));
}

export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  const since = (t: string) => humanDuration(now - Date.parse(t));
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
  if (s.Running) {
    const health = s.Health && s.Health.Status !== 'none' ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : '';
    return `Up ${since(s.StartedAt)}${s.Paused ? ' (Paused)' : health}`;
  }
  if (s.Status === 'created') return 'Created';
  if (s.Dead) return 'Dead';
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.FinishedAt.startsWith('0001')) return 'Created';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

const glob = (pat: string, s: string) => new RegExp('^' + pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$').test(s);

export function matchContainerFilters(list: ContainerRecord[], f: Filters, findContainer: (ref: string) => ContainerRecord | undefined, imageId: (ref: string) => string | undefined): ContainerRecord[] {
  const known = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'health', 'volume', 'network', 'is-task', 'until', 'publish', 'expose', 'isolation'];
  for (const k of Object.keys(f)) if (!known.includes(k)) throw new BadRequest(`invalid filter '${k}'`);
  const before = f.before?.[0] ? findContainer(f.before[0]) : undefined;
  const since = f.since?.[0] ? findContainer(f.since[0]) : undefined;
  return list.filter((c) => {
    if (f.id?.length && !f.id.some((v) => c.Id.startsWith(v))) return false;
    if (f.name?.length && !f.name.some((v) => new RegExp(v).test(c.Name.slice(1)) || new RegExp(v).test(c.Name))) return false;
    if (f.label?.length && !f.label.every((l) => {
      const [k, v] = l.split(/=(.*)/s);
      const have = c.Config.Labels?.[k];
      return have !== undefined && (v === undefined || have === v);
    })) return false;
    if (f.status?.length && !f.status.includes(c.State.Status)) return false;
    if (f.exited?.length && (c.State.Running || c.State.Status === 'created' || !f.exited.includes(String(c.State.ExitCode)))) return false;
    if (f.ancestor?.length && !f.ancestor.some((a) => c.Config.Image === a || imageId(a) === c.Image || glob(a, c.Config.Image))) return false;
    if (before && Date.parse(c.Created) >= Date.parse(before.Created)) return false;
    if (since && Date.parse(c.Created) <= Date.parse(since.Created)) return false;
    if (f.health?.length && !f.health.includes(c.State.Health?.Status ?? 'none')) return false;
    if (f.until?.length && Date.parse(c.Created) > untilMs(f.until[0])) return false;
    if (f.network?.length && !f.network.some((n) => c.HostConfig.NetworkMode === n || Object.keys(c.NetworkSettings.Networks ?? {}).includes(n))) return false;
    if (f.volume?.length && !f.volume.some((v) => hasVolume(c, v))) return false;
    if (f['is-task']?.length && (f['is-task'][0] === 'true') !== !!c.Config.Labels?.['com.docker.swarm.task']) return false;
    return true;
  });
}

function untilMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const m = /^(\d+)(s|m|h)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * { s: 1000, m: 60000, h: 3600000 }[m[2] as 's' | 'm' | 'h'];
  return Date.parse(v);
}

export async function containerSizes(mgr: ContainerManager, c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const du = async (p: string) => {
    const r = await run('du', ['-sb', p]);
    return r.code === 0 ? Number(r.stdout.split('\t')[0]) : 0;
  };
  const rw = await du(`${mgr.store.dir(c.Id)}/diff`);
  const img = mgr.images.tryResolve(c.Image);
  return { SizeRw: rw, SizeRootFs: rw + (img?.size ?? 0) };
}

export async function containerSummary(mgr: ContainerManager, c: ContainerRecord, size: boolean): Promise<any> {
  const out: any = {
    Id: c.Id, Names: [c.Name], Image: c.Config.Image, ImageID: c.Image,
    // Docker quotes arguments that contain a space with single quotes.
    Command: [c.Path, ...c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(c.Created) / 1000), Ports: portList(c), Labels: c.Config.Labels ?? {},
    State: c.State.Status, Status: statusText(c), HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: c.NetworkSettings.Networks ?? {} }, Mounts: c.Mounts ?? [],
  };
  if (size) Object.assign(out, await containerSizes(mgr, c));
  return out;
}

/** /containers/json "Ports": published bindings, then exposed-only ports (no PublicPort). */
export function portList(c: ContainerRecord): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = c.State.Running ? c.NetworkSettings?.Ports ?? {} : {};
  for (const [key, list] of Object.entries(ports)) {
    const [p, proto = 'tcp'] = key.split('/');
    if (!list?.length) { out.push({ PrivatePort: Number(p), Type: proto }); continue; }
    for (const b of list) out.push({ IP: b.HostIp, PrivatePort: Number(p), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}
