import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../daemon/logger.js';
import {
  createRootCA, decryptPrivateKey, encryptPrivateKey, generateJoinToken, generateNodeKey, isEncryptedPrivateKey, publicKeyPemOf, generateUnlockKey,
  issueNodeCert, parseJoinToken, tlsInfo, tokenMatchesCA, crossSignRootCA, checkSigningCA, samePublicKey, nodeTlsInfo, verifyIssuedBy,
  parseNodeCert, renewalTime, canonicalCertPem,
} from './ca/index.js';
import { EtcdMember } from './store/etcd-member.js';
import { AlreadyExistsError, NotFoundError, StoreError } from './store/errors.js';
import { LeaderElection } from './store/leader.js';
import { ClusterStore } from './store/store.js';
import { NotFound, ServerError, ApiError } from '../api/errors.js';
import type { EtcdStartOptions, SwarmBackend, SwarmStore } from './backend.js';

// The swarm backend over the CA library (src/swarm/ca) and the etcd store (src/swarm/store).

const JOIN_FILE = 'join.json';
/** every manager certificate carries this DNS name; the store checks members against it, not their IPs */
const MANAGER_NAME = 'swarm-manager';

/** Store errors become API errors with Docker's texts (no quorum, out of sequence...). */
function apiError(err: unknown): Error {
  if (err instanceof ApiError) return err;
  if (err instanceof NotFoundError) return new NotFound((err as Error).message);
  if (err instanceof StoreError) return new ServerError(`rpc error: code = Unknown desc = ${(err as Error).message}`);
  return err as Error;
}

async function wrap<T>(p: Promise<T>): Promise<T> {
  try { return await p; } catch (err) { throw apiError(err); }
}

/**
 * Reads are idempotent: a transient gRPC failure (a member restarting to load new certificates
 * answers with plain HTTP for a moment, a connection being replaced) is retried a few times
 * before it becomes an API error.
 */
async function read<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try { return await op(); } catch (err) {
      const name = (err as Error)?.constructor?.name ?? '';
      if (attempt >= 4 || !/GRPCUnknownError|GRPCUnavailableError|GRPCConnectFailedError|GRPCInternalError/.test(name)) throw apiError(err);
      await new Promise((r) => setTimeout(r, 150 * attempt));
    }
  }
}

class EtcdSwarmStore implements SwarmStore {
  private election?: LeaderElection;
  private leaderPoll?: NodeJS.Timeout;

  constructor(private s: ClusterStore, private tls: { ca: string; cert: string; key: string }) {}

  setCredentials(o: { caPem: string; certPem: string; keyPem: string }): void {
    this.tls = { ca: o.caPem, cert: o.certPem, key: o.keyPem };
    this.s.setCredentials(this.tls);
  }
  async tryLock(key: string, holder: string, ttlSeconds: number): Promise<boolean> {
    const lease = await wrap(this.s.leaseGrant(ttlSeconds));
    try {
      await this.s.create(key, { holder }, { lease: lease.id });
      return true;
    } catch (err) {
      void this.s.leaseRevoke(lease.id).catch(() => undefined);
      if (err instanceof AlreadyExistsError) return false;
      throw apiError(err);
    }
  }
  async unlock(key: string, holder: string): Promise<void> {
    const cur = await wrap(this.s.get<{ holder: string }>(key));
    if (cur?.value.holder !== holder) return;
    await this.s.delete(key, { modRevision: cur.modRevision }).catch(() => undefined);
    if (cur.lease !== '0') await this.s.leaseRevoke(cur.lease).catch(() => undefined);
  }
  async votersHealthy(exceptName: string): Promise<boolean> {
    const members = await wrap(this.s.memberList());
    const others = members.filter((m) => !m.isLearner && m.name !== exceptName);
    const ok = await Promise.all(others.map(async (m) => {
      if (!m.clientUrls[0]) return false;
      try { return (await this.s.endpointStatus(m.clientUrls[0], 1000)).leaderId !== '0'; } catch { return false; }
    }));
    return ok.every(Boolean);
  }
  async moveRaftLeadershipAway(): Promise<void> { await this.s.moveRaftLeadershipAway().catch(() => undefined); }
  async updateMemberPeerUrl(name: string, peerUrl: string): Promise<void> {
    const m = (await wrap(this.s.memberList())).find((x) => x.name === name);
    if (!m) throw new NotFound(`no etcd member ${name}`);
    if (m.peerUrls.length === 1 && m.peerUrls[0] === peerUrl) return;
    await wrap(this.s.memberUpdate(m.id, [peerUrl]));
  }

