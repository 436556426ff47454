// docker run/create flags and their translation into the POST /containers/create body
// (Config + HostConfig + NetworkingConfig), following the docker CLI's opts parsing.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import type { OptDef, Opts } from './command.js';
import { parseBytes } from './format/index.js';
import { parseGoDuration } from './util.js';

// ---------- value parsers (throwing Errors with docker's texts) ----------

/** go-units RAMInBytes: "64m" → 67108864 (binary multiples; plain numbers are bytes). */
export function ramInBytes(v: string): number {
  let n: number;
  try { n = parseBytes(v) as number; } catch { throw new Error(`invalid size: '${v}'`); }
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`invalid size: '${v}'`);
  return n;
}

export function memSwapBytes(v: string): number {
  if (v === '-1') return -1;
  return ramInBytes(v);
}

/** docker's ParseCPUs: a rational number of CPUs → nano CPUs. */
export function parseCpus(v: string): number {
  const s = v.trim();
  let num: bigint; let den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (frac) { num = BigInt(frac[1]); den = BigInt(frac[2]); if (den === 0n) throw new Error(`failed to parse ${v} as a rational number`); }
  else if (dec && (dec[2] || dec[3])) {
    const intPart = dec[2] || '0'; const fracPart = dec[3] ?? ''; const exp = Number(dec[4] ?? 0);
    num = BigInt(intPart + fracPart) * (dec[1] === '-' ? -1n : 1n);
    den = 10n ** BigInt(fracPart.length);
    if (exp > 0) num *= 10n ** BigInt(exp); else if (exp < 0) den *= 10n ** BigInt(-exp);
  } else throw new Error(`failed to parse ${v} as a rational number`);
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

/** A Go duration flag value → nanoseconds. */
export function durationNs(v: string): number {
  const ms = parseGoDuration(v);
  if (ms === undefined) throw new Error(`time: invalid duration "${v}"`);
  return Math.round(ms * 1e6);
}

export function validateEnv(v: string, env: Record<string, string | undefined>): string {
  const i = v.indexOf('=');
  const k = i < 0 ? v : v.slice(0, i);
  if (k === '') throw new Error(`invalid environment variable: ${v}`);
  if (i >= 0) return v;
  const e = env[k];
  return e !== undefined ? `${k}=${e}` : v;
}

export function validateLabel(v: string): string {
  const key = v.split('=')[0].replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${v}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return v;
}

export function validateExtraHost(v: string): string {
  let i = v.indexOf('=');
  if (i < 0) i = v.indexOf(':');
  const k = i < 0 ? '' : v.slice(0, i);
  let ip = i < 0 ? '' : v.slice(i + 1);
  if (i < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: "${v}"`);
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (!isIP(ip.trim())) throw new Error(`invalid IP address in add-host: "${ip}"`);
  }
  return `${k}:${v.slice(i + 1)}`;
}

export function validateIP(v: string): string {
  if (!isIP(v.trim())) throw new Error(`IP address is not correctly formatted: ${v}`);
  return v.trim();
}

/** kvfile.Parse: env/label files; lookup fills "KEY" lines from the environment (env files only). */
export function parseKVFile(file: string, lookup?: (k: string) => string | undefined): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${err.message}`);
  }
  const out: string[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const i = line.indexOf('=');
    const key = i < 0 ? line : line.slice(0, i);
    if (key === '') throw new Error(`invalid env file (${file}): no variable name on line '${line}'`);
    if (/[ \t]/.test(key)) throw new Error(`invalid env file (${file}): variable '${key}' contains whitespaces`);
    if (i >= 0) { out.push(line); return; }
    const v = lookup?.(line);
    if (v !== undefined) out.push(`${key}=${v}`);
  });
  return out;
}

export interface RestartPolicy { Name: string; MaximumRetryCount: number }

/** docker's ParseRestartPolicy. */
export function parseRestartPolicy(policy: string): RestartPolicy {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const i = policy.indexOf(':');
  const name = i < 0 ? policy : policy.slice(0, i);
  const count = i < 0 ? '' : policy.slice(i + 1);
  if (i >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let n = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    n = Number(count);
  }
  return { Name: name, MaximumRetryCount: n };
}

// ---------- ports (go-connections/nat.ParsePortSpecs) ----------

