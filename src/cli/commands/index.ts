// The command tree: top-level commands and the container/image/system management commands.
// Definitions load on demand: importing every command module costs each CLI start tens of ms.
import type { CmdDef } from '../command.js';

const containerAttach = () => import('./container-attach.js');
const containerCp = () => import('./container-cp.js');
const containerExec = () => import('./container-exec.js');
const containerLifecycle = () => import('./container-lifecycle.js');
const containerLogs = () => import('./container-logs.js');
const containerMisc = () => import('./container-misc.js');
const containerPs = () => import('./container-ps.js');
const containerRun = () => import('./container-run.js');
const containerStats = () => import('./container-stats.js');
const imageHistory = () => import('./image-history.js');
const imageIo = () => import('./image-io.js');
const imageList = () => import('./image-list.js');
const imageMisc = () => import('./image-misc.js');
const inspect = () => import('./inspect.js');
const network = () => import('./network.js');
const node = () => import('./node.js');
const prune = () => import('./prune.js');
const service = () => import('./service.js');
const serviceLogs = () => import('./service-logs.js');
const swarm = () => import('./swarm.js');
const systemDf = () => import('./system-df.js');
const systemEvents = () => import('./system-events.js');
const systemInfo = () => import('./system-info.js');
const systemVersion = () => import('./system-version.js');
const volume = () => import('./volume.js');

export interface Entry {
  /** The definition's export name: identifies a command listed in several places (aliasesOf). */
  key: string;
  load: () => Promise<CmdDef>;
  /** Name as invoked under its parent (docker's cmd.Name()). */
  name: string;
  aliases: string[];
}

export interface Group {
  name: string;
  short: string;
  entries: Entry[];
}

const e = <K extends string>(name: string, mod: () => Promise<Record<K, CmdDef>>, key: K, aliases: string[] = []): Entry =>
  ({ key, load: () => mod().then((m) => m[key]), name, aliases });

export const TOP_LEVEL: Entry[] = [
  e('attach', containerAttach, 'attachCmd'), e('commit', containerMisc, 'commitCmd'), e('cp', containerCp, 'cpCmd'),
  e('create', containerRun, 'createCmd'), e('diff', containerMisc, 'diffCmd'),
  e('events', systemEvents, 'eventsCmd'), e('exec', containerExec, 'execCmd'),
  e('export', containerMisc, 'exportCmd'), e('history', imageHistory, 'historyCmd'),
  e('images', imageList, 'imagesCmd'), e('import', imageIo, 'importCmd'), e('info', systemInfo, 'infoCmd'),
  e('inspect', inspect, 'inspectCmd'), e('kill', containerLifecycle, 'killCmd'), e('load', imageIo, 'loadCmd'),
  e('logs', containerLogs, 'logsCmd'), e('pause', containerLifecycle, 'pauseCmd'),
  e('port', containerMisc, 'portCmd'), e('ps', containerPs, 'psCmd'), e('pull', imageIo, 'pullCmd'),
  e('rename', containerLifecycle, 'renameCmd'), e('restart', containerLifecycle, 'restartCmd'),
  e('rm', containerLifecycle, 'rmCmd'), e('rmi', imageMisc, 'rmiCmd'), e('run', containerRun, 'runCmd'),
  e('save', imageIo, 'saveCmd'), e('start', containerAttach, 'startCmd'), e('stats', containerStats, 'statsCmd'),
  e('stop', containerLifecycle, 'stopCmd'), e('tag', imageMisc, 'tagCmd'), e('top', containerMisc, 'topCmd'),
  e('unpause', containerLifecycle, 'unpauseCmd'), e('version', systemVersion, 'versionCmd'),
  e('wait', containerLifecycle, 'waitCmd'),
];

