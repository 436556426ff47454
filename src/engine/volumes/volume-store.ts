import { promises as fs } from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { ApiError, BadRequest, Conflict, NotFound } from '../../api/errors.js';
import type { Logger } from '../../daemon/logger.js';
import { readJson, writeJsonAtomic } from '../../util/atomic-file.js';
import { run } from '../../util/exec.js';
import type { EventBus } from '../events.js';
import { parseFilters, type Filters } from '../images/filters.js';

// Docker's `local` volume driver: a volume is the directory <root>/<name>/_data (root = <data-root>/volumes),
// its metadata <root>/<name>/volume.json. Creation builds the whole directory under a dot-name and renames it
// into place; removal renames it away before deleting, so a crash never leaves half a volume behind.

export interface VolumeMeta {
  Name: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  CreatedAt: string;
  /** Created for a container without a name (-v /path, image VOLUME, --mount without source). */
  Anonymous?: boolean;
}

/** The API's Volume object (GET /volumes/{name}). */
export interface VolumeInfo {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

export interface CreateVolumeRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_OPTS = new Set(['type', 'device', 'o']);

/** Docker's local-driver name check, with its error texts (without the "create NAME: " prefix). */
export function validateVolumeName(name: string): string | undefined {
  if (name.length === 1) return 'volume name is too short, names should be at least two alphanumeric characters';
  if (!NAME_RE.test(name)) {
    return `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return undefined;
}

/** Go's time.Time JSON of a local time, at second precision like Docker's volume CreatedAt ("2024-01-02T03:04:05Z"). */
export function volumeTimestamp(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const base = local.toISOString().slice(0, 19);
  if (off === 0) return `${base}Z`;
  const sign = off > 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${base}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const nonEmpty = (m: Record<string, string> | null | undefined) => (m && Object.keys(m).length ? { ...m } : null);

export interface VolumeStoreOptions {
  root: string;
  events: EventBus;
  log: Logger;
}

export class VolumeStore {
  private vols = new Map<string, VolumeMeta>();
  /** IDs of the containers that reference a volume (any state), set by the daemon wiring. */
  usersOf: (name: string) => string[] = () => [];
  /** IDs of the running containers that use a volume (a driver mount stays while one does). */
  runningUsersOf: (name: string) => string[] = () => [];
  /** Containers being created: their volumes must not be pruned before their record exists. */
  private holds = new Map<string, Set<string>>();
  /** Running containers that mounted a volume (a driver mount, type=tmpfs/nfs..., is shared by them). */
  private active = new Map<string, Set<string>>();
  private locks = new Map<string, Promise<unknown>>();

  constructor(private o: VolumeStoreOptions) {}

  get root(): string { return this.o.root; }
  dir(name: string): string { return path.join(this.o.root, name); }
  mountpoint(name: string): string { return path.join(this.o.root, name, '_data'); }

  async init(): Promise<void> {
    await fs.mkdir(this.o.root, { recursive: true, mode: 0o701 });
    for (const ent of await fs.readdir(this.o.root, { withFileTypes: true })) {
      if (!ent.isDirectory()) continue;
      const d = path.join(this.o.root, ent.name);
      // Leftovers of a create or remove cut short by a crash.
      if (ent.name.startsWith('.')) { await fs.rm(d, { recursive: true, force: true }).catch(() => undefined); continue; }
      let meta = await readJson<VolumeMeta>(path.join(d, 'volume.json')).catch(() => undefined);
      if (!meta) {
        // A directory someone put there by hand is a volume too, as with Docker's local driver.
        if (validateVolumeName(ent.name)) continue;
        await fs.mkdir(path.join(d, '_data'), { recursive: true });
        const st = await fs.stat(d);
        meta = { Name: ent.name, Driver: 'local', Labels: null, Options: null, CreatedAt: volumeTimestamp(st.mtime) };
        await writeJsonAtomic(path.join(d, 'volume.json'), meta);
      }
      this.vols.set(meta.Name, meta);
    }
  }

  /** Serialises operations on one volume name (create vs remove races). */
  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(name, tail);
    try { return await next; } finally { if (this.locks.get(name) === tail) this.locks.delete(name); }
  }

  has(name: string): boolean { return this.vols.has(name); }

  private hold(name: string, holder: string): void {
    const s = this.holds.get(name) ?? new Set<string>();
    s.add(holder);
    this.holds.set(name, s);
  }

  /** Drops the holds of a container being created (its record now references its volumes, or it failed). */
  release(holder: string): void {
    for (const [name, s] of this.holds) {
      s.delete(holder);
      if (!s.size) this.holds.delete(name);
    }
  }

  /** Containers referencing the volume, including ones being created. */
  users(name: string): string[] {
    const out = new Set(this.usersOf(name));
    for (const h of this.holds.get(name) ?? []) out.add(h);
    return [...out];
  }
  meta(name: string): VolumeMeta | undefined { return this.vols.get(name); }
  names(): string[] { return [...this.vols.keys()]; }

  info(m: VolumeMeta): VolumeInfo {
    return {
      CreatedAt: m.CreatedAt, Driver: m.Driver, Labels: m.Labels, Mountpoint: this.mountpoint(m.Name),
      Name: m.Name, Options: m.Options, Scope: 'local',
    };
  }

  get(name: string): VolumeInfo {
    const m = this.vols.get(name);
    if (!m) throw new NotFound(`get ${name}: no such volume`);
    return this.info(m);
  }

  /**
   * POST /volumes/create: creates the volume, or returns the existing one of that name (Docker ignores
   * the new labels/options then). No name: an anonymous-looking 64-hex name.
   */
  async create(req: CreateVolumeRequest, opts: { anonymous?: boolean; holder?: string } = {}): Promise<VolumeInfo> {
    const name = req.Name || crypto.randomBytes(32).toString('hex');
    const driver = req.Driver || 'local';
    const err = validateVolumeName(name);
    if (err) throw new BadRequest(`create ${name}: ${err}`);
    if (driver !== 'local') throw new NotFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    return this.locked(name, async () => {
      const have = this.vols.get(name);
      if (have) {
        if (opts.holder) this.hold(name, opts.holder);
        return this.info(have);
      }
      const options = nonEmpty(req.DriverOpts);
      for (const k of Object.keys(options ?? {})) {
        if (k === 'size') throw new BadRequest(`create ${name}: quota size requested but no quota support`);
        if (!LOCAL_OPTS.has(k)) throw new BadRequest(`create ${name}: invalid option: "${k}"`);
      }
      if (options && (options.type || options.device) && !(options.type && options.device)) {
        throw new BadRequest(`create ${name}: missing required option: "${options.type ? 'device' : 'type'}"`);
      }
      const meta: VolumeMeta = { Name: name, Driver: 'local', Labels: nonEmpty(req.Labels), Options: options, CreatedAt: volumeTimestamp() };
      if (opts.anonymous) meta.Anonymous = true;
      const tmp = path.join(this.o.root, `.${name}.creating-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      try {
        await fs.mkdir(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
        await fs.chmod(tmp, 0o701);
        await writeJsonAtomic(path.join(tmp, 'volume.json'), meta);
        await fs.rename(tmp, this.dir(name));
      } catch (e) {
        await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
        throw e;
      }
      this.vols.set(name, meta);
      if (opts.holder) this.hold(name, opts.holder);
      this.o.events.emit('volume', 'create', name, { driver: 'local' });
      return this.info(meta);
    });
  }

