// shoal service create / ls / ps / inspect / rm / scale
import type { CmdDef, Ctx, Opts } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { errorMessage, StatusError } from '../errors.js';
import { humanDuration, renderList } from '../fmt.js';
import { inspectRefs } from './inspect.js';
import { prettyService } from './service-pretty.js';
import { buildServiceSpec, CREATE_OPTIONS, UPDATE_OPTIONS, updateServiceSpec } from './service-spec.js';

const enc = encodeURIComponent;
const title = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every wanted task runs (and, after an update, until the update is done), printing
 * docker's final progress lines; a paused or rolled-back update ends in docker's errors.
 */
async function waitConverged(ctx: Ctx, id: string, quiet: boolean, change: 'create' | 'update' | 'rollback' = 'create', timeoutMs = 300_000): Promise<void> {
  const update = change !== 'create';
  const end = Date.now() + timeoutMs;
  let rolledBack = '';
  for (;;) {
    const [svc] = await ctx.client().get('/services', { status: 'true', filters: filtersJson({ id: [id] }) });
    if (!svc) throw new StatusError(`service ${id} not found`, 1);
    const st = svc.ServiceStatus;
    const us = svc.UpdateStatus;
    if (update && us?.State === 'paused') throw new StatusError(`service update paused: ${us.Message}`, 1);
    if (update && us?.State === 'rollback_paused') throw new StatusError(`service rollback paused: ${us.Message}`, 1);
    if (update && us?.State === 'rollback_started' && us.Message !== 'manually requested rollback' && !rolledBack) {
      rolledBack = us.Message;
      if (!quiet) ctx.out(`rollback: ${us.Message}\n`);
    }
    // an automatic rollback can start and finish between two polls (its failed slots only come back
    // after the restart delay): a finished rollback after `service update` is still a failure
    if (change === 'update' && us?.State === 'rollback_completed' && !rolledBack) rolledBack = us.Message;
    const updating = update && (us?.State === 'updating' || us?.State === 'rollback_started');
    if (st && st.RunningTasks === st.DesiredTasks && !updating && !svc.Spec.Mode?.ReplicatedJob && !svc.Spec.Mode?.GlobalJob) {
      if (!quiet) ctx.out(`overall progress: ${st.RunningTasks} out of ${st.DesiredTasks} tasks \nverify: Service converged \n`);
      if (rolledBack) throw new StatusError(`service rolled back: ${us?.Message ?? 'rollback completed'}`, 1);
      return;
    }
    const rj = svc.Spec.Mode?.ReplicatedJob;
    if (st && (rj ? st.CompletedTasks >= Number(rj.TotalCompletions ?? 1) : svc.Spec.Mode?.GlobalJob && st.DesiredTasks === 0 && st.RunningTasks === 0)) {
      if (!quiet) ctx.out(`job complete: ${st.CompletedTasks} out of ${rj?.TotalCompletions ?? st.CompletedTasks} tasks\n`);
      return;
    }
    if (Date.now() > end) throw new StatusError(`service ${id} did not converge: ${st?.RunningTasks ?? 0} out of ${st?.DesiredTasks ?? '?'} tasks running`, 1);
    await sleep(300);
  }
}

export const serviceCreateCmd: CmdDef = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new service',
  args: { min: 1 },
  interspersed: false,
  options: CREATE_OPTIONS,
  async run(ctx, args, o) {
    const [image, ...cmd] = args;
    const spec = buildServiceSpec(image, cmd, o, ctx.io.env, process.cwd());
    const res = await ctx.client().post<{ ID: string; Warnings?: string[] | null }>('/services/create', undefined, spec);
    for (const w of res.Warnings ?? []) ctx.err(`${w}\n`);
    ctx.out(`${res.ID}\n`);
    if (!o.detach) await waitConverged(ctx, res.ID, !!o.quiet);
    return 0;
  },
};

export const serviceUpdateCmd: CmdDef = {
  name: 'update',
  usage: '[OPTIONS] SERVICE',
  short: 'Update a service',
  args: { min: 1, max: 1 },
  options: UPDATE_OPTIONS,
  async run(ctx, [ref], o) {
    const cur = await ctx.client().get(`/services/${enc(ref)}`);
    const rollback = !!o.rollback;
    if (rollback && [...o._changed].some((f) => !['rollback', 'detach', 'quiet'].includes(f))) throw new StatusError('other flags may not be combined with --rollback', 1);
    // --network-rm takes names; the spec holds network IDs
    if (o.networkRm?.length) o.networkRm = await Promise.all((o.networkRm as string[]).map(async (n) => (await ctx.client().get(`/networks/${enc(n)}`).catch(() => ({ Id: n }))).Id));
    const spec = rollback ? cur.Spec : updateServiceSpec(cur.Spec, o, ctx.io.env, process.cwd());
    const res = await ctx.client().post<{ Warnings?: string[] | null }>(`/services/${enc(cur.ID)}/update`, { version: String(cur.Version.Index), ...(rollback ? { rollback: 'previous' } : {}) }, spec);
    for (const w of res?.Warnings ?? []) ctx.err(`${w}\n`);
    ctx.out(`${ref}\n`);
    if (!o.detach) await waitConverged(ctx, cur.ID, !!o.quiet, rollback ? 'rollback' : 'update');
    return 0;
  },
};

