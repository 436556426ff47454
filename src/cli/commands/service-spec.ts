// The flags of `service create` and `service update` and the ServiceSpec they build, as the docker
// CLI does: create fills in Docker's defaults explicitly (update and rollback configs, restart
// policy), update changes only what a flag names and keeps the rest of the stored spec.
import type { OptDef, Opts } from '../command.js';
import { durationNs, parseCpus, parseKVFile, parseMount, ramInBytes, validateEnv } from '../opts.js';

const SEC = 1e9;
const str = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'string', desc, ...extra });
const list = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'list', desc, ...extra });
const bool = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'bool', desc, ...extra });

function updateFlags(prefix: 'update' | 'rollback'): OptDef[] {
  const what = prefix === 'update' ? 'updates' : 'rollbacks';
  return [
    str(`${prefix}-delay`, `Delay between ${what} (ns|us|ms|s|m|h)`, { type: 'duration' }),
    str(`${prefix}-failure-action`, `Action on ${prefix} failure ("pause", "continue"${prefix === 'update' ? ', "rollback"' : ''})`),
    str(`${prefix}-max-failure-ratio`, `Failure rate to tolerate during ${prefix === 'update' ? 'an update' : 'a rollback'}`, { type: 'float' }),
    str(`${prefix}-monitor`, `Duration after each task ${prefix} to monitor for failure (ns|us|ms|s|m|h)`, { type: 'duration' }),
    str(`${prefix}-order`, `${prefix === 'update' ? 'Update' : 'Rollback'} order ("start-first", "stop-first")`),
    str(`${prefix}-parallelism`, `Maximum number of tasks ${prefix === 'update' ? 'updated' : 'rolled back'} simultaneously (0 to ${prefix} all at once)`, { type: 'uint64' }),
  ];
}

/** Flags that take one value and mean the same in create and update. */
const COMMON: OptDef[] = [
  bool('detach', 'Exit immediately instead of waiting for the service to converge', { short: 'd' }),
  str('entrypoint', 'Overwrite the default ENTRYPOINT of the image', { type: 'command' }),
  str('health-cmd', 'Command to run to check health'),
  str('health-interval', 'Time between running the check (ms|s|m|h)', { type: 'duration' }),
  str('health-retries', 'Consecutive failures needed to report unhealthy', { type: 'int' }),
  str('health-start-period', 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)', { type: 'duration' }),
  str('health-timeout', 'Maximum time to allow one check to run (ms|s|m|h)', { type: 'duration' }),
  str('hostname', 'Container hostname'),
  bool('init', 'Use an init inside each service container to forward signals and reap processes'),
  str('limit-cpu', 'Limit CPUs', { type: 'decimal' }),
  str('limit-memory', 'Limit Memory', { type: 'bytes' }),
  str('limit-pids', 'Limit maximum number of processes (default 0 = unlimited)', { type: 'int' }),
  str('max-concurrent', 'Number of job tasks to run concurrently (default equal to --replicas)', { type: 'uint' }),
  bool('no-healthcheck', 'Disable any container-specified HEALTHCHECK'),
  bool('no-resolve-image', 'Do not query the registry to resolve image digest and supported platforms'),
  bool('quiet', 'Suppress progress output', { short: 'q' }),
  bool('read-only', "Mount the container's root filesystem as read only"),
  str('replicas', 'Number of tasks', { type: 'uint' }),
  str('replicas-max-per-node', 'Maximum number of tasks per node (default 0 = unlimited)', { type: 'uint64', alias: ['max-replicas'] }),
  str('reserve-cpu', 'Reserve CPUs', { type: 'decimal' }),
  str('reserve-memory', 'Reserve Memory', { type: 'bytes' }),
  str('restart-condition', 'Restart when condition is met ("none", "on-failure", "any")'),
  str('restart-delay', 'Delay between restart attempts (ns|us|ms|s|m|h)', { type: 'duration' }),
  str('restart-max-attempts', 'Maximum number of restarts before giving up', { type: 'uint' }),
  str('restart-window', 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)', { type: 'duration' }),
  ...updateFlags('rollback'),
  str('stop-grace-period', 'Time to wait before force killing a container (ns|us|ms|s|m|h)', { type: 'duration' }),
  str('stop-signal', 'Signal to stop the container'),
  ...updateFlags('update'),
  str('user', 'Username or UID (format: <name|uid>[:<group|gid>])', { short: 'u' }),
  str('workdir', 'Working directory inside the container', { short: 'w' }),
];

