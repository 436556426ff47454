// shoal service create / ls / ps / inspect / rm / scale
import type { CmdDef, Ctx, Opts } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { errorMessage, StatusError } from '../errors.js';
import { humanDuration, renderList } from '../fmt.js';
import { parseDuration } from '../../util/go-units.js';
import { inspectRefs } from './inspect.js';

const enc = encodeURIComponent;
const title = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kv(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list ?? []) { const i = l.indexOf('='); if (i < 0) out[l] = ''; else out[l.slice(0, i)] = l.slice(i + 1); }
  return out;
}

/** Waits until every wanted task runs, printing docker's final progress lines. */
async function waitConverged(ctx: Ctx, id: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [svc] = await ctx.client().get('/services', { status: 'true', filters: filtersJson({ id: [id] }) });
    const st = svc?.ServiceStatus;
    if (st && st.RunningTasks === st.DesiredTasks) {
      ctx.out(`overall progress: ${st.RunningTasks} out of ${st.DesiredTasks} tasks \nverify: Service converged \n`);
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
  options: [
    { long: 'constraint', kind: 'list', desc: 'Placement constraints' },
    { long: 'container-label', kind: 'list', desc: 'Container labels' },
    { long: 'detach', short: 'd', kind: 'bool', desc: 'Exit immediately instead of waiting for the service to converge' },
    { long: 'entrypoint', kind: 'string', desc: 'Overwrite the default ENTRYPOINT of the image' },
    { long: 'env', short: 'e', kind: 'list', desc: 'Set environment variables' },
    { long: 'hostname', kind: 'string', desc: 'Container hostname' },
    { long: 'label', short: 'l', kind: 'list', desc: 'Service labels' },
    { long: 'mode', kind: 'string', desc: 'Service mode ("replicated", "global")', def: 'replicated' },
    { long: 'name', kind: 'string', desc: 'Service name' },
    { long: 'no-resolve-image', kind: 'bool', desc: 'Do not query the registry to resolve image digest and supported platforms' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress progress output' },
    { long: 'read-only', kind: 'bool', desc: "Mount the container's root filesystem as read only" },
    { long: 'replicas', kind: 'string', desc: 'Number of tasks' },
    { long: 'restart-condition', kind: 'string', desc: 'Restart when condition is met ("none", "on-failure", "any")' },
    { long: 'restart-delay', kind: 'string', desc: 'Delay between restart attempts (ns|us|ms|s|m|h)' },
    { long: 'restart-max-attempts', kind: 'string', desc: 'Maximum number of restarts before giving up' },
    { long: 'stop-grace-period', kind: 'string', desc: 'Time to wait before force killing a container (ns|us|ms|s|m|h)' },
    { long: 'stop-signal', kind: 'string', desc: 'Signal to stop the container' },
    { long: 'user', short: 'u', kind: 'string', desc: 'Username or UID (format: <name|uid>[:<group|gid>])' },
    { long: 'workdir', short: 'w', kind: 'string', desc: 'Working directory inside the container' },
  ],
  async run(ctx, args, o) {
    const [image, ...cmd] = args;
    const ns = (v: string | undefined) => (v ? parseDuration(v) * 1e6 : undefined);
    const mode = o.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: o.replicas !== undefined ? Number(o.replicas) : 1 } };
    if (o.mode !== 'global' && o.mode !== 'replicated') throw new Error(`invalid mode: ${o.mode}`);
    if (o.mode === 'global' && o.replicas !== undefined) throw new Error('replicas can only be used with replicated or replicated-job mode');
    const restart: any = {};
    if (o.restartCondition) restart.Condition = o.restartCondition;
    if (o.restartDelay) restart.Delay = ns(o.restartDelay);
    if (o.restartMaxAttempts) restart.MaxAttempts = Number(o.restartMaxAttempts);
    const spec = {
      Name: o.name || undefined, Labels: kv(o.label), Mode: mode,
      TaskTemplate: {
        ContainerSpec: {
          Image: image, Args: cmd.length ? cmd : undefined, Command: o.entrypoint ? o.entrypoint.split(/\s+/) : undefined,
          Env: o.env?.length ? o.env : undefined, Labels: kv(o.containerLabel), Dir: o.workdir, User: o.user, Hostname: o.hostname,
          ReadOnly: !!o.readOnly, StopSignal: o.stopSignal, StopGracePeriod: ns(o.stopGracePeriod),
        },
        RestartPolicy: Object.keys(restart).length ? restart : undefined,
        Placement: o.constraint?.length ? { Constraints: o.constraint } : undefined,
      },
    };
    const res = await ctx.client().post<{ ID: string; Warnings?: string[] | null }>('/services/create', undefined, spec);
    for (const w of res.Warnings ?? []) ctx.err(`${w}\n`);
    ctx.out(`${res.ID}\n`);
    if (!o.detach) await waitConverged(ctx, res.ID);
    return 0;
  },
};

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
      ID: s.ID.slice(0, 12), Name: s.Spec.Name, Mode: s.Spec.Mode?.Global ? 'global' : 'replicated',
      Replicas: `${s.ServiceStatus?.RunningTasks ?? 0}/${s.ServiceStatus?.DesiredTasks ?? 0}`,
      Image: String(s.Spec.TaskTemplate?.ContainerSpec?.Image ?? '').replace(/@sha256:.*$/, ''), Ports: '',
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
  run: (ctx, args, o) => inspectRefs(ctx, args, o.format || undefined, async (ref) => JSON.stringify(await ctx.client().get(`/services/${enc(ref)}`))),
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
        if (!o.detach) await waitConverged(ctx, s.ID);
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