export const serviceRollbackCmd: CmdDef = {
  name: 'rollback',
  usage: '[OPTIONS] SERVICE',
  short: 'Revert changes to a service\'s configuration',
  args: { min: 1, max: 1 },
  options: [
    { long: 'detach', short: 'd', kind: 'bool', desc: 'Exit immediately instead of waiting for the service to converge' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress progress output' },
  ],
  async run(ctx, [ref], o) {
    const cur = await ctx.client().get(`/services/${enc(ref)}`);
    await ctx.client().post(`/services/${enc(cur.ID)}/update`, { version: String(cur.Version.Index), rollback: 'previous' }, cur.Spec);
    ctx.out(`${ref}\n`);
    if (!o.detach) await waitConverged(ctx, cur.ID, !!o.quiet, 'rollback');
    return 0;
  },
};

function modeName(m: any): string {
  return m?.Global ? 'global' : m?.ReplicatedJob ? 'replicated job' : m?.GlobalJob ? 'global job' : 'replicated';
}

/** docker's REPLICAS column: `3/3`, `3/3 (max 1 per node)`, jobs `0/3 (3/3 completed)`. */
function replicasText(s: any): string {
  const st = s.ServiceStatus ?? {};
  const base = `${st.RunningTasks ?? 0}/${st.DesiredTasks ?? 0}`;
  if (s.Spec.Mode?.ReplicatedJob || s.Spec.Mode?.GlobalJob) return `${base} (${st.CompletedTasks ?? 0}/${s.Spec.Mode.ReplicatedJob?.TotalCompletions ?? st.DesiredTasks ?? 0} completed)`;
  const max = s.Spec.TaskTemplate?.Placement?.MaxReplicas;
  return max ? `${base} (max ${max} per node)` : base;
}

/** docker's PORTS column: `*:8080->80/tcp` for the mesh, host mode as `*:8080->80/tcp` too. */
function portsText(s: any): string {
  return ((s.Endpoint?.Ports ?? s.Spec.EndpointSpec?.Ports ?? []) as any[]).filter((p) => p.PublishedPort)
    .map((p) => `*:${p.PublishedPort}->${p.TargetPort}/${p.Protocol ?? 'tcp'}`).join(', ');
}

const SERVICE_HEADERS = { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' };

export const serviceLsCmd: CmdDef = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  short: 'List services',
  args: { max: 0 },
  options: [
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display IDs' },
  ],
  async run(ctx, _args, o) {
    const list: any[] = await ctx.client().get('/services', { status: 'true', filters: filtersJson(parseFilters(o.filter)) });
    list.sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name));
    const rows = list.map((s) => ({
      ID: s.ID.slice(0, 12), Name: s.Spec.Name, Mode: modeName(s.Spec.Mode), Replicas: replicasText(s), Ports: portsText(s),
      Image: String(s.Spec.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:.*$/, ''),
    }));
    const format = o.quiet && !o.format ? '{{.ID}}' : o.format || undefined;
    ctx.out(renderList(format, 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}', rows, SERVICE_HEADERS));
    return 0;
  },
};