export const CREATE_OPTIONS: OptDef[] = [
  ...COMMON,
  list('constraint', 'Placement constraints'),
  list('container-label', 'Container labels'),
  list('env', 'Set environment variables', { short: 'e' }),
  list('env-file', 'Read in a file of environment variables'),
  list('label', 'Service labels', { short: 'l' }),
  str('mode', 'Service mode ("replicated", "global", "replicated-job", "global-job")', { def: 'replicated' }),
  str('endpoint-mode', 'Endpoint mode (vip or dnsrr)', { def: 'vip' }),
  list('mount', 'Attach a filesystem mount to the service', { type: 'mount' }),
  str('name', 'Service name'),
  list('network', 'Network attachments', { type: 'network' }),
  list('placement-pref', 'Add a placement preference', { type: 'pref' }),
  list('publish', 'Publish a port as a node port', { short: 'p', type: 'port' }),
].sort((a, b) => a.long.localeCompare(b.long));

export const UPDATE_OPTIONS: OptDef[] = [
  ...COMMON,
  str('args', 'Service command args', { type: 'command' }),
  list('constraint-add', 'Add or update a placement constraint'),
  list('constraint-rm', 'Remove a constraint'),
  list('container-label-add', 'Add or update a container label'),
  list('container-label-rm', 'Remove a container label by its key'),
  list('env-add', 'Add or update an environment variable'),
  list('env-rm', 'Remove an environment variable'),
  bool('force', 'Force update even if no changes require it'),
  str('image', 'Service image tag'),
  list('label-add', 'Add or update a service label'),
  list('label-rm', 'Remove a label by its key'),
  list('mount-add', 'Add or update a mount on a service', { type: 'mount' }),
  list('mount-rm', 'Remove a mount by its target path'),
  list('network-add', 'Add a network', { type: 'network' }),
  list('network-rm', 'Remove a network'),
  str('endpoint-mode', 'Endpoint mode (vip or dnsrr)'),
  list('placement-pref-add', 'Add a placement preference', { type: 'pref' }),
  list('placement-pref-rm', 'Remove a placement preference', { type: 'pref' }),
  list('publish-add', 'Add or update a published port', { type: 'port' }),
  list('publish-rm', 'Remove a published port by its target port', { type: 'port' }),
  bool('rollback', 'Rollback to previous specification'),
].sort((a, b) => a.long.localeCompare(b.long));

function kv(items: string[] | undefined, into: Record<string, string> = {}): Record<string, string> {
  for (const l of items ?? []) { const i = l.indexOf('='); if (i < 0) into[l] = ''; else into[l.slice(0, i)] = l.slice(i + 1); }
  return into;
}

