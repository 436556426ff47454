import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BadRequest, Conflict, NotFound } from '../../api/errors.js';
import type { Logger } from '../../daemon/logger.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../util/atomic-file.js';
import { sha256, shortId } from '../../util/ids.js';
import type { EventBus } from '../events.js';
import { applyChanges } from './changes.js';
import { decompressed } from './decompress.js';
import { chainIds, Spool, writeArchive, type ManifestItem, type SaveImage } from './docker-archive.js';
import { Filters, parseFilters } from './filters.js';
import { childConfig, containerConfig, EMPTY_LAYER_DIFF_ID, hostArch, importConfig, parseTime, ZERO_TIME } from './image-config.js';
import { LayerStore, type PreparedLayer } from './layer-store.js';
import {
  familiarMatch, familiarName, familiarString, parseAnyReference, parseNormalizedNamed, tagNameOnly, withTag, type Reference,
} from './reference.js';
import { parseTimestamp } from './timestamp.js';

export interface ImageRecord { id: string; config: any; repoTags: string[]; repoDigests: string[]; size: number; created: string }
export type UsedBy = (imageId: string) => { id: string; running: boolean }[];
export interface DeleteItem { Untagged?: string; Deleted?: string }
export interface ImportOptions { repo?: string; tag?: string; changes?: string[]; message?: string; platform?: string }
export interface CommitOptions { parent: string; config: any; containerConfig: any; container: string; author: string; comment: string; ref?: Reference }
export type ProgressFn = (msg: Record<string, unknown>) => void;

interface Meta { recorded: string; lastTagTime?: string; ghost?: boolean; /** the image a committed one was made from */ parent?: string }
interface Stored { id: string; config: any; diffIds: string[]; meta: Meta }

const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference'];
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'];

/**
 * Content-addressed images (ID = sha256 of the config bytes, as Docker) over overlay-ready layers.
 * All mutations run one at a time under `locked`; reads are synchronous from memory.
 */
export class ImageStore {
  private images = new Map<string, Stored>();
  /** Familiar reference ("busybox:latest", "foo@sha256:...") -> image ID. */
  private refs = new Map<string, string>();
  private layers: LayerStore;
  private lock: Promise<unknown> = Promise.resolve();
  private root: string;
  private log: Logger;
  private events: EventBus;

  constructor(opts: { root: string; log: Logger; events: EventBus }) {
    this.root = opts.root;
    this.log = opts.log;
    this.events = opts.events;
    this.layers = new LayerStore(opts.root, opts.log);
  }

  private configFile(id: string): string { return path.join(this.root, 'imagedb', 'sha256', `${hex(id)}.json`); }
  private metaFile(id: string): string { return path.join(this.root, 'imagedb', 'meta', `${hex(id)}.json`); }
  private get refsFile(): string { return path.join(this.root, 'repositories.json'); }

  async init(): Promise<void> {
    const dbDir = path.join(this.root, 'imagedb', 'sha256');
    await fs.mkdir(dbDir, { recursive: true });
    await fs.mkdir(path.join(this.root, 'imagedb', 'meta'), { recursive: true });
    await this.layers.init();
    for (const f of await fs.readdir(dbDir)) {
      const m = /^([a-f0-9]{64})\.json$/.exec(f);
      if (!m) { await fs.rm(path.join(dbDir, f), { force: true }); continue; }
      const id = `sha256:${m[1]}`;
      const raw = await fs.readFile(path.join(dbDir, f));
      if (sha256(raw) !== m[1]) { this.log.warn({ id }, 'image config does not match its ID; ignored'); continue; }
      let config: any;
      try { config = JSON.parse(raw.toString('utf8')); } catch { this.log.warn({ id }, 'unreadable image config; ignored'); continue; }
      const diffIds: string[] = config.rootfs?.diff_ids ?? [];
      const missing = diffIds.find((d) => !this.layers.has(d));
      if (missing) { this.log.warn({ id, layer: missing }, 'image layer missing; image ignored'); continue; }
      const meta = (await readJson<Meta>(this.metaFile(id)).catch(() => undefined)) ?? { recorded: new Date().toISOString() };
      this.images.set(id, { id, config, diffIds, meta });
    }
    const saved = (await readJson<Record<string, string>>(this.refsFile)) ?? {};
    for (const [k, id] of Object.entries(saved)) if (this.live(id)) this.refs.set(k, id);
    // Layers left by a crash between unpacking and recording the image are unreferenced: drop them.
    const used = new Set([...this.images.values()].flatMap((s) => s.diffIds));
    for (const d of this.layers.all()) if (!used.has(d)) this.layers.remove(d);
  }

