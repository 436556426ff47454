// Container resource stats from cgroup v1, in the shape of Docker's `GET /containers/{id}/stats`.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatTimestamp } from './stdcopy.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const USER_HZ = 100;
const NS_PER_TICK = 1e9 / USER_HZ;
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  limit?: number;
  failcnt?: number;
  stats?: Record<string, number>;
}

export interface ContainerStats {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: {
    io_service_bytes_recursive: BlkioEntry[] | null;
    io_serviced_recursive: BlkioEntry[] | null;
    io_queue_recursive: BlkioEntry[] | null;
    io_service_time_recursive: BlkioEntry[] | null;
    io_wait_time_recursive: BlkioEntry[] | null;
    io_merged_recursive: BlkioEntry[] | null;
    io_time_recursive: BlkioEntry[] | null;
    sectors_recursive: BlkioEntry[] | null;
  };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  networks?: Record<string, unknown>;
  name: string;
  id: string;
}

export interface CgroupStatsOptions {
  root?: string;
  procStat?: string;
  /** Container name as Docker shows it, with the leading slash. */
  name?: string;
  id?: string;
  /** The previous sample: its `read` and `cpu_stats` become `preread` and `precpu_stats`. */
  prev?: Pick<ContainerStats, 'read' | 'cpu_stats'>;
  /** Unix ns of the sample (default: now). */
  now?: bigint;
  /** Host memory, the cap for unlimited memory limits (default os.totalmem()). */
  machineMemory?: number;
}

const emptyCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (['ENOENT', 'ENOTDIR', 'ENODEV', 'EINVAL'].includes((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
}

async function readNum(file: string): Promise<number | undefined> {
  const t = (await readText(file))?.trim();
  return t && /^\d+$/.test(t) ? Number(t) : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat). */
async function readKV(file: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await readText(file))?.split('\n') ?? []) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** blkio.throttle.* lines: `8:0 Read 1234`; the trailing `Total N` summary is skipped. */
async function readBlkio(file: string): Promise<BlkioEntry[]> {
  const out: BlkioEntry[] = [];
  for (const line of (await readText(file))?.split('\n') ?? []) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: +m[1], minor: +m[2], op: m[3], value: +m[4] });
  }
  return out;
}

/** Host CPU time in ns (user..softirq, as moby sums them) and the online CPU count, from /proc/stat. */
export async function systemCpu(procStat = '/proc/stat'): Promise<{ usage: number; onlineCpus: number }> {
  let usage = 0;
  let onlineCpus = 0;
  for (const line of (await readText(procStat))?.split('\n') ?? []) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') usage = f.slice(1, 8).reduce((a, v) => a + Number(v), 0) * NS_PER_TICK;
    else if (/^cpu\d+$/.test(f[0])) onlineCpus++;
  }
  return { usage, onlineCpus };
}

/** The memory limit in bytes; "unlimited" (a huge value) is capped to the host's memory, as Docker does. */
export async function memoryLimitOf(cgroupPath: string, root = CGROUP_ROOT, machineMemory = os.totalmem()): Promise<number> {
  const limit = await readNum(path.join(root, 'memory', cgroupPath, 'memory.limit_in_bytes'));
  return limit === undefined || limit > machineMemory ? machineMemory : limit;
}

export async function readCgroupStats(cgroupPath: string, opts: CgroupStatsOptions = {}): Promise<ContainerStats> {
  const root = opts.root ?? CGROUP_ROOT;
  const dir = (ctl: string) => path.join(root, ctl, cgroupPath);
  const mem = dir('memory'), acct = dir('cpuacct'), pids = dir('pids'), blkio = dir('blkio');
  const [
    sys, total, percpu, acctStat, cpuStat, usage, maxUsage, failcnt, limit, memStat,
    pidsCur, pidsMax, ioBytes, ioServiced,
  ] = await Promise.all([
    systemCpu(opts.procStat),
    readNum(path.join(acct, 'cpuacct.usage')),
    readText(path.join(acct, 'cpuacct.usage_percpu')),
    readKV(path.join(acct, 'cpuacct.stat')),
    readKV(path.join(dir('cpu'), 'cpu.stat')),
    readNum(path.join(mem, 'memory.usage_in_bytes')),
    readNum(path.join(mem, 'memory.max_usage_in_bytes')),
    readNum(path.join(mem, 'memory.failcnt')),
    memoryLimitOf(cgroupPath, root, opts.machineMemory),
    readKV(path.join(mem, 'memory.stat')),
    readNum(path.join(pids, 'pids.current')),
    readNum(path.join(pids, 'pids.max')),
    readBlkio(path.join(blkio, 'blkio.throttle.io_service_bytes')),
    readBlkio(path.join(blkio, 'blkio.throttle.io_serviced')),
  ]);
  const percpuUsage = percpu?.trim().split(/\s+/).filter(Boolean).map(Number);
  const now = opts.now ?? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  return {
    read: formatTimestamp(now, { trim: true }),
    preread: opts.prev?.read ?? ZERO_TIME,
    pids_stats: { current: pidsCur, limit: pidsMax || undefined },
    blkio_stats: {
      io_service_bytes_recursive: ioBytes,
      io_serviced_recursive: ioServiced,
      io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: {
      cpu_usage: {
        total_usage: total ?? 0,
        percpu_usage: percpuUsage?.length ? percpuUsage : undefined,
        usage_in_kernelmode: (acctStat.system ?? 0) * NS_PER_TICK,
        usage_in_usermode: (acctStat.user ?? 0) * NS_PER_TICK,
      },
      system_cpu_usage: sys.usage,
      online_cpus: sys.onlineCpus,
      throttling_data: {
        periods: cpuStat.nr_periods ?? 0,
        throttled_periods: cpuStat.nr_throttled ?? 0,
        throttled_time: cpuStat.throttled_time ?? 0,
      },
    },
    precpu_stats: opts.prev?.cpu_stats ?? emptyCpu(),
    memory_stats: usage === undefined ? {} : { usage, max_usage: maxUsage, limit, failcnt, stats: memStat },
    networks: {},
    name: opts.name ?? '',
    id: opts.id ?? '',
  };
}

/** docker CLI's CPU % (calculateCPUPercentUnix): container share of host CPU time, scaled by CPU count. */
export function cpuPercent(s: Pick<ContainerStats, 'cpu_stats' | 'precpu_stats'>): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
}

/** docker CLI's memory usage: usage minus inactive file cache. */
export function memUsageNoCache(m: MemoryStats): number {
  const usage = m.usage ?? 0;
  const st = m.stats ?? {};
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) return usage - st.total_inactive_file;
  const inactive = st.inactive_file ?? 0;
  return inactive < usage ? usage - inactive : usage;
}

export function memPercent(s: Pick<ContainerStats, 'memory_stats'>): number {
  const limit = s.memory_stats.limit ?? 0;
  return limit ? (memUsageNoCache(s.memory_stats) / limit) * 100 : 0;
}

/** docker CLI's BLOCK I/O column: bytes read and written over all devices. */
export function blockIO(s: Pick<ContainerStats, 'blkio_stats'>): { read: number; write: number } {
  const r = { read: 0, write: 0 };
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') r.read += e.value;
    else if (op === 'write') r.write += e.value;
  }
  return r;
}

/** One sample following `prev` (the previous sample, if any). */
export function readStats(cgroupPath: string, prev?: Pick<ContainerStats, 'read' | 'cpu_stats'>, opts: CgroupStatsOptions = {}): Promise<ContainerStats> {
  return readCgroupStats(cgroupPath, { ...opts, prev: prev ?? opts.prev });
}
