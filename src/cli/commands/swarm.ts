// shoal swarm init / join / join-token / leave / update / unlock / unlock-key / ca
import type { CmdDef, Ctx } from '../command.js';
import { readLine } from '../util.js';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

/** docker's printJoinCommand: the join command for a role, with the manager's address. */
async function printJoinCommand(ctx: Ctx, nodeId: string, worker: boolean, manager: boolean): Promise<void> {
  const swarm = await ctx.client().get('/swarm');
  const node = await ctx.client().get(`/nodes/${encodeURIComponent(nodeId)}`);
  const addr = node.ManagerStatus?.Addr ?? '';
  if (worker) ctx.out(`To add a worker to this swarm, run the following command:\n\n    ${ctx.bin} swarm join --token ${swarm.JoinTokens.Worker} ${addr}\n\n`);
  if (manager) ctx.out(`To add a manager to this swarm, run the following command:\n\n    ${ctx.bin} swarm join --token ${swarm.JoinTokens.Manager} ${addr}\n\n`);
}

/** Asks the daemon for the unlock key and prints docker's instructions around it. */
async function printUnlockCommand(ctx: Ctx): Promise<void> {
  const key: string = (await ctx.client().get('/swarm/unlockkey')).UnlockKey;
  if (!key) return;
  ctx.out(`To unlock a swarm manager after it restarts, run the \`${ctx.bin} swarm unlock\`\ncommand and provide the following key:\n\n    ${key}\n\n` +
    'Please remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n');
}

function durationNs(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new Error(`invalid duration "${v}"`);
  const mult: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  return Math.round(Number(m[1]) * mult[m[2]]);
}

const specFlags = [
  { long: 'autolock', kind: 'bool' as const, desc: 'Enable manager autolocking (requiring an unlock key to start a stopped manager)' },
  { long: 'cert-expiry', kind: 'string' as const, type: 'duration', desc: 'Validity period for node certificates (ns|us|ms|s|m|h)', def: '2160h0m0s' },
  { long: 'dispatcher-heartbeat', kind: 'string' as const, type: 'duration', desc: 'Dispatcher heartbeat period (ns|us|ms|s|m|h)', def: '5s' },
  { long: 'task-history-limit', kind: 'int' as const, desc: 'Task history retention limit', def: 5 },
];

function swarmSpec(o: any, changedOnly: boolean): any {
  const ch = (k: string) => !changedOnly || o._changed.has(k);
  const spec: any = {};
  // _changed holds the flags' long names
  if (ch('cert-expiry') && o.certExpiry) spec.CAConfig = { NodeCertExpiry: durationNs(String(o.certExpiry).replace(/0m0s$/, '')) };
  if (ch('dispatcher-heartbeat') && o.dispatcherHeartbeat) spec.Dispatcher = { HeartbeatPeriod: durationNs(o.dispatcherHeartbeat) };
  if (ch('task-history-limit') && o.taskHistoryLimit !== undefined) spec.Orchestration = { TaskHistoryRetentionLimit: Number(o.taskHistoryLimit) };
  if (ch('autolock') && o.autolock !== undefined) spec.EncryptionConfig = { AutoLockManagers: !!o.autolock };
  return spec;
}