  // ---------- lookups ----------

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Images deleted while a container still used them stay on disk, hidden, until that container is gone. */
  private live(id: string): Stored | undefined {
    const s = this.images.get(id);
    return s && !s.meta.ghost ? s : undefined;
  }

  private find(ref: string): Stored {
    const any = parseAnyReference(ref);
    if ('id' in any) {
      const s = this.live(any.id);
      if (!s) throw new NotFound(`No such image: ${any.id}`);
      return s;
    }
    const key = familiarString(tagNameOnly(any.ref));
    const id = this.refs.get(key);
    const s = (id && this.live(id)) || this.searchPrefix(ref);
    if (!s) throw new NotFound(`No such image: ${key}`);
    return s;
  }

  private searchPrefix(ref: string): Stored | undefined {
    const p = ref.replace(/^sha256:/, '');
    if (!/^[a-f0-9]+$/.test(p)) return undefined;
    const hits = [...this.images.values()].filter((s) => !s.meta.ghost && hex(s.id).startsWith(p));
    return hits.length === 1 ? hits[0] : undefined;
  }

  private record(s: Stored): ImageRecord {
    const refs = this.refsOf(s.id);
    return {
      id: s.id, config: s.config, repoTags: refs.filter((r) => !r.includes('@')), repoDigests: refs.filter((r) => r.includes('@')),
      size: this.sizeOf(s), created: s.config.created ?? ZERO_TIME,
    };
  }

  private refsOf(id: string): string[] {
    return [...this.refs].filter(([, v]) => v === id).map(([k]) => k).sort();
  }

  private sizeOf(s: Stored): number { return s.diffIds.reduce((n, d) => n + this.layers.size(d), 0); }

  /** name[:tag], name@digest, full or short image ID. Throws NotFound, or BadRequest for a malformed reference. */
  resolve(ref: string): ImageRecord { return this.record(this.find(ref)); }

