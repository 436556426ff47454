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
  close(): Promise<void>;
}

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
  issueNodeCert(ca: IssuedCert, o: { nodeId: string; role: 'manager' | 'worker'; clusterId: string; ips: string[]; publicKeyPem?: string; validityMs?: number }): Promise<IssuedCert>;
  generateNodeKey(): Promise<{ keyPem: string; publicKeyPem: string }>;
  publicKeyOf(keyPem: string): Promise<string>;
  isEncryptedKey(keyPem: string): boolean;
  encryptKey(keyPem: string, unlockKey: string): string;
  /** throws an error carrying statusCode (401 wrong key, 400 malformed) */
  decryptKey(blob: string, unlockKey: string): string;
  /** writes the plaintext node key where etcd can read it (exec root), returns the path */
  runtimeKeyFile(keyPem: string): Promise<string>;
  removeEtcdData(dataDir: string): Promise<void>;
  tlsInfo(caPem: string): { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string };
  joinToken(caPem: string): string;
  parseJoinToken(token: string): unknown;
  tokenMatchesCA(token: string, caPem: string): boolean;
  tokenDigest(token: string): string;
  unlockKey(): string;
  /** remembers the initial cluster for the first start of a joining member */
  prepareEtcdJoin(dataDir: string, initialCluster: string): Promise<void>;
  startEtcd(o: EtcdStartOptions): Promise<void>;
  stopEtcd(): Promise<void>;
  openStore(o: { endpoints: string[]; caPem: string; certPem: string; keyPem: string }): Promise<SwarmStore>;
}
