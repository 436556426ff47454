// shoal info
import type { CmdDef } from '../command.js';
import { errorMessage, StatusError } from '../errors.js';
import { bytesSize, renderTemplate } from '../fmt.js';
import { cliVersion } from './system-version.js';

/** docker's prettyPrintServerInfo for the fields a single-node engine reports. */
export function prettyServerInfo(info: any, debug: boolean): string {
  const lines: string[] = [];
  const ln = (...parts: unknown[]) => lines.push(parts.map((p) => String(p)).join(' '));
  const nonEmpty = (label: string, v: unknown) => { if (v !== undefined && v !== null && v !== '') ln(label, v); };
  ln(' Containers:', info.Containers ?? 0);
  ln('  Running:', info.ContainersRunning ?? 0);
  ln('  Paused:', info.ContainersPaused ?? 0);
  ln('  Stopped:', info.ContainersStopped ?? 0);
  ln(' Images:', info.Images ?? 0);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) lines.push(`  ${k}: ${v}`);
  for (const [k, v] of info.SystemStatus ?? []) lines.push(` ${k}: ${v}`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  ln(' Plugins:');
  ln('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  ln('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if ((info.Plugins?.Authorization ?? []).length) ln('  Authorization:', info.Plugins.Authorization.join(' '));
  ln('  Log:', (info.Plugins?.Log ?? []).join(' '));
  ln(' Swarm:', info.Swarm?.LocalNodeState ?? 'inactive');
  if (info.Runtimes && Object.keys(info.Runtimes).length) {
    ln(' Runtimes:', Object.keys(info.Runtimes).join(' '));
    ln(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    ln(' Init Binary:', info.InitBinary ?? '');
    ln(' containerd version:', info.ContainerdCommit?.ID ?? '');
    ln(' runc version:', info.RuncCommit?.ID ?? '');
    ln(' init version:', info.InitCommit?.ID ?? '');
    const secopts: string[] = info.SecurityOptions ?? [];
    if (secopts.length) {
      ln(' Security Options:');
      for (const so of secopts) {
        const fields = so.split(',');
        const name = fields.find((f) => f.startsWith('name='))?.slice(5) ?? so;
        lines.push(`  ${name}`);
        const profile = fields.find((f) => f.startsWith('profile='));
        if (profile) ln('   Profile:', profile.slice(8));
      }
    }
  }
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  ln(' CPUs:', info.NCPU ?? 0);
  ln(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  ln(' Docker Root Dir:', info.DockerRootDir ?? '');
  ln(' Debug Mode:', !!info.Debug);
  if (info.Debug || debug) {
    ln('  File Descriptors:', info.NFd ?? 0);
    ln('  Goroutines:', info.NGoroutines ?? 0);
    ln('  System Time:', info.SystemTime ?? '');
    ln('  EventsListeners:', info.NEventsListener ?? 0);
  }
  nonEmpty(' HTTP Proxy:', info.HttpProxy);
  nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length) { ln(' Labels:'); for (const l of info.Labels) lines.push(`  ${l}`); }
  ln(' Experimental:', !!info.ExperimentalBuild);
  const reg = info.RegistryConfig;
  if (reg && ((reg.InsecureRegistryCIDRs ?? []).length || Object.keys(reg.IndexConfigs ?? {}).length)) {
    ln(' Insecure Registries:');
    for (const ic of Object.values<any>(reg.IndexConfigs ?? {})) if (!ic.Secure) lines.push(`  ${ic.Name}`);
    for (const c of reg.InsecureRegistryCIDRs ?? []) lines.push(`  ${c}`);
  }
  if ((reg?.Mirrors ?? []).length) { ln(' Registry Mirrors:'); for (const m of reg.Mirrors) lines.push(`  ${m}`); }
  ln(' Live Restore Enabled:', !!info.LiveRestoreEnabled);
  if (info.ProductLicense) ln(' Product License:', info.ProductLicense);
  if ((info.DefaultAddressPools ?? []).length) {
    ln(' Default Address Pools:');
    for (const p of info.DefaultAddressPools) lines.push(`   Base: ${p.Base}, Size: ${p.Size}`);
  }
  lines.push('');
  return lines.join('\n') + '\n';
}

export const infoCmd: CmdDef = {
  name: 'info',
  usage: '[OPTIONS]',
  short: 'Display system-wide information',
  args: { max: 0 },
  options: [{ long: 'format', short: 'f', kind: 'string', desc: 'Format output using a custom template' }],
  async run(ctx, _args, o) {
    const clientInfo = { Debug: ctx.debug, Version: cliVersion(), Context: 'default', Plugins: [], Warnings: null };
    if (o.format) {
      const info = await ctx.client().get('/info');
      const data = { ...info, ClientInfo: clientInfo };
      const tpl = o.format === 'json' ? '{{json .}}' : o.format;
      let text: string;
      try { text = renderTemplate(tpl, data); } catch (e) { throw new StatusError(`template: ${errorMessage(e)}`, 1); }
      ctx.out(text + '\n');
      return 0;
    }
    let out = 'Client:\n';
    out += ` Version:    ${clientInfo.Version}\n`;
    out += ` Context:    ${clientInfo.Context}\n`;
    out += ` Debug Mode: ${clientInfo.Debug}\n`;
    out += '\nServer:\n';
    let info: any;
    try {
      info = await ctx.client().get('/info');
    } catch (e) {
      ctx.out(out);
      ctx.err(`ERROR: ${errorMessage(e)}\n`);
      throw new StatusError('errors pretty printing info', 1);
    }
    ctx.out(out + prettyServerInfo(info, ctx.debug));
    for (const w of info.Warnings ?? []) ctx.err(`${w}\n`);
    return 0;
  },
};