  /** Like resolve but undefined when absent. An exact full ID also finds an image deleted under a container. */
  tryResolve(ref: string): ImageRecord | undefined {
    const ghost = /^sha256:[a-f0-9]{64}$/.test(ref) ? this.images.get(ref) : undefined;
    if (ghost) return this.record(ghost);
    try { return this.resolve(ref); } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  /** The layers' diff dirs, top-most first (overlay lowerdir order). */
  lowerDirs(img: ImageRecord): string[] {
    const diffIds: string[] = this.images.get(img.id)?.diffIds ?? img.config?.rootfs?.diff_ids ?? [];
    return [...diffIds].reverse().map((d) => this.layers.diffDir(d));
  }

  // ---------- writes ----------

  private async writeMeta(s: Stored): Promise<void> { await writeJsonAtomic(this.metaFile(s.id), s.meta); }

  private async saveRefs(): Promise<void> {
    await writeJsonAtomic(this.refsFile, Object.fromEntries([...this.refs].sort(([a], [b]) => (a < b ? -1 : 1))));
  }

  private emit(action: string, id: string, name: string, labels?: Record<string, string> | null): void {
    this.events.emit('image', action, id, { ...(labels ?? {}), ...(name ? { name } : {}) });
  }

  /** Moves prepared layers into place and records the config. Call under the lock. */
  private async register(raw: Buffer, prepared: PreparedLayer[]): Promise<Stored> {
    for (const p of prepared) await this.layers.commit(p);
    const config = JSON.parse(raw.toString('utf8'));
    const diffIds: string[] = config.rootfs?.diff_ids ?? [];
    const gone = diffIds.find((d) => !this.layers.has(d));
    if (gone) throw new Error(`layer ${gone} was deleted while the image was being registered; try again`);
    const id = `sha256:${sha256(raw)}`;
    let s = this.images.get(id);
    if (!s) {
      await writeFileAtomic(this.configFile(id), raw, 0o644);
      s = { id, config, diffIds, meta: { recorded: new Date().toISOString() } };
      this.images.set(id, s);
      await this.writeMeta(s);
    } else if (s.meta.ghost) {
      s.meta.ghost = false;
      await this.writeMeta(s);
    }
    return s;
  }

  /** Points a tag at an image (moving it from another one, like Docker). Returns the previous image ID. */
  private async setTag(ref: Reference, s: Stored): Promise<string | undefined> {
    const key = familiarString(ref);
    const prev = this.refs.get(key);
    this.refs.set(key, s.id);
    await this.saveRefs();
    s.meta.lastTagTime = new Date().toISOString();
    await this.writeMeta(s);
    return prev;
  }

  private async untag(key: string): Promise<void> {
    this.refs.delete(key);
    await this.saveRefs();
  }

  async importTar(input: Readable, opts: ImportOptions = {}): Promise<string> {
    const ref = repoTagReference(opts.repo, opts.tag);
    const [os = 'linux', arch = hostArch()] = (opts.platform || '').split('/').map((x) => x.toLowerCase()).map((x) => x || undefined);
    if (os !== 'linux') throw new BadRequest(`unsupported os ${os}`);
    const cfg = applyChanges({}, opts.changes ?? []);
    const prepared = await this.layers.prepare(await decompressed(input));
    const raw = Buffer.from(JSON.stringify(importConfig({
      diffId: prepared.diffId, config: cfg, comment: opts.message || 'Imported from -', created: new Date(), arch, os,
    })));
    const s = await this.locked(async () => {
      const s = await this.register(raw, [prepared]);
      if (ref) await this.setTag(ref, s);
      return s;
    }).catch(async (e) => { await this.layers.discard(prepared); throw e; });
    if (ref) this.emit('tag', s.id, familiarString(ref), s.config.config?.Labels);
    this.emit('import', s.id, s.id, s.config.config?.Labels);
    return s.id;
  }

  /** `docker commit`: the parent's layers plus `layer` (an uncompressed tar), tagged when `ref` is given. */
  async commit(layer: Readable, o: CommitOptions): Promise<string> {
    const parent = this.images.get(o.parent);
    if (!parent) throw new NotFound(`No such image: ${o.parent}`);
    const prepared = await this.layers.prepare(layer);
    const empty = prepared.diffId === EMPTY_LAYER_DIFF_ID;
    const raw = Buffer.from(JSON.stringify(childConfig(parent.config, {
      diffId: empty ? undefined : prepared.diffId, config: o.config, containerConfig: o.containerConfig, container: o.container,
      author: o.author, comment: o.comment, created: new Date(),
    })));
    const s = await this.locked(async () => {
      const s = await this.register(raw, empty ? [] : [prepared]);
      s.meta.parent = parent.id;
      await this.writeMeta(s);
      if (o.ref) await this.setTag(o.ref, s);
      return s;
    }).catch(async (e) => { await this.layers.discard(prepared); throw e; });
    if (empty) await this.layers.discard(prepared);
    if (o.ref) this.emit('tag', s.id, familiarString(o.ref), s.config.config?.Labels);
    return s.id;
  }

  /** `docker load`: returns Docker's output lines ("Loaded image: busybox:latest", "Loaded image ID: sha256:..."). */
  async load(input: Readable, onProgress?: ProgressFn): Promise<string[]> {
    await fs.mkdir(this.layers.tmpDir, { recursive: true });
    const dir = await fs.mkdtemp(path.join(this.layers.tmpDir, 'load-'));
    const out: string[] = [];
    try {
      const spool = await Spool.read(input, dir);
      const manifest = await spool.readJson<ManifestItem[]>('manifest.json');
      if (!manifest) throw new BadRequest('invalid archive: manifest.json not found (only archives written by docker save 1.10 or later are supported)');
      if (!Array.isArray(manifest.value)) throw new BadRequest('invalid archive: manifest.json is not a list');
      for (const m of manifest.value) out.push(...await this.loadOne(spool, m, onProgress));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    return out;
  }

  private async loadOne(spool: Spool, m: ManifestItem, onProgress?: ProgressFn): Promise<string[]> {
    const cfg = await spool.readJson<any>(m.Config);
    if (!cfg) throw new BadRequest(`invalid archive: ${m.Config} not found`);
    const id = `sha256:${sha256(cfg.raw)}`;
    const named = /([a-f0-9]{64})(\.json)?$/.exec(m.Config);
    if (named && named[1] !== hex(id)) throw new BadRequest(`invalid archive: config ${m.Config} has digest ${id}`);
    if (cfg.value.os && cfg.value.os !== 'linux') throw new BadRequest(`image operating system "${cfg.value.os}" cannot be used on this platform`);
    const diffIds: string[] = cfg.value.rootfs?.diff_ids ?? [];
    const layerPaths = m.Layers ?? [];
    if (diffIds.length !== layerPaths.length) throw new BadRequest(`invalid manifest, layers length mismatch: expected ${layerPaths.length}, got ${diffIds.length}`);
    const tags = (m.RepoTags ?? []).map((t) => {
      const r = parseNormalizedNamed(t);
      if (!r.tag || r.digest) throw new BadRequest(`invalid tag "${t}"`);
      return r;
    });
    const prepared: PreparedLayer[] = [];
    try {
      for (let i = 0; i < diffIds.length; i++) {
        const f = spool.get(layerPaths[i]);
        if (!f) throw new BadRequest(`invalid archive: layer ${layerPaths[i]} not found`);
        const progress = { id: shortId(diffIds[i]), status: 'Loading layer' };
        if (this.layers.has(diffIds[i]) && f.sha256 === hex(diffIds[i])) continue;
        onProgress?.({ ...progress, progressDetail: { current: 0 } });
        prepared.push(await this.layers.prepare(await decompressed(spool.open(layerPaths[i])), diffIds[i]).catch((e: Error) => {
          throw new BadRequest(e.message.replace('invalid diffID for layer', `invalid diffID for layer ${i}`));
        }));
        onProgress?.({ ...progress, progressDetail: {} });
      }
    } catch (e) {
      await Promise.all(prepared.map((p) => this.layers.discard(p)));
      throw e;
    }
    const lines: string[] = [];
    const s = await this.locked(async () => {
      const s = await this.register(cfg.raw, prepared);
      for (const t of tags) {
        const prev = await this.setTag(t, s);
        if (prev && prev !== s.id) lines.push(`The image ${familiarString(t)} already exists, renaming the old one with ID ${prev} to empty string`);
        lines.push(`Loaded image: ${familiarString(t)}`);
      }
      return s;
    }).catch(async (e) => { await Promise.all(prepared.map((p) => this.layers.discard(p))); throw e; });
    if (!tags.length) lines.push(`Loaded image ID: ${s.id}`);
    this.emit('load', s.id, s.id, s.config.config?.Labels);
    return lines;
  }

  /** `docker save`: by tag keeps that tag, by bare name all tags of the repository, by ID none. */
  async save(refs: string[], out: Writable): Promise<void> {
    const chosen = new Map<string, Set<string>>();
    const add = (id: string, tag?: string) => {
      if (!chosen.has(id)) chosen.set(id, new Set());
      if (tag) chosen.get(id)!.add(tag);
    };
    for (const r of refs) {
      const any = parseAnyReference(r);
      if ('ref' in any && !any.ref.tag && !any.ref.digest) {
        const name = familiarName(any.ref);
        const inRepo = [...this.refs].filter(([k]) => !k.includes('@') && k.slice(0, k.lastIndexOf(':')) === name);
        if (inRepo.length) { for (const [k, id] of inRepo) add(id, k); continue; }
      }
      const s = this.find(r);
      const tag = 'ref' in any && any.ref.tag ? familiarString(any.ref) : undefined;
      add(s.id, tag && this.refs.get(tag) === s.id ? tag : undefined);
    }
    const list: SaveImage[] = [...chosen].map(([id, tags]) => {
      const s = this.images.get(id)!;
      if (!s.diffIds.length) throw new BadRequest('empty export - not implemented');
      return { id, raw: Buffer.alloc(0), diffIds: s.diffIds, config: s.config, tags: [...tags], created: new Date(parseTime(s.config.created)) };
    });
    for (const img of list) img.raw = await fs.readFile(this.configFile(img.id));
    await writeArchive(out, list, (d) => this.layers.tarPath(d));
    for (const img of list) this.emit('save', img.id, img.id, img.config.config?.Labels);
  }

  async tag(source: string, repo: string, tag?: string): Promise<string> {
    const s = this.find(source);
    let ref = parseNormalizedNamed(repo);
    if (tag) ref = withTag(ref, tag);
    if (ref.digest) throw new BadRequest('refusing to create a tag with a digest reference');
    ref = tagNameOnly(ref);
    if (familiarName(ref) === 'sha256') throw new BadRequest('refusing to create an ambiguous tag using digest algorithm as name');
    await this.locked(() => this.setTag(ref, s));
    const name = familiarString(ref);
    this.emit('tag', s.id, name, s.config.config?.Labels);
    return name;
  }

  // ---------- reads for the API ----------

  /** `/images/json` entries, newest first. Dangling images have empty RepoTags/RepoDigests. */
  list(opts: { all?: boolean; filters?: Filters | string | null } | Filters | string = {}): any[] {
    const o = typeof opts === 'string' || opts instanceof Filters ? { filters: opts } : opts;
    const f = o.filters instanceof Filters ? o.filters : parseFilters(o.filters);
    f.validate(LIST_FILTERS);
    let danglingOnly = false;
    if (f.contains('dangling')) {
      if (f.exactMatch('dangling', 'true')) danglingOnly = true;
      else if (!f.exactMatch('dangling', 'false')) throw new BadRequest(`invalid filter 'dangling=[${f.get('dangling').join(' ')}]'`);
    }
    let before = Infinity;
    let since = -Infinity;
    for (const r of f.get('before')) before = parseTime(this.find(r).config.created);
    for (const r of f.get('since')) since = parseTime(this.find(r).config.created);
    const out: { at: number; e: any }[] = [];
    for (const s of this.images.values()) {
      if (s.meta.ghost) continue;
      const created = parseTime(s.config.created);
      if (created >= before || created <= since) continue;
      if (f.contains('label') && (!s.config.config || !f.matchKVList('label', s.config.config.Labels))) continue;
      let refs = this.refsOf(s.id);
      if (f.contains('reference')) refs = refs.filter((k) => f.get('reference').some((p) => familiarMatch(p, parseNormalizedNamed(k))));
      const tags = refs.filter((r) => !r.includes('@'));
      if (refs.length === 0) {
        if (f.contains('dangling') && !danglingOnly) continue;
        if (f.contains('reference')) continue;
      } else if (danglingOnly && tags.length) continue;
      const size = this.sizeOf(s);
      out.push({ at: created, e: {
        Containers: -1, Created: Math.floor(created / 1000), Id: s.id, Labels: s.config.config?.Labels ?? null, ParentId: s.meta.parent ?? '',
        RepoDigests: refs.filter((r) => r.includes('@')), RepoTags: tags, SharedSize: -1, Size: size, VirtualSize: size,
      } });
    }
    return out.sort((a, b) => b.at - a.at || (a.e.Id < b.e.Id ? -1 : 1)).map((x) => x.e);
  }

  /** `/images/{name}/json`. */
  inspect(ref: string): any {
    const s = this.find(ref);
    const r = this.record(s);
    const c = s.config;
    const dirs = this.lowerDirs(r);
    const top = s.diffIds.length ? this.layers.dir(s.diffIds[s.diffIds.length - 1]) : '';
    const data: Record<string, string> = top ? { MergedDir: `${top}/merged`, UpperDir: dirs[0], WorkDir: `${top}/work` } : {};
    if (dirs.length > 1) data.LowerDir = dirs.slice(1).join(':');
    return {
      Id: s.id, RepoTags: r.repoTags, RepoDigests: r.repoDigests, Parent: s.meta.parent ?? c.parent ?? '',
      // a committed image keeps its message in the history only; Docker shows the last entry's
      Comment: c.comment || (c.history?.length ? c.history[c.history.length - 1].comment : '') || '',
      Created: c.created ?? ZERO_TIME, Container: c.container ?? '', ContainerConfig: containerConfig(c.container_config ?? {}),
      DockerVersion: c.docker_version ?? '', Author: c.author ?? '', Config: c.config ? containerConfig(c.config) : null,
      Architecture: c.architecture ?? '', ...(c.variant ? { Variant: c.variant } : {}), Os: c.os ?? '',
      ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
      Size: r.size, VirtualSize: r.size,
      GraphDriver: { Data: data, Name: 'overlay2' },
      RootFS: { Type: c.rootfs?.type ?? 'layers', ...(s.diffIds.length ? { Layers: s.diffIds } : {}) },
      Metadata: { LastTagTime: s.meta.lastTagTime ?? ZERO_TIME },
    };
  }

  /** `/images/{name}/history`: newest first; only the top entry carries the image ID, as in Docker. */
  history(ref: string): any[] {
    const s = this.find(ref);
    const out: any[] = [];
    let layer = 0;
    for (const h of (s.config.history ?? []) as any[]) {
      let size = 0;
      if (!h.empty_layer) {
        if (layer >= s.diffIds.length) throw new Error('too many non-empty layers in History section');
        size = this.layers.size(s.diffIds[layer++]);
      }
      out.unshift({ Comment: h.comment ?? '', Created: Math.floor(parseTime(h.created) / 1000), CreatedBy: h.created_by ?? '', Id: '<missing>', Size: size, Tags: null });
    }
    // Docker names the entries from the top down with the image, its parent, the parent's parent...
    let img: Stored | undefined = s;
    for (const h of out) {
      if (!img) break;
      const tags = this.refsOf(img.id).filter((t) => !t.includes('@'));
      Object.assign(h, { Id: img.id, Tags: tags.length ? tags : null });
      img = img.meta.parent ? this.live(img.meta.parent) : undefined;
    }
    return out;
  }

  /** Data for `/system/df`: unique layer bytes and the images with shared sizes and container counts. */
  diskUsage(containerCount?: (imageId: string) => number): { LayersSize: number; Images: any[] } {
    const refCount = new Map<string, number>();
    for (const s of this.images.values()) for (const d of new Set(s.diffIds)) refCount.set(d, (refCount.get(d) ?? 0) + 1);
    const images = this.list().map((e) => {
      const s = this.images.get(e.Id)!;
      const shared = [...new Set(s.diffIds)].filter((d) => (refCount.get(d) ?? 0) > 1).reduce((n, d) => n + this.layers.size(d), 0);
      return { ...e, SharedSize: shared, Containers: containerCount ? containerCount(e.Id) : 0 };
    });
    return { LayersSize: this.layers.all().reduce((n, d) => n + this.layers.size(d), 0), Images: images };
  }

  // ---------- removal ----------

  async remove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}, usedBy: UsedBy = () => []): Promise<DeleteItem[]> {
    return this.locked(async () => {
      await this.collectGhosts(usedBy);
      return (await this.removeLocked(ref, !!opts.force, usedBy)).records;
    });
  }

