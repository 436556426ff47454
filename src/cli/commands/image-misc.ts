// shoal tag / rmi / image prune
import type { CmdDef } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { errorMessage, isNotFound, StatusError } from '../errors.js';
import { humanSize } from '../fmt.js';
import { confirm } from '../util.js';
import { enc, splitRef, validateReference } from './shared.js';

export const tagCmd: CmdDef = {
  name: 'tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  args: { min: 2, max: 2 },
  async run(ctx, args) {
    const [src, target] = args;
    validateReference(target);
    const { repo, tag, digest } = splitRef(target);
    if (digest) throw new Error('refusing to create a tag with a digest reference');
    await ctx.client().call('POST', `/images/${enc(src)}/tag`, { query: { repo, tag: tag ?? 'latest' } });
    return 0;
  },
};

export const rmiCmd: CmdDef = {
  name: 'rmi',
  aliases: ['rm', 'remove'],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Remove one or more images',
  args: { min: 1 },
  options: [
    { long: 'force', short: 'f', kind: 'bool', desc: 'Force removal of the image' },
    { long: 'no-prune', kind: 'bool', desc: 'Do not delete untagged parents' },
  ],
  async run(ctx, args, o) {
    const errs: string[] = [];
    let fatal = false;
    for (const img of args) {
      try {
        const res: { Untagged?: string; Deleted?: string }[] = await ctx.client().delete(`/images/${enc(img)}`, { force: o.force || undefined, noprune: o.noPrune || undefined });
        for (const d of res ?? []) {
          if (d.Deleted) ctx.out(`Deleted: ${d.Deleted}\n`);
          else if (d.Untagged) ctx.out(`Untagged: ${d.Untagged}\n`);
        }
      } catch (e) {
        if (!isNotFound(e)) fatal = true;
        errs.push(errorMessage(e));
      }
    }
    if (errs.length) {
      const msg = errs.join('\n');
      if (!o.force || fatal) throw new StatusError(msg, 1);
      ctx.err(msg + '\n');
    }
    return 0;
  },
};

const ALL_IMAGE_WARNING = 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';
const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';

/** POST /images/prune; returns the space reclaimed and docker's report text. */
export async function pruneImages(ctx: import('../command.js').Ctx, all: boolean, filterList: string[]): Promise<{ space: number; output: string }> {
  const filters = parseFilters(filterList);
  filters.dangling = [String(!all)];
  const res = await ctx.client().post<{ ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number }>('/images/prune', { filters: filtersJson(filters) });
  let output = '';
  if (res?.ImagesDeleted?.length) {
    output = 'Deleted Images:\n';
    for (const d of res.ImagesDeleted) output += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
  }
  return { space: res?.SpaceReclaimed ?? 0, output };
}

export const imagePruneCmd: CmdDef = {
  name: 'prune',
  usage: '[OPTIONS]',
  short: 'Remove unused images',
  args: { max: 0 },
  options: [
    { long: 'all', short: 'a', kind: 'bool', desc: 'Remove all unused images, not just dangling ones' },
    { long: 'filter', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', kind: 'bool', desc: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, o) {
    parseFilters(o.filter);
    if (!o.force && !(await confirm(ctx, o.all ? ALL_IMAGE_WARNING : DANGLING_WARNING))) return 0;
    const { space, output } = await pruneImages(ctx, !!o.all, o.filter);
    if (output) ctx.out(output + '\n');
    ctx.out(`Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};
