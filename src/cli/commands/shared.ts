// Helpers shared by several commands.
import type { Ctx } from '../command.js';
import { errorMessage, joinErrors } from '../errors.js';
import type { Hijacked } from '../client.js';
import { readAll } from '../client.js';
import type { IncomingMessage } from 'node:http';
import { checkTty, forwardSignals, monitorTtySize, streamHijacked, type StreamResult } from '../streams.js';

export const enc = encodeURIComponent;

/**
 * POST /containers/{id}/wait registered before the container starts (docker's waitExitOrRemoved).
 * Resolves once the daemon accepted the request; `result` gives the exit status (125 when waiting
 * failed, with docker's log line); `cancel` drops the request when the status is not needed.
 */
export async function waitExitOrRemoved(ctx: Ctx, id: string, removed: boolean): Promise<{ result: Promise<number>; cancel: () => void }> {
  const condition = removed ? 'removed' : 'next-exit';
  const ac = new AbortController();
  let res: IncomingMessage;
  try {
    res = await ctx.client().request('POST', `/containers/${enc(id)}/wait`, { query: { condition }, signal: ac.signal });
  } catch (e) {
    ctx.err(`ERRO[0000] error waiting for container: ${errorMessage(e)}\n`);
    return { result: Promise.resolve(125), cancel: () => {} };
  }
  let cancelled = false;
  const result = (async () => {
    try {
      const buf = await readAll(res);
      const j = JSON.parse(buf.toString('utf8') || '{}');
      if (j.Error?.Message) {
        ctx.err(`ERRO[0000] Error waiting for container: ${j.Error.Message}\n`);
        return 125;
      }
      return Number(j.StatusCode ?? 0);
    } catch (e) {
      if (!cancelled) ctx.err(`ERRO[0000] error waiting for container: ${errorMessage(e)}\n`);
      return 125;
    }
  })();
  return { result, cancel: () => { cancelled = true; res.destroy(); } };
}

/** Runs op on every container in order; prints the name on success, collects errors (docker's parallelOperation users). */
export async function forEachContainer(ctx: Ctx, names: string[], op: (name: string) => Promise<void>, printName = true): Promise<number> {
  const errs: unknown[] = [];
  // docker runs these in parallel but reports in argument order.
  const results = await Promise.all(names.map((n) => op(n).then(() => undefined, (e) => e as unknown)));
  results.forEach((r, i) => {
    if (r !== undefined) errs.push(r);
    else if (printName) ctx.out(`${names[i]}\n`);
  });
  const err = joinErrors(errs);
  if (err) throw err;
  return 0;
}

export interface AttachRun {
  hijacked: Hijacked;
  stream: Promise<StreamResult>;
}

/** Opens the attach connection and starts streaming it (stdin/stdout/stderr per options). */
export async function attachContainer(ctx: Ctx, id: string, o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; detachKeys?: string; inputGate?: Promise<unknown> }): Promise<AttachRun> {
  const hijacked = await ctx.client().hijack(`/containers/${enc(id)}/attach`, {
    query: { stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, detachKeys: o.detachKeys || undefined },
  });
  const stream = streamHijacked(ctx, hijacked, o);
  return { hijacked, stream };
}

/** docker's inspectContainerAndCheckState. */
export async function inspectAndCheckState(ctx: Ctx, id: string): Promise<any> {
  const c = await ctx.client().get(`/containers/${enc(id)}/json`);
  if (!c.State?.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State?.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State?.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
  return c;
}

/**
 * Attach → wait registration → start → stream until the container exits (docker start -a and run).
 * Returns the exit status (0 after a detach).
 */
export async function attachStartWait(ctx: Ctx, id: string, o: {
  stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; detachKeys?: string; autoRemove: boolean; sigProxy: boolean;
  onStartError: (e: unknown) => Error;
}): Promise<number> {
  if (o.stdin) checkTty(ctx, o.stdin, o.tty);
  const stopSignals = o.sigProxy ? forwardSignals(ctx, id) : () => {};
  let stopResize = () => {};
  try {
    let openGate: () => void = () => {};
    const inputGate = new Promise<void>((r) => { openGate = r; });
    const attach = (o.stdin || o.stdout || o.stderr) ? await attachContainer(ctx, id, { ...o, inputGate }) : undefined;
    const wait = await waitExitOrRemoved(ctx, id, o.autoRemove);
    const status = wait.result;
    try {
      await ctx.client().call('POST', `/containers/${enc(id)}/start`);
    } catch (e) {
      if (attach) { attach.hijacked.close(); await attach.stream.catch(() => undefined); }
      if (o.autoRemove) await Promise.race([status, new Promise((r) => setTimeout(r, 10_000).unref())]);
      wait.cancel();
      throw o.onStartError(e);
    }
    openGate();
    if (!attach) { wait.cancel(); return 0; }
    if (o.tty && ctx.io.stdout.isTTY) {
      stopResize = monitorTtySize(ctx, (h, w) => ctx.client().call('POST', `/containers/${enc(id)}/resize`, { query: { h, w } }));
    }
    const first = await Promise.race([
      attach.stream.then((r) => ({ kind: 'stream' as const, r }), (e) => ({ kind: 'error' as const, e })),
      status.then((code) => ({ kind: 'status' as const, code })),
    ]);
    if (first.kind === 'error') { wait.cancel(); throw first.e; }
    if (first.kind === 'stream') {
      if (first.r.detached) { wait.cancel(); return 0; }
      return await status;
    }
    if (!o.stdout && !o.stderr) attach.hijacked.close();
    // Output still in flight is drained; a connection the daemon never closes after the exit is dropped.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      attach.stream.catch(() => undefined),
      new Promise<void>((r) => { timer = setTimeout(() => { attach.hijacked.close(); r(); }, 5000); }),
    ]);
    clearTimeout(timer);
    await attach.stream.catch(() => undefined); // settles at once once closed; restores the terminal
    return first.code;
  } finally {
    stopResize();
    stopSignals();
  }
}

/** Familiar reference with the default tag ("busybox" → "busybox:latest"), like reference.TagNameOnly. */
export function tagNameOnly(ref: string): string {
  let r = ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
  if (r.includes('@')) return r;
  const lastSlash = r.lastIndexOf('/');
  if (!r.slice(lastSlash + 1).includes(':')) r += ':latest';
  return r;
}

/** Splits "repo:tag" / "repo@digest" / "repo" into parts for /images/create. */
export function splitRef(ref: string): { repo: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), digest: ref.slice(at + 1) };
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref };
}

/** docker's reference validation for the common mistakes (uppercase repository names, bad characters). */
export function validateReference(ref: string): void {
  const { repo } = splitRef(ref);
  if (repo === '') throw new Error('invalid reference format');
  // a first component with a dot or a port, or "localhost", is a registry domain (which may have capitals)
  const slash = repo.indexOf('/');
  const first = slash < 0 ? '' : repo.slice(0, slash);
  const hasDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const domain = hasDomain ? first : '';
  const path = hasDomain ? repo.slice(slash + 1) : repo;
  if (/[A-Z]/.test(path)) {
    const full = hasDomain || path.includes('/') ? repo : `library/${repo}`;
    throw new Error(`invalid reference format: repository name (${full}) must be lowercase`);
  }
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  if (!new RegExp(`^${component}(?:/${component})*$`).test(path)) throw new Error('invalid reference format');
  if (domain && !/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?$/.test(domain)) throw new Error('invalid reference format');
}
