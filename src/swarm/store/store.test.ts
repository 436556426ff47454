/**
 * The cluster store against real etcd members over real mutual TLS, on 127.0.0.1 with free ports:
 * one member → three (learners promoted) → leader failover → quorum loss and recovery →
 * refused clients → --force-new-cluster → supervised restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdMember, type EtcdMemberOptions } from './etcd-member.js';
import { ClusterStore, type WatchEvent } from './store.js';
import { LeaderElection } from './leader.js';
import { AlreadyExistsError, NO_LEADER_MESSAGE, NoQuorumError, NotFoundError, NotLeaderError, OutOfSequenceError, UnauthorizedError } from './errors.js';
import { makeTestPki, type TestPki } from './test-pki.js';

interface TNode {
  id: string;
  member: EtcdMember;
  opts: EtcdMemberOptions;
  peerUrl: string;
  clientUrl: string;
  tls: { caFile: string; certFile: string; keyFile: string };
  store?: ClusterStore;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-store-test-'));
const members = new Set<EtcdMember>();
const stores = new Set<ClusterStore>();
const elections = new Set<LeaderElection>();

// Last resort when the test process dies: no etcd and no temp dir may survive it.
process.on('exit', () => {
  for (const m of members) { const pid = m.pid; if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } }
  if (!process.env.SHOAL_TEST_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

let pki: TestPki;

async function makeNode(id: string): Promise<TNode> {
  const cert = await pki.issue(id);
  const [pp, cp] = [await freePort(), await freePort()];
  const tls = { caFile: pki.caFile, ...cert };
  const peerUrl = `https://127.0.0.1:${pp}`;
  const clientUrl = `https://127.0.0.1:${cp}`;
  const opts: EtcdMemberOptions = {
    name: id, dataDir: path.join(tmp, id, 'etcd'), peerUrl, clientUrls: [clientUrl], tls,
    logFile: path.join(tmp, id, 'etcd.log'), readyTimeoutMs: 20_000,
  };
  const member = new EtcdMember(opts);
  members.add(member);
  return { id, member, opts, peerUrl, clientUrl, tls };
}

/** What a restarted shoald does: a new supervisor for the same member. */
function newSupervisor(n: TNode, extra: Partial<EtcdMemberOptions> = {}): EtcdMember {
  n.member = new EtcdMember({ ...n.opts, ...extra });
  members.add(n.member);
  return n.member;
}

function storeOf(n: TNode): ClusterStore {
  n.store ??= new ClusterStore({ endpoints: [n.clientUrl], tls: n.tls });
  stores.add(n.store);
  return n.store;
}

