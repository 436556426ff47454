// shoal volume create / ls / inspect / rm / prune
import type { CmdDef, Ctx } from '../command.js';
import { filtersJson, parseFilters, readAll } from '../client.js';
import { errorMessage, StatusError } from '../errors.js';
import { humanSize, renderList } from '../fmt.js';
import { confirm } from '../util.js';
import { inspectRefs } from './inspect.js';
import { enc } from './shared.js';

export const DEFAULT_VOLUME_FORMAT = 'table {{.Driver}}\t{{.Name}}';

export const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS',
  Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS',
};

/** "KEY=VALUE" flags into a map (docker's opts.ListOpts → ConvertKVStringsToMap). */
function kvMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of list) {
    const i = s.indexOf('=');
    if (i < 0) out[s] = ''; else out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

/** Natural order (docker's sortorder.NaturalLess): digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.match(/(\d+|\D+)/g) ?? [];
  const ca = chunks(a); const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]; const y = cb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x); const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, ''); const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      if (x.length !== y.length) return x.length - y.length;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

/** docker's volumeContext for one volume. */
export function volumeContext(v: any): Record<string, unknown> {
  const labels: Record<string, string> = v.Labels ?? {};
  const obj: Record<string, unknown> = {
    Availability: 'N/A',
    Driver: v.Driver ?? '',
    Group: 'N/A',
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).sort().join(','),
    Links: v.UsageData && v.UsageData.RefCount !== -1 ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint ?? '',
    Name: v.Name ?? '',
    Scope: v.Scope ?? '',
    Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A',
    Status: 'N/A',
  };
  obj.Label = (key: string) => labels[key] ?? '';
  return obj;
}

export const volumeCreateCmd: CmdDef = {
  name: 'create',
  usage: '[OPTIONS] [VOLUME]',
  short: 'Create a volume',
  args: { max: 1 },
  options: [
    { long: 'driver', short: 'd', kind: 'string', desc: 'Specify volume driver name', def: 'local' },
    { long: 'label', kind: 'list', desc: 'Set metadata for a volume' },
    { long: 'name', kind: 'string', desc: 'Specify volume name', hidden: true },
    { long: 'opt', short: 'o', kind: 'list', type: 'map', desc: 'Set driver specific options', defText: 'map[]' },
  ],
  async run(ctx, args, o) {
    let name: string = o.name ?? '';
    if (args[0] !== undefined) {
      if (name && name !== args[0]) throw new StatusError(`conflicting options: either specify --name or provide positional arg, not both`, 1);
      name = args[0];
    }
    const v = await ctx.client().post<{ Name: string }>('/volumes/create', undefined, {
      Name: name, Driver: o.driver, DriverOpts: kvMap(o.opt), Labels: kvMap(o.label),
    });
    ctx.out(`${v.Name}\n`);
    return 0;
  },
};

export const volumeLsCmd: CmdDef = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  short: 'List volumes',
  args: { max: 0 },
  options: [
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "dangling=true")' },
    { long: 'format', kind: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display volume names' },
  ],
  async run(ctx, _args, o) {
    const res = await ctx.client().get<{ Volumes: any[] | null }>('/volumes', { filters: filtersJson(parseFilters(o.filter)) });
    const vols = [...(res?.Volumes ?? [])].sort((a, b) => naturalCompare(a.Name ?? '', b.Name ?? ''));
    let format: string | undefined = o.format || undefined;
    if (o.quiet) format = '{{.Name}}';
    ctx.out(renderList(format, DEFAULT_VOLUME_FORMAT, vols.map(volumeContext), VOLUME_HEADERS));
    return 0;
  },
};

export const volumeInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  args: { min: 1 },
  options: [
    { long: 'format', short: 'f', kind: 'string', desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
  ],
  run: (ctx, args, o) => inspectRefs(ctx, args, o.format || undefined, async (ref) => {
    const res = await ctx.client().request('GET', `/volumes/${enc(ref)}`);
    return (await readAll(res)).toString('utf8').trim();
  }),
};

export const volumeRmCmd: CmdDef = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  short: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
  args: { min: 1 },
  options: [{ long: 'force', short: 'f', kind: 'bool', desc: 'Force the removal of one or more volumes' }],
  async run(ctx, args, o) {
    const errs: string[] = [];
    for (const name of args) {
      try {
        await ctx.client().call('DELETE', `/volumes/${enc(name)}`, { query: { force: o.force || undefined } });
        ctx.out(`${name}\n`);
      } catch (e) {
        errs.push(errorMessage(e));
      }
    }
    if (errs.length) throw new StatusError(errs.join('\n'), 1);
    return 0;
  },
};

const PRUNE_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

/** POST /volumes/prune; returns the space reclaimed and docker's report text. */
export async function pruneVolumes(ctx: Ctx, filterList: string[]): Promise<{ space: number; output: string }> {
  const res = await ctx.client().post<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('/volumes/prune', { filters: filtersJson(parseFilters(filterList)) });
  let output = '';
  if (res?.VolumesDeleted?.length) output = 'Deleted Volumes:\n' + res.VolumesDeleted.map((n) => `${n}\n`).join('');
  return { space: res?.SpaceReclaimed ?? 0, output };
}

export const volumePruneCmd: CmdDef = {
  name: 'prune',
  usage: '[OPTIONS]',
  short: 'Remove unused local volumes',
  args: { max: 0 },
  options: [
    { long: 'filter', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "label=<label>")' },
    { long: 'force', short: 'f', kind: 'bool', desc: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, o) {
    parseFilters(o.filter);
    if (!o.force && !(await confirm(ctx, PRUNE_WARNING))) return 0;
    const { space, output } = await pruneVolumes(ctx, o.filter);
    if (output) ctx.out(output + '\n');
    ctx.out(`Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};
