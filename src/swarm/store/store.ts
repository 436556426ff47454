/**
 * ClusterStore: the managers' replicated state, JSON objects in etcd reached over mutual TLS.
 *
 * - Every call has a short overall deadline (default 2.5 s). Requests carry etcd's `hasleader`
 *   metadata, so a member without a leader refuses at once ("etcdserver: no leader") instead of
 *   queueing; such refusals, refused connections and learners' refusals are retried on another
 *   endpoint until the deadline, then NoQuorumError (Docker's "The swarm does not have a leader...").
 * - Writes whose outcome is unknown (timeout, dropped connection) are never blindly replayed:
 *   create()/update() re-read the key to learn whether their write landed.
 * - Object versions are etcd mod revisions (SwarmKit's Meta.Version.Index); update() is a
 *   compare-and-swap loop, updateIfVersion() a single CAS for Docker's `?version=N`.
 * - watch() lists again when etcd says the revision was compacted (and, optionally, periodically:
 *   etcd 3.4.23 can lose watch events), delivering the new state as one 'reset' event.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { CallOptions, Interceptor, InterceptingCall as InterceptingCallT } from '@grpc/grpc-js';
import { Etcd3, type IKeyValue, type ICompare, type IRequestOp, type IRangeResponse, type IMember, type IWatchResponse } from 'etcd3';
import {
  AlreadyExistsError, ConflictError, NoQuorumError, NotFoundError, NotLeaderError, OutOfSequenceError,
  StoreError, UnauthorizedError, errorText,
} from './errors.js';

// The grpc-js and cockatiel instances etcd3 itself uses (they are etcd3's dependencies, not ours).
const requireFromEtcd3 = createRequire(createRequire(import.meta.url).resolve('etcd3'));
const grpc = requireFromEtcd3('@grpc/grpc-js') as { InterceptingCall: typeof InterceptingCallT };
const { noop } = requireFromEtcd3('cockatiel') as { noop: unknown };

export type TlsMaterial =
  | { caFile: string; certFile: string; keyFile: string }
  | { ca: Buffer | string; cert: Buffer | string; key: Buffer | string };

export interface ClusterStoreOptions {
  /** Client URLs, e.g. ['https://127.0.0.1:2379']. A manager normally names only its own member, so
   *  that a manager cut off from the majority reports NoQuorumError like a SwarmKit follower. */
  endpoints: string[];
  /** The swarm root CA and this node's certificate and key (client cert = the node's cert). */
  tls: TlsMaterial;
  /** Overall deadline of one store call, retries included. Default 2500 ms. */
  callTimeoutMs?: number;
  /** Page size of list(). Default 1000. */
  listPageSize?: number;
  /**
   * The name the members' certificates are checked against instead of the address dialled (swarm
   * managers all carry `swarm-manager`, while their IP SANs may be stale after a restore elsewhere).
   */
  servername?: string;
}

/** An object as stored: the decoded value and etcd's bookkeeping. */
export interface Versioned<T> {
  key: string;
  value: T;
  /** Revision of the last write: the object's version (SwarmKit Meta.Version.Index). */
  modRevision: number;
  createRevision: number;
  /** Number of writes since creation. */
  version: number;
  /** Lease id ('0' when none). */
  lease: string;
}

/**
 * A write fence: the write only happens while `key` still has this create revision. leader.ts hands
 * one out to the elected leader, so a deposed leader's late writes are refused (NotLeaderError).
 */
export interface Guard { key: string; createRevision: number }

export interface WriteOptions { guard?: Guard; lease?: string }

export type WatchEvent<T> =
  | { type: 'put'; key: string; value: T; modRevision: number; createRevision: number; version: number; prev?: T }
  | { type: 'delete'; key: string; modRevision: number; prev?: T }
  /** Full state of the prefix at `revision` (after a compaction or a periodic resync): replace your view. */
  | { type: 'reset'; items: Versioned<T>[]; revision: number };

