// shoal version
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CmdDef, Ctx } from '../command.js';
import { API_VERSION } from '../client.js';
import { StatusError } from '../errors.js';
import { renderTemplate, tabwrite } from '../fmt.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The CLI's version (package.json next to dist/ or src/). */
export function cliVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json', '../../../../package.json']) {
    try {
      const j = JSON.parse(readFileSync(path.join(here, rel), 'utf8'));
      if (j.name === 'shoal' && j.version) return String(j.version);
    } catch { /* try the next */ }
  }
  return '0.0.0';
}

/** Go's time.ANSIC-like "Mon Jan _2 15:04:05 2006" (docker's Built line). */
export function ansicTime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

function buildTime(): string {
  try { return ansicTime(statSync(fileURLToPath(import.meta.url)).mtime); } catch { return ''; }
}

export function clientVersionInfo(): Record<string, unknown> {
  return {
    Platform: { Name: '' },
    Version: cliVersion(),
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: 'unknown',
    GoVersion: `node${process.versions.node}`,
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    BuildTime: buildTime(),
    Context: 'default',
  };
}

function clientLines(c: Record<string, any>): string[][] {
  return [
    ['Client:' + (c.Platform?.Name ? ` ${c.Platform.Name}` : '')],
    [' Version:', c.Version],
    [' API version:', c.ApiVersion + (c.ApiVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : '')],
    [' Node version:', String(c.GoVersion).replace(/^node/, 'v')],
    [' Git commit:', c.GitCommit],
    [' Built:', c.BuildTime],
    [' OS/Arch:', `${c.Os}/${c.Arch}`],
    [' Context:', c.Context],
  ];
}

function serverLines(s: Record<string, any>): string[][] {
  const rows: string[][] = [[''], ['Server:' + (s.Platform?.Name ? ` ${s.Platform.Name}` : '')]];
  const components: any[] = s.Components?.length ? s.Components : [{ Name: 'Engine', Version: s.Version, Details: {
    ApiVersion: s.ApiVersion, MinAPIVersion: s.MinAPIVersion, GoVersion: s.GoVersion, GitCommit: s.GitCommit,
    BuildTime: s.BuildTime, Os: s.Os, Arch: s.Arch, Experimental: String(!!s.Experimental) } }];
  for (const c of components) {
    rows.push([` ${c.Name}:`]);
    const d = c.Details ?? {};
    if (c.Name === 'Engine') {
      // like docker's template: the Engine lines come from the component's Details only
      const det = (k: string) => (d[k] === undefined || d[k] === null ? '' : String(d[k]));
      rows.push(['  Version:', c.Version ?? '']);
      rows.push(['  API version:', `${det('ApiVersion')} (minimum version ${det('MinAPIVersion')})`]);
      rows.push(['  Go version:', det('GoVersion')]);
      rows.push(['  Git commit:', det('GitCommit')]);
      rows.push(['  Built:', det('BuildTime')]);
      rows.push(['  OS/Arch:', `${det('Os')}/${det('Arch')}`]);
      rows.push(['  Experimental:', det('Experimental')]);
    } else {
      rows.push(['  Version:', c.Version ?? '']);
      const keys = Object.keys(d).sort();
      for (const k of keys) rows.push([`  ${k}:`, String(d[k])]);
    }
  }
  return rows;
}

export const versionCmd: CmdDef = {
  name: 'version',
  usage: '[OPTIONS]',
  short: 'Show the shoal version information',
  args: { max: 0 },
  options: [{ long: 'format', short: 'f', kind: 'string', desc: 'Format output using a custom template' }],
  async run(ctx: Ctx, _args, o) {
    const client = clientVersionInfo();
    let server: Record<string, any> | undefined;
    let err: unknown;
    try { server = await ctx.client().get('/version'); } catch (e) { err = e; }
    const data = { Client: client, Server: server ?? null };
    if (o.format) {
      const tpl = o.format === 'json' ? '{{json .}}' : o.format;
      let text: string;
      try { text = renderTemplate(tpl, data); } catch (e) {
        throw new StatusError(`Template parsing error: ${(e as Error).message}`, 1);
      }
      ctx.out(text + '\n');
    } else {
      const rows = clientLines(client);
      if (server) rows.push(...serverLines(server));
      ctx.out(tabwrite(rows, { minwidth: 20, padding: 1 }));
    }
    if (err) throw err;
    return 0;
  },
};
