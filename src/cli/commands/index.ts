// The command tree: top-level commands and the container/image/system management commands.
import type { CmdDef } from '../command.js';
import { attachCmd, startCmd } from './container-attach.js';
import { cpCmd } from './container-cp.js';
import { execCmd } from './container-exec.js';
import { killCmd, pauseCmd, renameCmd, restartCmd, rmCmd, stopCmd, unpauseCmd, waitCmd } from './container-lifecycle.js';
import { logsCmd } from './container-logs.js';
import { commitCmd, diffCmd, exportCmd, portCmd, topCmd } from './container-misc.js';
import { psCmd } from './container-ps.js';
import { nodeDemoteCmd, nodeInspectCmd, nodeLsCmd, nodePromoteCmd, nodeRmCmd, nodeUpdateCmd } from './node.js';
import { nodePsCmd, serviceCreateCmd, serviceInspectCmd, serviceLsCmd, servicePsCmd, serviceRmCmd, serviceRollbackCmd, serviceScaleCmd, serviceUpdateCmd } from './service.js';
import { serviceLogsCmd } from './service-logs.js';
import { swarmCaCmd, swarmInitCmd, swarmJoinCmd, swarmJoinTokenCmd, swarmLeaveCmd, swarmUnlockCmd, swarmUnlockKeyCmd, swarmUpdateCmd } from './swarm.js';
import { networkConnectCmd, networkCreateCmd, networkDisconnectCmd, networkInspectCmd, networkLsCmd, networkPruneCmd, networkRmCmd } from './network.js';
import { createCmd, runCmd } from './container-run.js';
import { statsCmd } from './container-stats.js';
import { historyCmd } from './image-history.js';
import { importCmd, loadCmd, pullCmd, saveCmd } from './image-io.js';
import { imagesCmd } from './image-list.js';
import { imagePruneCmd, rmiCmd, tagCmd } from './image-misc.js';
import { containerInspectCmd, imageInspectCmd, inspectCmd } from './inspect.js';
import { containerPruneCmd, systemPruneCmd } from './prune.js';
import { dfCmd } from './system-df.js';
import { eventsCmd } from './system-events.js';
import { infoCmd } from './system-info.js';
import { versionCmd } from './system-version.js';
import { volumeCreateCmd, volumeInspectCmd, volumeLsCmd, volumePruneCmd, volumeRmCmd } from './volume.js';

export interface Entry {
  def: CmdDef;
  /** Name as invoked under its parent (docker's cmd.Name()). */
  name: string;
  aliases: string[];
}

export interface Group {
  name: string;
  short: string;
  entries: Entry[];
}

const e = (def: CmdDef, name = def.name, aliases: string[] = []): Entry => ({ def, name, aliases });

export const TOP_LEVEL: Entry[] = [
  e(attachCmd), e(commitCmd), e(cpCmd), e(createCmd), e(diffCmd), e(eventsCmd), e(execCmd), e(exportCmd),
  e(historyCmd), e(imagesCmd), e(importCmd), e(infoCmd), e(inspectCmd), e(killCmd), e(loadCmd), e(logsCmd),
  e(pauseCmd), e(portCmd), e(psCmd), e(pullCmd), e(renameCmd), e(restartCmd), e(rmCmd), e(rmiCmd), e(runCmd),
  e(saveCmd), e(startCmd), e(statsCmd), e(stopCmd), e(tagCmd), e(topCmd), e(unpauseCmd), e(versionCmd), e(waitCmd),
];

export const GROUPS: Group[] = [
  {
    name: 'container',
    short: 'Manage containers',
    entries: [
      e(attachCmd), e(commitCmd), e(cpCmd), e(createCmd), e(diffCmd), e(execCmd), e(exportCmd),
      e(containerInspectCmd), e(killCmd), e(logsCmd), e(psCmd, 'ls', ['list', 'ps']), e(pauseCmd), e(portCmd),
      e(containerPruneCmd), e(renameCmd), e(restartCmd), e(rmCmd, 'rm', ['remove']), e(runCmd), e(startCmd),
      e(statsCmd), e(stopCmd), e(topCmd), e(unpauseCmd), e(waitCmd),
    ],
  },
  {
    name: 'image',
    short: 'Manage images',
    entries: [
      e(historyCmd), e(importCmd), e(imageInspectCmd), e(loadCmd), e(imagesCmd, 'ls', ['list']), e(imagePruneCmd),
      e(pullCmd), e(rmiCmd, 'rm', ['remove']), e(saveCmd), e(tagCmd),
    ],
  },
  {
    name: 'network',
    short: 'Manage networks',
    entries: [
      e(networkConnectCmd), e(networkCreateCmd), e(networkDisconnectCmd), e(networkInspectCmd),
      e(networkLsCmd, 'ls', ['list']), e(networkPruneCmd), e(networkRmCmd, 'rm', ['remove']),
    ],
  },
  {
    name: 'node',
    short: 'Manage Swarm nodes',
    entries: [
      e(nodeDemoteCmd), e(nodeInspectCmd), e(nodeLsCmd, 'ls', ['list']), e(nodePromoteCmd), e(nodePsCmd), e(nodeRmCmd, 'rm', ['remove']), e(nodeUpdateCmd),
    ],
  },
  {
    name: 'service',
    short: 'Manage Swarm services',
    entries: [
      e(serviceCreateCmd), e(serviceInspectCmd), e(serviceLogsCmd), e(serviceLsCmd, 'ls', ['list']), e(servicePsCmd), e(serviceRmCmd, 'rm', ['remove']), e(serviceRollbackCmd), e(serviceScaleCmd), e(serviceUpdateCmd),
    ],
  },
  {
    name: 'swarm',
    short: 'Manage Swarm',
    entries: [
      e(swarmCaCmd), e(swarmInitCmd), e(swarmJoinCmd), e(swarmJoinTokenCmd), e(swarmLeaveCmd), e(swarmUnlockCmd), e(swarmUnlockKeyCmd), e(swarmUpdateCmd),
    ],
  },
  {
    name: 'system',
    short: 'Manage Shoal',
    entries: [e(dfCmd), e(eventsCmd), e(infoCmd), e(systemPruneCmd)],
  },
  {
    name: 'volume',
    short: 'Manage volumes',
    entries: [
      e(volumeCreateCmd), e(volumeInspectCmd), e(volumeLsCmd, 'ls', ['list']), e(volumePruneCmd), e(volumeRmCmd, 'rm', ['remove']),
    ],
  },
];

export function findEntry(entries: Entry[], name: string): Entry | undefined {
  return entries.find((x) => x.name === name) ?? entries.find((x) => x.aliases.includes(name));
}

/** docker's "Aliases:" line, e.g. "shoal container ls, shoal container list, shoal container ps, shoal ps". */
export function aliasesOf(bin: string, def: CmdDef): string[] {
  const out: string[] = [];
  for (const g of GROUPS) {
    for (const x of g.entries) if (x.def === def) out.push(`${bin} ${g.name} ${x.name}`, ...x.aliases.map((a) => `${bin} ${g.name} ${a}`));
  }
  for (const x of TOP_LEVEL) if (x.def === def) out.push(`${bin} ${x.name}`);
  return out;
}
