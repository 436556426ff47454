// shoal service logs: docker's output, `<service>.<slot>.<task>@<node>    | <line>`, built from
// the details attributes the daemon puts before each line (swarm context: node, service, task).
import type { Client } from '../client.js';
import type { CmdDef } from '../command.js';
import { isNotFound } from '../errors.js';
import { StdDemuxer } from '../stdcopy.js';
import { timestampParam, writeAsync } from '../util.js';
import { enc } from './shared.js';

export interface LogContext { nodeId: string; serviceId: string; taskId: string }

/** Splits a detailed line into its parts: [timestamp], the details map (context removed), the context, the message. */
export function parseDetailedLine(buf: Buffer, timestamps: boolean): { ts?: Buffer; details: Map<string, string>; ctx: LogContext; msg: Buffer } {
  const cut = (b: Buffer) => { const i = b.indexOf(0x20); return i < 0 ? undefined : [b.subarray(0, i), b.subarray(i + 1)] as const; };
  let rest = buf;
  let ts: Buffer | undefined;
  if (timestamps) {
    const p = cut(rest);
    if (!p) throw new Error(`invalid context in log message: ${buf.toString()}`);
    [ts, rest] = p;
  }
  const p = cut(rest);
  if (!p) throw new Error(`invalid context in log message: ${buf.toString()}`);
  const details = new Map<string, string>();
  for (const pair of p[0].toString().split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error('invalid details format');
    const unesc = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    details.set(unesc(pair.slice(0, i)), unesc(pair.slice(i + 1)));
  }
  const take = (k: string, what: string) => {
    const v = details.get(k);
    if (v === undefined) throw new Error(`missing ${what} id in details: map[${[...details].map(([a, b]) => `${a}:${b}`).join(' ')}]`);
    details.delete(k);
    return v;
  };
  const ctx = { nodeId: take('com.docker.swarm.node.id', 'node'), serviceId: take('com.docker.swarm.service.id', 'service'), taskId: take('com.docker.swarm.task.id', 'task') };
  return { ts, details, ctx, msg: p[1] };
}

/** docker's prefix: `<service>.<slot>[.<task id>]@<node>`, padded to the widest slot number. */
export function taskPrefix(service: string, slot: number, taskId: string, node: string, o: { noTaskIds?: boolean; noTrunc?: boolean; padding: number }): string {
  let name = `${service}.${slot}`;
  if (!o.noTaskIds) name += '.' + (o.noTrunc ? taskId : taskId.slice(0, 12));
  return `${name}@${node}${' '.repeat(Math.max(0, o.padding - String(slot).length))}`;
}

/** Resolves (and caches) a context's names the way docker's idresolver does. */
function prefixer(client: Client, o: { noResolve?: boolean; noTaskIds?: boolean; noTrunc?: boolean; padding: number }) {
  const cache = new Map<string, string>();
  const names = new Map<string, string>();
  const resolve = async (kind: 'nodes' | 'services', id: string): Promise<string> => {
    if (o.noResolve) return id;
    const hit = names.get(id);
    if (hit !== undefined) return hit;
    let name = id;
    try {
      const x = await client.get(`/${kind}/${enc(id)}`);
      name = kind === 'nodes' ? x.Spec?.Name || x.Description?.Hostname || id : x.Spec?.Name ?? '';
    } catch { /* best effort: the ID */ }
    names.set(id, name);
    return name;
  };
  return async (c: LogContext): Promise<string> => {
    const key = `${c.nodeId}/${c.serviceId}/${c.taskId}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const node = await resolve('nodes', c.nodeId);
    const service = await resolve('services', c.serviceId);
    const task = await client.get(`/tasks/${enc(c.taskId)}`);
    const p = taskPrefix(service, task.Slot ?? 0, task.ID, node, o);
    cache.set(key, p);
    return p;
  };
}

export const serviceLogsCmd: CmdDef = {
  name: 'logs',
  usage: '[OPTIONS] SERVICE|TASK',
  short: 'Fetch the logs of a service or task',
  args: { min: 1, max: 1 },
  options: [
    { long: 'details', kind: 'bool', desc: 'Show extra details provided to logs' },
    { long: 'follow', short: 'f', kind: 'bool', desc: 'Follow log output' },
    { long: 'no-resolve', kind: 'bool', desc: 'Do not map IDs to Names in output' },
    { long: 'no-task-ids', kind: 'bool', desc: 'Do not include task IDs in output' },
    { long: 'no-trunc', kind: 'bool', desc: 'Do not truncate output' },
    { long: 'raw', kind: 'bool', desc: 'Do not neatly format logs' },
    { long: 'since', kind: 'string', desc: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { long: 'tail', short: 'n', kind: 'string', desc: 'Number of lines to show from the end of the logs', def: 'all' },
    { long: 'timestamps', short: 't', kind: 'bool', desc: 'Show timestamps' },
  ],
  async run(ctx, args, o) {
    const target = args[0];
    const client = ctx.client();
    let kind = 'services';
    let tty = false;
    let padding = 1;
    try {
      const s = await client.get(`/services/${enc(target)}`);
      tty = !!s.Spec?.TaskTemplate?.ContainerSpec?.TTY;
      const replicas = s.Spec?.Mode?.Replicated?.Replicas;
      if (replicas !== undefined && replicas !== null) padding = String(replicas).length;
    } catch (e) {
      if (!isNotFound(e)) throw e;
      let t;
      try { t = await client.get(`/tasks/${enc(target)}`); } catch (e2) {
        throw isNotFound(e2) ? new Error(`no such task or service: ${target}`) : e2;
      }
      kind = 'tasks';
      tty = !!t.Spec?.ContainerSpec?.TTY;
      padding = String(t.Slot ?? 0).length;
    }
    if (tty && !o.raw) throw new Error('tty service logs only supported with --raw');
    const res = await client.request('GET', `/${kind}/${enc(target)}/logs`, {
      query: {
        stdout: true, stderr: true, since: timestampParam(o.since), timestamps: o.timestamps || undefined,
        follow: o.follow || undefined, tail: o.tail, details: o.details || !o.raw || undefined,
      },
    });
    if (tty) {
      for await (const chunk of res) await writeAsync(ctx.io.stdout, chunk as Buffer);
      return 0;
    }
    const prefix = o.raw ? undefined : prefixer(client, { noResolve: o.noResolve, noTaskIds: o.noTaskIds, noTrunc: o.noTrunc, padding });
    const d = new StdDemuxer();
    for await (const chunk of res) {
      for (const f of d.push(chunk as Buffer)) {
        if (f.stream === 3) throw new Error(`error from daemon in stream: ${f.data.toString('utf8')}`);
        const dst = f.stream === 2 ? ctx.io.stderr : f.stream === 1 ? ctx.io.stdout : undefined;
        if (!dst) continue;
        if (!prefix) { await writeAsync(dst, f.data); continue; }
        const p = parseDetailedLine(f.data, !!o.timestamps);
        const parts: Buffer[] = [];
        if (p.ts) parts.push(p.ts, Buffer.from(' '));
        parts.push(Buffer.from(`${await prefix(p.ctx)}    | `));
        if (o.details) parts.push(Buffer.from([...p.details].map(([k, v]) => `${k}=${v}`).sort().join(',') + ' '));
        parts.push(p.msg);
        await writeAsync(dst, Buffer.concat(parts));
      }
    }
    return 0;
  },
};
