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
}

// daemon.json keys we honour, mapped to our option names.
const FILE_KEYS: Record<string, keyof DaemonConfig> = {
  'data-root': 'dataRoot', 'exec-root': 'execRoot', hosts: 'hosts', pidfile: 'pidfile', 'log-level': 'logLevel',
  debug: 'debug', 'cgroup-parent': 'cgroupParent',
};

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
  };
}
