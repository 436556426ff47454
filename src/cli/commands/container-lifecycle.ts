// shoal stop / restart / kill / rm / pause / unpause / wait / rename
import type { CmdDef, OptDef } from '../command.js';
import { errorMessage, isNotFound, joinErrors, StatusError } from '../errors.js';
import { enc, forEachContainer } from './shared.js';

const timeoutFlags: OptDef[] = [
  { long: 'signal', short: 's', kind: 'string', desc: 'Signal to send to the container' },
  { long: 'timeout', short: 't', kind: 'int', desc: 'Seconds to wait before killing the container', alias: ['time'], def: 0 },
];

function stopQuery(o: Record<string, any>): Record<string, string | number | undefined> {
  return {
    t: o._changed.has('timeout') ? o.timeout : undefined,
    signal: o.signal || undefined,
  };
}

export const stopCmd: CmdDef = {
  name: 'stop',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  args: { min: 1 },
  options: timeoutFlags,
  run: (ctx, args, o) => forEachContainer(ctx, args, async (n) => {
    await ctx.client().call('POST', `/containers/${enc(n)}/stop`, { query: stopQuery(o) });
  }),
};

export const restartCmd: CmdDef = {
  name: 'restart',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  args: { min: 1 },
  options: timeoutFlags,
  async run(ctx, args, o) {
    // docker restarts sequentially
    const errs: unknown[] = [];
    for (const n of args) {
      try {
        await ctx.client().call('POST', `/containers/${enc(n)}/restart`, { query: stopQuery(o) });
        ctx.out(`${n}\n`);
      } catch (e) { errs.push(e); }
    }
    const err = joinErrors(errs);
    if (err) throw err;
    return 0;
  },
};

export const killCmd: CmdDef = {
  name: 'kill',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  args: { min: 1 },
  options: [{ long: 'signal', short: 's', kind: 'string', desc: 'Signal to send to the container' }],
  run: (ctx, args, o) => forEachContainer(ctx, args, async (n) => {
    await ctx.client().call('POST', `/containers/${enc(n)}/kill`, { query: { signal: o.signal || undefined } });
  }),
};

export const rmCmd: CmdDef = {
  name: 'rm',
  aliases: ['remove'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  args: { min: 1 },
  options: [
    { long: 'force', short: 'f', kind: 'bool', desc: 'Force the removal of a running container (uses SIGKILL)' },
    { long: 'link', short: 'l', kind: 'bool', desc: 'Remove the specified link' },
    { long: 'volumes', short: 'v', kind: 'bool', desc: 'Remove anonymous volumes associated with the container' },
  ],
  async run(ctx, args, o) {
    const results = await Promise.all(args.map(async (raw) => {
      const name = raw.replace(/^\/+|\/+$/g, '');
      if (name === '') return new Error('container name cannot be empty');
      try {
        await ctx.client().call('DELETE', `/containers/${enc(name)}`, { query: { v: o.volumes || undefined, link: o.link || undefined, force: o.force || undefined } });
        return undefined;
      } catch (e) { return e; }
    }));
    const errs: unknown[] = [];
    results.forEach((r, i) => {
      if (r === undefined) { ctx.out(`${args[i]}\n`); return; }
      if (o.force && isNotFound(r)) return;
      errs.push(r);
    });
    const err = joinErrors(errs);
    if (err) throw err;
    return 0;
  },
};

export const pauseCmd: CmdDef = {
  name: 'pause',
  usage: 'CONTAINER [CONTAINER...]',
  short: 'Pause all processes within one or more containers',
  args: { min: 1 },
  run: (ctx, args) => forEachContainer(ctx, args, async (n) => { await ctx.client().call('POST', `/containers/${enc(n)}/pause`); }),
};

export const unpauseCmd: CmdDef = {
  name: 'unpause',
  usage: 'CONTAINER [CONTAINER...]',
  short: 'Unpause all processes within one or more containers',
  args: { min: 1 },
  run: (ctx, args) => forEachContainer(ctx, args, async (n) => { await ctx.client().call('POST', `/containers/${enc(n)}/unpause`); }),
};

export const waitCmd: CmdDef = {
  name: 'wait',
  usage: 'CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  args: { min: 1 },
  async run(ctx, args) {
    const errs: unknown[] = [];
    for (const n of args) {
      try {
        const r = await ctx.client().post<{ StatusCode: number; Error?: { Message?: string } | null }>(`/containers/${enc(n)}/wait`);
        ctx.out(`${r?.StatusCode ?? 0}\n`);
      } catch (e) { errs.push(e); }
    }
    const err = joinErrors(errs);
    if (err) throw err;
    return 0;
  },
};

export const renameCmd: CmdDef = {
  name: 'rename',
  usage: 'CONTAINER NEW_NAME',
  short: 'Rename a container',
  args: { min: 2, max: 2 },
  async run(ctx, args) {
    const [oldName, newName] = args.map((s) => s.trim());
    if (!oldName || !newName) throw new StatusError('Error: Neither old nor new names may be empty', 1);
    try {
      await ctx.client().call('POST', `/containers/${enc(oldName)}/rename`, { query: { name: newName } });
    } catch (e) {
      throw new StatusError(`${errorMessage(e)}\nError: failed to rename container named ${oldName}`, 1);
    }
    return 0;
  },
};