function parsePortRange(s: string): [number, number] {
  if (s === '') throw new Error('empty string specified for ports');
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid port value: ${s}`);
  const a = Number(m[1]); const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a > 65535 || b > 65535) throw new Error(`invalid port value: ${s}`);
  if (b < a) throw new Error(`invalid range specified for port: ${s}`);
  return [a, b];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const ctr = parts[n - 1];
  if (n === 1) return ['', '', ctr];
  if (n === 2) return ['', parts[0], ctr];
  if (n === 3) return [parts[0], parts[1], ctr];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2], ctr];
}

export interface PortBinding { HostIp: string; HostPort: string }

/** "[ip:][hostPort:]containerPort[/proto]" (ranges allowed) and the long "target=,published=" syntax. */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (let raw of specs) {
    if (raw.includes('=')) {
      const p: Record<string, string> = { protocol: 'tcp' };
      for (const kv of raw.split(',')) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${kv}')`);
        p[kv.slice(0, i)] = kv.slice(i + 1);
      }
      raw = `${p.published ?? ''}:${p.target ?? ''}/${p.protocol}`;
    }
    let [ip, hostPort, ctr] = splitParts(raw);
    let proto = 'tcp';
    const slash = ctr.indexOf('/');
    if (slash >= 0) { proto = ctr.slice(slash + 1) || 'tcp'; ctr = ctr.slice(0, slash); }
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip !== '' && !isIP(ip)) throw new Error(`invalid IP address: ${ip}`);
    if (ctr === '') throw new Error(`no port specified: ${raw}<empty>`);
    let start: number; let end: number;
    try { [start, end] = parsePortRange(ctr); } catch { throw new Error(`invalid containerPort: ${ctr}`); }
    let hStart = 0; let hEnd = 0;
    if (hostPort !== '') {
      try { [hStart, hEnd] = parsePortRange(hostPort); } catch { throw new Error(`invalid hostPort: ${hostPort}`); }
    }
    if (hostPort !== '' && end - start !== hEnd - hStart) {
      if (end !== start) throw new Error(`invalid ranges specified for container and host Ports: ${ctr} and ${hostPort}`);
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      const key = `${start + i}/${proto.toLowerCase()}`;
      let hp = '';
      if (hostPort !== '') {
        hp = String(hStart + i);
        if (hEnd !== hStart && end === start) hp = `${hStart}-${hEnd}`;
      }
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hp });
    }
  }
  return { exposed, bindings };
}

