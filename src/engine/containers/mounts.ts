import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BadRequest } from '../../api/errors.js';
import type { Logger } from '../../daemon/logger.js';
import { run } from '../../util/exec.js';
import type { VolumeStore } from '../volumes/volume-store.js';
import type { SpecMount } from './oci-spec.js';
import type { ContainerRecord } from './types.js';

// A container's mounts, Docker's way: HostConfig.VolumesFrom, Binds (-v), Mounts (--mount) and Config.Volumes
// (-v /path and the image's VOLUMEs) are resolved once, at create, into mount points recorded with the container
// (volumes are created then); at start they become OCI mounts, a new volume being filled from the image first.

export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** bind: host path; volume: the volume's mountpoint; tmpfs: "". */
  Source: string;
  Destination: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  Name?: string;
  Driver?: string;
  /** Given by the user (-v name:/p, --mount source=name); anonymous volumes go with `rm -v`. */
  Named?: boolean;
  /** Fill the volume from the image content at Destination on first start (Docker's CopyData). */
  CopyData?: boolean;
  /** -v binds create a missing host directory; --mount binds must exist. */
  CreateSource?: boolean;
  NonRecursive?: boolean;
  /** tmpfs mount data (size=, mode=). */
  TmpfsData?: string[];
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

/** Docker's ValidMountMode: comma-separated, at most one of each kind, all known. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const seen = new Map<Set<string>, number>();
  for (const m of mode.split(',')) {
    const kind = [RW_MODES, LABEL_MODES, PROPAGATION, COPY_MODES, CONSISTENCY].find((k) => k.has(m));
    if (!kind) return false;
    const n = (seen.get(kind) ?? 0) + 1;
    if (n > 1) return false;
    seen.set(kind, n);
  }
  return true;
}

export interface ParsedBind {
  type: 'bind' | 'volume';
  /** Host path (bind), volume name (named volume) or "" (anonymous volume). */
  source: string;
  destination: string;
  mode: string;
  rw: boolean;
  propagation: string;
  copyData: boolean;
}

const cleanPath = (p: string) => { const n = path.posix.normalize(p); return n.length > 1 ? n.replace(/\/+$/, '') : n; };

/** One HostConfig.Binds entry ("/host:/ctr[:mode]", "name:/ctr[:mode]", "/ctr"), with Docker's errors. */
export function parseBind(spec: string): ParsedBind {
  const invalid = (why?: string) => new BadRequest(`invalid volume specification: '${spec}'${why ? `: ${why}` : ''}`);
  const arr = spec.split(':');
  if (arr[0] === '' || arr.length > 3) throw invalid();
  let src = ''; let dst: string; let mode = '';
  if (arr.length === 1) dst = arr[0];
  else if (arr.length === 2) {
    // "/dst:rw" is a destination with a mode: volumes without a source cannot have one.
    if (validMountMode(arr[1])) throw invalid();
    [src, dst] = arr;
  } else {
    [src, dst, mode] = arr;
    if (!validMountMode(mode)) throw new BadRequest(`invalid mode: ${mode}`);
  }
  const type = src.startsWith('/') ? 'bind' : 'volume';
  const cfg = (why: string) => invalid(`invalid mount config for type "${type}": ${why}`);
  if (!dst.startsWith('/')) throw cfg(`invalid mount path: '${dst}' mount path must be absolute`);
  if (cleanPath(dst) === '/') throw cfg(`invalid specification: destination can't be '/'`);
  const modes = mode ? mode.split(',') : [];
  if (type === 'bind' && modes.includes('nocopy')) throw cfg('field VolumeOptions must not be specified');
  const propagation = modes.find((m) => PROPAGATION.has(m)) ?? (type === 'bind' ? 'rprivate' : '');
  return {
    type, source: type === 'bind' ? cleanPath(src) : src, destination: cleanPath(dst), rw: !modes.includes('ro'),
    // Docker reports a volume given without a mode as "z" (its SELinux relabel default).
    mode: type === 'volume' && mode === '' ? 'z' : mode, propagation, copyData: !modes.includes('nocopy'),
  };
}

