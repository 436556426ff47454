import { Conflict, NotFound } from '../../api/errors.js';
import { applyChanges } from '../images/changes.js';
import { familiarString, type Reference } from '../images/reference.js';
import { mergeCommitConfig } from './config.js';
import { layerTar } from './layer-tar.js';
import type { ContainerManager } from './manager.js';
import { rootfsPaths } from './rootfs.js';
import { readUpper } from './upper-dir.js';

// `docker commit`: a new image made of the container's image and one more layer, its upper dir.

export interface CommitRequest {
  container: string;
  ref?: Reference;
  author: string;
  comment: string;
  /** pause a running container while its layer is read (Docker's default) */
  pause: boolean;
  /** Dockerfile instructions (`--change`) */
  changes: string[];
  /** a config to start from instead of the container's (the request body) */
  config?: Record<string, any>;
}

export async function commitContainer(mgr: ContainerManager, o: CommitRequest): Promise<string> {
  const c = mgr.store.get(o.container);
  if (c.State.Dead) throw new Conflict(`You cannot commit container ${c.Id} which is Dead`);
  if (c.State.Status === 'removing') throw new Conflict(`You cannot commit container ${c.Id} which is being removed`);
  const img = mgr.images.tryResolve(c.Image);
  if (!img) throw new NotFound(`No such image: ${c.Image}`);
  const config = mergeCommitConfig(applyChanges(o.config ?? c.Config, o.changes), c.Config);
  const pause = o.pause && c.State.Running && !c.State.Paused;
  if (pause) await mgr.pause(c.Id);
  try {
    const upper = rootfsPaths(mgr.store.dir(c.Id), mgr.bundle(c.Id)).upper;
    const entries = await readUpper(upper, mgr.images.lowerDirs(img), { opaque: true });
    const id = await mgr.images.commit(layerTar(upper, entries), {
      parent: img.id, config, containerConfig: c.Config, container: c.Id, author: o.author, comment: o.comment, ref: o.ref,
    });
    mgr.events.emit('container', 'commit', c.Id, mgr.attrs(c, { comment: o.comment, imageID: id, imageRef: o.ref ? familiarString(o.ref) : '' }));
    return id;
  } finally {
    if (pause) await mgr.unpause(c.Id).catch((err: Error) => mgr.log.warn({ id: c.Id, err: err.message }, 'commit: cannot unpause'));
  }
}
