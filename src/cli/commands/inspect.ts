// shoal inspect / shoal container inspect / shoal image inspect
import type { CmdDef, Ctx } from '../command.js';
import { isNotFound, StatusError } from '../errors.js';
import { readAll } from '../client.js';
import { parseTemplate } from '../fmt.js';
import { indentJson } from '../util.js';
import { enc } from './shared.js';

type Getter = (ref: string) => Promise<string>;

/** Raw JSON text of an object (kept as the daemon wrote it). */
async function rawGet(ctx: Ctx, path: string, query?: Record<string, string | boolean | undefined>): Promise<string> {
  const res = await ctx.client().request('GET', path, { query });
  return (await readAll(res)).toString('utf8').trim();
}

/** docker's inspect.Inspect: a JSON array (4-space indent), "json" (compact) or a template per element. */
export async function inspectRefs(ctx: Ctx, refs: string[], format: string | undefined, get: Getter): Promise<number> {
  const errs: string[] = [];
  const raws: string[] = [];
  for (const ref of refs) {
    try { raws.push(await get(ref)); } catch (e) { errs.push((e as Error).message); }
  }
  if (!format) {
    ctx.out(raws.length ? indentJson(`[${raws.join(',')}]`) + '\n' : '[]\n');
  } else if (format === 'json') {
    ctx.out(raws.length ? JSON.stringify(raws.map((r) => JSON.parse(r))) + '\n' : '[]\n');
  } else {
    let tpl;
    try { tpl = parseTemplate(format); } catch (e) {
      throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
    }
    let buf = '';
    for (const raw of raws) {
      try {
        buf += tpl.execute(JSON.parse(raw)) + '\n';
      } catch (e) {
        errs.push(`template parsing error: ${(e as Error).message}`);
      }
    }
    ctx.out(buf === '' ? '\n' : buf);
  }
  if (errs.length) throw new StatusError(errs.join('\n'), 1);
  return 0;
}

const formatOpt = { long: 'format', short: 'f', kind: 'string' as const, desc: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." };

export const containerInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  args: { min: 1 },
  options: [formatOpt, { long: 'size', short: 's', kind: 'bool', desc: 'Display total file sizes' }],
  run: (ctx, args, o) => inspectRefs(ctx, args, o.format || undefined,
    (ref) => rawGet(ctx, `/containers/${enc(ref)}/json`, { size: o.size || undefined })),
};

export const imageInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  args: { min: 1 },
  options: [formatOpt, { long: 'platform', kind: 'string', desc: 'Inspect a specific platform of the multi-platform image.' }],
  run: (ctx, args, o) => inspectRefs(ctx, args, o.format || undefined, (ref) => rawGet(ctx, `/images/${enc(ref)}/json`)),
};

const TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

export const inspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on shoal objects',
  args: { min: 1 },
  options: [
    formatOpt,
    { long: 'size', short: 's', kind: 'bool', desc: 'Display total file sizes if the type is container' },
    { long: 'type', kind: 'string', desc: 'Only inspect objects of the given type' },
  ],
  async run(ctx, args, o) {
    const type: string = o.type ?? '';
    if (type && !TYPES.includes(type)) throw new Error(`"${type}" is not a valid value for --type`);
    const kinds: [string, (ref: string) => Promise<string>][] = [
      ['container', (ref) => rawGet(ctx, `/containers/${enc(ref)}/json`, { size: o.size || undefined })],
      ['image', (ref) => rawGet(ctx, `/images/${enc(ref)}/json`)],
      ['network', (ref) => rawGet(ctx, `/networks/${enc(ref)}`)],
      ['volume', (ref) => rawGet(ctx, `/volumes/${enc(ref)}`)],
    ];
    return inspectRefs(ctx, args, o.format || undefined, async (ref) => {
      for (const [kind, get] of kinds) {
        if (type && kind !== type) continue;
        try {
          const raw = await get(ref);
          if (o.size && kind !== 'container') ctx.err(`WARNING: --size ignored for ${kind}\n`);
          return raw;
        } catch (e) {
          if (type) {
            if (isNotFound(e)) throw new Error(`Error: No such ${kind}: ${ref}`);
            throw e;
          }
          const msg = (e as Error).message;
          if (isNotFound(e) || msg.includes('not supported') || msg.includes('invalid reference format') || /page not found/.test(msg)) continue;
          throw e;
        }
      }
      throw new Error(`Error: No such object: ${ref}`);
    });
  },
};