export interface WatchOptions {
  /** Include the previous value in put/delete events. */
  prevKv?: boolean;
  /** List again every N ms and deliver a 'reset' (guards against lost watch events in etcd 3.4). */
  resyncIntervalMs?: number;
  /** Called with errors the watch recovers from (reconnects); for logging. */
  onError?: (err: Error) => void;
}

export interface StoreWatch {
  /** Highest revision delivered so far. */
  readonly revision: number;
  close(): Promise<void>;
}

export interface Member {
  /** etcd member id, decimal (pass it back unchanged). */
  id: string;
  /** Empty for a member added but not started yet. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  leaderId: string;
  raftTerm: number;
  raftIndex: number;
  dbSize: number;
  version: string;
}

/** etcd refusing a membership change for now (strict reconfig check). */
const RECONFIG_NOT_YET = /unhealthy cluster|not enough started members/;

/** Outcome class of a failed etcd call. */
type Failure = 'retry' | 'ambiguous' | 'auth' | 'fatal';

const requireLeader: Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('hasleader', 'true');
      next(metadata, listener);
    },
  });

export class ClusterStore {
  readonly endpoints: string[];
  readonly callTimeoutMs: number;
  /** The underlying etcd3 client (for what this class does not wrap); replaced by setCredentials(). */
  client: Etcd3;
  private readonly listPageSize: number;
  private credentials: { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer };
  private readonly servername?: string;
  private readonly watches = new Set<WatchImpl<any>>();
  private closed = false;

  constructor(opts: ClusterStoreOptions) {
    if (!opts.endpoints.length) throw new Error('ClusterStore: no endpoints');
    this.endpoints = [...opts.endpoints];
    this.callTimeoutMs = opts.callTimeoutMs ?? 2500;
    this.listPageSize = opts.listPageSize ?? 1000;
    this.credentials = loadTls(opts.tls);
    this.servername = opts.servername;
    this.client = makeClient(this.endpoints, this.credentials, true, this.servername);
  }

  /**
   * New certificates (renewal, root rotation): later calls and reconnecting watches use a new client
   * with them. A connection's credentials are fixed once it is up, hence a new client; the old one
   * is closed after a grace period so that calls under way finish.
   */
  setCredentials(tls: TlsMaterial, graceMs = 10_000): void {
    if (this.closed) return;
    const old = this.client;
    this.credentials = loadTls(tls);
    this.client = makeClient(this.endpoints, this.credentials, true, this.servername);
    setTimeout(() => old.close(), graceMs).unref?.();
  }

  /** Releases connections and stops every watch. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches) void w.close();
    this.client.close();
  }

  // ---------------------------------------------------------------- objects

  async get<T = unknown>(key: string): Promise<Versioned<T> | undefined> {
    const res = await this.call((o) => this.client.kv.range({ key: b(key) }, o), 'read');
    return res.kvs[0] ? decode<T>(res.kvs[0]) : undefined;
  }

  /** Writes unconditionally (unless guarded); returns the new version (mod revision). */
  async put<T>(key: string, value: T, opts: WriteOptions = {}): Promise<number> {
    const put = { key: b(key), value: encode(value), lease: opts.lease };
    if (!opts.guard) {
      // Replaying an unconditional put is harmless.
      const res = await this.call((o) => this.client.kv.put(put, o), 'idempotent');
      return Number(res.header.revision);
    }
    const res = await this.call((o) => this.client.kv.txn({ compare: [guardCompare(opts.guard!)], success: [{ request_put: put }] }, o), 'idempotent');
    if (!res.succeeded) throw new NotLeaderError();
    return Number(res.header.revision);
  }