export const GROUPS: Group[] = [
  {
    name: 'container',
    short: 'Manage containers',
    entries: [
      e('attach', containerAttach, 'attachCmd'), e('commit', containerMisc, 'commitCmd'),
      e('cp', containerCp, 'cpCmd'), e('create', containerRun, 'createCmd'), e('diff', containerMisc, 'diffCmd'),
      e('exec', containerExec, 'execCmd'), e('export', containerMisc, 'exportCmd'),
      e('inspect', inspect, 'containerInspectCmd'), e('kill', containerLifecycle, 'killCmd'),
      e('logs', containerLogs, 'logsCmd'), e('ls', containerPs, 'psCmd', ['list', 'ps']),
      e('pause', containerLifecycle, 'pauseCmd'), e('port', containerMisc, 'portCmd'),
      e('prune', prune, 'containerPruneCmd'), e('rename', containerLifecycle, 'renameCmd'),
      e('restart', containerLifecycle, 'restartCmd'), e('rm', containerLifecycle, 'rmCmd', ['remove']),
      e('run', containerRun, 'runCmd'), e('start', containerAttach, 'startCmd'),
      e('stats', containerStats, 'statsCmd'), e('stop', containerLifecycle, 'stopCmd'),
      e('top', containerMisc, 'topCmd'), e('unpause', containerLifecycle, 'unpauseCmd'),
      e('wait', containerLifecycle, 'waitCmd'),
    ],
  },
  {
    name: 'image',
    short: 'Manage images',
    entries: [
      e('history', imageHistory, 'historyCmd'), e('import', imageIo, 'importCmd'),
      e('inspect', inspect, 'imageInspectCmd'), e('load', imageIo, 'loadCmd'),
      e('ls', imageList, 'imagesCmd', ['list']), e('prune', imageMisc, 'imagePruneCmd'),
      e('pull', imageIo, 'pullCmd'), e('rm', imageMisc, 'rmiCmd', ['remove']), e('save', imageIo, 'saveCmd'),
      e('tag', imageMisc, 'tagCmd'),
    ],
  },
  {
    name: 'network',
    short: 'Manage networks',
    entries: [
      e('connect', network, 'networkConnectCmd'), e('create', network, 'networkCreateCmd'),
      e('disconnect', network, 'networkDisconnectCmd'), e('inspect', network, 'networkInspectCmd'),
      e('ls', network, 'networkLsCmd', ['list']), e('prune', network, 'networkPruneCmd'),
      e('rm', network, 'networkRmCmd', ['remove']),
    ],
  },
  {
    name: 'node',
    short: 'Manage Swarm nodes',
    entries: [
      e('demote', node, 'nodeDemoteCmd'), e('inspect', node, 'nodeInspectCmd'), e('ls', node, 'nodeLsCmd', ['list']),
      e('promote', node, 'nodePromoteCmd'), e('ps', service, 'nodePsCmd'), e('rm', node, 'nodeRmCmd', ['remove']),
      e('update', node, 'nodeUpdateCmd'),
    ],
  },
  {
    name: 'service',
    short: 'Manage Swarm services',
    entries: [
      e('create', service, 'serviceCreateCmd'), e('inspect', service, 'serviceInspectCmd'),
      e('logs', serviceLogs, 'serviceLogsCmd'), e('ls', service, 'serviceLsCmd', ['list']),
      e('ps', service, 'servicePsCmd'), e('rm', service, 'serviceRmCmd', ['remove']),
      e('rollback', service, 'serviceRollbackCmd'), e('scale', service, 'serviceScaleCmd'),
      e('update', service, 'serviceUpdateCmd'),
    ],
  },
  {
    name: 'swarm',
    short: 'Manage Swarm',
    entries: [
      e('ca', swarm, 'swarmCaCmd'), e('init', swarm, 'swarmInitCmd'), e('join', swarm, 'swarmJoinCmd'),
      e('join-token', swarm, 'swarmJoinTokenCmd'), e('leave', swarm, 'swarmLeaveCmd'),
      e('unlock', swarm, 'swarmUnlockCmd'), e('unlock-key', swarm, 'swarmUnlockKeyCmd'),
      e('update', swarm, 'swarmUpdateCmd'),
    ],
  },
  {
    name: 'system',
    short: 'Manage Shoal',
    entries: [
      e('df', systemDf, 'dfCmd'), e('events', systemEvents, 'eventsCmd'), e('info', systemInfo, 'infoCmd'),
      e('prune', prune, 'systemPruneCmd'),
    ],
  },
  {
    name: 'volume',
    short: 'Manage volumes',
    entries: [
      e('create', volume, 'volumeCreateCmd'), e('inspect', volume, 'volumeInspectCmd'),
      e('ls', volume, 'volumeLsCmd', ['list']), e('prune', volume, 'volumePruneCmd'),
      e('rm', volume, 'volumeRmCmd', ['remove']),
    ],
  },
];

export function findEntry(entries: Entry[], name: string): Entry | undefined {
  return entries.find((x) => x.name === name) ?? entries.find((x) => x.aliases.includes(name));
}

/** docker's "Aliases:" line, e.g. "shoal container ls, shoal container list, shoal container ps, shoal ps". */
export function aliasesOf(bin: string, key: string): string[] {
  const out: string[] = [];
  for (const g of GROUPS) {
    for (const x of g.entries) if (x.key === key) out.push(`${bin} ${g.name} ${x.name}`, ...x.aliases.map((a) => `${bin} ${g.name} ${a}`));
  }
  for (const x of TOP_LEVEL) if (x.key === key) out.push(`${bin} ${x.name}`);
  return out;
}
