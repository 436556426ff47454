// shoal version
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CmdDef, Ctx } from '../command.js';
import { API_VERSION } from '../client.js';
import { StatusError } from '../errors.js';
import { parseTemplate, tabwrite } from '../fmt.js';
import type { Template } from '../format/go-template.js';
import { GO_STRUCT } from '../../util/gofmt.js';

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

/**
 * A Go struct for templates: the properties carry the Go field names (what `--format '{{.X}}'`
 * sees), `{{json .}}` writes the json tag names in declaration order, skipping empty `omitempty`
 * fields. Fields: [Go name, json name (default: the Go name), value, omitempty].
 */
type Field = [go: string, json: string | undefined, value: unknown, omitempty?: boolean];
export function goStruct(type: string, fields: Field[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  Object.defineProperty(o, GO_STRUCT, { enumerable: false, value: type });
  for (const [go, , v] of fields) o[go] = v;
  const empty = (v: unknown) => v === undefined || v === null || v === '' || v === false || v === 0
    || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
  Object.defineProperty(o, 'toJSON', {
    enumerable: false,
    value: () => {
      const j: Record<string, unknown> = {};
      for (const [go, json, , omit] of fields) {
        const v = o[go];
        if (omit && empty(v)) continue;
        j[json ?? go] = v;
      }
      return j;
    },
  });
  return o;
}

/** docker's clientVersion (cli/command/system/version.go). */
export function clientVersionInfo(): Record<string, unknown> {
  return goStruct('system.clientVersion', [
    // nil, as in a docker CLI built without a platform name
    ['Platform', undefined, null, true],
    ['Version', undefined, cliVersion()],
    ['APIVersion', 'ApiVersion', API_VERSION],
    ['DefaultAPIVersion', undefined, API_VERSION, true],
    ['GitCommit', undefined, 'unknown'],
    ['GoVersion', undefined, `node${process.versions.node}`],
    ['Os', undefined, process.platform],
    ['Arch', undefined, process.arch === 'x64' ? 'amd64' : process.arch],
    ['BuildTime', undefined, buildTime(), true],
    ['Context', undefined, 'default'],
  ]);
}

/** docker's reformatDate: an RFC 3339 time as time.ANSIC in its own offset; anything else as is. */
export function reformatDate(s: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return s;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  if (wall.getUTCMonth() !== mo - 1 || wall.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return s;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[wall.getUTCDay()]} ${months[mo - 1]} ${String(d).padStart(2, ' ')} ${p(h)}:${p(mi)}:${p(se)} ${y}`;
}

/** GET /version's JSON as docker's types.Version (Go field names for templates). */
export function serverVersionInfo(j: Record<string, any>): Record<string, unknown> {
  const components = Array.isArray(j.Components) ? j.Components.map((c: Record<string, any>) => goStruct('types.ComponentVersion', [
    ['Name', undefined, String(c.Name ?? '')],
    ['Version', undefined, String(c.Version ?? '')],
    ['Details', undefined, c.Details && typeof c.Details.BuildTime === 'string' ? { ...c.Details, BuildTime: reformatDate(c.Details.BuildTime) } : c.Details ?? null, true],
  ])) : null;
  return goStruct('*types.Version', [
    ['Platform', undefined, goStruct('struct { Name string }', [['Name', undefined, String(j.Platform?.Name ?? '')]])],
    ['Components', undefined, components, true],
    ['Version', undefined, String(j.Version ?? '')],
    ['APIVersion', 'ApiVersion', String(j.ApiVersion ?? '')],
    ['MinAPIVersion', undefined, String(j.MinAPIVersion ?? ''), true],
    ['GitCommit', undefined, String(j.GitCommit ?? '')],
    ['GoVersion', undefined, String(j.GoVersion ?? '')],
    ['Os', undefined, String(j.Os ?? '')],
    ['Arch', undefined, String(j.Arch ?? '')],
    ['KernelVersion', undefined, String(j.KernelVersion ?? ''), true],
    ['Experimental', undefined, !!j.Experimental, true],
    ['BuildTime', undefined, String(j.BuildTime ?? ''), true],
  ]);
}

function clientLines(c: Record<string, any>): string[][] {
  return [
    ['Client:' + (c.Platform?.Name ? ` ${c.Platform.Name}` : '')],
    [' Version:', c.Version],
    [' API version:', c.APIVersion + (c.DefaultAPIVersion && c.APIVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : '')],
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
    ApiVersion: s.APIVersion, MinAPIVersion: s.MinAPIVersion, GoVersion: s.GoVersion, GitCommit: s.GitCommit,
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
    let tpl: Template | undefined;
    if (o.format) {
      try { tpl = parseTemplate(o.format === 'json' ? '{{json .}}' : o.format, { name: 'version' }); } catch (e) {
        throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
      }
    }
    const client = clientVersionInfo();
    let server: Record<string, any> | undefined;
    let err: unknown;
    try { server = serverVersionInfo(await ctx.client().get('/version')); } catch (e) { err = e; }
    const data = goStruct('system.versionInfo', [['Client', undefined, client], ['Server', undefined, server ?? null]]);
    if (tpl) {
      let text = '';
      let execErr: unknown;
      // like Go's text/template, what was written before an execution error is still printed
      try { text = tpl.execute(data); } catch (e) { execErr = e; text = (e as { partial?: string }).partial ?? ''; }
      ctx.out(text + '\n');
      if (execErr && !err) throw new StatusError((execErr as Error).message, 1);
    } else {
      const rows = clientLines(client);
      if (server) rows.push(...serverLines(server));
      ctx.out(tabwrite(rows, { minwidth: 20, padding: 1 }));
    }
    if (err) throw err;
    return 0;
  },
};