/** Validates one HostConfig.Mounts entry like Docker's validateMountConfig. */
export async function validateMount(m: any): Promise<void> {
  const type = String(m?.Type ?? '');
  const err = (why: string) => new BadRequest(`invalid mount config for type "${type}": ${why}`);
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw err('mount type unknown');
  if (!m.Target) throw err('field Target must not be empty');
  if (!String(m.Target).startsWith('/')) throw err(`invalid mount path: '${m.Target}' mount path must be absolute`);
  const forbid = (field: string) => { if (m[field]) throw err(`field ${field} must not be specified`); };
  if (type === 'bind') {
    forbid('VolumeOptions'); forbid('TmpfsOptions');
    if (!m.Source) throw err('field Source must not be empty');
    if (!String(m.Source).startsWith('/')) throw err(`invalid mount path: '${m.Source}' mount path must be absolute`);
    if (!m.BindOptions?.CreateMountpoint && !(await exists(m.Source))) throw err(`bind source path does not exist: ${m.Source}`);
  } else if (type === 'volume') {
    forbid('BindOptions'); forbid('TmpfsOptions');
  } else {
    forbid('BindOptions'); forbid('VolumeOptions');
    if (m.Source) throw err('field Source must not be specified');
  }
}

export interface ResolveInput {
  containerId: string;
  hostConfig: any;
  config: any;
  volumes: VolumeStore;
  /** Looks up a --volumes-from container. */
  findContainer: (ref: string) => ContainerRecord | undefined;
}

interface Planned { mp: MountPoint; create?: { name: string; anonymous: boolean; driver?: string; opts?: Record<string, string>; labels?: Record<string, string> } }

/**
 * Turns a create request's mount fields into the container's mount points, validating everything first
 * and then creating the volumes it needs (named ones on demand, anonymous ones with random names).
 * Later sources win at a destination: volumes-from < Binds/Mounts < (skipped) Config.Volumes.
 */
export async function resolveMounts(i: ResolveInput): Promise<MountPoint[]> {
  const hc = i.hostConfig ?? {};
  const byDest = new Map<string, Planned>();
  const driver = hc.VolumeDriver || undefined;

  for (const ref of hc.VolumesFrom ?? []) {
    const s = String(ref);
    const colon = s.lastIndexOf(':');
    let id = s; let mode = '';
    if (colon > 0) { id = s.slice(0, colon); mode = s.slice(colon + 1); }
    if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw new BadRequest(`invalid mode: ${mode}`);
    const other = i.findContainer(id);
    if (!other) throw new BadRequest(`No such container: ${id}`);
    for (const m of mountPointsOf(other)) {
      if (m.Type === 'tmpfs') continue; // not shareable: a tmpfs belongs to its container
      byDest.set(m.Destination, { mp: { ...m, Mode: '', RW: m.RW && mode !== 'ro', CopyData: false } });
    }
  }

  const explicit = new Set<string>();
  const claim = (dest: string) => {
    if (explicit.has(dest)) throw new BadRequest(`Duplicate mount point: ${dest}`);
    explicit.add(dest);
  };
  for (const spec of hc.Binds ?? []) {
    const b = parseBind(String(spec));
    claim(b.destination);
    if (b.type === 'bind') {
      byDest.set(b.destination, { mp: { Type: 'bind', Source: b.source, Destination: b.destination, Mode: b.mode, RW: b.rw, Propagation: b.propagation, CreateSource: true } });
    } else {
      byDest.set(b.destination, {
        mp: { Type: 'volume', Source: '', Destination: b.destination, Mode: b.mode, RW: b.rw, Propagation: '', Named: b.source !== '', CopyData: b.copyData },
        create: { name: b.source, anonymous: b.source === '', driver },
      });
    }
  }
  for (const m of hc.Mounts ?? []) {
    await validateMount(m);
    const dest = cleanPath(m.Target);
    claim(dest);
    if (m.Type === 'bind') {
      byDest.set(dest, { mp: {
        Type: 'bind', Source: cleanPath(m.Source), Destination: dest, Mode: '', RW: !m.ReadOnly,
        Propagation: m.BindOptions?.Propagation || 'rprivate', CreateSource: !!m.BindOptions?.CreateMountpoint, NonRecursive: !!m.BindOptions?.NonRecursive,
      } });
    } else if (m.Type === 'volume') {
      const vo = m.VolumeOptions ?? {};
      byDest.set(dest, {
        mp: { Type: 'volume', Source: '', Destination: dest, Mode: 'z', RW: !m.ReadOnly, Propagation: '', Named: !!m.Source, CopyData: !vo.NoCopy },
        create: { name: m.Source ?? '', anonymous: !m.Source, driver: vo.DriverConfig?.Name || driver, opts: vo.DriverConfig?.Options, labels: vo.Labels },
      });
    } else {
      const data: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) data.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) data.push(`mode=${Number(m.TmpfsOptions.Mode).toString(8)}`);
      byDest.set(dest, { mp: { Type: 'tmpfs', Source: '', Destination: dest, Mode: '', RW: !m.ReadOnly, Propagation: '', TmpfsData: data } });
    }
  }
  for (const d of Object.keys(i.config?.Volumes ?? {})) {
    const dest = cleanPath(d);
    if (byDest.has(dest)) continue;
    byDest.set(dest, {
      mp: { Type: 'volume', Source: '', Destination: dest, Mode: '', RW: true, Propagation: '', Named: false, CopyData: true },
      create: { name: '', anonymous: true, driver },
    });
  }

  // Everything is valid: now create (or look up) the volumes, held for the container until its record exists.
  const created: string[] = [];
  try {
    for (const p of byDest.values()) {
      if (!p.create) continue;
      const c = p.create;
      const existed = c.name !== '' && i.volumes.has(c.name);
      const v = await i.volumes.create({ Name: c.name || undefined, Driver: c.driver, DriverOpts: c.opts, Labels: c.labels }, { anonymous: c.anonymous, holder: i.containerId });
      if (!existed) created.push(v.Name);
      p.mp.Name = v.Name;
      p.mp.Driver = 'local';
      p.mp.Source = v.Mountpoint;
    }
  } catch (e) {
    await abandonVolumes(i.volumes, i.containerId, created);
    throw e;
  }
  return [...byDest.values()].map((p) => p.mp);
}

