import path from 'node:path';
import { BadRequest } from '../../api/errors.js';

// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to a
// container config, with the subset and the error messages of Docker 20.10's BuildFromConfig.

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];

interface Line { instr: string; rest: string; line: number }

export function applyChanges(base: Record<string, any>, changes: string[]): Record<string, any> {
  if (changes.length === 0) return base;
  const lines = splitLines(changes.join('\n'));
  for (const l of lines) preParse(l);
  for (const l of lines) {
    if (!VALID.has(l.instr.toLowerCase())) throw new BadRequest(`${l.instr.toLowerCase()} is not a valid change command`);
  }
  const cfg: Record<string, any> = structuredClone(base);
  let cmdSet = false;
  for (const { instr, rest } of lines) {
    const name = instr.toUpperCase();
    const env = envMap(cfg.Env);
    switch (name) {
      case 'CMD': cfg.Cmd = commandLine(rest); cmdSet = true; break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = commandLine(rest);
        if (!cmdSet) cfg.Cmd = null;
        break;
      case 'ENV':
        for (const [k, v] of nameVals(rest, name, env)) {
          const list: string[] = cfg.Env ?? [];
          const i = list.findIndex((e) => e.split('=')[0] === k);
          if (i === -1) list.push(`${k}=${v}`); else list[i] = `${k}=${v}`;
          cfg.Env = list;
          env.set(k, v);
        }
        break;
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of nameVals(rest, name, env)) cfg.Labels[k] = v;
        break;
      case 'EXPOSE':
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const w of splitWords(rest)) for (const p of portSpec(expand(w, env))) cfg.ExposedPorts[p] = {};
        break;
      case 'VOLUME':
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        for (const v of jsonOrWords(rest).map((w) => expand(w, env))) {
          if (v.trim() === '') throw new BadRequest('VOLUME specified can not be an empty string');
          cfg.Volumes[v] = {};
        }
        break;
      case 'WORKDIR': {
        const w = expand(rest, env);
        cfg.WorkingDir = w.startsWith('/') ? w : path.posix.join('/', cfg.WorkingDir || '/', w);
        break;
      }
      case 'USER': cfg.User = expand(rest, env); break;
      case 'ONBUILD': {
        const trigger = rest.trim().split(/\s+/)[0].toUpperCase();
        if (trigger === 'ONBUILD') throw new BadRequest('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new BadRequest(`${trigger} isn't allowed as an ONBUILD trigger`);
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.trim()];
        break;
      }
      case 'HEALTHCHECK': cfg.Healthcheck = healthcheck(rest); break;
    }
  }
  return cfg;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let line = raw[i];
    while (/\\\s*$/.test(line) && i + 1 < raw.length) line = line.replace(/\\\s*$/, '') + raw[++i];
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(t)!;
    out.push({ instr: m[1], rest: m[2], line: start });
  }
  return out;
}

/** The parse-time checks Docker's Dockerfile parser makes before the instruction list is validated. */
function preParse(l: Line): void {
  const name = l.instr.toUpperCase();
  const fail = (msg: string) => { throw new BadRequest(`dockerfile parse error line ${l.line}: ${msg}`); };
  try {
    if (name === 'ENV' || name === 'LABEL') nameVals(l.rest, name, new Map(), true);
    if ((name === 'CMD' || name === 'ENTRYPOINT' || name === 'VOLUME') && l.rest.trim().startsWith('[')) jsonArray(l.rest);
  } catch (e) { fail((e as Error).message); }
}

function commandLine(rest: string): string[] {
  const arr = jsonArray(rest);
  if (arr) return arr;
  return rest.trim() === '' ? [] : [...DEFAULT_SHELL, rest.trim()];
}

/** A JSON string array, or undefined when `rest` is not JSON (then it is shell form). */
function jsonArray(rest: string): string[] | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try { v = JSON.parse(t); } catch { return undefined; }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

function jsonOrWords(rest: string): string[] {
  return jsonArray(rest) ?? splitWords(rest);
}

/** `KEY name value` (old form) or `KEY a=b c="d e"`. */
function nameVals(rest: string, instr: string, env: Map<string, string>, parseOnly = false): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) {
    if (parseOnly) return [];
    throw new BadRequest(`${instr} requires at least one argument`);
  }
  if (!words[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest.trim());
    if (!m) throw new BadRequest(`${instr} must have two arguments`);
    return [[expand(m[1], env), expand(m[2], env)]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i === -1) throw new BadRequest(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    const k = expand(w.slice(0, i), env);
    if (k === '') throw new BadRequest(`${instr} names can not be blank`);
    return [k, expand(w.slice(i + 1), env)] as [string, string];
  });
}

/** Splits on whitespace outside quotes; quotes and escapes are kept for expand(). */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (!quote && /\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = ''; inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && quote !== "'" && i + 1 < s.length) { cur += c + s[++i]; continue; }
    if (quote && c === quote) quote = '';
    else if (!quote && (c === '"' || c === "'")) quote = c;
    cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** Shell-style word processing: removes quotes and escapes, expands $VAR, ${VAR}, ${VAR:-x}, ${VAR:+x}. */
export function expand(word: string, env: Map<string, string>): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (quote === "'") { if (c === "'") quote = ''; else out += c; continue; }
    if (c === '\\' && i + 1 < word.length) {
      const n = word[i + 1];
      if (quote === '"' && !'"\\$'.includes(n)) out += c;
      out += n; i++;
      continue;
    }
    if (c === '"') { quote = quote ? '' : '"'; continue; }
    if (c === "'" && !quote) { quote = "'"; continue; }
    if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(word.slice(i));
      if (m) {
        const name = m[1] ?? m[4];
        const val = env.get(name);
        if (m[2] === '-') out += val ? val : expand(m[3], env);
        else if (m[2] === '+') out += val ? expand(m[3], env) : '';
        else out += val ?? '';
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function envMap(list: string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

function portSpec(spec: string): string[] {
  const [ports, proto = 'tcp'] = spec.split('/');
  const m = /^(\d+)(?:-(\d+))?$/.exec(ports);
  if (!m) throw new BadRequest(`invalid containerPort: ${ports}`);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new BadRequest(`invalid proto: ${proto}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo > 65535 || hi > 65535 || hi < lo) throw new BadRequest(`invalid containerPort: ${ports}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) throw new BadRequest(`time: invalid duration "${s}"`);
    total += Number(m[1]) * UNIT_NS[m[2]];
    i = re.lastIndex;
  }
  if (!s) throw new BadRequest('time: invalid duration ""');
  return Math.round(total);
}

function healthcheck(rest: string): Record<string, any> {
  let r = rest.trim();
  const hc: Record<string, any> = {};
  const flags: Record<string, string> = {};
  for (let m; (m = /^--([a-z-]+)=(\S*)\s*/.exec(r)); r = r.slice(m[0].length)) flags[m[1]] = m[2];
  const [kind = '', ...more] = r.split(/\s+/);
  const args = r.slice(kind.length).trim();
  if (kind.toUpperCase() === 'NONE') {
    if (more.length || Object.keys(flags).length) throw new BadRequest('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind.toUpperCase() !== 'CMD') throw new BadRequest(`Unknown type "${kind}" in HEALTHCHECK (try CMD)`);
  if (args === '') throw new BadRequest('Missing command after HEALTHCHECK CMD');
  const json = jsonArray(args);
  hc.Test = json ? ['CMD', ...json] : ['CMD-SHELL', args];
  const dur = (f: string, key: string) => {
    if (flags[f] === undefined) return;
    const ns = parseDuration(flags[f]);
    if (ns !== 0 && ns < 1e6) throw new BadRequest(`${key} cannot be less than 1ms`);
    hc[key] = ns;
  };
  for (const f of Object.keys(flags)) {
    if (!['interval', 'timeout', 'start-period', 'retries'].includes(f)) throw new BadRequest(`Unknown flag: ${f}`);
  }
  dur('interval', 'Interval'); dur('timeout', 'Timeout'); dur('start-period', 'StartPeriod');
  if (flags.retries !== undefined) {
    const n = Number(flags.retries);
    if (!Number.isInteger(n) || n < 0) throw new BadRequest('--retries must be a non-negative integer');
    if (n > 0) hc.Retries = n;
  }
  return hc;
}
