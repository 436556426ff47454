// Helpers the integration tests share: polling, CLI calls that must succeed (with the daemon's log
// when they do not), shell pipelines around the docker CLI, and /proc checks.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dockerBinary, type Host } from './hosts.js';
import { run, shq, sleep, type RunResult } from './run.js';

function describeValue(v: unknown): string {
  if (v instanceof Error) return v.message;
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/**
 * Polls fn every 100 ms until it returns something truthy (returned); throws after ms, naming what
 * was awaited, the last value or error, and the tail of h's daemon log when h is given.
 */
export async function until<V>(what: string, fn: () => Promise<V | undefined | false>, ms = 15_000, h?: Host): Promise<V> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${describeValue(last)})${h ? `\nshoald log:\n${h.logTail(30)}` : ''}`);
    await sleep(100);
  }
}

/** p, or a failure naming what did not finish within ms */
export function within<V>(what: string, p: Promise<V>, ms = 20_000, h?: Host): Promise<V> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms${h ? `\nshoald log:\n${h.logTail(20)}` : ''}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** A program's result for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

export interface OkOptions {
  input?: string | Buffer;
  /** default 30 s */
  timeoutMs?: number;
}

/** The real docker CLI against h's daemon; must exit 0. Returns stdout, trimmed. */
export async function dockerOk(h: Host, args: string[], opts: OkOptions = {}): Promise<string> {
  const r = await h.docker(args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${show(r)}\nshoald log:\n${h.logTail(20)}`);
  return r.stdout.trim();
}

/** bin/shoal against h's daemon; must exit 0. Returns stdout, trimmed. */
export async function shoalOk(h: Host, args: string[], opts: OkOptions = {}): Promise<string> {
  const r = await h.shoal(args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
  assert.equal(r.code, 0, `shoal ${args.join(' ')}: ${show(r)}\nshoald log:\n${h.logTail(20)}`);
  return r.stdout.trim();
}

/** The environment in which the docker CLI talks to h's daemon (private config, no hints). */
export function dockerEnv(h: Host): NodeJS.ProcessEnv {
  return { DOCKER_HOST: h.dockerHost, DOCKER_CONFIG: path.join(h.lab.dir, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
}

/** A shell script in which `docker` is the real CLI talking to h's daemon (pipelines, redirections). */
export function dockerSh(h: Host, script: string, timeoutMs = 60_000): Promise<RunResult> {
  return run('sh', ['-c', `docker() { ${shq(dockerBinary())} "$@"; }\n${script}`], { env: dockerEnv(h), timeoutMs });
}

/** true while pid exists and is not a zombie */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch { return false; }
}

/** the command line of pid, space-separated ('' when it is gone) */
export function cmdline(pid: number): string {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '); } catch { return ''; }
}

/** The addresses busybox `nslookup` printed for `name` (its answer section), sorted. */
export function nslookupAddrs(nslookup: string, name: string): string[] {
  const out: string[] = [];
  let inAnswer = false;
  for (const l of nslookup.split('\n')) {
    if (l.startsWith('Name:')) inAnswer = l.split(/\s+/)[1] === name;
    else if (inAnswer && l.startsWith('Address:')) out.push(l.split(/\s+/)[1]);
  }
  return out.sort();
}