/** Undoes resolveMounts' volume creation when the container is not created after all. */
export async function abandonVolumes(volumes: VolumeStore, containerId: string, names: string[]): Promise<void> {
  volumes.release(containerId);
  for (const n of names) await volumes.remove(n).catch(() => undefined);
}

/** The record's mount points; records written before mount points existed are derived from their Binds/Mounts. */
export function mountPointsOf(c: ContainerRecord): MountPoint[] {
  if (c.shoal.mountPoints) return c.shoal.mountPoints;
  const out: MountPoint[] = [];
  for (const b of c.HostConfig.Binds ?? []) {
    const [src, dst, mode = ''] = String(b).split(':');
    if (!src.startsWith('/') || !dst) continue;
    out.push({ Type: 'bind', Source: src, Destination: dst, Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: 'rprivate', CreateSource: true });
  }
  for (const m of c.HostConfig.Mounts ?? []) {
    if (m.Type === 'bind') out.push({ Type: 'bind', Source: m.Source, Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: 'rprivate' });
    else if (m.Type === 'tmpfs') {
      const data: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) data.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) data.push(`mode=${Number(m.TmpfsOptions.Mode).toString(8)}`);
      out.push({ Type: 'tmpfs', Source: '', Destination: m.Target, Mode: '', RW: !m.ReadOnly, Propagation: '', TmpfsData: data });
    }
  }
  return out;
}

/** Inspect's `Mounts` (and /containers/json's): Docker's MountPoint shape. */
export function mountsSummary(mps: MountPoint[]): any[] {
  return mps.map((m) => m.Type === 'volume'
    ? { Type: 'volume', Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver ?? 'local', Mode: m.Mode, RW: m.RW, Propagation: m.Propagation }
    : { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation });
}

/** IDs of the containers whose mount points use the named volume. */
export function volumeUsers(containers: ContainerRecord[], name: string): string[] {
  return containers.filter((c) => (c.shoal.mountPoints ?? []).some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.Id);
}

/** ps --filter volume=X: a volume name, a bind source or a destination. */
export function hasVolume(c: ContainerRecord, value: string): boolean {
  return (c.Mounts ?? []).some((m: any) => m.Destination === value || (m.Name ? m.Name === value : m.Source === value));
}

/**
 * The OCI mounts of a container about to start (its rootfs mounted at `rootfs`): /etc files, binds,
 * volumes (driver-mounted and filled from the image first when new), tmpfs; parents before children.
 */
