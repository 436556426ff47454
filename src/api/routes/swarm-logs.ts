import { once } from 'node:events';
import type { Ctx, Router } from '../router.js';
import { cmpVersion } from '../router.js';
import { BadRequest } from '../errors.js';
import { frame } from '../../engine/containers/stdcopy.js';
import { parseTimeNs } from './containers.js';
import type { Swarm } from '../../swarm/swarm.js';
import { incompleteStreamMessage, renderLogLine } from '../../swarm/manager/service-logs.js';

const bool = (v: string | null) => v === '1' || v === 'true' || v === 'True';

// GET /services/{id}/logs and /tasks/{id}/logs (Docker's swarmLogs): argument errors and unknown
// references are HTTP errors; once the stream started, problems arrive as a system-error frame.
export function registerSwarmLogRoutes(r: Router, swarm: Swarm): void {
  const logs = (kind: 'service' | 'task') => async (ctx: Ctx) => {
    const q = ctx.query;
    const stdout = bool(q.get('stdout'));
    const stderr = bool(q.get('stderr'));
    if (!stdout && !stderr) throw new BadRequest("must specify at least one of 'stdout' or 'stderr'");
    let since: bigint | undefined;
    try { since = parseTimeNs(q.get('since')); } catch (e) { throw new BadRequest(`invalid value for "since": ${(e as Error).message}`); }
    const follow = bool(q.get('follow'));
    const sub = await swarm.taskLogs(kind, ctx.params.id, { follow, tail: q.get('tail'), since, stdout, stderr });
    const details = bool(q.get('details'));
    const timestamps = bool(q.get('timestamps'));
    const mux = !sub.tty;
    const res = ctx.res!;
    ctx.handled = true;
    const contentType = mux && cmpVersion(ctx.apiVersion, '1.42') >= 0 ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const write = async (stream: 1 | 2 | 3, data: Buffer) => {
      if (ac.signal.aborted) return;
      if (!res.write(mux ? frame(stream, data) : data)) await once(res, 'drain', { signal: ac.signal }).catch(() => undefined);
    };
    try {
      const missing = await sub.run((m) => write(m.stream === 'stdout' ? 1 : 2, renderLogLine(m, { details, timestamps })), ac.signal);
      if (missing.length) await write(3, Buffer.from(incompleteStreamMessage(missing)));
    } catch (err) {
      await write(3, Buffer.from(`Error grabbing logs: ${(err as Error).message}\n`));
    }
    res.end();
  };
  r.get('/services/:id/logs', logs('service'));
  r.get('/tasks/:id/logs', logs('task'));
}
