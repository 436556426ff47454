// shoal events
import type { CmdDef } from '../command.js';
import { filtersJson, JsonSplitter, parseFilters } from '../client.js';
import { StatusError } from '../errors.js';
import { renderTemplate } from '../fmt.js';
import { rfc3339NanoFixed, timestampParam } from '../util.js';

/** Parses one event keeping timeNano exact (it does not fit a double). */
export function parseEvent(raw: string): { ev: any; timeNano: bigint | undefined } {
  const m = /"timeNano"\s*:\s*(\d+)/.exec(raw);
  const ev = JSON.parse(raw);
  return { ev, timeNano: m ? BigInt(m[1]) : undefined };
}

/** docker's prettyPrintEvent: "<time> <type> <action> <id> (k=v, ...)". */
export function formatEvent(ev: any, timeNano?: bigint): string {
  let s = '';
  if (timeNano !== undefined && timeNano !== 0n) s += `${rfc3339NanoFixed(timeNano)} `;
  else if (ev.time) s += `${rfc3339NanoFixed(BigInt(ev.time) * 1_000_000_000n)} `;
  s += `${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}`;
  const attrs: Record<string, string> = ev.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s + '\n';
}

export const eventsCmd: CmdDef = {
  name: 'events',
  usage: '[OPTIONS]',
  short: 'Get real time events from the server',
  args: { max: 0 },
  options: [
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'since', kind: 'string', desc: 'Show all events created since timestamp' },
    { long: 'until', kind: 'string', desc: 'Stream events until this timestamp' },
  ],
  async run(ctx, _args, o) {
    const format: string | undefined = o.format || undefined;
    const tpl = format === 'json' ? '{{json .}}' : format;
    if (tpl) {
      try { renderTemplate(tpl, { Type: '', Action: '', Actor: { ID: '', Attributes: {} }, scope: '', time: 0, timeNano: 0 }); } catch (e) {
        throw new StatusError(`Error parsing format: ${(e as Error).message}`, 64);
      }
    }
    const filters = parseFilters(o.filter);
    const res = await ctx.client().request('GET', '/events', {
      query: { since: timestampParam(o.since), until: timestampParam(o.until), filters: filtersJson(filters) },
    });
    const splitter = new JsonSplitter();
    for await (const chunk of res) {
      for (const raw of splitter.push((chunk as Buffer).toString('utf8'))) {
        const { ev, timeNano } = parseEvent(raw);
        if (!tpl) { ctx.out(formatEvent(ev, timeNano)); continue; }
        if (timeNano !== undefined) ev.timeNano = timeNano;
        ctx.out(renderTemplate(tpl, ev) + '\n');
      }
    }
    return 0;
  },
};
