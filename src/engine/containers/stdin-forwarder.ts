import { spawn } from 'node:child_process';
import { promises as fs, constants } from 'node:fs';
import type { Readable } from 'node:stream';

// conmon accepts stdin only on its attach socket, which is SOCK_SEQPACKET: Node's net module
// cannot connect to that type, so socat carries the bytes. Closing it closes the container's
// stdin (conmon runs without --leave-stdin-open), which is Docker's StdinOnce behaviour.

export function forwardStdin(attachSocket: string, input: Readable): { done: Promise<void>; close(): void } {
  const p = spawn('socat', ['-u', 'STDIN', `UNIX-CONNECT:${attachSocket},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
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
