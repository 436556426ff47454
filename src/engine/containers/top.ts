import { promises as fs } from 'node:fs';
import { BadRequest, Conflict } from '../../api/errors.js';
import { run } from '../../util/exec.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';

/** `docker top`: run ps on the host with the user's ps_args and keep the container's processes. */
export async function topProcesses(mgr: ContainerManager, c: ContainerRecord, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
  if (!c.State.Running) throw new Conflict(`Container ${c.Id} is not running`);
  const pids = new Set(await containerPids(c));
  const r = await run('ps', psArgs.split(/\s+/).filter(Boolean));
  if (r.code !== 0) throw new BadRequest(`Error running ps: ${r.stderr.trim()}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new BadRequest(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (!pids.has(Number(f[pidCol]))) continue;
    // The last column (command) may contain spaces.
    processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

/** PIDs in the container's cgroup (v1: the pids hierarchy's cgroup.procs). */
export async function containerPids(c: ContainerRecord): Promise<number[]> {
  for (const ctl of ['pids', 'memory', 'cpu', 'freezer']) {
    const txt = await fs.readFile(`/sys/fs/cgroup/${ctl}${c.shoal.cgroupPath}/cgroup.procs`, 'utf8').catch(() => undefined);
    if (txt !== undefined) return txt.split('\n').filter(Boolean).map(Number);
  }
  return c.State.Pid ? [c.State.Pid] : [];
}
