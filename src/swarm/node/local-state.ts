import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';

// This node's membership, kept in <data-root>/swarm so that a restarted shoald rejoins by itself:
// state.json (ids, role, addresses, known managers) and certificates/ (root CA, node cert and key).

export interface ManagerAddr { nodeId: string; addr: string }

export interface LocalSwarmState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  /** ip:port other nodes use to reach this node's control port */
  advertiseAddr: string;
  listenAddr: string;
  managers: ManagerAddr[];
  /** the key is encrypted with the unlock key (autolock) */
  locked?: boolean;
}

export class SwarmDir {
  readonly dir: string;
  readonly certDir: string;
  readonly etcdDir: string;

  constructor(dataRoot: string) {
    this.dir = path.join(dataRoot, 'swarm');
    this.certDir = path.join(this.dir, 'certificates');
    this.etcdDir = path.join(this.dir, 'etcd');
  }

  get caFile(): string { return path.join(this.certDir, 'swarm-root-ca.crt'); }
  get certFile(): string { return path.join(this.certDir, 'swarm-node.crt'); }
  get keyFile(): string { return path.join(this.certDir, 'swarm-node.key'); }

  async load(): Promise<LocalSwarmState | undefined> {
    const text = await fs.readFile(path.join(this.dir, 'state.json'), 'utf8').catch(() => undefined);
    return text ? JSON.parse(text) as LocalSwarmState : undefined;
  }

  async save(s: LocalSwarmState): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, 'state.json'), JSON.stringify(s, null, 1), 0o600);
  }

  async saveCerts(caPem: string, certPem: string, keyPem?: string): Promise<void> {
    await fs.mkdir(this.certDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.caFile, caPem, 0o644);
    await writeFileAtomic(this.certFile, certPem, 0o644);
    if (keyPem !== undefined) await writeFileAtomic(this.keyFile, keyPem, 0o600);
  }

  async saveKey(keyPem: string): Promise<void> {
    await writeFileAtomic(this.keyFile, keyPem, 0o600);
  }

  async readCerts(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
    const [caPem, certPem, keyPem] = await Promise.all([this.caFile, this.certFile, this.keyFile].map((f) => fs.readFile(f, 'utf8')));
    return { caPem, certPem, keyPem };
  }

  /** Leaving the swarm forgets everything: state, certificates, the etcd member's data. */
  async erase(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
