// What the swarm needs from the CA library and the etcd store, as one interface, so that the node
// logic in swarm.ts reads as swarm logic (and the wiring lives in backend-impl.ts).

export interface IssuedCert { certPem: string; keyPem: string }

export interface SwarmStore {
  get<T>(key: string): Promise<T | undefined>;
  getWithVersion<T>(key: string): Promise<{ value: T; version: number } | undefined>;
  put(key: string, value: unknown): Promise<void>;
  /** a key that disappears by itself ttlSeconds after the last put */
  putWithTtl(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** compare-and-swap on the object's version (the etcd mod revision) when given */
  update<T>(key: string, fn: (cur: T) => T, version?: number): Promise<void>;
  delete(key: string): Promise<void>;
  list<T>(prefix: string): Promise<T[]>;
  listWithVersion<T>(prefix: string): Promise<{ key: string; value: T; version: number }[]>;
  keys(prefix: string): Promise<string[]>;
  /** adds an etcd learner; returns the initial-cluster string for the new member */
  addLearner(name: string, peerUrl: string): Promise<string>;
  promoteMember(name: string): Promise<void>;
  removeMember(name: string): Promise<void>;
  /** runs for leadership until the returned stop function is called */
  /**
   * etcd checks client certificates only against the CA; with auth on, the certificate's CN must
   * also be a user. Managers get a user (role root); workers, whose certs the CA also signed, get
   * nothing and are refused.
   */
  enableAuth(selfName: string): Promise<void>;
  grantManager(name: string): Promise<void>;
  revokeManager(name: string): Promise<void>;
  /** whether the etcd member at this client URL answers (manager reachability) */
  reachable(clientUrl: string): Promise<boolean>;
  campaign(id: string, onElected: () => void, onLost: () => void, onLeader: (id: string) => void): Promise<() => Promise<void>>;
  /** renewed certificate or new trust root: used for connections made from now on */
  setCredentials(o: { caPem: string; certPem: string; keyPem: string }): void;
  /** a key with a lease, created only if absent: a cluster-wide lock; false when someone holds it */
  tryLock(key: string, holder: string, ttlSeconds: number): Promise<boolean>;
  unlock(key: string, holder: string): Promise<void>;
  /** whether every voting etcd member but `exceptName` answers and follows a leader */
  votersHealthy(exceptName: string): Promise<boolean>;
  /** if this node's member is the raft leader, hands leadership to another voter */
  moveRaftLeadershipAway(): Promise<void>;
  /** a member's new peer URL (a manager restored on another address) */
  updateMemberPeerUrl(name: string, peerUrl: string): Promise<void>;
  /**
   * Calls `cb` with the key of every change under `prefix` from now on ('' when the watch had to
   * start over and changes may have been missed), until the returned function is called.
   */
  watchKeys?(prefix: string, cb: (key: string) => void): () => void;
  close(): Promise<void>;
}

/** Docker's TLSInfo (Swarm.TLSInfo, Node.Description.TLSInfo) */
export interface TLSInfo { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string }

export interface EtcdStartOptions {
  /** rebuild a one-member cluster from this member's data */
  forceNewCluster?: boolean;
  name: string;
  dataDir: string;
  ip: string;
  clientPort: number;
  peerPort: number;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface SwarmBackend {
  createRootCA(): Promise<IssuedCert>;
  /** chainPem is sent after the leaf (the cross-signed root during a rotation); minValidityMs lowers the 1 h floor (tests) */
  issueNodeCert(ca: IssuedCert, o: { nodeId: string; role: 'manager' | 'worker'; clusterId: string; ips: string[]; publicKeyPem?: string; validityMs?: number; minValidityMs?: number; backdateMs?: number; chainPem?: string }): Promise<IssuedCert>;
  /** the new root's certificate, signed by the old root (root rotation) */
  crossSignRoot(oldCa: IssuedCert, newRootPem: string): Promise<string>;
  /** checks a root CA the user brings (`swarm ca --rotate --ca-cert --ca-key`); throws with statusCode 400 */
  checkSigningCA(certPem: string, keyPem: string): Promise<string>;
  samePublicKey(aPem: string, bPem: string): boolean;
  /** a node's TLSInfo: its trust root and the issuer of its certificate (found through the chain) */
  nodeTlsInfo(certPem: string, trustPem: string): TLSInfo;
  /** whether the leaf in certPem was signed by the CA in caPem */
  issuedBy(certPem: string, caPem: string): boolean;
  /** the certificate's validity and when it is due for renewal (50–80 % of its life) */
  certTimes(certPem: string): { notBefore: Date; notAfter: Date; renewAt: Date };
  canonicalCertPem(pem: string): string;
  generateNodeKey(): Promise<{ keyPem: string; publicKeyPem: string }>;
  publicKeyOf(keyPem: string): Promise<string>;
  isEncryptedKey(keyPem: string): boolean;
  encryptKey(keyPem: string, unlockKey: string): string;
  /** throws an error carrying statusCode (401 wrong key, 400 malformed) */
  decryptKey(blob: string, unlockKey: string): string;
  /** writes the plaintext node key where etcd can read it (exec root), returns the path */
  runtimeKeyFile(keyPem: string): Promise<string>;
  removeEtcdData(dataDir: string): Promise<void>;
  tlsInfo(caPem: string): TLSInfo;
  joinToken(caPem: string): string;
  parseJoinToken(token: string): unknown;
  tokenMatchesCA(token: string, caPem: string): boolean;
  tokenDigest(token: string): string;
  unlockKey(): string;
  /** remembers the initial cluster for the first start of a joining member */
  prepareEtcdJoin(dataDir: string, initialCluster: string): Promise<void>;
  startEtcd(o: EtcdStartOptions): Promise<void>;
  stopEtcd(): Promise<void>;
  /** stops and starts the member from its data (etcd reads its trusted CA file only at start) */
  restartEtcd(): Promise<void>;
  openStore(o: { endpoints: string[]; caPem: string; certPem: string; keyPem: string }): Promise<SwarmStore>;
}
