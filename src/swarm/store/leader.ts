/**
 * Leader election among managers: one lease-guarded key.
 *
 * A candidate grants a short lease (default 2 s, etcd raises it to its minimum of 1.5 election
 * timeouts) and creates the leader key attached to it with a compare-and-swap (create revision 0).
 * The winner keeps the lease alive every TTL/4 and steps down on its own (onLost) as soon as it can
 * no longer prove the lease is alive: the step-down deadline is counted from when the last
 * successful keepalive was *sent*, so it always falls before etcd can expire the lease and let
 * another manager in. Followers watch the key (and poll it as a safety net) and campaign when it
 * disappears: after the leader resigned, or after its lease expired because its node died.
 *
 * etcd renews every lease when a new raft leader takes office (by the election timeout, on top of
 * the TTL), so if one node held both the raft leadership and the lease, its death would cost a raft
 * election *plus* an extended TTL (≈4-5 s with etcd's default timing) before another manager could
 * lead. The leader therefore hands raft leadership to another voter whenever its own member has it
 * (avoidRaftLeadership, on by default): a dead leader then costs only the lease TTL (≈2 s).
 *
 * The winner gets a Guard (the key's create revision): writes made with it fail with NotLeaderError
 * once leadership has passed on, which fences a deposed leader's late writes.
 */
import { EventEmitter } from 'node:events';
import { AlreadyExistsError, NotLeaderError, errorText } from './errors.js';
import type { ClusterStore, Guard, StoreWatch, Versioned } from './store.js';

export interface LeaderElectionOptions {
  /** The leader key. Default '/swarm/leader'. */
  key?: string;
  /** Requested lease TTL in seconds. Default 2. */
  ttlSeconds?: number;
  /** Followers re-read the key at least this often even without watch events. Default 1000 ms. */
  pollIntervalMs?: number;
  /** While leader, keep this manager's own etcd member (the store's first endpoint) from being the
   *  raft leader. Default true. */
  avoidRaftLeadership?: boolean;
  /** How often the leader checks the raft leadership. Default 1000 ms. */
  raftCheckIntervalMs?: number;
}

export interface LeaderRecord {
  nodeId: string;
  /** When this leader was elected (ISO 8601). */
  since: string;
  lease: string;
}

export type LostReason = 'lease-expired' | 'unreachable' | 'replaced' | 'resigned';

export class LeaderElection extends EventEmitter {
  readonly key: string;
  private readonly ttlSeconds: number;
  private readonly pollIntervalMs: number;
  private readonly avoidRaftLeadership: boolean;
  private readonly raftCheckIntervalMs: number;
  private raftCheck: Promise<void> | undefined;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private nodeId = '';
  private leader: { guard: Guard; lease: string; ttlMs: number } | undefined;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private onElected: (guard: Guard) => void = () => {};
  private onLost: (reason: LostReason) => void = () => {};

  constructor(private readonly store: ClusterStore, opts: LeaderElectionOptions = {}) {
    super();
    this.key = opts.key ?? '/swarm/leader';
    this.ttlSeconds = opts.ttlSeconds ?? 2;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.avoidRaftLeadership = opts.avoidRaftLeadership ?? true;
    this.raftCheckIntervalMs = opts.raftCheckIntervalMs ?? 1000;
  }

  /** Whether this manager currently holds the leadership. */
  get isLeader(): boolean { return this.leader !== undefined; }
  /** The write fence of the current term, while leader. */
  get guard(): Guard | undefined { return this.leader?.guard; }

  /**
   * Campaigns for leadership as `nodeId` until stop(): onElected(guard) when this manager becomes
   * leader, onLost(reason) when it stops being leader (then it campaigns again). Callbacks must not
   * throw; they are called synchronously and not awaited.
   */
  campaign(nodeId: string, onElected: (guard: Guard) => void, onLost: (reason: LostReason) => void): void {
    if (this.running) throw new Error('already campaigning');
    this.running = true;
    this.nodeId = nodeId;
    this.onElected = onElected;
    this.onLost = onLost;
    this.loopDone = this.loop();
  }

  /** The current leader's node id (undefined when there is none), read from the store. */
  async currentLeader(): Promise<string | undefined> {
    return (await this.leaderRecord())?.value.nodeId;
  }

  async leaderRecord(): Promise<Versioned<LeaderRecord> | undefined> {
    return this.store.get<LeaderRecord>(this.key);
  }

