// shoal ps / shoal container ls
import type { CmdDef } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { humanSizePrec, renderList, since } from '../fmt.js';
import { ellipsis, goQuote, goTimeString, truncateId } from '../util.js';

export const DEFAULT_PS_FORMAT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
};

export interface PortSummary { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

function cmpIP(a = '', b = ''): number {
  // netip.Addr ordering: IPv4 before IPv6, then numerically.
  const v = (s: string) => (s.includes(':') ? 1 : 0);
  if (v(a) !== v(b)) return v(a) - v(b);
  if (!a.includes(':') && !b.includes(':')) {
    const pa = a.split('.').map(Number); const pb = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const joinHostPort = (ip: string, port: string | number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** docker's DisplayablePorts: "0.0.0.0:8080->80/tcp, 443/tcp" with consecutive ports grouped. */
export function displayablePorts(portsIn: PortSummary[] | null | undefined): string {
  const ports = [...(portsIn ?? [])].sort((i, j) => {
    if (i.PrivatePort !== j.PrivatePort) return i.PrivatePort - j.PrivatePort;
    if ((i.IP ?? '') !== (j.IP ?? '')) return cmpIP(i.IP, j.IP);
    if ((i.PublicPort ?? 0) !== (j.PublicPort ?? 0)) return (i.PublicPort ?? 0) - (j.PublicPort ?? 0);
    return i.Type < j.Type ? -1 : i.Type > j.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, start: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0]; let ip = '';
    if (parts.length > 1) { ip = parts[0]; type = parts[1]; }
    let g = String(start);
    if (start !== last) g = `${g}-${last}`;
    if (ip) g = `${joinHostPort(ip, g)}->${g}`;
    return `${g}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: current, last: current }); order.push(key); continue; }
    if (current === g.last + 1) { g.last = current; continue; }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const k of order) { const g = groups.get(k)!; result.push(formGroup(k, g.first, g.last)); }
  result.push(...hostMappings);
  return result.join(', ');
}

/** Familiar image name: strips docker.io/library/ and a digest (keeping the tag). */
export function familiarImage(image: string): string {
  let s = image.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
  const at = s.indexOf('@');
  if (at >= 0 && /^[a-z0-9]+:[a-f0-9]{32,}$/.test(s.slice(at + 1))) s = s.slice(0, at);
  return s;
}

/** docker's ContainerContext as a plain object (keys in the order docker's JSON uses). */
export function containerContext(c: any, trunc: boolean, now = Date.now()): Record<string, unknown> {
  const labels: Record<string, string> = c.Labels ?? {};
  let image: string;
  if (!c.Image) image = '<no image>';
  else if (!trunc) image = c.Image;
  else if (truncateId(c.ImageID ?? '') === truncateId(c.Image)) image = truncateId(c.Image);
  else image = familiarImage(c.Image);
  const names: string[] = (c.Names ?? []).map((n: string) => n.replace(/^\//, ''));
  let name: string;
  if (trunc) name = names.find((n) => !n.includes('/')) ?? '';
  else name = names.join(',');
  const srw = humanSizePrec(c.SizeRw ?? 0);
  const size = (c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${humanSizePrec(c.SizeRootFs)})` : srw;
  const mounts = (c.Mounts ?? []).map((m: any) => { const n = m.Name || m.Source || ''; return trunc ? ellipsis(n, 15) : n; }).join(',');
  const obj: Record<string, unknown> = {
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: goTimeString(c.Created ?? 0),
    ID: trunc ? truncateId(c.Id ?? '') : (c.Id ?? ''),
    Image: image,
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m: any) => m.Driver === 'local').length),
    Mounts: mounts,
    Names: name,
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Platform: null,
    Ports: displayablePorts(c.Ports),
    RunningFor: since(c.Created ?? 0, now),
    Size: size,
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
  // docker's Label(name) method; functions are skipped by {{json .}}
  obj.Label = (key: string) => labels[key] ?? '';
  return obj;
}

export function psFormat(format: string | undefined, quiet: boolean, size: boolean): string {
  if (quiet) return '{{.ID}}';
  if (!format || format === 'table') return size ? `${DEFAULT_PS_FORMAT}\t{{.Size}}` : DEFAULT_PS_FORMAT;
  return format;
}

export const psCmd: CmdDef = {
  name: 'ps',
  aliases: ['ls', 'list'],
  usage: '[OPTIONS]',
  short: 'List containers',
  args: { max: 0 },
  options: [
    { long: 'all', short: 'a', kind: 'bool', desc: 'Show all containers (default shows just running)' },
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
    { long: 'format', kind: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    { long: 'last', short: 'n', kind: 'int', desc: 'Show n last created containers (includes all states)', def: -1 },
    { long: 'latest', short: 'l', kind: 'bool', desc: 'Show the latest created container (includes all states)' },
    { long: 'no-trunc', kind: 'bool', desc: "Don't truncate output" },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display container IDs' },
    { long: 'size', short: 's', kind: 'bool', desc: 'Display total file sizes' },
  ],
  async run(ctx, _args, o) {
    const format: string | undefined = o.format || undefined;
    const size = !!o.size || (!!format && !o.quiet && format.includes('.Size'));
    let limit: number = o.last;
    if (o.latest && limit === -1) limit = 1;
    const filters = parseFilters(o.filter);
    const list: any[] = await ctx.client().get('/containers/json', {
      all: o.all || limit > 0 || undefined,
      limit: limit > 0 ? limit : undefined,
      size: size || undefined,
      filters: filtersJson(filters),
    });
    const now = Date.now();
    const items = (list ?? []).map((c) => containerContext(c, !o.noTrunc, now));
    ctx.out(renderList(psFormat(format, !!o.quiet, !!o.size), DEFAULT_PS_FORMAT, items, PS_HEADERS));
    return 0;
  },
};
