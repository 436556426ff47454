import { randomBytes, createHash } from 'node:crypto';

export function newId(): string {
  return randomBytes(32).toString('hex');
}
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
