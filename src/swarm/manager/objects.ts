import os from 'node:os';
import crypto from 'node:crypto';

// Cluster objects in Docker's API shapes (what GET /swarm and GET /nodes return). They are stored
// as JSON in etcd; Version.Index is the etcd mod revision, filled in when read.

export const KEY = {
  cluster: '/shoal/cluster',
  ca: '/shoal/ca',
  node: (id: string) => `/shoal/nodes/${id}`,
  nodes: '/shoal/nodes/',
  heartbeat: (id: string) => `/shoal/heartbeats/${id}`,
  heartbeats: '/shoal/heartbeats/',
};

export const HEARTBEAT_PERIOD_NS = 5e9;
/** Status.Message of a node that left (`swarm leave`); it never comes back under that ID */
export const NODE_LEFT = 'node left the swarm';
export const NODE_CERT_EXPIRY_NS = 2160 * 3600e9;

/** 25 base36 characters from 17 random bytes, like swarmkit's identity.NewID. */
export function newSwarmId(): string {
  const n = BigInt('0x' + crypto.randomBytes(17).toString('hex'));
  return n.toString(36).padStart(25, '0').slice(-25);
}

export interface ClusterObject {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: any;
  TLSInfo: { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string };
  RootRotationInProgress: boolean;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
  JoinTokens: { Worker: string; Manager: string };
  /** shoal: the manager unlock key (replicated, like swarmkit keeps the KEK in raft) */
  UnlockKey?: string;
}

export function defaultClusterSpec(patch: any = {}): any {
  return {
    Name: 'default', Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: patch.Orchestration?.TaskHistoryRetentionLimit ?? 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 },
    Dispatcher: { HeartbeatPeriod: patch.Dispatcher?.HeartbeatPeriod ?? HEARTBEAT_PERIOD_NS },
    CAConfig: { NodeCertExpiry: patch.CAConfig?.NodeCertExpiry ?? NODE_CERT_EXPIRY_NS },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: !!patch.EncryptionConfig?.AutoLockManagers },
  };
}

export interface NodeObject {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: { Labels: Record<string, string>; Role: 'manager' | 'worker'; Availability: 'active' | 'pause' | 'drain'; Name?: string };
  Description: any;
  Status: { State: 'unknown' | 'down' | 'ready' | 'disconnected'; Message?: string; Addr: string };
  ManagerStatus?: { Leader?: boolean; Reachability: 'unknown' | 'unreachable' | 'reachable'; Addr: string };
}

/** What a node says about itself (Docker's NodeDescription). */
export function describeThisNode(engineVersion: string, tls: NodeObject['Description']['TLSInfo'], hostname = os.hostname()): any {
  return {
    Hostname: hostname,
    Platform: { Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(), OS: 'linux' },
    Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
    Engine: { EngineVersion: engineVersion, Plugins: [
      { Type: 'Log', Name: 'k8s-file' }, { Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' },
      { Type: 'Network', Name: 'macvlan' }, { Type: 'Network', Name: 'null' }, { Type: 'Network', Name: 'overlay' }, { Type: 'Volume', Name: 'local' },
    ] },
    TLSInfo: tls,
  };
}

export function newNodeObject(id: string, role: 'manager' | 'worker', addr: string, description: any, availability: NodeObject['Spec']['Availability'] = 'active'): NodeObject {
  const now = new Date().toISOString();
  const ip = addr.split(':')[0];
  return {
    ID: id, Version: { Index: 0 }, CreatedAt: now, UpdatedAt: now,
    Spec: { Labels: {}, Role: role, Availability: availability },
    Description: description,
    Status: { State: 'ready', Addr: ip },
    ...(role === 'manager' ? { ManagerStatus: { Reachability: 'reachable' as const, Addr: addr } } : {}),
  };
}
