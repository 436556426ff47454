import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Conflict } from '../../api/errors.js';
import { readLogs } from './log-file.js';
import type { ContainerManager } from './manager.js';
import { frame } from './stdcopy.js';
import { forwardStdin } from './stdin-forwarder.js';
import { DetachWatch } from '../../util/detach-keys.js';
import type { ContainerRecord } from './types.js';

export function attachSocketPath(mgr: ContainerManager, c: ContainerRecord): string {
  return path.join(mgr.runtime.opts.socketDir, c.Id.slice(0, 16), 'attach');
}

export interface AttachOptions { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean; stream: boolean; detachKeys: number[] }

/**
 * Streams a container's output to a hijacked connection until it exits, and feeds the
 * connection's bytes to its stdin. Output comes from conmon's log file (which has both
 * streams in order), so attaching before start (docker run) misses nothing. With a TTY, the detach
 * keys in that input end the attach (a `detach` event) and leave the container running.
 */
export async function attachContainer(mgr: ContainerManager, c: ContainerRecord, sock: Duplex, opts: AttachOptions): Promise<void> {
  // Like dockerd, a stopped container can be attached to: the stream follows its next run
  // (`start -a`). The docker CLI's `attach` refuses stopped containers itself.
  if (c.State.Paused && opts.stream) throw new Conflict(`You cannot attach to a paused container, unpause it first`);
  mgr.events.emit('container', 'attach', c.Id, mgr.attrs(c));
  const tty = !!c.Config.Tty;
  const ac = new AbortController();
  let exited = !opts.stream;
  const exit = opts.stream ? mgr.wait(c.Id, 'next-exit') : Promise.resolve();
  exit.then(() => { exited = true; }, () => { exited = true; });
  sock.on('close', () => ac.abort());
  sock.on('error', () => ac.abort());

  let stdinDone: Promise<void> = Promise.resolve();
  let detached = false;
  let started: () => void = () => {};
  // input is taken only once the output reader has its starting point, so the container's answer to
  // what is typed at once (an echo) is not skipped as older output
  const reading = new Promise<void>((r) => { started = r; });
  if (opts.stdin && c.Config.OpenStdin && opts.stream) {
    sock.pause();
    stdinDone = (async () => {
      // conmon (and its attach socket) exists only once the container has started.
      while (!c.State.Running && !exited && !ac.signal.aborted) await new Promise((r) => setTimeout(r, 20));
      await reading;
      if (!c.State.Running || ac.signal.aborted) return;
      const input = tty ? sock.pipe(new DetachWatch(opts.detachKeys, () => {
        detached = true;
        mgr.events.emit('container', 'detach', c.Id, mgr.attrs(c));
        // after what was typed before the keys has gone on to the container
        setImmediate(() => ac.abort());
      })) : sock;
      const fwd = forwardStdin(attachSocketPath(mgr, c), input);
      sock.resume();
      sock.on('end', () => fwd.close());
      ac.signal.addEventListener('abort', () => fwd.close());
      await fwd.done;
    })();
  }

  try {
    for await (const rec of readLogs(c.LogPath, { follow: opts.stream, fromEnd: !opts.logs, signal: ac.signal, stopOn: exit, onStart: started })) {
      if (rec.stream === 'stdout' && !opts.stdout) continue;
      if (rec.stream === 'stderr' && !opts.stderr) continue;
      if (sock.destroyed) break;
      sock.write(tty ? rec.data : frame(rec.stream === 'stdout' ? 1 : 2, rec.data));
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    started();
  }
  ac.abort();
  void stdinDone;
  if (detached) endHijacked(sock);
  else if (!sock.destroyed) sock.end();
}

/** Ends a hijacked connection from our side whatever the client does with its half (a detach). */
export function endHijacked(sock: Duplex): void {
  if (sock.destroyed) return;
  sock.once('finish', () => sock.destroy());
  sock.end();
}