async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { return await fn(); } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${e instanceof Error ? e.message : e}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('cluster store on etcd', { timeout: 120_000 }, () => {
  let n1: TNode, n2: TNode, n3: TNode;

  before(async () => {
    pki = await makeTestPki(path.join(tmp, 'pki'));
    n1 = await makeNode('node1');
    n2 = await makeNode('node2');
    n3 = await makeNode('node3');
  });

  after(async () => {
    await Promise.all([...elections].map((e) => e.stop().catch(() => {})));
    for (const s of stores) s.close();
    await Promise.all([...members].map((m) => m.stop({ signal: 'SIGKILL' })));
    if (!process.env.SHOAL_TEST_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('start() reports an etcd that cannot start, with its log', async () => {
    const bad = new EtcdMember({
      name: 'bad', dataDir: path.join(tmp, 'bad', 'etcd'), peerUrl: `https://127.0.0.1:${await freePort()}`,
      clientUrls: [`https://127.0.0.1:${await freePort()}`],
      tls: { caFile: pki.caFile, certFile: path.join(tmp, 'missing.crt'), keyFile: path.join(tmp, 'missing.key') },
      logFile: path.join(tmp, 'bad', 'etcd.log'),
    });
    members.add(bad);
    await assert.rejects(bad.start(), (e: Error) => /exited before serving/.test(e.message) && /missing\.(crt|key)/.test(e.message));
    assert.equal(bad.pid, undefined);
  });

  test('a one-member cluster serves CRUD, compare-and-swap and watch', async () => {
    await n1.member.start({ state: 'new' });
    assert.ok(n1.member.pid);
    const s = storeOf(n1);

    // create / get / AlreadyExists
    const c = await s.create('/t/a', { n: 1 });
    assert.equal(c.version, 1);
    await assert.rejects(s.create('/t/a', { n: 2 }), AlreadyExistsError);
    const g = await s.get<{ n: number }>('/t/a');
    assert.deepEqual(g?.value, { n: 1 });
    assert.equal(g?.modRevision, c.modRevision);
    assert.equal(await s.get('/t/missing'), undefined);

    // update: CAS retried under contention
    await Promise.all(Array.from({ length: 10 }, () => s.update<{ n: number }>('/t/a', (v) => ({ n: v.n + 1 }))));
    assert.equal((await s.get<{ n: number }>('/t/a'))?.value.n, 11);
    await assert.rejects(s.update('/t/missing', (v) => v), NotFoundError);

    // updateIfVersion: Docker's ?version=N
    const cur = (await s.get<{ n: number }>('/t/a'))!;
    const upd = await s.updateIfVersion('/t/a', cur.modRevision, { n: 100 });
    assert.ok(upd.modRevision > cur.modRevision);
    await assert.rejects(s.updateIfVersion('/t/a', cur.modRevision, { n: 101 }), (e: Error) => e instanceof OutOfSequenceError && e.message === 'update out of sequence');

    // list at one revision
    await s.put('/t/b', { n: 2 });
    await s.put('/tx', { other: true });
    const l = await s.list<{ n: number }>('/t/');
    assert.deepEqual(l.items.map((i) => i.key), ['/t/a', '/t/b']);
    assert.ok(l.revision >= l.items[1]!.modRevision);

    // watch from the list revision: put, update, delete in order
    const events: WatchEvent<{ n: number }>[] = [];
    const w = s.watch<{ n: number }>('/t/', l.revision, (ev) => { events.push(ev); }, { prevKv: true });
    await s.put('/t/c', { n: 3 });
    await s.update<{ n: number }>('/t/b', (v) => ({ n: v.n * 10 }));
    assert.equal(await s.delete('/t/a'), true);
    assert.equal(await s.delete('/t/a'), false);
    await s.put('/tx', { ignored: true });
    await eventually('watch events', async () => assert.equal(events.length, 3));
    assert.deepEqual(events.map((e) => [e.type, e.type === 'reset' ? '' : e.key]), [['put', '/t/c'], ['put', '/t/b'], ['delete', '/t/a']]);
    const upEv = events[1]!;
    assert.ok(upEv.type === 'put' && upEv.value.n === 20 && upEv.prev?.n === 2);
    await w.close();

    // a watch from a compacted revision lists again and delivers one 'reset'
    const { revision: now } = await s.list('/t/');
    await s.client.kv.compact({ revision: now, physical: true });
    const resets: WatchEvent<{ n: number }>[] = [];
    const w2 = s.watch<{ n: number }>('/t/', l.revision, (ev) => { resets.push(ev); });
    await eventually('reset after compaction', async () => assert.equal(resets[0]?.type, 'reset'));
    const r = resets[0]!;
    assert.ok(r.type === 'reset');
    assert.deepEqual(r.items.map((i) => i.key), ['/t/b', '/t/c']);
    await s.put('/t/d', { n: 4 });
    await eventually('events after reset', async () => {
      const last = resets.at(-1);
      assert.ok(last?.type === 'put' && last.key === '/t/d');
    });
    await w2.close();

    // a periodic resync delivers the whole prefix as a 'reset' too
    const resynced: WatchEvent<unknown>[] = [];
    const w3 = s.watch('/t/', (await s.list('/t/')).revision, (ev) => { resynced.push(ev); }, { resyncIntervalMs: 200 });
    await eventually('periodic reset', async () => assert.ok(resynced.filter((e) => e.type === 'reset').length >= 2), 3000);
    await s.put('/t/e', { n: 5 });
    await eventually('events between resyncs', async () => assert.ok(resynced.some((e) => e.type === 'put' && e.key === '/t/e')), 3000);
    await w3.close();

    // list() in pages still reads one revision
    const paged = new ClusterStore({ endpoints: [n1.clientUrl], tls: n1.tls, listPageSize: 2 });
    stores.add(paged);
    for (let i = 0; i < 5; i++) await s.put(`/p/${i}`, { i });
    const pl = await paged.list<{ i: number }>('/p/');
    assert.deepEqual(pl.items.map((x) => x.value.i), [0, 1, 2, 3, 4]);
    assert.equal(await s.deletePrefix('/p/'), 5);
    paged.close();
    await s.delete('/t/e');

    // delete with a version; guards
    const d = (await s.get('/t/d'))!;
    await assert.rejects(s.delete('/t/d', { modRevision: d.modRevision - 1 }), OutOfSequenceError);
    assert.equal(await s.delete('/t/d', { modRevision: d.modRevision }), true);
    const fence = await s.create('/t/fence', { leader: 'node1' });
    const guard = { key: '/t/fence', createRevision: fence.createRevision };
    await s.put('/t/guarded', { ok: 1 }, { guard });
    await s.update('/t/guarded', () => ({ ok: 2 }), { guard });
    await s.delete('/t/fence');
    await s.create('/t/fence', { leader: 'node2' });
    await assert.rejects(s.put('/t/guarded', { ok: 3 }, { guard }), NotLeaderError);
    await assert.rejects(s.update('/t/guarded', () => ({ ok: 3 }), { guard }), NotLeaderError);
    await assert.rejects(s.create('/t/guarded2', { ok: 3 }, { guard }), NotLeaderError);
    assert.deepEqual((await s.get('/t/guarded'))?.value, { ok: 2 });

    // a learner that never starts can be removed again
    const ghost = await s.memberAddLearner('ghost', `https://127.0.0.1:${await freePort()}`);
    assert.equal((await s.memberList()).length, 2);
    await s.memberRemove(ghost.member.id);
    assert.deepEqual((await s.memberList()).map((m) => m.name), ['node1']);
    await assert.rejects(s.memberRemove(ghost.member.id), NotFoundError);
  });

  test('a second and a third member join as learners and are promoted', async () => {
    const s = storeOf(n1);
    for (const n of [n2, n3]) {
      const t0 = Date.now();
      const { member, initialCluster } = await s.memberAddLearner(n.id, n.peerUrl);
      assert.equal(member.isLearner, true);
      assert.match(initialCluster, new RegExp(`${n.id}=${n.peerUrl}`));
      await n.member.start({ state: 'existing', initialCluster });
      await s.memberPromote(member.id);
      console.log(`# ${n.id}: learner added, started, promoted in ${Date.now() - t0} ms`);
    }
    const list = await s.memberList();
    assert.deepEqual(list.map((m) => [m.name, m.isLearner]).sort(), [['node1', false], ['node2', false], ['node3', false]]);
    // every member serves the replicated data
    for (const n of [n2, n3]) assert.deepEqual((await storeOf(n).get('/t/guarded'))?.value, { ok: 2 });
  });

  test('killing the etcd of the leader-holding node elects a new leader within ~3 s', async () => {
    const nodes = [n1, n2, n3];
    const elected = new Map<string, number>();
    const lost = new Map<string, number>();
    const byId = new Map<string, LeaderElection>();
    for (const n of nodes) {
      const e = new LeaderElection(storeOf(n));
      elections.add(e);
      byId.set(n.id, e);
      e.campaign(n.id, () => elected.set(n.id, Date.now()), () => lost.set(n.id, Date.now()));
    }
    const first = await eventually('a first leader', async () => {
      const ids = nodes.filter((n) => byId.get(n.id)!.isLeader);
      assert.equal(ids.length, 1);
      return ids[0]!;
    });
    assert.equal(await byId.get(n2.id)!.currentLeader(), first.id);
    // Make the leader-holding node the raft leader too: the leader hands raft leadership away again,
    // so that its death costs the lease TTL only, not a raft election plus an extended TTL.
    const statuses = await Promise.all(nodes.map((n) => storeOf(n).endpointStatus(n.clientUrl)));
    const raftLeader = nodes[statuses.findIndex((st) => st.memberId === st.leaderId)]!;
    const firstMemberId = statuses[nodes.indexOf(first)]!.memberId;
    if (raftLeader !== first) await storeOf(raftLeader).client.maintenance.moveLeader({ targetID: firstMemberId });
    const tm = Date.now();
    await eventually('raft leadership moved off the leader-holding node', async () => {
      const st = await storeOf(first).endpointStatus(first.clientUrl);
      assert.ok(st.leaderId !== '0' && st.leaderId !== st.memberId);
    });
    console.log(`# raft leadership handed away by the swarm leader ${Date.now() - tm} ms after it landed there`);
    // A new raft leader extends every lease once (by the election timeout); let a keepalive pass.
    await new Promise((r) => setTimeout(r, 1000));

    elected.clear();
    const t0 = Date.now();
    await first.member.stop({ signal: 'SIGKILL' });
    const next = await eventually('a new leader', async () => {
      const e = [...elected.keys()].filter((id) => id !== first.id);
      assert.equal(e.length, 1);
      return e[0]!;
    }, 15_000);
    const failoverMs = elected.get(next)! - t0;
    console.log(`# leader ${first.id} killed: ${next} elected after ${failoverMs} ms; old leader stepped down after ${(lost.get(first.id) ?? NaN) - t0} ms`);
    assert.ok(lost.has(first.id), 'the old leader stepped down');
    assert.ok(failoverMs < 3500, `failover took ${failoverMs} ms`);
    assert.equal(await byId.get(next)!.currentLeader(), next);

    // the killed member comes back from its data dir
    await first.member.start();
    assert.equal(await eventually('old member sees the new leader', () => byId.get(first.id)!.currentLeader()), next);
    assert.equal(byId.get(first.id)!.isLeader, false);

    // resigning hands over at once
    const t1 = Date.now();
    elected.clear();
    await byId.get(next)!.stop();
    const third = await eventually('leader after resign', async () => { const e = [...elected.keys()]; assert.equal(e.length, 1); return e[0]!; });
    console.log(`# ${next} resigned: ${third} elected after ${elected.get(third)! - t1} ms`);
    assert.notEqual(third, next);
    for (const e of elections) await e.stop();
  });

  test('without quorum a write fails fast with NoQuorumError, and works again once a member is back', async () => {
    const s = storeOf(n1);
    await s.put('/q/before', { ok: true });
    await n2.member.stop({ signal: 'SIGKILL' });
    await n3.member.stop({ signal: 'SIGKILL' });
    for (const op of ['put', 'get'] as const) {
      const t0 = Date.now();
      const err = await (op === 'put' ? s.put('/q/x', { lost: true }) : s.get('/q/before')).then(() => undefined, (e: Error) => e);
      const ms = Date.now() - t0;
      console.log(`# ${op} without quorum failed after ${ms} ms: ${err?.message}`);
      assert.ok(err instanceof NoQuorumError, `expected NoQuorumError, got ${err}`);
      assert.equal(err.message, NO_LEADER_MESSAGE);
      assert.ok(ms < 3500, `${op} took ${ms} ms`);
    }
    const t1 = Date.now();
    await newSupervisor(n2).start(); // as a restarted shoald would: no cluster flags, from the data dir
    await eventually('write after a member came back', () => s.put('/q/after', { ok: true }));
    console.log(`# quorum back ${Date.now() - t1} ms after restarting ${n2.id}`);
    assert.deepEqual((await storeOf(n2).get('/q/after'))?.value, { ok: true });
    await n3.member.start();
    assert.deepEqual((await storeOf(n3).get('/q/before'))?.value, { ok: true });
  });

  test('a client without a certificate, or with one from another CA, is refused', async () => {
    const noCert = new Etcd3({ hosts: [n1.clientUrl], credentials: { rootCertificate: fs.readFileSync(pki.caFile) } });
    try {
      await assert.rejects(noCert.get('/q/before').string(), /bad certificate|certificate required|alert/i);
    } finally {
      noCert.close();
    }
    const other = await makeTestPki(path.join(tmp, 'pki-other'), 'othercluster');
    const cert = await other.issue('intruder');
    const intruder = new ClusterStore({ endpoints: [n1.clientUrl], tls: { caFile: pki.caFile, ...cert } });
    stores.add(intruder);
    await assert.rejects(intruder.get('/q/before'), UnauthorizedError);
    intruder.close();
    // and the real node still gets in
    assert.deepEqual((await storeOf(n1).get('/q/before'))?.value, { ok: true });
  });

  test('forceNewCluster on a survivor rebuilds a working one-member cluster with the old data', async () => {
    await n2.member.stop({ signal: 'SIGKILL' });
    await n3.member.stop({ signal: 'SIGKILL' });
    await n1.member.stop();
    await n1.member.start({ forceNewCluster: true });
    const s = storeOf(n1);
    const list = await eventually('one member', async () => {
      const l = await s.memberList();
      assert.equal(l.length, 1);
      return l;
    });
    assert.equal(list[0]!.name, 'node1');
    assert.deepEqual((await s.get('/q/after'))?.value, { ok: true });
    await s.put('/q/forced', { ok: true });
    assert.deepEqual((await s.get('/q/forced'))?.value, { ok: true });
  });

  test('an etcd that dies is restarted by its supervisor from its data dir', async () => {
    const pid = n1.member.pid!;
    const respawned = new Promise<number>((resolve) => n1.member.once('spawn', resolve));
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const newPid = await respawned;
    assert.notEqual(newPid, pid);
    await n1.member.ready(10_000);
    const s = storeOf(n1);
    assert.deepEqual((await eventually('read after restart', () => s.get('/q/forced')))?.value, { ok: true });
    console.log(`# supervisor restarted etcd, serving again after ${Date.now() - t0} ms`);
    assert.equal((await s.memberList()).length, 1);
  });

  test('a restarted shoald stops an etcd its predecessor left running and starts the member again', async () => {
    await n1.member.stop();
    const orphanSupervisor = newSupervisor(n1, { dieWithParent: false });
    await orphanSupervisor.start();
    const orphanPid = orphanSupervisor.pid!;
    const fresh = newSupervisor(n1); // the predecessor's supervisor is gone, its etcd still runs
    await fresh.start();
    assert.notEqual(fresh.pid, orphanPid);
    assert.equal(fs.existsSync(`/proc/${orphanPid}`) && !fs.readFileSync(`/proc/${orphanPid}/stat`, 'utf8').includes(') Z'), false);
    assert.deepEqual((await storeOf(n1).get('/q/forced'))?.value, { ok: true });
  });
});
