import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  pidfile: string;
  logLevel: string;
  debug: boolean;
  cgroupParent: string;
  runc: string;
  conmon: string;
  configFile?: string;
  /** default bridge address, e.g. 10.5.0.1/24 */
  bip?: string;
  defaultAddressPools?: { base: string; size: number }[];
  /** upstream resolvers for the embedded DNS and the default bridge */
  dns: string[];
  mtu?: number;
  /** TLS on the tcp:// listeners (--tls; implied by --tlsverify, even --tlsverify=false) */
  tls: boolean;
  /** require client certificates signed by tlsCaCert (mutual TLS) */
  tlsVerify: boolean;
  tlsCaCert: string;
  tlsCert: string;
  tlsKey: string;
}

export const DEFAULT_UNIX_HOST = 'unix:///run/shoal/shoal.sock';
// dockerd's default when TLS is on and no -H is given (opts.DefaultTLSHost)
export const DEFAULT_TLS_HOST = 'tcp://localhost:2376';

// daemon.json keys we honour, mapped to our option names.
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  'data-root': 'dataRoot', 'exec-root': 'execRoot', hosts: 'hosts', pidfile: 'pidfile', 'log-level': 'logLevel',
  debug: 'debug', 'cgroup-parent': 'cgroupParent', bip: 'bip', 'default-address-pools': 'defaultAddressPools', dns: 'dns', mtu: 'mtu',
  tls: 'tls', tlsverify: 'tlsVerify', tlscacert: 'tlsCaCert', tlscert: 'tlsCert', tlskey: 'tlsKey',
};
const BOOL_FILE_KEYS = new Set(['tls', 'tlsverify']);
const STRING_FILE_KEYS = new Set(['tlscacert', 'tlscert', 'tlskey']);

/** A bool flag's optional value, as Go's strconv.ParseBool reads it (--tlsverify=false). */
export function parseBoolFlag(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new InvalidArgumentError(`strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/**
 * Where dockerd looks for ca.pem, cert.pem and key.pem by default: $DOCKER_CERT_PATH, else the
 * client config dir ($DOCKER_CONFIG or ~/.docker).
 */
export function defaultCertDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** --default-address-pool base=10.10.0.0/16,size=24 */
export function parseAddressPool(v: string): { base: string; size: number } {
  const kv = Object.fromEntries(v.split(',').map((p) => p.split('=').map((x) => x.trim())));
  const size = Number(kv.size);
  if (!kv.base || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(kv.base) || !Number.isInteger(size) || size < 1 || size > 32) {
    throw new Error(`invalid default address pool: ${v} (want base=CIDR,size=N)`);
  }
  return { base: kv.base, size };
}

export function parseDaemonArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const certDir = defaultCertDir(env);
  const cmd = new Command('shoald')
    .description('shoal engine daemon')
    .option('--data-root <dir>', 'root directory of persistent state')
    .option('--exec-root <dir>', 'root directory for execution state files')
    .option('-H, --host <addr>', 'daemon socket(s) to listen on (unix://PATH or tcp://HOST:PORT)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-p, --pidfile <file>', 'path to use for the daemon PID file')
    .option('-D, --debug', 'enable debug mode')
    .option('-l, --log-level <level>', 'set the logging level (debug, info, warn, error, fatal)')
    .option('--config-file <file>', 'daemon configuration file (JSON, daemon.json keys)')
    .option('--cgroup-parent <name>', 'parent cgroup for all containers')
    .option('--runtime <path>', 'OCI runtime binary', 'runc')
    .option('--conmon <path>', 'conmon binary', 'conmon')
    .option('--bip <cidr>', 'IPv4 address (with prefix) of the default bridge')
    .option('--default-address-pool <pool>', 'default address pool for networks: base=CIDR,size=N', (v: string, prev: { base: string; size: number }[] = []) => [...prev, parseAddressPool(v)])
    .option('--dns <ip>', 'DNS server for containers (upstream of the embedded DNS)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--mtu <n>', 'MTU of container networks', (v: string) => Number(v))
    .option('--tls [bool]', 'Use TLS; implied by --tlsverify', parseBoolFlag)
    .option('--tlsverify [bool]', 'Use TLS and verify the remote (require client certificates signed by --tlscacert)', parseBoolFlag)
    .option('--tlscacert <file>', `Trust certs signed only by this CA (default "${path.join(certDir, 'ca.pem')}")`)
    .option('--tlscert <file>', `Path to TLS certificate file (default "${path.join(certDir, 'cert.pem')}")`)
    .option('--tlskey <file>', `Path to TLS key file (default "${path.join(certDir, 'key.pem')}")`)
    .version('shoald 0.1.0', '-v, --version')
    .allowExcessArguments(false);
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts();
  let file: Partial<DaemonConfig> = {};
  const configFile = o.configFile as string | undefined;
  if (configFile) {
    let raw: any;
    try { raw = JSON.parse(readFileSync(configFile, 'utf8')); } catch (e) {
      throw new Error(`unable to configure the daemon with file ${configFile}: ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(raw ?? {})) {
      const key = FILE_KEYS[k];
      if (!key) continue;
      if (BOOL_FILE_KEYS.has(k) && typeof v !== 'boolean') throw new Error(`unable to configure the daemon with file ${configFile}: ${k} must be a boolean`);
      if (STRING_FILE_KEYS.has(k) && typeof v !== 'string') throw new Error(`unable to configure the daemon with file ${configFile}: ${k} must be a string`);
      (file as any)[key] = v;
    }
  }
  const dataRoot = o.dataRoot ?? file.dataRoot ?? '/var/lib/shoal';
  const execRoot = o.execRoot ?? file.execRoot ?? '/run/shoal';
  const debug = !!(o.debug ?? file.debug);
  // Like dockerd: naming tlsverify at all, true or false, turns TLS on.
  const verify = (o.tlsverify as boolean | undefined) ?? file.tlsVerify;
  const tls = verify !== undefined ? true : !!((o.tls as boolean | undefined) ?? file.tls);
  return {
    dataRoot, execRoot,
    hosts: o.host?.length ? o.host : file.hosts?.length ? file.hosts : [tls ? DEFAULT_TLS_HOST : DEFAULT_UNIX_HOST],
    pidfile: o.pidfile ?? file.pidfile ?? `${execRoot}/shoald.pid`,
    logLevel: o.logLevel ?? file.logLevel ?? (debug ? 'debug' : 'info'),
    debug,
    cgroupParent: (o.cgroupParent ?? file.cgroupParent ?? 'shoal').replace(/^\/+|\/+$/g, ''),
    runc: o.runtime, conmon: o.conmon, configFile,
    bip: o.bip ?? file.bip,
    defaultAddressPools: o.defaultAddressPool ?? file.defaultAddressPools,
    dns: o.dns ?? file.dns ?? [],
    mtu: o.mtu ?? file.mtu,
    tls, tlsVerify: verify ?? false,
    tlsCaCert: o.tlscacert ?? file.tlsCaCert ?? path.join(certDir, 'ca.pem'),
    tlsCert: o.tlscert ?? file.tlsCert ?? path.join(certDir, 'cert.pem'),
    tlsKey: o.tlskey ?? file.tlsKey ?? path.join(certDir, 'key.pem'),
  };
}