/** --expose "80", "80/udp", "8000-8010" */
export function parseExpose(specs: string[]): string[] {
  const out: string[] = [];
  for (const e of specs) {
    const [p, proto = 'tcp'] = e.split('/');
    let start: number; let end: number;
    try { [start, end] = parsePortRange(p); } catch (err) { throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`); }
    for (let i = start; i <= end; i++) out.push(`${i}/${proto}`);
  }
  return out;
}

// ---------- volumes and mounts ----------

const BIND_MODES = /^(ro|rw|z|Z|nocopy|shared|rshared|slave|rslave|private|rprivate|consistent|cached|delegated)$/;

/** -v: "/host:/ctr[:opts]" and "name:/ctr[:opts]" become Binds; a lone "/ctr" an anonymous volume. */
export function parseVolume(spec: string, cwd: string): { bind?: string; volume?: string } {
  if (spec === '') throw new Error('invalid empty volume spec');
  const parts = spec.split(':');
  if (parts.some((p, i) => p === '' && i < parts.length)) throw new Error(`invalid spec: ${spec}: empty section between colons`);
  if (parts.length === 1) {
    if (!spec.startsWith('/')) throw new Error(`invalid volume specification: '${spec}'`);
    return { volume: spec };
  }
  if (parts.length > 3) throw new Error(`invalid spec: ${spec}: too many colons`);
  let [src] = parts;
  const dst = parts[1];
  const mode = parts[2];
  if (!dst.startsWith('/')) throw new Error(`invalid volume specification: '${spec}': invalid mount config for type "${src.startsWith('/') || src.startsWith('.') ? 'bind' : 'volume'}": invalid mount path: '${dst}' mount path must be absolute`);
  if (mode !== undefined && !mode.split(',').every((m) => BIND_MODES.test(m))) throw new Error(`invalid mode: ${mode}`);
  if (!src.startsWith('/') && src.startsWith('.')) src = path.resolve(cwd, src);
  return { bind: [src, ...parts.slice(1)].join(':') };
}

export interface Mount {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

function csvFields(s: string): string[] {
  const out: string[] = [];
  let cur = ''; let q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === '"' && s[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"' && cur === '') q = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function boolValue(key: string, val: string | undefined): boolean {
  if (val === undefined) return true;
  if (val === '1' || val === 'true') return true;
  if (val === '0' || val === 'false') return false;
  throw new Error(`invalid value for '${key}': invalid boolean value ("${val}"): must be one of "true", "1", "false", or "0" (default "true")`);
}

/** --mount type=bind|volume|tmpfs,source=,target=,readonly,tmpfs-size=,... (opts.MountOpt). */
export function parseMount(value: string, cwd: string): Mount {
  const v = value.trim();
  if (v === '') throw new Error('value is empty');
  const m: Mount = { Type: 'volume' };
  for (const field of csvFields(v)) {
    const i = field.indexOf('=');
    let key = i < 0 ? field : field.slice(0, i);
    const val = i < 0 ? undefined : field.slice(i + 1);
    if (key.trim() !== key) throw new Error(`invalid option '${key.trim()}' in '${field}': option should not have whitespace`);
    if (val !== undefined) {
      if (val.trim() === '') throw new Error(`invalid value for '${key}': value is empty`);
      if (val.trim() !== val) throw new Error(`invalid value for '${key}' in '${field}': value should not have whitespace`);
    }
    key = key.toLowerCase();
    if (val === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-src'].includes(key)) {
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type': m.Type = val!.toLowerCase(); break;
      case 'source': case 'src':
        m.Source = val!;
        if (!val!.startsWith('/') && val!.startsWith('.')) m.Source = path.resolve(cwd, val!);
        break;
      case 'target': case 'dst': case 'destination': m.Target = val!; break;
      case 'readonly': case 'ro': m.ReadOnly = boolValue(key, val); break;
      case 'consistency': m.Consistency = val!.toLowerCase(); break;
      case 'bind-propagation': (m.BindOptions ??= {}).Propagation = val!.toLowerCase(); break;
      case 'bind-nonrecursive': throw new Error('bind-nonrecursive is deprecated, use bind-recursive=disabled instead');
      case 'bind-recursive':
        if (val === 'disabled') (m.BindOptions ??= {}).NonRecursive = true;
        else if (val === 'writable') (m.BindOptions ??= {}).ReadOnlyNonRecursive = true;
        else if (val === 'readonly') (m.BindOptions ??= {}).ReadOnlyForceRecursive = true;
        else if (val !== 'enabled') throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        break;
      case 'bind-create-src': (m.BindOptions ??= {}).CreateMountpoint = boolValue(key, val); break;
      case 'volume-subpath': (m.VolumeOptions ??= {}).Subpath = val!; break;
      case 'volume-nocopy': (m.VolumeOptions ??= {}).NoCopy = boolValue(key, val); break;
      case 'volume-label': {
        const [k, lv = ''] = [val!.split('=')[0], val!.split('=').slice(1).join('=')];
        if (k) ((m.VolumeOptions ??= {}).Labels ??= {})[k] = lv;
        break;
      }
      case 'volume-driver': ((m.VolumeOptions ??= {}).DriverConfig ??= {}).Name = val!; break;
      case 'volume-opt': {
        const k = val!.split('=')[0]; const ov = val!.split('=').slice(1).join('=');
        if (k) (((m.VolumeOptions ??= {}).DriverConfig ??= {}).Options ??= {})[k] = ov;
        break;
      }
      case 'tmpfs-size': {
        let n: number;
        try { n = ramInBytes(val!); } catch { throw new Error(`invalid value for ${key}: ${val}`); }
        (m.TmpfsOptions ??= {}).SizeBytes = n;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val!)) throw new Error(`invalid value for ${key}: ${val}`);
        (m.TmpfsOptions ??= {}).Mode = parseInt(val!, 8);
        break;
      }
      default: throw new Error(`unknown option '${key}' in '${field}'`);
    }
  }
  if (!m.Type) throw new Error('type is required');
  if (m.Type !== 'bind' && m.BindOptions) throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'volume' && m.VolumeOptions) throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  if (m.BindOptions?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  if (m.BindOptions?.ReadOnlyForceRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
  return m;
}

/** --ulimit name=soft[:hard] */
export function parseUlimit(v: string): { Name: string; Soft: number; Hard: number } {
  const i = v.indexOf('=');
  if (i < 0) throw new Error(`invalid ulimit argument: ${v}`);
  const name = v.slice(0, i);
  const [s, h] = v.slice(i + 1).split(':');
  const num = (x: string) => { if (!/^-?\d+$/.test(x)) throw new Error(`invalid ulimit argument: ${v}`); return Number(x); };
  const soft = num(s); const hard = h === undefined ? soft : num(h);
  if (soft > hard && hard !== -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

/** --network "name" or "name=x,alias=y,ip=z" (NetworkOpt). */
export interface NetworkAttachment { Target: string; Aliases: string[]; IPv4Address?: string; IPv6Address?: string; DriverOpts?: Record<string, string> }
export function parseNetworkOpt(v: string): NetworkAttachment {
  if (!v.includes('=')) return { Target: v, Aliases: [] };
  const n: NetworkAttachment = { Target: '', Aliases: [] };
  for (const field of csvFields(v)) {
    const i = field.indexOf('=');
    if (i < 0) throw new Error(`invalid field '${field}' must be a key=value pair`);
    const key = field.slice(0, i).toLowerCase(); const val = field.slice(i + 1);
    switch (key) {
      case 'name': n.Target = val; break;
      case 'alias': n.Aliases.push(val); break;
      case 'ip': n.IPv4Address = val; break;
      case 'ip6': n.IPv6Address = val; break;
      case 'driver-opt': { const [k, ...r] = val.split('='); (n.DriverOpts ??= {})[k] = r.join('='); break; }
      default: throw new Error(`invalid field key ${key}`);
    }
  }
  return n;
}

// ---------- flag definitions ----------

const list = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'list', desc, ...extra });
const str = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'string', desc, ...extra });
const bool = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'bool', desc, ...extra });
const int = (long: string, desc: string, extra: Partial<OptDef> = {}): OptDef => ({ long, kind: 'int', desc, ...extra });

const attachStream = (v: string) => {
  const s = v.toLowerCase();
  if (!['stdin', 'stdout', 'stderr'].includes(s)) throw new Error('valid streams are STDIN, STDOUT and STDERR');
  return s;
};

/** The container flags shared by run and create (docker's addFlags). */
export function containerFlags(): OptDef[] {
  return [
    list('attach', 'Attach to STDIN, STDOUT or STDERR', { short: 'a', parse: attachStream }),
    list('add-host', 'Add a custom host-to-IP mapping (host:ip)', { parse: validateExtraHost }),
    list('annotation', 'Add an annotation to the container (passed through to the OCI runtime)', { type: 'map' }),
    int('blkio-weight', 'Block IO (relative weight), between 10 and 1000, or 0 to disable', { type: 'uint16', def: 0 }),
    list('cap-add', 'Add Linux capabilities'),
    list('cap-drop', 'Drop Linux capabilities'),
    str('cgroup-parent', 'Optional parent cgroup for the container'),
    str('cgroupns', 'Cgroup namespace to use (host|private)'),
    str('cidfile', 'Write the container ID to the file'),
    int('cpu-period', 'Limit CPU CFS (Completely Fair Scheduler) period', { def: 0 }),
    int('cpu-quota', 'Limit CPU CFS (Completely Fair Scheduler) quota', { def: 0 }),
    int('cpu-rt-period', 'Limit CPU real-time period in microseconds', { def: 0 }),
    int('cpu-rt-runtime', 'Limit CPU real-time runtime in microseconds', { def: 0 }),
    int('cpu-shares', 'CPU shares (relative weight)', { short: 'c', def: 0 }),
    str('cpus', 'Number of CPUs', { type: 'decimal', parse: parseCpus }),
    str('cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'),
    str('cpuset-mems', 'MEMs in which to allow execution (0-3, 0,1)'),
    list('device', 'Add a host device to the container'),
    list('device-cgroup-rule', 'Add a rule to the cgroup allowed devices list'),
    list('dns', 'Set custom DNS servers', { parse: validateIP }),
    list('dns-option', 'Set DNS options', { alias: ['dns-opt'] }),
    list('dns-search', 'Set custom DNS search domains'),
    str('domainname', 'Container NIS domain name'),
    str('entrypoint', 'Overwrite the default ENTRYPOINT of the image'),
    list('env', 'Set environment variables', { short: 'e', parse: (v) => { if (v.split('=')[0] === '') throw new Error(`invalid environment variable: ${v}`); return v; } }),
    list('env-file', 'Read in a file of environment variables'),
    list('expose', 'Expose a port or a range of ports'),
    list('gpus', 'GPU devices to add to the container (\'all\' to pass all GPUs)', { type: 'gpu-request', hidden: true }),
    list('group-add', 'Add additional groups to join'),
    str('health-cmd', 'Command to run to check health'),
    str('health-interval', 'Time between running the check (ms|s|m|h) (default 0s)', { type: 'duration', parse: durationNs }),
    int('health-retries', 'Consecutive failures needed to report unhealthy', { def: 0 }),
    str('health-start-interval', 'Time between running the check during the start period (ms|s|m|h) (default 0s)', { type: 'duration', parse: durationNs }),
    str('health-start-period', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)', { type: 'duration', parse: durationNs }),
    str('health-timeout', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', { type: 'duration', parse: durationNs }),
    str('hostname', 'Container host name', { short: 'h' }),
    bool('init', 'Run an init inside the container that forwards signals and reaps processes'),
    bool('interactive', 'Keep STDIN open even if not attached', { short: 'i' }),
    str('ip', 'IPv4 address (e.g., 172.30.100.104)'),
    str('ip6', 'IPv6 address (e.g., 2001:db8::33)'),
    str('ipc', 'IPC mode to use'),
    str('isolation', 'Container isolation technology'),
    list('label', 'Set meta data on a container', { short: 'l', parse: validateLabel }),
    list('label-file', 'Read in a line delimited file of labels'),
    list('link', 'Add link to another container'),
    list('link-local-ip', 'Container IPv4/IPv6 link-local addresses'),
    str('log-driver', 'Logging driver for the container'),
    list('log-opt', 'Log driver options'),
    str('mac-address', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'),
    str('memory', 'Memory limit', { short: 'm', type: 'bytes', parse: ramInBytes }),
    str('memory-reservation', 'Memory soft limit', { type: 'bytes', parse: ramInBytes }),
    str('memory-swap', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", { type: 'bytes', parse: memSwapBytes }),
    int('memory-swappiness', 'Tune container memory swappiness (0 to 100)', { def: -1 }),
    list('mount', 'Attach a filesystem mount to the container', { type: 'mount' }),
    list('network', 'Connect a container to a network', { alias: ['net'], type: 'network' }),
    list('network-alias', 'Add network-scoped alias for the container', { alias: ['net-alias'] }),
    bool('no-healthcheck', 'Disable any container-specified HEALTHCHECK'),
    bool('oom-kill-disable', 'Disable OOM Killer'),
    int('oom-score-adj', "Tune host's OOM preferences (-1000 to 1000)", { def: 0 }),
    str('pid', 'PID namespace to use'),
    int('pids-limit', 'Tune container pids limit (set -1 for unlimited)', { def: 0 }),
    str('platform', 'Set platform if server is multi-platform capable'),
    bool('privileged', 'Give extended privileges to this container'),
    list('publish', "Publish a container's port(s) to the host", { short: 'p' }),
    bool('publish-all', 'Publish all exposed ports to random ports', { short: 'P' }),
    str('pull', 'Pull image before running ("always", "missing", "never")', { def: 'missing' }),
    bool('quiet', 'Suppress the pull output', { short: 'q' }),
    bool('read-only', "Mount the container's root filesystem as read only"),
    str('restart', 'Restart policy to apply when a container exits', { def: 'no' }),
    bool('rm', 'Automatically remove the container and its associated anonymous volumes when it exits'),
    str('runtime', 'Runtime to use for this container'),
    list('security-opt', 'Security Options'),
    str('shm-size', 'Size of /dev/shm', { type: 'bytes', parse: ramInBytes }),
    str('stop-signal', 'Signal to stop the container'),
    int('stop-timeout', 'Timeout (in seconds) to stop a container', { def: 0 }),
    list('storage-opt', 'Storage driver options for the container'),
    list('sysctl', 'Sysctl options', { type: 'map' }),
    list('tmpfs', 'Mount a tmpfs directory'),
    bool('tty', 'Allocate a pseudo-TTY', { short: 't' }),
    list('ulimit', 'Ulimit options', { type: 'ulimit', parse: parseUlimit }),
    str('user', 'Username or UID (format: <name|uid>[:<group|gid>])', { short: 'u' }),
    str('userns', 'User namespace to use'),
    str('uts', 'UTS namespace to use'),
    list('volume', 'Bind mount a volume', { short: 'v' }),
    str('volume-driver', 'Optional volume driver for the container'),
    list('volumes-from', 'Mount volumes from the specified container(s)'),
    str('workdir', 'Working directory inside the container', { short: 'w' }),
    str('name', 'Assign a name to the container'),
    bool('disable-content-trust', 'Skip image verification (deprecated)', { def: true, hidden: true }),
  ];
}

export interface CreateRequest {
  name: string;
  body: Record<string, any>;
  /** Flags not sent to the daemon but needed by run. */
  attach: { stdin: boolean; stdout: boolean; stderr: boolean };
  autoRemove: boolean;
  cidfile: string;
}

/** docker's parse(): flags + image + command → the create body. Throws Errors with docker's texts. */
export function buildCreateRequest(o: Opts, image: string, cmd: string[], env: Record<string, string | undefined>, cwd: string): CreateRequest {
  const attachList: string[] = o.attach ?? [];
  let attachStdin = attachList.includes('stdin');
  let attachStdout = attachList.includes('stdout');
  let attachStderr = attachList.includes('stderr');
  if (o.interactive) attachStdin = true;
  if (attachList.length === 0) { attachStdout = true; attachStderr = true; }

  const swappiness: number = o.memorySwappiness;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of o.volume as string[]) {
    const p = parseVolume(v, cwd);
    if (p.bind) binds.push(p.bind); else volumes[p.volume!] = {};
  }

  const tmpfs: Record<string, string> = {};
  for (const t of o.tmpfs as string[]) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }

  let entrypoint: string[] | null = null;
  if (o.entrypoint) entrypoint = [o.entrypoint];
  else if (o._changed.has('entrypoint')) entrypoint = [''];

  const ports = parsePortSpecs(o.publish as string[]);
  const exposedPorts: Record<string, Record<string, never>> = { ...ports.exposed };
  for (const p of parseExpose(o.expose as string[])) exposedPorts[p] = {};

  // environment: files first, then -e (each validated against the local environment)
  const envVars: string[] = [];
  try {
    for (const f of o.envFile as string[]) envVars.push(...parseKVFile(f, (k) => env[k]));
  } catch (e) { throw new Error(`--env-file: ${(e as Error).message}`); }
  for (const e of o.env as string[]) envVars.push(validateEnv(e, env));

  const labelList: string[] = [];
  try {
    for (const f of o.labelFile as string[]) labelList.push(...parseKVFile(f));
  } catch (e) { throw new Error(`--label-file: ${(e as Error).message}`); }
  labelList.push(...(o.label as string[]));
  const labels: Record<string, string> = {};
  for (const l of labelList) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }

  const restart = parseRestartPolicy(o.restart ?? 'no');
  const restartNone = restart.Name === '' || restart.Name === 'no';

  // health
  let healthcheck: Record<string, unknown> | undefined;
  const haveHealth = !!o.healthCmd || !!o.healthInterval || !!o.healthTimeout || !!o.healthStartPeriod || !!o.healthRetries || !!o.healthStartInterval;
  if (o.noHealthcheck) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if ((o.healthInterval ?? 0) < 0) throw new Error('--health-interval cannot be negative');
    if ((o.healthTimeout ?? 0) < 0) throw new Error('--health-timeout cannot be negative');
    if ((o.healthRetries ?? 0) < 0) throw new Error('--health-retries cannot be negative');
    if ((o.healthStartPeriod ?? 0) < 0) throw new Error('--health-start-period cannot be negative');
    if ((o.healthStartInterval ?? 0) < 0) throw new Error('--health-start-interval cannot be negative');
    healthcheck = {};
    if (o.healthCmd) healthcheck.Test = ['CMD-SHELL', o.healthCmd];
    if (o.healthInterval) healthcheck.Interval = o.healthInterval;
    if (o.healthTimeout) healthcheck.Timeout = o.healthTimeout;
    if (o.healthStartPeriod) healthcheck.StartPeriod = o.healthStartPeriod;
    if (o.healthStartInterval) healthcheck.StartInterval = o.healthStartInterval;
    if (o.healthRetries) healthcheck.Retries = o.healthRetries;
  }

  const logOpts: Record<string, string> = {};
  for (const l of o.logOpt as string[]) { const i = l.indexOf('='); logOpts[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }
  if (o.logDriver === 'none' && (o.logOpt as string[]).length) throw new Error(`invalid logging opts for driver ${o.logDriver}`);

  const storageOpt: Record<string, string> = {};
  for (const s of o.storageOpt as string[]) {
    const i = s.indexOf('=');
    if (i < 0) throw new Error('invalid storage option');
    storageOpt[s.slice(0, i)] = s.slice(i + 1);
  }
  const sysctls: Record<string, string> = {};
  for (const s of o.sysctl as string[]) { const i = s.indexOf('='); sysctls[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1); }
  const annotations: Record<string, string> = {};
  for (const s of o.annotation as string[]) { const i = s.indexOf('='); annotations[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1); }

  const devices = (o.device as string[]).map((d) => {
    const parts = d.split(':');
    const src = parts[0];
    let dst = '';
    let perms = 'rwm';
    if (parts.length > 3) throw new Error(`invalid device specification: ${d}`);
    if (parts.length >= 2) { if (/^[rwm]{1,3}$/.test(parts[1])) perms = parts[1]; else dst = parts[1]; }
    if (parts.length === 3) perms = parts[2];
    return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
  });

  const mounts = (o.mount as string[]).map((m) => parseMount(m, cwd));

  const securityOpts: string[] = [];
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  for (const s of o.securityOpt as string[]) {
    if (s === 'systempaths=unconfined') { maskedPaths = []; readonlyPaths = []; continue; }
    let i = s.indexOf('=');
    if (i < 0 && s !== 'no-new-privileges') i = s.indexOf(':');
    if ((i < 0 || s.slice(i + 1) === '') && s !== 'no-new-privileges') throw new Error(`invalid --security-opt: "${s}"`);
    securityOpts.push(s);
  }

  // networks
  const nets = (o.network as string[]).map(parseNetworkOpt);
  // Like docker: without --network, --ip and friends apply to the "default" attachment (so the
  // daemon can refuse them there) rather than being dropped.
  const networkMode = nets.length ? nets[0].Target : 'default';
  if (!nets.length && (o.ip || o.ip6 || o.macAddress)) nets.push({ Target: 'default', Aliases: [] });
  const isUserDefined = (n: string) => !['default', 'bridge', 'host', 'none'].includes(n) && !n.startsWith('container:');
  const endpoints: Record<string, any> = {};
  const aliases: string[] = o.networkAlias ?? [];
  nets.forEach((n, i) => {
    const ep: Record<string, any> = {};
    let epAliases = [...n.Aliases];
    let ipv4 = n.IPv4Address; let ipv6 = n.IPv6Address;
    if (i === 0) {
      if (aliases.length) epAliases = [...aliases];
      if (o.ip) ipv4 = o.ip;
      if (o.ip6) ipv6 = o.ip6;
      if (isUserDefined(n.Target) && (o.link as string[]).length) ep.Links = [...o.link];
    }
    if (epAliases.length && !isUserDefined(n.Target)) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (epAliases.length) ep.Aliases = epAliases;
    if (ipv4 || ipv6) ep.IPAMConfig = { ...(ipv4 ? { IPv4Address: ipv4 } : {}), ...(ipv6 ? { IPv6Address: ipv6 } : {}) };
    if (n.DriverOpts) ep.DriverOpts = n.DriverOpts;
    if (i === 0 && o.macAddress) ep.MacAddress = o.macAddress;
    if (endpoints[n.Target]) throw new Error(`network "${n.Target}" is specified multiple times`);
    if (i === 0 && nets.length === 1 && Object.keys(ep).length === 0) return;
    endpoints[n.Target] = ep;
  });
  if (nets.length === 0 && (aliases.length || o.ip || o.ip6)) {
    if (aliases.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
  }
  if (nets.some((n) => isUserDefined(n.Target)) && nets.some((n) => !isUserDefined(n.Target))) {
    throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  }

  const config: Record<string, any> = {
    Hostname: o.hostname ?? '',
    Domainname: o.domainname ?? '',
    User: o.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: exposedPorts,
    Tty: !!o.tty,
    OpenStdin: !!o.interactive,
    StdinOnce: false,
    Env: envVars,
    Cmd: cmd.length ? cmd : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: o.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
  };
  if (healthcheck) config.Healthcheck = healthcheck;
  if (o.stopSignal) config.StopSignal = o.stopSignal;
  if (o._changed.has('stop-timeout')) config.StopTimeout = o.stopTimeout;
  if (config.OpenStdin && config.AttachStdin) config.StdinOnce = true;

  const hostConfig: Record<string, any> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: o.cidfile ?? '',
    LogConfig: { Type: o.logDriver ?? '', Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: ports.bindings,
    RestartPolicy: restart,
    AutoRemove: !!o.rm,
    VolumeDriver: o.volumeDriver ?? '',
    VolumesFrom: (o.volumesFrom as string[]).length ? o.volumesFrom : null,
    ConsoleSize: [0, 0],
    CapAdd: (o.capAdd as string[]).length ? o.capAdd : null,
    CapDrop: (o.capDrop as string[]).length ? o.capDrop : null,
    CgroupnsMode: o.cgroupns ?? '',
    Dns: o.dns,
    DnsOptions: o.dnsOption,
    DnsSearch: o.dnsSearch,
    ExtraHosts: (o.addHost as string[]).length ? o.addHost : null,
    GroupAdd: (o.groupAdd as string[]).length ? o.groupAdd : null,
    IpcMode: o.ipc ?? '',
    Cgroup: '',
    Links: (o.link as string[]).length && !isUserDefined(networkMode) ? o.link : null,
    OomScoreAdj: o.oomScoreAdj ?? 0,
    PidMode: o.pid ?? '',
    Privileged: !!o.privileged,
    PublishAllPorts: !!o.publishAll,
    ReadonlyRootfs: !!o.readOnly,
    SecurityOpt: securityOpts.length ? securityOpts : null,
    UTSMode: o.uts ?? '',
    UsernsMode: o.userns ?? '',
    ShmSize: o.shmSize ?? 0,
    Isolation: o.isolation ?? '',
    CpuShares: o.cpuShares ?? 0,
    Memory: o.memory ?? 0,
    NanoCpus: o.cpus ?? 0,
    CgroupParent: o.cgroupParent ?? '',
    BlkioWeight: o.blkioWeight ?? 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: o.cpuPeriod ?? 0,
    CpuQuota: o.cpuQuota ?? 0,
    CpuRealtimePeriod: o.cpuRtPeriod ?? 0,
    CpuRealtimeRuntime: o.cpuRtRuntime ?? 0,
    CpusetCpus: o.cpusetCpus ?? '',
    CpusetMems: o.cpusetMems ?? '',
    Devices: devices,
    DeviceCgroupRules: (o.deviceCgroupRule as string[]).length ? o.deviceCgroupRule : null,
    DeviceRequests: null,
    MemoryReservation: o.memoryReservation ?? 0,
    MemorySwap: o.memorySwap ?? 0,
    MemorySwappiness: swappiness,
    OomKillDisable: !!o.oomKillDisable,
    PidsLimit: o.pidsLimit ?? 0,
    Ulimits: (o.ulimit as unknown[]).length ? o.ulimit : null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: maskedPaths,
    ReadonlyPaths: readonlyPaths,
  };
  if (Object.keys(tmpfs).length) hostConfig.Tmpfs = tmpfs;
  if (mounts.length) hostConfig.Mounts = mounts;
  if (Object.keys(storageOpt).length) hostConfig.StorageOpt = storageOpt;
  if (Object.keys(sysctls).length) hostConfig.Sysctls = sysctls;
  if (Object.keys(annotations).length) hostConfig.Annotations = annotations;
  if (o.runtime) hostConfig.Runtime = o.runtime;
  if (o._changed.has('init')) hostConfig.Init = !!o.init;

  if (o.rm && !restartNone) throw new Error('conflicting options: cannot specify both --restart and --rm');

  return {
    name: o.name ?? '',
    body: { ...config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } },
    attach: { stdin: attachStdin, stdout: attachStdout, stderr: attachStderr },
    autoRemove: !!o.rm,
    cidfile: o.cidfile ?? '',
  };
}