  /** Stops campaigning; a leader resigns (deletes its key, revokes its lease) so another takes over at once. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const held = this.leader;
    if (held) this.lose('resigned');
    this.wake?.();
    await this.loopDone;
    await this.raftCheck;
    if (held) await this.release(held).catch(() => {});
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const cur = await this.store.get<LeaderRecord>(this.key);
        if (!this.running) break;
        if (cur) {
          if (cur.value.nodeId === this.nodeId && !this.leader) {
            // Left over by an earlier incarnation of this node (shoald restarted): take it back at once.
            await this.store.delete(this.key, { modRevision: cur.modRevision }).catch(() => {});
            if (cur.lease !== '0') await this.store.leaseRevoke(cur.lease).catch(() => {});
            continue;
          }
          await this.waitForChange(cur);
          continue;
        }
        await this.tryAcquire();
        if (this.leader) await this.holdLeadership();
      } catch (e) {
        this.emit('warning', e);
        await this.sleep(Math.min(500, this.pollIntervalMs));
      }
    }
  }

  private async tryAcquire(): Promise<void> {
    const sentAt = Date.now();
    const lease = await this.store.leaseGrant(this.ttlSeconds);
    const record: LeaderRecord = { nodeId: this.nodeId, since: new Date().toISOString(), lease: lease.id };
    let created: Versioned<LeaderRecord>;
    try {
      created = await this.store.create(this.key, record, { lease: lease.id });
    } catch (e) {
      void this.store.leaseRevoke(lease.id).catch(() => {});
      if (e instanceof AlreadyExistsError) return; // someone else was faster
      throw e;
    }
    if (!this.running) {
      await this.release({ guard: { key: this.key, createRevision: created.createRevision }, lease: lease.id, ttlMs: 0 }).catch(() => {});
      return;
    }
    const ttlMs = lease.ttl * 1000;
    this.leader = { guard: { key: this.key, createRevision: created.createRevision }, lease: lease.id, ttlMs };
    this.armStepDown(sentAt + ttlMs);
    this.emit('elected', this.leader.guard);
    try { this.onElected(this.leader.guard); } catch (e) { this.emit('warning', e); }
  }

  /** Keeps the lease alive while leader; returns once leadership is lost or stop() was called. */
  private async holdLeadership(): Promise<void> {
    const held = this.leader!;
    const interval = Math.max(100, Math.floor(held.ttlMs / 4));
    let nextRaftCheck = 0;
    while (this.running && this.leader === held) {
      if (this.avoidRaftLeadership && !this.raftCheck && Date.now() >= nextRaftCheck) {
        nextRaftCheck = Date.now() + this.raftCheckIntervalMs;
        this.raftCheck = this.store.moveRaftLeadershipAway()
          .then((to) => { if (to) this.emit('raft-leadership-moved', to); }, (e) => { this.emit('warning', e); })
          .finally(() => { this.raftCheck = undefined; });
      }
      await this.sleep(interval);
      if (!this.running || this.leader !== held) break;
      const sentAt = Date.now();
      try {
        const ttl = await this.store.leaseKeepAlive(held.lease, Math.floor(held.ttlMs / 2));
        if (this.leader !== held) break;
        if (ttl <= 0) { this.lose('lease-expired'); break; }
        this.armStepDown(sentAt + ttl * 1000);
        const cur = await this.store.get<LeaderRecord>(this.key);
        if (this.leader !== held) break;
        if (!cur || cur.createRevision !== held.guard.createRevision) { this.lose('replaced'); break; }
      } catch (e) {
        // No quorum, member down...: the step-down timer decides.
        this.emit('warning', e);
      }
    }
    if (this.running && this.leader === undefined) {
      // Best effort: free the key so that a reachable majority need not wait for the lease to expire.
      await this.release(held).catch(() => {});
      await this.sleep(Math.min(held.ttlMs, 1000));
    }
  }

  /** Steps down before the lease can have expired on the etcd side. */
  private armStepDown(leaseExpiresAt: number): void {
    clearTimeout(this.stepDownTimer);
    const margin = Math.min(500, this.leader ? this.leader.ttlMs / 4 : 500);
    this.stepDownTimer = setTimeout(() => {
      if (this.leader) this.lose('unreachable');
    }, Math.max(0, leaseExpiresAt - margin - Date.now()));
  }

  private lose(reason: LostReason): void {
    if (!this.leader) return;
    clearTimeout(this.stepDownTimer);
    this.leader = undefined;
    this.emit('lost', reason);
    try { this.onLost(reason); } catch (e) { this.emit('warning', e); }
    this.wake?.();
  }

  private async release(held: { guard: Guard; lease: string; ttlMs?: number }): Promise<void> {
    try {
      await this.store.delete(this.key, { guard: held.guard });
    } catch (e) {
      if (!(e instanceof NotLeaderError) && !/not found/i.test(errorText(e))) throw e;
    }
    await this.store.leaseRevoke(held.lease);
  }

  /** Waits until the leader key changes (watch), the poll interval passes, or stop(). */
  private async waitForChange(cur: Versioned<LeaderRecord>): Promise<void> {
    let watch: StoreWatch | undefined;
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollIntervalMs);
        this.wake = () => { clearTimeout(timer); resolve(); };
        watch = this.store.watch<LeaderRecord>(this.key, cur.modRevision, (ev) => {
          if (ev.type === 'reset' || ev.key === this.key) { clearTimeout(timer); resolve(); }
        });
      });
    } finally {
      this.wake = undefined;
      await watch?.close();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = undefined; resolve(); }, ms);
      this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve(); };
    });
  }
}
