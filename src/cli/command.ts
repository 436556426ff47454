// Command definitions and docker/pflag-compatible flag handling on top of commander.
//
// Docker's flag syntax (pflag) differs from commander's in a few ways that matter for a drop-in CLI:
// "--flag=false" for booleans, "-it", "-e=X", stopping at the first positional for run/exec, and the exact
// texts of its errors. A small tokenizer validates and normalises the arguments with pflag's rules and
// messages; commander then parses the normalised argv into option values (defaults, accumulation).
import { Command, Option } from 'commander';
import type { Client } from './client.js';
import { UsageError } from './errors.js';

export type OptKind = 'bool' | 'string' | 'list' | 'int';

export interface OptDef {
  /** Long name without dashes, e.g. "env". */
  long: string;
  short?: string;
  kind: OptKind;
  desc: string;
  /** Type shown in help ("string", "list", "int", "bytes", "duration"...). */
  type?: string;
  def?: string | number | boolean | string[];
  /** Default shown in help when it differs from def. */
  defText?: string;
  hidden?: boolean;
  /** Other long names for the same option (e.g. "net" for "network"). */
  alias?: string[];
  /** Converts/validates one value; a thrown Error becomes pflag's "invalid argument" message. */
  parse?: (v: string) => unknown;
}

export interface IO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; fd?: number };
  env: Record<string, string | undefined>;
}

export interface Ctx {
  /** "shoal container run" */
  cmdPath: string;
  /** "shoal" */
  bin: string;
  host: string;
  debug: boolean;
  io: IO;
  client(): Client;
  out(s: string): void;
  err(s: string): void;
}

export type Opts = Record<string, any> & { _changed: Set<string> };

export interface CmdDef {
  name: string;
  aliases?: string[];
  usage: string;
  short: string;
  /** Positional argument count rule. */
  args?: { min?: number; max?: number };
  /** false: flags stop at the first positional argument (docker run/exec). */
  interspersed?: boolean;
  /** "-h" is a flag of the command (hostname), not help. */
  hNotHelp?: boolean;
  /** Exit code for argument-count errors (docker: 1; shoal run/create: 125). */
  usageExit?: number;
  options?: OptDef[];
  run: (ctx: Ctx, args: string[], o: Opts) => Promise<number | void>;
}

export interface GroupDef {
  name: string;
  short: string;
  commands: CmdDef[];
}

export function camel(s: string): string {
  return s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

interface Rec { opt: OptDef; value?: string; bool?: boolean }

export interface Tokenized { recs: Rec[]; args: string[]; help: boolean }

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function flagName(o: OptDef): string {
  return o.short ? `-${o.short}, --${o.long}` : `--${o.long}`;
}

/** pflag's parsing: returns the options seen (in order) and the positional arguments. */
export function tokenize(argv: string[], options: OptDef[], cfg: { interspersed?: boolean; hNotHelp?: boolean; stopAtFirstArg?: boolean } = {}): Tokenized {
  const byLong = new Map<string, OptDef>();
  const byShort = new Map<string, OptDef>();
  for (const o of options) {
    byLong.set(o.long, o);
    for (const a of o.alias ?? []) byLong.set(a, o);
    if (o.short) byShort.set(o.short, o);
  }
  const recs: Rec[] = [];
  const args: string[] = [];
  let help = false;
  const interspersed = cfg.interspersed !== false;
  const boolOf = (o: OptDef, v: string): boolean => {
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new UsageError(`invalid argument "${v}" for "${flagName(o)}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const val = eq >= 0 ? a.slice(eq + 1) : undefined;
      const o = byLong.get(name);
      if (!o) {
        if (name === 'help') { help = true; continue; }
        throw new UsageError(`unknown flag: --${name}`);
      }
      if (o.kind === 'bool') { recs.push({ opt: o, bool: val === undefined ? true : boolOf(o, val) }); continue; }
      if (val !== undefined) { recs.push({ opt: o, value: val }); continue; }
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
      recs.push({ opt: o, value: argv[++i] });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      const group = a.slice(1);
      for (let j = 0; j < group.length; j++) {
        const c = group[j];
        const o = byShort.get(c);
        if (!o) {
          if (c === 'h' && !cfg.hNotHelp) { help = true; continue; }
          throw new UsageError(`unknown shorthand flag: '${c}' in -${group}`);
        }
        if (o.kind === 'bool') {
          if (group[j + 1] === '=') { recs.push({ opt: o, bool: boolOf(o, group.slice(j + 2)) }); break; }
          recs.push({ opt: o, bool: true });
          continue;
        }
        let rest = group.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        else if (rest === '') {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${group}`);
          rest = argv[++i];
        }
        recs.push({ opt: o, value: rest });
        break;
      }
      continue;
    }
    // positional
    if (!interspersed || cfg.stopAtFirstArg) { args.push(...argv.slice(i)); break; }
    args.push(a);
  }
  return { recs, args, help };
}

/** Builds the commander command holding a definition's options. */
function commanderFor(def: { name: string; options?: OptDef[] }): Command {
  const cmd = new Command(def.name);
  cmd.helpOption(false);
  cmd.allowExcessArguments(true);
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const o of def.options ?? []) {
    const flags = `${o.short ? `-${o.short}, ` : ''}--${o.long}${o.kind === 'bool' ? '' : ' <value>'}`;
    const opt = new Option(flags, o.desc);
    opt.negate = false; // "--no-trunc" is a flag of its own, not a negation
    if (o.hidden) opt.hideHelp();
    if (o.kind === 'list') {
      opt.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) && prev !== o.def ? prev : []), v]);
    }
    if (o.def !== undefined) opt.default(o.def);
    cmd.addOption(opt);
  }
  return cmd;
}