  /** Docker's ImageDelete, messages included. */
  private async removeLocked(ref: string, force: boolean, usedBy: UsedBy): Promise<{ records: DeleteItem[]; reclaimed: number }> {
    const s = this.find(ref);
    const id = s.id;
    const users = usedBy(id);
    const records: DeleteItem[] = [];
    const untag = async (key: string) => {
      await this.untag(key);
      records.push({ Untagged: key });
      this.emit('untag', id, id, s.config.config?.Labels);
    };
    let repoRefs = this.refsOf(id);
    let byRepositoryRef = false;
    if (!isIdPrefix(id, ref)) {
      if (!force && isSingleReference(repoRefs) && users.length) {
        throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0].id)} is using its referenced image ${shortId(id)}`);
      }
      const parsed = tagNameOnly(parseNormalizedNamed(ref));
      const key = familiarString(parsed);
      if (this.refs.get(key) !== id) throw new NotFound(`No such image: ${key}`);
      await untag(key);
      repoRefs = this.refsOf(id);
      const name = familiarName(parsed);
      // Removing the last tag of a repository also drops that repository's digest references.
      if (!parsed.digest && !repoRefs.some((r) => !r.includes('@') && refName(r) === name)) {
        for (const r of repoRefs.filter((x) => x.includes('@') && refName(x) === name)) await untag(r);
        repoRefs = this.refsOf(id);
      }
      if (repoRefs.length) return { records, reclaimed: 0 };
      byRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const c = this.conflict(s, users, force ? { running: true } : { running: true, stopped: true });
      if (c) throw c.error;
      for (const r of repoRefs) await untag(r);
    }
    const c = this.conflict(s, users, force ? { running: true } : { running: true, stopped: true, referenced: true });
    if (c) {
      // Untagging by name succeeded; an image still in use just stays, dangling (Docker's "quiet" conflict).
      if (byRepositoryRef && c.used) return { records, reclaimed: 0 };
      throw c.error;
    }
    for (const r of this.refsOf(id)) await untag(r);
    const { chains, reclaimed } = await this.deleteImage(s, users.length > 0);
    this.emit('delete', id, id, s.config.config?.Labels);
    records.push({ Deleted: id }, ...chains.map((ch) => ({ Deleted: ch })));
    return { records, reclaimed };
  }

  private conflict(s: Stored, users: { id: string; running: boolean }[], mask: { running?: boolean; stopped?: boolean; referenced?: boolean }): { error: Conflict; used: boolean } | undefined {
    const make = (hard: boolean, used: boolean, why: string) => ({
      used, error: new Conflict(`conflict: unable to delete ${shortId(s.id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${why}`),
    });
    // a committed image's parent stays while the child exists (Docker's conflictDependentChild, always hard)
    if ([...this.images.values()].some((o) => !o.meta.ghost && o.meta.parent === s.id)) return make(true, true, 'image has dependent child images');
    const running = users.find((u) => u.running);
    if (mask.running && running) return make(true, true, `image is being used by running container ${shortId(running.id)}`);
    if (mask.referenced && this.refsOf(s.id).length) return make(false, false, 'image is referenced in multiple repositories');
    const stopped = users.find((u) => !u.running);
    if (mask.stopped && stopped) return make(false, true, `image is being used by stopped container ${shortId(stopped.id)}`);
    return undefined;
  }

  /** Drops the image record and the layers no other image uses; returns the removed chain IDs, top first. */
  private async deleteImage(s: Stored, inUse: boolean): Promise<{ chains: string[]; reclaimed: number }> {
    if (inUse) {
      // A container still has these layers as its lowerdirs: keep them (and the record, hidden) like Docker's RWLayer reference.
      s.meta.ghost = true;
      await this.writeMeta(s);
      return { chains: [], reclaimed: 0 };
    }
    this.images.delete(s.id);
    await fs.rm(this.configFile(s.id), { force: true });
    await fs.rm(this.metaFile(s.id), { force: true });
    const usedDiffs = new Set<string>();
    const usedChains = new Set<string>();
    for (const o of this.images.values()) {
      o.diffIds.forEach((d) => usedDiffs.add(d));
      chainIds(o.diffIds).forEach((c) => usedChains.add(c));
    }
    const chains = chainIds(s.diffIds).filter((c) => !usedChains.has(c)).reverse();
    let reclaimed = 0;
    for (const d of new Set(s.diffIds)) {
      if (usedDiffs.has(d)) continue;
      reclaimed += this.layers.size(d);
      this.layers.remove(d);
    }
    return { chains, reclaimed };
  }

  private async collectGhosts(usedBy: UsedBy): Promise<void> {
    for (const s of [...this.images.values()]) if (s.meta.ghost && usedBy(s.id).length === 0) await this.deleteImage(s, false);
  }

  /** `POST /images/prune`: dangling images by default, every unused one with dangling=false. */
  async prune(opts: { all?: boolean; filters?: Filters | string | null } = {}, usedBy: UsedBy = () => []): Promise<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }> {
    const f = opts.filters instanceof Filters ? opts.filters : parseFilters(opts.filters);
    f.validate(PRUNE_FILTERS);
    const danglingOnly = opts.all ? false : f.bool('dangling') ?? true;
    const untilVals = f.get('until');
    if (untilVals.length > 1) throw new BadRequest('more than one until filter specified');
    const until = untilVals.length ? parseTimestamp(untilVals[0]) : undefined;
    const deleted: DeleteItem[] = [];
    let reclaimed = 0;
    await this.locked(async () => {
      await this.collectGhosts(usedBy);
      for (const s of [...this.images.values()]) {
        if (s.meta.ghost || !this.images.has(s.id)) continue;
        if (until !== undefined && parseTime(s.config.created) > until) continue;
        const labels = s.config.config?.Labels;
        if (s.config.config && (!f.matchKVList('label', labels) || (f.contains('label!') && f.matchKVList('label!', labels)))) continue;
        const refs = this.refsOf(s.id);
        const targets = refs.length ? (!danglingOnly || !refs.some((r) => !r.includes('@')) ? refs : []) : [hex(s.id)];
        for (const t of targets) {
          try {
            const r = await this.removeLocked(t, false, usedBy);
            deleted.push(...r.records);
            reclaimed += r.reclaimed;
          } catch (e) {
            if (!(e instanceof Conflict)) this.log.warn({ err: e, image: t }, 'prune: cannot delete image');
          }
        }
      }
    });
    if (deleted.length) this.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }
}

function hex(id: string): string { return id.replace(/^sha256:/, ''); }

/** The `repo` and `tag` query parameters of import and commit (Docker's RepoTagReference); undefined without repo. */
export function repoTagReference(repo?: string | null, tag?: string | null): Reference | undefined {
  if (!repo) return undefined;
  const ref = parseNormalizedNamed(repo);
  if (ref.digest) throw new BadRequest('cannot import digest reference');
  return tagNameOnly(tag ? withTag(ref, tag) : ref);
}

function refName(key: string): string {
  const at = key.indexOf('@');
  return at !== -1 ? key.slice(0, at) : key.slice(0, key.lastIndexOf(':'));
}

/** Docker's isImageIDPrefix: "sha256:abc", "abc" and the full ID all name the image itself. */
function isIdPrefix(id: string, ref: string): boolean {
  return id.startsWith(ref) || hex(id).startsWith(ref);
}

/** One tag (possibly with digest references of the same repository), as Docker's isSingleReference. */
function isSingleReference(refs: string[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.includes('@'));
  if (tags.length > 1) return false;
  const digestRepos = new Set(refs.filter((r) => r.includes('@')).map(refName));
  const single = tags[0] ?? refs[0];
  return digestRepos.size === 1 && digestRepos.has(refName(single));
}
