import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runOk, run } from '../../util/exec.js';

// The container's root filesystem: an overlay of the image layers (read-only lowerdirs) with a
// per-container upperdir under the data root, mounted at <bundle>/rootfs while it runs.

export interface RootfsPaths { upper: string; work: string; merged: string }

export function rootfsPaths(dataDir: string, bundle: string): RootfsPaths {
  return { upper: path.join(dataDir, 'diff'), work: path.join(dataDir, 'work'), merged: path.join(bundle, 'rootfs') };
}

export async function isMounted(target: string): Promise<boolean> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => l.split(' ')[4] === target);
}

export async function mountRootfs(lowerDirs: string[], p: RootfsPaths): Promise<void> {
  await fs.mkdir(p.upper, { recursive: true });
  await fs.mkdir(p.work, { recursive: true });
  await fs.mkdir(p.merged, { recursive: true });
  if (await isMounted(p.merged)) return;
  // overlay needs at least one lowerdir; an image with no layers gets an empty one.
  const lowers = lowerDirs.length ? lowerDirs : [await emptyDir(path.dirname(p.upper))];
  await runOk('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${p.upper},workdir=${p.work}`, p.merged]);
}

async function emptyDir(base: string): Promise<string> {
  const d = path.join(base, 'empty');
  await fs.mkdir(d, { recursive: true });
  return d;
}

export async function unmountRootfs(p: RootfsPaths): Promise<void> {
  if (await isMounted(p.merged)) {
    const r = await run('umount', [p.merged]);
    if (r.code !== 0) await run('umount', ['-l', p.merged]);
  }
}

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[] }

/** Resolves Docker's --user forms (name, uid, name:group, uid:gid) against the container's /etc files. */
export async function resolveUser(rootfs: string, user: string): Promise<ResolvedUser> {
  if (!user) return { uid: 0, gid: 0, additionalGids: [] };
  const [u, g] = user.split(':');
  const passwd = await readDb(path.join(rootfs, 'etc/passwd'));
  const groups = await readDb(path.join(rootfs, 'etc/group'));
  let uid: number; let gid: number;
  const pw = passwd.find((f) => f[0] === u || (/^\d+$/.test(u) && f[2] === u));
  if (/^\d+$/.test(u)) { uid = Number(u); gid = pw ? Number(pw[3]) : 0; } else if (pw) { uid = Number(pw[2]); gid = Number(pw[3]); } else {
    throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const gr = groups.find((f) => f[0] === g);
      if (!gr) throw new Error(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(gr[2]);
    }
  }
  const name = pw?.[0];
  const additionalGids = name ? groups.filter((f) => (f[3] ?? '').split(',').includes(name)).map((f) => Number(f[2])).filter((x) => x !== gid) : [];
  return { uid, gid, additionalGids };
}

async function readDb(file: string): Promise<string[][]> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch { return []; }
}
