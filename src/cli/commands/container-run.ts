// shoal run / shoal create
import { existsSync, writeFileSync } from 'node:fs';
import type { CmdDef, Ctx, OptDef, Opts } from '../command.js';
import { errorMessage, isNotFound, reportText, runStatusError, StatusError } from '../errors.js';
import { buildCreateRequest, containerFlags, type CreateRequest } from '../opts.js';
import { consoleSize, checkTty } from '../streams.js';
import { parseDetachKeys } from '../../util/detach-keys.js';
import { displayJsonMessages } from '../util.js';
import { attachStartWait, enc, splitRef, tagNameOnly, validateReference } from './shared.js';

const runOnlyFlags: OptDef[] = [
  { long: 'detach', short: 'd', kind: 'bool', desc: 'Run container in background and print container ID' },
  { long: 'sig-proxy', kind: 'bool', desc: 'Proxy received signals to the process', def: true },
  { long: 'detach-keys', kind: 'string', desc: 'Override the key sequence for detaching a container' },
];

function usageFail(ctx: Ctx, err: unknown): StatusError {
  return new StatusError(reportText(errorMessage(err), ctx.cmdPath), 125);
}

function validatePull(ctx: Ctx, pull: string): void {
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw usageFail(ctx, new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`));
  }
}

/** POST /images/create for a missing image; its progress goes to stderr (docker's pullImage). */
async function pullImage(ctx: Ctx, image: string, quiet: boolean, platform?: string): Promise<void> {
  const { repo, tag, digest } = splitRef(image);
  const res = await ctx.client().request('POST', '/images/create', { query: { fromImage: repo, tag: digest ?? tag ?? 'latest', platform: platform || undefined } });
  await displayJsonMessages(res, (s) => { if (!quiet) ctx.err(s); });
}

/** docker's createContainer: cidfile, pull policy, create, pull on "No such image", retry; prints warnings. */
export async function createContainer(ctx: Ctx, req: CreateRequest, o: Opts): Promise<string> {
  const body = req.body;
  const image: string = body.Image;
  if (req.cidfile && existsSync(req.cidfile)) {
    throw new Error(`Container ID file found, make sure the other container isn't running or delete ${req.cidfile}`);
  }
  validateReference(image);
  if (o.pull === 'always') await pullImage(ctx, image, !!o.quiet, o.platform);
  const query = { name: req.name || undefined, platform: o.platform || undefined };
  const create = () => ctx.client().post<{ Id: string; Warnings?: string[] | null }>('/containers/create', query, body);
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await create();
  } catch (e) {
    // docker pulls on any "not found"; only an image that is missing is worth pulling here.
    if (!(isNotFound(e) && o.pull === 'missing' && /No such image/i.test(errorMessage(e)))) throw e;
    if (!o.quiet) ctx.err(`Unable to find image '${tagNameOnly(image)}' locally\n`);
    await pullImage(ctx, image, !!o.quiet, o.platform);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
  if (req.cidfile) {
    try { writeFileSync(req.cidfile, res.Id); } catch (e) {
      throw new Error(`failed to write the container ID (${res.Id}) to file: ${errorMessage(e)}`);
    }
  }
  return res.Id;
}

function parseRequest(ctx: Ctx, args: string[], o: Opts): CreateRequest {
  validatePull(ctx, o.pull);
  try {
    return buildCreateRequest(o, args[0], args.slice(1), ctx.io.env, process.cwd());
  } catch (e) {
    throw usageFail(ctx, e);
  }
}

export const createCmd: CmdDef = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  args: { min: 1 },
  interspersed: false,
  hNotHelp: true,
  usageExit: 125,
  options: containerFlags(),
  async run(ctx, args, o) {
    const req = parseRequest(ctx, args, o);
    req.body.HostConfig.ConsoleSize = consoleSize(ctx);
    const id = await createContainer(ctx, req, o);
    ctx.out(`${id}\n`);
    return 0;
  },
};

export const runCmd: CmdDef = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  args: { min: 1 },
  interspersed: false,
  hNotHelp: true,
  usageExit: 125,
  options: [...runOnlyFlags, ...containerFlags()],
  async run(ctx, args, o) {
    const req = parseRequest(ctx, args, o);
    const body = req.body;
    const attach = req.attach;
    if (o.detach) {
      if ((o.attach as string[]).length) throw new Error('conflicting options: cannot specify both --attach and --detach');
      body.AttachStdin = false; body.AttachStdout = false; body.AttachStderr = false; body.StdinOnce = false;
      attach.stdin = false; attach.stdout = false; attach.stderr = false;
    } else {
      checkTty(ctx, attach.stdin, !!o.tty);
    }
    if (o.detachKeys) {
      try { parseDetachKeys(o.detachKeys); } catch (e) { throw new Error(`invalid detach keys (${o.detachKeys}): ${errorMessage(e)}`); }
    }
    body.HostConfig.ConsoleSize = consoleSize(ctx);

    let id: string;
    try {
      id = await createContainer(ctx, req, o);
    } catch (e) {
      throw runStatusError(e, ctx.cmdPath);
    }

    const attached = attach.stdin || attach.stdout || attach.stderr;
    if (!attached) {
      ctx.out(`${id}\n`);
      try {
        await ctx.client().call('POST', `/containers/${enc(id)}/start`);
      } catch (e) {
        throw runStatusError(e, ctx.cmdPath, false);
      }
      return 0;
    }
    return attachStartWait(ctx, id, {
      stdin: attach.stdin, stdout: attach.stdout, stderr: attach.stderr, tty: !!o.tty,
      detachKeys: o.detachKeys, autoRemove: req.autoRemove,
      // like docker: no signal proxy with a TTY (the terminal's keys reach the container's pty)
      sigProxy: !!o.sigProxy && !o.tty,
      onStartError: (e) => runStatusError(e, ctx.cmdPath, false),
    });
  },
};
