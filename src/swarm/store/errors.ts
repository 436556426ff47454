/**
 * Errors of the cluster store. Each carries a stable `code`; the API layer maps them to HTTP
 * statuses (NoQuorumError → 503, NotFoundError → 404, AlreadyExistsError/OutOfSequenceError → 409).
 */

export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Docker's errSwarmNoLeader text (moby daemon/cluster/errors.go), shown by `docker node ls` etc. */
export const NO_LEADER_MESSAGE =
  "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/** The store could not reach a quorum of managers before the call's deadline. */
export class NoQuorumError extends StoreError {
  constructor(cause?: unknown) {
    super('NO_QUORUM', NO_LEADER_MESSAGE, { cause });
  }
}

export class NotFoundError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super('NOT_FOUND', `object not found: ${key}`);
    this.key = key;
  }
}

export class AlreadyExistsError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super('ALREADY_EXISTS', `object already exists: ${key}`);
    this.key = key;
  }
}

/**
 * A write that named the version it was based on (Docker's `?version=N`, SwarmKit's Meta.Version)
 * found a newer one. The text is SwarmKit's ErrSequenceConflict.
 */
export class OutOfSequenceError extends StoreError {
  readonly key: string;
  constructor(key: string) {
    super('OUT_OF_SEQUENCE', 'update out of sequence');
    this.key = key;
  }
}

/** update() kept losing compare-and-swap races and gave up. */
export class ConflictError extends StoreError {
  readonly key: string;
  constructor(key: string, attempts: number) {
    super('CONFLICT', `too many concurrent updates of ${key} (gave up after ${attempts} attempts)`);
    this.key = key;
  }
}

/** A write guarded by a leadership fence was refused because this manager is no longer the leader. */
export class NotLeaderError extends StoreError {
  constructor() {
    super('NOT_LEADER', 'this manager is no longer the leader');
  }
}

/** The client certificate was refused (or none was presented) by etcd. */
export class UnauthorizedError extends StoreError {
  constructor(cause?: unknown) {
    super('UNAUTHORIZED', `the cluster store refused this node's credentials: ${errorText(cause)}`, { cause });
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