export const swarmInitCmd: CmdDef = {
  name: 'init',
  usage: '[OPTIONS]',
  short: 'Initialize a swarm',
  args: { max: 0 },
  options: [
    { long: 'advertise-addr', kind: 'string', desc: 'Advertised address (format: "<ip|interface>[:port]")' },
    { long: 'availability', kind: 'string', desc: 'Availability of the node ("active", "pause", "drain")', def: 'active' },
    { long: 'data-path-addr', kind: 'string', desc: 'Address or interface to use for data path traffic' },
    { long: 'data-path-port', kind: 'int', desc: 'Port number to use for data path traffic (1024 - 49151)' },
    { long: 'default-addr-pool', kind: 'list', desc: 'default address pool in CIDR format' },
    { long: 'default-addr-pool-mask-length', kind: 'int', desc: 'default address pool subnet mask length', def: 24 },
    { long: 'force-new-cluster', kind: 'bool', desc: 'Force create a new cluster from current state' },
    { long: 'listen-addr', kind: 'string', desc: 'Listen address (format: "<ip|interface>[:port]")', def: '0.0.0.0:2377' },
    ...specFlags,
  ],
  async run(ctx, _args, o) {
    const spec = swarmSpec(o, false);
    const body = {
      ListenAddr: o.listenAddr || '0.0.0.0:2377', AdvertiseAddr: o.advertiseAddr || '', DataPathAddr: o.dataPathAddr || '',
      DataPathPort: o.dataPathPort || 0, ForceNewCluster: !!o.forceNewCluster, Spec: spec, Availability: o.availability || 'active',
      DefaultAddrPool: o.defaultAddrPool ?? [], SubnetSize: o.defaultAddrPoolMaskLength ?? 24,
    };
    const nodeId: string = await ctx.client().post('/swarm/init', undefined, body);
    ctx.out(`Swarm initialized: current node (${nodeId}) is now a manager.\n\n`);
    await printJoinCommand(ctx, nodeId, true, false);
    ctx.out(`To add a manager to this swarm, run '${ctx.bin} swarm join-token manager' and follow the instructions.\n\n`);
    if (o.autolock) await printUnlockCommand(ctx);
    return 0;
  },
};

export const swarmJoinCmd: CmdDef = {
  name: 'join',
  usage: '[OPTIONS] HOST:PORT',
  short: 'Join a swarm as a node and/or manager',
  args: { min: 1, max: 1 },
  options: [
    { long: 'advertise-addr', kind: 'string', desc: 'Advertised address (format: "<ip|interface>[:port]")' },
    { long: 'availability', kind: 'string', desc: 'Availability of the node ("active", "pause", "drain")', def: 'active' },
    { long: 'data-path-addr', kind: 'string', desc: 'Address or interface to use for data path traffic' },
    { long: 'listen-addr', kind: 'string', desc: 'Listen address (format: "<ip|interface>[:port]")', def: '0.0.0.0:2377' },
    { long: 'token', kind: 'string', desc: 'Token for entry into the swarm' },
  ],
  async run(ctx, args, o) {
    const body = {
      ListenAddr: o.listenAddr || '0.0.0.0:2377', AdvertiseAddr: o.advertiseAddr || '', DataPathAddr: o.dataPathAddr || '',
      RemoteAddrs: [args[0]], JoinToken: o.token || '', Availability: o.availability || 'active',
    };
    await ctx.client().call('POST', '/swarm/join', { body });
    const info = await ctx.client().get('/info');
    ctx.out(info.Swarm?.ControlAvailable ? 'This node joined a swarm as a manager.\n' : 'This node joined a swarm as a worker.\n');
    return 0;
  },
};

export const swarmJoinTokenCmd: CmdDef = {
  name: 'join-token',
  usage: '[OPTIONS] (worker|manager)',
  short: 'Manage join tokens',
  args: { min: 1, max: 1 },
  options: [
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display token' },
    { long: 'rotate', kind: 'bool', desc: 'Rotate join token' },
  ],
  async run(ctx, args, o) {
    const role = args[0];
    if (role !== 'worker' && role !== 'manager') throw new Error('unknown role ' + role);
    const worker = role === 'worker';
    if (o.rotate) {
      const sw = await ctx.client().get('/swarm');
      await ctx.client().call('POST', '/swarm/update', {
        query: { version: String(sw.Version.Index), rotateWorkerToken: worker ? 'true' : 'false', rotateManagerToken: worker ? 'false' : 'true' },
        body: sw.Spec,
      });
      if (!o.quiet) ctx.out(`Successfully rotated ${role} join token.\n\n`);
    }
    const info = await ctx.client().get('/info');
    if (o.quiet) {
      const sw = await ctx.client().get('/swarm');
      ctx.out(`${worker ? sw.JoinTokens.Worker : sw.JoinTokens.Manager}\n`);
      return 0;
    }
    await printJoinCommand(ctx, info.Swarm.NodeID, worker, !worker);
    return 0;
  },
};

