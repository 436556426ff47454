import { Transform, type TransformCallback } from 'node:stream';

// Detach key sequences (Docker's --detach-keys, "ctrl-p,ctrl-q"): parsing like moby/term's ToBytes,
// and watching a TTY's input for them. The CLIs watch what is typed; the daemon watches the stdin of
// an attach or exec with a TTY and ends the session when the sequence arrives.

/** ctrl-p ctrl-q */
export const DEFAULT_DETACH_KEYS = [16, 17];

/** "ctrl-@" ... "ctrl-z", "ctrl-[", "ctrl-\", "ctrl-]", "ctrl-^", "ctrl-_" are codes 0-31 */
const CTRL = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'].map((c) => `ctrl-${c}`);

/** moby/term ToBytes: comma-separated keys, each one character, `ctrl-<x>` or DEL; default when empty. */
export function parseDetachKeys(keys: string | undefined): number[] {
  if (!keys) return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length === 1) { out.push(bytes[0]); continue; }
    const code = CTRL.indexOf(key);
    if (code !== -1) out.push(code);
    else if (key === 'DEL') out.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return out;
}

/**
 * moby/term's EscapeProxy: passes bytes through, holding back a matching prefix of the escape
 * sequence (released when the next byte does not continue it); reports when the whole sequence was typed.
 */
export class EscapeProxy {
  private held: number[] = [];
  constructor(private keys: number[]) {}

  /** Returns the bytes to forward and whether the detach sequence was completed. */
  feed(chunk: Buffer): { data: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) {
          this.held = [];
          return { data: Buffer.from(out), detach: true };
        }
        continue;
      }
      if (this.held.length) { out.push(...this.held); this.held = []; }
      if (b === this.keys[0]) { this.held.push(b); if (this.keys.length === 1) return { data: Buffer.from(out), detach: true }; continue; }
      out.push(b);
    }
    return { data: Buffer.from(out), detach: false };
  }
}

/** Input passed through an EscapeProxy: on the sequence, what came before it goes on, then onDetach and the end. */
export class DetachWatch extends Transform {
  private proxy: EscapeProxy;
  private detached = false;

  constructor(keys: number[], private onDetach: () => void) {
    super();
    this.proxy = new EscapeProxy(keys);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.detached) { cb(); return; }
    const r = this.proxy.feed(chunk);
    if (r.data.length) this.push(r.data);
    if (r.detach) {
      this.detached = true;
      this.onDetach();
    }
    cb();
  }
}
