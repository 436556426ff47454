import { readFileSync } from 'node:fs';
import { Command } from 'commander';

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
}

// daemon.json keys we honour, mapped to our option names.
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  'data-root': 'dataRoot', 'exec-root': 'execRoot', hosts: 'hosts', pidfile: 'pidfile', 'log-level': 'logLevel',
  debug: 'debug', 'cgroup-parent': 'cgroupParent', bip: 'bip', 'default-address-pools': 'defaultAddressPools', dns: 'dns', mtu: 'mtu',
};

/** --default-address-pool base=10.10.0.0/16,size=24 */
export function parseAddressPool(v: string): { base: string; size: number } {
  const kv = Object.fromEntries(v.split(',').map((p) => p.split('=').map((x) => x.trim())));
  const size = Number(kv.size);
  if (!kv.base || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(kv.base) || !Number.isInteger(size) || size < 1 || size > 32) {
    throw new Error(`invalid default address pool: ${v} (want base=CIDR,size=N)`);
  }
  return { base: kv.base, size };
}

export function parseDaemonArgs(argv: string[]): DaemonConfig {
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
      if (key) (file as any)[key] = v;
    }
  }
  const dataRoot = o.dataRoot ?? file.dataRoot ?? '/var/lib/shoal';
  const execRoot = o.execRoot ?? file.execRoot ?? '/run/shoal';
  const debug = !!(o.debug ?? file.debug);
  return {
    dataRoot, execRoot,
    hosts: o.host?.length ? o.host : file.hosts?.length ? file.hosts : ['unix:///run/shoal/shoal.sock'],
    pidfile: o.pidfile ?? file.pidfile ?? `${execRoot}/shoald.pid`,
    logLevel: o.logLevel ?? file.logLevel ?? (debug ? 'debug' : 'info'),
    debug,
    cgroupParent: (o.cgroupParent ?? file.cgroupParent ?? 'shoal').replace(/^\/+|\/+$/g, ''),
    runc: o.runtime, conmon: o.conmon, configFile,
    bip: o.bip ?? file.bip,
    defaultAddressPools: o.defaultAddressPool ?? file.defaultAddressPools,
    dns: o.dns ?? file.dns ?? [],
    mtu: o.mtu ?? file.mtu,
  };
}
