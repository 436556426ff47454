import { hostname as osHostname } from 'node:os';
import { BadRequest, Conflict, ServerError, ApiError } from '../api/errors.js';
import type { Logger } from '../daemon/logger.js';
import { resolveAdvertiseAddr, splitHostPort } from './node/addresses.js';
import { SwarmDir, type LocalSwarmState } from './node/local-state.js';
import { ControlServer, controlCall, fetchPeerCertificatePem, HttpError } from './manager/control-server.js';
import { defaultClusterSpec, describeThisNode, KEY, NODE_LEFT, newNodeObject, newSwarmId, type ClusterObject, type NodeObject } from './manager/objects.js';
import type { SwarmBackend, SwarmStore } from './backend.js';
import { TaskExecutor, type Assignment, type TaskEngine, type TaskStatusReport } from './agent/executor.js';
import type { OverlayView } from './manager/net-allocator.js';
import * as svc from './manager/services.js';
import * as nets from './manager/networks.js';
import { canonical, isFresh, type PlanService } from './manager/planner.js';
import { findByRef } from './manager/find-ref.js';
import { certValidity, issueNodeCertNow, reconcileRootCA, recordNodeTlsInfo, rootCAUpdate, storedCAConfig, withCA, type StoredCA } from './manager/ca-rotation.js';
import { restartEtcdMember } from './manager/etcd-restart.js';
import { relocateManager } from './manager/relocate.js';
import { CertRenewal, type RenewalHost } from './node/cert-renewal.js';
import { AgentServer, AGENT_PORT, type TaskLogSource } from './agent/agent-server.js';
import { NetworkAttacher } from './agent/attacher.js';
import * as atts from './manager/attachments.js';
import { openLogs, type LogsRequest } from './manager/service-logs.js';
import { NodeSession } from './agent/session.js';
import { serveSession, sessionBye, SessionHub, type HeartbeatRecord, type SessionDeps } from './manager/sessions.js';
import { DEFAULT_KEY_ROTATION_MS, dropTunnel, maintainTunnels, type TunnelReply } from './manager/tunnels.js';
import { TunnelKeyFile } from './node/tunnel-key.js';
import { TUNNEL_PORT } from '../engine/networks/wireguard.js';

// This node's part in a swarm: init/join/leave, the manager's API (cluster and node objects in
// etcd), the control port other nodes talk to, and the heartbeat every node sends.

export class Unavailable extends ApiError {
  constructor(message: string) { super(503, message); }
}

const NOT_IN_SWARM = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const WORKER_NODE = 'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.';
const ALREADY = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
/** Kicked passes (a change pushed by a manager) come at most this often: a burst of changes is one pass, not many. */
const KICK_GAP_MS = 50;
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
/** the routing mesh's network when no address pool is given at init */
const INGRESS_SUBNET = '10.255.0.0/16';
/** how old a node's WireGuard key may get before the leader asks for a new one (debug/tests: lower) */
const TUNNEL_KEY_ROTATION_MS = Number(process.env.SHOAL_SWARM_TUNNEL_KEY_ROTATION_MS) || DEFAULT_KEY_ROTATION_MS;

export interface SwarmOptions {
  dataRoot: string;
  log: Logger;
  engineVersion: string;
  /** loaded on first use: the CA and etcd libraries weigh ~20 MiB a daemon outside a swarm does not need */
  loadBackend: () => Promise<SwarmBackend>;
  /** the local engine, for running this node's tasks */
  taskEngine?: TaskEngine;
  /** the local engine, for serving this node's task logs to managers */
  taskLogs?: TaskLogSource;
}

export class Swarm {
  private dir: SwarmDir;
  state?: LocalSwarmState;
  private certs?: { caPem: string; certPem: string; keyPem: string };
  private store?: SwarmStore;
  private control?: ControlServer;
  private agent?: AgentServer;
  private heartbeatTimer?: NodeJS.Timeout;
  private session?: NodeSession;
  private heartbeatLoop?: () => void;
  private healthTimer?: NodeJS.Timeout;
  private leaderId = '';
  private stopElection?: () => Promise<void>;
  localState: 'inactive' | 'pending' | 'active' | 'error' | 'locked' = 'inactive';
  private changingRole = false;
  /** the engine's way to attach standalone containers to swarm networks (asks a manager) */
  readonly attacher = new NetworkAttacher({
    managers: () => {
      const s = this.state;
      return s ? [...s.managers].sort((a, b) => Number(b.nodeId === s.nodeId) - Number(a.nodeId === s.nodeId)).map((m) => m.addr) : [];
    },
    certs: () => this.certs,
    localAddr: () => this.state?.advertiseAddr.split(':')[0] ?? '',
    refresh: () => this.passNow?.() ?? Promise.resolve(),
  });
  /** Runs the agent's assignments pass now; resolves once a pass that started after the call ends. */
  private passNow?: () => Promise<void>;
  private taskTimer?: NodeJS.Timeout;
  private reconciling = false;
  /** the unlock key the key file is encrypted with ('' = plaintext) */
  private kek?: string;
  private renewal?: CertRenewal;
  /** bumped by --force-new-cluster so that a rejoin still under way (restore) gives up quietly */
  private epoch = 0;
  private restoring?: Promise<void>;
  /** this node's WireGuard key pair (encrypted overlays) */
  private tunnelKey: TunnelKeyFile;
  error = '';

  constructor(private o: SwarmOptions) {
    this.dir = new SwarmDir(o.dataRoot);
    this.tunnelKey = new TunnelKeyFile(this.dir.dir);
  }

  private backend?: SwarmBackend;
  private get b(): SwarmBackend {
    if (!this.backend) throw new ServerError('swarm backend not loaded');
    return this.backend;
  }
  private async load(): Promise<void> { this.backend ??= await this.o.loadBackend(); }

  // ---------- lifecycle ----------

  /** At daemon start: a node that was in a swarm comes back into it by itself. */
  async restore(): Promise<void> {
    this.restoring = this.rejoin();
    await this.restoring;
  }

  private async rejoin(): Promise<void> {
    this.state = await this.dir.load();
    if (!this.state) return;
    const epoch = this.epoch;
    this.localState = 'pending';
    await this.load();
    try {
      this.certs = await this.dir.readCerts();
      if (this.b.isEncryptedKey(this.certs.keyPem)) {
        // autolock: nothing starts until `swarm unlock` gives the key
        this.localState = 'locked';
        return;
      }
      await this.startRole();
      this.localState = 'active';
    } catch (err) {
      if (epoch !== this.epoch) return;
      this.localState = 'error';
      this.error = (err as Error).message;
      this.o.log.error({ err: this.error }, 'could not rejoin the swarm');
    }
  }