  /** DELETE /volumes/{name}: refuses a volume any container references; force only ignores a missing one. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.locked(name, async () => {
      const m = this.vols.get(name);
      if (!m) {
        if (opts.force) return;
        throw new NotFound(`get ${name}: no such volume`);
      }
      const users = this.users(name);
      if (users.length) throw new Conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      this.active.delete(name);
      await this.unmountDriver(name);
      const gone = path.join(this.o.root, `.${name}.removing-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      try {
        await fs.rename(this.dir(name), gone);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ApiError(500, `remove ${name}: ${(e as Error).message}`);
      }
      this.vols.delete(name);
      await fs.rm(gone, { recursive: true, force: true }).catch((err) => this.o.log.warn({ volume: name, err: (err as Error).message }, 'removing volume data failed'));
      this.o.events.emit('volume', 'destroy', name, { driver: 'local' });
    });
  }

  /** GET /volumes filters: name and driver (regular expressions, as Docker), label, dangling. */
  list(filtersJson: string | null): VolumeInfo[] {
    const f = parseFilters(filtersJson);
    for (const k of f.keys()) if (!['name', 'driver', 'label', 'dangling'].includes(k)) throw new BadRequest(`Invalid filter '${k}'`);
    const dangling = boolFilter(f, 'dangling');
    return [...this.vols.values()].filter((m) => {
      if (f.contains('name') && !f.get('name').some((n) => goMatch(n, m.Name))) return false;
      if (f.contains('driver') && !f.get('driver').some((d) => goMatch(d, m.Driver))) return false;
      if (!f.matchKVList('label', m.Labels)) return false;
      if (dangling !== undefined && (this.users(m.Name).length === 0) !== dangling) return false;
      return true;
    }).map((m) => this.info(m));
  }

