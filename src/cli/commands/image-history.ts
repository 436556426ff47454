// shoal history / shoal image history
import type { CmdDef } from '../command.js';
import { humanSizePrec, renderList, since } from '../fmt.js';
import { ellipsis, rfc3339Local, truncateId } from '../util.js';
import { enc } from './shared.js';

export const DEFAULT_HISTORY_FORMAT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const NON_HUMAN_HISTORY_FORMAT = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

export function historyRows(items: any[], trunc: boolean, human: boolean, now = Date.now()): Record<string, unknown>[] {
  return items.map((h) => {
    const createdAt = rfc3339Local(h.Created ?? 0);
    const createdBy = String(h.CreatedBy ?? '').replace(/\t/g, ' ');
    return {
      Comment: h.Comment ?? '',
      CreatedAt: createdAt,
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      CreatedSince: !human ? createdAt : (h.Created ?? 0) <= EPOCH_2000 ? 'N/A' : since(h.Created, now),
      ID: trunc ? truncateId(h.Id ?? '') : (h.Id ?? ''),
      Size: human ? humanSizePrec(h.Size ?? 0) : String(h.Size ?? 0),
    };
  });
}

export const historyCmd: CmdDef = {
  name: 'history',
  usage: '[OPTIONS] IMAGE',
  short: 'Show the history of an image',
  args: { min: 1, max: 1 },
  options: [
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'human', short: 'H', kind: 'bool', desc: 'Print sizes and dates in human readable format', def: true },
    { long: 'no-trunc', kind: 'bool', desc: "Don't truncate output" },
    { long: 'platform', kind: 'string', desc: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only show image IDs' },
  ],
  async run(ctx, args, o) {
    const items: any[] = await ctx.client().get(`/images/${enc(args[0])}/history`, { platform: o.platform || undefined });
    let format: string = o.format || 'table';
    if (format === 'table') format = o.quiet ? '{{.ID}}' : o.human ? DEFAULT_HISTORY_FORMAT : NON_HUMAN_HISTORY_FORMAT;
    const rows = historyRows(items ?? [], !o.noTrunc, !!o.human);
    ctx.out(renderList(format, DEFAULT_HISTORY_FORMAT, rows, HISTORY_HEADERS));
    return 0;
  },
};
