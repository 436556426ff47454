import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run, runOk } from '../../util/exec.js';
import { isMounted } from '../containers/rootfs.js';

// A container's network namespace, bound to a file under <exec-root>/netns so it outlives any
// process and can be handed to runc by path (and later get veths from the network drivers).

export class Sandboxes {
  constructor(readonly dir: string) {}

  /** The bind target must sit on a private mount, or the namespace bind would propagate. */
  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    if (!(await isMounted(this.dir))) {
      await runOk('mount', ['--bind', this.dir, this.dir]);
      await runOk('mount', ['--make-private', this.dir]);
    }
  }

  pathOf(id: string): string { return path.join(this.dir, id); }

  /** Creates a namespace with only loopback, up: Docker's `none` network. */
  async create(id: string): Promise<string> {
    const p = this.pathOf(id);
    if (await isMounted(p)) return p;
    await fs.writeFile(p, '');
    await runOk('unshare', [`--net=${p}`, 'ip', 'link', 'set', 'lo', 'up']);
    return p;
  }

  async remove(id: string): Promise<void> {
    const p = this.pathOf(id);
    if (await isMounted(p)) await run('umount', [p]);
    await fs.rm(p, { force: true });
  }
}
