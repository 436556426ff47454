// shoal container prune / shoal system prune
import type { CmdDef, Ctx } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { DaemonError } from '../errors.js';
import { humanSize } from '../fmt.js';
import { confirm } from '../util.js';
import { pruneImages } from './image-misc.js';

const CONTAINER_WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

export async function pruneContainers(ctx: Ctx, filterList: string[]): Promise<{ space: number; output: string }> {
  const res = await ctx.client().post<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('/containers/prune', { filters: filtersJson(parseFilters(filterList)) });
  let output = '';
  let space = 0;
  if (res?.ContainersDeleted?.length) {
    output = 'Deleted Containers:\n' + res.ContainersDeleted.map((id) => `${id}\n`).join('');
    space = res.SpaceReclaimed ?? 0;
  }
  return { space, output };
}

const filterOpt = { long: 'filter', kind: 'list' as const, type: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' };
const forceOpt = { long: 'force', short: 'f', kind: 'bool' as const, desc: 'Do not prompt for confirmation' };

export const containerPruneCmd: CmdDef = {
  name: 'prune',
  usage: '[OPTIONS]',
  short: 'Remove all stopped containers',
  args: { max: 0 },
  options: [filterOpt, forceOpt],
  async run(ctx, _args, o) {
    parseFilters(o.filter);
    if (!o.force && !(await confirm(ctx, CONTAINER_WARNING))) return 0;
    const { space, output } = await pruneContainers(ctx, o.filter);
    if (output) ctx.out(output + '\n');
    ctx.out(`Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};

/** Prunes that the daemon may not implement are skipped like docker skips NotImplemented. */
async function optionalPrune(ctx: Ctx, path: string, filterList: string[], key: string, title: string, extra: Record<string, string[]> = {}): Promise<{ space: number; output: string }> {
  try {
    const filters = { ...parseFilters(filterList), ...extra };
    const res = await ctx.client().post<Record<string, any>>(path, { filters: filtersJson(filters) });
    const list: string[] = res?.[key] ?? [];
    return { space: res?.SpaceReclaimed ?? 0, output: list.length ? `${title}:\n${list.map((x) => `${x}\n`).join('')}` : '' };
  } catch (e) {
    if (e instanceof DaemonError && (e.statusCode === 404 || e.statusCode === 501)) return { space: 0, output: '' };
    throw e;
  }
}

export const systemPruneCmd: CmdDef = {
  name: 'prune',
  usage: '[OPTIONS]',
  short: 'Remove unused data',
  args: { max: 0 },
  options: [
    { long: 'all', short: 'a', kind: 'bool', desc: 'Remove all unused images not just dangling ones' },
    { long: 'filter', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "label=<key>=<value>")' },
    forceOpt,
    { long: 'volumes', kind: 'bool', desc: 'Prune anonymous volumes' },
  ],
  async run(ctx, _args, o) {
    parseFilters(o.filter);
    const warnings = ['all stopped containers', 'all networks not used by at least one container'];
    if (o.volumes) warnings.push('all anonymous volumes not used by at least one container');
    warnings.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
    warnings.push(o.all ? 'all build cache' : 'unused build cache');
    const msg = `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n\nAre you sure you want to continue?`;
    if (!o.force && !(await confirm(ctx, msg))) return 0;
    let space = 0;
    const report = (r: { space: number; output: string }) => { space += r.space; if (r.output) ctx.out(r.output + '\n'); };
    report(await pruneContainers(ctx, o.filter));
    report(await optionalPrune(ctx, '/networks/prune', o.filter, 'NetworksDeleted', 'Deleted Networks'));
    if (o.volumes) report(await optionalPrune(ctx, '/volumes/prune', o.filter, 'VolumesDeleted', 'Deleted Volumes'));
    report(await pruneImages(ctx, !!o.all, o.filter));
    report(await optionalPrune(ctx, '/build/prune', o.filter, 'CachesDeleted', 'Deleted build cache objects', o.all ? {} : {}));
    ctx.out(`Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};