  /** POST /volumes/prune with API 1.41 semantics: every unused local volume matching the label filters. */
  async prune(filtersJson: string | null): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    const f = parseFilters(filtersJson);
    for (const k of f.keys()) if (!['label', 'label!'].includes(k)) throw new BadRequest(`Invalid filter '${k}'`);
    const deleted: string[] = [];
    let space = 0;
    for (const m of [...this.vols.values()]) {
      if (!f.matchKVList('label', m.Labels)) continue;
      if (f.contains('label!') && f.get('label!').some((l) => labelMatches(l, m.Labels))) continue;
      if (this.users(m.Name).length) continue;
      const size = await this.size(m.Name);
      try {
        await this.remove(m.Name);
        deleted.push(m.Name);
        space += size;
      } catch (e) {
        this.o.log.warn({ volume: m.Name, err: (e as Error).message }, 'prune: volume not removed');
      }
    }
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: space };
  }

  /** Bytes of the files under the volume's _data (directories not counted, hard links once), like Docker's df. */
  async size(name: string): Promise<number> {
    const r = await run('find', [this.mountpoint(name), '-xdev', '!', '-type', 'd', '-printf', '%i %s\n']).catch(() => undefined);
    if (!r || r.code !== 0) return -1;
    const seen = new Set<string>();
    let total = 0;
    for (const line of r.stdout.split('\n')) {
      const [ino, size] = line.split(' ');
      if (!size || seen.has(ino)) continue;
      seen.add(ino);
      total += Number(size);
    }
    return total;
  }

  /** /system/df: every volume with UsageData. */
  async diskUsage(): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (const m of this.vols.values()) {
      out.push({ ...this.info(m), UsageData: { Size: await this.size(m.Name), RefCount: this.users(m.Name).length } });
    }
    return out;
  }

  // ---------- driver mounts (local driver options: type, device, o) ----------

  /** Before a container using the volume starts: mounts the driver device on _data when the volume has one. */
  async mountFor(name: string, containerId: string, how: { destination: string; rw: boolean; propagation: string }): Promise<string> {
    const m = this.vols.get(name);
    if (!m) throw new NotFound(`get ${name}: no such volume`);
    const opt = m.Options;
    const mp = this.mountpoint(name);
    if (opt?.type && opt.device && !(await isMountpoint(mp))) {
      const args = ['-t', opt.type];
      if (opt.o) args.push('-o', opt.o);
      const r = await run('mount', [...args, opt.device, mp]);
      if (r.code !== 0) throw new ApiError(500, `error while mounting volume '${mp}': failed to mount local volume: mount ${opt.device}:${mp}, flags: ${opt.o ?? ''}: ${(r.stderr || r.stdout).trim()}`);
    }
    const set = this.active.get(name) ?? new Set<string>();
    set.add(containerId);
    this.active.set(name, set);
    this.o.events.emit('volume', 'mount', name, {
      container: containerId, destination: how.destination, driver: m.Driver, propagation: how.propagation, 'read/write': String(how.rw),
    });
    return mp;
  }

  /**
   * After a container stopped: unmounts the driver device when no other running container uses the volume
   * (asked of the container records, so it also holds for containers started before a daemon restart).
   */
  async unmountFor(name: string, containerId: string): Promise<void> {
    const set = this.active.get(name);
    if (set?.delete(containerId)) {
      this.o.events.emit('volume', 'unmount', name, { container: containerId, driver: this.vols.get(name)?.Driver ?? 'local' });
    }
    if (set && set.size === 0) this.active.delete(name);
    if (this.vols.get(name)?.Options?.type && !this.runningUsersOf(name).some((id) => id !== containerId)) await this.unmountDriver(name);
  }

  private async unmountDriver(name: string): Promise<void> {
    const mp = this.mountpoint(name);
    if (await isMountpoint(mp)) {
      const r = await run('umount', [mp]);
      if (r.code !== 0) await run('umount', ['-l', mp]);
    }
  }
}

function boolFilter(f: Filters, key: string): boolean | undefined {
  if (!f.contains(key)) return undefined;
  const vals = f.get(key);
  if (vals.length === 1 && (vals[0] === 'true' || vals[0] === '1')) return true;
  if (vals.length === 1 && (vals[0] === 'false' || vals[0] === '0')) return false;
  throw new BadRequest(`Invalid filter '${key}=[${vals.join(' ')}]'`);
}

/** Docker's filters.Args.Match: equal, or the value as an (unanchored) regular expression; an invalid one never matches. */
function goMatch(pattern: string, s: string): boolean {
  if (pattern === s) return true;
  try { return new RegExp(pattern).test(s); } catch { return false; }
}

function labelMatches(l: string, labels: Record<string, string> | null): boolean {
  if (!labels) return false;
  const i = l.indexOf('=');
  const k = i < 0 ? l : l.slice(0, i);
  if (!Object.prototype.hasOwnProperty.call(labels, k)) return false;
  return i < 0 || labels[k] === l.slice(i + 1);
}

async function isMountpoint(p: string): Promise<boolean> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return info.split('\n').some((l) => l.split(' ')[4] === p);
}
