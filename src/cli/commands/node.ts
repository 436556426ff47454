// shoal node ls / inspect / update / promote / demote / rm
import type { CmdDef, Ctx } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { errorMessage, StatusError } from '../errors.js';
import { renderList } from '../fmt.js';
import { inspectRefs } from './inspect.js';

const enc = encodeURIComponent;
const title = (s: string | undefined) => (s ? s[0].toUpperCase() + s.slice(1) : '');

/** The rows of `node ls`, with the names docker's node formatter exposes to --format. */
export function nodeRow(n: any, selfId: string): Record<string, unknown> {
  const ms = n.ManagerStatus;
  return {
    ID: n.ID, Self: n.ID === selfId, Hostname: n.Description?.Hostname ?? '', Status: title(n.Status?.State),
    Availability: title(n.Spec?.Availability), ManagerStatus: ms ? (ms.Leader ? 'Leader' : title(ms.Reachability)) : '',
    EngineVersion: n.Description?.Engine?.EngineVersion ?? '', TLSStatus: n.Description?.TLSInfo ? 'Ready' : 'Unknown',
  };
}

const NODE_HEADERS = { ID: 'ID', Hostname: 'HOSTNAME', Status: 'STATUS', Availability: 'AVAILABILITY', ManagerStatus: 'MANAGER STATUS', EngineVersion: 'ENGINE VERSION', TLSStatus: 'TLS STATUS', Self: '' };
const DEFAULT_NODE_TABLE = 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}';

export const nodeLsCmd: CmdDef = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  short: 'List nodes in the swarm',
  args: { max: 0 },
  options: [
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display IDs' },
  ],
  async run(ctx, _args, o) {
    const nodes: any[] = await ctx.client().get('/nodes', { filters: filtersJson(parseFilters(o.filter)) });
    const info = await ctx.client().get('/info');
    nodes.sort((a, b) => String(a.Description?.Hostname).localeCompare(String(b.Description?.Hostname)) || a.ID.localeCompare(b.ID));
    const rows = nodes.map((n) => nodeRow(n, info.Swarm?.NodeID ?? ''));
    const format = o.quiet && !o.format ? '{{.ID}}' : o.format || undefined;
    ctx.out(renderList(format, DEFAULT_NODE_TABLE, rows, NODE_HEADERS));
    return 0;
  },
};

/** "self" means the local node, as in docker. */
async function resolveSelf(ctx: Ctx, ref: string): Promise<string> {
  if (ref !== 'self') return ref;
  const info = await ctx.client().get('/info');
  return info.Swarm?.NodeID || ref;
}

function pretty(n: any): string {
  const lines = [`ID:\t\t\t${n.ID}`];
  if (n.Spec?.Name) lines.push(`Name:\t\t\t${n.Spec.Name}`);
  const labels = Object.entries(n.Spec?.Labels ?? {});
  if (labels.length) { lines.push('Labels:'); for (const [k, v] of labels) lines.push(` - ${k}=${v}`); }
  lines.push(`Hostname:\t\t${n.Description?.Hostname ?? ''}`, `Joined at:\t\t${n.CreatedAt}`, 'Status:',
    ` State:\t\t\t${title(n.Status?.State)}`, ` Availability:\t\t${title(n.Spec?.Availability)}`, ` Address:\t\t${n.Status?.Addr ?? ''}`);
  if (n.ManagerStatus) {
    lines.push('Manager Status:', ` Address:\t\t${n.ManagerStatus.Addr}`, ` Raft Status:\t\t${title(n.ManagerStatus.Reachability)}`, ` Leader:\t\t${n.ManagerStatus.Leader ? 'Yes' : 'No'}`);
  }
  lines.push('Platform:', ` Operating System:\t${n.Description?.Platform?.OS ?? ''}`, ` Architecture:\t\t${n.Description?.Platform?.Architecture ?? ''}`,
    'Resources:', ` CPUs:\t\t\t${(n.Description?.Resources?.NanoCPUs ?? 0) / 1e9}`, ` Memory:\t\t${((n.Description?.Resources?.MemoryBytes ?? 0) / 2 ** 30).toFixed(2)}GiB`,
    `Engine Version:\t\t${n.Description?.Engine?.EngineVersion ?? ''}`);
  if (n.Description?.TLSInfo) {
    lines.push('TLS Info:', ` TrustRoot:\n${n.Description.TLSInfo.TrustRoot}`, ` Issuer Subject:\t${n.Description.TLSInfo.CertIssuerSubject}`, ` Issuer Public Key:\t${n.Description.TLSInfo.CertIssuerPublicKey}`);
  }
  return lines.join('\n') + '\n';
}