  /** Creates `key`; AlreadyExistsError when it exists. */
  async create<T>(key: string, value: T, opts: WriteOptions = {}): Promise<Versioned<T>> {
    const bytes = encode(value);
    const compare: ICompare[] = [{ key: b(key), target: 'Create', result: 'Equal', create_revision: 0 }];
    if (opts.guard) compare.push(guardCompare(opts.guard));
    const txn = { compare, success: [{ request_put: { key: b(key), value: bytes, lease: opts.lease } }], failure: [rangeOp(key)] };
    let res;
    try {
      res = await this.call((o) => this.client.kv.txn(txn, o), 'once');
    } catch (e) {
      if (!(e instanceof AmbiguousWrite)) throw e;
      // Did our write land? Then the key holds exactly our bytes, written with a single version.
      const cur = await this.rawGet(key);
      if (cur && cur.value.equals(bytes) && cur.version === '1') return decode<T>(cur);
      if (cur) throw new AlreadyExistsError(key);
      throw new NoQuorumError(e.cause);
    }
    if (!res.succeeded) {
      if (opts.guard && !(await this.guardHolds(opts.guard))) throw new NotLeaderError();
      throw new AlreadyExistsError(key);
    }
    const rev = Number(res.header.revision);
    return { key, value: JSON.parse(bytes.toString('utf8')) as T, modRevision: rev, createRevision: rev, version: 1, lease: String(opts.lease ?? '0') };
  }

  /**
   * Read-modify-write with compare-and-swap on the mod revision, retried on conflicts.
   * `fn` gets a copy of the current value and returns the new one, or undefined to leave it unchanged.
   * NotFoundError when the key does not exist.
   */
  async update<T>(key: string, fn: (current: T, meta: Versioned<T>) => T | undefined, opts: WriteOptions & { maxAttempts?: number } = {}): Promise<Versioned<T>> {
    const maxAttempts = opts.maxAttempts ?? 20;
    let cur = await this.rawGet(key);
    for (let attempt = 1; ; attempt++) {
      if (!cur) throw new NotFoundError(key);
      const meta = decode<T>(cur);
      const next = fn(JSON.parse(cur.value.toString('utf8')) as T, meta);
      if (next === undefined) return meta;
      const r = await this.casPut(key, cur, encode(next), opts);
      if (r.ok) return r.result as Versioned<T>;
      if (attempt >= maxAttempts) throw new ConflictError(key, attempt);
      cur = r.current;
      await sleep(Math.random() * 5 * attempt);
    }
  }

  /**
   * One compare-and-swap against a version the caller saw (Docker's `?version=N`):
   * OutOfSequenceError when the object changed since, NotFoundError when it is gone.
   */
  async updateIfVersion<T>(key: string, modRevision: number, value: T, opts: WriteOptions = {}): Promise<Versioned<T>> {
    const cur = await this.rawGet(key);
    if (!cur) throw new NotFoundError(key);
    if (Number(cur.mod_revision) !== modRevision) throw new OutOfSequenceError(key);
    const r = await this.casPut(key, cur, encode(value), opts);
    if (r.ok) return r.result as Versioned<T>;
    if (!r.current) throw new NotFoundError(key);
    throw new OutOfSequenceError(key);
  }

  /**
   * Deletes `key`; returns whether it existed. With `modRevision`, only that version is deleted
   * (OutOfSequenceError otherwise).
   */
  async delete(key: string, opts: { modRevision?: number; guard?: Guard } = {}): Promise<boolean> {
    const compare: ICompare[] = [];
    if (opts.modRevision !== undefined) compare.push({ key: b(key), target: 'Mod', result: 'Equal', mod_revision: opts.modRevision });
    if (opts.guard) compare.push(guardCompare(opts.guard));
    const txn = { compare, success: [{ request_delete_range: { key: b(key) } }], failure: [rangeOp(key)] };
    let res;
    try {
      res = await this.call((o) => this.client.kv.txn(txn, o), 'once');
    } catch (e) {
      if (!(e instanceof AmbiguousWrite)) throw e;
      const cur = await this.rawGet(key);
      if (!cur) return true;
      throw new NoQuorumError(e.cause);
    }
    if (!res.succeeded) {
      if (opts.guard && !(await this.guardHolds(opts.guard))) throw new NotLeaderError();
      if (!res.responses[0]?.response_range.kvs.length) throw new NotFoundError(key);
      throw new OutOfSequenceError(key);
    }
    return Number(res.responses[0]?.response_delete_range.deleted ?? 0) > 0;
  }

