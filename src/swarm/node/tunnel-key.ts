import crypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';

// This node's WireGuard key pair (encrypted overlays). Made by the node, kept in its swarm
// directory (so it goes with `swarm leave`); only the public key is sent to the managers. `epoch`
// is the rotation the managers asked for when it was made: a higher one in an assignments reply
// means "make a new pair".

export interface TunnelKey { privateKey: string; publicKey: string; epoch: number }

/** A fresh X25519 pair in WireGuard's encoding (base64 of the 32 raw bytes). */
export function newTunnelKey(epoch: number): TunnelKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const raw = (jwk: crypto.JsonWebKey, k: 'd' | 'x') => Buffer.from(String(jwk[k]), 'base64url').toString('base64');
  return { privateKey: raw(privateKey.export({ format: 'jwk' }), 'd'), publicKey: raw(publicKey.export({ format: 'jwk' }), 'x'), epoch };
}

export class TunnelKeyFile {
  private cached?: TunnelKey;
  constructor(private swarmDir: string) {}

  private get file(): string { return path.join(this.swarmDir, 'tunnel-key.json'); }

  /** The node's pair, made on first use. */
  async get(): Promise<TunnelKey> {
    if (this.cached) return this.cached;
    const text = await fs.readFile(this.file, 'utf8').catch(() => undefined);
    this.cached = text ? JSON.parse(text) as TunnelKey : await this.save(newTunnelKey(0));
    return this.cached;
  }

  /** A new pair for rotation `epoch`. */
  async rotate(epoch: number): Promise<TunnelKey> {
    this.cached = await this.save(newTunnelKey(epoch));
    return this.cached;
  }

  /** Forget the cached pair (the swarm directory was erased). */
  reset(): void { this.cached = undefined; }

  private async save(k: TunnelKey): Promise<TunnelKey> {
    await fs.mkdir(this.swarmDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify(k), 0o600);
    return k;
  }
}
