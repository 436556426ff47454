// shoal images / shoal image ls
import type { CmdDef } from '../command.js';
import { filtersJson, parseFilters } from '../client.js';
import { humanSize, humanSizePrec, renderList, since } from '../fmt.js';
import { goTimeString, truncateId } from '../util.js';

export const DEFAULT_IMAGES_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
export const DEFAULT_IMAGES_DIGEST_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

function familiarName(ref: string): string {
  return ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

function isDangling(img: any): boolean {
  const tags: string[] = img.RepoTags ?? [];
  const digests: string[] = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

function imageContext(img: any, repo: string, tag: string, digest: string, trunc: boolean, now: number): Record<string, unknown> {
  const size = img.Size ?? 0;
  return {
    Containers: img.Containers === -1 || img.Containers === undefined ? 'N/A' : String(img.Containers),
    CreatedAt: goTimeString(img.Created ?? 0),
    CreatedSince: since(img.Created ?? 0, now),
    Digest: digest,
    ID: trunc ? truncateId(img.Id ?? '') : (img.Id ?? ''),
    Repository: repo,
    SharedSize: img.SharedSize === -1 || img.SharedSize === undefined ? 'N/A' : humanSize(img.SharedSize),
    Size: humanSizePrec(size),
    Tag: tag,
    UniqueSize: img.SharedSize === -1 || img.SharedSize === undefined ? 'N/A' : humanSize(size - img.SharedSize),
    VirtualSize: humanSize(img.VirtualSize ?? size),
  };
}

/** docker's imageFormat: one row per repository:tag (and digest when asked), "<none>" for dangling images. */
export function imageRows(images: any[], o: { trunc: boolean; digests: boolean; needDigest: boolean }, now = Date.now()): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const img of images) {
    if (isDangling(img)) { rows.push(imageContext(img, '<none>', '<none>', '<none>', o.trunc, now)); continue; }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const ref of img.RepoTags ?? []) {
      if (ref === '<none>:<none>') continue;
      const slash = ref.lastIndexOf('/');
      const colon = ref.lastIndexOf(':');
      if (colon <= slash) continue;
      const repo = familiarName(ref.slice(0, colon));
      repoTags.set(repo, [...(repoTags.get(repo) ?? []), ref.slice(colon + 1)]);
    }
    for (const ref of img.RepoDigests ?? []) {
      const at = ref.indexOf('@');
      if (at < 0 || ref === '<none>@<none>') continue;
      const repo = familiarName(ref.slice(0, at));
      repoDigests.set(repo, [...(repoDigests.get(repo) ?? []), ref.slice(at + 1)]);
    }
    for (const [repo, tags] of repoTags) {
      let digests = repoDigests.get(repo) ?? [];
      repoDigests.delete(repo);
      if (!o.needDigest) digests = [];
      for (const tag of tags) {
        if (digests.length === 0) { rows.push(imageContext(img, repo, tag, '<none>', o.trunc, now)); continue; }
        for (const d of digests) rows.push(imageContext(img, repo, tag, d, o.trunc, now));
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (o.digests) for (const d of digests) rows.push(imageContext(img, repo, '<none>', d, o.trunc, now));
      else rows.push(imageContext(img, repo, '<none>', '', o.trunc, now));
    }
  }
  return rows;
}

export function imagesFormat(format: string | undefined, quiet: boolean, digests: boolean): string {
  if (!format || format === 'table') {
    if (quiet) return '{{.ID}}';
    return digests ? DEFAULT_IMAGES_DIGEST_FORMAT : DEFAULT_IMAGES_FORMAT;
  }
  if (quiet) return '{{.ID}}';
  if (format.startsWith('table') && digests && !format.includes('{{.Digest}}')) return `${format}\t{{.Digest}}`;
  return format;
}

export const imagesCmd: CmdDef = {
  name: 'images',
  aliases: ['ls', 'list'],
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  args: { max: 1 },
  options: [
    { long: 'all', short: 'a', kind: 'bool', desc: 'Show all images (default hides intermediate images)' },
    { long: 'digests', kind: 'bool', desc: 'Show digests' },
    { long: 'filter', short: 'f', kind: 'list', type: 'filter', desc: 'Filter output based on conditions provided' },
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'no-trunc', kind: 'bool', desc: "Don't truncate output" },
    { long: 'quiet', short: 'q', kind: 'bool', desc: 'Only show image IDs' },
  ],
  async run(ctx, args, o) {
    const filters = parseFilters(o.filter);
    if (args[0]) (filters.reference ??= []).push(args[0]);
    const images: any[] = await ctx.client().get('/images/json', { all: o.all || undefined, filters: filtersJson(filters) });
    const format = imagesFormat(o.format || undefined, !!o.quiet, !!o.digests);
    const rows = imageRows(images ?? [], { trunc: !o.noTrunc, digests: !!o.digests, needDigest: !!o.digests || format.includes('{{.Digest}}') });
    ctx.out(renderList(format, DEFAULT_IMAGES_FORMAT, rows, IMAGE_HEADERS));
    return 0;
  },
};