  async get<T>(key: string): Promise<T | undefined> { return (await read(() => this.s.get<T>(key)))?.value; }
  async getWithVersion<T>(key: string): Promise<{ value: T; version: number } | undefined> {
    const v = await read(() => this.s.get<T>(key));
    return v ? { value: v.value, version: v.modRevision } : undefined;
  }
  async put(key: string, value: unknown): Promise<void> { await wrap(this.s.put(key, value)); }
  async putWithTtl(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    const lease = await wrap(this.s.leaseGrant(ttlSeconds));
    await wrap(this.s.put(key, value, { lease: lease.id }));
  }
  async update<T>(key: string, fn: (cur: T) => T, version?: number): Promise<void> {
    if (version === undefined) { await wrap(this.s.update<T>(key, (cur) => fn(cur))); return; }
    const cur = await wrap(this.s.get<T>(key));
    if (!cur) throw new NotFound(`${key} not found`);
    await wrap(this.s.updateIfVersion(key, version, fn(cur.value)));
  }
  async delete(key: string): Promise<void> { await wrap(this.s.delete(key)); }
  async list<T>(prefix: string): Promise<T[]> { return (await read(() => this.s.list<T>(prefix))).items.map((i) => i.value); }
  async listWithVersion<T>(prefix: string): Promise<{ key: string; value: T; version: number }[]> {
    return (await read(() => this.s.list<T>(prefix))).items.map((i) => ({ key: i.key, value: i.value, version: i.modRevision }));
  }
  async keys(prefix: string): Promise<string[]> { return (await read(() => this.s.list(prefix))).items.map((i) => i.key); }
  async addLearner(name: string, peerUrl: string): Promise<string> {
    return (await wrap(this.s.memberAddLearner(name, peerUrl))).initialCluster;
  }
  /**
   * etcd 3.4 forwards a MemberPromote received by a follower to the leader over the peer API and
   * loses the caller's identity on the way ("auth: user name is empty"): ask the leader directly.
   */
  async promoteMember(name: string): Promise<void> {
    const members = await wrap(this.s.memberList());
    const m = members.find((x) => x.name === name || x.peerUrls.some((u) => u.includes(name)));
    if (!m) throw new NotFound(`no etcd member ${name}`);
    if (!m.isLearner) return;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const status = await wrap(this.s.endpointStatus(this.s.endpoints[0], 1000));
      const leader = members.find((x) => x.id === status.leaderId);
      const direct = leader?.clientUrls[0] && !this.s.endpoints.includes(leader.clientUrls[0])
        ? new ClusterStore({ endpoints: [leader.clientUrls[0]], tls: this.tls, servername: MANAGER_NAME }) : undefined;
      try {
        await (direct ?? this.s).memberPromote(m.id, { timeoutMs: Math.max(1000, deadline - Date.now()) });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw apiError(err);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await direct?.close();
      }
    }
  }
  /** etcd refuses to shrink a cluster it deems unhealthy (e.g. just after a promotion): retry a while. */
  async removeMember(name: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = (await wrap(this.s.memberList())).find((x) => x.name === name);
      if (!m) return;
      try {
        await this.s.memberRemove(m.id);
        return;
      } catch (err) {
        if (err instanceof NotFoundError) return;
        if (Date.now() > deadline || !/unhealthy cluster|not enough started members|does not have a leader/.test(String((err as Error).message))) throw apiError(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  async enableAuth(selfName: string): Promise<void> {
    await this.grantManager('root');
    await this.grantManager(selfName);
    await wrap(this.s.client.auth.authEnable());
  }
  async grantManager(name: string): Promise<void> {
    try { await this.s.client.auth.userAdd({ name, options: { no_password: true } }); } catch (err) {
      if (!/already exists/.test(String((err as Error).message))) throw apiError(err);
    }
    await wrap(this.s.client.auth.userGrantRole({ user: name, role: 'root' }));
  }
  async revokeManager(name: string): Promise<void> {
    try { await this.s.client.auth.userDelete({ name }); } catch (err) {
      if (!/not found/.test(String((err as Error).message))) throw apiError(err);
    }
  }
  async reachable(clientUrl: string): Promise<boolean> {
    try { await this.s.endpointStatus(clientUrl, 700); return true; } catch { return false; }
  }
  async campaign(id: string, onElected: () => void, onLost: () => void, onLeader: (id: string) => void): Promise<() => Promise<void>> {
    const e = new LeaderElection(this.s, { key: '/shoal/leader', ttlSeconds: 2 });
    this.election = e;
    e.on('warning', () => undefined);
    e.campaign(id, () => { onLeader(id); onElected(); }, () => onLost());
    // followers learn who leads by reading the key (node ls shows the Leader)
    const poll = async () => { const l = await e.currentLeader().catch(() => undefined); onLeader(l ?? ''); };
    void poll();
    this.leaderPoll = setInterval(() => void poll(), 500);
    return async () => { clearInterval(this.leaderPoll); await e.stop(); };
  }
  watchKeys(prefix: string, cb: (key: string) => void): () => void {
    let closed = false;
    let watch: { close(): Promise<void> } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const start = () => {
      // the revision to start from: listing a key that cannot exist is the cheapest read that has one
      this.s.list(`${prefix}\u0000`).then(({ revision }) => {
        if (closed) return;
        watch = this.s.watch(prefix, revision, (ev) => cb(ev.type === 'reset' ? '' : ev.key), { onError: () => undefined });
        cb('');
      }, () => { if (!closed) timer = setTimeout(start, 1000); });
    };
    start();
    return () => { closed = true; clearTimeout(timer); void watch?.close().catch(() => undefined); };
  }

  async close(): Promise<void> {
    clearInterval(this.leaderPoll);
    await this.election?.stop().catch(() => undefined);
    await this.s.close();
  }
}

export class SwarmBackendImpl implements SwarmBackend {
  private member?: EtcdMember;

  constructor(private log: Logger, private execRoot: string) {}

  createRootCA() { return createRootCA(); }
  async issueNodeCert(ca: { certPem: string; keyPem: string }, o: { nodeId: string; role: 'manager' | 'worker'; clusterId: string; ips: string[]; publicKeyPem?: string; validityMs?: number; minValidityMs?: number; backdateMs?: number; chainPem?: string }) {
    if (o.publicKeyPem) return { certPem: await issueNodeCert(ca, { ...o, publicKeyPem: o.publicKeyPem }), keyPem: '' };
    const key = generateNodeKey();
    return { certPem: await issueNodeCert(ca, { ...o, publicKeyPem: key.publicKeyPem }), keyPem: key.keyPem };
  }
  crossSignRoot(oldCa: { certPem: string; keyPem: string }, newRootPem: string) { return crossSignRootCA(oldCa, newRootPem); }
  checkSigningCA(certPem: string, keyPem: string) { return checkSigningCA(certPem, keyPem); }
  samePublicKey(a: string, b: string) { return samePublicKey(a, b); }
  nodeTlsInfo(certPem: string, trustPem: string) { return nodeTlsInfo(certPem, trustPem); }
  issuedBy(certPem: string, caPem: string) { return verifyIssuedBy(certPem, caPem); }
  certTimes(certPem: string) {
    const c = parseNodeCert(firstCert(certPem));
    return { notBefore: c.notBefore, notAfter: c.notAfter, renewAt: renewalTime(c) };
  }
  canonicalCertPem(pem: string) { return canonicalCertPem(pem); }
  async generateNodeKey() { return generateNodeKey(); }
  async publicKeyOf(keyPem: string) { return publicKeyPemOf(keyPem); }
  isEncryptedKey(keyPem: string) { return isEncryptedPrivateKey(keyPem); }
  encryptKey(keyPem: string, unlockKey: string) { return encryptPrivateKey(keyPem, unlockKey); }
  decryptKey(blob: string, unlockKey: string) { return decryptPrivateKey(blob, unlockKey); }
  async runtimeKeyFile(keyPem: string): Promise<string> {
    const dir = path.join(this.execRoot, 'swarm');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const f = path.join(dir, 'swarm-node.key');
    await fs.writeFile(f, keyPem, { mode: 0o600 });
    return f;
  }
  async removeEtcdData(dataDir: string) { await fs.rm(dataDir, { recursive: true, force: true }); }
  tlsInfo(caPem: string) { return tlsInfo(caPem); }
  joinToken(caPem: string) { return generateJoinToken(caPem); }
  parseJoinToken(t: string) { return parseJoinToken(t); }
  tokenMatchesCA(t: string, caPem: string) { return tokenMatchesCA(t, caPem); }
  tokenDigest(t: string) { try { return parseJoinToken(t).caDigest; } catch { return ''; } }
  unlockKey() { return generateUnlockKey(); }

  async prepareEtcdJoin(dataDir: string, initialCluster: string): Promise<void> {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await fs.writeFile(path.join(path.dirname(dataDir), JOIN_FILE), JSON.stringify({ initialCluster }));
  }

  async startEtcd(o: EtcdStartOptions): Promise<void> {
    if (this.member?.running) return;
    const joinFile = path.join(path.dirname(o.dataDir), JOIN_FILE);
    const join = JSON.parse(await fs.readFile(joinFile, 'utf8').catch(() => 'null')) as { initialCluster: string } | null;
    const hasData = await fs.stat(path.join(o.dataDir, 'member')).then(() => true, () => false);
    this.member = new EtcdMember({
      name: o.name, dataDir: o.dataDir, peerUrl: `https://${o.ip}:${o.peerPort}`, clientUrls: [`https://${o.ip}:${o.clientPort}`],
      tls: { caFile: o.caFile, certFile: o.certFile, keyFile: o.keyFile }, logFile: path.join(path.dirname(o.dataDir), 'etcd.log'),
    });
    this.member.on('error', (err: Error) => this.log.warn({ err: err.message }, 'etcd member'));
    if (hasData && o.forceNewCluster) await this.member.start({ forceNewCluster: true });
    else if (hasData) await this.member.start({});
    else if (join) await this.member.start({ state: 'existing', initialCluster: join.initialCluster });
    else await this.member.start({ state: 'new' });
    if (join) await fs.rm(joinFile, { force: true });
  }

  async restartEtcd(): Promise<void> {
    const m = this.member;
    if (!m) return;
    await m.stop();
    await m.start({});
  }

  async stopEtcd(): Promise<void> {
    const m = this.member;
    this.member = undefined;
    await m?.stop();
  }

  async openStore(o: { endpoints: string[]; caPem: string; certPem: string; keyPem: string }): Promise<SwarmStore> {
    const tls = { ca: o.caPem, cert: o.certPem, key: o.keyPem };
    return new EtcdSwarmStore(new ClusterStore({ endpoints: o.endpoints, tls, servername: MANAGER_NAME }), tls);
  }
}

/** The leaf of a certificate file that may carry intermediates after it. */
function firstCert(pem: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/.exec(pem);
  return m ? m[0] : pem;
}
