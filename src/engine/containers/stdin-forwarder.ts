import { spawn } from 'node:child_process';
import { promises as fs, constants } from 'node:fs';
import type { Readable } from 'node:stream';

// conmon accepts stdin only on its attach socket, which is SOCK_SEQPACKET: Node's net module
// cannot connect to that type, so socat carries the bytes. The end of the input half-closes the
// socket, and conmon then closes the container's stdin (it runs without --leave-stdin-open),
// which is Docker's StdinOnce behaviour.
//
// socat must stay connected, reading (and dropping) what conmon sends back, until conmon has seen
// that half-close. conmon 2.1.x copies the container's output to every attach client too; when such
// a write fails because the client already closed (socat -u exits right after EOF), conmon marks
// the client unwritable, and when it then reads the EOF it frees the client before using it again
// (terminate_remote_sock after remote_sock_shutdown), so it never closes the container's stdin:
// `echo hi | run -i busybox cat` hung about one time in three. A client that keeps reading is never
// written to in vain. And a client that does not read at all would, past the socket's queue, block
// conmon's (blocking) writes and with them the container's whole output.
// -t: after the input's EOF, wait this long for conmon to close (the container exiting) before
// leaving; conmon handles the half-close long before.
const LINGER_S = 30;

export function forwardStdin(attachSocket: string, input: Readable): { done: Promise<void>; close(): void } {
  const p = spawn('socat', ['-t', String(LINGER_S), 'STDIO', `UNIX-CONNECT:${attachSocket},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
  input.pipe(p.stdin);
  p.stdin.on('error', () => { /* the container may exit first */ });
  const done = new Promise<void>((resolve) => { p.on('close', () => resolve()); p.on('error', () => resolve()); });
  return { done, close: () => { input.unpipe(p.stdin); p.stdin.end(); } };
}

/** Asks conmon to resize the TTY through its control fifo ("1 <height> <width>"). */
export async function resizeTty(ctlFifo: string, height: number, width: number): Promise<void> {
  const fh = await fs.open(ctlFifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try { await fh.write(`1 ${height} ${width}\n`); } finally { await fh.close(); }
}
