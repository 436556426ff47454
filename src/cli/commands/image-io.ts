// shoal import / load / save / pull
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CmdDef } from '../command.js';
import { errorMessage } from '../errors.js';
import { displayJsonMessages } from '../util.js';
import { splitRef, validateReference } from './shared.js';

async function openInput(file: string): Promise<NodeJS.ReadableStream> {
  try {
    await fs.access(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(err.code === 'ENOENT' ? `open ${file}: no such file or directory` : `open ${file}: ${err.message}`);
  }
  const st = await fs.stat(file);
  if (st.isDirectory()) throw new Error(`read ${file}: is a directory`);
  return createReadStream(file);
}

export const importCmd: CmdDef = {
  name: 'import',
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  args: { min: 1, max: 2 },
  options: [
    { long: 'change', short: 'c', kind: 'list', desc: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', kind: 'string', desc: 'Set commit message for imported image' },
    { long: 'platform', kind: 'string', desc: 'Set platform if server is multi-platform capable' },
  ],
  async run(ctx, args, o) {
    const [source, reference] = args;
    let repo: string | undefined; let tag: string | undefined;
    if (reference) {
      validateReference(reference);
      const r = splitRef(reference);
      repo = r.repo; tag = r.tag;
    }
    const query = { fromSrc: '-', repo, tag, message: o.message || undefined, changes: (o.change as string[]).length ? o.change : undefined, platform: o.platform || undefined };
    let res;
    if (source === '-') {
      res = await ctx.client().request('POST', '/images/create', { query, raw: ctx.io.stdin, headers: { 'Content-Type': 'application/x-tar' } });
    } else if (/^https?:\/\//.test(source)) {
      res = await ctx.client().request('POST', '/images/create', { query: { ...query, fromSrc: source } });
    } else {
      const input = await openInput(source);
      res = await ctx.client().request('POST', '/images/create', { query, raw: input, headers: { 'Content-Type': 'application/x-tar' } });
    }
    await displayJsonMessages(res, (s) => ctx.out(s));
    return 0;
  },
};

export const loadCmd: CmdDef = {
  name: 'load',
  usage: '[OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  args: { max: 0 },
  options: [
    { long: 'input', short: 'i', kind: 'string', desc: 'Read from tar archive file, instead of STDIN' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress the load output' },
    { long: 'platform', kind: 'list', desc: 'Load only the given platform(s)' },
  ],
  async run(ctx, _args, o) {
    let input: NodeJS.ReadableStream;
    if (o.input) input = await openInput(o.input);
    else {
      if (ctx.io.stdin.isTTY) throw new Error('requested load from stdin, but stdin is empty');
      input = ctx.io.stdin;
    }
    const quiet = !!o.quiet || !ctx.io.stdout.isTTY;
    const res = await ctx.client().request('POST', '/images/load', { query: { quiet: quiet || undefined }, raw: input, headers: { 'Content-Type': 'application/x-tar' } });
    const ct = String(res.headers['content-type'] ?? '');
    if (ct.includes('json')) await displayJsonMessages(res, (s) => ctx.out(s));
    else await pipeline(res, ctx.io.stdout as NodeJS.WritableStream, { end: false });
    return 0;
  },
};

export const saveCmd: CmdDef = {
  name: 'save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  short: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  args: { min: 1 },
  options: [
    { long: 'output', short: 'o', kind: 'string', desc: 'Write to a file, instead of STDOUT' },
    { long: 'platform', kind: 'list', desc: 'Save only the given platform(s)' },
  ],
  async run(ctx, args, o) {
    if (!o.output && ctx.io.stdout.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    if (o.output) {
      const dir = path.dirname(path.resolve(o.output));
      if (!(await fs.stat(dir).catch(() => undefined))) throw new Error(`failed to save image: invalid output path: directory "${path.dirname(o.output)}" does not exist`);
    }
    const res = await ctx.client().request('GET', '/images/get', { query: { names: args } });
    if (o.output) {
      const tmp = path.join(path.dirname(path.resolve(o.output)), `.${path.basename(o.output)}.${process.pid}.tmp`);
      try {
        const { createWriteStream } = await import('node:fs');
        await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
        await fs.rename(tmp, o.output);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        throw new Error(`failed to save image: ${errorMessage(e)}`);
      }
    } else {
      await pipeline(res, ctx.io.stdout as NodeJS.WritableStream, { end: false });
    }
    return 0;
  },
};

export const pullCmd: CmdDef = {
  name: 'pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  args: { min: 1, max: 1 },
  options: [
    { long: 'all-tags', short: 'a', kind: 'bool', desc: 'Download all tagged images in the repository' },
    { long: 'platform', kind: 'string', desc: 'Set platform if server is multi-platform capable' },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Suppress verbose output' },
  ],
  async run(ctx, args, o) {
    const ref = args[0];
    validateReference(ref);
    const { repo, tag, digest } = splitRef(ref);
    if (!tag && !digest && !o.allTags && !o.quiet) ctx.out('Using default tag: latest\n');
    const res = await ctx.client().request('POST', '/images/create', { query: { fromImage: repo, tag: digest ?? tag ?? (o.allTags ? undefined : 'latest'), platform: o.platform || undefined } });
    await displayJsonMessages(res, (s) => { if (!o.quiet) ctx.out(s); });
    if (o.quiet) ctx.out(`${ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`}\n`);
    return 0;
  },
};