  /** Deletes every key under `prefix`; returns how many there were. */
  async deletePrefix(prefix: string): Promise<number> {
    const res = await this.call((o) => this.client.kv.deleteRange({ key: b(prefix), range_end: prefixEnd(prefix) }, o), 'idempotent');
    return Number(res.deleted);
  }

  /** Every object under `prefix` (sorted by key) as of one revision, read in pages. */
  async list<T = unknown>(prefix: string): Promise<{ items: Versioned<T>[]; revision: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listOnce<T>(prefix);
      } catch (e) {
        // Compacted between two pages: start again at the newest revision.
        if (attempt >= 3 || !/required revision has been compacted/.test(errorText(e))) throw e;
      }
    }
  }

  private async listOnce<T>(prefix: string): Promise<{ items: Versioned<T>[]; revision: number }> {
    const items: Versioned<T>[] = [];
    const end = prefixEnd(prefix);
    let from = b(prefix);
    let revision: number | undefined;
    for (;;) {
      const req = { key: from, range_end: end, limit: this.listPageSize, revision };
      const res: IRangeResponse = await this.call((o) => this.client.kv.range(req, o), 'read');
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) items.push(decode<T>(kv));
      if (!res.more || !res.kvs.length) break;
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { items, revision };
  }

  /**
   * Watches `prefix` for changes after `fromRevision` (typically the revision list() returned).
   * Events are delivered in order; an async callback is awaited before the next one.
   */
  watch<T = unknown>(prefix: string, fromRevision: number, cb: (ev: WatchEvent<T>) => void | Promise<void>, opts: WatchOptions = {}): StoreWatch {
    if (this.closed) throw new StoreError('CLOSED', 'the cluster store client is closed');
    const w = new WatchImpl<T>(this, prefix, fromRevision, cb, opts, () => this.watches.delete(w));
    this.watches.add(w);
    w.start();
    return w;
  }

  // ---------------------------------------------------------------- leases (leader election)

  /** Grants a lease of `ttlSeconds`; returns its id. */
  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const res = await this.call((o) => this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, o), 'idempotent');
    return { id: String(res.ID), ttl: Number(res.TTL) };
  }

  /** Refreshes a lease once; returns the TTL now left (0: the lease has expired or never existed). */
  async leaseKeepAlive(id: string, timeoutMs = this.callTimeoutMs): Promise<number> {
    return this.call(async (o) => {
      const stream = await this.client.leaseClient.leaseKeepAlive(o);
      try {
        return await new Promise<number>((resolve, reject) => {
          stream.on('data', (res) => resolve(Number(res.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('14 UNAVAILABLE: keepalive stream ended')));
          stream.write({ ID: id });
        });
      } finally {
        stream.end();
        stream.cancel?.();
      }
    }, 'idempotent', timeoutMs);
  }

  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.call((o) => this.client.leaseClient.leaseRevoke({ ID: id }, o), 'idempotent');
    } catch (e) {
      if (!/requested lease not found/.test(errorText(e))) throw e;
    }
  }

  // ---------------------------------------------------------------- membership

  async memberList(): Promise<Member[]> {
    const res = await this.call((o) => this.client.cluster.memberList({}, o), 'read');
    return res.members.map(toMember);
  }

  /**
   * Adds a learner (a non-voting member that catches up before memberPromote). Start its etcd with
   * state 'existing' and the returned `initialCluster`.
   */
  async memberAddLearner(name: string, peerUrl: string, opts: { timeoutMs?: number } = {}): Promise<{ member: Member; members: Member[]; initialCluster: string }> {
    let member: Member | undefined;
    let members: Member[] = [];
    // etcd refuses membership changes until its leader has been connected to every voter for 5 s
    // ("unhealthy cluster"): a manager joining right after another waits that long.
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    while (!member) {
      try {
        const res = await this.call((o) => this.client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, o), 'once');
        member = toMember(res.member);
        members = res.members.map(toMember);
      } catch (e) {
        if (e instanceof AmbiguousWrite) {
          members = await this.memberList();
          member = members.find((m) => m.peerUrls.includes(peerUrl));
          if (!member) throw new NoQuorumError(e.cause);
        } else if (RECONFIG_NOT_YET.test(errorText(e)) && Date.now() < deadline) {
          await sleep(250);
        } else {
          throw e;
        }
      }
    }
    const added = member;
    const initialCluster = members
      .map((m) => (m.id === added.id ? { ...m, name } : m))
      .filter((m) => m.name)
      .flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`))
      .join(',');
    return { member: { ...added, name: added.name || name }, members, initialCluster };
  }

  /** Changes a member's peer URLs (a manager restored on another address). */
  async memberUpdate(id: string, peerUrls: string[]): Promise<void> {
    await this.call((o) => this.client.cluster.memberUpdate({ ID: id, peerURLs: peerUrls }, o), 'idempotent');
  }

  /** Promotes a learner to voting member, retrying while it is still catching up (default up to 30 s). */
  async memberPromote(id: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      try {
        await this.call((o) => this.client.cluster.memberPromote({ ID: id }, o), 'idempotent');
        return;
      } catch (e) {
        const msg = errorText(e);
        if (/can only promote a learner member(?! which)/.test(msg)) {
          // Already a voter (a previous attempt landed).
          const m = (await this.memberList()).find((x) => x.id === id);
          if (m && !m.isLearner) return;
        }
        const retriable = /in sync with leader|too many requests/.test(msg) || RECONFIG_NOT_YET.test(msg) || e instanceof NoQuorumError;
        if (!retriable || Date.now() >= deadline) throw e;
        await sleep(200);
      }
    }
  }

  /** Removes a member (a voter only while the rest keep a quorum: etcd's strict reconfiguration check). */
  async memberRemove(id: string, opts: { timeoutMs?: number } = {}): Promise<Member[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    for (;;) {
      try {
        const res = await this.call((o) => this.client.cluster.memberRemove({ ID: id }, o), 'once');
        return res.members.map(toMember);
      } catch (e) {
        if (e instanceof AmbiguousWrite) {
          const members = await this.memberList();
          if (!members.some((m) => m.id === id)) return members;
          throw new NoQuorumError(e.cause);
        }
        const msg = errorText(e);
        if (/member not found/.test(msg)) throw new NotFoundError(`member ${id}`);
        if (!RECONFIG_NOT_YET.test(msg) || Date.now() >= deadline) throw e;
        await sleep(250);
      }
    }
  }

  /** Status of one member, asked directly (works without a leader); rejects when unreachable. */
  async endpointStatus(endpoint: string, timeoutMs = 1000): Promise<EndpointStatus> {
    const c = makeClient([endpoint], this.credentials, false, this.servername);
    try {
      const res = await c.maintenance.status({ deadline: Date.now() + timeoutMs });
      return {
        endpoint, memberId: String(res.header.member_id), leaderId: String(res.leader),
        raftTerm: Number(res.raftTerm), raftIndex: Number(res.raftIndex), dbSize: Number(res.dbSize), version: res.version,
      };
    } finally {
      c.close();
    }
  }

  /**
   * If the member behind `endpoint` is the raft leader, hands raft leadership to another voting
   * member (the first that accepts). Returns the new raft leader's member id, or undefined when
   * `endpoint` was not the raft leader or no other voter could take over.
   */
  async moveRaftLeadershipAway(endpoint = this.endpoints[0]!, timeoutMs = 3000): Promise<string | undefined> {
    const st = await this.endpointStatus(endpoint);
    if (st.memberId !== st.leaderId) return undefined;
    const voters = (await this.memberList()).filter((m) => !m.isLearner && m.id !== st.memberId && m.clientUrls.length);
    // Only to a member that answers, follows this leader and is caught up: while a transfer to an
    // unreachable member is pending, the raft leader drops proposals (up to an election timeout).
    const ready: string[] = [];
    await Promise.all(voters.map(async (m) => {
      for (const url of m.clientUrls) {
        try {
          const s = await this.endpointStatus(url, 500);
          if (s.memberId === m.id && s.leaderId === st.memberId && st.raftIndex - s.raftIndex < 1000) { ready.push(m.id); return; }
        } catch { /* not reachable through this URL */ }
      }
    }));
    if (!ready.length) return undefined;
    const target = ready[Math.floor(Math.random() * ready.length)]!;
    const c = makeClient([endpoint], this.credentials, false, this.servername);
    try {
      await c.maintenance.moveLeader({ targetID: target }, { deadline: Date.now() + timeoutMs });
      return target;
    } finally {
      c.close();
    }
  }

  // ---------------------------------------------------------------- internals

  /** @internal */
  async rawGet(key: string): Promise<IKeyValue | undefined> {
    const res = await this.call((o) => this.client.kv.range({ key: b(key) }, o), 'read');
    return res.kvs[0];
  }

  private async guardHolds(g: Guard): Promise<boolean> {
    const cur = await this.rawGet(g.key);
    return !!cur && Number(cur.create_revision) === g.createRevision;
  }

  /** One CAS write of `bytes` over `cur`; on a lost race returns the current key-value. */
  private async casPut(key: string, cur: IKeyValue, bytes: Buffer, opts: WriteOptions): Promise<{ ok: true; result: Versioned<unknown> } | { ok: false; current: IKeyValue | undefined }> {
    const compare: ICompare[] = [{ key: b(key), target: 'Mod', result: 'Equal', mod_revision: cur.mod_revision }];
    if (opts.guard) compare.push(guardCompare(opts.guard));
    const lease = opts.lease ?? (cur.lease !== '0' ? cur.lease : undefined);
    const txn = { compare, success: [{ request_put: { key: b(key), value: bytes, lease } }], failure: [rangeOp(key)] };
    let res;
    try {
      res = await this.call((o) => this.client.kv.txn(txn, o), 'once');
    } catch (e) {
      if (!(e instanceof AmbiguousWrite)) throw e;
      const now = await this.rawGet(key);
      if (now && now.value.equals(bytes) && Number(now.mod_revision) > Number(cur.mod_revision) && Number(now.version) === Number(cur.version) + 1) {
        return { ok: true, result: decode(now) };
      }
      if (now && Number(now.mod_revision) === Number(cur.mod_revision)) throw new NoQuorumError(e.cause); // not applied
      return { ok: false, current: now };
    }
    if (!res.succeeded) {
      if (opts.guard && !(await this.guardHolds(opts.guard))) throw new NotLeaderError();
      return { ok: false, current: res.responses[0]?.response_range.kvs[0] };
    }
    const rev = Number(res.header.revision);
    return {
      ok: true,
      result: { key, value: JSON.parse(bytes.toString('utf8')), modRevision: rev, createRevision: Number(cur.create_revision), version: Number(cur.version) + 1, lease: String(lease ?? '0') },
    };
  }

  /**
   * Runs one etcd RPC under the store's deadline. 'read' and 'idempotent' calls are retried on any
   * transient failure; 'once' calls only when the request surely did not apply (AmbiguousWrite otherwise).
   * @internal
   */
  async call<R>(fn: (opts: CallOptions) => Promise<R>, kind: 'read' | 'idempotent' | 'once', timeoutMs = this.callTimeoutMs): Promise<R> {
    if (this.closed) throw new StoreError('CLOSED', 'the cluster store client is closed');
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) throw new NoQuorumError(lastErr);
      try {
        return await fn({ deadline: Date.now() + left });
      } catch (e) {
        lastErr = e;
        const f = classify(e);
        if (f === 'auth') throw new UnauthorizedError(e);
        if (f === 'fatal') throw e;
        if (f === 'ambiguous' && kind === 'once') throw new AmbiguousWrite(e);
        if (this.closed) throw e;
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 3), Math.max(0, deadline - Date.now())));
      }
    }
  }
}

/** A write whose outcome is unknown (the request may or may not have been applied). @internal */
export class AmbiguousWrite extends Error {
  constructor(cause: unknown) { super(`outcome unknown: ${errorText(cause)}`, { cause }); }
}

class WatchImpl<T> implements StoreWatch {
  revision: number;
  private closed = false;
  private stream: { cancel(): void; end(): void } | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncDue = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ClusterStore,
    private readonly prefix: string,
    fromRevision: number,
    private readonly cb: (ev: WatchEvent<T>) => void | Promise<void>,
    private readonly opts: WatchOptions,
    private readonly onClose: () => void,
  ) {
    this.revision = fromRevision;
  }

  start(): void {
    if (this.opts.resyncIntervalMs) {
      this.resyncTimer = setInterval(() => { this.resyncDue = true; abort(this.stream); }, this.opts.resyncIntervalMs);
      this.resyncTimer.unref?.();
    }
    this.done = this.loop();
  }

  async close(): Promise<void> {
    if (this.closed) return this.done;
    this.closed = true;
    clearInterval(this.resyncTimer);
    abort(this.stream);
    this.onClose();
    await this.done;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        if (this.resyncDue) {
          this.resyncDue = false;
          await this.relist();
          continue;
        }
        const outcome = await this.runStream();
        failures = 0;
        if (outcome === 'compacted') await this.relist();
      } catch (e) {
        if (this.closed) break;
        if (!this.resyncDue) {
          failures++;
          this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
          await sleep(Math.min(100 * 2 ** Math.min(failures - 1, 4), 2000));
        }
      }
    }
  }

  private async relist(): Promise<void> {
    const { items, revision } = await this.store.list<T>(this.prefix);
    if (this.closed) return;
    await this.cb({ type: 'reset', items, revision });
    this.revision = Math.max(this.revision, revision);
  }

  /** One watch stream; resolves 'compacted' when history is gone, rejects on errors. */
  private async runStream(): Promise<'compacted' | 'closed'> {
    const stream = await this.store.client.watchClient.watch({ interceptors: [requireLeader] });
    this.stream = stream;
    if (this.closed || this.resyncDue) { abort(stream); return 'closed'; }
    stream.write({
      create_request: {
        key: b(this.prefix), range_end: prefixEnd(this.prefix), start_revision: this.revision + 1,
        prev_kv: !!this.opts.prevKv, progress_notify: true,
      },
    });
    try {
      for await (const res of stream as unknown as AsyncIterable<IWatchResponse>) {
        if (this.closed) return 'closed';
        if (Number(res.compact_revision) > 0) return 'compacted';
        if (res.canceled) throw new Error(`watch canceled: ${res.cancel_reason || 'unknown reason'}`);
        if (res.created) continue;
        if (!res.events.length) {
          // Progress notification: everything up to header.revision has been delivered.
          this.revision = Math.max(this.revision, Number(res.header.revision));
          continue;
        }
        for (const ev of res.events) {
          const rev = Number(ev.kv.mod_revision);
          if (rev <= this.revision) continue;
          const key = ev.kv.key.toString('utf8');
          const prev = ev.prev_kv?.value?.length ? (JSON.parse(ev.prev_kv.value.toString('utf8')) as T) : undefined;
          if (ev.type === 'Put') {
            await this.cb({ type: 'put', key, value: JSON.parse(ev.kv.value.toString('utf8')) as T, modRevision: rev, createRevision: Number(ev.kv.create_revision), version: Number(ev.kv.version), ...(prev !== undefined ? { prev } : {}) });
          } else {
            await this.cb({ type: 'delete', key, modRevision: rev, ...(prev !== undefined ? { prev } : {}) });
          }
          this.revision = rev;
          if (this.closed) return 'closed';
        }
      }
      if (this.closed || this.resyncDue) return 'closed';
      throw new Error('watch stream ended');
    } catch (e) {
      if (this.closed || this.resyncDue) return 'closed';
      throw e;
    } finally {
      abort(stream);
      this.stream = undefined;
    }
  }
}

// ---------------------------------------------------------------- helpers

/**
 * Ends a stream we are done with. Half-closing first matters: etcd3 treats an error on a still
 * writable stream (the CANCELLED that cancel() causes) as a host failure and closes every channel
 * to that host, other calls and streams included.
 */
function abort(stream: { end(): void; cancel(): void } | undefined): void {
  if (!stream) return;
  try { stream.end(); } catch { /* already ended */ }
  try { stream.cancel(); } catch { /* gone */ }
}

function makeClient(endpoints: string[], credentials: { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer }, hasLeader = true, servername?: string): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    credentials,
    // No retries or circuit breakers inside etcd3: ClusterStore.call() retries within its deadline.
    faultHandling: { host: () => noop as never, global: noop as never },
    defaultCallOptions: () => (hasLeader ? { interceptors: [requireLeader] } : {}),
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 3000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...(servername ? { 'grpc.ssl_target_name_override': servername } : {}),
    },
    dialTimeout: 2000,
  });
}

function loadTls(tls: TlsMaterial): { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer } {
  if ('caFile' in tls) {
    return { rootCertificate: fs.readFileSync(tls.caFile), certChain: fs.readFileSync(tls.certFile), privateKey: fs.readFileSync(tls.keyFile) };
  }
  return { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) };
}

/** How to treat a failed call. Messages are grpc-js's "<code> <NAME>: <details>" plus etcd's texts. */
function classify(e: unknown): Failure {
  const msg = errorText(e);
  if (RECONFIG_NOT_YET.test(msg)) return 'fatal'; // the caller decides how long to wait
  if (/certificate|handshake|SSL|TLS|alert|self.signed|unable to verify|CERT_|bad decrypt/i.test(msg)) return 'auth';
  // Refused before reaching the state machine: safe to send again.
  // (a dropped raft proposal was never committed: a membership change or leader transfer was under way)
  if (/etcdserver: no leader|raft proposal dropped|not supported for learner|etcdserver: too many requests|etcdserver: not capable|No connection established|failed to connect|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|Name resolution failed|Breaker is open|is closed/i.test(msg)) return 'retry';
  if (/UNAVAILABLE|DEADLINE_EXCEEDED|Deadline exceeded|CANCELLED|request timed out|leader changed|Connection dropped|ECONNRESET|stream ended|EPIPE|timed out/i.test(msg)) return 'ambiguous';
  return 'fatal';
}

function guardCompare(g: Guard): ICompare {
  return { key: b(g.key), target: 'Create', result: 'Equal', create_revision: g.createRevision };
}

function rangeOp(key: string): IRequestOp {
  return { request_range: { key: b(key) } };
}

function toMember(m: IMember): Member {
  return { id: String(m.ID), name: m.name, peerUrls: m.peerURLs ?? [], clientUrls: m.clientURLs ?? [], isLearner: !!m.isLearner };
}

function decode<T>(kv: IKeyValue): Versioned<T> {
  return {
    key: kv.key.toString('utf8'),
    value: JSON.parse(kv.value.toString('utf8')) as T,
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? '0'),
  };
}

function encode(v: unknown): Buffer {
  const s = JSON.stringify(v);
  if (s === undefined) throw new StoreError('BAD_VALUE', 'cannot store undefined');
  return Buffer.from(s, 'utf8');
}

function b(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const buf = Buffer.from(prefix, 'utf8');
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i]! < 0xff) {
      const end = Buffer.from(buf.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]); // whole keyspace
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
