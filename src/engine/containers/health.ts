import { spawn } from 'node:child_process';
import type { Logger } from '../../daemon/logger.js';
import { healthTimings } from './config.js';
import type { ContainerManager } from './manager.js';
import type { ContainerRecord } from './types.js';

const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

/** Runs a container's HEALTHCHECK on its schedule and keeps State.Health as Docker does. */
export class HealthMonitor {
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private mgr: ContainerManager, private log: Logger) {}

  track(c: ContainerRecord): void {
    const hc = c.Config.Healthcheck;
    if (!hc?.Test?.length || hc.Test[0] === 'NONE' || !c.State.Health) return;
    this.untrack(c.Id);
    const t = healthTimings(hc);
    const started = Date.now();
    const tick = async () => {
      if (!c.State.Running || !this.timers.has(c.Id)) return;
      const argv = hc.Test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', hc.Test.slice(1).join(' ')] : hc.Test[0] === 'CMD' ? hc.Test.slice(1) : hc.Test;
      const begin = new Date();
      const r = await runcExec(this.mgr.runtime.opts.runc, this.mgr.runtime.opts.runcRoot, c.Id, argv, c.Config.Env ?? [], t.timeout);
      if (!c.State.Running || !c.State.Health || !this.timers.has(c.Id)) return;
      const h = c.State.Health;
      h.Log.push({ Start: begin.toISOString(), End: new Date().toISOString(), ExitCode: r.code, Output: r.output });
      if (h.Log.length > MAX_LOG) h.Log.splice(0, h.Log.length - MAX_LOG);
      const prev = h.Status;
      if (r.code === 0) { h.FailingStreak = 0; h.Status = 'healthy'; } else if (Date.now() - started >= t.startPeriod || prev !== 'starting') {
        // Failures during the start period do not count, as in Docker.
        h.FailingStreak++;
        if (h.FailingStreak >= t.retries) h.Status = 'unhealthy';
      }
      if (h.Status !== prev) this.mgr.events.emit('container', `health_status: ${h.Status}`, c.Id, this.mgr.attrs(c));
      await this.mgr.store.save(c).catch((err) => this.log.warn({ err: (err as Error).message }, 'saving health state failed'));
      if (this.timers.has(c.Id)) this.timers.set(c.Id, setTimeout(tick, t.interval));
    };
    this.timers.set(c.Id, setTimeout(tick, t.interval));
  }

  untrack(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  stopAll(): void { for (const id of [...this.timers.keys()]) this.untrack(id); }
}

/** `runc exec` with pipes (no TTY): used for health checks and non-interactive exec. */
export function runcExec(runc: string, root: string, id: string, argv: string[], env: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const args = ['--root', root, 'exec', ...env.flatMap((e) => ['--env', e]), id, ...argv];
    const p = spawn(runc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: Buffer) => { if (out.length < MAX_OUTPUT) out += d.toString(); };
    p.stdout.on('data', add);
    p.stderr.on('data', add);
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', () => { clearTimeout(timer); resolve({ code: -1, output: 'exec failed' }); });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ code: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` });
      else resolve({ code: code ?? -1, output: out.slice(0, MAX_OUTPUT) });
    });
  });
}
