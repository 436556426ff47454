// shoal top / port / diff / export / commit
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CmdDef } from '../command.js';
import { errorMessage } from '../errors.js';
import { tabwrite } from '../fmt.js';
import { enc, splitRef, validateReference } from './shared.js';

export const topCmd: CmdDef = {
  name: 'top',
  usage: 'CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  args: { min: 1 },
  interspersed: false,
  async run(ctx, args) {
    const [container, ...psArgs] = args;
    const res: { Titles: string[]; Processes: string[][] } = await ctx.client().get(`/containers/${enc(container)}/top`, { ps_args: psArgs.length ? psArgs.join(' ') : undefined });
    const rows = [res.Titles ?? [], ...(res.Processes ?? [])];
    ctx.out(tabwrite(rows, { minwidth: 20, padding: 3 }));
    return 0;
  },
};

function naturalLess(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

const joinHostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

export const portCmd: CmdDef = {
  name: 'port',
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  args: { min: 1, max: 2 },
  async run(ctx, args) {
    const [container, port] = args;
    const c = await ctx.client().get(`/containers/${enc(container)}/json`);
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = c.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (port) {
      let [p, proto = 'tcp'] = port.split('/');
      proto = proto.toLowerCase();
      if (!/^\d+$/.test(p)) throw new Error(`invalid port: ${port}`);
      const key = `${p}/${proto}`;
      const fronts = ports[key];
      if (!fronts || fronts.length === 0) throw new Error(`Error: No public port '${port}' published for ${container}`);
      for (const f of fronts) out.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''));
    } else {
      for (const [from, fronts] of Object.entries(ports)) {
        for (const f of fronts ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`);
      }
    }
    if (out.length) ctx.out(out.sort(naturalLess).join('\n') + '\n');
    return 0;
  },
};

export const diffCmd: CmdDef = {
  name: 'diff',
  usage: 'CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  args: { min: 1, max: 1 },
  async run(ctx, args) {
    const changes: { Kind: number; Path: string }[] | null = await ctx.client().get(`/containers/${enc(args[0])}/changes`);
    const kinds = ['C', 'A', 'D'];
    let s = '';
    for (const ch of changes ?? []) s += `${kinds[ch.Kind] ?? '?'} ${ch.Path}\n`;
    ctx.out(s);
    return 0;
  },
};

export const exportCmd: CmdDef = {
  name: 'export',
  usage: '[OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  args: { min: 1, max: 1 },
  options: [{ long: 'output', short: 'o', kind: 'string', desc: 'Write to a file, instead of STDOUT' }],
  async run(ctx, args, o) {
    if (!o.output && ctx.io.stdout.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (o.output) {
      const dir = path.dirname(path.resolve(o.output));
      if (!(await fs.stat(dir).catch(() => undefined))) throw new Error(`failed to export container: invalid output path: directory "${path.dirname(o.output)}" does not exist`);
    }
    const res = await ctx.client().request('GET', `/containers/${enc(args[0])}/export`);
    if (!o.output) {
      await pipeline(res, ctx.io.stdout as NodeJS.WritableStream, { end: false });
      return 0;
    }
    const tmp = path.join(path.dirname(path.resolve(o.output)), `.${path.basename(o.output)}.${process.pid}.tmp`);
    try {
      await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
      await fs.rename(tmp, o.output);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw new Error(`failed to export container: ${errorMessage(e)}`);
    }
    return 0;
  },
};

export const commitCmd: CmdDef = {
  name: 'commit',
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  args: { min: 1, max: 2 },
  options: [
    { long: 'author', short: 'a', kind: 'string', desc: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { long: 'change', short: 'c', kind: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', kind: 'string', desc: 'Commit message' },
    { long: 'pause', short: 'p', kind: 'bool', desc: 'Pause container during commit', def: true },
  ],
  async run(ctx, args, o) {
    const [container, ref] = args;
    let repo: string | undefined; let tag: string | undefined;
    if (ref) { validateReference(ref); const r = splitRef(ref); repo = r.repo; tag = r.tag; }
    const res = await ctx.client().post<{ Id: string }>('/commit', {
      container, repo, tag, comment: o.message || undefined, author: o.author || undefined, pause: !!o.pause,
      changes: (o.change as string[]).length ? o.change : undefined,
    }, {});
    ctx.out(`${res.Id}\n`);
    return 0;
  },
};
