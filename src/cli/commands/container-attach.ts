// shoal start / shoal attach
import type { CmdDef } from '../command.js';
import { errorMessage, StatusError } from '../errors.js';
import { checkTty, forwardSignals, monitorTtySize } from '../streams.js';
import { parseDetachKeys } from '../../util/detach-keys.js';
import { attachContainer, attachStartWait, enc, inspectAndCheckState, waitExitOrRemoved } from './shared.js';

function validateDetachKeys(keys: string | undefined): void {
  if (!keys) return;
  try { parseDetachKeys(keys); } catch (e) { throw new Error(`invalid detach keys (${keys}): ${errorMessage(e)}`); }
}

export const startCmd: CmdDef = {
  name: 'start',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  args: { min: 1 },
  options: [
    { long: 'attach', short: 'a', kind: 'bool', desc: 'Attach STDOUT/STDERR and forward signals' },
    { long: 'detach-keys', kind: 'string', desc: 'Override the key sequence for detaching a container' },
    { long: 'interactive', short: 'i', kind: 'bool', desc: "Attach container's STDIN" },
    { long: 'checkpoint', kind: 'string', desc: 'Restore from this checkpoint', hidden: true },
    { long: 'checkpoint-dir', kind: 'string', desc: 'Use a custom checkpoint storage directory', hidden: true },
  ],
  async run(ctx, args, o) {
    validateDetachKeys(o.detachKeys);
    if (o.attach || o.interactive) {
      if (args.length > 1) throw new Error('you cannot start and attach multiple containers at once');
      const c = await ctx.client().get(`/containers/${enc(args[0])}/json`);
      const tty = !!c.Config?.Tty;
      const stdin = !!o.interactive && !!c.Config?.OpenStdin;
      return attachStartWait(ctx, c.Id, {
        stdin, stdout: true, stderr: true, tty, detachKeys: o.detachKeys,
        autoRemove: !!c.HostConfig?.AutoRemove, sigProxy: !tty,
        onStartError: (e) => (e instanceof Error ? e : new Error(String(e))),
      });
    }
    const failed: string[] = [];
    for (const name of args) {
      try {
        await ctx.client().call('POST', `/containers/${enc(name)}/start`);
        ctx.out(`${name}\n`);
      } catch (e) {
        ctx.err(`${errorMessage(e)}\n`);
        failed.push(name);
      }
    }
    if (failed.length) throw new StatusError(`Error: failed to start containers: ${failed.join(', ')}`, 1);
    return 0;
  },
};

export const attachCmd: CmdDef = {
  name: 'attach',
  usage: '[OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  args: { min: 1, max: 1 },
  options: [
    { long: 'detach-keys', kind: 'string', desc: 'Override the key sequence for detaching a container' },
    { long: 'no-stdin', kind: 'bool', desc: 'Do not attach STDIN' },
    { long: 'sig-proxy', kind: 'bool', desc: 'Proxy all received signals to the process', def: true },
  ],
  async run(ctx, args, o) {
    validateDetachKeys(o.detachKeys);
    const name = args[0];
    const c = await inspectAndCheckState(ctx, name);
    const tty = !!c.Config?.Tty;
    checkTty(ctx, !o.noStdin, tty);
    const stdin = !o.noStdin && !!c.Config?.OpenStdin;
    const wait = await waitExitOrRemoved(ctx, c.Id, false);
    const stopSignals = o.sigProxy && !tty ? forwardSignals(ctx, c.Id) : () => {};
    let stopResize = () => {};
    let done = false;
    try {
      const attach = await attachContainer(ctx, c.Id, { stdin, stdout: true, stderr: true, tty, detachKeys: o.detachKeys });
      await inspectAndCheckState(ctx, c.Id);
      if (tty && ctx.io.stdout.isTTY) {
        // docker's resizeTTY: a size one larger first, so the program redraws on the real size that follows
        const resize = (h: number, w: number) => ctx.client().call('POST', `/containers/${enc(c.Id)}/resize`, { query: { h, w } });
        const out = ctx.io.stdout;
        await resize((out.rows ?? 0) + 1, (out.columns ?? 0) + 1).catch(() => undefined);
        stopResize = monitorTtySize(ctx, resize);
      }
      const r = await attach.stream;
      if (r.detached) {
        // docker reports the escape sequence as an error of the attach
        throw new StatusError('read escape sequence', 1);
      }
      const code = await wait.result;
      done = true;
      return code;
    } finally {
      if (!done) wait.cancel();
      stopResize();
      stopSignals();
    }
  },
};
