// shoal network create / ls / inspect / rm / connect / disconnect / prune
import type { CmdDef } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { errorMessage, StatusError } from '../errors.js';
import { renderList } from '../fmt.js';
import { confirm } from '../util.js';
import { inspectRefs } from './inspect.js';
import { enc } from './shared.js';

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf('=');
    if (i === 0) throw new Error(`invalid ${what} format: ${kv}`);
    if (i < 0) out[kv] = ''; else out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export const networkCreateCmd: CmdDef = {
  name: 'create',
  usage: '[OPTIONS] NETWORK',
  short: 'Create a network',
  args: { min: 1, max: 1 },
  options: [
    { long: 'attachable', kind: 'bool', desc: 'Enable manual container attachment' },
    { long: 'aux-address', kind: 'list', type: 'map', desc: 'Auxiliary IPv4 or IPv6 addresses used by Network driver' },
    { long: 'driver', short: 'd', kind: 'string', desc: 'Driver to manage the Network', def: 'bridge' },
    { long: 'gateway', kind: 'list', type: 'strings', desc: 'IPv4 or IPv6 Gateway for the master subnet' },
    { long: 'internal', kind: 'bool', desc: 'Restrict external access to the network' },
    { long: 'ip-range', kind: 'list', type: 'strings', desc: 'Allocate container ip from a sub-range' },
    { long: 'ipam-driver', kind: 'string', desc: 'IP Address Management Driver', def: 'default' },
    { long: 'ipam-opt', kind: 'list', type: 'map', desc: 'Set IPAM driver specific options' },
    { long: 'ipv6', kind: 'bool', desc: 'Enable IPv6 networking' },
    { long: 'label', kind: 'list', desc: 'Set metadata on a network' },
    { long: 'opt', short: 'o', kind: 'list', type: 'map', desc: 'Set driver specific options' },
    { long: 'scope', kind: 'string', desc: "Control the network's scope" },
    { long: 'subnet', kind: 'list', type: 'strings', desc: 'Subnet in CIDR format that represents a network segment' },
  ],
  async run(ctx, args, o) {
    const subnets: string[] = o.subnet ?? [];
    const gateways: string[] = o.gateway ?? [];
    const ranges: string[] = o.ipRange ?? [];
    if (gateways.length > subnets.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
    if (ranges.length > subnets.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
    const config = subnets.map((s, i) => ({ Subnet: s, Gateway: gateways[i] || undefined, IPRange: ranges[i] || undefined, AuxiliaryAddresses: undefined }));
    const body = {
      Name: args[0], CheckDuplicate: true, Driver: o.driver || 'bridge', Options: keyValues(o.opt, 'option'),
      IPAM: { Driver: o.ipamDriver || 'default', Config: config, Options: keyValues(o.ipamOpt, 'ipam option') },
      Internal: !!o.internal, EnableIPv6: !!o.ipv6, Attachable: !!o.attachable, Scope: o.scope || undefined,
      Labels: keyValues(o.label, 'label'),
    };
    const res = await ctx.client().post<{ Id: string; Warning?: string }>('/networks/create', undefined, body);
    if (res.Warning) ctx.err(`${res.Warning}\n`);
    ctx.out(`${res.Id}\n`);
    return 0;
  },
};

const NETWORK_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

export const networkLsCmd: CmdDef = {
  name: 'ls',
  aliases: ['list'],
  usage: '[OPTIONS]',
  short: 'List networks',
  args: { max: 0 },
  options: [
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "driver=bridge")' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'no-trunc', kind: 'bool', desc: 'Do not truncate the output' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display network IDs' },
  ],
  async run(ctx, _args, o) {
    const nets: any[] = await ctx.client().get('/networks', { filters: filtersJson(parseFilters(o.filter)) });
    nets.sort((a, b) => a.Name.localeCompare(b.Name));
    const rows = nets.map((n) => ({
      ID: o.noTrunc ? n.Id : n.Id.slice(0, 12), Name: n.Name, Driver: n.Driver, Scope: n.Scope,
      IPv6: String(!!n.EnableIPv6), Internal: String(!!n.Internal), CreatedAt: n.Created,
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    }));
    const format = o.quiet && !o.format ? '{{.ID}}' : o.format || undefined;
    ctx.out(renderList(format, 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', rows, NETWORK_HEADERS));
    return 0;
  },
};

export const networkInspectCmd: CmdDef = {
  name: 'inspect',
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  short: 'Display detailed information on one or more networks',
  args: { min: 1 },
  options: [
    { long: 'format', short: 'f', kind: 'string', desc: 'Format the output using the given Go template' },
    { long: 'verbose', short: 'v', kind: 'bool', desc: 'Verbose output for diagnostics' },
  ],
  run: (ctx, args, o) => inspectRefs(ctx, args, o.format || undefined, async (ref) => JSON.stringify(await ctx.client().get(`/networks/${enc(ref)}`))),
};

export const networkRmCmd: CmdDef = {
  name: 'rm',
  aliases: ['remove'],
  usage: 'NETWORK [NETWORK...]',
  short: 'Remove one or more networks',
  args: { min: 1 },
  options: [{ long: 'force', short: 'f', kind: 'bool', desc: 'Do not error if the network does not exist' }],
  async run(ctx, args, o) {
    const errs: string[] = [];
    for (const n of args) {
      try {
        await ctx.client().delete(`/networks/${enc(n)}`);
        ctx.out(`${n}\n`);
      } catch (e) {
        if (o.force && /not found/.test(errorMessage(e))) continue;
        errs.push(errorMessage(e));
      }
    }
    if (errs.length) throw new StatusError(errs.join('\n'), 1);
    return 0;
  },
};

export const networkConnectCmd: CmdDef = {
  name: 'connect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  short: 'Connect a container to a network',
  args: { min: 2, max: 2 },
  options: [
    { long: 'alias', kind: 'list', type: 'strings', desc: 'Add network-scoped alias for the container' },
    { long: 'driver-opt', kind: 'list', type: 'strings', desc: 'driver options for the network' },
    { long: 'ip', kind: 'string', desc: 'IPv4 address (e.g., 172.30.100.104)' },
    { long: 'link', kind: 'list', desc: 'Add link to another container' },
  ],
  async run(ctx, args, o) {
    const [network, container] = args;
    const EndpointConfig = {
      IPAMConfig: o.ip ? { IPv4Address: o.ip } : undefined, Links: o.link?.length ? o.link : undefined,
      Aliases: o.alias?.length ? o.alias : undefined, DriverOpts: o.driverOpt?.length ? keyValues(o.driverOpt, 'driver-opt') : undefined,
    };
    await ctx.client().call('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig } });
    return 0;
  },
};

export const networkDisconnectCmd: CmdDef = {
  name: 'disconnect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  short: 'Disconnect a container from a network',
  args: { min: 2, max: 2 },
  options: [{ long: 'force', short: 'f', kind: 'bool', desc: 'Force the container to disconnect from a network' }],
  async run(ctx, args, o) {
    const [network, container] = args;
    await ctx.client().call('POST', `/networks/${enc(network)}/disconnect`, { body: { Container: container, Force: !!o.force } });
    return 0;
  },
};

const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

/** POST /networks/prune; docker's report text. */
export async function pruneNetworks(ctx: import('../command.js').Ctx, filterList: string[]): Promise<string> {
  const res = await ctx.client().post<{ NetworksDeleted?: string[] | null }>('/networks/prune', { filters: filtersJson(parseFilters(filterList)) });
  return res?.NetworksDeleted?.length ? `Deleted Networks:\n${res.NetworksDeleted.join('\n')}\n` : '';
}

export const networkPruneCmd: CmdDef = {
  name: 'prune',
  usage: '[OPTIONS]',
  short: 'Remove all unused networks',
  args: { max: 0 },
  options: [
    { long: 'filter', kind: 'list', type: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', kind: 'bool', desc: 'Do not prompt for confirmation' },
  ],
  async run(ctx, _args, o) {
    parseFilters(o.filter);
    if (!o.force && !(await confirm(ctx, PRUNE_WARNING))) return 0;
    const out = await pruneNetworks(ctx, o.filter);
    if (out) ctx.out(out + '\n');
    return 0;
  },
};


