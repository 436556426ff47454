// shoal stats
import type { IncomingMessage } from 'node:http';
import type { CmdDef, Ctx } from '../command.js';
import { filtersJson, jsonStream, parseFilters } from '../client.js';
import { errorMessage, joinErrors } from '../errors.js';
import { bytesSize, humanSizePrec, renderList } from '../fmt.js';
import { truncateId } from '../util.js';
import { enc } from './shared.js';

export const DEFAULT_STATS_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_HEADERS = {
  Container: 'CONTAINER', Name: 'NAME', ID: 'CONTAINER ID', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

export interface StatsEntry {
  container: string; name: string; id: string;
  cpuPercent: number; memory: number; memoryLimit: number; memoryPercent: number;
  netRx: number; netTx: number; blockRead: number; blockWrite: number; pids: number;
  invalid: boolean;
}

/** docker's calculateCPUPercentUnix. */
export function cpuPercent(pre: any, cur: any): number {
  const cpuDelta = Number(cur?.cpu_usage?.total_usage ?? 0) - Number(pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = Number(cur?.system_cpu_usage ?? 0) - Number(pre?.system_cpu_usage ?? 0);
  let online = Number(cur?.online_cpus ?? 0);
  if (online === 0) online = (cur?.cpu_usage?.percpu_usage ?? []).length;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
  return 0;
}

/** Memory usage without the page cache (cgroup v1 total_inactive_file, v2 inactive_file). */
export function memUsageNoCache(mem: any): number {
  const usage = Number(mem?.usage ?? 0);
  const s = mem?.stats ?? {};
  if (s.total_inactive_file !== undefined && s.total_inactive_file < usage) return usage - s.total_inactive_file;
  if ((s.inactive_file ?? 0) < usage) return usage - (s.inactive_file ?? 0);
  return usage;
}

export function statsEntry(container: string, v: any): StatsEntry {
  const memory = memUsageNoCache(v.memory_stats);
  const limit = Number(v.memory_stats?.limit ?? 0);
  let netRx = 0; let netTx = 0;
  for (const n of Object.values<any>(v.networks ?? {})) { netRx += Number(n.rx_bytes ?? 0); netTx += Number(n.tx_bytes ?? 0); }
  let blockRead = 0; let blockWrite = 0;
  for (const b of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = String(b.op ?? '')[0];
    if (op === 'r' || op === 'R') blockRead += Number(b.value ?? 0);
    else if (op === 'w' || op === 'W') blockWrite += Number(b.value ?? 0);
  }
  return {
    container, name: v.name ?? '', id: v.id ?? '',
    cpuPercent: cpuPercent(v.precpu_stats, v.cpu_stats),
    memory, memoryLimit: limit, memoryPercent: limit !== 0 ? (memory / limit) * 100 : 0,
    netRx, netTx, blockRead, blockWrite, pids: Number(v.pids_stats?.current ?? 0), invalid: false,
  };
}

const pct = (x: number) => `${x.toFixed(2)}%`;

export function statsContext(s: StatsEntry, trunc: boolean): Record<string, unknown> {
  const inv = s.invalid;
  return {
    BlockIO: inv ? '--' : `${humanSizePrec(s.blockRead)} / ${humanSizePrec(s.blockWrite)}`,
    CPUPerc: inv ? '--' : pct(s.cpuPercent),
    Container: s.container,
    ID: trunc ? truncateId(s.id) : s.id,
    MemPerc: inv ? '--' : pct(s.memoryPercent),
    MemUsage: inv ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    Name: s.name.replace(/^\//, '') || '--',
    NetIO: inv ? '--' : `${humanSizePrec(s.netRx)} / ${humanSizePrec(s.netTx)}`,
    PIDs: inv ? '--' : String(s.pids),
  };
}

function emptyEntry(container: string): StatsEntry {
  return { container, name: '', id: container, cpuPercent: 0, memory: 0, memoryLimit: 0, memoryPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0, invalid: false };
}

class Collector {
  entry: StatsEntry;
  err?: unknown;
  private res?: IncomingMessage;
  first: Promise<void>;
  private firstDone!: () => void;
  private timer?: NodeJS.Timeout;
  stopped = false;

  constructor(private ctx: Ctx, readonly container: string, private stream: boolean) {
    this.entry = emptyEntry(container);
    this.first = new Promise((r) => { this.firstDone = r; });
  }

  private armTimeout(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.entry = { ...emptyEntry(this.container), name: this.entry.name, id: this.entry.id, invalid: true };
      this.firstDone();
    }, 2000);
  }

  async run(): Promise<void> {
    this.armTimeout();
    try {
      this.res = await this.ctx.client().request('GET', `/containers/${enc(this.container)}/stats`, { query: { stream: this.stream, 'one-shot': undefined } });
      for await (const v of jsonStream<any>(this.res)) {
        this.entry = statsEntry(this.container, v);
        this.firstDone();
        if (!this.stream) break;
        this.armTimeout();
      }
    } catch (e) {
      if (!this.stopped) { this.err = e; this.entry.invalid = true; }
    } finally {
      clearTimeout(this.timer);
      this.firstDone();
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.res?.destroy();
  }
}

export const statsCmd: CmdDef = {
  name: 'stats',
  usage: '[OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  options: [
    { long: 'all', short: 'a', kind: 'bool', desc: 'Show all containers (default shows just running)' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'no-stream', kind: 'bool', desc: 'Disable streaming stats and only pull the first result' },
    { long: 'no-trunc', kind: 'bool', desc: "Don't truncate output" },
  ],
  async run(ctx, args, o) {
    const stream = !o.noStream;
    const collectors = new Map<string, Collector>();
    const add = (c: string) => {
      if (collectors.has(c)) return;
      const col = new Collector(ctx, c, stream);
      collectors.set(c, col);
      void col.run();
    };
    const showAll = args.length === 0;
    let eventsRes: IncomingMessage | undefined;
    if (showAll) {
      if (stream) {
        // follow containers starting/stopping like docker's event handler
        const filters = JSON.stringify({ type: { container: true } });
        ctx.client().request('GET', '/events', { query: { filters } }).then(async (res) => {
          eventsRes = res;
          try {
            for await (const ev of jsonStream<any>(res)) {
              const id = ev.Actor?.ID ?? ev.id;
              if (!id) continue;
              if (ev.Action === 'start' || (o.all && ev.Action === 'create')) add(id);
              if (ev.Action === 'destroy' || (!o.all && ev.Action === 'die')) { collectors.get(id)?.stop(); collectors.delete(id); }
            }
          } catch { /* stream closed */ }
        }, () => undefined);
      }
      const list: any[] = await ctx.client().get('/containers/json', { all: o.all || undefined, filters: filtersJson(parseFilters([])) });
      for (const c of list ?? []) add(c.Id);
    } else {
      for (const c of args) add(c);
    }
    await Promise.all([...collectors.values()].map((c) => c.first));
    if (!showAll) {
      const errs = [...collectors.values()].filter((c) => c.err !== undefined).map((c) => c.err);
      if (errs.length) {
        for (const c of collectors.values()) c.stop();
        const err = joinErrors(errs);
        if (err) throw err;
      }
    }
    const format: string = o.format || 'table';
    const render = () => renderList(format === 'table' ? DEFAULT_STATS_FORMAT : format, DEFAULT_STATS_FORMAT,
      [...collectors.values()].map((c) => statsContext(c.entry, !o.noTrunc)), STATS_HEADERS);
    if (!stream) {
      for (const c of collectors.values()) c.stop();
      if (collectors.size) ctx.out(render());
      return 0;
    }
    return new Promise<number>((resolve) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        clearInterval(timer);
        eventsRes?.destroy();
        for (const c of collectors.values()) c.stop();
        resolve(code);
      };
      const draw = () => {
        for (const [k, c] of collectors) if (c.err !== undefined && !showAll) collectors.delete(k);
        if (collectors.size === 0 && !showAll) { ctx.out('\x1b[H\x1b[J'); finish(0); return; }
        let frame = '\x1b[H';
        for (const line of render().split('\n')) frame += `${line}\x1b[K\n`;
        frame += '\x1b[J';
        try { ctx.out(frame); } catch (e) { ctx.err(errorMessage(e)); finish(1); }
      };
      ctx.out('\x1b[2J');
      draw();
      const timer = setInterval(draw, 500);
    });
  },
};
