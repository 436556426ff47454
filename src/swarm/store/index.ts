/** The managers' cluster store: etcd supervision, the JSON object store over mTLS, leader election. */
export { EtcdMember, isLoopbackUrl } from './etcd-member.js';
export type { EtcdMemberOptions, EtcdStartOptions, EtcdTlsFiles, EtcdExitInfo } from './etcd-member.js';
export { ClusterStore, prefixEnd } from './store.js';
export type {
  ClusterStoreOptions, TlsMaterial, Versioned, Guard, WriteOptions, WatchEvent, WatchOptions, StoreWatch, Member, EndpointStatus,
} from './store.js';
export { LeaderElection } from './leader.js';
export type { LeaderElectionOptions, LeaderRecord, LostReason } from './leader.js';
export {
  StoreError, NoQuorumError, NotFoundError, AlreadyExistsError, OutOfSequenceError, ConflictError, NotLeaderError,
  UnauthorizedError, NO_LEADER_MESSAGE,
} from './errors.js';