export const swarmLeaveCmd: CmdDef = {
  name: 'leave',
  usage: '[OPTIONS]',
  short: 'Leave the swarm',
  args: { max: 0 },
  options: [{ long: 'force', short: 'f', kind: 'bool', desc: 'Force this node to leave the swarm, ignoring warnings' }],
  async run(ctx, _args, o) {
    await ctx.client().call('POST', '/swarm/leave', { query: { force: o.force ? 'true' : undefined } });
    ctx.out('Node left the swarm.\n');
    return 0;
  },
};

export const swarmUpdateCmd: CmdDef = {
  name: 'update',
  usage: '[OPTIONS]',
  short: 'Update the swarm',
  args: { max: 0 },
  options: specFlags,
  async run(ctx, _args, o) {
    const sw = await ctx.client().get('/swarm');
    const patch = swarmSpec(o, true);
    const spec = { ...sw.Spec };
    for (const [k, v] of Object.entries(patch)) spec[k] = { ...(spec[k] ?? {}), ...(v as object) };
    await ctx.client().call('POST', '/swarm/update', { query: { version: String(sw.Version.Index) }, body: spec });
    ctx.out('Swarm updated.\n');
    if (o._changed.has('autolock') && o.autolock) await printUnlockCommand(ctx);
    return 0;
  },
};

export const swarmUnlockCmd: CmdDef = {
  name: 'unlock',
  usage: '',
  short: 'Unlock swarm',
  args: { max: 0 },
  async run(ctx) {
    const info = await ctx.client().get('/info');
    if (info.Swarm?.LocalNodeState !== 'locked') throw new Error('Error: swarm is not locked');
    if (ctx.io.stdin.isTTY) ctx.out('Please enter unlock key: ');
    const key = (await readLine(ctx.io.stdin)).trim();
    await ctx.client().call('POST', '/swarm/unlock', { body: { UnlockKey: key } });
    return 0;
  },
};

export const swarmUnlockKeyCmd: CmdDef = {
  name: 'unlock-key',
  usage: '[OPTIONS]',
  short: 'Manage the unlock key',
  args: { max: 0 },
  options: [
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only display token' },
    { long: 'rotate', kind: 'bool', desc: 'Rotate unlock key' },
  ],
  async run(ctx, _args, o) {
    if (o.rotate) {
      const sw = await ctx.client().get('/swarm');
      if (!sw.Spec.EncryptionConfig?.AutoLockManagers) throw new Error('cannot rotate because autolock is not turned on');
      await ctx.client().call('POST', '/swarm/update', { query: { version: String(sw.Version.Index), rotateManagerUnlockKey: 'true' }, body: sw.Spec });
      if (!o.quiet) ctx.out('Successfully rotated manager unlock key.\n\n');
    }
    const k = await ctx.client().get('/swarm/unlockkey');
    if (!k.UnlockKey) throw new Error('no unlock key is set');
    if (o.quiet) { ctx.out(`${k.UnlockKey}\n`); return 0; }
    await printUnlockCommand(ctx);
    return 0;
  },
};

/** pflag's pem-file: the file's contents, which must be PEM. */
function pemFile(path: string): string {
  const text = readFileSync(path, 'utf8');
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) throw new Error('file contents must be in PEM format');
  return text;
}

/**
 * docker's RootRotationProgress: every 200 ms, how many nodes hold a certificate from the desired
 * issuer and how many trust the desired root; done when both are all nodes and the rotation is over.
 */