export async function specMounts(c: ContainerRecord, volumes: VolumeStore, rootfs: string): Promise<SpecMount[]> {
  const out: SpecMount[] = [];
  const mps = mountPointsOf(c);
  const user = new Set(mps.map((m) => m.Destination));
  for (const [dest, src] of [['/etc/resolv.conf', c.ResolvConfPath], ['/etc/hostname', c.HostnamePath], ['/etc/hosts', c.HostsPath]]) {
    if (!user.has(dest)) out.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  }
  for (const m of mps) {
    const rw = m.RW ? 'rw' : 'ro';
    if (m.Type === 'bind') {
      if (!(await exists(m.Source))) {
        if (!m.CreateSource) throw new BadRequest(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
        await fs.mkdir(m.Source, { recursive: true });
      }
      out.push({ destination: m.Destination, type: 'bind', source: m.Source, options: [m.NonRecursive ? 'bind' : 'rbind', rw, m.Propagation || 'rprivate'] });
    } else if (m.Type === 'volume') {
      if (!m.Name || !volumes.has(m.Name)) throw new BadRequest(`error while mounting volume '${m.Source}': get ${m.Name}: no such volume`);
      const src = await volumes.mountFor(m.Name, c.Id, { destination: m.Destination, rw: m.RW, propagation: m.Propagation });
      if (m.CopyData) {
        await copyImageContent(rootfs, m.Destination, src);
        m.CopyData = false; // once, like Docker's copy at create
      }
      out.push({ destination: m.Destination, type: 'bind', source: src, options: ['rbind', rw, m.Propagation || 'rprivate'] });
    } else {
      out.push({ destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.TmpfsData ?? []), ...(m.RW ? [] : ['ro'])] });
    }
  }
  for (const [dst, o] of Object.entries(c.HostConfig.Tmpfs ?? {})) {
    if (user.has(dst)) continue;
    out.push({ destination: dst, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...String(o).split(',').filter(Boolean)] });
  }
  // Parents first (runc mounts in order): /data before /data/sub, /etc before /etc/hosts.
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return out.map((m, idx) => ({ m, idx })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.idx - b.idx).map((x) => x.m);
}

/** After the container stopped: lets go of its volumes (driver unmount when it was the last user). */
export async function releaseMounts(c: ContainerRecord, volumes: VolumeStore): Promise<void> {
  for (const m of mountPointsOf(c)) if (m.Type === 'volume' && m.Name) await volumes.unmountFor(m.Name, c.Id);
}

/** `rm -v` / AutoRemove: the container's anonymous volumes that no other container uses. */
export async function removeAnonymousVolumes(c: ContainerRecord, volumes: VolumeStore, log: Logger): Promise<void> {
  for (const m of mountPointsOf(c)) {
    if (m.Type !== 'volume' || m.Named || !m.Name || !volumes.has(m.Name)) continue;
    if (volumes.users(m.Name).length) continue;
    await volumes.remove(m.Name).catch((e) => log.warn({ id: c.Id, volume: m.Name, err: (e as Error).message }, 'removing anonymous volume failed'));
  }
}

/**
 * Docker's copy-up: an empty volume gets the image's content at its mount path (ownership, modes, links kept)
 * and the ownership/mode of that directory. Paths are resolved inside the rootfs, never through host symlinks.
 */
export async function copyImageContent(rootfs: string, dest: string, volumeDir: string): Promise<boolean> {
  const src = await resolveInRoot(rootfs, dest);
  const st = await fs.stat(src).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  if ((await fs.readdir(volumeDir)).length) return false;
  const r = await run('cp', ['-a', '--', `${src}/.`, `${volumeDir}/`]);
  if (r.code !== 0) throw new Error(`copying image content of ${dest} into volume: ${(r.stderr || r.stdout).trim()}`);
  await fs.chown(volumeDir, st.uid, st.gid);
  await fs.chmod(volumeDir, st.mode & 0o7777);
  return true;
}

/** Follows symlinks in `p` as if `root` were "/" (Docker's FollowSymlinkInScope); the result stays under root. */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const parts = p.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') { done.pop(); continue; }
    const full = path.join(root, ...done, part);
    const st = await fs.lstat(full).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++hops > 255) throw new Error(`too many links in ${p}`);
      const target = await fs.readlink(full);
      if (target.startsWith('/')) done.length = 0;
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}
