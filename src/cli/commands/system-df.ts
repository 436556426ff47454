// shoal system df
import type { CmdDef } from '../command.js';
import { humanSize, humanSizePrec, renderList, since } from '../fmt.js';
import { truncateId } from '../util.js';
import { containerContext, PS_HEADERS } from './container-ps.js';
import { IMAGE_HEADERS } from './image-list.js';

const DF_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const DF_IMAGES = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const DF_CONTAINERS = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const DF_VOLUMES = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const DF_BUILD = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

function reclaimable(reclaim: number, total: number): string {
  if (total > 0) return `${humanSize(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)`;
  return humanSize(reclaim);
}

/** The four summary rows of `system df` (docker 20.10's client-side computation). */
export function dfRows(du: any): Record<string, string>[] {
  const images: any[] = du.Images ?? [];
  const containers: any[] = du.Containers ?? [];
  const volumes: any[] = du.Volumes ?? [];
  const cache: any[] = du.BuildCache ?? [];
  const imgTotal = Number(du.LayersSize ?? 0);
  let used = 0;
  for (const i of images) {
    if (i.Containers !== 0 && i.Containers !== undefined) {
      const vs = i.VirtualSize ?? i.Size;
      if (vs === -1 || i.SharedSize === -1) continue;
      used += vs - (i.SharedSize ?? 0);
    }
  }
  const ctrActive = (c: any) => c.State === 'running' || c.State === 'paused';
  let ctrTotal = 0; let ctrReclaim = 0;
  for (const c of containers) { ctrTotal += c.SizeRw ?? 0; if (!ctrActive(c)) ctrReclaim += c.SizeRw ?? 0; }
  let volTotal = 0; let volReclaim = 0;
  for (const v of volumes) {
    const s = v.UsageData?.Size ?? -1;
    if (s !== -1) volTotal += s;
    if ((v.UsageData?.RefCount ?? 0) === 0 && s !== -1) volReclaim += s;
  }
  let bcTotal = 0; let bcReclaim = 0;
  for (const b of cache) { if (!b.Shared) bcTotal += b.Size ?? 0; if (!b.InUse && !b.Shared) bcReclaim += b.Size ?? 0; }
  return [
    { Active: String(images.filter((i) => (i.Containers ?? 0) > 0).length), Reclaimable: reclaimable(imgTotal - used, imgTotal), Size: humanSize(imgTotal), TotalCount: String(images.length), Type: 'Images' },
    { Active: String(containers.filter(ctrActive).length), Reclaimable: reclaimable(ctrReclaim, ctrTotal), Size: humanSize(ctrTotal), TotalCount: String(containers.length), Type: 'Containers' },
    { Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Reclaimable: reclaimable(volReclaim, volTotal), Size: humanSize(volTotal), TotalCount: String(volumes.length), Type: 'Local Volumes' },
    { Active: String(cache.filter((b) => b.InUse).length), Reclaimable: reclaimable(bcReclaim, bcTotal), Size: humanSize(bcTotal), TotalCount: String(cache.length), Type: 'Build Cache' },
  ];
}

export const dfCmd: CmdDef = {
  name: 'df',
  usage: '[OPTIONS]',
  short: 'Show shoal disk usage',
  args: { max: 0 },
  options: [
    { long: 'format', kind: 'string', desc: 'Format output using a custom template' },
    { long: 'verbose', short: 'v', kind: 'bool', desc: 'Show detailed information on space usage' },
  ],
  async run(ctx, _args, o) {
    const du = await ctx.client().get('/system/df');
    const format: string = o.format || 'table';
    if (!o.verbose) {
      ctx.out(renderList(format === 'table' ? DF_FORMAT : format, DF_FORMAT, dfRows(du), DF_HEADERS));
      return 0;
    }
    const now = Date.now();
    const trunc = format.startsWith('table');
    const images = (du.Images ?? []).map((i: any) => {
      let repo = '<none>'; let tag = '<none>';
      const t = (i.RepoTags ?? [])[0];
      if (t && t !== '<none>:<none>') {
        const c = t.lastIndexOf(':');
        repo = t.slice(0, c).replace(/^docker\.io\/library\//, ''); tag = t.slice(c + 1);
      }
      return {
        Containers: i.Containers === -1 ? 'N/A' : String(i.Containers ?? 0),
        CreatedSince: since(i.Created ?? 0, now),
        ID: trunc ? truncateId(i.Id) : i.Id,
        Repository: repo,
        SharedSize: i.SharedSize === -1 ? 'N/A' : humanSize(i.SharedSize ?? 0),
        Size: humanSizePrec(i.Size ?? 0),
        Tag: tag,
        UniqueSize: i.SharedSize === -1 ? 'N/A' : humanSize((i.Size ?? 0) - (i.SharedSize ?? 0)),
      };
    });
    const containers = (du.Containers ?? []).map((c: any) => containerContext({ ...c, SizeRootFs: 0 }, trunc, now));
    const volumes = (du.Volumes ?? []).map((v: any) => ({
      Links: String(v.UsageData?.RefCount ?? 0), Name: v.Name,
      Size: (v.UsageData?.Size ?? -1) === -1 ? 'N/A' : humanSize(v.UsageData.Size),
    }));
    const cache = (du.BuildCache ?? []).map((b: any) => ({
      CacheType: b.Type ?? '', CreatedSince: since(Date.parse(b.CreatedAt) / 1000 || 0, now), ID: b.ID ?? '',
      LastUsedSince: b.LastUsedAt ? since(Date.parse(b.LastUsedAt) / 1000, now) : '',
      Shared: String(!!b.Shared), Size: humanSize(b.Size ?? 0), UsageCount: String(b.UsageCount ?? 0),
    }));
    if (format !== 'table') {
      // custom templates see the four lists, like docker's diskUsageContext
      const { renderTemplate } = await import('../fmt.js');
      ctx.out(renderTemplate(format, { Images: images, Containers: containers, Volumes: volumes, BuildCache: cache }));
      return 0;
    }
    let s = 'Images space usage:\n\n';
    s += renderList(DF_IMAGES, DF_IMAGES, images, IMAGE_HEADERS);
    s += '\nContainers space usage:\n\n';
    s += renderList(DF_CONTAINERS, DF_CONTAINERS, containers, PS_HEADERS);
    s += '\nLocal Volumes space usage:\n\n';
    s += renderList(DF_VOLUMES, DF_VOLUMES, volumes, { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' });
    s += `\nBuild cache usage: ${humanSize((du.BuildCache ?? []).reduce((a: number, b: any) => a + (b.Size ?? 0), 0))}\n\n`;
    s += renderList(DF_BUILD, DF_BUILD, cache, { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' });
    ctx.out(s);
    return 0;
  },
};