async function waitForRootRotation(ctx: Ctx, quiet: boolean): Promise<void> {
  let last = '';
  const say = (line: string) => { if (!quiet && line !== last) { ctx.out(line + '\n'); last = line; } };
  let digestShown = '';
  for (;;) {
    const sw = await ctx.client().get('/swarm');
    const nodes: any[] = await ctx.client().get('/nodes');
    const want = sw.TLSInfo ?? {};
    const digest = 'sha256:' + createHash('sha256').update(String(want.TrustRoot ?? '')).digest('hex');
    if (!quiet && digest !== digestShown) { ctx.out(`desired root digest: ${digest}\n`); digestShown = digest; }
    const certs = nodes.filter((n) => n.Description?.TLSInfo?.CertIssuerSubject === want.CertIssuerSubject && n.Description?.TLSInfo?.CertIssuerPublicKey === want.CertIssuerPublicKey).length;
    const roots = nodes.filter((n) => n.Description?.TLSInfo?.TrustRoot === want.TrustRoot).length;
    const certsDone = certs === nodes.length && !sw.RootRotationInProgress;
    say(`  rotated TLS certificates: ${certs}/${nodes.length} nodes | rotated CA certificates: ${certsDone ? roots : 0}/${nodes.length} nodes`);
    if (certsDone && roots === nodes.length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const swarmCaCmd: CmdDef = {
  name: 'ca',
  usage: '[OPTIONS]',
  short: 'Display and rotate the root CA',
  args: { max: 0 },
  options: [
    { long: 'ca-cert', kind: 'string', type: 'pem-file', desc: 'Path to the PEM-formatted root CA certificate to use for the new cluster', parse: pemFile },
    { long: 'ca-key', kind: 'string', type: 'pem-file', desc: 'Path to the PEM-formatted root CA key to use for the new cluster', parse: pemFile },
    { long: 'cert-expiry', kind: 'string', type: 'duration', desc: 'Validity period for node certificates (ns|us|ms|s|m|h)', def: '2160h0m0s' },
    { long: 'detach', short: 'd', kind: 'bool', desc: 'Exit immediately instead of waiting for the root rotation to converge' },
    { long: 'external-ca', kind: 'list', type: 'external-ca', desc: 'Specifications of one or more certificate signing endpoints' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress progress output' },
    { long: 'rotate', kind: 'bool', desc: 'Rotate the swarm CA - if no certificate or key are provided, new ones will be generated' },
  ],
  async run(ctx, _args, o) {
    const sw = await ctx.client().get('/swarm');
    if (!o.rotate) {
      for (const flag of ['ca-cert', 'ca-key', 'cert-expiry', 'external-ca']) {
        if (o._changed.has(flag)) throw new Error(`\`--${flag}\` flag requires the \`--rotate\` flag to update the CA`);
      }
      return printTrustRoot(ctx, sw);
    }
    if (o.externalCa?.length) throw new Error('external CAs are not supported by shoal');
    if (o._changed.has('ca-cert') && !o._changed.has('ca-key')) throw new Error('the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well');
    const ca = { ...(sw.Spec.CAConfig ?? {}) };
    if (o._changed.has('cert-expiry')) ca.NodeCertExpiry = durationNs(String(o.certExpiry).replace(/0m0s$/, ''));
    const cert = o.caCert ? String(o.caCert) : '';
    const key = o.caKey ? String(o.caKey) : '';
    ca.SigningCACert = cert;
    ca.SigningCAKey = key;
    if (!cert && !key) ca.ForceRotate = (ca.ForceRotate ?? 0) + 1;
    await ctx.client().call('POST', '/swarm/update', { query: { version: String(sw.Version.Index) }, body: { ...sw.Spec, CAConfig: ca } });
    if (o.detach) return 0;
    await waitForRootRotation(ctx, !!o.quiet);
    // like docker: quiet prints nothing, not even the new root
    if (o.quiet) return 0;
    return printTrustRoot(ctx, await ctx.client().get('/swarm'));
  },
};

function printTrustRoot(ctx: Ctx, sw: any): number {
  const root = String(sw.TLSInfo?.TrustRoot ?? '').trim();
  if (!root) throw new Error('No CA information available');
  ctx.out(root + '\n');
  return 0;
}
