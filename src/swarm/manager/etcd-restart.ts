import type { SwarmBackend, SwarmStore } from '../backend.js';

// Restarting this manager's etcd member without costing the cluster its quorum. etcd reloads its
// own certificate and key from the files on every new connection, but reads its trusted CA file
// only when it starts: after a root rotation each member must restart to trust the new root alone.
// One member at a time (a lock key with a lease), and only while every other voter is healthy.

const LOCK = '/shoal/locks/etcd-restart';
const LOCK_TTL_S = 30;

/** true once restarted; false when it must wait (another member restarting, or one unhealthy). */
export async function restartEtcdMember(b: SwarmBackend, store: SwarmStore, nodeId: string): Promise<boolean> {
  if (!(await store.tryLock(LOCK, nodeId, LOCK_TTL_S))) return false;
  try {
    if (!(await store.votersHealthy(nodeId))) return false;
    // a raft leader that stops costs an election; hand leadership over first
    await store.moveRaftLeadershipAway();
    await b.restartEtcd();
    return true;
  } finally {
    // the store's client reconnects to the restarted member; the lease frees the lock if this fails
    await retry(() => store.unlock(LOCK, nodeId), 5, 500).catch(() => undefined);
  }
}

async function retry(fn: () => Promise<void>, times: number, delayMs: number): Promise<void> {
  for (let i = 0; ; i++) {
    try { await fn(); return; } catch (e) {
      if (i + 1 >= times) throw e;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