function uint(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseUint: parsing "${v}": invalid syntax`);
  return Number(v);
}

function placementPref(v: string): { Spread: { SpreadDescriptor: string } } {
  const i = v.indexOf('=');
  if (i < 0) throw new Error(`invalid argument "${v}" for "--placement-pref" flag: placement preference must be of the format "<strategy>=<arg>"`);
  const [strategy, arg] = [v.slice(0, i), v.slice(i + 1)];
  if (strategy.toLowerCase() !== 'spread') throw new Error(`invalid argument "${v}" for "--placement-pref" flag: unsupported placement preference ${strategy} (only spread is supported)`);
  return { Spread: { SpreadDescriptor: arg } };
}

/** `--network name` or `--network name=net,alias=a,alias=b` (docker's long form). */
function networkAttachment(v: string): { Target: string; Aliases?: string[] } {
  if (!v.includes('=')) return { Target: v };
  const out: { Target: string; Aliases?: string[] } = { Target: '' };
  for (const f of v.split(',')) {
    const [k, val = ''] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
    if (k === 'name' || k === 'target') out.Target = val;
    else if (k === 'alias') (out.Aliases ??= []).push(val);
    else if (k !== 'driver-opt') throw new Error(`invalid field key ${k}`);
  }
  if (!out.Target) throw new Error(`network name/id is not specified`);
  return out;
}

/** `-p 8080:80[/udp]`, `-p 80`, or `-p published=8080,target=80,protocol=udp,mode=host` (docker's forms). */
export function portConfig(v: string): { Protocol: string; TargetPort: number; PublishedPort?: number; PublishMode: string } {
  const bad = () => new Error(`invalid argument "${v}" for "-p, --publish" flag: invalid port spec ${v}`);
  const num = (x: string) => { if (!/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 65535) throw bad(); return Number(x); };
  if (v.includes('=')) {
    const out: any = { Protocol: 'tcp', PublishMode: 'ingress' };
    for (const f of v.split(',')) {
      const [k, val = ''] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
      if (k === 'target') out.TargetPort = num(val);
      else if (k === 'published') out.PublishedPort = num(val);
      else if (k === 'protocol') { if (!['tcp', 'udp', 'sctp'].includes(val)) throw bad(); out.Protocol = val; }
      else if (k === 'mode') { if (!['ingress', 'host'].includes(val)) throw bad(); out.PublishMode = val; }
      else throw new Error(`invalid argument "${v}" for "-p, --publish" flag: invalid field key ${k}`);
    }
    if (!out.TargetPort) throw new Error(`invalid argument "${v}" for "-p, --publish" flag: missing mandatory field "target"`);
    return out;
  }
  const [ports, proto = 'tcp'] = v.split('/');
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw bad();
  const parts = ports.split(':');
  if (parts.length > 2) throw bad();
  const target = num(parts[parts.length - 1]);
  return { Protocol: proto, TargetPort: target, ...(parts.length === 2 ? { PublishedPort: num(parts[0]) } : {}), PublishMode: 'ingress' };
}

function endpointMode(v: string): string {
  if (v !== 'vip' && v !== 'dnsrr') throw new Error(`invalid argument "${v}" for "--endpoint-mode" flag: invalid endpoint mode: ${v}`);
  return v;
}

function updateConfig(prefix: 'update' | 'rollback', o: Opts, cur: any = {}): any {
  const c = { ...cur };
  const has = (f: string) => o._changed.has(`${prefix}-${f}`);
  const v = (f: string) => o[camelOf(`${prefix}-${f}`)] as string;
  if (has('parallelism')) c.Parallelism = uint(`${prefix}-parallelism`, v('parallelism'));
  if (has('delay')) c.Delay = durationNs(v('delay'));
  if (has('monitor')) c.Monitor = durationNs(v('monitor'));
  if (has('max-failure-ratio')) {
    const r = Number(v('max-failure-ratio'));
    if (!Number.isFinite(r) || r < 0 || r > 1) throw new Error(`invalid argument "${v('max-failure-ratio')}" for "--${prefix}-max-failure-ratio" flag: value must be between 0 and 1`);
    c.MaxFailureRatio = r;
  }
  if (has('failure-action')) {
    const a = v('failure-action');
    const ok = prefix === 'update' ? ['pause', 'continue', 'rollback'] : ['pause', 'continue'];
    if (!ok.includes(a)) throw new Error(`invalid argument "${a}" for "--${prefix}-failure-action" flag: must be one of ${ok.map((x) => `"${x}"`).join(', ')}`);
    c.FailureAction = a;
  }
  if (has('order')) {
    if (!['start-first', 'stop-first'].includes(v('order'))) throw new Error(`invalid argument "${v('order')}" for "--${prefix}-order" flag: must be "start-first" or "stop-first"`);
    c.Order = v('order');
  }
  return c;
}

function camelOf(s: string): string { return s.replace(/-([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase()); }

const DEFAULT_UPDATE = { Parallelism: 1, FailureAction: 'pause', Monitor: 5 * SEC, MaxFailureRatio: 0, Order: 'stop-first' };

/** The flags both commands share, applied over `spec` (which is changed in place). */
function applyCommon(spec: any, o: Opts): void {
  const tt = (spec.TaskTemplate ??= {});
  const cs = (tt.ContainerSpec ??= {});
  const has = (f: string) => o._changed.has(f);
  if (has('entrypoint')) cs.Command = o.entrypoint ? String(o.entrypoint).split(/\s+/).filter(Boolean) : undefined;
  if (has('hostname')) cs.Hostname = o.hostname;
  if (has('user')) cs.User = o.user;
  if (has('workdir')) cs.Dir = o.workdir;
  if (has('read-only')) cs.ReadOnly = !!o.readOnly;
  if (has('init')) cs.Init = !!o.init;
  if (has('stop-signal')) cs.StopSignal = o.stopSignal;
  if (has('stop-grace-period')) cs.StopGracePeriod = durationNs(o.stopGracePeriod);
  // health: --no-healthcheck wins; the --health-* flags change only their own field
  if (has('no-healthcheck') && o.noHealthcheck) {
    if (['health-cmd', 'health-interval', 'health-retries', 'health-timeout', 'health-start-period'].some(has)) throw new Error('--no-healthcheck conflicts with --health-* options');
    cs.Healthcheck = { Test: ['NONE'] };
  } else if (['health-cmd', 'health-interval', 'health-retries', 'health-timeout', 'health-start-period'].some(has)) {
    const h = { ...(cs.Healthcheck?.Test?.[0] === 'NONE' ? {} : cs.Healthcheck ?? {}) };
    if (has('health-cmd')) h.Test = o.healthCmd ? ['CMD-SHELL', o.healthCmd] : undefined;
    if (has('health-interval')) h.Interval = durationNs(o.healthInterval);
    if (has('health-timeout')) h.Timeout = durationNs(o.healthTimeout);
    if (has('health-start-period')) h.StartPeriod = durationNs(o.healthStartPeriod);
    if (has('health-retries')) h.Retries = uint('health-retries', o.healthRetries);
    for (const k of ['Interval', 'Timeout', 'StartPeriod'] as const) if (h[k] !== undefined && h[k] < 1e6 && h[k] !== 0) throw new Error(`--health-${k === 'StartPeriod' ? 'start-period' : k.toLowerCase()} cannot be less than 1ms`);
    cs.Healthcheck = h;
  }
  // resources
  const res = (tt.Resources ??= {});
  if (has('limit-cpu')) (res.Limits ??= {}).NanoCPUs = parseCpus(o.limitCpu);
  if (has('limit-memory')) (res.Limits ??= {}).MemoryBytes = ramInBytes(o.limitMemory);
  if (has('limit-pids')) (res.Limits ??= {}).Pids = Number(o.limitPids);
  if (has('reserve-cpu')) (res.Reservations ??= {}).NanoCPUs = parseCpus(o.reserveCpu);
  if (has('reserve-memory')) (res.Reservations ??= {}).MemoryBytes = ramInBytes(o.reserveMemory);
  if (!Object.keys(res).length) delete tt.Resources;
  // restart policy
  const rp = (tt.RestartPolicy ??= {});
  if (has('restart-condition')) {
    if (!['none', 'on-failure', 'any'].includes(o.restartCondition)) throw new Error(`invalid argument "${o.restartCondition}" for "--restart-condition" flag: invalid restart condition: ${o.restartCondition}`);
    rp.Condition = o.restartCondition;
  }
  if (has('restart-delay')) rp.Delay = durationNs(o.restartDelay);
  if (has('restart-max-attempts')) rp.MaxAttempts = uint('restart-max-attempts', o.restartMaxAttempts);
  if (has('restart-window')) rp.Window = durationNs(o.restartWindow);
  if (has('replicas-max-per-node')) (tt.Placement ??= {}).MaxReplicas = uint('replicas-max-per-node', o.replicasMaxPerNode);
  spec.UpdateConfig = updateConfig('update', o, spec.UpdateConfig);
  spec.RollbackConfig = updateConfig('rollback', o, spec.RollbackConfig);
  // mode: replicas (and job concurrency) apply to the mode the service has
  const mode = spec.Mode ?? {};
  if (has('replicas')) {
    const n = uint('replicas', o.replicas);
    if (mode.Replicated) mode.Replicated.Replicas = n;
    else if (mode.ReplicatedJob) mode.ReplicatedJob.TotalCompletions = n;
    else throw new Error('replicas can only be used with replicated or replicated-job mode');
  }
  if (has('max-concurrent')) {
    if (!mode.ReplicatedJob) throw new Error('max-concurrent can only be used with replicated-job mode');
    mode.ReplicatedJob.MaxConcurrent = uint('max-concurrent', o.maxConcurrent);
  }
}

/** `service create`: the whole spec, with Docker's defaults filled in. */
export function buildServiceSpec(image: string, cmd: string[], o: Opts, env: Record<string, string | undefined>, cwd: string): any {
  const modeName = String(o.mode ?? 'replicated');
  const jobs = modeName === 'replicated-job' || modeName === 'global-job';
  let mode: any;
  if (modeName === 'replicated') mode = { Replicated: { Replicas: 1 } };
  else if (modeName === 'global') mode = { Global: {} };
  else if (modeName === 'replicated-job') mode = { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } };
  else if (modeName === 'global-job') mode = { GlobalJob: {} };
  else throw new Error(`invalid argument "${modeName}" for "--mode" flag: invalid service mode: ${modeName}`);
  // a replicated job runs --replicas completions, --max-concurrent (default: as many) at once
  if (modeName === 'replicated-job' && o._changed.has('replicas') && !o._changed.has('max-concurrent')) mode.ReplicatedJob.MaxConcurrent = uint('replicas', o.replicas);
  const envList = [...parseEnvFiles(o.envFile), ...(o.env ?? []).map((e: string) => validateEnv(e, env))];
  const spec: any = {
    Name: o.name || undefined, Labels: kv(o.label), Mode: mode,
    TaskTemplate: {
      ContainerSpec: {
        Image: image, Args: cmd.length ? cmd : undefined, Env: envList.length ? envList : undefined, Labels: kv(o.containerLabel),
        Mounts: (o.mount ?? []).length ? (o.mount as string[]).map((m) => parseMount(m, cwd)) : undefined,
      },
      RestartPolicy: { Condition: jobs ? 'on-failure' : 'any', Delay: 5 * SEC, MaxAttempts: 0 },
      Placement: {
        ...((o.constraint ?? []).length ? { Constraints: o.constraint } : {}),
        ...((o.placementPref ?? []).length ? { Preferences: (o.placementPref as string[]).map(placementPref) } : {}),
      },
      ForceUpdate: 0,
    },
    ...(jobs ? {} : { UpdateConfig: { ...DEFAULT_UPDATE }, RollbackConfig: { ...DEFAULT_UPDATE } }),
    EndpointSpec: { Mode: endpointMode(String(o.endpointMode ?? 'vip')) },
  };
  if ((o.network ?? []).length) spec.TaskTemplate.Networks = (o.network as string[]).map(networkAttachment);
  if ((o.publish ?? []).length) spec.EndpointSpec.Ports = (o.publish as string[]).map(portConfig);
  applyCommon(spec, o);
  if (jobs) { delete spec.UpdateConfig; delete spec.RollbackConfig; }
  if (jobs && spec.TaskTemplate.RestartPolicy.Condition === 'any') throw new Error('invalid restart condition: jobs may not have restart condition "any"');
  return spec;
}

function parseEnvFiles(files: string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => parseKVFile(f));
}

/** `service update`: the flags given, applied over a copy of the current spec. */
export function updateServiceSpec(current: any, o: Opts, env: Record<string, string | undefined>, cwd: string): any {
  const spec = structuredClone(current);
  const tt = (spec.TaskTemplate ??= {});
  const cs = (tt.ContainerSpec ??= {});
  const has = (f: string) => o._changed.has(f);
  if (has('image')) cs.Image = o.image;
  if (has('args')) cs.Args = String(o.args).split(/\s+/).filter(Boolean);
  applyCommon(spec, o);
  // env: -rm by name first, then -add replaces the same name
  if (has('env-rm') || has('env-add')) {
    const name = (e: string) => e.split('=')[0];
    const rm = new Set<string>((o.envRm ?? []).map(name));
    const add = (o.envAdd ?? []).map((e: string) => validateEnv(e, env));
    const addNames = new Set(add.map(name));
    cs.Env = [...(cs.Env ?? []).filter((e: string) => !rm.has(name(e)) && !addNames.has(name(e))), ...add];
  }
  if (has('label-rm') || has('label-add')) {
    const l = { ...(spec.Labels ?? {}) };
    for (const k of o.labelRm ?? []) delete l[k];
    spec.Labels = kv(o.labelAdd, l);
  }
  if (has('container-label-rm') || has('container-label-add')) {
    const l = { ...(cs.Labels ?? {}) };
    for (const k of o.containerLabelRm ?? []) delete l[k];
    cs.Labels = kv(o.containerLabelAdd, l);
  }
  if (has('constraint-rm') || has('constraint-add')) {
    const rm = new Set<string>((o.constraintRm ?? []).map((c: string) => c.replace(/\s+/g, '')));
    const cur: string[] = (tt.Placement?.Constraints ?? []).filter((c: string) => !rm.has(c.replace(/\s+/g, '')));
    for (const c of o.constraintAdd ?? []) if (!cur.includes(c)) cur.push(c);
    (tt.Placement ??= {}).Constraints = cur;
  }
  if (has('placement-pref-rm') || has('placement-pref-add')) {
    const rm = new Set<string>((o.placementPrefRm ?? []).map((p: string) => placementPref(p).Spread.SpreadDescriptor));
    const cur = (tt.Placement?.Preferences ?? []).filter((p: any) => !rm.has(p.Spread?.SpreadDescriptor));
    (tt.Placement ??= {}).Preferences = [...cur, ...(o.placementPrefAdd ?? []).map(placementPref)];
  }
  if (has('mount-rm') || has('mount-add')) {
    const add = (o.mountAdd ?? []).map((m: string) => parseMount(m, cwd));
    const rm = new Set<string>([...(o.mountRm ?? []), ...add.map((m: any) => m.Target)]);
    cs.Mounts = [...(cs.Mounts ?? []).filter((m: any) => !rm.has(m.Target)), ...add];
  }
  if (has('network-rm') || has('network-add')) {
    const rm = new Set<string>(o.networkRm ?? []);
    const cur = (tt.Networks ?? spec.Networks ?? []).filter((n: any) => !rm.has(n.Target));
    tt.Networks = [...cur, ...(o.networkAdd ?? []).map(networkAttachment)];
    delete spec.Networks;
  }
  if (has('publish-rm') || has('publish-add')) {
    const add = (o.publishAdd ?? []).map(portConfig);
    const rm = (o.publishRm ?? []).map((p: string) => (p.includes('=') || p.includes(':') ? portConfig(p) : portConfig(p.includes('/') ? p : `${p}/tcp`)));
    const key = (p: any) => `${p.TargetPort}/${p.Protocol ?? 'tcp'}`;
    const gone = new Set([...rm, ...add].map(key));
    spec.EndpointSpec = { ...(spec.EndpointSpec ?? { Mode: 'vip' }), Ports: [...(spec.EndpointSpec?.Ports ?? []).filter((p: any) => !gone.has(key(p))), ...add] };
  }
  if (has('endpoint-mode')) spec.EndpointSpec = { ...(spec.EndpointSpec ?? {}), Mode: endpointMode(o.endpointMode) };
  if (has('force') && o.force) tt.ForceUpdate = (tt.ForceUpdate ?? 0) + 1;
  return spec;
}
