import { BadRequest } from '../../api/errors.js';

// Turns a `POST /containers/create` body plus the image config into the stored Config/HostConfig,
// with Docker's merge rules (image defaults, entrypoint resetting cmd, env override by key).

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function mergeEnv(base: string[] = [], extra: string[] = []): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) {
    const k = e.split('=')[0];
    out.set(k, e);
  }
  return [...out.values()];
}

export function mergeConfig(body: any, imageConfig: any): any {
  const img = imageConfig ?? {};
  const cfg: any = {
    Hostname: body.Hostname ?? '', Domainname: body.Domainname ?? '', User: body.User || img.User || '',
    AttachStdin: !!body.AttachStdin, AttachStdout: body.AttachStdout ?? true, AttachStderr: body.AttachStderr ?? true,
    ExposedPorts: { ...(img.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) },
    Tty: !!body.Tty, OpenStdin: !!body.OpenStdin, StdinOnce: !!body.StdinOnce,
    // Docker always supplies a PATH when neither the image nor the user sets one.
    Env: mergeEnv([DEFAULT_PATH, ...(img.Env ?? [])], body.Env ?? []),
    Cmd: null, Image: body.Image, Volumes: { ...(img.Volumes ?? {}), ...(body.Volumes ?? {}) } ,
    WorkingDir: body.WorkingDir || img.WorkingDir || '',
    Entrypoint: null, OnBuild: null, Labels: { ...(img.Labels ?? {}), ...(body.Labels ?? {}) },
  };
  if (body.Entrypoint !== undefined && body.Entrypoint !== null) {
    const ep = typeof body.Entrypoint === 'string' ? [body.Entrypoint] : body.Entrypoint;
    // An explicit entrypoint (even "") discards the image's; the image CMD goes with it.
    cfg.Entrypoint = ep.length && !(ep.length === 1 && ep[0] === '') ? ep : null;
    cfg.Cmd = body.Cmd?.length ? (typeof body.Cmd === 'string' ? [body.Cmd] : body.Cmd) : null;
  } else {
    cfg.Entrypoint = img.Entrypoint?.length ? img.Entrypoint : null;
    cfg.Cmd = body.Cmd?.length ? (typeof body.Cmd === 'string' ? [body.Cmd] : body.Cmd) : (img.Cmd?.length ? img.Cmd : null);
  }
  if (Object.keys(cfg.ExposedPorts).length === 0) delete cfg.ExposedPorts;
  if (Object.keys(cfg.Volumes).length === 0) cfg.Volumes = null;
  const hc = body.Healthcheck ?? img.Healthcheck;
  if (hc) cfg.Healthcheck = hc;
  if (body.StopSignal || img.StopSignal) cfg.StopSignal = body.StopSignal || img.StopSignal;
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) cfg.StopTimeout = body.StopTimeout;
  const argv = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (argv.length === 0) throw new BadRequest('No command specified');
  return cfg;
}

