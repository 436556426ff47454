import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BadRequest, Conflict, NotFound } from '../../api/errors.js';
import { readJson, writeJsonAtomic } from '../../util/atomic-file.js';
import type { ContainerRecord } from './types.js';

const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Container records in memory, each persisted atomically to <root>/<id>/config.v2.json. */
export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();
  private byName = new Map<string, string>();
  private writes = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  dir(id: string): string { return path.join(this.root, id); }

  async load(): Promise<ContainerRecord[]> {
    await fs.mkdir(this.root, { recursive: true });
    for (const id of await fs.readdir(this.root)) {
      const rec = await readJson<ContainerRecord>(path.join(this.root, id, 'config.v2.json')).catch(() => undefined);
      if (!rec) continue;
      this.byId.set(rec.Id, rec);
      this.byName.set(rec.Name, rec.Id);
    }
    return [...this.byId.values()];
  }

  all(): ContainerRecord[] { return [...this.byId.values()]; }

  /** Docker's lookup order: full ID, exact name, then unique ID prefix. */
  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : '/' + ref);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const hits = [...this.byId.keys()].filter((id) => id.startsWith(ref));
    if (hits.length > 1) throw new BadRequest(`multiple IDs found with provided prefix: ${ref}`);
    return hits.length ? this.byId.get(hits[0]) : undefined;
  }

  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw new NotFound(`No such container: ${ref}`);
    return c;
  }

  validateName(name: string): string {
    if (!NAME_RE.test(name)) throw new BadRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const n = name.startsWith('/') ? name : '/' + name;
    const owner = this.byName.get(n);
    if (owner) {
      throw new Conflict(`Conflict. The container name "${n}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    return n;
  }

  async add(rec: ContainerRecord): Promise<void> {
    this.validateName(rec.Name);
    this.byId.set(rec.Id, rec);
    this.byName.set(rec.Name, rec.Id);
    await this.save(rec);
  }

  async rename(rec: ContainerRecord, newName: string): Promise<void> {
    const n = this.validateName(newName);
    this.byName.delete(rec.Name);
    rec.Name = n;
    this.byName.set(n, rec.Id);
    await this.save(rec);
  }

  /** Serialises writes per container so an older snapshot never lands after a newer one. */
  save(rec: ContainerRecord): Promise<void> {
    if (!this.byId.has(rec.Id)) return Promise.resolve();
    const prev = this.writes.get(rec.Id) ?? Promise.resolve();
    const next = prev.then(() => this.byId.has(rec.Id) ? writeJsonAtomic(path.join(this.dir(rec.Id), 'config.v2.json'), rec) : undefined);
    this.writes.set(rec.Id, next.catch(() => undefined));
    return next;
  }

  async remove(rec: ContainerRecord): Promise<void> {
    this.byId.delete(rec.Id);
    if (this.byName.get(rec.Name) === rec.Id) this.byName.delete(rec.Name);
    await (this.writes.get(rec.Id) ?? Promise.resolve());
    this.writes.delete(rec.Id);
    await fs.rm(this.dir(rec.Id), { recursive: true, force: true });
  }
}
