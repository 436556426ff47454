import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { run } from '../../util/exec.js';

// A container's own layer is its overlay upper dir. One walk of it serves `diff` (changes) and
// `commit`: a character device 0/0 is a deletion (overlay whiteout), a directory with
// trusted.overlay.opaque=y hides everything the image had below it. Mount points the runtime
// creates when the image lacks them (/etc/hosts...) are left out: Docker keeps those in a separate
// init layer, so they never show up in a diff or a committed image.

export interface UpperEntry {
  /** path below the rootfs, without a leading slash */
  rel: string;
  st: Stats;
  whiteout: boolean;
  opaque: boolean;
  /** the path exists in one of the image's layers */
  inLower: boolean;
}

/** Mount points runc creates when missing (in Docker's init layer): placeholders while empty. */
const PLACEHOLDERS = new Set(['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']);
const OPAQUE = 'trusted.overlay.opaque';

/**
 * The upper dir's entries, parents before children, names sorted. Opaque directories are found only
 * with `opaque` (commit): that runs a helper, which `diff` does without.
 */
export async function readUpper(upper: string, lowers: string[], opts: { opaque?: boolean } = {}): Promise<UpperEntry[]> {
  if (!(await exists(upper))) return [];
  const opaque = opts.opaque ? await opaqueDirs(upper) : new Set<string>();
  const inLower = async (rel: string) => {
    for (const l of lowers) if (await exists(path.join(l, rel))) return true;
    return false;
  };
  /** entries below rel, and how many of its direct children were left out as placeholders */
  const walk = async (rel: string): Promise<{ entries: UpperEntry[]; dropped: number }> => {
    const names = (await fs.readdir(path.join(upper, rel)).catch(() => [] as string[])).sort();
    const entries: UpperEntry[] = [];
    let dropped = 0;
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(path.join(upper, r));
      const e: UpperEntry = {
        rel: r, st, whiteout: st.isCharacterDevice() && st.rdev === 0, opaque: st.isDirectory() && opaque.has(r), inLower: await inLower(r),
      };
      if (!st.isDirectory()) {
        if (PLACEHOLDERS.has(r) && st.isFile() && st.size === 0) dropped++;
        else entries.push(e);
        continue;
      }
      const below = await walk(r);
      const empty = below.entries.length === 0;
      // a directory copied up only because placeholders were created in it (/etc) is no change
      if (empty && !e.opaque && (PLACEHOLDERS.has(r) || (e.inLower && below.dropped > 0))) { dropped++; continue; }
      entries.push(e, ...below.entries);
    }
    return { entries, dropped };
  };
  return (await walk('')).entries;
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

/** Node has no getxattr: one getfattr over the whole tree (not following symlinks) finds them. */
async function opaqueDirs(upper: string): Promise<Set<string>> {
  const r = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', `^${OPAQUE.replace(/\./g, '\\.')}$`, '-e', 'hex', '--absolute-names', upper]);
  if (r.code !== 0) throw new Error(`getfattr ${upper}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const out = new Set<string>();
  for (const [rel, x] of parseGetfattr(r.stdout, upper)) if (x[OPAQUE]?.toString() === 'y') out.add(rel);
  return out;
}

/** `# file: NAME` blocks of `key=0xHEX` lines; NAME has getfattr's octal escapes. */
export function parseGetfattr(out: string, root: string): Map<string, Record<string, Buffer>> {
  const map = new Map<string, Record<string, Buffer>>();
  let cur: Record<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const name = unescapeName(line.slice(8));
      const rel = name === root ? '' : name.startsWith(root + '/') ? name.slice(root.length + 1) : undefined;
      cur = rel === undefined ? undefined : {};
      if (cur) map.set(rel!, cur);
      continue;
    }
    const m = /^([^=]+)(?:=0x([0-9a-fA-F]*))?$/.exec(line);
    if (cur && m) cur[m[1]] = Buffer.from(m[2] ?? '', 'hex');
  }
  return map;
}

function unescapeName(s: string): string {
  const b = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c) {
      const oct = /^[0-7]{3}/.exec(b.subarray(i + 1, i + 4).toString('latin1'));
      if (oct) { out.push(parseInt(oct[0], 8)); i += 3; continue; }
      if (b[i + 1] === 0x5c) { out.push(0x5c); i++; continue; }
    }
    out.push(b[i]);
  }
  return Buffer.from(out).toString('utf8');
}