export function defaultHostConfig(hc: any = {}): any {
  const out = {
    Binds: hc.Binds ?? null, ContainerIDFile: '', LogConfig: { Type: 'k8s-file', Config: {} },
    NetworkMode: hc.NetworkMode || 'default', PortBindings: hc.PortBindings ?? {},
    RestartPolicy: { Name: hc.RestartPolicy?.Name || 'no', MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0 },
    AutoRemove: !!hc.AutoRemove, VolumeDriver: '', VolumesFrom: hc.VolumesFrom ?? null,
    CapAdd: hc.CapAdd ?? null, CapDrop: hc.CapDrop ?? null, CgroupnsMode: 'host', Dns: hc.Dns ?? [], DnsOptions: hc.DnsOptions ?? [],
    DnsSearch: hc.DnsSearch ?? [], ExtraHosts: hc.ExtraHosts ?? null, GroupAdd: hc.GroupAdd ?? null, IpcMode: 'private',
    Cgroup: '', Links: hc.Links?.length ? hc.Links : null, OomScoreAdj: hc.OomScoreAdj ?? 0, PidMode: '', Privileged: !!hc.Privileged,
    PublishAllPorts: !!hc.PublishAllPorts, ReadonlyRootfs: !!hc.ReadonlyRootfs, SecurityOpt: hc.SecurityOpt ?? null,
    Tmpfs: hc.Tmpfs ?? undefined, UTSMode: '', UsernsMode: '', ShmSize: hc.ShmSize || 67108864, Runtime: 'runc',
    Isolation: '', CpuShares: hc.CpuShares ?? 0, Memory: hc.Memory ?? 0, NanoCpus: hc.NanoCpus ?? 0,
    CgroupParent: '', BlkioWeight: 0, CpuPeriod: hc.CpuPeriod ?? 0, CpuQuota: hc.CpuQuota ?? 0,
    CpusetCpus: hc.CpusetCpus ?? '', CpusetMems: '', Devices: hc.Devices ?? [], MemoryReservation: hc.MemoryReservation ?? 0,
    MemorySwap: hc.MemorySwap ?? 0, OomKillDisable: false, PidsLimit: hc.PidsLimit ?? null, Init: hc.Init ?? null,
    Mounts: hc.Mounts ?? undefined, MaskedPaths: undefined, ReadonlyPaths: undefined,
  };
  const rp = out.RestartPolicy.Name;
  if (!['no', '', 'always', 'unless-stopped', 'on-failure'].includes(rp)) throw new BadRequest(`invalid restart policy '${rp}'`);
  if (rp !== 'on-failure' && out.RestartPolicy.MaximumRetryCount > 0) {
    throw new BadRequest(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (out.AutoRemove && rp !== 'no' && rp !== '') {
    throw new BadRequest('conflicting options: cannot specify both --restart and --rm');
  }
  if (out.Memory && out.Memory < 6 * 1024 * 1024) throw new BadRequest('Minimum memory limit allowed is 6MB');
  if (out.NanoCpus && (out.CpuQuota || out.CpuPeriod)) throw new BadRequest('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  return out;
}

/** Go durations in the API are nanoseconds; turn into ms with Docker's health defaults. */
export function healthTimings(hc: any): { interval: number; timeout: number; retries: number; startPeriod: number } {
  const ms = (ns: number | undefined, def: number) => (ns && ns > 0 ? ns / 1e6 : def);
  return { interval: ms(hc.Interval, 30_000), timeout: ms(hc.Timeout, 30_000), retries: hc.Retries > 0 ? hc.Retries : 3, startPeriod: ms(hc.StartPeriod, 0) };
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10,
  SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20,
  SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

/** Normalises "TERM", "SIGTERM", "15" to the name runc accepts; throws Docker's error otherwise. */
export function parseSignal(s: string | undefined, def = 'SIGKILL'): string {
  if (!s) return def;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === n);
    if (!name) throw new BadRequest(`Invalid signal: ${s}`);
    return name;
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : 'SIG' + up;
  if (!SIGNALS[name]) throw new BadRequest(`Invalid signal: ${s}`);
  return name;
}

/**
 * `docker commit`'s merge: the config given to commit (with its changes applied) is completed from
 * the container's own config where it says nothing (Docker's daemon.merge).
 */
export function mergeCommitConfig(user: any, container: any): any {
  const out: any = structuredClone(user ?? {});
  const c = container ?? {};
  if (!out.User) out.User = c.User;
  if (!out.ExposedPorts || !Object.keys(out.ExposedPorts).length) out.ExposedPorts = c.ExposedPorts;
  else for (const p of Object.keys(c.ExposedPorts ?? {})) out.ExposedPorts[p] ??= {};
  if (!out.Env?.length) out.Env = c.Env;
  else for (const e of c.Env ?? []) if (!out.Env.some((u: string) => u.split('=')[0] === e.split('=')[0])) out.Env.push(e);
  out.Labels = { ...(c.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint?.length) {
    if (!out.Cmd?.length) out.Cmd = c.Cmd;
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = c.Entrypoint;
  }
  if (c.Healthcheck) {
    if (!out.Healthcheck) out.Healthcheck = c.Healthcheck;
    else {
      const h = out.Healthcheck;
      if (!h.Test?.length) h.Test = c.Healthcheck.Test;
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries']) if (!h[k] && c.Healthcheck[k]) h[k] = c.Healthcheck[k];
    }
  }
  if (!out.WorkingDir) out.WorkingDir = c.WorkingDir;
  if (!out.Volumes || !Object.keys(out.Volumes).length) out.Volumes = c.Volumes;
  else Object.assign(out.Volumes, c.Volumes ?? {});
  if (!out.StopSignal) out.StopSignal = c.StopSignal;
  return out;
}