function optionKey(o: OptDef): string { return camel(o.long); }

/** Parses argv for a command definition: pflag-compatible tokenizing, commander for the values. */
export function parseArgs(def: { name: string; options?: OptDef[]; interspersed?: boolean; hNotHelp?: boolean }, argv: string[]): { opts: Opts; args: string[]; help: boolean } {
  const t = tokenize(argv, def.options ?? [], def);
  const changed = new Set<string>();
  const normalized: string[] = [];
  const boolVals = new Map<OptDef, boolean>();
  const parsedLists = new Map<OptDef, unknown[]>();
  const parsedValues = new Map<OptDef, unknown>();
  for (const r of t.recs) {
    changed.add(r.opt.long);
    if (r.opt.kind === 'bool') { boolVals.set(r.opt, r.bool!); continue; }
    const v = r.value!;
    let parsed: unknown = v;
    if (r.opt.kind === 'int') {
      if (!/^[+-]?\d+$/.test(v.trim()) || v.trim() !== v) {
        throw new UsageError(`invalid argument "${v}" for "${flagName(r.opt)}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
      }
      parsed = Number(v);
    }
    if (r.opt.parse) {
      try { parsed = r.opt.parse(v); } catch (e) {
        throw new UsageError(`invalid argument "${v}" for "${flagName(r.opt)}" flag: ${(e as Error).message}`);
      }
    }
    if (r.opt.kind === 'list') {
      const l = parsedLists.get(r.opt) ?? [];
      l.push(parsed);
      parsedLists.set(r.opt, l);
    } else parsedValues.set(r.opt, parsed);
    normalized.push(`--${r.opt.long}`, v);
  }
  const cmd = commanderFor(def);
  cmd.parseOptions(normalized);
  const raw = cmd.opts();
  const opts = { _changed: changed } as Opts;
  for (const o of def.options ?? []) {
    const k = optionKey(o);
    let v: unknown = raw[k];
    if (o.kind === 'bool') v = boolVals.has(o) ? boolVals.get(o) : (o.def ?? false);
    else if (o.kind === 'list') v = parsedLists.get(o) ?? (Array.isArray(o.def) ? [...o.def] : []);
    else if (parsedValues.has(o)) v = parsedValues.get(o);
    else if (v === undefined && o.def !== undefined) v = o.def;
    opts[k] = v;
  }
  return { opts, args: t.args, help: t.help };
}

/** docker's argument-count validation messages (cli/required.go, pre-2024 wording). */
export function checkArgs(def: CmdDef, cmdPath: string, args: string[]): void {
  const r = def.args;
  if (!r) return;
  const min = r.min ?? 0;
  const max = r.max ?? Infinity;
  if (args.length >= min && args.length <= max) return;
  const plural = (n: number) => (n === 1 ? 'argument' : 'arguments');
  let msg: string;
  if (max === 0) msg = `"${cmdPath}" accepts no arguments.`;
  else if (min === max) msg = `"${cmdPath}" requires exactly ${min} ${plural(min)}.`;
  else if (max === Infinity) msg = `"${cmdPath}" requires at least ${min} ${plural(min)}.`;
  else if (min === 0) msg = `"${cmdPath}" requires at most ${max} ${plural(max)}.`;
  else msg = `"${cmdPath}" requires at least ${min} and at most ${max} ${plural(max)}.`;
  throw new UsageError(`${msg}\nSee '${cmdPath} --help'.\n\nUsage:  ${cmdPath} ${def.usage}\n\n${def.short}`, def.usageExit ?? 1);
}

/** A flag error with docker's suffix. */
export function flagError(err: UsageError, cmdPath: string): UsageError {
  return new UsageError(`${err.message}\nSee '${cmdPath} --help'.`, 125);
}

function typeName(o: OptDef): string {
  if (o.kind === 'bool') return '';
  return o.type ?? (o.kind === 'list' ? 'list' : o.kind === 'int' ? 'int' : 'string');
}

export function optionsHelp(options: OptDef[], hHelp = true): string {
  const rows: [string, string][] = [];
  for (const o of options) {
    if (o.hidden) continue;
    const left = `${o.short ? `-${o.short}, ` : '    '}--${o.long}${typeName(o) ? ' ' + typeName(o) : ''}`;
    let desc = o.desc;
    const d = o.defText ?? (o.kind === 'bool' ? (o.def === true ? 'true' : '') : o.kind === 'list' ? '' : o.def !== undefined && o.def !== '' && o.def !== 0 ? (typeof o.def === 'string' ? `"${o.def}"` : String(o.def)) : '');
    if (d) desc += ` (default ${d})`;
    rows.push([left, desc]);
  }
  if (hHelp) rows.push(['-h, --help', 'Print usage']);
  else rows.push(['    --help', 'Print usage']);
  rows.sort((a, b) => a[0].replace(/^-., /, '').trim().localeCompare(b[0].replace(/^-., /, '').trim()));
  const w = Math.max(...rows.map((r) => r[0].length));
  // continuation lines of a multi-line description line up under its first line
  return rows.map(([l, d]) => `  ${l.padEnd(w)}   ${d.split('\n').join('\n' + ' '.repeat(w + 5))}`).join('\n');
}

export function commandHelp(def: CmdDef, cmdPath: string, aliases: string[]): string {
  let s = `\nUsage:  ${cmdPath} ${def.usage}\n\n${def.short}\n`;
  if (aliases.length > 1) s += `\nAliases:\n  ${aliases.join(', ')}\n`;
  s += `\nOptions:\n${optionsHelp(def.options ?? [], !def.hNotHelp)}\n`;
  return s;
}
