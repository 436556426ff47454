// shoal exec
import type { CmdDef } from '../command.js';
import { ConnectError, errorMessage, StatusError } from '../errors.js';
import { parseKVFile, validateEnv } from '../opts.js';
import { checkTty, consoleSize, monitorTtySize, streamHijacked } from '../streams.js';
import { parseDetachKeys } from '../../util/detach-keys.js';
import { enc } from './shared.js';

export const execCmd: CmdDef = {
  name: 'exec',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  args: { min: 2 },
  interspersed: false,
  options: [
    { long: 'detach', short: 'd', kind: 'bool', desc: 'Detached mode: run command in the background' },
    { long: 'detach-keys', kind: 'string', desc: 'Override the key sequence for detaching a container' },
    { long: 'env', short: 'e', kind: 'list', desc: 'Set environment variables' },
    { long: 'env-file', kind: 'list', desc: 'Read in a file of environment variables' },
    { long: 'interactive', short: 'i', kind: 'bool', desc: 'Keep STDIN open even if not attached' },
    { long: 'privileged', kind: 'bool', desc: 'Give extended privileges to the command' },
    { long: 'tty', short: 't', kind: 'bool', desc: 'Allocate a pseudo-TTY' },
    { long: 'user', short: 'u', kind: 'string', desc: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { long: 'workdir', short: 'w', kind: 'string', desc: 'Working directory inside the container' },
  ],
  async run(ctx, args, o) {
    const [container, ...cmd] = args;
    const env: string[] = [];
    for (const f of o.envFile as string[]) env.push(...parseKVFile(f, (k) => ctx.io.env[k]));
    for (const e of o.env as string[]) env.push(validateEnv(e, ctx.io.env));
    if (o.detachKeys) {
      try { parseDetachKeys(o.detachKeys); } catch (e) { throw new Error(`invalid detach keys (${o.detachKeys}): ${errorMessage(e)}`); }
    }
    const detach = !!o.detach;
    const tty = !!o.tty;
    const attachStdin = !detach && !!o.interactive;
    const attachStdout = !detach;
    const attachStderr = !detach;
    const client = ctx.client();
    await client.get(`/containers/${enc(container)}/json`);
    if (!detach) checkTty(ctx, attachStdin, tty);
    const size = consoleSize(ctx);
    const execConfig: Record<string, unknown> = {
      User: o.user ?? '', Privileged: !!o.privileged, Tty: tty, ConsoleSize: tty && size[0] ? size : null,
      AttachStdin: attachStdin, AttachStderr: attachStderr, AttachStdout: attachStdout, Detach: detach,
      DetachKeys: o.detachKeys ?? '', Env: env.length ? env : null, WorkingDir: o.workdir ?? '', Cmd: cmd,
    };
    const created = await client.post<{ Id: string }>(`/containers/${enc(container)}/exec`, undefined, execConfig);
    const execId = created?.Id;
    if (!execId) throw new Error('exec ID empty');
    if (detach) {
      await client.call('POST', `/exec/${enc(execId)}/start`, { body: { Detach: true, Tty: tty, ConsoleSize: execConfig.ConsoleSize } });
      return 0;
    }
    // The start options of a hijacked exec are those of its creation; no body is sent with the upgrade
    // request (an empty body is valid for the Engine API and cannot be mistaken for stdin).
    const hijacked = await client.hijack(`/exec/${enc(execId)}/start`);
    let stopResize = () => {};
    if (tty && ctx.io.stdin.isTTY) {
      stopResize = monitorTtySize(ctx, (h, w) => client.call('POST', `/exec/${enc(execId)}/resize`, { query: { h, w } }));
    }
    try {
      const r = await streamHijacked(ctx, hijacked, { stdin: attachStdin, stdout: attachStdout, stderr: attachStderr, tty, detachKeys: o.detachKeys });
      if (r.detached) throw new StatusError('read escape sequence', 1);
    } finally {
      stopResize();
    }
    let inspect: { ExitCode?: number | null; Running?: boolean };
    try {
      inspect = await client.get(`/exec/${enc(execId)}/json`);
      // The process may still be finishing right after its streams closed.
      for (let i = 0; i < 50 && inspect?.Running; i++) {
        await new Promise((r) => setTimeout(r, 20));
        inspect = await client.get(`/exec/${enc(execId)}/json`);
      }
    } catch (e) {
      if (e instanceof ConnectError) { if (ctx.debug) ctx.err(`DEBU[0000] ${(e as Error).message}\n`); return 255; }
      throw e;
    }
    return Number(inspect?.ExitCode ?? 0);
  },
};
