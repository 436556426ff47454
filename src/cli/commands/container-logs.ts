// shoal logs
import type { CmdDef } from '../command.js';
import { stdCopy } from '../stdcopy.js';
import { timestampParam, writeAsync } from '../util.js';
import { enc } from './shared.js';

export const logsCmd: CmdDef = {
  name: 'logs',
  usage: '[OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  args: { min: 1, max: 1 },
  options: [
    { long: 'details', kind: 'bool', desc: 'Show extra details provided to logs' },
    { long: 'follow', short: 'f', kind: 'bool', desc: 'Follow log output' },
    { long: 'since', kind: 'string', desc: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { long: 'tail', short: 'n', kind: 'string', desc: 'Number of lines to show from the end of the logs', def: 'all' },
    { long: 'timestamps', short: 't', kind: 'bool', desc: 'Show timestamps' },
    { long: 'until', kind: 'string', desc: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  async run(ctx, args, o) {
    const c = await ctx.client().get(`/containers/${enc(args[0])}/json`);
    const res = await ctx.client().request('GET', `/containers/${enc(args[0])}/logs`, {
      query: {
        stdout: true, stderr: true,
        since: timestampParam(o.since), until: timestampParam(o.until),
        timestamps: o.timestamps || undefined, follow: o.follow || undefined,
        tail: o.tail, details: o.details || undefined,
      },
    });
    if (c.Config?.Tty) {
      for await (const chunk of res) await writeAsync(ctx.io.stdout, chunk as Buffer);
    } else {
      await stdCopy(res, ctx.io.stdout, ctx.io.stderr);
    }
    return 0;
  },
};