  async shutdown(): Promise<void> {
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.taskTimer);
    await this.session?.stop();
    this.session = undefined;
    this.renewal?.stop();
    await this.agent?.close().catch(() => undefined);
    this.agent = undefined;
    if (!this.backend) return;
    await this.stopManager();
  }

  private get isManager(): boolean { return this.state?.role === 'manager'; }

  async unlock(body: any): Promise<void> {
    if (!this.state) throw new Unavailable(NOT_IN_SWARM);
    if (this.localState !== 'locked') throw new Unavailable('swarm is not locked');
    const key = String(body?.UnlockKey ?? '');
    let plain: string;
    try { plain = this.b.decryptKey(this.certs!.keyPem, key); } catch (e) {
      throw new ApiError((e as { statusCode?: number }).statusCode ?? 400, (e as Error).message);
    }
    this.certs = { ...this.certs!, keyPem: plain };
    this.kek = key;
    this.localState = 'pending';
    try {
      await this.startRole();
      this.localState = 'active';
    } catch (err) {
      this.localState = 'error';
      this.error = (err as Error).message;
      throw new ServerError(this.error);
    }
  }

  /**
   * Managers keep their key on disk encrypted under the cluster's unlock key while autolock is on
   * (and re-encrypt when the key is rotated); the plaintext key lives only in memory and in the
   * exec root, for etcd.
   */
  private async syncKeyEncryption(): Promise<void> {
    if (!this.isManager || !this.store || !this.certs) return;
    const c = await this.store.get<ClusterObject>(KEY.cluster);
    if (!c) return;
    const want = c.Spec.EncryptionConfig?.AutoLockManagers && c.UnlockKey ? c.UnlockKey : '';
    if (want === (this.kek ?? '')) return;
    await this.dir.saveKey(want ? this.b.encryptKey(this.certs.keyPem, want) : this.certs.keyPem);
    this.kek = want;
  }

  private requireManager(): SwarmStore {
    if (!this.state) throw new Unavailable(NOT_IN_SWARM);
    if (this.localState === 'locked') throw new Unavailable('Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.');
    if (!this.isManager || !this.store) throw new Unavailable(WORKER_NODE);
    return this.store;
  }

  /** Starts what this node's role runs: etcd + store + control port + election on managers, heartbeats everywhere. */
  private async startRole(): Promise<void> {
    // like Docker, every node of a swarm has docker_gwbridge (tasks only on overlays go out through it)
    await this.o.taskEngine?.gatewayBridge?.().catch((err) => this.o.log.warn({ err: (err as Error).message }, 'docker_gwbridge not made'));
    if (this.state!.role === 'manager') await this.startManager();
    await this.startAgent();
    this.startHeartbeats();
    this.renewal?.stop();
    this.renewal = new CertRenewal(this.b, this.renewalHost());
    this.renewal.start();
  }

  /** What certificate renewal (node/cert-renewal.ts) needs from this node. */
  private renewalHost(): RenewalHost {
    return {
      log: this.o.log,
      certs: () => (this.localState === 'locked' ? undefined : this.certs),
      role: () => this.state?.role,
      advertiseAddr: () => this.state?.advertiseAddr ?? '',
      busy: () => this.changingRole,
      call: (path, body, timeoutMs) => this.callManagers(path, body, timeoutMs),
      apply: async (certs) => {
        this.certs = certs;
        await this.dir.saveCerts(certs.caPem, certs.certPem);
        this.control?.setCredentials({ caPems: [certs.caPem], certPem: certs.certPem, keyPem: certs.keyPem });
        this.store?.setCredentials(certs);
        if (this.state) this.agent?.setCredentials({ ...certs, clusterId: this.state.clusterId });
      },
      restartEtcd: () => (this.store ? restartEtcdMember(this.b, this.store, this.state!.nodeId) : Promise.resolve(true)),
      report: () => this.heartbeatLoop?.(),
    };
  }

  /** A control call to the managers in turn (others first): the first that answers. */
  private async callManagers<T>(path: string, body: unknown, timeoutMs: number): Promise<T> {
    const s = this.state!;
    const order = [...s.managers].sort((a, b) => Number(a.nodeId === s.nodeId) - Number(b.nodeId === s.nodeId));
    let last: unknown = new Error('no manager known');
    for (const m of order) {
      try { return await controlCall<T>(m.addr, path, body, this.certs!, timeoutMs); } catch (e) { last = e; }
    }
    throw last;
  }

  private async startManager(opts: { forceNewCluster?: boolean } = {}): Promise<void> {
    const s = this.state!;
    const ip = s.advertiseAddr.split(':')[0];
    await this.b.startEtcd({
      forceNewCluster: opts.forceNewCluster,
      name: s.nodeId, dataDir: this.dir.etcdDir, ip, clientPort: ETCD_CLIENT_PORT, peerPort: ETCD_PEER_PORT,
      caFile: this.dir.caFile, certFile: this.dir.certFile, keyFile: await this.b.runtimeKeyFile(this.certs!.keyPem),
    });
    this.store = await this.b.openStore({ endpoints: [`https://${ip}:${ETCD_CLIENT_PORT}`], ...this.certs! });
    await this.startControl();
    this.stopElection = await this.store.campaign(s.nodeId, () => this.becomeLeader(), () => this.becomeFollower(), (id) => { this.leaderId = id; });
  }

  private stopKicks?: () => void;

  private async stopManager(): Promise<void> {
    this.stopKicks?.();
    this.stopKicks = undefined;
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
    await this.stopElection?.().catch(() => undefined);
    this.stopElection = undefined;
    // Forget the store first: requests arriving meanwhile get "not a manager", not a closed client.
    const store = this.store;
    const control = this.control;
    this.store = undefined;
    this.control = undefined;
    this.leaderId = '';
    await control?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await this.b.stopEtcd().catch(() => undefined);
  }

  /**
   * The manager changed this node's role (promote/demote): get a certificate for the new role and
   * start or stop the manager part. A promoted node joins etcd as a learner and is then promoted.
   */
  private async changeRole(role: 'manager' | 'worker', via: string): Promise<void> {
    const s = this.state!;
    const key = await this.b.publicKeyOf(this.certs!.keyPem);
    const res = await controlCall<any>(via, '/renew', { publicKeyPem: key, addr: s.advertiseAddr }, this.certs!, 30_000);
    if (res.role !== role) return;
    this.certs = { ...this.certs!, certPem: res.certPem };
    this.agent?.setCredentials({ ...this.certs, clusterId: s.clusterId });
    await this.dir.saveCerts(this.certs.caPem, this.certs.certPem);
    if (role === 'manager') {
      await this.b.prepareEtcdJoin(this.dir.etcdDir, res.etcd.initialCluster);
      s.role = 'manager';
      await this.dir.save(s);
      await this.startManager();
      await controlCall(via, '/etcd/promote', { name: s.nodeId }, this.certs, 30_000);
      await controlCall(via, '/manager-ready', {}, this.certs, 10_000);
    } else {
      await this.stopManager();
      await this.b.removeEtcdData(this.dir.etcdDir);
      s.role = 'worker';
      await this.dir.save(s);
    }
    this.o.log.info({ role }, 'swarm role changed');
  }

  private async startControl(): Promise<void> {
    const s = this.state!;
    const c = new ControlServer(this.o.log);
    c.route('GET /ca', 'none', async () => ({ caPem: (await this.store?.get<ClusterObject>(KEY.cluster).catch(() => undefined))?.TLSInfo.TrustRoot ?? this.certs!.caPem }));
    c.route('POST /join', 'none', (body) => this.acceptJoin(body));
    c.route('POST /heartbeat', 'node', (body, peer) => this.acceptHeartbeat(peer!.nodeId, body));
    const sessions: SessionDeps = {
      store: () => this.store, closing: () => c.closing, log: this.o.log,
      heartbeat: (nodeId, session) => this.acceptHeartbeat(nodeId, { session: session || undefined }),
    };
    // every change in the store may concern some node: its session hears of it at once
    const hub = new SessionHub();
    this.stopKicks?.();
    const unwatch = this.store?.watchKeys?.('/shoal/', (key) => hub.changed(key));
    this.stopKicks = () => { unwatch?.(); hub.close(); };
    c.stream('GET /session', (req, res, peer) => serveSession(req, res, peer, sessions, hub));
    c.route('POST /session-bye', 'node', (body, peer) => sessionBye(peer!.nodeId, body?.session, sessions));
    c.route('POST /etcd/promote', 'manager', (body) => this.store!.promoteMember(String(body?.name ?? '')));
    c.route('POST /leave', 'node', (_b, peer) => this.acceptLeave(peer!.nodeId));
    c.route('POST /assignments', 'node', async (body, peer) => {
      // the attachments the node's containers still hold: the others it had are released
      if (Array.isArray(body?.attachments)) {
        await atts.pruneAttachments(this.store!, peer!.nodeId, body.attachments, await this.addrPools(this.store!))
          .catch((err) => this.o.log.warn({ node: peer!.nodeId, err: (err as Error).message }, 'pruning network attachments failed'));
      }
      const out = await svc.exchangeAssignments(this.store!, peer!.nodeId, body?.reports ?? [], body?.tunnel);
      // a state change may let the orchestrators move on (next update batch, restart): no need to wait for the timer
      if (body?.reports?.length) this.kickLeader();
      return out;
    });
    c.route('POST /attachments/lookup', 'node', (body) => atts.lookupNetwork(this.store!, String(body?.network ?? '')));
    c.route('POST /attachments', 'node', async (body, peer) => atts.attachNetwork(this.store!, peer!.nodeId, body, await this.addrPools(this.store!)));
    c.route('POST /attachments/detach', 'node', async (body, peer) => atts.detachNetwork(this.store!, peer!.nodeId, body, await this.addrPools(this.store!)));
    c.route('POST /renew', 'node', (body, peer) => this.acceptRenew(peer!.nodeId, body, peer!.role));
    c.route('POST /manager-ready', 'manager', (_b, peer) => this.acceptManagerReady(peer!.nodeId));
    c.route('POST /abandon-join', 'manager', async (_b, peer) => {
      await this.store!.removeMember(peer!.nodeId);
      await this.store!.revokeManager(peer!.nodeId);
      await this.store!.delete(KEY.node(peer!.nodeId));
      return {};
    });
    const l = splitHostPort(s.listenAddr);
    await c.listen(l.host || '0.0.0.0', l.port, { caPems: [this.certs!.caPem], certPem: this.certs!.certPem, keyPem: this.certs!.keyPem });
    this.control = c;
  }

  /** The agent listener managers fetch task logs from; a node without it still works, minus its logs. */
  private async startAgent(): Promise<void> {
    if (!this.o.taskLogs || this.agent) return;
    const a = new AgentServer(this.o.log, this.o.taskLogs);
    const host = splitHostPort(this.state!.listenAddr).host || '0.0.0.0';
    try {
      await a.listen(host, AGENT_PORT, { ...this.certs!, clusterId: this.state!.clusterId });
      this.agent = a;
    } catch (err) {
      this.o.log.warn({ port: AGENT_PORT, err: (err as Error).message }, 'agent listener not started: this node\'s task logs are unavailable');
    }
  }

  // ---------- init / join / leave ----------

  async init(body: any): Promise<string> {
    await this.load();
    if (this.state) {
      if (body?.ForceNewCluster && this.isManager && this.localState !== 'locked') return this.forceNewCluster(body);
      throw new Unavailable(ALREADY);
    }
    const listen = String(body?.ListenAddr || '0.0.0.0:2377');
    const adv = resolveAdvertiseAddr(String(body?.AdvertiseAddr ?? ''), listen);
    const nodeId = newSwarmId();
    const clusterId = newSwarmId();
    const ca = await this.b.createRootCA();
    const node = await this.b.issueNodeCert(ca, { nodeId, role: 'manager', clusterId, ips: [adv.ip], ...certValidity(defaultClusterSpec(body?.Spec).CAConfig) });
    this.state = { nodeId, clusterId, role: 'manager', advertiseAddr: `${adv.ip}:${adv.port}`, listenAddr: listen, managers: [{ nodeId, addr: `${adv.ip}:${adv.port}` }] };
    this.certs = { caPem: ca.certPem, certPem: node.certPem, keyPem: node.keyPem };
    try {
      await this.dir.saveCerts(ca.certPem, node.certPem, node.keyPem);
      await this.dir.save(this.state);
      await this.startRole();
      const spec = defaultClusterSpec(body?.Spec);
      const now = new Date().toISOString();
      const cluster: ClusterObject = {
        ID: clusterId, Version: { Index: 0 }, CreatedAt: now, UpdatedAt: now, Spec: spec,
        TLSInfo: this.b.tlsInfo(ca.certPem), RootRotationInProgress: false,
        DefaultAddrPool: body?.DefaultAddrPool?.length ? body.DefaultAddrPool : ['10.0.0.0/8'], SubnetSize: body?.SubnetSize || 24,
        DataPathPort: body?.DataPathPort || 4789,
        JoinTokens: { Worker: this.b.joinToken(ca.certPem), Manager: this.b.joinToken(ca.certPem) },
        UnlockKey: spec.EncryptionConfig.AutoLockManagers ? this.b.unlockKey() : undefined,
      };
      await this.store!.put(KEY.cluster, cluster);
      await this.store!.put(KEY.ca, { certPem: ca.certPem, keyPem: ca.keyPem });
      // Docker makes the routing mesh's network at init: 10.255.0.0/16 as the books show it, or the
      // first subnet of an address pool given at init (as Docker 20.10 does with one)
      await nets.ensureIngress(this.store!, { pool: cluster.DefaultAddrPool, size: cluster.SubnetSize }, body?.DefaultAddrPool?.length ? undefined : INGRESS_SUBNET);
      const desc = describeThisNode(this.o.engineVersion, cluster.TLSInfo);
      await this.store!.put(KEY.node(nodeId), newNodeObject(nodeId, 'manager', this.state.advertiseAddr, desc, body?.Availability || 'active'));
      await this.acceptHeartbeat(nodeId);
      await this.store!.enableAuth(nodeId);
      this.localState = 'active';
      return nodeId;
    } catch (err) {
      await this.shutdown();
      await this.dir.erase();
      this.state = undefined;
      this.certs = undefined;
      throw err instanceof ApiError ? err : new ServerError((err as Error).message);
    }
  }

  /**
   * Disaster recovery (`swarm init --force-new-cluster` on a surviving manager): restart this
   * node's etcd member as a one-member cluster over its own data, so nodes (and later services)
   * survive; the other managers' members are gone and they show as unreachable until they rejoin.
   */
  private async forceNewCluster(body: any): Promise<string> {
    const s = this.state!;
    // a rejoin still waiting for the old cluster (a restored backup) is cut short
    this.epoch++;
    if (this.localState !== 'active') {
      await this.b.stopEtcd().catch(() => undefined);
      await this.restoring?.catch(() => undefined);
    }
    await this.stopManager();
    // restored on another machine: the new address, given with --advertise-addr
    const prevAddr = s.advertiseAddr;
    if (body?.AdvertiseAddr) {
      const adv = resolveAdvertiseAddr(String(body.AdvertiseAddr), String(body?.ListenAddr || s.listenAddr));
      s.advertiseAddr = `${adv.ip}:${adv.port}`;
      if (body?.ListenAddr) s.listenAddr = String(body.ListenAddr);
    }
    await this.startManager({ forceNewCluster: true });
    if (s.advertiseAddr !== prevAddr) {
      this.certs = await relocateManager(this.b, this.store!, { nodeId: s.nodeId, addr: s.advertiseAddr, peerPort: ETCD_PEER_PORT, certs: this.certs! });
      await this.dir.saveCerts(this.certs.caPem, this.certs.certPem);
      this.control?.setCredentials({ caPems: [this.certs.caPem], certPem: this.certs.certPem, keyPem: this.certs.keyPem });
      this.store!.setCredentials(this.certs);
    }
    s.managers = [{ nodeId: s.nodeId, addr: s.advertiseAddr }];
    await this.dir.save(s);
    if (this.localState !== 'active') {
      this.error = '';
      this.localState = 'active';
      if (!this.heartbeatTimer) this.startHeartbeats();
      if (!this.renewal) { this.renewal = new CertRenewal(this.b, this.renewalHost()); this.renewal.start(); }
    }
    return s.nodeId;
  }

  async join(body: any): Promise<void> {
    if (this.state) throw new Unavailable(ALREADY);
    await this.load();
    const token = String(body?.JoinToken ?? '');
    const remotes: string[] = body?.RemoteAddrs ?? [];
    if (!remotes.length) throw new BadRequest('at least 1 RemoteAddr is required to join');
    let parsed;
    try { parsed = this.b.parseJoinToken(token); } catch (e) { throw new BadRequest((e as Error).message); }
    void parsed;
    const remote = remotes[0].includes(':') ? remotes[0] : `${remotes[0]}:2377`;
    const listen = String(body?.ListenAddr || '0.0.0.0:2377');
    const adv = resolveAdvertiseAddr(String(body?.AdvertiseAddr ?? ''), listen);
    this.localState = 'pending';
    try {
      // Trust on first use is not enough: the CA must be the one the token names.
      const caPem = await fetchPeerCertificatePem(remote);
      if (!this.b.tokenMatchesCA(token, caPem)) throw new BadRequest(`remote CA does not match fingerprint. Expected: ${this.b.tokenDigest(token)}`);
      const key = await this.b.generateNodeKey();
      const res = await controlCall<any>(remote, '/join', {
        token, publicKeyPem: key.publicKeyPem, addr: `${adv.ip}:${adv.port}`, availability: body?.Availability || 'active',
        description: describeThisNode(this.o.engineVersion, this.b.tlsInfo(caPem), osHostname()),
      }, { caPem }, 15_000).catch((e) => {
        if (e instanceof HttpError && e.status < 500) throw new BadRequest(e.message);
        throw e;
      });
      this.state = { nodeId: res.nodeId, clusterId: res.clusterId, role: res.role, advertiseAddr: `${adv.ip}:${adv.port}`, listenAddr: listen, managers: res.managers };
      this.certs = { caPem: res.caPem, certPem: res.certPem, keyPem: key.keyPem };
      await this.dir.saveCerts(res.caPem, res.certPem, key.keyPem);
      if (res.role === 'manager') {
        await this.b.prepareEtcdJoin(this.dir.etcdDir, res.etcd.initialCluster);
      }
      await this.dir.save(this.state);
      await this.startRole();
      if (res.role === 'manager') await controlCall(remote, '/etcd/promote', { name: res.nodeId }, this.certs, 30_000);
      this.localState = 'active';
    } catch (err) {
      // A manager that got half-way in must not stay an etcd member (it would block the next join).
      if (this.state?.role === 'manager' && this.certs) await controlCall(remote, '/abandon-join', {}, this.certs, 25_000).catch(() => undefined);
      await this.shutdown();
      await this.dir.erase();
      this.state = undefined;
      this.certs = undefined;
      this.localState = 'inactive';
      throw err instanceof ApiError ? err : new ServerError((err as Error).message);
    }
  }

  async leave(force: boolean): Promise<void> {
    if (!this.state) throw new Unavailable('This node is not part of a swarm');
    if (this.isManager && !force) {
      throw new Unavailable('You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.');
    }
    const others = this.state.managers.filter((m) => m.nodeId !== this.state!.nodeId);
    if (this.isManager && this.store && others.length) await this.store.removeMember(this.state.nodeId).catch(() => undefined);
    else if (!this.isManager) {
      for (const m of others) {
        try { await controlCall(m.addr, '/leave', {}, this.certs!); break; } catch { /* try the next manager */ }
      }
    }
    await this.shutdown();
    // like Docker: a node that leaves takes its task containers down with it
    const engine = this.o.taskEngine;
    if (engine) await Promise.all(engine.taskContainers().map((c) => engine.remove(c.id).catch(() => undefined)));
    // and the swarm's networks (ingress, overlays): their bridges and VXLAN devices go
    if (engine?.syncNetworks) await engine.syncNetworks([], '').catch((err) => this.o.log.warn({ err: (err as Error).message }, 'overlay cleanup on leave failed'));
    // docker_gwbridge stays, as with Docker (unused, `network rm` takes it away)
    await this.dir.erase();
    this.tunnelKey.reset();
    this.state = undefined;
    this.certs = undefined;
    this.localState = 'inactive';
    this.leaderId = '';
  }

  // ---------- what managers serve to other nodes ----------

  private async acceptJoin(body: any): Promise<unknown> {
    const store = this.store!;
    const cluster = await store.get<ClusterObject>(KEY.cluster);
    if (!cluster) throw new HttpError(503, 'the swarm is not ready');
    const token = String(body?.token ?? '');
    const role = token === cluster.JoinTokens.Manager ? 'manager' : token === cluster.JoinTokens.Worker ? 'worker' : undefined;
    if (!role) throw new HttpError(400, 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster');
    const addr = String(body?.addr ?? '');
    const ip = addr.split(':')[0];
    const nodeId = newSwarmId();
    const certPem = await issueNodeCertNow(this.b, store, cluster, { nodeId, role, ips: [ip], publicKeyPem: String(body?.publicKeyPem ?? '') });
    let etcd: { initialCluster: string } | undefined;
    if (role === 'manager') {
      await store.grantManager(nodeId);
      etcd = { initialCluster: await store.addLearner(nodeId, `https://${ip}:${ETCD_PEER_PORT}`) };
    }
    await store.put(KEY.node(nodeId), newNodeObject(nodeId, role, addr, body?.description ?? {}, body?.availability || 'active'));
    await this.acceptHeartbeat(nodeId);
    const managers = await this.managerList();
    return { nodeId, clusterId: cluster.ID, role, certPem, caPem: cluster.TLSInfo.TrustRoot, managers, etcd };
  }

  private async managerList(): Promise<{ nodeId: string; addr: string }[]> {
    const nodes = await this.store!.list<NodeObject>(KEY.nodes);
    return nodes.filter((n) => n.Spec.Role === 'manager' && n.ManagerStatus).map((n) => ({ nodeId: n.ID, addr: n.ManagerStatus!.Addr }));
  }

  private async acceptHeartbeat(nodeId: string, body?: any): Promise<unknown> {
    const cluster = await this.store!.get<ClusterObject>(KEY.cluster);
    const period = cluster?.Spec.Dispatcher.HeartbeatPeriod ?? 5e9;
    const beat: HeartbeatRecord = { at: new Date().toISOString(), session: typeof body?.session === 'string' ? body.session : undefined };
    await this.store!.putWithTtl(KEY.heartbeat(nodeId), beat, Math.ceil((3 * period) / 1e9));
    const node = await this.store!.get<NodeObject>(KEY.node(nodeId));
    await recordNodeTlsInfo(this.store!, node, body?.tls);
    return { periodNs: period, managers: await this.managerList(), role: node?.Spec.Role, tls: cluster?.TLSInfo };
  }

  /**
   * A node asks for a certificate: for the role its node object says (after promote/demote), or,
   * renewing (`renew`), for the role it holds now (expiry, root rotation).
   */
  private async acceptRenew(nodeId: string, body: any, peerRole: 'manager' | 'worker'): Promise<unknown> {
    const store = this.store!;
    const node = await store.get<NodeObject>(KEY.node(nodeId));
    if (!node) throw new HttpError(404, `node ${nodeId} not found`);
    const cluster = (await store.get<ClusterObject>(KEY.cluster))!;
    const addr = String(body?.addr ?? '');
    const ip = addr.split(':')[0];
    const renew = !!body?.renew;
    const role = renew ? peerRole : node.Spec.Role;
    const certPem = await issueNodeCertNow(this.b, store, cluster, { nodeId, role, ips: [ip], publicKeyPem: String(body?.publicKeyPem ?? '') });
    let etcd: { initialCluster: string } | undefined;
    if (role === 'manager' && !renew) {
      await store.grantManager(nodeId);
      etcd = { initialCluster: await store.addLearner(nodeId, `https://${ip}:${ETCD_PEER_PORT}`) };
    }
    return { role, certPem, etcd, caPem: cluster.TLSInfo.TrustRoot };
  }

  private async acceptManagerReady(nodeId: string): Promise<unknown> {
    await this.store!.update<NodeObject>(KEY.node(nodeId), (n) => ({ ...n, ManagerStatus: { Reachability: 'reachable', Addr: `${n.Status.Addr}:2377` } }));
    return {};
  }

  private async acceptLeave(nodeId: string): Promise<unknown> {
    await this.store!.delete(KEY.heartbeat(nodeId));
    await atts.releaseNodeAttachments(this.store!, nodeId, await this.addrPools(this.store!)).catch(() => undefined);
    await this.store!.update<NodeObject>(KEY.node(nodeId), (n) => ({ ...n, Status: { ...n.Status, State: 'down', Message: NODE_LEFT } })).catch(() => undefined);
    // after the node object says so: a last /assignments call of the node cannot bring its key back
    await dropTunnel(this.store!, nodeId);
    return {};
  }

  // ---------- heartbeats and node health ----------

  /** Every second: report task states to a manager, get this node's assignments, act on them. */
  private startTaskLoop(): void {
    if (!this.o.taskEngine) return;
    // a stop finishing in the background is reported at once (stop-first and update batches wait on it)
    const exec = new TaskExecutor(this.o.taskEngine, this.o.log, () => { if (this.state) { clearTimeout(this.taskTimer); this.taskTimer = setTimeout(loop, 0); } });
    let reports: TaskStatusReport[] = [];
    let running = false;
    let rotated = false;
    // callers of passNow: those waiting for the next pass, and those the running pass answers
    let waiting: (() => void)[] = [];
    let inPass: (() => void)[] = [];
    const pass = async () => {
      const s = this.state;
      if (!s || !this.certs) return;
      const order = [...s.managers].sort((a, b) => Number(b.nodeId === s.nodeId) - Number(a.nodeId === s.nodeId));
      for (const m of order) {
        try {
          let key = await this.tunnelKey.get();
          const attachments = this.o.taskEngine?.attachments?.();
          const res = await controlCall<{ tasks: Assignment[]; networks: OverlayView[]; tunnel?: TunnelReply }>(m.addr, '/assignments',
            { reports, tunnel: { publicKey: key.publicKey, keyEpoch: key.epoch, port: TUNNEL_PORT }, ...(attachments ? { attachments } : {}) }, this.certs, 5000);
          // the managers rotate tunnel keys: a new pair now, published with the next call (soon: see below)
          if (res.tunnel && res.tunnel.keyEpoch > key.epoch) {
            key = await this.tunnelKey.rotate(res.tunnel.keyEpoch);
            rotated = true;
            this.o.log.info({ epoch: key.epoch }, 'WireGuard key pair rotated');
          }
          const t = res.tunnel;
          const tunnel = t?.address && t.peers ? { address: t.address, privateKey: key.privateKey, listenPort: TUNNEL_PORT, peers: t.peers } : undefined;
          // the overlay networks first: a task's container is created on them
          if (this.o.taskEngine?.syncNetworks) await this.o.taskEngine.syncNetworks(res.networks ?? [], s.advertiseAddr.split(':')[0], tunnel).catch((err) => this.o.log.warn({ err: (err as Error).message }, 'overlay network sync failed'));
          reports = await exec.reconcile(res.tasks ?? []);
          return;
        } catch { /* the next manager */ }
      }
    };
    // a kick from the manager (session.ts) while a pass runs: another one right after it
    let kicked = false;
    let lastEnd = 0;
    this.kickPass = () => {
      if (running) { kicked = true; return; }
      clearTimeout(this.taskTimer);
      this.taskTimer = setTimeout(loop, Math.max(0, lastEnd + KICK_GAP_MS - Date.now()));
    };
    const loop = () => {
      if (running) return;
      running = true;
      inPass = waiting;
      waiting = [];
      void pass().catch((err) => this.o.log.warn({ err: (err as Error).message }, 'task pass failed')).finally(() => {
        running = false;
        for (const w of inPass.splice(0)) w();
        if (!this.state) { for (const w of waiting.splice(0)) w(); return; }
        clearTimeout(this.taskTimer);
        lastEnd = Date.now();
        // poll faster while tasks are on their way somewhere (or a new tunnel key waits to be published)
        const next = waiting.length ? 0 : reports.length || rotated ? 50 : exec.inTransition() ? 250 : 1000;
        this.taskTimer = setTimeout(loop, kicked ? Math.min(next, KICK_GAP_MS) : next);
        rotated = false;
        kicked = false;
      });
    };
    this.passNow = () => new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!running) { clearTimeout(this.taskTimer); loop(); }
    });
    loop();
  }

  /** the manager pushed a change: run the assignments pass soon (startTaskLoop) */
  private kickPass?: () => void;
  private kickTimer?: NodeJS.Timeout;
  private passAgain = false;
  /** The leader runs its pass soon (debounced) instead of on the next tick of its timer. */
  private kickLeader(): void {
    if (!this.healthTimer || this.kickTimer) return;
    this.kickTimer = setTimeout(() => { this.kickTimer = undefined; void this.leaderPass(); }, 20);
  }

  /** Managers to talk to, others first (a manager also reports to itself when alone). */
  private managersOthersFirst(): { nodeId: string; addr: string }[] {
    const s = this.state;
    if (!s) return [];
    return [...s.managers].sort((a, b) => Number(a.nodeId === s.nodeId) - Number(b.nodeId === s.nodeId));
  }

  private startHeartbeats(): void {
    this.startTaskLoop();
    void this.session?.stop();
    this.session = new NodeSession(() => this.managersOthersFirst(), () => (this.localState === 'locked' ? undefined : this.certs), this.o.log, () => this.kickPass?.());
    this.session.start();
    let periodMs = 5000;
    const beat = async () => {
      const s = this.state;
      if (!s || !this.certs) return;
      for (const m of this.managersOthersFirst()) {
        try {
          const r = await controlCall<{ periodNs: number; managers: { nodeId: string; addr: string }[]; role?: 'manager' | 'worker'; tls?: any }>(m.addr, '/heartbeat', { tls: this.renewal?.tlsInfo(), session: this.session?.id }, this.certs, 3000);
          periodMs = r.periodNs / 1e6;
          this.renewal?.observe(r.tls);
          if (r.role && r.role !== s.role && !this.changingRole) {
            this.changingRole = true;
            void this.changeRole(r.role, m.addr).catch((err) => this.o.log.warn({ err: (err as Error).message }, 'role change failed (retried on the next heartbeat)'))
              .finally(() => { this.changingRole = false; });
          }
          if (JSON.stringify(r.managers) !== JSON.stringify(s.managers) && r.managers.length) {
            s.managers = r.managers;
            await this.dir.save(s).catch(() => undefined);
          }
          return;
        } catch { /* the next manager */ }
      }
    };
    let beating = false;
    let again = false;
    const loop = () => {
      // one beat at a time; a beat asked for meanwhile (renewal reporting) follows at once
      if (beating) { again = true; return; }
      beating = true;
      void beat().then(() => this.syncKeyEncryption()).catch(() => undefined).finally(() => {
        beating = false;
        if (!this.state) return;
        clearTimeout(this.heartbeatTimer);
        this.heartbeatTimer = setTimeout(loop, again ? 0 : periodMs * (0.9 + Math.random() * 0.2));
        again = false;
      });
    };
    this.heartbeatLoop = loop;
    loop();
  }

  private becomeLeader(): void {
    this.leaderId = this.state?.nodeId ?? '';
    this.o.log.info({ nodeId: this.leaderId }, 'this manager is now the swarm leader');
    clearInterval(this.healthTimer);
    this.healthTimer = setInterval(() => void this.leaderPass(), 1000);
  }

  private becomeFollower(): void {
    clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  private async leaderPass(): Promise<void> {
    if (this.reconciling) { this.passAgain = true; return; }
    if (!this.store) return;
    this.reconciling = true;
    try {
      await this.checkNodeHealth();
      const c = await this.store.get<ClusterObject>(KEY.cluster);
      await svc.reconcile(this.store, c?.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5, { pool: c?.DefaultAddrPool, size: c?.SubnetSize });
      await reconcileRootCA(this.b, this.store);
      await maintainTunnels(this.store, await this.store.list<NodeObject>(KEY.nodes), TUNNEL_KEY_ROTATION_MS);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'leader pass failed');
    } finally {
      this.reconciling = false;
      if (this.passAgain) { this.passAgain = false; this.kickLeader(); }
    }
  }

  // ---------- services and tasks (the Engine API) ----------

  // ---------- swarm-scoped networks (the Engine API's /networks on a manager) ----------

  /** True when this node can answer for swarm networks (an unlocked manager with its store). */
  get servesSwarmNetworks(): boolean { return !!this.state && this.isManager && !!this.store && this.localState !== 'locked'; }

  private async addrPools(store: SwarmStore): Promise<{ pool?: string[]; size?: number }> {
    const c = await store.get<ClusterObject>(KEY.cluster);
    return { pool: c?.DefaultAddrPool, size: c?.SubnetSize };
  }

  async createNetwork(body: any) {
    const store = this.requireManager();
    return nets.createNetwork(store, body, await this.addrPools(store));
  }
  listSwarmNetworks() { return nets.listNetworks(this.requireManager()); }
  getSwarmNetwork(ref: string) { return nets.findNetwork(this.requireManager(), ref); }
  async removeSwarmNetwork(ref: string) {
    const store = this.requireManager();
    await nets.removeNetwork(store, ref, await svc.listServices(store), await this.addrPools(store));
  }

  /** Network names in a service spec become network IDs (Docker does the same); unknown ones are refused. */
  private async resolveNetworks(store: SwarmStore, spec: any): Promise<any> {
    const list = spec?.TaskTemplate?.Networks ?? spec?.Networks;
    if (!Array.isArray(list) || !list.length) return spec;
    const all = await nets.listNetworks(store);
    const resolved = list.map((a: any) => {
      const ref = String(a?.Target ?? '');
      const n = all.find((x) => x.Id === ref) ?? all.find((x) => x.Name === ref) ?? (() => { const p = all.filter((x) => x.Id.startsWith(ref)); return p.length === 1 ? p[0] : undefined; })();
      if (!n) throw new ApiError(404, `network ${ref} not found`);
      return { ...a, Target: n.Id };
    });
    const { Networks: _top, ...rest } = spec;
    return { ...rest, TaskTemplate: { ...(spec.TaskTemplate ?? {}), Networks: resolved } };
  }

  async createService(spec: any) {
    const store = this.requireManager();
    const r = await svc.createService(store, await this.resolveNetworks(store, spec));
    this.kickLeader();
    return r;
  }
  async updateService(ref: string, version: number, spec: any, rollback = false) {
    const store = this.requireManager();
    const r = await svc.updateService(store, ref, version, rollback ? spec : await this.resolveNetworks(store, spec), rollback);
    this.kickLeader();
    return r;
  }
  async removeService(ref: string) {
    const store = this.requireManager();
    const s = await svc.findService(store, ref);
    await svc.removeService(store, ref);
    // its VIPs go back to the pool (its tasks' addresses when they are deleted)
    if ((s as any).Endpoint?.VirtualIPs?.length) await nets.withIpam(store, await this.addrPools(store), (ipam) => ipam.releaseOwner(`vip:${s.ID}`)).catch(() => undefined);
    this.kickLeader();
  }

  async listServices(filters: { get(k: string): string[]; contains(k: string): boolean }, status: boolean): Promise<any[]> {
    const store = this.requireManager();
    let list: any[] = await svc.listServices(store);
    list = list.filter((s) => {
      if (filters.contains('id') && !filters.get('id').some((v) => s.ID.startsWith(v))) return false;
      if (filters.contains('name') && !filters.get('name').some((v) => s.Spec.Name.startsWith(v))) return false;
      if (filters.contains('mode') && !filters.get('mode').includes(s.Spec.Mode?.Global ? 'global' : 'replicated')) return false;
      if (filters.contains('label')) {
        for (const l of filters.get('label')) { const [k, v] = l.split('='); if (!(k in (s.Spec.Labels ?? {})) || (v !== undefined && s.Spec.Labels[k] !== v)) return false; }
      }
      return true;
    });
    if (!status) return list;
    const [tasks, nodes] = await Promise.all([svc.listTasks(store), store.list<NodeObject>(KEY.nodes)]);
    return list.map((s) => ({ ...s, ServiceStatus: svc.serviceStatus(s, tasks, nodes) }));
  }

  getService(ref: string) { return svc.findService(this.requireManager(), ref); }
  taskLogs(kind: 'service' | 'task', ref: string, req: LogsRequest) { return openLogs(this.requireManager(), () => this.certs!, kind, ref, req); }

  async listTasks(filters: { get(k: string): string[]; contains(k: string): boolean }): Promise<any[]> {
    const store = this.requireManager();
    const [tasks, services, nodes] = await Promise.all([svc.listTasks(store), svc.listServices(store), store.list<NodeObject>(KEY.nodes)]);
    const svcIds = (refs: string[]) => new Set(services.filter((s) => refs.some((r) => s.ID === r || s.Spec.Name === r || s.ID.startsWith(r))).map((s) => s.ID));
    const nodeIds = (refs: string[]) => new Set(nodes.filter((n) => refs.some((r) => n.ID === r || n.Description?.Hostname === r || n.ID.startsWith(r) || (r === 'self' && n.ID === this.state?.nodeId))).map((n) => n.ID));
    const wantSvc = filters.contains('service') ? svcIds(filters.get('service')) : undefined;
    const byId = new Map(services.map((x) => [x.ID, x as PlanService]));
    const wantNode = filters.contains('node') ? nodeIds(filters.get('node')) : undefined;
    // standalone containers' network attachments are tasks of the `attachment` runtime in Docker;
    // they are listed only when asked for (the CLIs' task tables expect a service behind each task)
    if (filters.contains('runtime') && filters.get('runtime').includes('attachment')) {
      const networks = new Map((await nets.listNetworks(store)).map((n) => [n.Id, n]));
      return (await atts.listAttachments(store)).filter((a) => (!wantNode || wantNode.has(a.NodeID)) && (!filters.contains('id') || filters.get('id').some((v) => a.ID.startsWith(v))))
        .map((a) => atts.attachmentTask(a, networks.get(a.NetworkID)));
    }
    return tasks.filter((t) => {
      if (wantSvc && !wantSvc.has(t.ServiceID)) return false;
      if (wantNode && (!t.NodeID || !wantNode.has(t.NodeID))) return false;
      if (filters.contains('id') && !filters.get('id').some((v) => t.ID.startsWith(v))) return false;
      if (filters.contains('desired-state') && !filters.get('desired-state').includes(t.DesiredState)) return false;
      // the docker CLI's progress display asks for tasks of the service's current spec only
      if (filters.contains('_up-to-date') && filters.get('_up-to-date').includes('true')) {
        const s = byId.get(t.ServiceID);
        if (!s || !isFresh(t, s, canonical(s.Spec.TaskTemplate ?? {}))) return false;
      }
      return true;
    }).map(svc.taskView);
  }

  async getTask(ref: string): Promise<any> {
    return findByRef(await this.listTasks({ get: () => [], contains: () => false }), ref, 'task');
  }

  /** Leader only: a node is Ready while its heartbeat key lives, Down when it expired. */
  private async checkNodeHealth(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const nodes = await store.list<NodeObject>(KEY.nodes);
    const alive = new Set((await store.keys(KEY.heartbeats)).map((k) => k.slice(KEY.heartbeats.length)));
    for (const n of nodes) {
      const want = alive.has(n.ID) ? 'ready' : 'down';
      if (n.Status.State === want) continue;
      await store.update<NodeObject>(KEY.node(n.ID), (cur) => ({ ...cur, UpdatedAt: new Date().toISOString(), Status: { ...cur.Status, State: want, Message: want === 'down' ? 'heartbeat failure' : undefined } }));
    }
  }

  // ---------- the Engine API's swarm and node routes ----------

  async inspect(): Promise<any> {
    const store = this.requireManager();
    const c = await store.getWithVersion<ClusterObject>(KEY.cluster);
    if (!c) throw new Unavailable('the swarm is not ready yet');
    const { UnlockKey: _k, ...pub } = c.value;
    return { ...pub, Version: { Index: c.version } };
  }

  async update(version: number, spec: any, flags: { rotateWorkerToken: boolean; rotateManagerToken: boolean; rotateManagerUnlockKey: boolean }): Promise<void> {
    const store = this.requireManager();
    // a root rotation (CAConfig.ForceRotate, SigningCACert) is started here, before the cluster write
    const ca: StoredCA = await rootCAUpdate(this.b, store, version, spec);
    await store.update<ClusterObject>(KEY.cluster, (c) => {
      const next: ClusterObject = { ...c, Spec: { ...defaultClusterSpec(spec), ...spec, Name: c.Spec.Name }, UpdatedAt: new Date().toISOString(), JoinTokens: { ...c.JoinTokens } };
      next.Spec.CAConfig = storedCAConfig(spec?.CAConfig, c.Spec.CAConfig);
      if (flags.rotateWorkerToken) next.JoinTokens.Worker = this.b.joinToken(c.TLSInfo.TrustRoot);
      if (flags.rotateManagerToken) next.JoinTokens.Manager = this.b.joinToken(c.TLSInfo.TrustRoot);
      const auto = !!next.Spec.EncryptionConfig?.AutoLockManagers;
      if (auto && (!c.UnlockKey || flags.rotateManagerUnlockKey)) next.UnlockKey = this.b.unlockKey();
      if (!auto) next.UnlockKey = undefined;
      return withCA(next, ca, this.b);
    }, version);
  }

  async unlockKey(): Promise<{ UnlockKey: string }> {
    const store = this.requireManager();
    const c = await store.get<ClusterObject>(KEY.cluster);
    return { UnlockKey: c?.UnlockKey ?? '' };
  }

  private decorate(n: NodeObject & { Version: { Index: number } }, reachable: Set<string>): any {
    if (n.Spec.Role !== 'manager' || !n.ManagerStatus) { const { ManagerStatus: _m, ...rest } = n; return rest; }
    return { ...n, ManagerStatus: { ...n.ManagerStatus, Leader: n.ID === this.leaderId || undefined, Reachability: reachable.has(n.ID) ? 'reachable' : 'unreachable' } };
  }

  /** Managers whose etcd member answers now (Docker's raft reachability). */
  private async reachableManagers(nodes: NodeObject[]): Promise<Set<string>> {
    const managers = nodes.filter((n) => n.Spec.Role === 'manager' && n.ManagerStatus);
    const ok = await Promise.all(managers.map((n) => n.ID === this.state?.nodeId ? true : this.store!.reachable(`https://${n.ManagerStatus!.Addr.split(':')[0]}:${ETCD_CLIENT_PORT}`)));
    return new Set(managers.filter((_, i) => ok[i]).map((n) => n.ID));
  }

  async listNodes(filters: { get(k: string): string[]; contains(k: string): boolean }): Promise<any[]> {
    const store = this.requireManager();
    const nodes = await store.listWithVersion<NodeObject>(KEY.nodes);
    const reachable = await this.reachableManagers(nodes.map((x) => x.value));
    return nodes.map((x) => this.decorate({ ...x.value, Version: { Index: x.version } }, reachable)).filter((n) => {
      if (filters.contains('id') && !filters.get('id').some((v) => n.ID.startsWith(v))) return false;
      if (filters.contains('name') && !filters.get('name').some((v) => n.Description?.Hostname?.includes(v))) return false;
      if (filters.contains('role') && !filters.get('role').includes(n.Spec.Role)) return false;
      if (filters.contains('membership') && !filters.get('membership').includes('accepted')) return false;
      if (filters.contains('node.label')) {
        for (const l of filters.get('node.label')) { const [k, v] = l.split('='); if (!(k in n.Spec.Labels) || (v !== undefined && n.Spec.Labels[k] !== v)) return false; }
      }
      return true;
    });
  }

  async getNode(ref: string): Promise<any> {
    return findByRef(await this.listNodes({ get: () => [], contains: () => false }), ref, 'node', (x) => x.Description?.Hostname);
  }

  async updateNode(ref: string, version: number, spec: any): Promise<void> {
    const store = this.requireManager();
    const n = await this.getNode(ref);
    if (spec?.Availability && !['active', 'pause', 'drain'].includes(spec.Availability)) throw new BadRequest(`invalid availability: ${spec.Availability}`);
    if (spec?.Role && !['manager', 'worker'].includes(spec.Role)) throw new BadRequest(`invalid role: ${spec.Role}`);
    const demote = spec?.Role === 'worker' && n.Spec.Role === 'manager';
    if (demote) {
      const managers = (await store.list<NodeObject>(KEY.nodes)).filter((x) => x.Spec.Role === 'manager');
      if (managers.length <= 1) throw new BadRequest('rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm');
    }
    await store.update<NodeObject>(KEY.node(n.ID), (cur) => {
      const next: NodeObject = { ...cur, UpdatedAt: new Date().toISOString(), Spec: { ...cur.Spec, ...spec, Labels: spec?.Labels ?? {} } };
      if (demote) delete next.ManagerStatus;
      return next;
    }, version);
    // Like swarmkit's role manager: out of the consensus group first; the node then swaps its certificate.
    if (demote) {
      await store.removeMember(n.ID);
      await store.revokeManager(n.ID);
    }
  }

  async removeNode(ref: string, force: boolean): Promise<void> {
    const store = this.requireManager();
    const n = await this.getNode(ref);
    if (n.ID === this.state!.nodeId) throw new Conflict('rpc error: code = FailedPrecondition desc = node ' + n.ID + ' is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal');
    if (n.Spec.Role === 'manager' && !force) throw new Conflict(`rpc error: code = FailedPrecondition desc = node ${n.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    if (n.Status.State !== 'down' && !force) throw new Conflict(`rpc error: code = FailedPrecondition desc = node ${n.ID} is not down and can't be removed`);
    if (n.Spec.Role === 'manager') {
      await store.removeMember(n.ID).catch(() => undefined);
      await store.revokeManager(n.ID).catch(() => undefined);
    }
    await store.delete(KEY.node(n.ID));
    await store.delete(KEY.heartbeat(n.ID));
    await atts.releaseNodeAttachments(store, n.ID, await this.addrPools(store)).catch(() => undefined);
    await dropTunnel(store, n.ID);
  }

  /** The Swarm part of GET /info. */
  async info(): Promise<any> {
    const s = this.state;
    const base = { NodeID: s?.nodeId ?? '', NodeAddr: s ? s.advertiseAddr.split(':')[0] : '', LocalNodeState: this.localState, ControlAvailable: !!s && this.isManager && this.localState === 'active', Error: this.error, RemoteManagers: s ? s.managers.map((m) => ({ NodeID: m.nodeId, Addr: m.addr })) : null };
    if (!s || !this.isManager || !this.store || this.localState !== 'active') return base;
    try {
      const nodes = await this.store.list<NodeObject>(KEY.nodes);
      const cluster = await this.inspect();
      const { JoinTokens: _t, ...c } = cluster;
      return { ...base, Nodes: nodes.length, Managers: nodes.filter((n) => n.Spec.Role === 'manager').length, Cluster: c };
    } catch (err) {
      return { ...base, Error: (err as Error).message };
    }
  }
}