const TASK_HEADERS = { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' };

/** docker's task rows: newest first per slot, older ones as "\_ name" history rows. */
export async function taskRows(ctx: Ctx, tasks: any[], noTrunc: boolean): Promise<Record<string, string>[]> {
  const nodes: any[] = await ctx.client().get('/nodes').catch(() => []);
  const services: any[] = await ctx.client().get('/services').catch(() => []);
  const host = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  const svcName = new Map(services.map((s) => [s.ID, s.Spec.Name]));
  const key = (t: any) => `${t.ServiceID}/${t.Slot ?? t.NodeID}`;
  const groups = new Map<string, any[]>();
  for (const t of tasks) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  const out: Record<string, string>[] = [];
  const sortedKeys = [...groups.keys()].sort((a, b) => {
    const [sa, xa] = a.split('/'); const [sb, xb] = b.split('/');
    return (svcName.get(sa) ?? sa).localeCompare(svcName.get(sb) ?? sb) || (Number(xa) - Number(xb) || xa.localeCompare(xb));
  });
  for (const k of sortedKeys) {
    const g = groups.get(k)!.sort((a, b) => Date.parse(b.Status.Timestamp) - Date.parse(a.Status.Timestamp));
    g.forEach((t, i) => {
      const name = `${svcName.get(t.ServiceID) ?? t.ServiceID}.${t.Slot ?? t.NodeID}`;
      const err = t.Status.Err ? (noTrunc ? t.Status.Err : `"${t.Status.Err.length > 27 ? t.Status.Err.slice(0, 26) + '…' : t.Status.Err}"`) : '';
      out.push({
        ID: noTrunc ? t.ID : t.ID.slice(0, 12), Name: i === 0 ? name : ` \\_ ${name}`,
        Image: String(t.Spec?.ContainerSpec?.Image ?? '').replace(/@sha256:.*$/, ''), Node: host.get(t.NodeID) ?? '',
        DesiredState: title(t.DesiredState), CurrentState: `${title(t.Status.State)} ${humanDuration(Date.now() - Date.parse(t.Status.Timestamp)).toLowerCase()} ago`,
        Error: err, Ports: '',
      });
    });
  }
  return out;
}

/** `service ps` and `node ps` print tasks the same way. */
async function renderTasks(ctx: Ctx, tasks: any[], o: Opts): Promise<string> {
  const rows = await taskRows(ctx, tasks, !!o.noTrunc);
  const format = o.quiet && !o.format ? '{{.ID}}' : o.format || undefined;
  return renderList(format, 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}', rows, TASK_HEADERS);
}

const TASK_LIST_OPTIONS: CmdDef['options'] = [
  { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
  { long: 'format', kind: 'string', desc: 'Pretty-print tasks using a Go template' },
  { long: 'no-trunc', kind: 'bool', desc: 'Do not truncate output' },
  { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display task IDs' },
];

export const servicePsCmd: CmdDef = {
  name: 'ps',
  usage: '[OPTIONS] SERVICE [SERVICE...]',
  short: 'List the tasks of one or more services',
  args: { min: 1 },
  options: TASK_LIST_OPTIONS,
  async run(ctx, args, o) {
    const filters = parseFilters(o.filter);
    const ids: string[] = [];
    for (const a of args) ids.push((await ctx.client().get(`/services/${enc(a)}`)).ID);
    const tasks: any[] = await ctx.client().get('/tasks', { filters: filtersJson({ ...filters, service: ids }) });
    ctx.out(await renderTasks(ctx, tasks, o));
    return 0;
  },
};

export const serviceInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] SERVICE [SERVICE...]',
  short: 'Display detailed information on one or more services',
  args: { min: 1 },
  options: [{ long: 'format', short: 'f', kind: 'string', desc: 'Format output using a custom template' }, { long: 'pretty', kind: 'bool', desc: 'Print the information in a human friendly format' }],
  async run(ctx, args, o) {
    if (o.pretty && !o.format) {
      const errs: string[] = [];
      const parts: string[] = [];
      for (const a of args) {
        try { parts.push(prettyService(await ctx.client().get(`/services/${enc(a)}`))); } catch (e) { errs.push(errorMessage(e)); }
      }
      ctx.out(parts.join('\n'));
      if (errs.length) throw new StatusError(errs.join('\n'), 1);
      return 0;
    }
    return inspectRefs(ctx, args, o.format || undefined, async (ref) => JSON.stringify(await ctx.client().get(`/services/${enc(ref)}`)));
  },
};

export const serviceRmCmd: CmdDef = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'SERVICE [SERVICE...]',
  short: 'Remove one or more services',
  args: { min: 1 },
  async run(ctx, args) {
    const errs: string[] = [];
    for (const a of args) {
      try { await ctx.client().delete(`/services/${enc(a)}`); ctx.out(`${a}\n`); } catch (e) { errs.push(errorMessage(e)); }
    }
    if (errs.length) throw new StatusError(errs.join('\n'), 1);
    return 0;
  },
};

export const serviceScaleCmd: CmdDef = {
  name: 'scale',
  usage: 'SERVICE=REPLICAS [SERVICE=REPLICAS...]',
  short: 'Scale one or multiple replicated services',
  args: { min: 1 },
  options: [{ long: 'detach', short: 'd', kind: 'bool', desc: 'Exit immediately instead of waiting for the service to converge' }],
  async run(ctx, args, o) {
    const errs: string[] = [];
    for (const a of args) {
      const [name, n] = a.split('=');
      if (n === undefined || !/^\d+$/.test(n)) { errs.push(`invalid scale specifier '${a}'.\nSee '${ctx.bin} service scale --help'.\n\nUsage:  ${ctx.bin} service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services`); continue; }
      try {
        const s = await ctx.client().get(`/services/${enc(name)}`);
        if (!s.Spec.Mode?.Replicated) throw new Error(`scale can only be used with replicated mode`);
        const spec = { ...s.Spec, Mode: { Replicated: { Replicas: Number(n) } } };
        await ctx.client().post(`/services/${enc(s.ID)}/update`, { version: String(s.Version.Index) }, spec);
        ctx.out(`${name} scaled to ${n}\n`);
        if (!o.detach) await waitConverged(ctx, s.ID, false);
      } catch (e) { errs.push(errorMessage(e)); }
    }
    if (errs.length) throw new StatusError(errs.join('\n'), 1);
    return 0;
  },
};

export const nodePsCmd: CmdDef = {
  name: 'ps',
  usage: '[OPTIONS] [NODE...]',
  short: 'List tasks running on one or more nodes, defaults to current node',
  options: TASK_LIST_OPTIONS,
  async run(ctx, args, o) {
    const nodes = args.length ? args : ['self'];
    const tasks: any[] = await ctx.client().get('/tasks', { filters: filtersJson({ ...parseFilters(o.filter), node: nodes }) });
    ctx.out(await renderTasks(ctx, tasks, o));
    return 0;
  },
};