export const nodeInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] self|NODE [NODE...]',
  short: 'Display detailed information on one or more nodes',
  args: { min: 1 },
  options: [
    { long: 'format', short: 'f', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'pretty', kind: 'bool', desc: 'Print the information in a human friendly format' },
  ],
  async run(ctx, args, o) {
    if (o.pretty) {
      const errs: string[] = [];
      const parts: string[] = [];
      for (const a of args) {
        try { parts.push(pretty(await ctx.client().get(`/nodes/${enc(await resolveSelf(ctx, a))}`))); } catch (e) { errs.push(errorMessage(e)); }
      }
      ctx.out(parts.join('\n\n'));
      if (errs.length) throw new StatusError(errs.join('\n'), 1);
      return 0;
    }
    return inspectRefs(ctx, args, o.format || undefined, async (ref) => JSON.stringify(await ctx.client().get(`/nodes/${enc(await resolveSelf(ctx, ref))}`)));
  },
};

/** GET, change the spec, POST /nodes/{id}/update?version= (optimistic concurrency like docker). */
async function updateNode(ctx: Ctx, ref: string, change: (spec: any) => void): Promise<void> {
  const id = await resolveSelf(ctx, ref);
  const n = await ctx.client().get(`/nodes/${enc(id)}`);
  const spec = { ...n.Spec, Labels: { ...(n.Spec.Labels ?? {}) } };
  change(spec);
  await ctx.client().call('POST', `/nodes/${enc(n.ID)}/update`, { query: { version: String(n.Version.Index) }, body: spec });
}

export const nodeUpdateCmd: CmdDef = {
  name: 'update',
  usage: '[OPTIONS] NODE',
  short: 'Update a node',
  args: { min: 1, max: 1 },
  options: [
    { long: 'availability', kind: 'string', desc: 'Availability of the node ("active", "pause", "drain")' },
    { long: 'label-add', kind: 'list', desc: 'Add or update a node label (key=value)' },
    { long: 'label-rm', kind: 'list', desc: 'Remove a node label if exists' },
    { long: 'role', kind: 'string', desc: 'Role of the node ("worker", "manager")' },
  ],
  async run(ctx, args, o) {
    await updateNode(ctx, args[0], (spec) => {
      if (o.availability) spec.Availability = String(o.availability).toLowerCase();
      if (o.role) spec.Role = String(o.role).toLowerCase();
      for (const l of o.labelAdd ?? []) { const i = l.indexOf('='); if (i < 0) spec.Labels[l] = ''; else spec.Labels[l.slice(0, i)] = l.slice(i + 1); }
      for (const l of o.labelRm ?? []) delete spec.Labels[l];
    });
    ctx.out(`${args[0]}\n`);
    return 0;
  },
};

function roleCmd(name: 'promote' | 'demote'): CmdDef {
  const role = name === 'promote' ? 'manager' : 'worker';
  return {
    name,
    usage: 'NODE [NODE...]',
    short: name === 'promote' ? 'Promote one or more nodes to manager in the swarm' : 'Demote one or more nodes from manager in the swarm',
    args: { min: 1 },
    async run(ctx, args) {
      const errs: string[] = [];
      for (const ref of args) {
        try {
          const n = await ctx.client().get(`/nodes/${enc(await resolveSelf(ctx, ref))}`);
          if (n.Spec.Role === role) { ctx.out(`Node ${ref} is already a ${role}.\n`); continue; }
          await updateNode(ctx, n.ID, (spec) => { spec.Role = role; });
          ctx.out(`Node ${ref} ${name}d to a ${role} in the swarm.\n`);
        } catch (e) { errs.push(errorMessage(e)); }
      }
      if (errs.length) throw new StatusError(errs.join('\n'), 1);
      return 0;
    },
  };
}
export const nodePromoteCmd = roleCmd('promote');
export const nodeDemoteCmd = roleCmd('demote');

export const nodeRmCmd: CmdDef = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] NODE [NODE...]',
  short: 'Remove one or more nodes from the swarm',
  args: { min: 1 },
  options: [{ long: 'force', short: 'f', kind: 'bool', desc: 'Force remove a node from the swarm' }],
  async run(ctx, args, o) {
    const errs: string[] = [];
    for (const ref of args) {
      try {
        await ctx.client().delete(`/nodes/${enc(ref)}`, { force: o.force ? 'true' : undefined });
        ctx.out(`${ref}\n`);
      } catch (e) { errs.push(errorMessage(e)); }
    }
    if (errs.length) throw new StatusError(errs.join('\n'), 1);
    return 0;
  },
};
